"""MeloTTS's names for what our embedding tables hold: its symbol table, tone layout and language ids, and how
our phone names are spelt there. Facts from MeloTTS's released checkpoints (219 symbols, 16 tones, 8 languages).

MeloTTS's symbol table is the union of per-language phone sets, so one row serves every language that
spells a phone the same way (ZH and JP ``a``, ZH ``b`` and EN ``b``); the tone and language embeddings tell
them apart. Ours keeps English ARPAbet upper case and a few Japanese phones spelt differently, hence
:func:`melotts_symbol`.
"""

from __future__ import annotations

from typing import Any, Mapping

from melo.init.rows import RowNames
from melo.text import symbols as ours

__all__ = ["MELOTTS_LANGUAGE_IDS", "MELOTTS_SYMBOLS", "MELOTTS_TONES", "melotts_row_names", "melotts_symbol"]

MELOTTS_SYMBOLS: tuple[str, ...] = (
    "_", "\"", "(", ")", "*", "/", ":", "AA", "E", "EE", "En", "N", "OO", "Q", "V", "[", "\\", "]", "^", "a",
    "a:", "aa", "ae", "ah", "ai", "an", "ang", "ao", "aw", "ay", "b", "by", "c", "ch", "d", "dh", "dy", "e",
    "e:", "eh", "ei", "en", "eng", "er", "ey", "f", "g", "gy", "h", "hh", "hy", "i", "i0", "i:", "ia", "ian",
    "iang", "iao", "ie", "ih", "in", "ing", "iong", "ir", "iu", "iy", "j", "jh", "k", "ky", "l", "m", "my",
    "n", "ng", "ny", "o", "o:", "ong", "ou", "ow", "oy", "p", "py", "q", "r", "ry", "s", "sh", "t", "th", "ts",
    "ty", "u", "u:", "ua", "uai", "uan", "uang", "uh", "ui", "un", "uo", "uw", "v", "van", "ve", "vn", "w",
    "x", "y", "z", "zh", "zy", "~", "æ", "ç", "ð", "ø", "ŋ", "œ", "ɐ", "ɑ", "ɒ", "ɔ", "ɕ", "ə", "ɛ", "ɜ", "ɡ",
    "ɣ", "ɥ", "ɦ", "ɪ", "ɫ", "ɬ", "ɭ", "ɯ", "ɲ", "ɵ", "ɸ", "ɹ", "ɾ", "ʁ", "ʃ", "ʊ", "ʌ", "ʎ", "ʏ", "ʑ", "ʒ",
    "ʝ", "ʲ", "ˈ", "ˌ", "ː", "\u0303", "\u0329", "β", "θ", "ᄀ", "ᄁ", "ᄂ", "ᄃ", "ᄄ", "ᄅ", "ᄆ", "ᄇ", "ᄈ", "ᄉ",
    "ᄊ", "ᄋ", "ᄌ", "ᄍ", "ᄎ", "ᄏ", "ᄐ", "ᄑ", "ᄒ", "ᅡ", "ᅢ", "ᅣ", "ᅤ", "ᅥ", "ᅦ", "ᅧ", "ᅨ", "ᅩ", "ᅪ", "ᅫ", "ᅬ",
    "ᅭ", "ᅮ", "ᅯ", "ᅰ", "ᅱ", "ᅲ", "ᅳ", "ᅴ", "ᅵ", "ᆨ", "ᆫ", "ᆮ", "ᆯ", "ᆷ", "ᆸ", "ᆼ", "ㄸ", "!", "?", "…", ",",
    ".", "'", "-", "¿", "¡", "SP", "UNK",
)
assert len(set(MELOTTS_SYMBOLS)) == 219
MELOTTS_TONES: dict[str, tuple[int, int]] = {"ZH": (0, 6), "JP": (6, 1), "EN": (7, 4), "KR": (11, 1), "ES": (12, 1),
                                             "FR": (13, 1)}
"""Language -> (first tone id, tones). Rows 14 and 15 belong to no language of its released voices."""
MELOTTS_LANGUAGE_IDS: dict[str, int] = {"ZH": 0, "JP": 1, "EN": 2, "ZH_MIX_EN": 3, "KR": 4, "ES": 5, "FR": 6}

_JAPANESE = {"ɴ": "N", "cl": "q", "A": "a", "I": "i", "U": "u", "E": "e", "O": "o"}
"""Our Japanese spellings -> MeloTTS's: the moraic nasal, the geminate closure, and the devoiced vowels
(MeloTTS has none; they start from the voiced vowel's row)."""


def melotts_symbol(symbol: str) -> str:
    """MeloTTS's spelling of our ``symbol`` (the same, but for English ARPAbet and a few Japanese phones)."""
    if symbol in ours.EN_PHONES:
        return "V" if symbol == "V" else symbol.lower()  # MeloTTS writes EN v as "V": "v" is a ZH final
    return _JAPANESE.get(symbol, symbol) if symbol in ours.JP_PHONES else symbol


def melotts_row_names(config: Mapping[str, Any] | None) -> RowNames:
    """The row names of a MeloTTS generator; speakers from its ``config.json`` (``data.spk2id``), symbols from
    its ``symbols`` list when the file has one, else :data:`MELOTTS_SYMBOLS`."""
    config = config or {}
    symbols = config.get("symbols") or MELOTTS_SYMBOLS
    spk2id = (config.get("data") or {}).get("spk2id") or {}
    tones = {f"{lang}:{t}": first + t for lang, (first, n) in MELOTTS_TONES.items() for t in range(n)}
    return RowNames(symbols={s: i for i, s in enumerate(symbols)}, tones=tones, languages=dict(MELOTTS_LANGUAGE_IDS),
                    speakers={str(k): int(v) for k, v in spk2id.items()})

