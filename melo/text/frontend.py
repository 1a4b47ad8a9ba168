"""Text -> Phonemes: clean, segment by language, normalise and G2P each segment, join.

Language backends live in ``melo.text.korean``, ``english``, ``chinese`` and ``japanese``; each offers
``normalize(text) -> str`` and ``g2p(text) -> list[Word]`` and is imported on first use of its language,
so an English-only process never imports pyopenjtalk or jieba.
"""

from __future__ import annotations

import importlib
import logging
import re
from types import ModuleType

from melo.text.language import segment_languages
from melo.text.normalize import canonical_punctuation, clean_text
from melo.text.symbols import validate_language
from melo.text.types import Phonemes, Segment

__all__ = ["FRONTEND_VERSION", "NothingToPronounceError", "backend", "phonemize"]

FRONTEND_VERSION = 1
"""Bump whenever a change to normalisation or any G2P changes what a text reads as: preprocessing caches
of phonemes (and the features built on them) are keyed by it."""

logger = logging.getLogger(__name__)

_BACKEND_MODULES = {"KR": "melo.text.korean", "EN": "melo.text.english", "ZH": "melo.text.chinese", "JP": "melo.text.japanese"}
_WS = re.compile(r" +")


class NothingToPronounceError(ValueError):
    """The text holds nothing any language can read."""


_LOADED: dict[str, ModuleType] = {}


def backend(language: str) -> ModuleType:
    """The G2P module of ``language``, imported on first use."""
    mod = _LOADED.get(language)
    if mod is None:
        lang = validate_language(language)
        assert lang is not None
        mod = _LOADED[lang] = importlib.import_module(_BACKEND_MODULES[lang])
    return mod


def phonemize(text: str, language: str | None = None) -> Phonemes:
    """Read ``text`` (any mix of KR/EN/ZH/JP) into phones with word spans.

    ``language`` (KR, EN, ZH, JP, or None to detect) only breaks ties the script leaves open. Raises
    ``ValueError`` for an unknown code and ``NothingToPronounceError`` when no phone results.
    Characters no language reads are logged, listed in ``Phonemes.dropped`` and not voiced.
    """
    tag = validate_language(language)
    cleaned = clean_text(text)

    runs, unreadable = segment_languages(cleaned, tag)
    dropped: list[str] = [ch for _, ch in unreadable]
    if unreadable:  # blank them out (a space keeps the words around them apart) and segment again
        chars = list(cleaned)
        for i, _ in unreadable:
            chars[i] = " "
        cleaned = _WS.sub(" ", "".join(chars)).strip()
        runs, _ = segment_languages(cleaned, tag)
    pieces: list[str] = []
    segments: list[Segment] = []
    phones: list[str] = []
    tones: list[int] = []
    languages: list[str] = []
    spans: list[tuple[int, int]] = []
    cursor = 0
    gap_before = False
    for run in runs:
        raw = cleaned[run.start : run.end]
        lang = run.language
        assert lang is not None
        mod = backend(lang)
        seg_text = canonical_punctuation(mod.normalize(raw.strip()))
        if not seg_text:
            gap_before = gap_before or raw[-1:].isspace()
            continue
        if pieces and (raw[:1].isspace() or gap_before):
            pieces.append(" ")  # the source had a space between the two segments
            cursor += 1
        gap_before = raw[-1:].isspace()
        start = cursor
        pieces.append(seg_text)
        cursor += len(seg_text)
        covered_to = 0
        uncovered: list[str] = []
        for word in mod.g2p(seg_text):
            if not (covered_to <= word.start < word.end <= len(seg_text)):
                raise RuntimeError(f"{lang} G2P returned span {word.start}:{word.end} out of order or outside {seg_text!r}")
            if word.start > covered_to:
                uncovered.append(seg_text[covered_to : word.start])
            covered_to = word.end
            k = len(word.phones)
            phones.extend(word.phones)
            tones.extend(word.tones)
            languages.extend([lang] * k)
            spans.extend([(start + word.start, start + word.end)] * k)
        uncovered.append(seg_text[covered_to:])
        dropped.extend(ch for ch in "".join(uncovered) if not ch.isspace())
        if segments and segments[-1].language == lang:
            prev = segments[-1]
            segments[-1] = Segment(lang, prev.start, cursor, "")
        else:
            segments.append(Segment(lang, start, cursor, ""))

    normalized = "".join(pieces)
    segments = [Segment(s.language, s.start, s.end, normalized[s.start : s.end]) for s in segments]
    if dropped:
        logger.warning("dropped characters no language can read: %s (in %r)", " ".join(sorted(set(dropped))), _clip(text))
    if not phones:
        raise NothingToPronounceError(f"nothing pronounceable in {_clip(text)!r}")
    return Phonemes(
        text=text,
        normalized=normalized,
        segments=tuple(segments),
        phones=tuple(phones),
        tones=tuple(tones),
        languages=tuple(languages),
        word_spans=tuple(spans),
        dropped=tuple(dropped),
    )


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
