"""Golden and invariant tests for the English backend (melo.text.english)."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from melo.text import english
from melo.text.en_lts import letters_to_sounds
from melo.text.en_numbers import cardinal, expand_numbers, ordinal, year
from melo.text.normalize import canonical_punctuation, clean_text
from melo.text.symbols import EN_PHONES, SYMBOLS


def _frontend(text: str) -> tuple[str, list]:
    normalized = canonical_punctuation(english.normalize(clean_text(text)))
    return normalized, english.g2p(normalized)


def _cmu(pron: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """"HH AH0 L OW1" -> phones and local tones (stress 0/1/2 -> tone 1/2/3, consonants 0)."""
    phones, tones = [], []
    for p in pron.split():
        if p[-1].isdigit():
            phones.append(p[:-1])
            tones.append(int(p[-1]) + 1)
        else:
            phones.append(p)
            tones.append(0)
    return tuple(phones), tuple(tones)


def _words(text: str) -> list[tuple[str, tuple[str, ...], tuple[int, ...]]]:
    normalized, words = _frontend(text)
    return [(normalized[w.start : w.end], w.phones, w.tones) for w in words]


def _expect(*pairs: tuple[str, str]) -> list[tuple[str, tuple[str, ...], tuple[int, ...]]]:
    return [(surface, *_cmu(pron)) for surface, pron in pairs]


# --- golden readings ----------------------------------------------------------------------------------
def test_dictionary_words_and_punctuation() -> None:
    assert _words("Hello, world! I don't like e-mail.") == _expect(
        ("Hello", "HH AH0 L OW1"), (",", ","), ("world", "W ER1 L D"), ("!", "!"), ("I", "AY1"),
        ("don't", "D OW1 N T"), ("like", "L AY1 K"), ("e-mail", "IY1 M EY2 L"), (".", "."),
    )


def test_heteronyms_use_the_more_frequent_reading() -> None:
    assert _words("read live") == _expect(("read", "R IY1 D"), ("live", "L IH1 V"))


def test_each_punctuation_mark_is_its_own_word() -> None:
    assert _words("Wait... what?!") == _expect(
        ("Wait", "W EY1 T"), ("…", "…"), ("what", "W AH1 T"), ("?", "?"), ("!", "!"),
    )


def test_acronyms_are_spelled_with_letter_names() -> None:
    assert _words("TTS on a GPU with AI") == _expect(
        ("TTS", "T IY2 T IY2 EH1 S"), ("on", "AA1 N"), ("a", "AH0"), ("GPU", "JH IY2 P IY2 Y UW1"),
        ("with", "W IH1 DH"), ("AI", "EY2 AY1"),
    )


def test_lone_short_caps_segment_is_spelled() -> None:
    # e.g. the EN segment of "我喜欢AI技术": one caps word is not shouting
    assert _words("AI") == _expect(("AI", "EY2 AY1"))


def test_long_caps_word_in_dictionary_is_read_unknown_one_spelled() -> None:
    assert _words("NASA HTTPS GPUs") == _expect(
        ("NASA", "N AE1 S AH0"), ("HTTPS", "EY2 CH T IY2 T IY2 P IY2 EH1 S"), ("GPUs", "JH IY2 P IY2 Y UW1 Z"),
    )


def test_shouted_text_reads_short_caps_words_as_words() -> None:
    assert _words("STOP IT NOW") == _expect(("STOP", "S T AA1 P"), ("IT", "IH1 T"), ("NOW", "N AW1"))


def test_accented_letters_fold_to_ascii() -> None:
    assert _words("café naïve") == _expect(("cafe", "K AH0 F EY1"), ("naive", "N AY2 IY1 V"))


def test_oov_decomposition_prefix_stem_suffix() -> None:
    assert "rebooting" not in english.lexicon()
    assert _words("rebooting") == _expect(("rebooting", "R IY0 B UW1 T IH0 NG"))


def test_oov_decomposition_compound_demotes_second_stress() -> None:
    assert "smartwatch" not in english.lexicon()
    assert _words("smartwatch") == _expect(("smartwatch", "S M AA1 R T W AA2 CH"))


def test_oov_suffix_sounds_follow_the_stem() -> None:
    # blorp is unknown: the letter rules read it, then the plural/past suffix agrees with its last phone
    assert _words("blorp blorps blorped") == _expect(
        ("blorp", "B L AO1 R P"), ("blorps", "B L AO1 R P S"), ("blorped", "B L AO1 R P T"),
    )


def test_letter_to_sound_rules() -> None:
    assert letters_to_sounds("zorbing") == ["Z", "AO1", "R", "B", "IH0", "NG"]
    assert letters_to_sounds("flake") == ["F", "L", "EY1", "K"]  # magic e
    assert letters_to_sounds("knish") == ["N", "IH1", "SH"]  # silent initial k
    assert letters_to_sounds("cigar") == ["S", "IH1", "G", "AH0", "R"]  # soft c, hard g, reduced vowel
    assert letters_to_sounds("brittle") == ["B", "R", "IH1", "T", "AH0", "L"]  # -le
    assert letters_to_sounds("zapture") == ["Z", "AE1", "P", "CH", "ER0"]  # -ture
    assert letters_to_sounds("blosa") == ["B", "L", "AA1", "Z", "AH0"]  # s between vowels
    assert letters_to_sounds("brr") == ["B", "AH1", "R"]  # no vowel letter: schwa inserted


def test_letter_rules_emit_only_inventory_phones() -> None:
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(2000):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
        phones = letters_to_sounds(word)
        assert phones and {p.rstrip("012") for p in phones} <= set(EN_PHONES), word
        assert sum(p[-1] == "1" for p in phones) == 1, word  # exactly one primary stress


def test_letters_without_ascii_folding_are_not_covered() -> None:
    text = "ƒƒ hello"
    assert [text[w.start : w.end] for w in english.g2p(text)] == ["hello"]


def test_camel_case_is_split() -> None:
    assert "facetime" not in english.lexicon()
    assert _words("FaceTime") == _expect(("FaceTime", "F EY1 S T AY1 M"))


def test_hyphenated_compound_is_one_word() -> None:
    assert _words("well-known") == _expect(("well-known", "W EH1 L N OW1 N"))


# --- numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It costs $5.50.", "It costs five dollars fifty cents."),
        ("$1.01", "one dollar one cent"),
        ("$0.99", "ninety-nine cents"),
        ("€3 and £1.50", "three euros and one pound fifty pence"),
        ("¥500 or ₩1000", "five hundred yen or one thousand won"),
        ("$2.5 million", "two point five million dollars"),
        ("-$5", "minus five dollars"),
        ("pi is 3.14", "pi is three point one four"),
        ("-5 degrees", "minus five degrees"),
        ("50% and -2.5%", "fifty percent and minus two point five percent"),
        ("1,000,000 people", "one million people"),
        ("007", "zero zero seven"),
        ("1st 2nd 3rd 23rd 11th 12th 101st", "first second third twenty-third eleventh twelfth one hundred first"),
        ("In 1999, 2024 and 2005.", "In nineteen ninety-nine, twenty twenty-four and two thousand five."),
        ("1900 and 2000", "nineteen hundred and two thousand"),
        ("2,024", "two thousand twenty-four"),
        ("the 1990s", "the nineteen nineties"),
        ("At 3:30, 3:05 or 3:00", "At three thirty, three oh five or three o'clock"),
        ("7:15 pm", "seven fifteen P M"),
        ("A & B + C @ home", "A and B plus C at home"),
        ("#1 and No. 2", "number one and number two"),
        ("Dr. Smith", "Doctor Smith"),
        ("the U.S. and the U.K.", "the US and the UK."),
        ("25°C", "twenty-five degrees Celsius"),
        ("Q3 and 3D", "Q three and three D"),
        ("5km at 60mph", "five kilometers at sixty miles per hour"),
        ("Call 555-1234", "Call five five five, one two three four"),
        ("1990-2000", "nineteen ninety to two thousand"),
        ("2024-03-01", "March first, twenty twenty-four"),
        ("1/2/1990 or 25/12/2023", "January second, nineteen ninety or December twenty-fifth, twenty twenty-three"),
        ("1/2 3/4 2/3 24/7", "one half three quarters two thirds twenty-four seven"),
        ("9 a.m.", "nine A M."),
    ],
)
def test_normalize_numbers_and_symbols(text: str, expected: str) -> None:
    assert english.normalize(text) == expected


def test_normalize_keeps_segment_edge_spaces() -> None:
    assert english.normalize(" 2 cats ") == " two cats "
    assert english.normalize("a  &  b") == "a and b"
    assert english.normalize(" ") == ""


def test_number_helpers() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(115) == "one hundred fifteen"
    assert cardinal(2_000_301) == "two million three hundred one"
    assert cardinal(-40) == "minus forty"
    assert ordinal(20) == "twentieth"
    assert ordinal(1000) == "one thousandth"
    assert year(1905) == "nineteen oh five"
    assert year(2010) == "twenty ten"
    assert expand_numbers("no digits here") == "no digits here"


def test_numbers_reach_phones() -> None:
    assert _words("2nd") == _expect(("second", "S EH1 K AH0 N D"))
    assert _words("$1") == _expect(("one", "W AH1 N"), ("dollar", "D AA1 L ER0"))


# --- invariants and bad input -------------------------------------------------------------------------
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Dr. Jones paid $1,234.56 for 3 GPUs on 2024-03-01 at 10:45 pm!",
    "Who's afraid of the big, bad wolf? Not me...",
    "It's a state-of-the-art TTS system; it speaks 4 languages.",
    "Zyxwvut qwrtp shmorgle flibbertigibbets.",
    "I live at 221B Baker St. since the 1990s, about 50% of the time.",
    "Naïve café owners visit Zürich and São Paulo.",
    "e.g. the iPhone's camera, i.e. a CMOS sensor - wow!",
    "HELLO WORLD THIS IS LOUD",
    "-3.5 + 2 = -1.5 & 100% sure",
    "'Quoted' words and rock'n'roll.",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_invariants(sentence: str) -> None:
    normalized, words = _frontend(sentence)
    assert words, sentence
    previous_end = 0
    for w in words:
        assert all(p in SYMBOLS for p in w.phones), (sentence, w)
        assert all(p in EN_PHONES or p in "!?…,.'-" for p in w.phones), (sentence, w)
        assert len(w.phones) == len(w.tones) > 0
        assert all(t in (0, 1, 2, 3) for t in w.tones)
        assert previous_end <= w.start < w.end <= len(normalized)
        surface = normalized[w.start : w.end]
        assert surface == surface.strip() and surface
        previous_end = w.end
    # every letter of the normalised text is covered by a word
    covered = {i for w in words for i in range(w.start, w.end)}
    assert all(i in covered for i, c in enumerate(normalized) if c.isalpha()), normalized


def test_every_lexicon_phone_is_in_the_inventory() -> None:
    phones = {p.rstrip("012") for pron in english.lexicon().values() for p in pron.split()}
    assert phones <= set(EN_PHONES)


def test_empty_input() -> None:
    assert english.g2p("") == []
    assert english.normalize("") == ""


def test_emoji_and_unknown_characters_are_not_covered() -> None:
    text = "hi 😀 there ☃ §"
    words = english.g2p(text)
    assert [text[w.start : w.end] for w in words] == ["hi", "there"]


def test_long_input_completes_quickly() -> None:
    english.lexicon()  # load outside the timed part
    text = ("In 2024 the TTS model read 1,234 unfamiliar words like blorptastic, fast! " * 140)[:10_000]
    start = time.perf_counter()
    words = english.g2p(canonical_punctuation(english.normalize(text)))
    assert time.perf_counter() - start < 5.0
    assert len(words) > 1000
    start = time.perf_counter()
    english.g2p("a" * 10_000)  # one absurd word: letter rules, no exponential decomposition
    assert time.perf_counter() - start < 5.0


def test_english_does_not_import_other_languages() -> None:
    code = (
        "import sys; from melo.text import english as e; "
        "e.g2p(e.normalize('Hello GPU world, 2024 costs $5.')); "
        "heavy = [m for m in ('jieba', 'pypinyin', 'cn2an', 'pyopenjtalk', 'jamo', 'melo.text.chinese') "
        "if m in sys.modules]; print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""
