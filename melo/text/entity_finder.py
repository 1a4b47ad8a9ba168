"""Language-independent recognisers: where the text holds a number, address or symbol, and what it *is*.

:func:`find_entities` finds, in cleaned text and before any punctuation is normalised,

* **addresses**: e-mail addresses (``kim@naver.com``), URLs with a scheme (``https://www.korea.kr/x``),
  ``www.`` addresses and bare domains with a common top-level domain (``naver.com``, ``google.co.kr``);
* **phone numbers**: digit groups joined by ``-``, ``.`` or spaces whose last group has four digits
  (``010-1234-5678``, ``03-1234-5678``, ``(415) 555-2671``, ``+82 10-1234-5678``, ``1588-1234``),
  ``010-12345678``, and bare mobile numbers of 11 digits (``13812345678``, ``01012345678``);
* **fractions** ``1/2``, ``2 1/2``, ``1⁄2`` (``½`` and ``1½`` become these in :func:`~melo.text.normalize.clean_text`)
  and, when a slash joins numbers that cannot be an everyday fraction, **dates** ``3/15`` (month/day);
* **ranges** ``3~5``, ``3〜5``, ``10-15`` (a hyphen only when the first number is the smaller),
  with a unit on either end (``20-25°C``, ``10~30%``);
* **powers** ``2^10``, ``x^2`` (``²`` becomes ``^2`` in cleaning);
* **measures**: a number and a unit of :mod:`melo.text.units` (``400km``, ``-5°C``, ``1.5 L``).

The language segmenter treats these spans as neutral, so a unit stays in its number's language
(``약 400km예요`` is Korean throughout), and each language's ``normalize`` rewrites them with
:func:`~melo.text.entities.expand_entities` and its own :class:`~melo.text.entities.EntityReader`.
"""


from __future__ import annotations

import functools
import re
from typing import Callable

from melo.text.entity_values import Address, Entity, Fraction, Measure, Number, Phone, Power, Range, SlashDate
from melo.text.units import SPACED_UNIT_PATTERN, UNIT_PATTERN, Unit, unit_named

__all__ = ["find_entities", "may_hold_entities"]


def _number(p: str) -> str:
    return (
        rf"(?P<{p}sign>(?<![0-9A-Za-z.])[-−])?"
        rf"(?P<{p}int>[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])|[0-9]+)(?:\.(?P<{p}dec>[0-9]+))?"
    )


_START = r"(?<![0-9A-Za-z_.,:/@])"  # a number starts here: not inside a word, a number, a time or a path
_UNIT_END = r"(?![A-Za-z0-9_])"
_UNIT = rf"(?:(?P<{{p}}unit>{UNIT_PATTERN})|\s(?P<{{p}}sunit>{SPACED_UNIT_PATTERN})){_UNIT_END}"


def _unit(p: str) -> str:
    return _UNIT.replace("{p}", p)


_TLDS = "com|net|org|edu|gov|io|ai|co|kr|jp|cn|uk|de|fr|tw|hk|info|biz|me|tv|us|ca|au|ne|or|go|ac|app|dev"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PATH = r"(?:/[A-Za-z0-9\-._~/?#=&%+:@]*)?"
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@{_LABEL}(?:\.{_LABEL})+"),
    ("url", r"(?<![A-Za-z0-9])(?:https?|ftp)://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+"),
    ("url", rf"(?<![A-Za-z0-9.])www\.{_LABEL}(?:\.{_LABEL})+{_PATH}"),
    ("url", rf"(?<![A-Za-z0-9.@/-])(?:{_LABEL}\.)+(?:{_TLDS})(?![A-Za-z0-9-]){_PATH}"),
    ("phone", r"(?<![0-9A-Za-z+-])(?:\+(?P<cc>[0-9]{1,3})[ -]?)?(?:\((?P<area>[0-9]{2,4})\) ?)?"
              r"(?P<groups>[0-9]{1,4}(?:(?P<sep>[-. ])[0-9]{2,8})(?:(?P=sep)[0-9]{2,4}){0,2})(?![0-9]|[-.][0-9])"),
    ("bare_phone", r"(?<![0-9])(?:01[0-9]|1[3-9][0-9])[0-9]{8}(?![0-9])"),
    ("fraction", rf"{_START}(?:(?P<whole>[0-9]{{1,4}}) )?(?P<num>[0-9]{{1,4}})(?P<slash>[/⁄])(?P<den>[0-9]{{1,4}})(?![0-9/⁄])"
                 rf"(?:{_unit('f')})?"),
    ("range", rf"{_START}{_number('lo_')}(?:{_unit('lo_')})?\s?(?P<rsep>[~〜\-–—])\s?{_number('hi_')}(?![0-9]|[:/.,][0-9])"
              rf"(?:{_unit('hi_')})?"),
    ("power", r"(?<![0-9A-Za-z.^])(?P<base>[0-9]+(?:\.[0-9]+)?|[A-Za-z])\^(?P<exp>-?[0-9]+)(?![0-9])"),
    ("measure", rf"{_START}{_number('')}{_unit('')}"),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in _PATTERNS)

_ADDRESS_TRIGGER = re.compile(r"@|://|www\.|[A-Za-z0-9]\.[A-Za-z]")
_NUMERIC_TRIGGER = re.compile(r"[0-9]|[A-Za-z]\^")
# Where an entity may start: a run of digits or the sign, "(" or "+" before it, a letter before "^", and,
# when the text may hold an address, the start of a run of Latin letters and digits.
_NUMERIC_START = re.compile(r"[-−+(]?(?<![0-9])[0-9]|[A-Za-z]\^")
_ADDRESS_START = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9]")
_TRAILING = ".,;:!?)]'"



def may_hold_entities(text: str) -> bool:
    """False when ``text`` certainly holds no entity (no digit, ``^`` after a letter, ``@``, ``://``, ``www.`` or
    a dot between Latin letters and digits): a cheap test before :func:`find_entities`."""
    return bool(_NUMERIC_TRIGGER.search(text) or _ADDRESS_TRIGGER.search(text))


@functools.lru_cache(maxsize=256)
def find_entities(text: str) -> tuple[Entity, ...]:
    """Non-overlapping entities of ``text``, left to right (see the module docstring).

    Cached: the frontend looks for them in a sentence to segment it, and the sentence's language looks
    again in its segment, which is mostly the same text.
    """
    starts: set[int] = set()
    if _NUMERIC_TRIGGER.search(text) is not None:
        for m in _NUMERIC_START.finditer(text):
            starts.update((m.start(), m.end() - 1))
    if _ADDRESS_TRIGGER.search(text) is not None:
        starts.update(m.start() for m in _ADDRESS_START.finditer(text))
    out: list[Entity] = []
    end = 0
    for pos in sorted(starts):
        if pos < end:
            continue
        entity = _entity_at(text, pos)
        if entity is not None:
            out.append(entity)
            end = entity.end
    return tuple(out)


def _entity_at(text: str, pos: int) -> Entity | None:
    for kind, pattern in _COMPILED:
        m = pattern.match(text, pos)
        if m is None:
            continue
        entity = _PARSERS[kind](m)
        if entity is not None:
            return entity
    return None


def _get_number(m: re.Match[str], p: str) -> Number:
    return Number(bool(m[p + "sign"]), m[p + "int"].replace(",", ""), m[p + "dec"] or "")


def _get_unit(m: re.Match[str], p: str) -> Unit | None:
    symbol = m[p + "unit"] or m[p + "sunit"]
    return unit_named(symbol) if symbol else None


def _parse_measure(m: re.Match[str]) -> Entity | None:
    unit = _get_unit(m, "")
    if unit is None:
        return None
    return Entity(m.start(), m.end(), Measure(_get_number(m, ""), unit))


def _leading_zero(n: Number) -> bool:
    return len(n.integer) > 1 and n.integer.startswith("0")


def _parse_range(m: re.Match[str]) -> Entity | None:
    low, high = _get_number(m, "lo_"), _get_number(m, "hi_")
    low_unit, high_unit = _get_unit(m, "lo_"), _get_unit(m, "hi_")
    if low_unit is not None and high_unit is not None and low_unit != high_unit:
        return None
    if _leading_zero(low) or _leading_zero(high):
        return None  # 0120-123 (a phone number)
    if m["rsep"] not in "~〜" and not (low.value < high.value and not high.negative):
        return None  # 5-3 (a score), 2024-03 (part of a date)
    return Entity(m.start(), m.end(), Range(low, high, high_unit or low_unit))


_FRACTION_DENOMINATORS = frozenset({16, 32, 64, 100, 1000})


def _parse_fraction(m: re.Match[str]) -> Entity | None:
    num, den = int(m["num"]), int(m["den"])
    unit = _get_unit(m, "f")
    if den == 0:
        return None
    proper = 0 < num < den and (den <= 10 or den in _FRACTION_DENOMINATORS)
    if m["slash"] == "⁄" or proper:
        return Entity(m.start(), m.end(), Fraction(m["whole"] or "", m["num"], m["den"], unit))
    if m["whole"]:
        return None  # "5 3/15": the date pattern may still match at "3"
    if unit is None and 1 <= num <= 12 and 1 <= den <= 31:
        return Entity(m.start(), m.end(), SlashDate(num, den))
    return None


def _parse_power(m: re.Match[str]) -> Entity | None:
    return Entity(m.start(), m.end(), Power(m["base"], m["exp"].replace("−", "-")))


_FREE_DIAL = frozenset({"0120", "0800", "0570"})  # Japanese numbers whose last group has three digits


def _parse_phone(m: re.Match[str]) -> Entity | None:
    groups = re.split(r"[-. ]", m["groups"])
    sep = m["sep"]
    area = m["area"] or ""
    all_groups = ([area] if area else []) + groups
    digits = sum(len(g) for g in all_groups)
    if len(all_groups) == 2 and not m["cc"]:
        first, second = all_groups
        ok = sep == "-" and (
            (len(first) == 3 and len(second) == 4 and not area)  # 555-1234
            or (len(first) == 4 and len(second) == 4 and first[:2] in ("15", "16", "18")
                and not (first.endswith("00") and second.endswith("00")))  # 1588-1234, not 1500-2000
            or (first.startswith("0") and 7 <= len(second) <= 8)  # 010-12345678
            or (area and len(first) in (3, 4) and len(second) == 4)  # (02) 123-4567
        )
    else:
        ok = (
            len(all_groups) >= 2
            and (len(all_groups[-1]) == 4 or (all_groups[0] in _FREE_DIAL and len(all_groups[-1]) == 3))
            and all(2 <= len(g) <= 4 for g in all_groups[1:-1])
            and 7 <= digits <= 13
            and (sep != " " or bool(m["cc"]) or all_groups[0].startswith("0") or bool(area))
            and (sep != "." or all_groups[0].startswith("0") or digits >= 10)
        )
    if not ok:
        return None
    return Entity(m.start(), m.end(), Phone(m["cc"] or "", tuple(all_groups)))


def _parse_bare_phone(m: re.Match[str]) -> Entity | None:
    s = m[0]
    return Entity(m.start(), m.end(), Phone("", (s[:3], s[3:7], s[7:])))


_ADDRESS_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+|[^A-Za-z0-9]")


def _parse_address(m: re.Match[str], kind: str) -> Entity | None:
    s = m[0].rstrip(_TRAILING)
    if kind == "url" and s.count("(") < s.count(")"):
        s = s[: s.rfind(")")].rstrip(_TRAILING)
    if len(s) < 4:
        return None
    tokens = tuple(
        ("word" if t[0].isalpha() else "digits" if t[0].isdigit() else "sep", t) for t in _ADDRESS_TOKEN.findall(s)
    )
    return Entity(m.start(), m.start() + len(s), Address(kind, tokens))


_PARSERS: dict[str, Callable[[re.Match[str]], Entity | None]] = {
    "email": lambda m: _parse_address(m, "email"),
    "url": lambda m: _parse_address(m, "url"),
    "phone": _parse_phone,
    "bare_phone": _parse_bare_phone,
    "fraction": _parse_fraction,
    "range": _parse_range,
    "power": _parse_power,
    "measure": _parse_measure,
}
