"""Mel spectrograms side by side (reference, synthesis, ...) as an image array or a PNG file.

    image = mel_comparison_image([(reference, 44100), (synthesis, 44100)])   # (3, H, W) uint8
    monitor.image("eval/mel", step, image)                                    # TensorBoard, or
    write_png("mel.png", image)

Each panel is the 80-band log-mel spectrogram (0-8 kHz, 10 ms frames, :mod:`melo.eval.analysis`) of one
whole signal, low frequencies at the bottom, in :func:`melo.monitor.spectrogram_image`'s colours; all
panels share one colour scale (the loudest band of any panel is white, 80 dB below it black), separated
by a white bar, in the order given. No plotting library is needed.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from melo.eval.analysis import log_mel, to_analysis_rate

__all__ = ["mel_comparison_image", "write_png"]

DISPLAY_BANDS = 80
DYNAMIC_RANGE_DB = 80.0
_SEPARATOR_FRAMES = 4
_ROW_REPEAT = 2  # 160 pixels high


def mel_comparison_image(signals: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
    """``[(samples, sample_rate), ...]`` -> (3, H, W) uint8 image of their mel spectrograms side by side."""
    import torch

    from melo.monitor import spectrogram_image

    if not signals:
        raise ValueError("no signal to draw")
    panels = [log_mel(to_analysis_rate(samples, rate), DISPLAY_BANDS).T for samples, rate in signals]  # (F, T)
    top = max(float(p.max()) for p in panels)
    floor = top - DYNAMIC_RANGE_DB * np.log(10.0) / 20.0  # natural-log amplitude
    separator = np.full((DISPLAY_BANDS, _SEPARATOR_FRAMES), top)
    pieces: list[np.ndarray] = []
    for i, panel in enumerate(panels):
        if i:
            pieces.append(separator)
        pieces.append(np.maximum(panel, floor))
    pieces[0] = pieces[0].copy()
    pieces[0][0, 0] = floor  # pin the bottom of the scale even when every panel is loud
    joined = np.repeat(np.concatenate(pieces, axis=1), _ROW_REPEAT, axis=0)
    return spectrogram_image(torch.from_numpy(joined))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    """Write a (3, H, W) uint8 RGB image as an 8-bit PNG."""
    if image.ndim != 3 or image.shape[0] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a (3, H, W) uint8 image, got {image.shape} {image.dtype}")
    _, height, width = image.shape
    rows = np.ascontiguousarray(image.transpose(1, 2, 0)).reshape(height, width * 3)
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(height))  # filter type 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    return path
