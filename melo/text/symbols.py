"""The symbol inventory: phones, tones and languages, with ids that never move.

The list below is **append-only**. A symbol's id is its position, models learn one embedding per id,
and every checkpoint stores the table it was trained with, so inserting or reordering a symbol would
silently re-map every trained model. New phones go at the end of ``_APPENDED`` (tested against a
frozen snapshot in ``tests/data/symbols_v1.json``).

Phone naming, per language (the language embedding tells shared names apart):

* padding/blank ``_`` (id 0, the VITS blank), ``UNK`` (a phone the table does not hold), ``SP`` (pause);
* punctuation, shared: ``! ? … , . ' -``;
* KR: conjoining jamo from ``jamo.hangul_to_jamo`` -- 19 onsets U+1100-U+1112, 21 vowels U+1161-U+1175,
  all 27 orthographic codas U+11A8-U+11C2 (onset ㅇ U+110B and coda ㅇ U+11BC stay distinct); appended
  later, the seven optional coda-class symbols ``ᆨ̚ ᆫ̚ ᆮ̚ ᆯ̚ ᆷ̚ ᆸ̚ ᆼ̚`` (``data.korean_coda_classes``);
* EN: the 39 ARPAbet phonemes of the CMU dictionary, upper case, stress moved to the tone;
* ZH: pinyin initials and finals (tone moved to the tone), lower case;
* JP: OpenJTalk phones, with the moraic nasal written ``ɴ`` (OpenJTalk's ``N``, which would clash with
  EN ``N``) and devoiced vowels upper case (``A I U E O``), ``cl`` the geminate closure.

Tones are per language and offset into one table: a phone's tone id is
``TONE_OFFSETS[lang] + local_tone``. Local tones: KR 0 (one tone); EN 0 = no vowel/punctuation,
1 = unstressed, 2 = primary, 3 = secondary stress; ZH 0 = none/punctuation, 1-4 = the four tones,
5 = neutral; JP 0 = low, 1 = high pitch accent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = [
    "BLANK",
    "LANGUAGES",
    "LANGUAGE_IDS",
    "NON_SPEECH",
    "NUM_TONES",
    "PAD",
    "PUNCTUATION",
    "SP",
    "SYMBOLS",
    "SymbolTable",
    "TONE_OFFSETS",
    "UNK",
    "DEFAULT_TABLE",
    "has_speech",
    "validate_language",
]

PAD = "_"
BLANK = PAD  # the interleaved blank is the padding symbol, id 0
UNK = "UNK"
SP = "SP"
PUNCTUATION: tuple[str, ...] = ("!", "?", "…", ",", ".", "'", "-")
NON_SPEECH = frozenset({PAD, SP, *PUNCTUATION})
"""Phones that say nothing: padding, pauses and punctuation."""


def has_speech(phones) -> bool:
    """Whether ``phones`` hold anything to say (a phone that is not padding, a pause or punctuation)."""
    return any(p not in NON_SPEECH for p in phones)


KR_ONSETS = tuple(chr(c) for c in range(0x1100, 0x1113))
KR_VOWELS = tuple(chr(c) for c in range(0x1161, 0x1176))
KR_CODAS = tuple(chr(c) for c in range(0x11A8, 0x11C3))

EN_PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
)

ZH_INITIALS: tuple[str, ...] = (
    "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r",
    "z", "c", "s", "y", "w",
)
ZH_FINALS: tuple[str, ...] = (
    "a", "ai", "an", "ang", "ao", "e", "ei", "en", "eng", "er", "i", "i0", "ir", "ia", "ian",
    "iang", "iao", "ie", "in", "ing", "iong", "iu", "o", "ong", "ou", "u", "ua", "uai", "uan",
    "uang", "ui", "un", "uo", "v", "van", "ve", "vn", "ueng", "io", "ê",
)

JP_PHONES: tuple[str, ...] = (
    "a", "i", "u", "e", "o", "A", "I", "U", "E", "O", "ɴ", "cl",
    "b", "by", "ch", "d", "dy", "f", "g", "gw", "gy", "h", "hy", "j", "k", "kw", "ky", "m", "my",
    "n", "ny", "p", "py", "r", "ry", "s", "sh", "t", "ts", "ty", "v", "w", "y", "z",
)

# KR, optional (``data.korean_coda_classes``): the seven sounds a coda is neutralised to before a
# consonant or a pause (ㄱ ㄴ ㄷ ㄹ ㅁ ㅂ ㅇ), written as that coda with U+031A (unreleased); see melo.text.kr_codas
KR_CODA_CLASSES: tuple[str, ...] = tuple(chr(c) + "\u031a" for c in (0x11A8, 0x11AB, 0x11AE, 0x11AF, 0x11B7, 0x11B8, 0x11BC))

# Append new symbols here, at the end, never elsewhere.
_APPENDED: tuple[str, ...] = (
    "fy",  # JP: OpenJTalk emits it for フュ (e.g. フュージョン); missing from JP_PHONES
    *KR_CODA_CLASSES,
)


def _unique_in_order(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        for s in group:
            seen.setdefault(s, None)
    return tuple(seen)


SYMBOLS: tuple[str, ...] = _unique_in_order(
    [(PAD, UNK, SP), PUNCTUATION, KR_ONSETS, KR_VOWELS, KR_CODAS, EN_PHONES, ZH_INITIALS, ZH_FINALS, JP_PHONES, _APPENDED]
)

LANGUAGES: tuple[str, ...] = ("KR", "EN", "ZH", "JP")
LANGUAGE_IDS: dict[str, int] = {lang: i for i, lang in enumerate(LANGUAGES)}
NUM_TONES: dict[str, int] = {"KR": 1, "EN": 4, "ZH": 6, "JP": 2}
TONE_OFFSETS: dict[str, int] = {}
_offset = 0
for _lang in LANGUAGES:
    TONE_OFFSETS[_lang] = _offset
    _offset += NUM_TONES[_lang]
del _offset, _lang


def validate_language(code: str | None) -> str | None:
    """Upper-cases and checks a language code; ``None`` and ``""`` mean "detect"."""
    if code is None or code == "":
        return None
    if not isinstance(code, str) or code.upper() not in LANGUAGE_IDS:
        raise ValueError(f"unknown language code {code!r}; valid codes: {', '.join(LANGUAGES)}")
    return code.upper()


@dataclass(frozen=True)
class SymbolTable:
    """A serialisable phone/tone/language table. Models store the one they were trained with."""

    symbols: tuple[str, ...]
    languages: tuple[str, ...]
    num_tones: dict[str, int]

    def __post_init__(self) -> None:
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbol table has duplicate symbols")
        if not self.symbols or self.symbols[0] != PAD:
            raise ValueError(f"symbol 0 must be the pad/blank {PAD!r}")
        if UNK not in self.symbols:
            raise ValueError(f"symbol table must hold {UNK!r}")
        object.__setattr__(self, "_ids", {s: i for i, s in enumerate(self.symbols)})
        offsets, total = {}, 0
        for lang in self.languages:
            offsets[lang] = total
            total += self.num_tones[lang]
        object.__setattr__(self, "_tone_offsets", offsets)
        object.__setattr__(self, "_total_tones", total)

    # sizes for embedding tables
    @property
    def n_symbols(self) -> int:
        return len(self.symbols)

    @property
    def n_tones(self) -> int:
        return self._total_tones  # type: ignore[attr-defined]

    @property
    def n_languages(self) -> int:
        return len(self.languages)

    def symbol_id(self, symbol: str) -> int:
        """Id of ``symbol``; a symbol this table does not hold maps to ``UNK``."""
        return self._ids.get(symbol, self._ids[UNK])  # type: ignore[attr-defined]

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._ids  # type: ignore[attr-defined]

    def tone_id(self, language: str, local_tone: int) -> int:
        n = self.num_tones[language]
        if not 0 <= local_tone < n:
            raise ValueError(f"tone {local_tone} out of range for {language} (0..{n - 1})")
        return self._tone_offsets[language] + local_tone  # type: ignore[attr-defined]

    def language_id(self, language: str) -> int:
        try:
            return self.languages.index(language)
        except ValueError:
            raise ValueError(f"unknown language code {language!r}; valid codes: {', '.join(self.languages)}") from None

    def fingerprint(self) -> str:
        """Short hash of the table; part of every cache key that depends on symbol ids."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {"symbols": list(self.symbols), "languages": list(self.languages), "num_tones": dict(self.num_tones)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SymbolTable":
        return cls(symbols=tuple(d["symbols"]), languages=tuple(d["languages"]), num_tones=dict(d["num_tones"]))


DEFAULT_TABLE = SymbolTable(symbols=SYMBOLS, languages=LANGUAGES, num_tones=dict(NUM_TONES))
