"""A :class:`~melo.text.types.Phonemes` as the JSON the phoneme cache holds, and back."""

from __future__ import annotations

from typing import Any

__all__ = ["phonemes_from_dict", "phonemes_to_dict"]


def phonemes_to_dict(p: Any) -> dict[str, Any]:
    return {
        "text": p.text,
        "normalized": p.normalized,
        "segments": [[s.language, s.start, s.end, s.text] for s in p.segments],
        "phones": list(p.phones),
        "tones": list(p.tones),
        "languages": list(p.languages),
        "word_spans": [list(s) for s in p.word_spans],
        "dropped": list(p.dropped),
    }


def phonemes_from_dict(d: dict[str, Any]) -> Any:
    from melo.text.types import Phonemes, Segment

    return Phonemes(
        text=d["text"],
        normalized=d["normalized"],
        segments=tuple(Segment(language=s[0], start=s[1], end=s[2], text=s[3]) for s in d["segments"]),
        phones=tuple(d["phones"]),
        tones=tuple(d["tones"]),
        languages=tuple(d["languages"]),
        word_spans=tuple(tuple(s) for s in d["word_spans"]),  # type: ignore[misc]
        dropped=tuple(d["dropped"]),
    )
