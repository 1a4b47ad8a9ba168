"""Values the text frontend produces. Pure data: no I/O, no language backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Phonemes", "Segment", "Word"]


@dataclass(frozen=True)
class Word:
    """One word (or punctuation mark) as a language's G2P reads it.

    ``start``/``end`` are character offsets into the text the G2P was given (its normalised segment);
    ``tones`` are the language's local tones (see ``melo.text.symbols``), one per phone.
    """

    start: int
    end: int
    phones: tuple[str, ...]
    tones: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.phones) != len(self.tones):
            raise ValueError(f"word {self.start}:{self.end}: {len(self.phones)} phones but {len(self.tones)} tones")
        if not 0 <= self.start < self.end:
            raise ValueError(f"word span {self.start}:{self.end} is empty or negative")


@dataclass(frozen=True)
class Segment:
    """A stretch of the normalised text read in one language; ``normalized[start:end] == text``."""

    language: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Phonemes:
    """Everything the frontend knows about one utterance.

    ``phones``, ``tones`` (local to each phone's language), ``languages`` and ``word_spans`` have one
    entry per phone. ``word_spans[i]`` is the ``(start, end)`` character span, in ``normalized``, of the
    word phone ``i`` came from; the bge-m3 features are aligned to phones through these spans.
    ``dropped`` lists the characters no language could read (reported, never voiced).
    """

    text: str
    normalized: str
    segments: tuple[Segment, ...]
    phones: tuple[str, ...]
    tones: tuple[int, ...]
    languages: tuple[str, ...]
    word_spans: tuple[tuple[int, int], ...]
    dropped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.phones)
        if not (len(self.tones) == len(self.languages) == len(self.word_spans) == n):
            raise ValueError(
                f"phones/tones/languages/word_spans lengths differ: "
                f"{n}/{len(self.tones)}/{len(self.languages)}/{len(self.word_spans)}"
            )

    def __len__(self) -> int:
        return len(self.phones)

    def to_json_dict(self) -> dict[str, Any]:
        from melo.text.symbols import DEFAULT_TABLE

        return {
            "text": self.text,
            "normalized": self.normalized,
            "segments": [
                {"language": s.language, "text": s.text, "start": s.start, "end": s.end} for s in self.segments
            ],
            "phones": list(self.phones),
            "tones": list(self.tones),
            "tone_ids": [DEFAULT_TABLE.tone_id(lang, t) for lang, t in zip(self.languages, self.tones)],
            "languages": list(self.languages),
            "word_spans": [list(s) for s in self.word_spans],
            "dropped": list(self.dropped),
        }
