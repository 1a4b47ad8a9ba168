"""Japanese backend: number/symbol reading (:func:`normalize`) and OpenJTalk G2P with pitch accent (:func:`g2p`).

OpenJTalk comes from the ``pyopenjtalk-plus`` package (dictionary bundled, works offline). It is
imported on first use, with its import-time chatter (a warning that ONNX Runtime is missing) kept off
stdout/stderr; its C library's own warnings (e.g. "No phoneme." for a text of symbols) are silenced too.

**Numbers.** OpenJTalk reads Arabic numerals itself, but it rewrites them into kanji numerals inside
its analysis, so its words would no longer match the text we were given, and it reads ``-5`` as a
pause plus ご. :func:`normalize` therefore writes numbers as kanji numerals first (2024 -> 二千二十四,
which OpenJTalk reads にせんにじゅうよ with the right sound changes: 三百 さんびゃく, 八千 はっせん),
together with decimals (3.5 -> 三点五), signs (-5 -> マイナス五), percent (50% -> 五十パーセント), currency
(¥1,000 / 1000円 -> 千円, $5 -> 五ドル), clock times (10:30 -> 十時三十分), dates (2024/3/1 -> 二千二十四年三月一日),
the symbols & + @ # = × ÷ (3×4=12 -> 三かける四は十二), and -- through :mod:`melo.text.jp_entities` -- units,
ranges, fractions, phone numbers and addresses (5km -> 五キロメートル, 3〜5 -> 三から五, 1/2 -> 二分の一).

**Phones.** One OpenJTalk phone per phone, ``N`` (moraic nasal) written ``ɴ``, devoiced vowels kept
upper case (``I U ...``), ``cl`` the geminate; ``pau``/``sil`` are dropped (pauses come from the
punctuation in the text, each mark its own word).

**Tones** (0 low, 1 high) come from the full-context labels: per phone, the accent phrase's accent type
(``F:`` field, second number) and the mora's position in the phrase (``A:`` field, second number), read
Tokyo style -- type 1: only the first mora high; otherwise the first mora low, the rest high up to the
accent nucleus and low after it; heiban (type 0) stays high to the end of the phrase.

**Words.** The text is cut at its punctuation marks, each of which is its own word (a comma between two
kanji digits, as in 二,三日, stays inside the stretch: OpenJTalk reads it にさんにち), and OpenJTalk reads
each stretch between them (accent phrases never cross a pause anyway); a stretch longer than 400
characters, which OpenJTalk would refuse, is cut at a space. ``pyopenjtalk.run_frontend`` returns the dictionary words (NJD nodes) of the text; their
``string`` fields are matched in order against the text (after NFKC, since OpenJTalk widens ASCII to
full-width forms). The labels' morae are handed to the nodes by each node's ``mora_size``. A node whose
string cannot be found where expected shares one span with its unmatched neighbours (the stretch of text
up to the next node that matches); a node with no text of its own joins the previous word. If the morae
of a stretch do not add up, all of its phones become one word spanning that stretch.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import unicodedata
import warnings
from dataclasses import dataclass
from types import ModuleType
from typing import Iterator

from melo.text.entities import expand_entities
from melo.text.myriad import read_myriad
from melo.text.types import Word
from melo.text.written_numbers import DATE, NUMBER

__all__ = ["g2p", "normalize", "read_kanji_number"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------

_KANJI_DIGITS = "零一二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "億", "兆", "京")


def read_kanji_number(digits: str) -> str:
    """ASCII digits -> kanji numerals OpenJTalk reads well (``"2024"`` -> ``"二千二十四"``, 10000 -> 一万).

    Leading zeros (``"007"``) and very long digit strings are written digit by digit.
    """
    return read_myriad(digits, _KANJI_DIGITS, _SMALL_UNITS, _BIG_UNITS)


_CURRENCY = {"¥": "円", "$": "ドル", "€": "ユーロ", "£": "ポンド", "₩": "ウォン"}
_SYMBOLS = {"%": "パーセント", "&": "アンド", "+": "プラス", "@": "アット", "#": "シャープ", "=": "イコール",
            "×": "かける", "÷": "わる", "⁄": "スラッシュ", "°": "度", "^": ""}
_NORMALIZE = re.compile(
    DATE
    + r"|(?P<time>(?<!\d)(?P<h>\d{1,2}):(?P<m>\d{2})(?!\d))"
    + "|" + NUMBER
    + r"|(?P<sym>[%&+@#=×÷⁄°^])"
)
_TRIGGER = re.compile(r"[\d%&+@#=×÷⁄°^]")
_PRODUCT = re.compile(r"(?<=\d) ?[x*] ?(?=\d)")
_EQUALS_AFTER_NUMBER = re.compile(r"(?<=\d) ?= ?")  # 3×4=12 -> 三かける四は十二


def _replace(m: re.Match[str]) -> str:
    if m.group("date"):
        month, day = int(m.group("mo")), int(m.group("d"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return "、".join(read_kanji_number(m.group(g)) for g in ("y", "mo", "d"))
        return f"{read_kanji_number(m.group('y'))}年{read_kanji_number(str(month))}月{read_kanji_number(str(day))}日"
    if m.group("time"):
        hour, minute = int(m.group("h")), int(m.group("m"))
        if hour > 24 or minute > 59:
            return read_kanji_number(m.group("h")) + "、" + read_kanji_number(m.group("m"))
        return read_kanji_number(str(hour)) + "時" + (read_kanji_number(str(minute)) + "分" if minute else "")
    if m.group("sym"):
        return _SYMBOLS[m.group("sym")]
    reading = read_kanji_number(m.group("int").replace(",", ""))
    if m.group("frac") is not None:
        reading += "点" + "".join(_KANJI_DIGITS[int(d)] for d in m.group("frac"))
    if m.group("neg"):
        reading = "マイナス" + reading
    if m.group("cur"):
        reading += _CURRENCY[m.group("cur")]
    return reading


def normalize(text: str) -> str:
    """Write entities (units, ranges, fractions, phone numbers, addresses: :mod:`melo.text.entities`),
    numbers and symbols of one Japanese segment as words OpenJTalk reads (module docstring)."""
    from melo.text.jp_entities import READER

    text = expand_entities(text, READER)
    if _TRIGGER.search(text) is None:
        return text
    text = _PRODUCT.sub("×", text)
    text = _EQUALS_AFTER_NUMBER.sub("は", text)
    return _NORMALIZE.sub(_replace, text)


# --------------------------------------------------------------------------------------------------
# OpenJTalk
# --------------------------------------------------------------------------------------------------

_pyopenjtalk: ModuleType | None = None


@contextlib.contextmanager
def _quiet_fds() -> Iterator[None]:
    """Silence stdout/stderr at the file-descriptor level (C code prints there directly).

    Process-wide while it lasts (a fraction of a millisecond per call): another thread's output in that
    window is lost too.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _openjtalk() -> ModuleType:
    """pyopenjtalk, imported on first use without its import-time noise."""
    global _pyopenjtalk
    if _pyopenjtalk is None:
        with _quiet_fds(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                import pyopenjtalk

                # pyopenjtalk-plus makes a Sudachi tokenizer on first use, with a DeprecationWarning;
                # make it now, quietly (an internal helper: skipped if a later version drops it)
                warm_up = getattr(getattr(pyopenjtalk, "utils", None), "get_sudachi_tokenizer", None)
                if warm_up is not None:
                    warm_up()
        _pyopenjtalk = pyopenjtalk
        logger.debug("loaded pyopenjtalk from %s", pyopenjtalk.__file__)
    return _pyopenjtalk


# --------------------------------------------------------------------------------------------------
# G2P
# --------------------------------------------------------------------------------------------------

_PHONE_MAP = {"N": "ɴ"}
_MORA_FINAL = frozenset("aiueoAIUEO") | {"N", "cl"}
_LABEL = re.compile(r"^[^-]*-([^+]+)\+.*?/A:([-\d]+|xx)\+(\d+|xx)\+.*?/F:(\d+|xx)_(\d+|xx)")
# Pause marks cut the text into the stretches OpenJTalk reads, except a comma between two kanji digits:
# 二,三日 (2~3日) is one phrase, にさんにち, which OpenJTalk reads right only when it sees the comma.
_PUNCT = re.compile(r"[!?….'\-]|(?<![一二三四五六七八九]),|,(?![一二三四五六七八九])")
_NUMBER_PAIR_COMMA = re.compile(r"(?<=[一二三四五六七八九]),(?=[一二三四五六七八九])")
# OpenJTalk refuses very long inputs; texts longer than this are cut (at a space when there is one).
_MAX_CHUNK = 400


def _is_high(mora_position: int, accent: int) -> bool:
    """Tokyo-style pitch of the ``mora_position``-th mora (1-based) of a phrase of accent type ``accent``."""
    if accent == 1:
        return mora_position == 1
    if mora_position == 1:
        return False
    return accent == 0 or mora_position <= accent


@dataclass(frozen=True)
class _Mora:
    phones: tuple[str, ...]
    tones: tuple[int, ...]


def _label_morae(labels: list[str]) -> list[_Mora]:
    """Phones and tones from full-context labels, grouped into morae (pauses dropped)."""
    morae: list[_Mora] = []
    phones: list[str] = []
    tones: list[int] = []
    for label in labels:
        m = _LABEL.match(label)
        if m is None:
            raise ValueError(f"unexpected OpenJTalk label {label!r}")
        phone, _, position, _, accent = m.groups()
        if phone in ("sil", "pau"):
            continue
        high = position != "xx" and accent != "xx" and _is_high(int(position), int(accent))
        phones.append(_PHONE_MAP.get(phone, phone))
        tones.append(1 if high else 0)
        if phone in _MORA_FINAL:
            morae.append(_Mora(tuple(phones), tuple(tones)))
            phones, tones = [], []
    if phones:  # a consonant without its vowel: never seen, but keep the phones
        morae.append(_Mora(tuple(phones), tuple(tones)))
    return morae


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _align_nodes(text: str, strings: list[str]) -> list[tuple[int, int] | None]:
    """Span in ``text`` of each node string, matched in order; unmatched runs share the gap's span.

    A string matches as it is or after NFKC (OpenJTalk widens ASCII: ``ABC`` comes back ``ＡＢＣ``).
    """
    spans: list[tuple[int, int] | None] = [None] * len(strings)
    strings = [s if s in text else unicodedata.normalize("NFKC", s) for s in strings]
    pos, k, n = 0, 0, len(strings)
    while k < n:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        s = strings[k]
        if s and text.startswith(s, pos):
            spans[k] = (pos, pos + len(s))
            pos += len(s)
            k += 1
            continue
        # resynchronise on the next node whose string occurs further on
        j, found = k + 1, -1
        while j < n:
            if strings[j]:
                found = text.find(strings[j], pos)
                if found != -1:
                    break
            j += 1
        end = found if j < n else len(text)
        shared = _strip_span(text, pos, end)
        for i in range(k, j):
            spans[i] = shared
        pos, k = end, j
    return spans


def _g2p_chunk(text: str, offset: int, words: list[Word]) -> None:
    """G2P of a stretch of text without punctuation; appends its words (spans shifted by ``offset``)."""
    pyopenjtalk = _openjtalk()
    with _quiet_fds():
        nodes = pyopenjtalk.run_frontend(text, predict_nani=False)  # its model needs ONNX Runtime
        sizes = [int(node["mora_size"]) for node in nodes]
        labels = pyopenjtalk.make_label(nodes) if any(sizes) else []
    morae = _label_morae(labels)
    spans = _align_nodes(text, [node["string"] for node in nodes])

    # (span, phones, tones) per word, nodes with the same span merged, nodes without text joined back
    groups: list[tuple[tuple[int, int] | None, list[str], list[int]]] = []
    if sum(sizes) == len(morae):
        cursor = 0
        for span, size in zip(spans, sizes):
            phones = [p for mora in morae[cursor : cursor + size] for p in mora.phones]
            tones = [t for mora in morae[cursor : cursor + size] for t in mora.tones]
            cursor += size
            if groups and (span is None or span == groups[-1][0]):
                groups[-1][1].extend(phones)
                groups[-1][2].extend(tones)
            else:
                groups.append((span, phones, tones))
    else:
        logger.debug("OpenJTalk morae (%d) do not match its words (%d) in %r", len(morae), sum(sizes), text)
        located = [s for s in spans if s is not None]
        if located:
            groups.append(
                ((located[0][0], located[-1][1]),
                 [p for mora in morae for p in mora.phones], [t for mora in morae for t in mora.tones])
            )

    # a leading group without text hands its phones to the next word
    for i, (span, phones, tones) in enumerate(groups):
        if span is None and i + 1 < len(groups):
            groups[i + 1] = (groups[i + 1][0], phones + groups[i + 1][1], tones + groups[i + 1][2])
            groups[i] = (None, [], [])
    for span, phones, tones in groups:
        if span is not None and phones:
            words.append(Word(offset + span[0], offset + span[1], tuple(phones), tuple(tones)))


def _chunks(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut into pieces OpenJTalk accepts, preferably at spaces."""
    while end - start > _MAX_CHUNK:
        cut = text.rfind(" ", start + 1, start + _MAX_CHUNK)
        if cut == -1:
            cut = start + _MAX_CHUNK
        yield start, cut
        start = cut
    yield start, end


def _read_stretch(text: str, start: int, end: int, words: list[Word]) -> None:
    """Words of ``text[start:end]`` (no pause marks but the commas of :data:`_NUMBER_PAIR_COMMA`)."""
    first = len(words)
    for a, b in _chunks(text, start, end):
        if text[a:b].strip():
            _g2p_chunk(text[a:b], a, words)
    for m in _NUMBER_PAIR_COMMA.finditer(text, start, end):
        if not any(w.start <= m.start() < w.end for w in words[first:]):
            words.append(Word(m.start(), m.end(), (",",), (0,)))
    words[first:] = sorted(words[first:], key=lambda w: w.start)


def g2p(text: str) -> list[Word]:
    """OpenJTalk phones with Tokyo-style pitch (0 low, 1 high) per word; punctuation marks are words."""
    words: list[Word] = []
    start = 0
    for m in _PUNCT.finditer(text):
        _read_stretch(text, start, m.start(), words)
        words.append(Word(m.start(), m.end(), (m.group(),), (0,)))
        start = m.end()
    _read_stretch(text, start, len(text), words)
    return words
