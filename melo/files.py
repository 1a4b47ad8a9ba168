"""Atomic file writes: a crash at any moment leaves either the old file or the new one, never a mix.

Every writer in the project (checkpoints, preprocessing caches and manifests, configs, symbol tables) goes
through :func:`atomic_write`: the content goes to a hidden temporary file beside the target
(``.<name>.<random>.tmp``, matched by :data:`TEMPORARY_GLOB`) and is renamed over it with ``os.replace``.
``durable=True`` also fsyncs the file and its folder before returning (checkpoints: the rename then
survives a power loss, not only a killed process).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["TEMPORARY_GLOB", "atomic_write", "json_bytes", "write_bytes_atomic", "write_if_changed", "write_json_atomic"]

TEMPORARY_GLOB = ".*.tmp"
"""What a writer killed mid-write leaves behind (safe to delete once no writer runs)."""


def atomic_write(path: str | Path, write: Callable[[Path], None], durable: bool = False) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_dir(path.parent)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def json_bytes(obj: Any, indent: int = 1) -> bytes:
    """``obj`` as the UTF-8 JSON text every JSON file here holds (non-ASCII kept, a final newline)."""
    return (json.dumps(obj, ensure_ascii=False, indent=indent) + "\n").encode("utf-8")


def write_json_atomic(path: str | Path, obj: Any, indent: int = 1) -> None:
    write_bytes_atomic(path, json_bytes(obj, indent))


def write_if_changed(path: str | Path, data: bytes) -> bool:
    """Atomically write ``data`` unless ``path`` already holds exactly it. Returns whether it wrote."""
    try:
        if Path(path).read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_bytes_atomic(path, data)
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not allow opening folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
