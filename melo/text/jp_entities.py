"""Japanese readings of the language-independent entities (:mod:`melo.text.entities`), written so that
OpenJTalk says them right (kanji numerals, katakana words).

* measures: 5km -> 五キロメートル, -2℃ -> マイナス二度, 100km/h -> 時速百キロメートル, 50㎡ -> 五十平方メートル;
* ranges with から: 10〜15 -> 十から十五; two neighbouring single digits before a counter are said as one
  (2~3日 -> 二、三日, read にさんにち);
* fractions: 1/4 -> 四分の一, 1½ -> 一と二分の一; dates 3/15 -> 三月十五日; powers: 2^8 -> 二の八乗;
* phone numbers digit by digit in katakana (03-1234-5678 -> ゼロサン、イチニーサンヨン、ゴーロクナナハチ);
* addresses: ドット, アットマーク, スラッシュ, コロン; spelled parts in katakana letter names (ジェーピー).
"""

from __future__ import annotations

import re

from melo.text.entities import AddressNames, EntityReader, Fraction, Number, PhoneNames, Power, Range, SlashDate
from melo.text.units import Unit

__all__ = ["READER", "spell"]

_LETTER_NAMES = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    "エー ビー シー ディー イー エフ ジー エイチ アイ ジェー ケー エル エム エヌ オー ピー キュー アール エス ティー ユー "
    "ブイ ダブリュー エックス ワイ ゼット".split(),
))
_PHONE = PhoneNames(digits="ゼロ イチ ニー サン ヨン ゴー ロク ナナ ハチ キュー", plus="プラス", group_separator="、")
_COUNTER_AFTER = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ff]")  # a kanji or katakana counter follows: 日, 人, 個, カ月


def spell(letters: str) -> str:
    return "".join(_LETTER_NAMES[c] for c in letters.lower() if c in _LETTER_NAMES)


_ADDRESS = AddressNames(
    separators={".": "ドット", "@": "アットマーク", "/": "スラッシュ", ":": "コロン", "-": "ハイフン", "_": "アンダーバー",
                "~": "チルダ", "?": "クエスチョン", "=": "イコール", "&": "アンド", "#": "シャープ", "+": "プラス",
                "%": "パーセント"},
    words={"com": "コム", "net": "ネット", "www": "ダブリューダブリューダブリュー"},
    spell=spell,
    digits=_PHONE.read,
    joiner="",
)


def _kanji(digits: str) -> str:
    from melo.text.japanese import read_kanji_number

    return read_kanji_number(digits)


def _number(n: Number) -> str:
    words = _kanji(n.integer)
    if n.decimals:
        words += "点" + "".join(_kanji(d) for d in n.decimals)
    return ("マイナス" if n.negative else "") + words


def _with_unit(words: str, unit: Unit | None) -> str:
    return unit.jp.format(n=words) if unit is not None else words


def _range(r: Range, after: str) -> str:
    lo, hi = r.low, r.high
    if (
        r.unit is None and lo.is_integer and hi.is_integer and not lo.negative
        and 1 <= int(lo.integer) <= 8 and int(hi.integer) == int(lo.integer) + 1 and _COUNTER_AFTER.match(after)
    ):
        return f"{_number(lo)}、{_number(hi)}"  # 二、三日: にさんにち
    if r.unit is not None and r.unit.kind == "percent":
        return f"{_with_unit(_number(lo), r.unit)}から{_with_unit(_number(hi), r.unit)}"
    return _with_unit(f"{_number(lo)}から{_number(hi)}", r.unit)


def _fraction(f: Fraction) -> str:
    words = f"{_kanji(f.denominator)}分の{_kanji(f.numerator)}"
    if f.whole:
        words = f"{_kanji(f.whole)}と{words}"
    return _with_unit(words, f.unit)


def _power(p: Power) -> str:
    base = (_number(Number(False, *p.base.partition(".")[::2])) if p.base[0].isdigit() else p.base)
    minus = "マイナス" if p.exponent.startswith("-") else ""
    return f"{base}の{minus}{_kanji(p.exponent.lstrip('-'))}乗"


def _date(d: SlashDate) -> str:
    return f"{_kanji(str(d.month))}月{_kanji(str(d.day))}日"


READER = EntityReader(
    address_names=_ADDRESS, phone_names=_PHONE, pad="",
    measure=lambda m: _with_unit(_number(m.number), m.unit),
    range=lambda r, after: (_range(r, after), 0),
    fraction=_fraction, date=_date, power=_power,
)
