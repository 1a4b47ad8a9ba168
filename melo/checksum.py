"""A content checksum of a checkpoint payload: every tensor's dtype, shape and bytes, and every other value,
walked in a fixed order. Stored in each checkpoint file (``"checksum"``) and checked when it is loaded, so
bytes flipped inside tensor data (which ``torch.load`` does not notice) name the damaged file.
"""

from __future__ import annotations

import hashlib
from typing import Any

import torch

__all__ = ["ALGORITHM", "payload_checksum"]

ALGORITHM = "blake2b-128"


def payload_checksum(payload: Any) -> str:
    """The hex digest of ``payload`` (nested dicts, lists, tensors and plain values)."""
    h = hashlib.blake2b(digest_size=16)
    _feed(h, payload)
    return h.hexdigest()


def _feed(h: "hashlib._Hash", value: Any) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, dict):
        h.update(f"D{len(value)}".encode())
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key])
    elif isinstance(value, (list, tuple)):
        h.update(f"L{len(value)}".encode())
        for item in value:
            _feed(h, item)
    else:
        h.update(f"V{value!r}".encode())
