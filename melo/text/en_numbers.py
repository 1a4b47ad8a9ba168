"""English number reading: digits, currency, times, ordinals and years into words. Pure, offline.

:func:`expand_numbers` rewrites every number in a segment of English text; the helpers
(:func:`cardinal`, :func:`ordinal`, :func:`year`, :func:`decimal`) are usable on their own.

Rules, in the order they are applied (each rewrites digits into words, so later rules never see them):

* a letter directly followed by a digit, or a digit by a capital, is split (``Q3`` -> "Q three",
  ``3D`` -> "three D"); lower-case suffixes stay attached (``1st``, ``1990s``);
* currency ``$ € £ ¥ ₩`` before an amount, optionally with a scale word (``$5.50`` -> "five dollars
  fifty cents", ``$2 million`` -> "two million dollars", ``¥500`` -> "five hundred yen"); amounts
  with more than two decimals, or with a scale word, are read with "point"; ``-$5`` -> "minus ...";
* dates ``2024-03-01`` and ``3/1/2024`` (month first, unless the first number exceeds 12) ->
  "March first, twenty twenty-four";
* lower-case letters after a digit are split off (``5y`` -> "five y"); units, phone numbers,
  fractions and percentages were read before, by :mod:`melo.text.entities` and
  :mod:`melo.text.en_entities`;
* ranges: a hyphen or en dash between digits is "to" (``1990-2000`` -> "nineteen ninety to two thousand");
* times ``H:MM`` (hour 0-24, minutes 00-59), optionally ``:SS`` and am/pm: ``3:30`` -> "three thirty",
  ``3:05`` -> "three oh five", ``3:00`` -> "three o'clock", ``7:15 pm`` -> "seven fifteen P M",
  ``9 a.m.`` -> "nine A M.";
* what is left of ``a/b``: ``24/7`` "twenty-four seven", otherwise "a slash b";
* ordinals ``1st 2nd 23rd 100th`` -> "first second twenty-third one hundredth";
* decades ``1990s`` -> "nineteen nineties", ``80s`` -> "eighties";
* years: a bare four-digit integer from 1100 to 2099 (no thousands comma, no decimal part, not part of
  a longer digit run) is read as a year -- ``1999`` -> "nineteen ninety-nine", ``2005`` -> "two
  thousand five", ``2024`` -> "twenty twenty-four", ``1900`` -> "nineteen hundred" (which is also a
  correct cardinal reading). Write ``2,024`` to force the cardinal. This is a heuristic: "2024 apples"
  is read "twenty twenty-four apples";
* decimals ``3.14`` -> "three point one four";
* integers with thousands commas ``1,000,000`` -> "one million"; other integers as cardinals up to
  999 trillion; integers with a leading zero (``007``) or longer than 15 digits are read digit by digit;
* a ``-`` directly before a number, and not after a letter or digit, is "minus" (``x -5`` -> "x minus five").
"""

from __future__ import annotations

import re

__all__ = ["MONTHS", "cardinal", "decimal", "digits", "expand_numbers", "ordinal", "year"]

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))
_MAX_CARDINAL = 10**15 - 1


def _below_thousand(n: int) -> str:
    parts: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds]} hundred")
    if rest:
        if rest < 20:
            parts.append(_ONES[rest])
        else:
            tens, ones = divmod(rest, 10)
            parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    return " ".join(parts)


def cardinal(n: int) -> str:
    """``1234`` -> "one thousand two hundred thirty-four"; negatives get "minus"; >= 10**15 digit by digit."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n > _MAX_CARDINAL:
        return digits(str(n))
    if n < 1000:
        return _below_thousand(n) if n else "zero"
    parts: list[str] = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            parts.append(f"{_below_thousand(count)} {name}")
    if n:
        parts.append(_below_thousand(n))
    return " ".join(parts)


_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}


def ordinal(n: int) -> str:
    """``23`` -> "twenty-third"."""
    words = cardinal(n)
    head, sep, last = words.rpartition(" ")
    stem, hyphen, unit = last.rpartition("-")
    if unit in _ORDINAL_IRREGULAR:
        unit = _ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return head + sep + stem + hyphen + unit


def digits(s: str) -> str:
    """``"007"`` -> "zero zero seven"."""
    return " ".join(_ONES[int(c)] for c in s if c.isdigit())


def decimal(s: str) -> str:
    """``"3.14"`` -> "three point one four"; ``"1,000.5"`` -> "one thousand point five"."""
    whole, _, frac = s.replace(",", "").partition(".")
    words = cardinal(int(whole)) if whole else "zero"
    return f"{words} point {digits(frac)}" if frac else words


def year(n: int) -> str:
    """Year reading: 1999 "nineteen ninety-nine", 2005 "two thousand five", 2024 "twenty twenty-four"."""
    hi, lo = divmod(n, 100)
    if n % 1000 == 0 or (2000 <= n < 2010):
        return cardinal(n)
    if lo == 0:
        return f"{cardinal(hi)} hundred"
    if lo < 10:
        return f"{cardinal(hi)} oh {_ONES[lo]}"
    return f"{cardinal(hi)} {cardinal(lo)}"


def _plural(words: str) -> str:
    """"nineteen ninety" -> "nineteen nineties" (decades)."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


# --- the number patterns -------------------------------------------------------------------------
_INT = r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
_NUM = rf"{_INT}(?:\.\d+)?"
_SIGN = r"(?:(?<![\w.])-)?"  # a minus sign: not after a letter/digit (5-3 is a range)

_CURRENCY = {
    # symbol: (singular, plural, subunit singular, subunit plural or "" if none)
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₩": ("won", "won", "", ""),
}
_SCALE_WORDS = r"thousand|million|billion|trillion"
_CURRENCY_RE = re.compile(
    rf"(?P<sign>{_SIGN})(?P<sym>[$€£¥₩])\s?(?P<num>{_NUM})(?:\s?(?P<scale>{_SCALE_WORDS})\b)?", re.IGNORECASE
)
_TIME_RE = re.compile(
    r"(?<![\d:])(?P<h>[01]?\d|2[0-4]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])"
    r"(?:\s?(?P<ampm>[ap])\.?m\b)?",
    re.IGNORECASE,
)
_ORDINAL_RE = re.compile(rf"(?<![\w.])(?P<num>{_INT})(?P<suf>st|nd|rd|th)\b", re.IGNORECASE)
_DECADE_RE = re.compile(r"(?<![\w.])(?:(?P<century>1[1-9]|20)|')?(?P<decade>\d0)'?s\b")
_YEAR_RE = re.compile(r"(?<![\w.,])(?P<num>1[1-9]\d\d|20\d\d)(?![\d]|[.,]\d)")
_NUMBER_RE = re.compile(rf"(?P<sign>{_SIGN})(?P<num>{_NUM})")
_LETTER_DIGIT_RE = re.compile(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Z])|(?<=\d)(?=[a-z])(?!(?:st|nd|rd|th|s)\b)")
_RANGE_RE = re.compile(r"(?<=\d) ?[-–] ?(?=\d)")
_HOUR_AMPM_RE = re.compile(r"(?<![\d:.,])(?P<h>1[0-2]|0?[1-9])\s?(?P<ampm>[ap])\.?m\b", re.IGNORECASE)
_ISO_DATE_RE = re.compile(r"(?<![\d-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\d-])")
_SLASH_DATE_RE = re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?![\d/])")
_FRACTION_RE = re.compile(r"(?<![\d/.])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?![\d/])")
MONTHS = ("January February March April May June July August September October November December").split()


def _read_number(text: str) -> str:
    """A plain number string (thousands commas and a decimal part allowed) in words."""
    if "." in text:
        return decimal(text)
    plain = text.replace(",", "")
    if len(plain) > 1 and plain.startswith("0") or len(plain) > 15:
        return digits(plain)
    return cardinal(int(plain))


def _currency(m: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCY[m["sym"]]
    minus = "minus " if m["sign"] else ""
    num = m["num"].replace(",", "")
    if m["scale"]:
        return f"{minus}{_read_number(num)} {m['scale'].lower()} {many}"
    whole, _, frac = num.partition(".")
    value = int(whole) if whole else 0
    unit = one if value == 1 else many
    if frac and (len(frac) != 2 or not sub_one):
        return f"{minus}{decimal(num)} {many}"
    words = f"{minus}{cardinal(value)} {unit}"
    cents = int(frac) if frac else 0
    if cents:
        sub = sub_one if cents == 1 else sub_many
        words = f"{words} {cardinal(cents)} {sub}" if value else f"{minus}{cardinal(cents)} {sub}"
    return words


def _time(m: re.Match[str]) -> str:
    hour, minute = int(m["h"]), int(m["m"])
    if minute == 0:
        words = f"{cardinal(hour)} o'clock" if not m["ampm"] else cardinal(hour)
    elif minute < 10:
        words = f"{cardinal(hour)} oh {_ONES[minute]}"
    else:
        words = f"{cardinal(hour)} {cardinal(minute)}"
    if m["s"]:
        words += f" and {cardinal(int(m['s']))} seconds"
    if m["ampm"]:
        words += f" {m['ampm'].upper()} M"
    return words


def _ordinal(m: re.Match[str]) -> str:
    return ordinal(int(m["num"].replace(",", "")))


def _decade(m: re.Match[str]) -> str:
    decade = int(m["decade"])
    if m["century"]:
        return _plural(year(int(m["century"]) * 100 + decade))
    return _plural(cardinal(decade)) if decade else "hundreds"


def _year(m: re.Match[str]) -> str:
    return year(int(m["num"]))


def _hour_ampm(m: re.Match[str]) -> str:
    return f"{cardinal(int(m['h']))} {m['ampm'].upper()} M"


def _date(year_: int, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{MONTHS[month - 1]} {ordinal(day)}, {year(year_) if 1000 <= year_ <= 2099 else cardinal(year_)}"


def _iso_date(m: re.Match[str]) -> str:
    return _date(int(m["y"]), int(m["m"]), int(m["d"])) or m[0]


def _slash_date(m: re.Match[str]) -> str:
    a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
    # month first (US) unless the first number cannot be a month
    return (_date(y, a, b) if a <= 12 else _date(y, b, a)) or m[0]


def _fraction(m: re.Match[str]) -> str:
    """What the fraction recogniser of :mod:`melo.text.entities` left: 24/7, 7/4, 5/100."""
    a, b = int(m["a"]), int(m["b"])
    if (a, b) == (24, 7):
        return "twenty-four seven"
    return f"{cardinal(a)} slash {cardinal(b)}"


def _number(m: re.Match[str]) -> str:
    return ("minus " if m["sign"] else "") + _read_number(m["num"])


def expand_numbers(text: str) -> str:
    """Rewrite every digit sequence of ``text`` into English words (see the module docstring)."""
    if not any(c.isdigit() for c in text):
        return text
    text = _LETTER_DIGIT_RE.sub(" ", text)
    text = _CURRENCY_RE.sub(_currency, text)
    text = _ISO_DATE_RE.sub(_iso_date, text)
    text = _SLASH_DATE_RE.sub(_slash_date, text)
    text = _RANGE_RE.sub(" to ", text)
    text = _TIME_RE.sub(_time, text)
    text = _HOUR_AMPM_RE.sub(_hour_ampm, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _ORDINAL_RE.sub(_ordinal, text)
    text = _DECADE_RE.sub(_decade, text)
    text = _YEAR_RE.sub(_year, text)
    return _NUMBER_RE.sub(_number, text)
