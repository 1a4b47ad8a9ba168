"""What an entity of the text is, once found (:mod:`melo.text.entity_finder`): a number with its unit, a range,
a fraction, a date, a power, a phone number or an address, each with the span it covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from melo.text.units import Unit

__all__ = ["Address", "Entity", "Fraction", "Measure", "Number", "Phone", "Power", "Range", "SlashDate", "Value"]


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
