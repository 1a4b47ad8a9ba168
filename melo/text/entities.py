"""Language-independent recognisers: what a number, address or symbol written in the text *is*.

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
:func:`expand_entities` and its own :class:`EntityReader`. Addresses and phone numbers are read by the
shared :func:`read_address` / :func:`read_phone` from per-language word tables.
"""

from __future__ import annotations

import abc
import functools
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Union

from melo.text.units import SPACED_UNIT_PATTERN, UNIT_PATTERN, Unit, unit_named

__all__ = [
    "Address",
    "AddressNames",
    "Entity",
    "EntityReader",
    "Fraction",
    "Measure",
    "Number",
    "Phone",
    "PhoneNames",
    "Power",
    "Range",
    "SlashDate",
    "expand_entities",
    "find_entities",
    "read_address",
    "read_phone",
]


# --- values ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Number:
    """A number as written: sign, integer digits (thousands commas removed), decimal digits."""

    negative: bool
    integer: str
    decimals: str = ""

    @property
    def is_one(self) -> bool:
        return self.integer == "1" and not self.decimals.strip("0") and not self.negative

    @property
    def is_integer(self) -> bool:
        return not self.decimals

    @property
    def value(self) -> float:
        v = float(self.integer + ("." + self.decimals if self.decimals else ""))
        return -v if self.negative else v


@dataclass(frozen=True)
class Measure:
    number: Number
    unit: Unit


@dataclass(frozen=True)
class Range:
    low: Number
    high: Number
    unit: Unit | None


@dataclass(frozen=True)
class Fraction:
    whole: str  # "" for a simple fraction
    numerator: str
    denominator: str
    unit: Unit | None


@dataclass(frozen=True)
class SlashDate:
    month: int
    day: int


@dataclass(frozen=True)
class Power:
    base: str  # digits (maybe with a decimal point) or one Latin letter
    exponent: str  # digits, maybe with a leading "-"


@dataclass(frozen=True)
class Phone:
    country: str  # digits after "+", or ""
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Address:
    """A URL or e-mail address as tokens: ``("word", "naver")``, ``("digits", "163")``, ``("sep", ".")``."""

    kind: str  # "url" or "email"
    tokens: tuple[tuple[str, str], ...]


Value = Union[Measure, Range, Fraction, SlashDate, Power, Phone, Address]


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    value: Value


# --- patterns --------------------------------------------------------------------------------------
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


# --- reading ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AddressNames:
    """How one language reads the parts of an address."""

    separators: Mapping[str, str]  # "." -> "dot"
    words: Mapping[str, str]  # known lower-case words -> reading ("com" -> "컴")
    spell: Callable[[str], str]  # letters -> spelled reading (country codes, www, nhk)
    digits: Callable[[str], str]  # digit string -> digit-by-digit reading
    joiner: str  # between the parts' readings


_VOWELS = frozenset("aeiouyAEIOUY")


def _suffix_labels(address: Address) -> set[int]:
    """Indexes of the host's word tokens after its name: ``com`` and ``kr`` in ``www.naver.co.kr``, not
    ``naver`` (nor ``www``), nor anything in the user name, the scheme or the path."""
    tokens = address.tokens
    if address.kind == "email":
        start = next(i for i, (_, t) in enumerate(tokens) if t == "@") + 1
    else:
        text = "".join(t for _, t in tokens)
        scheme = text.find("://")
        start = 0
        if scheme >= 0:
            consumed = 0
            while consumed < scheme + 3:
                consumed += len(tokens[start][1])
                start += 1
    end = next((i for i in range(start, len(tokens)) if tokens[i][1] in "/?#"), len(tokens))
    labels = [i for i in range(start, end) if tokens[i][0] != "sep" and (i == start or tokens[i - 1][1] == ".")]
    names = [i for i in labels if tokens[i][1].lower() != "www"]
    return {i for i in range(start, end) if tokens[i][0] == "word" and names and i > names[0]}


def read_address(address: Address, names: AddressNames) -> str:
    """Words of ``address``: known words mapped (www, com), the host's suffixes of one or two letters or
    without a vowel spelled (kr, co, jp, qq), other vowel-less words spelled (nhk, https), everything else
    kept as written (Latin, read by the English G2P: naver, li, mi), separators named, digits one by one."""
    parts: list[str] = []
    suffixes = _suffix_labels(address)
    for i, (kind, token) in enumerate(address.tokens):
        if kind == "sep":
            name = names.separators.get(token)
            if name:
                parts.append(name)
        elif kind == "digits":
            parts.append(names.digits(token))
        else:
            lower = token.lower()
            vowel = any(c in _VOWELS for c in token)
            if lower in names.words:
                parts.append(names.words[lower])
            elif not vowel or len(token) == 1 or (i in suffixes and len(token) <= 2):
                parts.append(names.spell(token))
            else:
                parts.append(lower)
    return names.joiner.join(p for p in parts if p)


@dataclass(frozen=True)
class PhoneNames:
    digits: str  # ten digit names in one string per digit, separated by spaces: "공 일 이 ..."
    plus: str
    group_separator: str
    digit_joiner: str = ""

    def read(self, digits: str) -> str:
        names = self.digits.split()
        return self.digit_joiner.join(names[int(d)] for d in digits)


def read_phone(phone: Phone, names: PhoneNames) -> str:
    groups = [names.read(g) for g in phone.groups]
    head = f"{names.plus} {names.read(phone.country)}{names.group_separator}" if phone.country else ""
    return head + names.group_separator.join(groups)


class EntityReader(abc.ABC):
    """One language's readings of the entities (``melo.text.{kr,en,zh,jp}_entities``): phone numbers and
    addresses from the language's tables, the rest from its methods."""

    pad: str = " "
    """Put around a reading where it touches a Latin letter or digit ("" in Chinese and Japanese)."""
    address_names: AddressNames
    phone_names: PhoneNames

    def read(self, entity: Entity, after: str) -> tuple[str, int]:
        """The words for ``entity`` and how many characters of ``after`` (the text that follows it) the
        reading took over, e.g. a Korean counter said twice in a range (3~5명: 세 명에서 다섯 명)."""
        v = entity.value
        if isinstance(v, Range):
            return self.range(v, after)
        if isinstance(v, Measure):
            return self.measure(v), 0
        if isinstance(v, Fraction):
            return self.fraction(v), 0
        if isinstance(v, SlashDate):
            return self.date(v), 0
        if isinstance(v, Power):
            return self.power(v), 0
        if isinstance(v, Phone):
            return read_phone(v, self.phone_names), 0
        return read_address(v, self.address_names), 0

    @abc.abstractmethod
    def measure(self, m: Measure) -> str:
        """400km -> the number and unit in words."""

    @abc.abstractmethod
    def range(self, r: Range, after: str) -> tuple[str, int]:
        """3~5 -> words, and the characters of ``after`` taken over."""

    @abc.abstractmethod
    def fraction(self, f: Fraction) -> str:
        """1/2, 2 1/2 -> words."""

    @abc.abstractmethod
    def date(self, d: SlashDate) -> str:
        """3/15 -> the month and day in words."""

    @abc.abstractmethod
    def power(self, p: Power) -> str:
        """2^10 -> words."""


_RATE_WORDS = ("시속", "초속", "時速", "秒速", "时速", "每小时", "每秒")


def _without_repeated_rate(before: str, words: str) -> str:
    """``시속 80km/h`` -> 시속 팔십 킬로미터, not 시속 시속 ...: the rate word is said once."""
    if before.rstrip().endswith(_RATE_WORDS):
        for rate in _RATE_WORDS:
            if words.startswith(rate):
                return words[len(rate) :].lstrip()
    return words


def expand_entities(text: str, reader: EntityReader) -> str:
    """``text`` with every entity replaced by ``reader``'s words for it."""
    entities = find_entities(text) if _NUMERIC_TRIGGER.search(text) or _ADDRESS_TRIGGER.search(text) else ()
    if not entities:
        return text
    out: list[str] = []
    last = 0
    for entity in entities:
        if entity.start < last:
            continue  # inside text a previous reading took over
        words, taken = reader.read(entity, text[entity.end :])
        out.append(text[last : entity.start])
        words = _without_repeated_rate(text[last : entity.start], words)
        before = reader.pad if entity.start > 0 and not text[entity.start - 1].isspace() else ""
        end = entity.end + taken
        after = reader.pad if end < len(text) and (text[end].isascii() and text[end].isalnum()) else ""
        out.append(before + words + after)
        last = entity.end + taken
    out.append(text[last:])
    return "".join(out)
