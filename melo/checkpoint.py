"""Checkpoint files: atomic writes, keep-last-N, the newest complete set, full resume state.

A training run writes, into ``checkpoints/NAME/``:

``G_{step}.pth``
    ``{"format": "melo-G", "version": 2, "step": int, "generator": state_dict}``
``D_{step}.pth``
    ``{"format": "melo-D", "version": 1, "step": int, "discriminators": {"mpd": state_dict,
    "duration": state_dict}}`` (``duration`` is absent when the duration discriminator is off)
``optimizer_{step}.pth``
    ``{"format": "melo-optimizer", "version": 1, "step": int, "training": {...}}`` where
    ``training`` is everything else a resume needs: ``optimizers`` and ``schedulers`` (name ->
    state_dict), ``scaler`` (GradScaler state or ``{}``), ``epoch``, ``batch_in_epoch`` (the sampler
    position: batches of ``epoch`` already consumed), ``skipped_steps``, and ``rng`` (one entry per
    rank, see :func:`capture_rng_state`).
``G_latest.pth``
    what inference needs and nothing else: ``{"format": "melo-G-latest", "version": 2, "step": int,
    "generator": state_dict, "config": dict, "symbols": dict, "spk2id": dict}``. ``config`` is the
    resolved config (``Config.to_dict()``), ``symbols`` the symbol table (``SymbolTable.to_dict()``).

A generator file's ``version`` says how its keys name the modules: 2, the current names; 1 (written before),
MeloTTS's abbreviations (``enc_p``, ``emb_g``, ...). :func:`load_checkpoint_file` returns every ``generator``
under the current names (:mod:`melo.model.legacy_names`, the one translation), whichever the file holds.

Every file also holds a ``checksum`` of the rest (:mod:`melo.checksum`); :func:`load_checkpoint_file`
checks it (and drops it from the payload it returns), so a file with damaged bytes names itself, and a
damaged set is passed over like a truncated one. Every file holds only tensors, numbers, strings, lists and dicts, so it loads with
``torch.load(..., weights_only=True)``. A set is *complete* when its G, D and optimizer files exist,
load, and agree on the step; :func:`load_latest_complete` returns the newest complete set and passes
over a newer broken one with a warning.

Writes are atomic and durable (:func:`melo.files.atomic_write`): each file is written to a hidden temporary
file in the same folder, fsync'ed and renamed over its final name, so a process killed mid-write leaves the
previous files intact. Within a set, G and D are written before the optimizer file and ``G_latest.pth``
after it, so a set whose optimizer file exists was written completely. The ``training`` payload's fields
are :class:`melo.train.state.TrainingState`'s.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from melo.checksum import ALGORITHM, payload_checksum
from melo.files import TEMPORARY_GLOB, atomic_write
from melo.model.legacy_names import current_generator_state, has_legacy_names
from melo.path_kind import NOT_FOUND, not_a_file

__all__ = [
    "CheckpointError",
    "CheckpointNotFoundError",
    "CheckpointSet",
    "BEST_NAME",
    "LATEST_NAME",
    "atomic_save",
    "capture_rng_state",
    "complete_steps",
    "has_checkpoints",
    "load_checkpoint_file",
    "load_latest_complete",
    "prune_checkpoints",
    "restore_rng_state",
    "save_checkpoint_set",
    "save_latest",
]

logger = logging.getLogger(__name__)

LATEST_NAME = "G_latest.pth"
BEST_NAME = "G_best.pth"
"""The generator with the best ``train.best_metric`` so far; the same layout as ``G_latest.pth`` plus ``best``."""
KINDS = ("G", "D", "optimizer")
FORMAT_VERSION = 1
"""The version of D and optimizer files."""
GENERATOR_FORMAT_VERSION = 2
"""The version of G files (``G_*``, ``G_latest``, ``G_best``): 2 names the modules by what they are; 1 used
MeloTTS's abbreviations, which still load (see the module docstring)."""
_STEP_FILE = re.compile(r"^(G|D|optimizer)_(\d+)\.pth$")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or inconsistent; the message names the file."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist (also a ``FileNotFoundError``)."""


@dataclass(frozen=True)
class CheckpointSet:
    """One loaded, complete step checkpoint (the three files' payloads)."""

    step: int
    generator: dict[str, torch.Tensor]
    discriminators: dict[str, dict[str, torch.Tensor]]
    training: dict[str, Any]
    paths: tuple[Path, Path, Path]


# -- writing ----------------------------------------------------------------------------------

def atomic_save(obj: Any, path: str | Path) -> None:
    """``torch.save`` to ``path`` so that a crash at any moment leaves either the old file or the new one.
    A dict payload gets its ``checksum`` (:mod:`melo.checksum`), checked by :func:`load_checkpoint_file`."""
    if isinstance(obj, dict):
        obj = {**{k: v for k, v in obj.items() if k != "checksum"},
               "checksum": {"algorithm": ALGORITHM, "digest": payload_checksum(obj)}}
    atomic_write(path, lambda tmp: torch.save(obj, tmp), durable=True)


def save_checkpoint_set(
    ckpt_dir: str | Path,
    step: int,
    generator: dict[str, torch.Tensor],
    discriminators: dict[str, dict[str, torch.Tensor]],
    training: dict[str, Any],
) -> tuple[Path, Path, Path]:
    """Write ``G_{step}``, ``D_{step}`` then ``optimizer_{step}`` (see the module docstring)."""
    ckpt_dir = Path(ckpt_dir)
    paths = tuple(ckpt_dir / f"{kind}_{step}.pth" for kind in KINDS)
    payloads = (
        {"format": "melo-G", "version": GENERATOR_FORMAT_VERSION, "step": step, "generator": generator},
        {"format": "melo-D", "version": FORMAT_VERSION, "step": step, "discriminators": discriminators},
        {"format": "melo-optimizer", "version": FORMAT_VERSION, "step": step, "training": training},
    )
    for payload, path in zip(payloads, paths):
        atomic_save(payload, path)
    return paths  # type: ignore[return-value]


def save_latest(
    ckpt_dir: str | Path,
    step: int,
    generator: dict[str, torch.Tensor],
    config: dict[str, Any],
    symbols: dict[str, Any],
    spk2id: dict[str, int],
    *,
    name: str = LATEST_NAME,
    best: dict[str, Any] | None = None,
) -> Path:
    """Write ``G_latest.pth`` (or ``name``, e.g. :data:`BEST_NAME`): what inference needs (weights, resolved
    config, symbols, speakers); ``best`` (``{"metric", "value", "step"}``) says why a ``G_best.pth`` was kept."""
    path = Path(ckpt_dir) / name
    payload = {
        "format": "melo-G-latest",
        "version": GENERATOR_FORMAT_VERSION,
        "step": step,
        "generator": generator,
        "config": config,
        "symbols": symbols,
        "spk2id": dict(spk2id),
    }
    if best is not None:
        payload["best"] = dict(best)
    atomic_save(payload, path)
    return path


def prune_checkpoints(ckpt_dir: str | Path, keep: int) -> list[Path]:
    """Delete step files older than the newest ``keep`` steps (0 keeps all); never ``G_latest.pth``.

    Also removes temporary files left by a killed writer. Returns the deleted paths.
    """
    ckpt_dir = Path(ckpt_dir)
    removed: list[Path] = []
    for tmp in ckpt_dir.glob(TEMPORARY_GLOB):
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    if keep <= 0:
        return removed
    by_step = _step_files(ckpt_dir)
    keep_steps = set(sorted(complete_steps(ckpt_dir), reverse=True)[:keep])
    if not keep_steps:
        return removed
    oldest_kept = min(keep_steps)
    for step, files in by_step.items():
        # Incomplete sets newer than the oldest kept one may still be being written: leave them.
        if step in keep_steps or step > oldest_kept:
            continue
        for path in files.values():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# -- reading ----------------------------------------------------------------------------------

def load_checkpoint_file(path: str | Path, expected_format: str | None = None) -> dict[str, Any]:
    """``torch.load(path, weights_only=True)`` on CPU, with errors that name the file."""
    path = Path(path)
    kind = not_a_file(path)
    if kind == NOT_FOUND:
        raise CheckpointNotFoundError(f"{path}: checkpoint not found")
    if kind is not None:
        raise CheckpointError(f"{path}: cannot read checkpoint: it {kind}")
    with open(path, "rb") as f:
        head = f.read(64)
    if not head.startswith((b"PK\x03\x04", b"\x80")) and _looks_like_text(head):  # torch's zip, legacy pickle
        raise CheckpointError(f"{path}: cannot read checkpoint: it is a text file ({head[:24].decode('utf-8', 'replace')!r}"
                              f"...), not a PyTorch checkpoint such as checkpoints/NAME/G_latest.pth")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for truncated or foreign files
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(e).__name__}: {e})") from e
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: not a melo checkpoint (top level is {type(payload).__name__})")
    _verify_checksum(path, payload)
    if isinstance(payload.get("generator"), dict):
        payload["generator"] = _current_names(path, payload["generator"])
    if expected_format is not None and payload.get("format") != expected_format:
        raise CheckpointError(
            f"{path}: expected format {expected_format!r}, found {payload.get('format')!r}"
        )
    return payload


def _current_names(path: Path, generator: dict[str, Any]) -> dict[str, Any]:
    """``generator`` under the current module names (a file written before names them as MeloTTS did)."""
    if not has_legacy_names(generator):
        return generator
    logger.debug("%s: generator keys under the earlier module names, read under the current ones", path)
    try:
        return current_generator_state(generator)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None


def has_checkpoints(ckpt_dir: str | Path) -> bool:
    """True when ``ckpt_dir`` holds any step file or ``G_latest.pth``."""
    ckpt_dir = Path(ckpt_dir)
    return (ckpt_dir / LATEST_NAME).exists() or bool(_step_files(ckpt_dir))


def complete_steps(ckpt_dir: str | Path) -> list[int]:
    """Steps whose G, D and optimizer files all exist (not yet checked for loadability), ascending."""
    return sorted(step for step, files in _step_files(Path(ckpt_dir)).items() if len(files) == len(KINDS))


def load_latest_complete(ckpt_dir: str | Path) -> CheckpointSet | None:
    """The newest set whose three files exist, load and agree on the step; ``None`` if there is none."""
    ckpt_dir = Path(ckpt_dir)
    for step in reversed(complete_steps(ckpt_dir)):
        paths = tuple(ckpt_dir / f"{kind}_{step}.pth" for kind in KINDS)
        try:
            g, d, o = (
                load_checkpoint_file(p, fmt)
                for p, fmt in zip(paths, ("melo-G", "melo-D", "melo-optimizer"))
            )
            for path, payload in zip(paths, (g, d, o)):
                if payload.get("step") != step:
                    raise CheckpointError(f"{path}: holds step {payload.get('step')!r}, expected {step}")
        except CheckpointError as e:
            logger.warning("skipping checkpoint step %d: %s", step, e)
            continue
        return CheckpointSet(
            step=step,
            generator=g["generator"],
            discriminators=d["discriminators"],
            training=o["training"],
            paths=paths,  # type: ignore[arg-type]
        )
    return None


# -- random number generator state --------------------------------------------------------------

def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch (and CUDA, when present) generator states as tensors, lists and numbers."""
    py_version, py_state, py_gauss = random.getstate()
    np_kind, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
        "numpy": {
            "kind": np_kind,
            "keys": torch.from_numpy(np.asarray(np_keys, dtype=np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    nps = state["numpy"]
    np.random.set_state(
        (nps["kind"], nps["keys"].numpy().astype(np.uint32), nps["pos"], nps["has_gauss"], nps["gauss"])
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
        else:
            logger.warning(
                "checkpoint holds %d CUDA generator states but %d devices are visible; CUDA RNG not restored",
                len(cuda_states), torch.cuda.device_count(),
            )


# -- internals --------------------------------------------------------------------------------

def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 3:
            return False
        text = head[: e.start].decode("utf-8")  # a character cut by the 64-byte read
    return bool(text) and all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def _verify_checksum(path: Path, payload: dict[str, Any]) -> None:
    """Check and remove the stored ``checksum`` (files written before checksums have none and pass)."""
    stored = payload.pop("checksum", None)
    if stored is None:
        return
    if not isinstance(stored, dict) or stored.get("algorithm") != ALGORITHM:
        raise CheckpointError(f"{path}: unknown checksum {stored!r}")
    if payload_checksum(payload) != stored.get("digest"):
        raise CheckpointError(f"{path}: damaged: its content does not match the checksum stored when it was "
                              f"written (a disk or copy error?)")


def _step_files(ckpt_dir: Path) -> dict[int, dict[str, Path]]:
    found: dict[int, dict[str, Path]] = {}
    if not ckpt_dir.is_dir():
        return found
    for path in ckpt_dir.iterdir():
        m = _STEP_FILE.match(path.name)
        if m and path.is_file():
            found.setdefault(int(m.group(2)), {})[m.group(1)] = path
    return found
