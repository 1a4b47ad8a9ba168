"""Score the frontend on a file of sentences with expected readings (``tests/data/frontend_eval.tsv``).

Each row is ``GROUP<TAB>TAG<TAB>INPUT<TAB>EXPECTED`` (see that file's header). The input is read as the
API reads it: split into sentences, each one phonemized with the whole row as its paragraph context.
A row passes when

* EXPECTED is a text: it gives the same (phone, language) sequence as the input, punctuation left out;
* ``pinyin:SUB=SYLLABLES``: the first occurrence of the Han characters SUB in the normalised text is
  read with exactly these toned syllables (after sandhi);
* ``phones:WORD=PHONES``: the first word WORD of the normalised text is read with these phones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from melo.text.frontend import phonemize
from melo.text.split import split_sentences
from melo.text.symbols import PUNCTUATION, validate_language
from melo.text.types import Phonemes

__all__ = ["EvalFileError", "EvalResult", "EvalRow", "load_eval_rows", "pinyin_of", "read_paragraph", "syllables_of", "score_row", "score_rows", "word_phones", "word_ranges"]

logger = logging.getLogger(__name__)

_PUNCT = frozenset(PUNCTUATION)


class EvalFileError(ValueError):
    """A malformed row in an evaluation file; the message names the file and line."""


@dataclass(frozen=True)
class EvalRow:
    group: str
    tag: str | None
    text: str
    expected: str
    line: int


@dataclass(frozen=True)
class EvalResult:
    row: EvalRow
    passed: bool
    got: str
    want: str


def load_eval_rows(path: str | Path) -> list[EvalRow]:
    """Rows of an evaluation file; ``#`` lines and blank lines are skipped."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise EvalFileError(f"{path}:{number}: expected 4 tab-separated fields (GROUP TAG INPUT EXPECTED), got {len(fields)}")
        group, tag, text, expected = fields
        try:
            language = None if tag == "-" else validate_language(tag)
        except ValueError as e:
            raise EvalFileError(f"{path}:{number}: field TAG: {e}") from None
        rows.append(EvalRow(group, language, text, expected, number))
    return rows


def read_paragraph(text: str, language: str | None = None) -> list[Phonemes]:
    """``text`` as the API reads it: sentence by sentence, each with the paragraph as its context."""
    return [phonemize(sentence, language=language, context=text) for sentence in split_sentences(text)]


def _spoken(readings: list[Phonemes]) -> list[tuple[str, str]]:
    return [(p, lang) for ph in readings for p, lang in zip(ph.phones, ph.languages) if p not in _PUNCT]


def _show(pairs: list[tuple[str, str]]) -> str:
    out, last = [], None
    for phone, lang in pairs:
        if lang != last:
            out.append(f"[{lang}]")
            last = lang
        out.append(phone)
    return " ".join(out)


def word_ranges(ph: Phonemes) -> Iterator[tuple[int, int]]:
    """``[i, j)`` phone index ranges of the words of ``ph`` (phones sharing one word span)."""
    i, n = 0, len(ph.phones)
    while i < n:
        j = i
        while j < n and ph.word_spans[j] == ph.word_spans[i]:
            j += 1
        yield i, j
        i = j


def word_phones(readings: list[Phonemes], word: str) -> tuple[list[str], str] | None:
    """Phones and span text of the first word of the normalised text that spells ``word``; None if absent."""
    for ph in readings:
        for i, j in word_ranges(ph):
            a, b = ph.word_spans[i]
            if ph.normalized[a:b].lower() == word.lower():
                return list(ph.phones[i:j]), ph.normalized[a:b]
    return None


def syllables_of(readings: list[Phonemes], han: str) -> list[str] | None:
    """Toned pinyin syllables the first occurrence of ``han`` in a ZH segment is read with."""
    for ph in readings:
        start = ph.normalized.find(han)
        if start < 0:
            continue
        by_position: dict[int, str] = {}
        for i, j in word_ranges(ph):
            a, b = ph.word_spans[i]
            if ph.languages[i] == "ZH" and b > start and a < start + len(han):
                syllables = pinyin_of(list(ph.phones[i:j]), list(ph.tones[i:j]))
                if len(syllables) == b - a:  # one syllable per Han character
                    by_position.update(zip(range(a, b), syllables))
        return [by_position.get(k, "?") for k in range(start, start + len(han))]
    return None


def pinyin_of(phones: list[str], tones: list[int]) -> list[str]:
    """Chinese initials and finals (with their tones) as toned pinyin syllables: ``h en``, 2 -> ``hen2``."""
    syllables, current = [], []
    for phone, tone in zip(phones, tones):
        current.append(phone)
        if _is_final(phone):
            syllables.append(_pinyin(current) + str(tone))
            current = []
    return syllables


def _is_final(phone: str) -> bool:
    from melo.text.symbols import ZH_FINALS

    return phone in ZH_FINALS


_Y_BACK = {"ia": "a", "ie": "e", "iu": "ou", "ian": "an", "iang": "ang", "iong": "ong", "io": "o", "iao": "ao",
           "v": "u", "ve": "ue", "van": "uan", "vn": "un"}
_W_BACK = {"ua": "a", "uo": "o", "ui": "ei", "uai": "ai", "uan": "an", "un": "en", "uang": "ang", "ueng": "eng"}


def _pinyin(phones: list[str]) -> str:
    """(initial, final) phones back to written pinyin (``y ia`` -> ``ya``, ``zh ir`` -> ``zhi``)."""
    if len(phones) == 1:
        return phones[0]
    initial, final = phones[0], phones[-1]
    if initial == "y":
        final = _Y_BACK.get(final, final)
    elif initial == "w":
        final = _W_BACK.get(final, final)
    elif initial in ("j", "q", "x"):
        final = {"v": "u", "ve": "ue", "van": "uan", "vn": "un"}.get(final, final)
    if final in ("ir", "i0"):
        final = "i"
    return initial + final


def score_row(row: EvalRow) -> EvalResult:
    readings = read_paragraph(row.text, row.tag)
    kind, _, spec = row.expected.partition(":")
    if kind == "pinyin" and "=" in spec:
        han, _, want = spec.partition("=")
        got_syllables = syllables_of(readings, han)
        got = " ".join(got_syllables) if got_syllables is not None else f"({han} not in the normalised text)"
        return EvalResult(row, got == want, got, want)
    if kind == "phones" and "=" in spec:
        word, _, want = spec.partition("=")
        found = word_phones(readings, word)
        got = " ".join(found[0]) if found else f"({word} not in the normalised text)"
        return EvalResult(row, got == want, got, want)
    got_pairs = _spoken(readings)
    want_pairs = _spoken(read_paragraph(row.expected, row.tag))
    return EvalResult(row, got_pairs == want_pairs, _show(got_pairs), _show(want_pairs))


def score_rows(rows: list[EvalRow]) -> tuple[list[EvalResult], dict[str, tuple[int, int]]]:
    """Every row's result and, per group, (rows passed, rows)."""
    results = [score_row(row) for row in rows]
    groups: dict[str, tuple[int, int]] = {}
    for r in results:
        passed, total = groups.get(r.row.group, (0, 0))
        groups[r.row.group] = (passed + r.passed, total + 1)
    return results, groups
