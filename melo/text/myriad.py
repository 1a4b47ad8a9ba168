"""Numbers in groups of four digits (万/만 systems), shared by the Korean and Japanese readers."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["read_group"]


def read_group(n: int, digits: Sequence[str], small_units: Sequence[str]) -> str:
    """0 < n < 10000 spelled with ``digits`` (index 0..9) and ``small_units`` ("", ten, hundred,
    thousand); the digit one is dropped before ten/hundred/thousand (十, not 一十; 십, not 일십)."""
    out = []
    for power in (3, 2, 1, 0):
        d = (n // 10**power) % 10
        if d == 0:
            continue
        if power == 0 or d != 1:
            out.append(digits[d])
        out.append(small_units[power])
    return "".join(out)
