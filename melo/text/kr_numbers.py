"""Korean numbers: Sino-Korean (일, 이, 삼) and native (한, 두, 세) readings, and which one a counter takes.

Native numerals (1-99) are read before the counters of :data:`NATIVE_COUNTERS` (세 시, 두 개, 다섯 명,
세 조각, 두 배, 네 가지, 다섯 곳, 두 군데, ...); everything else, and any number of 100 or more, is
Sino-Korean. Exceptions where a native counter's spelling starts a Sino word or use:

* 번 as a label is Sino: ``1번 출구`` 일 번 출구, ``3번 버스`` 삼 번 버스 (a label noun follows), while
  ``2번이나`` (twice) is 두 번; ``번째`` is native with 1 as 첫 (첫 번째, 두 번째), ``째`` alone 첫째/둘째/셋째/넷째;
* 대 is Sino for decades of age (``20대`` 이십 대) and scores (``3대 1`` 삼 대 일), native otherwise (``3대`` 세 대);
* 개월, 달러, 시즌, 번지, 번호, 장관, 대통령, 대회 ... take Sino numbers.
"""

from __future__ import annotations

import re

from melo.text.myriad import read_myriad

__all__ = [
    "NATIVE_COUNTERS",
    "SINO_DIGITS",
    "counter_of",
    "read_decimal",
    "read_month",
    "read_native",
    "read_ordinal_prefix",
    "read_sino",
    "takes_native",
]

SINO_DIGITS = ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
_SMALL_UNITS = ("", "십", "백", "천")  # within a group of four digits
_BIG_UNITS = ("", "만", "억", "조", "경")  # one per group of four digits

_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
# attributive forms (before a counter): 하나 -> 한, 둘 -> 두, 셋 -> 세, 넷 -> 네
_NATIVE_UNITS = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")

NATIVE_COUNTERS: tuple[str, ...] = tuple(sorted(
    "시간 시 마리 개 명 살 번 잔 권 장 달 벌 채 조각 배 가지 곳 군데 그릇 병 송이 켤레 쌍 대 척 통 줄 판 바퀴 "
    "걸음 모금 사람 끼 알 톨 포기 그루 자루 봉지 상자 접시 숟가락 마디 방울 가구 곡 편 발 글자 단어 과목 문장 "
    "명씩 개씩 장씩 해 밤 쪽 군데군데 주먹 움큼 다발 묶음 칸 층짜리".split(),
    key=len, reverse=True,
))
"""Counters read with native numerals, longest first (시간 before 시)."""

# Words that start like a native counter but take Sino-Korean numbers.
_SINO_WORDS = ("개월", "달러", "시즌", "번지", "번호", "장관", "대통령", "대회", "대학", "배터리", "병원", "시세",
               "개국", "명예", "가지고", "통화", "줄기", "판매", "장소", "대표", "편의점", "권한")
# Nouns after "N번 " that make 번 a label (Sino): 1번 출구, 3번 버스.
_LABEL_NOUNS = ("출구", "버스", "선", "방", "게이트", "트랙", "문제", "문항", "홀", "레인", "타자", "채널", "좌석",
                "창구", "국도", "도로", "승강장", "플랫폼", "테이블", "카드", "칸", "마을버스", "지선", "간선", "답", "정답",
                "보기", "열", "차량", "객실", "환자", "선수", "후보", "곡")
_ORDINAL_SUFFIX = {1: "첫째", 2: "둘째", 3: "셋째", 4: "넷째", 20: "스무째"}


def read_sino(digits: str) -> str:
    """Sino-Korean reading of a string of ASCII digits (``"1234"`` -> ``"천이백삼십사"``, 10000 -> 만).

    Leading zeros (``"007"``) and strings longer than the largest unit are read digit by digit.
    """
    return read_myriad(digits, SINO_DIGITS, _SMALL_UNITS, _BIG_UNITS, bare_ten_thousand="만")


def read_month(month: int) -> str:
    """1 -> 일 월, 6 -> 유월, 10 -> 시월."""
    return {6: "유월", 10: "시월"}.get(month) or read_sino(str(month)) + " 월"


def read_native(n: int) -> str:
    """Native Korean attributive numeral for 1 <= n <= 99 (3 -> 세, 20 -> 스무, 21 -> 스물한)."""
    if not 1 <= n <= 99:
        raise ValueError(f"native Korean numerals cover 1..99, got {n}")
    tens, units = divmod(n, 10)
    if n == 20:
        return "스무"
    return _NATIVE_TENS[tens] + _NATIVE_UNITS[units]


def read_decimal(integer: str, fraction: str) -> str:
    """``"1", "4"`` -> 일 점 사."""
    return read_sino(integer) + " 점 " + " ".join(SINO_DIGITS[int(d)] for d in fraction)


def read_ordinal_prefix(n: int, suffix: str) -> str:
    """``1번째`` -> 첫 번째, ``2번째`` -> 두 번째; ``1째`` -> 첫째, ``3째`` -> 셋째 (``suffix`` is 번째 or 째)."""
    if suffix == "째":
        return _ORDINAL_SUFFIX.get(n) or read_native(n) + "째"
    return ("첫" if n == 1 else read_native(n)) + " " + suffix


def counter_of(run: str) -> str:
    """The counter a Hangul run starts with (``명이`` -> 명, ``시간부터`` -> 시간), or "" if none."""
    if run.startswith(_SINO_WORDS):
        return ""
    return next((c for c in NATIVE_COUNTERS if run.startswith(c)), "")


_DIGIT_AFTER = re.compile(r"\s?\d")


def takes_native(n: int, run: str, rest: str) -> bool:
    """Is ``n`` (written as digits) read with a native numeral before the Hangul ``run`` that follows it?

    ``rest`` is the text after the run (it tells a label 번 from a count: 1번 출구 vs 2번이나).
    """
    if not 1 <= n <= 99:
        return False
    counter = counter_of(run)
    if not counter:
        return False
    if counter == "번" and run == "번":
        stripped = rest.lstrip(" ")
        if stripped != rest and stripped.startswith(_LABEL_NOUNS):
            return False  # 1번 출구
    if counter == "대" and (n % 10 == 0 or (run == "대" and _DIGIT_AFTER.match(rest))):
        return False  # 20대 (age), 3대 1 (a score)
    return True
