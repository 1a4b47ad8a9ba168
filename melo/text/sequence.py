"""Phonemes -> integer id sequences, with VITS blank interleaving. The one place that interleaves blanks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from melo.text.symbols import DEFAULT_TABLE, SymbolTable
from melo.text.types import Phonemes

__all__ = ["PhoneSequence", "intersperse", "to_sequence"]


@dataclass(frozen=True)
class PhoneSequence:
    """Model inputs for one utterance, all of length ``n`` (``2 * len(phonemes) + 1`` with blanks).

    ``phone_index[k]`` is the index into ``Phonemes.phones`` of position ``k``, or -1 for a blank.
    """

    phone_ids: np.ndarray  # (n,) int64
    tone_ids: np.ndarray  # (n,) int64
    language_ids: np.ndarray  # (n,) int64
    phone_index: np.ndarray  # (n,) int64, -1 at blanks

    def __len__(self) -> int:
        return int(self.phone_ids.shape[0])


def intersperse(values: np.ndarray, item: int) -> np.ndarray:
    """``[a, b, c] -> [item, a, item, b, item, c, item]``."""
    out = np.full(2 * len(values) + 1, item, dtype=values.dtype)
    out[1::2] = values
    return out


def to_sequence(phonemes: Phonemes, table: SymbolTable = DEFAULT_TABLE, add_blank: bool = True) -> PhoneSequence:
    phone_ids = np.fromiter((table.symbol_id(p) for p in phonemes.phones), dtype=np.int64, count=len(phonemes))
    tone_ids = np.fromiter(
        (table.tone_id(lang, t) for lang, t in zip(phonemes.languages, phonemes.tones)), dtype=np.int64, count=len(phonemes)
    )
    lang_ids = np.fromiter((table.language_id(lang) for lang in phonemes.languages), dtype=np.int64, count=len(phonemes))
    index = np.arange(len(phonemes), dtype=np.int64)
    if add_blank:
        phone_ids = intersperse(phone_ids, 0)
        tone_ids = intersperse(tone_ids, 0)
        lang_ids = intersperse(lang_ids, 0)
        index = intersperse(index, -1)
    return PhoneSequence(phone_ids=phone_ids, tone_ids=tone_ids, language_ids=lang_ids, phone_index=index)
