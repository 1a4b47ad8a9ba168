"""English readings of the language-independent entities (:mod:`melo.text.entities`).

* measures: 5km -> five kilometers, 1 kg -> one kilogram, -10°F -> minus ten degrees Fahrenheit,
  100km/h -> one hundred kilometers per hour, 2x -> two times;
* ranges: 20-25°C -> twenty to twenty-five degrees Celsius, 1990-2000 -> nineteen ninety to two thousand; fractions: 1/2 -> one half, 3/4 -> three
  quarters, 2 1/2 and 2½ -> two and a half; dates 3/15 -> March fifteenth;
* powers: 2^5 -> two to the power of five, x^2 -> x squared; phone numbers digit by digit in groups;
* addresses: dot, at, slash, colon; short or vowel-less parts spelled (WWW, UK).
"""

from __future__ import annotations

from melo.text.en_numbers import MONTHS, cardinal, decimal, digits, ordinal, year
from melo.text.entities import AddressNames, EntityReader, Fraction, Number, PhoneNames, Power, Range, SlashDate
from melo.text.units import Unit

__all__ = ["READER", "fraction_words"]

_ADDRESS = AddressNames(
    separators={".": "dot", "@": "at", "/": "slash", ":": "colon", "-": "dash", "_": "underscore", "~": "tilde",
                "?": "question mark", "=": "equals", "&": "and", "#": "hash", "+": "plus", "%": "percent"},
    words={},
    spell=str.upper,
    digits=digits,
    joiner=" ",
)
_PHONE = PhoneNames(digits="zero one two three four five six seven eight nine", plus="plus", group_separator=", ",
                    digit_joiner=" ")


def _number(n: Number) -> str:
    words = decimal(f"{n.integer}.{n.decimals}") if n.decimals else cardinal(int(n.integer))
    return ("minus " if n.negative else "") + words


def _with_unit(words: str, unit: Unit | None, one: bool = False) -> str:
    if unit is None:
        return words
    return (unit.en_one if one else unit.en_many).format(n=words)


def _range_end(n: Number, r: Range) -> str:
    """A year in a range of years (1990-2000: nineteen ninety to two thousand), else the number."""
    years = r.unit is None and all(
        e.is_integer and not e.negative and len(e.integer) == 4 and 1100 <= int(e.integer) <= 2099 for e in (r.low, r.high)
    )
    return year(int(n.integer)) if years else _number(n)


def fraction_words(numerator: int, denominator: int) -> str:
    """1/2 -> one half, 3/4 -> three quarters, 2/3 -> two thirds."""
    if denominator == 2:
        name = "half" if numerator == 1 else "halves"
    elif denominator == 4:
        name = "quarter" if numerator == 1 else "quarters"
    else:
        name = ordinal(denominator) + ("s" if numerator > 1 else "")
    return f"{cardinal(numerator)} {name}"


def _fraction(f: Fraction) -> str:
    num, den = int(f.numerator), int(f.denominator)
    if f.whole:
        part = "a half" if (num, den) == (1, 2) else "a quarter" if (num, den) == (1, 4) else fraction_words(num, den)
        words = f"{cardinal(int(f.whole))} and {part}"
    else:
        words = fraction_words(num, den)
    return _with_unit(words, f.unit)


def _power(p: Power) -> str:
    base = (decimal(p.base) if "." in p.base else cardinal(int(p.base))) if p.base[0].isdigit() else p.base
    if p.exponent == "2":
        return f"{base} squared"
    if p.exponent == "3":
        return f"{base} cubed"
    exponent = ("minus " if p.exponent.startswith("-") else "") + cardinal(int(p.exponent.lstrip("-")))
    return f"{base} to the power of {exponent}"


def _date(d: SlashDate) -> str:
    return f"{MONTHS[d.month - 1]} {ordinal(d.day)}"


READER = EntityReader(
    address_names=_ADDRESS, phone_names=_PHONE, pad=" ",
    measure=lambda m: _with_unit(_number(m.number), m.unit, one=m.number.is_one),
    range=lambda r, after: (_with_unit(f"{_range_end(r.low, r)} to {_range_end(r.high, r)}", r.unit), 0),
    fraction=_fraction, date=_date, power=_power,
)
