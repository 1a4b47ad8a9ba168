"""Cheap integrity checks of cache entries, run on every read by preprocessing (and by ``is_fresh``).

A cache file cut short (a full disk, a killed copy, a sync that stopped half-way) must not reach training,
where it would fail with ``BadZipFile`` naming no file. Reading a whole cache on every run would cost as much
as the training data itself, so these checks read only headers: an ``.npy`` file's header must parse and the
file must hold exactly the bytes its shape and dtype need; an ``.npz`` archive's central directory (at its
end) must parse and every member must lie inside the file with a valid ``.npy`` header of the right size.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["npy_shape", "npz_intact"]

_LOCAL_HEADER_SIZE = 30
"""Fixed part of a zip local file header (then the file name and the extra field)."""


def npy_shape(path: Path) -> tuple[int, ...] | None:
    """The array shape of an intact ``.npy`` file, or ``None`` when it is unreadable, truncated or padded."""
    try:
        with open(path, "rb") as f:
            shape = _npy_header_shape(f, path.stat().st_size)
    except (OSError, ValueError):
        return None
    return shape


def npz_intact(path: Path) -> bool:
    """Whether an uncompressed ``.npz`` archive's members are all present and whole."""
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
            for info in archive.infolist():
                raw.seek(info.header_offset)
                header = raw.read(_LOCAL_HEADER_SIZE)
                if len(header) != _LOCAL_HEADER_SIZE or header[:4] != b"PK\x03\x04":
                    return False
                name_len = int.from_bytes(header[26:28], "little")
                extra_len = int.from_bytes(header[28:30], "little")
                start = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len
                if start + info.compress_size > size:
                    return False
                if info.compress_type == zipfile.ZIP_STORED and info.filename.endswith(".npy"):
                    raw.seek(start)
                    _npy_header_shape(raw, info.file_size, offset=start)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False
    return True


def _npy_header_shape(f: BinaryIO, length: int, offset: int = 0) -> tuple[int, ...]:
    """Parse the ``.npy`` header at the current position of ``f``; the array must fill ``length`` bytes."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    header_end = f.tell() - offset
    expected = header_end + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if expected != length:
        raise ValueError(f"array needs {expected} bytes, the file holds {length}")
    return tuple(int(n) for n in shape)
