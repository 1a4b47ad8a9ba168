"""Chinese readings of the language-independent entities (:mod:`melo.text.entities`).

* measures: 10km -> 十公里, 2kg -> 两公斤, -5°C -> 零下五摄氏度, 100km/h -> 每小时一百公里, 30% -> 百分之三十;
* ranges with 到: 3-5 -> 三到五, 2020-2024年 -> 二零二零到二零二四年, 20-25°C -> 二十到二十五摄氏度, 10~30% -> 百分之十到百分之三十;
* fractions: 1/2 -> 二分之一, 1½ -> 一又二分之一; dates 3/15 -> 三月十五日; powers: 2^10 -> 二的十次方,
  x^2 -> x的平方;
* phone numbers digit by digit with 1 read 幺 (138-1234-5678 -> 幺三八，幺二三四，五六七八);
* addresses: 点, 艾特, 斜杠, 冒号; spelled parts stay Latin capitals (WWW, CN), read as letters.
"""

from __future__ import annotations

from melo.text.entities import AddressNames, EntityReader, Fraction, Number, Power, Range, SlashDate
from melo.text.units import Unit
from melo.text.zh_numbers import PHONE_DIGITS, read_digits, read_number

__all__ = ["READER"]

_ADDRESS = AddressNames(
    separators={".": "点", "@": "艾特", "/": "斜杠", ":": "冒号", "-": "横杠", "_": "下划线", "~": "波浪号",
                "?": "问号", "=": "等于", "&": "和", "#": "井号", "+": "加", "%": "百分号"},
    words={},
    spell=str.upper,
    digits=read_digits,
    joiner="",
)


def _number(n: Number, unit: Unit | None = None) -> str:
    words = read_number(n.integer + ("." + n.decimals if n.decimals else ""))
    if words == "二" and unit is not None and unit.kind not in ("percent", "temperature"):
        words = "两"  # 两公斤, 两倍
    return ("负" if n.negative else "") + words


def _measure(n: Number, unit: Unit) -> str:
    if n.negative and unit.kind in ("temperature", "percent"):
        sign = "零下" if unit.kind == "temperature" else "负"  # 零下五摄氏度, 负百分之五
        return sign + unit.zh.format(n=_number(Number(False, n.integer, n.decimals), unit))
    return unit.zh.format(n=_number(n, unit))


def _is_year(n: Number) -> bool:
    return n.is_integer and not n.negative and len(n.integer) == 4


def _range(r: Range, after: str) -> str:
    if r.unit is None and after.startswith("年") and _is_year(r.low) and _is_year(r.high):
        return f"{read_digits(r.low.integer)}到{read_digits(r.high.integer)}"  # 2020-2024年: 二零二零到二零二四年
    if r.unit is None:
        return f"{_number(r.low)}到{_number(r.high)}"
    if r.unit.kind == "percent" or r.low.negative:
        return f"{_measure(r.low, r.unit)}到{_measure(r.high, r.unit)}"  # 百分之十到百分之三十
    return r.unit.zh.format(n=f"{_number(r.low, r.unit)}到{_number(r.high, r.unit)}")


def _fraction(f: Fraction) -> str:
    words = f"{read_number(f.denominator)}分之{read_number(f.numerator)}"
    if f.whole:
        words = f"{read_number(f.whole)}又{words}"
    return f.unit.zh.format(n=words) if f.unit is not None else words


def _power(p: Power) -> str:
    base = read_number(p.base) if p.base[0].isdigit() else p.base
    if p.exponent == "2":
        return f"{base}的平方"
    minus = "负" if p.exponent.startswith("-") else ""
    return f"{base}的{minus}{read_number(p.exponent.lstrip('-'))}次方"


def _date(d: SlashDate) -> str:
    return f"{read_number(str(d.month))}月{read_number(str(d.day))}日"


READER = EntityReader(
    address_names=_ADDRESS, phone_names=PHONE_DIGITS, pad="",
    measure=lambda m: _measure(m.number, m.unit),
    range=lambda r, after: (_range(r, after), 0),
    fraction=_fraction, date=_date, power=_power,
)
