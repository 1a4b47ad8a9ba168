"""Readings of a file of sentences, for review (``python -m melo.text --check FILE``).

Each line is read as the API reads it (split into sentences, each with the line as its paragraph) and
printed as one block: the input, the normalised text of each language segment, and the phones of each
word -- Korean jamo, English ARPAbet with stress digits, Chinese pinyin syllables with their tones after
sandhi, Japanese phones with the high-pitch morae in upper case -- words separated by `` · ``.
"""

from __future__ import annotations

from collections.abc import Iterator

from melo.text.evaluate import pinyin_of, read_paragraph, word_ranges
from melo.text.frontend import NothingToPronounceError
from melo.text.types import Phonemes

__all__ = ["check_lines", "format_reading"]


def _words(ph: Phonemes) -> Iterator[tuple[str, list[str], list[int]]]:
    """(language, phones, tones) per word of ``ph``."""
    for i, j in word_ranges(ph):
        yield ph.languages[i], list(ph.phones[i:j]), list(ph.tones[i:j])


def _show_word(language: str, phones: list[str], tones: list[int]) -> str:
    if len(phones) == 1 and not phones[0][0].isalnum() and len(phones[0]) == 1:
        return phones[0]  # a punctuation mark
    if language == "KR":
        return "".join(phones)
    if language == "EN":
        return " ".join(p + ("", "0", "1", "2")[t] for p, t in zip(phones, tones))
    if language == "ZH":
        return " ".join(pinyin_of(phones, tones))
    return "".join(p.upper() if t else p for p, t in zip(phones, tones))  # JP: high pitch in upper case


def format_reading(text: str, language: str | None = None) -> str:
    """The block ``--check`` prints for one line."""
    try:
        readings = read_paragraph(text, language)
    except NothingToPronounceError:
        return f"{text}\n  (nothing to read)"
    out = [text]
    for ph in readings:
        for seg in ph.segments:
            out.append(f"  {seg.language}: {seg.text}")
        out.append("  phones: " + " · ".join(_show_word(lang, p, t) for lang, p, t in _words(ph)))
        if ph.dropped:
            out.append("  dropped: " + " ".join(ph.dropped))
    return "\n".join(out)


def check_lines(lines: list[str], language: str | None = None) -> Iterator[str]:
    """One block per non-empty line (``#`` lines are comments); a tab-separated evaluation row is read
    by its INPUT field."""
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        yield format_reading(fields[2] if len(fields) == 4 else line.strip(), language)
