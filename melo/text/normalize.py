"""Language-independent text cleaning, and the punctuation every language's G2P sees.

Two steps bracket the per-language normalisers (numbers, symbols):

1. :func:`clean_text` before language detection: Unicode compatibility forms (full-width letters and
   digits, half-width katakana, ㎏ ℃ ½) folded with NFKC -- except Hangul compatibility jamo (ㄱ, ㅏ), which
   NFKC would turn into conjoining jamo, a vulgar fraction after a digit (``1½`` becomes ``1 1⁄2``, not
   ``11⁄2``) and superscript digits (``m²`` becomes ``m^2``, not ``m2``) -- control and format characters
   removed, whitespace collapsed.
2. :func:`canonical_punctuation` after the language's normaliser has read numbers and symbols: every
   pause-like mark becomes one of the inventory's ``! ? … , . ' -``; quotes are silent and removed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["canonical_punctuation", "clean_text", "is_compat_jamo"]

_WS = re.compile(r"\s+")


def is_compat_jamo(ch: str) -> bool:
    return "\u3130" <= ch <= "\u318f"


_COMPAT_JAMO_RUN = re.compile(r"[\u3130-\u318f]+")
# Control and format characters (zero-width joiner excepted: emoji sequences), private use, surrogates.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u200c\u200e\u200f\u202a-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff\ud800-\udfff]"
)


# Forms NFKC would fold into something ambiguous: 1½ -> "11⁄2", m² -> "m2", x² -> "x2".
_VULGAR_AFTER_DIGIT = re.compile(r"(?<=[0-9])(?=[¼½¾⅐-⅞])")
_SUPERSCRIPTS = re.compile(r"[⁰¹²³⁴-⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_BEFORE_NFKC = re.compile(r"[¼½¾⅐-⅞⁰¹²³⁴-⁹]")


def _before_nfkc(text: str) -> str:
    """``1½`` -> ``1 ½`` (a mixed number, not 11/2); superscript digits -> ``^n`` (``m²`` -> ``m^2``)."""
    text = _VULGAR_AFTER_DIGIT.sub(" ", text)
    return _SUPERSCRIPTS.sub(lambda m: "^" + m.group().translate(_SUPERSCRIPT_DIGITS), text)


def clean_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    if _BEFORE_NFKC.search(text) is not None:
        text = _before_nfkc(text)
    if _COMPAT_JAMO_RUN.search(text) is None:
        folded = unicodedata.normalize("NFKC", text)
    else:  # NFKC would turn compatibility jamo (ㄱ, ㅏ) into conjoining ones; fold around them
        parts, last = [], 0
        for m in _COMPAT_JAMO_RUN.finditer(text):
            parts.append(unicodedata.normalize("NFKC", text[last : m.start()]))
            parts.append(m.group())
            last = m.end()
        parts.append(unicodedata.normalize("NFKC", text[last:]))
        folded = "".join(parts)
    folded = _INVISIBLE.sub(" ", folded).replace("\u200d", "")
    return " ".join(folded.split())


# Applied in order. After NFKC, full-width marks are already ASCII.
_ELLIPSIS = re.compile(r"\.{2,}|…+|⋯+")
_PAUSE_TO_COMMA = re.compile(r"[:;：；、，・·‧]")
_TO_PERIOD = re.compile(r"[。｡．]")
_TO_BANG = re.compile(r"[！¡]")
_TO_QUESTION = re.compile(r"[？¿]")
_TO_DASH = re.compile(r"[~〜～—–―‐‑‒]+")
_TO_APOSTROPHE = re.compile(r"[‘’ʼ`´]")
_QUOTES = re.compile(r"[\"“”„«»「」『』‹›]")
_BRACKETS = re.compile(r"[()\[\]{}（）【】〔〕《》〈〉]")
_REPEATS = re.compile(r"([!?,.…-])\1+")
_SPACE_BEFORE = re.compile(r" +([!?,.…])")


# Text that matches none of this is already canonical (the common case): skip the passes below.
_NOT_CANONICAL = re.compile(r"[^\w\s!?…,.'-]|\.\.|([!?,.…-])\1| [!?,.…]|\s\s|^\s|\s$")


def canonical_punctuation(text: str) -> str:
    """Map every pause-like mark to one of ``! ? … , . ' -``; drop quotes; tidy spaces."""
    if _NOT_CANONICAL.search(text) is None:
        return text
    text = _ELLIPSIS.sub("…", text)
    text = _PAUSE_TO_COMMA.sub(",", text)
    text = _TO_PERIOD.sub(".", text)
    text = _TO_BANG.sub("!", text)
    text = _TO_QUESTION.sub("?", text)
    text = _TO_DASH.sub("-", text)
    text = _TO_APOSTROPHE.sub("'", text)
    text = _QUOTES.sub(" ", text)
    text = _BRACKETS.sub(",", text)
    text = _REPEATS.sub(r"\1", text)
    text = _SPACE_BEFORE.sub(r"\1", text)
    return _WS.sub(" ", text).strip()
