"""Chinese number and symbol reading, built on ``cn2an.an2cn`` for the cardinal/decimal words.

``cn2an.transform`` is not used as a whole because it gets several common forms wrong (measured with
cn2an 0.5.x): ``1,000,000`` -> 一,零,零; ``2024-03-01`` -> 二千零二十四负三负一; ``10:30`` -> 十:三十;
``-5%`` -> 百分之负五; ``¥12.5`` keeps the ¥; ``2个`` -> 二个; phone numbers become 亿-sized cardinals.
The rules below, applied in order, rewrite digits into Chinese numerals:

* thousands separators are removed (``1,000,000`` -> 一百万);
* ISO dates ``2024-03-01`` / ``2024/3/1`` / ``2024.3.1`` -> 二零二四年三月一日;
* a four-digit number before 年 is read digit by digit (``1999年`` -> 一九九九年), also in a range
  (``2020-2024年`` -> 二零二零到二零二四年); month and day as cardinals;
* times ``10:30`` -> 十点三十分, ``10:05`` -> 十点零五分, ``10:00`` -> 十点, ``10:30:15`` -> ...十五秒;
* currency ``¥ ￥ $ € £ ₩`` before an amount -> amount + 元/美元/欧元/英镑/韩元 (``¥12.5`` -> 十二点五元);
  trailing decimal zeros of an amount are dropped (``12.50元`` -> 十二点五元);
* numbers with units, ranges, fractions, phone numbers and addresses were read before, by
  :mod:`melo.text.entities` and :mod:`melo.text.zh_entities`; a number dialled after 拨打/致电/热线 is
  read digit by digit (``拨打110`` -> 拨打幺幺零);
* fractions ``3/4`` -> 四分之三; ranges ``20~30`` -> 二十到三十;
* a ``-`` right before a number and not after a digit or Latin letter is 负;
* integers: a leading zero (``007``) or eleven or more digits (phone numbers) digit by digit, otherwise
  cardinals; decimals ``3.14`` -> 三点一四;
* 两 instead of 二 for a bare 2 before a measure word or 千/万/亿 (``2个`` -> 两个, ``2点`` -> 两点,
  ``2万`` -> 两万, but ``第2个`` 第二个, ``2年级`` 二年级, ``2月`` 二月) and at the head of ``二千 二万 二亿``
  (``2000`` -> 两千);
* symbols: ``°C`` 摄氏度, ``°F`` 华氏度, ``°`` 度, ``&`` 和, ``+`` 加, ``@`` 艾特, ``=`` 等于, ``#`` 井号,
  ``×`` (and ``x`` or ``*`` between digits) 乘以, ``÷`` 除以, a ``%`` left over 百分号; a ``^`` left over is silent.
"""

from __future__ import annotations

import re

from melo.text.entities import PhoneNames

__all__ = ["expand_numbers", "read_digits", "read_number"]

_DIGITS = "零一二三四五六七八九"
PHONE_DIGITS = PhoneNames(digits="零 幺 二 三 四 五 六 七 八 九", plus="加", group_separator=",")
# measure words after which a bare 2 is read 两
_MEASURE_WORDS = frozenset("个位只条张本件次种点天年周岁人家辆双台份斤杯块头匹句把部间层架门棵篇首颗项名瓶碗枚片")


def read_digits(digits: str) -> str:
    """``"2024"`` -> 二零二四."""
    return "".join(_DIGITS[int(c)] for c in digits if c.isdigit())


def read_number(number: str) -> str:
    """A plain non-negative number string (``"12"``, ``"3.14"``, ``"007"``) in Chinese numerals."""
    import cn2an

    whole, _, frac = number.partition(".")
    if len(whole) > 1 and whole.startswith("0") or len(whole) >= 11:
        words = read_digits(whole)
    else:
        words = cn2an.an2cn(whole or "0", "low")
        if len(words) >= 2 and words[0] == "二" and words[1] in "千万亿":
            words = "两" + words[1:]
    return f"{words}点{read_digits(frac)}" if frac else words


_INT = r"\d+"
_NUM = r"\d+(?:\.\d+)?"
_SIGN = r"(?P<sign>(?<![0-9A-Za-z.])-)?"
_CURRENCY = {"¥": "元", "￥": "元", "$": "美元", "€": "欧元", "£": "英镑", "₩": "韩元"}

_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?!\d))", re.ASCII)
_ISO_DATE_RE = re.compile(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)", re.ASCII)
_YEAR_RANGE_RE = re.compile(r"(?<!\d)(?P<a>\d{4})\s?[-~～–—]\s?(?P<b>\d{4})(?=年)", re.ASCII)
_YEAR_RE = re.compile(r"(?<!\d)(?P<y>\d{4})(?=年)", re.ASCII)
_TIME_RE = re.compile(r"(?<![\d:])(?P<h>[01]?\d|2[0-4]):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])", re.ASCII)
_CURRENCY_RE = re.compile(rf"{_SIGN}(?P<sym>[¥￥$€£₩])\s?(?P<num>{_NUM})", re.ASCII)
_YUAN_RE = re.compile(rf"(?P<num>[0-9]+\.[0-9]+)(?=[元块])", re.ASCII)
_FRACTION_RE = re.compile(rf"(?<![\d/])(?P<a>{_INT})/(?P<b>{_INT})(?![\d/])", re.ASCII)
_RANGE_RE = re.compile(rf"(?<=\d)\s?[~～]\s?(?=[-]?\d)", re.ASCII)
_NUMBER_RE = re.compile(rf"{_SIGN}(?P<num>{_NUM})(?=(?P<next>.?))", re.DOTALL | re.ASCII)
_SYMBOLS = {"&": "和", "+": "加", "@": "艾特", "=": "等于", "#": "井号", "%": "百分号", "°": "度", "×": "乘以",
            "÷": "除以", "⁄": "斜杠", "^": ""}
_PRODUCT_RE = re.compile(r"(?<=[0-9])\s?[x*]\s?(?=[0-9])")
# a number dialled (拨打110, 致电12345) is read digit by digit, 1 as 幺
_DIALLED_RE = re.compile(r"(?<=拨打|致电|热线|拨通)(?P<sep>[是为:]?\s?)(?P<num>[0-9]{3,})(?![0-9.]|[个次元块天年月日号点分秒岁人位])")
_SYMBOL_RE = re.compile("[" + re.escape("".join(_SYMBOLS)) + "]")


def _iso_date(m: re.Match[str]) -> str:
    month, day = int(m["m"]), int(m["d"])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m[0]
    return f"{read_digits(m['y'])}年{read_number(str(month))}月{read_number(str(day))}日"


def _time(m: re.Match[str]) -> str:
    hour, minute = int(m["h"]), int(m["m"])
    words = ("两" if hour == 2 else read_number(str(hour))) + "点"
    if minute:
        words += ("零" if minute < 10 else "") + read_number(str(minute)) + "分"
    if m["s"]:
        second = int(m["s"])
        words += ("零" if 0 < second < 10 else "") + read_number(str(second)) + "秒"
    return words


def _money(number: str) -> str:
    """An amount without trailing decimal zeros: ``12.50`` -> ``12.5``, ``12.00`` -> ``12``."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def _currency(m: re.Match[str]) -> str:
    return ("负" if m["sign"] else "") + read_number(_money(m["num"])) + _CURRENCY[m["sym"]]


def _number(m: re.Match[str]) -> str:
    num, following = m["num"], m["next"]
    after = m.string[m.end() : m.end() + 2]
    ordinal = m.start() > 0 and m.string[m.start() - 1] == "第"
    if num == "2" and following and (following in _MEASURE_WORDS or following in "千万亿") and not ordinal and after != "年级":
        words = "两"
    else:
        words = read_number(num)
    return ("负" if m["sign"] else "") + words


def expand_numbers(text: str) -> str:
    """Rewrite digits and number-related symbols of a Chinese segment (see the module docstring)."""
    if any(c.isdigit() for c in text):
        text = _DIALLED_RE.sub(lambda m: m["sep"] + PHONE_DIGITS.read(m["num"]), text)
        text = _PRODUCT_RE.sub("×", text)
        text = _THOUSANDS_RE.sub("", text)
        text = _ISO_DATE_RE.sub(_iso_date, text)
        text = _YEAR_RANGE_RE.sub(lambda m: f"{read_digits(m['a'])}到{read_digits(m['b'])}", text)
        text = _YEAR_RE.sub(lambda m: read_digits(m["y"]), text)
        text = _TIME_RE.sub(_time, text)
        text = _CURRENCY_RE.sub(_currency, text)
        text = _YUAN_RE.sub(lambda m: _money(m["num"]), text)
        text = _FRACTION_RE.sub(lambda m: f"{read_number(m['b'])}分之{read_number(m['a'])}", text)
        text = _RANGE_RE.sub("到", text)
        text = _NUMBER_RE.sub(_number, text)
    text = text.replace("°C", "摄氏度").replace("°F", "华氏度")
    return _SYMBOL_RE.sub(lambda m: _SYMBOLS[m[0]], text)
