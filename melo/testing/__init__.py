"""Test helpers. Nothing here is used by training or inference.

``melo.testing.tiny_encoder`` builds a tiny random XLM-RoBERTa stand-in for bge-m3 (smoke tests and the
demo only: its features mean nothing); ``melo.testing.reference_alignment`` is the classic alignment search
loop that the vectorised one is checked against.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STAND_IN_NOTE", "build_tiny_encoder"]


def __getattr__(name: str) -> Any:  # lazy, so `python -m melo.testing.tiny_encoder` runs cleanly
    if name in __all__:
        from melo.testing import tiny_encoder

        return getattr(tiny_encoder, name)
    raise AttributeError(f"module 'melo.testing' has no attribute {name!r}")
