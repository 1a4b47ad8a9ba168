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

from melo.text.entities import find_entities
from melo.text.language import Run, segment_languages
from melo.text.normalize import canonical_punctuation, clean_text
from melo.text.symbols import validate_language
from melo.text.types import Phonemes, Segment

__all__ = ["FRONTEND_VERSION", "NothingToPronounceError", "backend", "phonemize"]

FRONTEND_VERSION = 2
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


def phonemize(
    text: str, language: str | None = None, context: str | None = None, *, korean_coda_classes: bool = False
) -> Phonemes:
    """Read ``text`` (any mix of KR/EN/ZH/JP) into phones with word spans.

    ``language`` (KR, EN, ZH, JP, or None to detect) only breaks ties the script leaves open: a call's
    or a speaker's default language. ``context`` is the paragraph ``text`` was cut from (the API reads
    sentence by sentence): a kanji-only sentence is Japanese when the paragraph around it is.
    ``korean_coda_classes`` adds the coda-class symbols of :mod:`melo.text.kr_codas` (``data.korean_coda_classes``).
    Raises ``ValueError`` for an unknown code and ``NothingToPronounceError`` when no phone results.
    Characters no language reads are logged, listed in ``Phonemes.dropped`` and not voiced.
    """
    tag = validate_language(language)
    cleaned = clean_text(text)

    runs, unreadable = _segment(cleaned, tag, context)
    dropped: list[str] = [ch for _, ch in unreadable]
    if unreadable:  # blank them out (a space keeps the words around them apart) and segment again
        chars = list(cleaned)
        for i, _ in unreadable:
            chars[i] = " "
        cleaned = _WS.sub(" ", "".join(chars)).strip()
        runs, _ = _segment(cleaned, tag, context)
    builder = _Builder(korean_coda_classes)
    for run in runs:
        raw = cleaned[run.start : run.end]
        lang = run.language
        assert lang is not None
        seg_text = canonical_punctuation(backend(lang).normalize(raw.strip()))
        if not seg_text:
            builder.gap_before = builder.gap_before or raw[-1:].isspace()
            continue
        pieces = _pieces(seg_text, lang) if lang != "EN" and _LATIN.search(seg_text) else [(lang, seg_text)]
        for k, (piece_lang, piece) in enumerate(pieces):
            space_before = raw[:1].isspace() if k == 0 else piece[:1].isspace() or pieces[k - 1][1][-1:].isspace()
            builder.add(piece_lang, piece.strip(), space_before)
        builder.gap_before = raw[-1:].isspace()
    return builder.build(text, dropped)


_LATIN = re.compile("[A-Za-z]")


def _segment(cleaned: str, tag: str | None, context: str | None) -> tuple[list[Run], list[tuple[int, str]]]:
    """Language runs of ``cleaned``, with numbers-with-units and addresses kept whole and neutral."""
    spans = [(e.start, e.end) for e in find_entities(cleaned)]
    return segment_languages(cleaned, tag, context=context, neutral=spans)


def _pieces(seg_text: str, lang: str) -> list[tuple[str, str]]:
    """A normalised non-English segment whose readings kept Latin words (an address's ``naver``):
    the Latin stretches become English pieces, normalised as English."""
    runs, _ = segment_languages(seg_text, lang, han=lang if lang in ("JP", "ZH") else None)
    out: list[tuple[str, str]] = []
    for run in runs:
        piece = seg_text[run.start : run.end]
        if run.language == "EN" and lang != "EN":
            piece = canonical_punctuation(backend("EN").normalize(piece)) + (" " if piece[-1:].isspace() else "")
        out.append((run.language or lang, piece))
    return [(lang_, piece) for lang_, piece in out if piece.strip()]


class _Builder:
    """Collects the normalised pieces, their words and phones into one :class:`Phonemes`."""

    def __init__(self, korean_coda_classes: bool) -> None:
        self.korean_coda_classes = korean_coda_classes
        self.pieces: list[str] = []
        self.segments: list[Segment] = []
        self.phones: list[str] = []
        self.tones: list[int] = []
        self.languages: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.dropped: list[str] = []
        self.cursor = 0
        self.gap_before = False

    def add(self, lang: str, seg_text: str, space_before: bool) -> None:
        if not seg_text:
            return
        if self.pieces and (space_before or self.gap_before):
            self.pieces.append(" ")  # the source had a space between the two segments
            self.cursor += 1
        self.gap_before = False
        start = self.cursor
        self.pieces.append(seg_text)
        self.cursor += len(seg_text)
        mod = backend(lang)
        words = mod.g2p(seg_text, coda_classes=True) if lang == "KR" and self.korean_coda_classes else mod.g2p(seg_text)
        covered_to = 0
        uncovered: list[str] = []
        n = len(seg_text)
        phones, tones, spans = self.phones.extend, self.tones.extend, self.spans.extend
        before = len(self.phones)
        for word in words:
            if not (covered_to <= word.start < word.end <= n):
                raise RuntimeError(f"{lang} G2P returned span {word.start}:{word.end} out of order or outside {seg_text!r}")
            if word.start > covered_to:
                uncovered.append(seg_text[covered_to : word.start])
            covered_to = word.end
            phones(word.phones)
            tones(word.tones)
            spans([(start + word.start, start + word.end)] * len(word.phones))
        self.languages.extend([lang] * (len(self.phones) - before))
        uncovered.append(seg_text[covered_to:])
        self.dropped.extend(ch for ch in "".join(uncovered) if not ch.isspace())
        if self.segments and self.segments[-1].language == lang:
            prev = self.segments[-1]
            self.segments[-1] = Segment(lang, prev.start, self.cursor, "")
        else:
            self.segments.append(Segment(lang, start, self.cursor, ""))

    def build(self, text: str, dropped: list[str]) -> Phonemes:
        dropped = dropped + self.dropped
        normalized = "".join(self.pieces)
        segments = [Segment(s.language, s.start, s.end, normalized[s.start : s.end]) for s in self.segments]
        if dropped:
            logger.warning("dropped characters no language can read: %s (in %r)", " ".join(sorted(set(dropped))), _clip(text))
        if not self.phones:
            raise NothingToPronounceError(f"nothing pronounceable in {_clip(text)!r}")
        return Phonemes(
            text=text,
            normalized=normalized,
            segments=tuple(segments),
            phones=tuple(self.phones),
            tones=tuple(self.tones),
            languages=tuple(self.languages),
            word_spans=tuple(self.spans),
            dropped=tuple(dropped),
        )


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
