"""Units written after a number (``5km``, ``30°C``, ``128GB``), with each language's reading.

Each reading is a template in which ``{n}`` stands for the number's words, so a unit may come before
the number in one language and after it in another (``100km/h``: 시속 백 킬로미터, 每小时一百公里,
時速百キロメートル, one hundred kilometers per hour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["UNITS", "UNIT_PATTERN", "Unit", "unit_named"]


@dataclass(frozen=True)
class Unit:
    symbol: str
    en_one: str
    en_many: str
    kr: str
    zh: str
    jp: str
    kind: str = ""  # "temperature" (negative values read 영하/零下), "percent", "times", "hours"
    spaced: bool = True  # may stand one space after its number (``500 g``); single letters that are
    # also words or variables (h, l, x, V, W) only count when written right after the number


def _u(symbol: str, en: str, kr: str, zh: str, jp: str, *, en_many: str = "", kind: str = "", spaced: bool = True) -> Unit:
    """A unit; a reading without ``{n}`` goes after the number (English plural: ``en`` + s)."""
    one = en if "{n}" in en else "{n} " + en
    return Unit(symbol, one, en_many or one + "s", kr if "{n}" in kr else "{n} " + kr,
                zh if "{n}" in zh else "{n}" + zh, jp if "{n}" in jp else "{n}" + jp, kind, spaced)


_LENGTH = [
    _u("km", "kilometer", "킬로미터", "公里", "キロメートル"),
    _u("cm", "centimeter", "센티미터", "厘米", "センチメートル"),
    _u("mm", "millimeter", "밀리미터", "毫米", "ミリメートル"),
    _u("μm", "micrometer", "마이크로미터", "微米", "マイクロメートル"),
    _u("nm", "nanometer", "나노미터", "纳米", "ナノメートル"),
    _u("m", "meter", "미터", "米", "メートル"),
    _u("ft", "{n} foot", "피트", "英尺", "フィート", en_many="{n} feet"),
    _u("mi", "mile", "마일", "英里", "マイル"),
]
_AREA_VOLUME = [
    _u("km^2", "square kilometer", "제곱킬로미터", "平方公里", "平方キロメートル"),
    _u("cm^2", "square centimeter", "제곱센티미터", "平方厘米", "平方センチメートル"),
    _u("m^2", "square meter", "제곱미터", "平方米", "平方メートル"),
    _u("cm^3", "cubic centimeter", "세제곱센티미터", "立方厘米", "立方センチメートル"),
    _u("m^3", "cubic meter", "세제곱미터", "立方米", "立方メートル"),
    _u("ha", "hectare", "헥타르", "公顷", "ヘクタール"),
]
_MASS = [
    _u("kg", "kilogram", "킬로그램", "公斤", "キログラム"),
    _u("mg", "milligram", "밀리그램", "毫克", "ミリグラム"),
    _u("μg", "microgram", "마이크로그램", "微克", "マイクログラム"),
    _u("g", "gram", "그램", "克", "グラム"),
    _u("lbs", "{n} pound", "파운드", "磅", "ポンド", en_many="{n} pounds"),
    _u("lb", "{n} pound", "파운드", "磅", "ポンド", en_many="{n} pounds"),
    _u("oz", "{n} ounce", "온스", "盎司", "オンス", en_many="{n} ounces"),
]
_VOLUME = [
    _u("mL", "milliliter", "밀리리터", "毫升", "ミリリットル"),
    _u("ml", "milliliter", "밀리리터", "毫升", "ミリリットル"),
    _u("dL", "deciliter", "데시리터", "分升", "デシリットル"),
    _u("L", "liter", "리터", "升", "リットル"),
    _u("l", "liter", "리터", "升", "リットル", spaced=False),
    _u("cc", "{n} C C", "씨씨", "毫升", "シーシー", en_many="{n} C C"),
]
_SPEED = [
    _u("km/h", "{n} kilometer per hour", "시속 {n} 킬로미터", "每小时{n}公里", "時速{n}キロメートル", en_many="{n} kilometers per hour"),
    _u("kmh", "{n} kilometer per hour", "시속 {n} 킬로미터", "每小时{n}公里", "時速{n}キロメートル", en_many="{n} kilometers per hour"),
    _u("kph", "{n} kilometer per hour", "시속 {n} 킬로미터", "每小时{n}公里", "時速{n}キロメートル", en_many="{n} kilometers per hour"),
    _u("m/s", "{n} meter per second", "초속 {n} 미터", "每秒{n}米", "秒速{n}メートル", en_many="{n} meters per second"),
    _u("mph", "{n} mile per hour", "시속 {n} 마일", "每小时{n}英里", "時速{n}マイル", en_many="{n} miles per hour"),
]
_TEMPERATURE = [
    _u("°C", "{n} degree Celsius", "{n} 도", "{n}摄氏度", "{n}度", en_many="{n} degrees Celsius", kind="temperature"),
    _u("°F", "{n} degree Fahrenheit", "화씨 {n} 도", "华氏{n}度", "華氏{n}度", en_many="{n} degrees Fahrenheit", kind="temperature"),
    _u("°", "{n} degree", "{n} 도", "{n}度", "{n}度", en_many="{n} degrees", kind="temperature"),
]
_RATIO = [
    _u("%", "{n} percent", "{n} 퍼센트", "百分之{n}", "{n}パーセント", en_many="{n} percent", kind="percent"),
    _u("‰", "{n} per mille", "{n} 퍼밀", "千分之{n}", "{n}パーミル", en_many="{n} per mille", kind="percent"),
    _u("x", "{n} times", "{n} 배", "{n}倍", "{n}倍", en_many="{n} times", kind="times", spaced=False),
]
_DATA = [
    _u("KB", "kilobyte", "킬로바이트", "KB", "キロバイト"),
    _u("kB", "kilobyte", "킬로바이트", "KB", "キロバイト"),
    _u("MB", "megabyte", "메가바이트", "MB", "メガバイト"),
    _u("GB", "gigabyte", "기가바이트", "GB", "ギガバイト"),
    _u("TB", "terabyte", "테라바이트", "TB", "テラバイト"),
    _u("Mbps", "{n} megabit per second", "{n} 메가비피에스", "{n}兆比特每秒", "{n}メガビーピーエス", en_many="{n} megabits per second"),
    _u("Gbps", "{n} gigabit per second", "{n} 기가비피에스", "{n}吉比特每秒", "{n}ギガビーピーエス", en_many="{n} gigabits per second"),
]
_ELECTRIC = [
    _u("kHz", "kilohertz", "킬로헤르츠", "千赫兹", "キロヘルツ", en_many="{n} kilohertz"),
    _u("MHz", "megahertz", "메가헤르츠", "兆赫", "メガヘルツ", en_many="{n} megahertz"),
    _u("GHz", "gigahertz", "기가헤르츠", "吉赫", "ギガヘルツ", en_many="{n} gigahertz"),
    _u("Hz", "hertz", "헤르츠", "赫兹", "ヘルツ", en_many="{n} hertz"),
    _u("kWh", "kilowatt hour", "킬로와트시", "千瓦时", "キロワットアワー"),
    _u("kW", "kilowatt", "킬로와트", "千瓦", "キロワット"),
    _u("W", "watt", "와트", "瓦", "ワット", spaced=False),
    _u("V", "volt", "볼트", "伏", "ボルト", spaced=False),
    _u("mAh", "milliamp hour", "밀리암페어시", "毫安时", "ミリアンペアアワー"),
    _u("dB", "decibel", "데시벨", "分贝", "デシベル"),
]
_OTHER = [
    _u("kcal", "kilocalorie", "킬로칼로리", "千卡", "キロカロリー"),
    _u("px", "pixel", "픽셀", "像素", "ピクセル"),
    _u("hrs", "hour", "시간", "小时", "時間", kind="hours"),
    _u("hr", "hour", "시간", "小时", "時間", kind="hours"),
    _u("h", "hour", "시간", "小时", "時間", kind="hours", spaced=False),
    _u("min", "minute", "분", "分钟", "分"),
    _u("sec", "second", "초", "秒", "秒"),
    _u("ms", "millisecond", "밀리초", "毫秒", "ミリ秒"),
]

UNITS: dict[str, Unit] = {u.symbol: u for group in (_LENGTH, _AREA_VOLUME, _MASS, _VOLUME, _SPEED, _TEMPERATURE,
                                                    _RATIO, _DATA, _ELECTRIC, _OTHER) for u in group}
# spellings folded onto one unit: 84m2 (NFKC of ㎡), µ (micro sign), uppercase ML, kg/KG
_ALIASES = {"m2": "m^2", "km2": "km^2", "cm2": "cm^2", "m3": "m^3", "cm3": "cm^3", "µm": "μm", "µg": "μg",
            "KG": "kg", "KM": "km", "CM": "cm", "MM": "mm", "ML": "mL", "°c": "°C", "°f": "°F", "℃": "°C", "℉": "°F"}


def unit_named(symbol: str) -> Unit:
    return UNITS[_ALIASES.get(symbol, symbol)]


_SYMBOLS = sorted([*UNITS, *_ALIASES], key=len, reverse=True)
UNIT_PATTERN = "|".join(re.escape(s) for s in _SYMBOLS)
"""Every unit symbol, longest first (``km/h`` before ``km`` before ``m``), for a regex alternation."""
SPACED_UNIT_PATTERN = "|".join(re.escape(s) for s in _SYMBOLS if unit_named(s).spaced)
