"""Korean coda neutralisation classes, an optional extra phone after a coda (``data.korean_coda_classes``).

The phones stay the written jamo; with the option on, a coda that is *neutralised* -- before another
consonant of its eojeol or at the eojeol's end -- is followed by one of seven class symbols, the sound
it is said as there (표준 발음법 제9-11항): ㄱ ᆨ̚ (ㄱ ㄲ ㅋ ㄳ ㄺ), ㄴ ᆫ̚ (ㄴ ㄵ ㄶ), ㄷ ᆮ̚ (ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ, and ㅎ
at the end of an eojeol), ㄹ ᆯ̚ (ㄹ ㄼ ㄽ ㄾ ㅀ), ㅁ ᆷ̚ (ㅁ ㄻ), ㅂ ᆸ̚ (ㅂ ㅍ ㅄ ㄿ), ㅇ ᆼ̚. So 옷, 옫, 옻 and 옺
share the ᆮ̚ their embeddings are trained on, while the written coda still tells liaison apart (옷이 [오시]
against 옻이 [오치]). A coda before a vowel (the next syllable starts with the silent ㅇ) is carried
over whole and gets no class, nor does ㅎ inside an eojeol (좋다 [조타], 좋아 [조아]: aspiration or
deletion, not neutralisation). The rule is the written form's: the exceptions of ㄺ and ㄼ (맑게
[말께], 밟다 [밥따]) and everything across eojeol (assimilation 국물 [궁물], tensing, aspiration 국화
[구콰], ㄴ-insertion) are left for the model to learn from data -- the class carries no information the
jamo do not, it only shares what is learnt across the codas that sound alike.

:func:`coda_statistics` measures a text sample for the default of the option (see
``benchmarks/bench_frontend_korean_codas.py``).
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from melo.text.symbols import KR_CODA_CLASSES

__all__ = ["CODA_CLASS", "CodaStatistics", "coda_statistics", "with_coda_classes"]

_K, _N, _T, _L, _M, _P, _NG = KR_CODA_CLASSES
_CLASS_OF_LETTERS = {
    _K: "ᆨᆩᆿᆪᆰ", _N: "ᆫᆬᆭ", _T: "ᆮᆺᆻᆽᆾᇀᇂ", _L: "ᆯᆲᆳᆴᆶ", _M: "ᆷᆱ", _P: "ᆸᇁᆹᆵ", _NG: "ᆼ",
}
CODA_CLASS: dict[str, str] = {coda: cls for cls, codas in _CLASS_OF_LETTERS.items() for coda in codas}
"""Written coda (U+11A8-U+11C2) -> its class symbol."""
_SILENT_ONSET = "\u110b"
_H = "\u11c2"


def _syllables(eojeol: str) -> list[str]:
    return [unicodedata.normalize("NFD", ch) for ch in eojeol]


def _neutralised(jamo: list[str], i: int) -> str | None:
    """The class of syllable ``i``'s coda when it is neutralised, else None (no coda, liaison, inner ㅎ)."""
    syllable = jamo[i]
    if len(syllable) < 3:
        return None
    coda = syllable[2]
    last = i + 1 == len(jamo)
    if not last and (jamo[i + 1][0] == _SILENT_ONSET or coda == _H):
        return None
    return CODA_CLASS[coda]


def with_coda_classes(eojeol: str) -> list[str]:
    """Jamo of a run of Hangul syllables with the class symbol after each neutralised coda."""
    jamo = _syllables(eojeol)
    out: list[str] = []
    for i, syllable in enumerate(jamo):
        out.extend(syllable)
        cls = _neutralised(jamo, i)
        if cls is not None:
            out.append(cls)
    return out


@dataclass(frozen=True)
class CodaStatistics:
    syllables: int
    phones: int  # written jamo
    codas: int
    neutralised: int  # codas that get a class symbol
    written: Counter  # written coda -> tokens, neutralised ones only
    per_class: dict[str, Counter]  # class -> written coda -> tokens

    @property
    def extra_phones(self) -> float:
        """Phones added by the option, relative to the written jamo."""
        return self.neutralised / self.phones if self.phones else 0.0

    def differing_share(self) -> float:
        """Share of neutralised codas written with a letter other than their class's own (ㅅ ㅆ ㅈ ...)."""
        same = sum(n for coda, n in self.written.items() if CODA_CLASS[coda][0] == coda)
        return 1 - same / self.neutralised if self.neutralised else 0.0

    def rare_share(self, below: float = 0.01) -> float:
        """Share of neutralised codas whose written letter makes up less than ``below`` of them."""
        total = self.neutralised
        return sum(n for n in self.written.values() if n / total < below) / total if total else 0.0


def coda_statistics(eojeols: Iterable[str]) -> CodaStatistics:
    """Counts over runs of Hangul syllables (eojeol)."""
    syllables = phones = codas = 0
    written: Counter = Counter()
    per_class: dict[str, Counter] = {cls: Counter() for cls in KR_CODA_CLASSES}
    for eojeol in eojeols:
        jamo = _syllables(eojeol)
        syllables += len(jamo)
        phones += sum(len(s) for s in jamo)
        for i, syllable in enumerate(jamo):
            if len(syllable) < 3:
                continue
            codas += 1
            cls = _neutralised(jamo, i)
            if cls is not None:
                written[syllable[2]] += 1
                per_class[cls][syllable[2]] += 1
    return CodaStatistics(syllables, phones, codas, sum(written.values()), written, per_class)
