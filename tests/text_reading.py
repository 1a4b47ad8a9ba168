"""Helpers shared by the text-frontend golden tests: a reading in a form that is easy to write down."""

from __future__ import annotations

from melo.text.evaluate import read_paragraph, syllables_of, word_phones


def segments(text: str, tag: str | None = None) -> str:
    """``"KR:약 사백 킬로미터예요"``: each segment as LANG:text, `` | `` between segments, `` / `` between
    sentences -- the text read as the API reads it (sentence by sentence, the whole as paragraph)."""
    return " / ".join(" | ".join(f"{s.language}:{s.text}" for s in ph.segments) for ph in read_paragraph(text, tag))


def pinyin(text: str, han: str, tag: str | None = None) -> str:
    """Toned pinyin (after sandhi) of the first occurrence of ``han`` in the reading of ``text``."""
    found = syllables_of(read_paragraph(text, tag), han)
    assert found is not None, f"{han!r} not in the reading of {text!r}"
    return " ".join(found)


def phones(text: str, word: str, tag: str | None = None) -> str:
    """Phones of the first word ``word`` of the reading of ``text``."""
    found = word_phones(read_paragraph(text, tag), word)
    assert found is not None, f"{word!r} not in the reading of {text!r}"
    return " ".join(found[0])
