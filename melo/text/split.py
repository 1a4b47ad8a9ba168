"""Split long text into sentences for synthesis (quality drops on very long inputs, and streaming
starts sooner sentence by sentence).

Rules, per script: CJK sentence marks (``。！？``) end a sentence wherever they stand; Latin/Hangul
``. ! ?`` (and ``…``) end one only when followed by whitespace or the end, and not after a number
(``3.14``) or a common abbreviation (``Mr.``, ``e.g.``), nor after ``a.m.``/``p.m.`` when a lower-case
word follows (``at 7 a.m. tomorrow``). A sentence longer than ``max_chars`` is cut
further at commas or other pauses, then at spaces, so no piece is unboundedly long.
"""

from __future__ import annotations

import re

__all__ = ["split_sentences"]

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft ave blvd rd vs etc e.g i.e fig no vol approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_CJK_END = "。！？!?"
_END = ".!?…"
_CLOSERS = "\"'”’」』)]）】"
_PAUSES = re.compile(r"[,，、;；:：]\s*")


def _is_abbreviation(text: str, dot: int) -> bool:
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.isascii())


def _is_time_of_day(text: str, dot: int) -> bool:
    return text[max(0, dot - 3) : dot + 1].lower() in ("a.m.", "p.m.")


def _sentence_ends(text: str) -> list[int]:
    ends = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch in _END or ch in _CJK_END:
            j = i + 1
            while j < n and (text[j] in _END or text[j] in _CJK_END):
                j += 1
            while j < n and text[j] in _CLOSERS:
                j += 1
            cjk = ch in "。！？"
            followed_by_space = j >= n or text[j].isspace()
            next_is_cjk = j < n and ord(text[j]) >= 0x2E80
            if ch == "." and i > 0 and text[i - 1].isdigit() and j < n and text[j].isdigit():
                i = j
                continue
            if ch == "." and _is_abbreviation(text, i) and j < n:
                i = j
                continue
            if ch == "." and _is_time_of_day(text, i) and j + 1 < n and text[j].isspace() and text[j + 1].islower():
                i = j  # "at 7 a.m. tomorrow": the sentence goes on
                continue
            if cjk or followed_by_space or (ch in "!?" and next_is_cjk):
                ends.append(j)
            i = j
        else:
            i += 1
    return ends


def _cut_long(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for part in _split_keep(sentence, _PAUSES):
        if current and len(current) + len(part) > max_chars:
            pieces.append(current.strip())
            current = ""
        current += part
    if current.strip():
        pieces.append(current.strip())
    out: list[str] = []
    for piece in pieces:
        while len(piece) > max_chars:
            cut = piece.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 3 else max_chars
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if piece:
            out.append(piece)
    return out


def _split_keep(text: str, pattern: re.Pattern[str]) -> list[str]:
    parts, last = [], 0
    for m in pattern.finditer(text):
        parts.append(text[last : m.end()])
        last = m.end()
    if last < len(text):
        parts.append(text[last:])
    return parts


def split_sentences(text: str, max_chars: int = 200) -> list[str]:
    """Sentences of ``text`` in order, stripped, none empty, none longer than ``max_chars``."""
    text = " ".join(text.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for end in _sentence_ends(text) + [len(text)]:
        piece = text[start:end].strip()
        if piece:
            sentences.extend(_cut_long(piece, max_chars))
        start = end
    return sentences
