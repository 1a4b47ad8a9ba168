"""Script-based language segmentation of cleaned text.

Every character is classed by its script:

* Hangul (syllables, conjoining and compatibility jamo) -> KR
* kana (hiragana, katakana, the prolonged-sound mark) -> JP
* Han ideographs -> JP or ZH per sentence, by :mod:`melo.text.han`: kana in the sentence, else the
  characters themselves (Japanese-only forms like 駅 県 東 against Chinese-only ones like 们 这), else the
  paragraph around the sentence (``context``), else the caller's tag, else ZH
* Latin letters (accented ones too) -> EN
* digits, spaces, punctuation and the symbols a language normaliser reads (``% & + @ $ ...``) -> neutral
* anything else (emoji, other scripts) -> unreadable: reported by the caller and dropped

Neutral stretches join the language around them. Between two different languages, a neutral stretch is
split at its last space: what comes before joins the preceding segment, what comes after joins the
following one, so ``meeting 3시`` reads ``3`` in Korean and ``忙, but`` keeps the comma with Chinese.
Apostrophes and hyphens between Latin letters stay inside the English word. A text with no letters at
all takes the caller's tag, or the main language of its paragraph (:func:`neutral_default`), or English.

The tag never forces a script onto another language: English words in a Korean-tagged sentence stay
English. It decides only what the script leaves open (Han as JP or ZH when nothing else does, and
all-neutral text, which otherwise takes the language of its paragraph: a phone number alone in a
Korean paragraph is read in Korean). Spans given as ``neutral`` (numbers with units, addresses: see
:mod:`melo.text.entities`) count as neutral whatever their letters, so ``약 400km예요`` stays Korean.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from melo.text.han import han_language

__all__ = ["Run", "char_class", "segment_languages", "DEFAULT_LANGUAGE"]

DEFAULT_LANGUAGE = "EN"

KR, JP, ZH, EN = "KR", "JP", "ZH", "EN"
_KANA = "KANA"
_HAN = "HAN"
NEUTRAL = "NEUTRAL"
UNREADABLE = "UNREADABLE"

# Symbols the per-language normalisers read (or punctuation they keep); these never decide a language.
_NEUTRAL_SYMBOLS = frozenset("%&+@$€£¥₩#*/=<>°^_|\\~·・、。「」『』〜～…‥×÷⁄−±′″")
_SENTENCE_END = re.compile(r"[.!?。！？\n]+")


_CLASS_CACHE: dict[str, str] = {}


def char_class(ch: str) -> str:
    """The script class of one character (see the module docstring)."""
    cls = _CLASS_CACHE.get(ch)
    if cls is None:
        cls = _CLASS_CACHE[ch] = _classify(ch)
    return cls


def _classify(ch: str) -> str:
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xA960 <= o <= 0xA97F or 0xD7B0 <= o <= 0xD7FF:
        return KR
    if 0x3040 <= o <= 0x309F or 0x30A0 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        if ch in "・":  # katakana middle dot is punctuation
            return NEUTRAL
        return _KANA
    if (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or ch in "々〆〇"
    ):
        return _HAN
    if ch.isspace() or ch.isdigit() or ch in _NEUTRAL_SYMBOLS:
        return NEUTRAL
    cat = unicodedata.category(ch)
    if cat.startswith("L"):
        name = unicodedata.name(ch, "")
        return EN if name.startswith("LATIN") else UNREADABLE
    if cat.startswith("P"):
        return NEUTRAL
    return UNREADABLE


_CJK_PUNCTUATION = frozenset("。，、！？：；「」『』【】《》")


@functools.lru_cache(maxsize=64)
def neutral_default(paragraph: str) -> str:
    """The language of a text with no letters (a number, a phone number, an address on its own): the
    language with the most letters in the paragraph; in a paragraph without letters, ZH when it has
    CJK punctuation (``3×4=12。``), else EN."""
    counts = {KR: 0, EN: 0, JP: 0, _HAN: 0}
    for ch in paragraph:
        cls = char_class(ch)
        if cls == _KANA:
            counts[JP] += 1
        elif cls in counts:
            counts[cls] += 1
    if counts[_HAN]:
        counts[han_language(paragraph, paragraph, None)] += counts.pop(_HAN)
    else:
        counts.pop(_HAN)
    best = max(counts, key=lambda k: counts[k])
    if counts[best]:
        return best
    return ZH if any(ch in _CJK_PUNCTUATION for ch in paragraph) else DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Run:
    """A stretch ``text[start:end]`` of one language (or unreadable characters, ``language=None``)."""

    language: str | None
    start: int
    end: int


def _han_labels(text: str, labels: list[str], tag: str | None, context: str | None, han: str | None) -> None:
    """In place: each Han label becomes JP or ZH, decided once per sentence of ``text``."""
    start = 0
    bounds = [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    paragraph = text if context is None else context
    for end in bounds:
        if end <= start:
            continue
        if _HAN in labels[start:end]:
            lang = han or han_language(text[start:end], paragraph, tag)
            for i in range(start, end):
                if labels[i] == _HAN:
                    labels[i] = lang
        start = end


def segment_languages(
    text: str,
    tag: str | None = None,
    *,
    context: str | None = None,
    neutral: Iterable[tuple[int, int]] = (),
    han: str | None = None,
) -> tuple[list[Run], list[tuple[int, str]]]:
    """Split cleaned ``text`` into language runs.

    ``context`` is the paragraph ``text`` came from (kana-less Han sentences use it; default: ``text``),
    ``neutral`` lists ``(start, end)`` spans read as neutral characters, and ``han`` (JP or ZH), when
    given, is the language of every Han character. Returns ``(runs, unreadable)``: runs cover the
    readable text in order (neutral characters assigned), and ``unreadable`` lists ``(index, char)`` of
    characters no language reads.
    """
    if not text:
        return [], []
    labels = [_CLASS_CACHE.get(ch) or char_class(ch) for ch in text]
    for a, b in neutral:
        labels[a:b] = [NEUTRAL] * (b - a)
    classes = set(labels)
    if _HAN in classes:
        _han_labels(text, labels, tag, context, han)
    if _KANA in classes:
        labels = [JP if c == _KANA else c for c in labels]
    unreadable = [(i, text[i]) for i, c in enumerate(labels) if c == UNREADABLE] if UNREADABLE in classes else []
    letters = classes - {NEUTRAL, UNREADABLE, _HAN, _KANA}
    if _HAN in classes or _KANA in classes:
        letters = set(labels) - {NEUTRAL, UNREADABLE}
    if len(letters) <= 1:  # one language (or none): the common case
        lang = next(iter(letters)) if letters else (tag or neutral_default(text if context is None else context))
        return [Run(lang, 0, len(text))], unreadable

    # Assign neutral (and unreadable, so they don't split a segment) stretches to a neighbour.
    n = len(text)
    i = 0
    while i < n:
        if labels[i] not in (NEUTRAL, UNREADABLE):
            i += 1
            continue
        j = i
        while j < n and labels[j] in (NEUTRAL, UNREADABLE):
            j += 1
        prev = labels[i - 1] if i > 0 else None
        nxt = labels[j] if j < n else None
        if prev is None and nxt is None:
            fill_before = fill_after = tag or neutral_default(text if context is None else context)
            split = j
        elif prev is None or nxt is None or prev == nxt:
            fill_before = fill_after = prev or nxt  # type: ignore[assignment]
            split = j
        else:
            fill_before, fill_after = prev, nxt
            stretch = text[i:j]
            last_space = stretch.rfind(" ")
            split = i + last_space + 1 if last_space >= 0 else j
        for k in range(i, j):
            labels[k] = fill_before if k < split else fill_after
        i = j

    runs: list[Run] = []
    start = 0
    for k in range(1, n + 1):
        if k == n or labels[k] != labels[start]:
            runs.append(Run(labels[start], start, k))
            start = k
    return runs, unreadable
