"""How a date and a number are written, as the Korean and Japanese normalisers match them.

Each is one alternative of their ``_NORMALIZE`` regex, with the group names their ``_replace`` reads:

* :data:`DATE`: ``2024.03.15``, ``2024-3-5``, ``2024/03/15`` (``date``, ``y``, ``sep``, ``mo``, ``d``);
* :data:`NUMBER`: an optional minus sign (not inside a word or after a dot), an optional currency sign, the
  integer part with or without thousands commas, and decimals (``neg``, ``cur``, ``int``, ``frac``).
"""

from __future__ import annotations

__all__ = ["CURRENCY_SIGNS", "DATE", "NUMBER"]

CURRENCY_SIGNS = "₩$€£¥"
"""The currency signs read before a number; each language names them in its own ``_CURRENCY`` table."""

DATE = r"(?P<date>(?<![\d.])(?P<y>\d{4})(?P<sep>[./-])(?P<mo>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\.?\d))"
NUMBER = rf"(?P<neg>(?<![0-9A-Za-z.])-)?(?P<cur>[{CURRENCY_SIGNS}])?(?P<int>\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.(?P<frac>\d+))?"
