"""Last-resort English letter-to-sound rules for words no dictionary or decomposition can read.

A small hand-written rule set, not a trained model. It reads a lower-case ASCII word left to right,
taking the longest grapheme that matches at each position (``tch``, ``igh``, ``ch``, ``ee`` ...), with
a few context rules: soft ``c``/``g`` before ``e i y``; silent final ``e`` that lengthens the vowel
before it ("magic e": ``bake``); silent initial ``k``/``w``/``g`` in ``kn``/``wr``/``gn``; ``y`` as a
consonant before a vowel at the start, as ``IY`` at the end, otherwise ``IH``; doubled consonants read once;
``s`` between vowels is ``Z``; endings ``-le -ture -ous -cial -tial -cious -tious -tion -sion``.
Stress: primary on the first vowel, the others unstressed, with unstressed short a/o/e reduced to
``AH`` (schwa).

Measured against the CMU dictionary itself (3,000 random entries of 3+ letters, many of them names,
stress ignored): 24.6 % phone error rate, 25.5 % of words exactly right. In the frontend these rules
only see words that neither the dictionary nor known-part decomposition can read.

Measured by ``benchmarks/bench_frontend_en_zh.py``.

Limits (by design): no morphology, no syllable-weight stress rules, no open-syllable vowel lengthening
(it measured worse), and English spelling is irregular, so foreign names and unusual words will often
be read the way they are spelled rather than the way they are said. It always returns at least one
phone for a word with at least one letter a-z.
"""

from __future__ import annotations

__all__ = ["letters_to_sounds"]

_VOWEL_LETTERS = frozenset("aeiou")
_SOFTENERS = frozenset("eiy")

# Longest first within each table; phones carry a CMU stress digit on vowels ("1" is replaced later).
_MULTI: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cious", ("SH", "AH1", "S")), ("tious", ("SH", "AH1", "S")), ("cial", ("SH", "AH1", "L")),
    ("tial", ("SH", "AH1", "L")), ("ture", ("CH", "ER1")), ("ous", ("AH1", "S")),
    ("tch", ("CH",)), ("igh", ("AY1",)), ("sch", ("S", "K")), ("tion", ("SH", "AH1", "N")),
    ("sion", ("ZH", "AH1", "N")), ("ough", ("AO1",)), ("augh", ("AO1",)), ("eigh", ("EY1",)),
    ("ch", ("CH",)), ("sh", ("SH",)), ("th", ("TH",)), ("ph", ("F",)), ("wh", ("W",)), ("ck", ("K",)),
    ("ng", ("NG",)), ("qu", ("K", "W")), ("dg", ("JH",)),
    ("ee", ("IY1",)), ("ea", ("IY1",)), ("oo", ("UW1",)), ("ou", ("AW1",)), ("oi", ("OY1",)),
    ("oy", ("OY1",)), ("ai", ("EY1",)), ("ay", ("EY1",)), ("au", ("AO1",)), ("aw", ("AO1",)),
    ("ei", ("EY1",)), ("ey", ("EY1",)), ("ie", ("IY1",)), ("oa", ("OW1",)), ("ue", ("UW1",)),
    ("ew", ("UW1",)), ("ow", ("OW1",)),
    ("ar", ("AA1", "R")), ("er", ("ER1",)), ("ir", ("ER1",)), ("ur", ("ER1",)), ("or", ("AO1", "R")),
)
_SHORT = {"a": "AE1", "e": "EH1", "i": "IH1", "o": "AA1", "u": "AH1"}
_LONG = {"a": "EY1", "e": "IY1", "i": "AY1", "o": "OW1", "u": "UW1"}
_CONSONANTS = {
    "b": ("B",), "d": ("D",), "f": ("F",), "h": ("HH",), "j": ("JH",), "k": ("K",), "l": ("L",),
    "m": ("M",), "n": ("N",), "p": ("P",), "r": ("R",), "s": ("S",), "t": ("T",), "v": ("V",),
    "w": ("W",), "x": ("K", "S"), "z": ("Z",), "q": ("K",),
}
_LETTER_FALLBACK = {"a": "AH1", "e": "IY1", "i": "AY1", "o": "OW1", "u": "UW1", "y": "W AY1"}


def _is_vowel(word: str, i: int) -> bool:
    return 0 <= i < len(word) and (word[i] in _VOWEL_LETTERS or (word[i] == "y" and i > 0))


def _magic_e(word: str, i: int) -> bool:
    """True when vowel ``word[i]`` is followed by one consonant and a final silent ``e`` (bake, note)."""
    n = len(word)
    return (
        i + 2 == n - 1
        and word[-1] == "e"
        and word[i + 1] not in _VOWEL_LETTERS
        and word[i + 1] not in "wxy"
        and any(_is_vowel(word, j) for j in range(i + 1))  # the e is not the only vowel
    )


def letters_to_sounds(word: str) -> list[str]:
    """ARPAbet phones with CMU stress digits (e.g. ``["B", "L", "AO1", "R", "P"]``) for a Latin word.

    ``word`` may contain any letters; anything outside ``a``-``z`` (after lower-casing) is skipped, and a
    word with no such letter gives ``[]``.
    """
    w = "".join(c for c in word.lower() if "a" <= c <= "z")
    if not w:
        return []
    phones: list[str] = []
    i, n = 0, len(w)
    if n >= 2 and w[:2] in ("kn", "wr", "gn", "pn", "ps"):
        i = 1  # silent first letter
    while i < n:
        c = w[i]
        if c == "e" and i == n - 1 and any(_is_vowel(w, j) for j in range(n - 1)):
            break  # silent final e
        if i == n - 2 and w.endswith("le") and i > 0 and w[i - 1] not in _VOWEL_LETTERS:
            phones.extend(("AH1", "L"))  # table, little
            break
        if c == "s" and 0 < i < n - 1 and _is_vowel(w, i - 1) and _is_vowel(w, i + 1):
            phones.append("Z")  # s between vowels: rose, music
            i += 1
            continue
        if c == "g" and i + 1 < n and w[i + 1] == "h":
            if i == 0:
                phones.append("G")
            i += 2  # gh: silent except word-initially (ghost)
            continue
        for graph, sounds in _MULTI:
            if w.startswith(graph, i):
                phones.extend(sounds)
                i += len(graph)
                break
        else:
            if c in _SHORT:
                phones.append(_LONG[c] if _magic_e(w, i) else _SHORT[c])
            elif c == "y":
                if i == 0 and _is_vowel(w, 1):
                    phones.append("Y")
                elif i == n - 1:
                    phones.append("AY1" if not any(_is_vowel(w, j) for j in range(i)) else "IY1")
                else:
                    phones.append("IH1")
            elif c == "c":
                phones.append("S" if i + 1 < n and w[i + 1] in _SOFTENERS else "K")
            elif c == "g":
                phones.append("JH" if i + 1 < n and w[i + 1] in _SOFTENERS and i > 0 else "G")
            elif c == "x" and i == 0:
                phones.append("Z")
            else:
                phones.extend(_CONSONANTS[c])
            # a doubled consonant is read once (ll, ss, tt)
            if c not in _SHORT and c != "y" and i + 1 < n and w[i + 1] == c:
                i += 1
            i += 1
    if not any(p[-1].isdigit() for p in phones):
        # no vowel sound at all (e.g. "hmm", "brr"): give the consonants a schwa so it is pronounceable
        phones = phones[:1] + ["AH1"] + phones[1:] if phones else _LETTER_FALLBACK.get(w[:1], "AH1").split()
    return _stress_first(phones)


_REDUCED = {"AE": "AH", "AA": "AH", "EH": "AH"}


def _stress_first(phones: list[str]) -> list[str]:
    """Primary stress on the first vowel; the rest unstressed, short a/o/e reduced to schwa."""
    out, seen_vowel = [], False
    for p in phones:
        if p[-1].isdigit():
            base = p[:-1]
            p = _REDUCED.get(base, base) + "0" if seen_vowel else base + "1"
            seen_vowel = True
        out.append(p)
    return out
