"""Korean readings of the language-independent entities (:mod:`melo.text.entities`).

* measures: 400km -> 사백 킬로미터, -5°C -> 영하 오 도, 100km/h -> 시속 백 킬로미터, 2x -> 두 배;
* ranges: 10~30% -> 십에서 삼십 퍼센트; before a counter the counter is said twice with the numbers it
  takes (3~5명 -> 세 명에서 다섯 명, 3~5일 -> 삼 일에서 오 일), and two neighbouring single digits make
  the usual compound (2~3개 -> 두세 개, 3~4시간 -> 서너 시간, 2~3일 -> 이삼 일) -- except hours of the
  clock, said in full (3~4시 -> 세 시에서 네 시);
* fractions: 1/2 -> 이 분의 일, 1½ -> 일과 이 분의 일; dates 3/15 -> 삼 월 십오 일;
* powers: 2^10 -> 이의 십 제곱; phone numbers digit by digit with 0 as 공 (010-1234-5678 -> 공일공 일이삼사
  오육칠팔); addresses with 닷, 골뱅이, 슬래시, 콜론 and Korean letter names for spelled parts (케이알).
"""

from __future__ import annotations

import re

from melo.text.entities import AddressNames, EntityReader, Fraction, Number, PhoneNames, Power, Range, SlashDate
from melo.text.kr_numbers import SINO_DIGITS, counter_of, read_decimal, read_month, read_native, read_sino, takes_native
from melo.text.units import Unit

__all__ = ["READER"]

_LETTER_NAMES = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    "에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 지".split(),
))
# neighbouring native numbers said as one word: 한두 개, 두세 개, 서너 개, ...
_NATIVE_PAIRS = {1: "한두", 2: "두세", 3: "서너", 4: "네다섯", 5: "대여섯", 6: "예닐곱", 7: "일고여덟", 8: "여덟아홉"}
_SINO_COUNTERS = ("개월", "년", "월", "일", "주", "분", "초", "층", "호", "원", "인", "회", "차", "등", "위", "점",
                  "학년", "세", "도", "킬로", "퍼센트", "프로", "번지", "년생", "주년", "쪽", "페이지")
_HANGUL_RUN = re.compile(r" ?([가-힣]+)")


def spell(letters: str) -> str:
    return "".join(_LETTER_NAMES[c] for c in letters.lower() if c in _LETTER_NAMES)


_ADDRESS = AddressNames(
    separators={".": "닷", "@": "골뱅이", "/": "슬래시", ":": "콜론", "-": "하이픈", "_": "언더바", "~": "물결",
                "?": "물음표", "=": "이퀄", "&": "앤드", "#": "샵", "+": "플러스", "%": "퍼센트"},
    words={"com": "컴", "net": "넷", "org": "오알지", "go": "고", "www": "더블유 더블유 더블유"},
    spell=spell,
    digits=lambda d: "".join(SINO_DIGITS[int(c)] for c in d),
    joiner=" ",
)
_PHONE = PhoneNames(digits="공 일 이 삼 사 오 육 칠 팔 구", plus="플러스", group_separator=" ")


def _number(n: Number) -> str:
    words = read_decimal(n.integer, n.decimals) if n.decimals else read_sino(n.integer)
    return ("마이너스 " if n.negative else "") + words


def _with_unit(words: str, unit: Unit | None) -> str:
    return unit.kr.format(n=words) if unit is not None else words


def _measure_number(n: Number, unit: Unit) -> str:
    if unit.kind == "temperature" and n.negative:
        return "영하 " + _number(Number(False, n.integer, n.decimals))
    if unit.kind in ("times", "hours") and n.is_integer and not n.negative and 1 <= int(n.integer) <= 99:
        return read_native(int(n.integer))  # 두 배, 스물네 시간
    return _number(n)


def _range(r: Range, after: str) -> tuple[str, int]:
    if r.unit is not None:
        words = f"{_measure_number(r.low, r.unit)}에서 {_measure_number(r.high, r.unit)}"
        return _with_unit(words, r.unit), 0
    m = _HANGUL_RUN.match(after)
    if m is None or not (r.low.is_integer and r.high.is_integer) or r.low.negative:
        return f"{_number(r.low)}에서 {_number(r.high)}", 0
    run = m.group(1)
    lo, hi = int(r.low.integer), int(r.high.integer)
    rest = after[m.end():]
    counter = counter_of(run)
    if counter and takes_native(lo, run, rest) and takes_native(hi, run, rest):
        if hi == lo + 1 and lo in _NATIVE_PAIRS and counter != "시":
            return f"{_NATIVE_PAIRS[lo]} {counter}", m.start(1) + len(counter)
        return f"{read_native(lo)} {counter}에서 {read_native(hi)} {counter}", m.start(1) + len(counter)
    sino = next((c for c in _SINO_COUNTERS if run.startswith(c)), "")
    if sino:
        if hi == lo + 1 and 1 <= lo <= 8:
            return f"{SINO_DIGITS[lo]}{SINO_DIGITS[hi]} {sino}", m.start(1) + len(sino)  # 이삼 일
        return f"{read_sino(r.low.integer)} {sino}에서 {read_sino(r.high.integer)} {sino}", m.start(1) + len(sino)
    return f"{_number(r.low)}에서 {_number(r.high)}", 0


def _fraction(f: Fraction) -> str:
    words = f"{read_sino(f.denominator)} 분의 {read_sino(f.numerator)}"
    if f.whole:
        whole = read_sino(f.whole)
        has_coda = (ord(whole[-1]) - 0xAC00) % 28 != 0
        words = f"{whole}{'과' if has_coda else '와'} {words}"
    return _with_unit(words, f.unit)


def _power(p: Power) -> str:
    base = read_sino(p.base) if p.base.isdigit() else p.base
    exponent = p.exponent
    minus = "마이너스 " if exponent.startswith("-") else ""
    return f"{base}의 {minus}{read_sino(exponent.lstrip('-'))} 제곱"


def _date(d: SlashDate) -> str:
    return f"{read_month(d.month)} {read_sino(str(d.day))} 일"


READER = EntityReader(
    address_names=_ADDRESS, phone_names=_PHONE, pad=" ",
    measure=lambda m: _with_unit(_measure_number(m.number, m.unit), m.unit),
    range=_range,
    fraction=_fraction, date=_date, power=_power,
)
