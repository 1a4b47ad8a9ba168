"""Language-independent text cleaning, and the punctuation every language's G2P sees.

Two steps bracket the per-language normalisers (numbers, symbols):

1. :func:`clean_text` before language detection: Unicode compatibility forms (full-width letters and
   digits, half-width katakana) folded with NFKC -- except Hangul compatibility jamo (ㄱ, ㅏ), which NFKC
   would turn into conjoining jamo -- control and format characters removed, whitespace collapsed.
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


def clean_text(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"text must be str, got {type(text).__name__}")
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if is_compat_jamo(ch):
            if run:
                out.append(unicodedata.normalize("NFKC", "".join(run)))
                run.clear()
            out.append(ch)
        else:
            run.append(ch)
    if run:
        out.append(unicodedata.normalize("NFKC", "".join(run)))
    folded = "".join(out)
    kept = []
    for ch in folded:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f" or cat == "Zs":
            kept.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn") and ch != "\u200d":
            kept.append(" ")  # control/format/private-use: never pronounceable
        elif ch == "\u200d":
            continue  # zero-width joiner (inside emoji sequences)
        else:
            kept.append(ch)
    return _WS.sub(" ", "".join(kept)).strip()


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


def canonical_punctuation(text: str) -> str:
    """Map every pause-like mark to one of ``! ? … , . ' -``; drop quotes; tidy spaces."""
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
