"""Numbers in groups of four digits (万/만 systems), shared by the Korean and Japanese readers."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["read_group", "read_myriad"]


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


def read_myriad(digits: str, names: Sequence[str], small_units: Sequence[str], big_units: Sequence[str],
                bare_ten_thousand: str = "") -> str:
    """A string of ASCII digits in groups of four (``"2024"`` -> 二千二十四, ``"100000000"`` -> 一億).

    Leading zeros (``"007"``) and strings longer than the largest unit are read digit by digit; 10000
    alone is ``bare_ten_thousand`` when given (Korean 만, not 일만).
    """
    if len(digits) > 1 and digits[0] == "0" or len(digits) > 4 * len(big_units):
        return "".join(names[int(d)] for d in digits)
    n = int(digits)
    if n == 0:
        return names[0]
    parts = []
    index = 0
    while n:
        n, group = divmod(n, 10000)
        if group:
            if bare_ten_thousand and group == 1 and index == 1 and n == 0:
                parts.append(bare_ten_thousand)
            else:
                parts.append(read_group(group, names, small_units) + big_units[index])
        index += 1
    return "".join(reversed(parts))
