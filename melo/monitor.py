"""What a training run reports: the log file, the console, TensorBoard scalars, images and audio.

Only rank 0 reports. The log file is ``logs/train_NAME_<UTC timestamp>.log`` (one per run, the same
lines as the console); TensorBoard events go to ``logs/NAME``.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

__all__ = [
    "Monitor",
    "alignment_image",
    "close_logging",
    "format_scalars",
    "open_log_file",
    "setup_logging",
    "spectrogram_image",
]

logger = logging.getLogger(__name__)

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OWNED = "_melo_train_handler"
_saved_level: list[int] = []  # the root logger's level before setup_logging, restored by close_logging


class _TqdmHandler(logging.StreamHandler):
    """Console handler that does not break a tqdm progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # logging must never raise
            self.handleError(record)


def setup_logging(is_main: bool) -> None:
    """Configure the root logger's console output: INFO on rank 0, warnings and errors elsewhere.

    Handlers added by an earlier call (a second run in the same process) are closed first; handlers
    that others installed are left alone."""
    close_logging()
    root = logging.getLogger()
    _saved_level.append(root.level)
    console = _TqdmHandler()
    console.setFormatter(_formatter())
    _add_handler(console)
    root.setLevel(logging.INFO if is_main else logging.WARNING)


def open_log_file(log_dir: Path, model_name: str) -> Path:
    """Start ``log_dir/train_NAME_<UTC timestamp>.log`` (one new file per run) with the console's lines."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d_%H%M%S", time.gmtime())
    path = log_dir / f"train_{model_name}_{stamp}.log"
    suffix = 1
    while path.exists():  # two runs within one second
        path = log_dir / f"train_{model_name}_{stamp}_{suffix}.log"
        suffix += 1
    file_handler = logging.FileHandler(path, encoding="utf-8")
    file_handler.setFormatter(_formatter())
    _add_handler(file_handler)
    return path


def _formatter() -> logging.Formatter:
    return logging.Formatter(_FORMAT, datefmt="%Y-%m-%d %H:%M:%S")


def close_logging() -> None:
    """Remove and close the handlers :func:`setup_logging` added; restore the root logger's level."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OWNED, False):
            root.removeHandler(handler)
            handler.close()
    if _saved_level:
        root.setLevel(_saved_level.pop())


def _add_handler(handler: logging.Handler) -> None:
    setattr(handler, _OWNED, True)
    logging.getLogger().addHandler(handler)


def spectrogram_image(spec: torch.Tensor) -> np.ndarray:
    """(F, T) log-magnitude -> (3, F, T) uint8 image, low frequencies at the bottom, a heat colour map."""
    values = spec.detach().float().cpu().numpy()
    lo, hi = float(values.min()), float(values.max())
    scaled = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return _heat(scaled[::-1])


def alignment_image(attn: torch.Tensor) -> np.ndarray:
    """(T_spec, T_text) alignment -> (3, T_text, T_spec) image: text on the vertical axis, time across."""
    values = attn.detach().float().cpu().numpy().T
    peak = float(values.max())
    return _heat(values / peak if peak > 0 else values)


def _heat(x: np.ndarray) -> np.ndarray:
    """[0, 1] (H, W) -> (3, H, W) uint8, black -> red -> yellow -> white."""
    x = np.clip(x, 0.0, 1.0)
    rgb = np.stack([np.clip(3 * x, 0, 1), np.clip(3 * x - 1, 0, 1), np.clip(3 * x - 2, 0, 1)])
    return (rgb * 255).astype(np.uint8)


class Monitor:
    """TensorBoard writer for rank 0; a do-nothing stand-in on the other ranks."""

    def __init__(self, tensorboard_dir: Path | None) -> None:
        self._writer = None
        if tensorboard_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            tensorboard_dir.mkdir(parents=True, exist_ok=True)
            self._writer = SummaryWriter(log_dir=str(tensorboard_dir))

    @property
    def active(self) -> bool:
        return self._writer is not None

    def scalars(self, step: int, values: Mapping[str, float]) -> None:
        if self._writer is None:
            return
        for tag, value in values.items():
            self._writer.add_scalar(tag, value, step)

    def image(self, tag: str, step: int, image_chw: np.ndarray) -> None:
        if self._writer is not None:
            self._writer.add_image(tag, image_chw, step, dataformats="CHW")

    def audio(self, tag: str, step: int, samples: torch.Tensor, sample_rate: int) -> None:
        if self._writer is not None:
            clip = samples.detach().float().cpu().reshape(-1).clamp(-1.0, 1.0)
            self._writer.add_audio(tag, clip, step, sample_rate=sample_rate)

    def text(self, tag: str, step: int, value: str) -> None:
        if self._writer is not None:
            self._writer.add_text(tag, value, step)

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def format_scalars(values: Mapping[str, Any]) -> str:
    """``loss/g/total=12.3 lr=0.0003 ...`` with short, fixed-width-ish numbers for the log file."""
    parts = []
    for tag, value in values.items():
        parts.append(f"{tag}={value:.4g}" if isinstance(value, float) else f"{tag}={value}")
    return " ".join(parts)
