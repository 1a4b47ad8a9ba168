"""English normalisation: what a written English segment says, in words, before G2P.

Accented Latin letters fold to ASCII (``café`` -> cafe, ``naïve`` -> naive, ``ß`` -> ss); abbreviations are
expanded (``Mr.``, ``e.g.``; ``St.``/``Dr.`` as Saint/Doctor before a name, Street/Drive after one); months with
a day (``Dec. 3rd`` -> December third); dotted acronyms joined (``U.S.`` -> ``US``, spelled by G2P); feet and
inches (``6'2"``); the entities of :mod:`melo.text.entities` read by :mod:`melo.text.en_entities`; numbers
(:mod:`melo.text.en_numbers`); symbols (``& + @ % # = ° × ÷``) as words.
"""

from __future__ import annotations

import re
import unicodedata

from melo.text.en_entities import READER
from melo.text.en_numbers import MONTHS, cardinal, expand_numbers, ordinal
from melo.text.entities import expand_entities

__all__ = ["fold_accents", "normalize"]

_SPECIAL_FOLD = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "đ": "d",
                 "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "dh", "Ð": "DH", "ı": "i"}


def fold_accents(text: str) -> str:
    """``café naïve Straße`` -> ``cafe naive Strasse``: Latin letters to ASCII; other scripts untouched."""
    if text.isascii():
        return text
    out = []
    for ch in text:
        if ch in _SPECIAL_FOLD:
            out.append(_SPECIAL_FOLD[ch])
        elif "\u00c0" <= ch <= "\u024f":
            out.append("".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


_ABBREVIATIONS = [
    (re.compile(rf"\b{abbr}\.", re.IGNORECASE if ignore_case else 0), words)
    for abbr, words, ignore_case in (
        ("Mr", "mister", False), ("Mrs", "missus", False), ("Ms", "miz", False),
        ("Prof", "professor", False), ("Jr", "junior", False), ("Sr", "senior", False),
        ("vs", "versus", True), ("etc", "et cetera", True), (r"e\.g", "for example", True),
        (r"i\.e", "that is", True), ("Mt", "Mount", False), ("Ft", "Fort", False), ("Ave", "Avenue", False),
        ("Blvd", "Boulevard", False), ("Rd", "Road", False), ("approx", "approximately", True),
    )
]
# St. and Dr. before a name are Saint and Doctor; after one (Baker St., Elm Dr.) Street and Drive.
_TITLE_OR_PLACE = re.compile(r"(?<![A-Za-z])(?P<abbr>St|Dr)\.(?P<space>\s?)(?=(?P<next>[A-Z]?))")
_MONTH_ABBREVIATIONS = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Sept": 9,
                        "Oct": 10, "Nov": 11, "Dec": 12}
_MONTH_NAMES = {name: i for i, name in enumerate(MONTHS, 1)} | _MONTH_ABBREVIATIONS
# A month and a day: Dec. 3rd, Jan 15, October 3 -> December third, January fifteenth, October third.
_MONTH_DAY = re.compile(
    r"\b(?P<month>" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")(?P<dot>\.?) "
    r"(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\b(?![:.,]?[0-9])"
)
_MONTH_ABBREVIATION_ALONE = re.compile(r"\b(?P<month>" + "|".join(_MONTH_ABBREVIATIONS) + r")\.(?= [0-9])")
_DOTTED_ACRONYM_RE = re.compile(r"\b((?:[A-Za-z]\.){2,})(?=\s|$|[,!?;:])")
_NUMBER_SIGN_RE = re.compile(r"(?:\bNo\.|#)\s?(?=\d)")
_HASHTAG_RE = re.compile(r"#(?=[A-Za-z])")
# 6'2" and 6 ft 2 in -> six feet two inches; 6' -> six feet; 55" -> fifty-five inches (when not closing a quote)
_FEET_INCHES_RE = re.compile(r"(?<![0-9.])(?P<feet>[0-9]{1,2})(?:'|′) ?(?P<inches>[0-9]{1,2}(?:\.[0-9])?)(?:\"|″|'')")
_FEET_INCHES_WORDS_RE = re.compile(r"(?<![0-9.])(?P<feet>[0-9]{1,2}) ?ft\.? ?(?P<inches>[0-9]{1,2}(?:\.[0-9])?) ?in\b")
_FEET_RE = re.compile(r"(?<![0-9.])(?P<feet>[0-9]{1,2})(?:'|′)(?![0-9A-Za-z'])")
_INCHES_RE = re.compile(r"(?<![0-9.])(?P<inches>[0-9]{1,3}(?:\.[0-9]+)?)(?:\"|″)(?= [a-z]|[^A-Za-z0-9]|$)")
_PRODUCT_RE = re.compile(r"(?<=[0-9]) ?[x×*] ?(?=[0-9])|×")
_SYMBOLS = {"&": " and ", "+": " plus ", "@": " at ", "%": " percent ", "#": " hash ", "=": " equals ",
            "°": " degrees ", "÷": " divided by ", "⁄": " slash ", "^": " "}
_SYMBOL_RE = re.compile("[" + re.escape("".join(_SYMBOLS)) + "]")
_WS_RE = re.compile(r"\s+")


def _dotted_acronym(m: re.Match[str]) -> str:
    """``U.S.`` -> ``US`` (spelled by g2p); the last dot stays when it ends the text (a full stop)."""
    letters = m[1].replace(".", "").upper()
    return letters + ("." if m.end() == len(m.string) else "")


def _title_or_place(m: re.Match[str]) -> str:
    """Saint/Doctor before a capitalised word (St. Louis, Dr. Brown); Street/Drive after a name and not
    before one (Baker St. in London, Elm Dr.), keeping the dot as a full stop at the end of the text."""
    after_name = re.search(r"[A-Z][a-z]+\s*$", m.string[: m.start()]) is not None
    if after_name and not m["next"]:
        end = "." if m.end() == len(m.string) else ""
        return ("Street" if m["abbr"] == "St" else "Drive") + end + m["space"]
    return ("Saint" if m["abbr"] == "St" else "Doctor") + m["space"]


def _month_day(m: re.Match[str]) -> str:
    month = _MONTH_NAMES[m["month"]]
    if m["month"] == "May" and m["dot"]:
        return m[0]
    return f"{MONTHS[month - 1]} {ordinal(int(m['day']))}" if 1 <= int(m["day"]) <= 31 else m[0]


def _unquoted(m: re.Match[str]) -> bool:
    """Is the match outside double quotes (an even number of them before it)?"""
    return m.string.count('"', 0, m.start()) % 2 == 0


def _feet_inches(m: re.Match[str]) -> str:
    feet = cardinal(int(m["feet"]))
    return f"{feet} {'foot' if m['feet'] == '1' else 'feet'} {m['inches']} inches"


def _inches(m: re.Match[str]) -> str:
    if not _unquoted(m):
        return m[0]
    attributive = m.string[m.end() : m.end() + 2].startswith(" ") and m.string[m.end() + 1 : m.end() + 2].islower()
    return f"{m['inches']} {'inch' if attributive or m['inches'] == '1' else 'inches'}"


def _read_units(text: str) -> str:
    """Feet and inches (a quote after a number), which the entity recogniser leaves alone."""
    if "ft" in text:
        text = _FEET_INCHES_WORDS_RE.sub(_feet_inches, text)
    if "'" not in text and '"' not in text and "′" not in text and "″" not in text:
        return text
    text = _FEET_INCHES_RE.sub(_feet_inches, text)
    text = _FEET_RE.sub(lambda m: f"{m['feet']} {'foot' if m['feet'] == '1' else 'feet'}", text)
    return _INCHES_RE.sub(_inches, text)


def normalize(text: str) -> str:
    """Fold accents, expand abbreviations, read entities (:mod:`melo.text.entities`), numbers and
    symbols (``& + @ % # = ° × ÷``) as English words.

    Whitespace runs collapse to one space; a leading or trailing space of the segment is kept.
    """
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    text = fold_accents(text)
    if "." in text:
        for pattern, words in _ABBREVIATIONS:
            text = pattern.sub(words, text)
        text = _TITLE_OR_PLACE.sub(_title_or_place, text)
        text = _MONTH_ABBREVIATION_ALONE.sub(lambda m: MONTHS[_MONTH_ABBREVIATIONS[m["month"]] - 1], text)
        text = _DOTTED_ACRONYM_RE.sub(_dotted_acronym, text)
    if any(c.isdigit() for c in text):
        text = _read_units(text)
        text = _MONTH_DAY.sub(_month_day, text)
    text = expand_entities(text, READER)
    text = _NUMBER_SIGN_RE.sub("number ", text)
    text = _HASHTAG_RE.sub("hashtag ", text)
    text = _PRODUCT_RE.sub(" times ", text)
    text = expand_numbers(text)
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS[m[0]], text)
    text = _WS_RE.sub(" ", text).strip()
    return lead + text + trail if text else text
