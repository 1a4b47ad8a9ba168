"""Korean backend: golden jamo, number reading, letters, invariants and bad input."""

import time
import unicodedata

import jamo
import pytest

from melo.text import korean
from melo.text.normalize import canonical_punctuation
from melo.text.symbols import KR_CODAS, SYMBOLS

# conjoining jamo written out so the expected values do not come from the code under test
G, N, D, R, M, B, S, NG, J = "\u1100", "\u1102", "\u1103", "\u1105", "\u1106", "\u1107", "\u1109", "\u110b", "\u110c"
K, H, SS = "\u110f", "\u1112", "\u110a"
A, E, YEO, YO, EU, I_, YU = "\u1161", "\u1166", "\u1167", "\u116d", "\u1173", "\u1175", "\u1172"
C_G, C_N, C_LG, C_BS, C_NG, C_S = "\u11a8", "\u11ab", "\u11b0", "\u11b9", "\u11bc", "\u11ba"
O_ = "\u1169"


def phones_of(text):
    return [w.phones for w in korean.g2p(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("안녕하세요", (NG, A, C_N, N, YEO, C_NG, H, A, S, E, NG, YO)),
        ("값이", (G, A, C_BS, NG, I_)),  # the full coda ᆹ is kept: [갑씨] needs its ㅅ
        ("닭", (D, A, C_LG)),
        ("읽다", (NG, I_, C_LG, D, A)),
    ],
)
def test_golden_words(text, expected):
    [word] = korean.g2p(text)
    assert (word.start, word.end) == (0, len(text))
    assert word.phones == expected
    assert word.tones == (0,) * len(expected)


def test_onset_and_coda_ieung_stay_distinct():
    [word] = korean.g2p("앙")
    assert word.phones == (NG, A, C_NG) and NG != C_NG


def test_decomposition_equals_jamo_package_for_every_syllable():
    syllables = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
    ours = "".join(p for w in korean.g2p(syllables) for p in w.phones)
    assert ours == "".join(jamo.hangul_to_jamo(syllables))
    used = set(ours)
    assert used <= set(SYMBOLS)
    assert set(KR_CODAS) <= used  # all 27 orthographic codas occur and are in the inventory


def test_eojeol_and_punctuation_words():
    text = "안녕, 세상!"
    words = korean.g2p(text)
    assert [(w.start, w.end) for w in words] == [(0, 2), (2, 3), (4, 6), (6, 7)]
    assert words[1].phones == (",",) and words[3].phones == ("!",)
    assert [w.tones for w in words[1::2]] == [(0,), (0,)]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1234", "천이백삼십사"),
        ("0.5", "영 점 오"),
        ("3.14", "삼 점 일 사"),
        ("-3", "마이너스 삼"),
        ("50%", "오십 퍼센트"),
        ("1,000원", "천 원"),
        ("₩1,000", "천 원"),
        ("$5", "오 달러"),
        ("5달러", "오 달러"),
        ("2024년", "이천이십사 년"),
        ("3월 1일", "삼 월 일 일"),
        ("6월 10월", "유월 시월"),
        ("10:30", "열 시 삼십 분"),
        ("13:05", "열세 시 오 분"),
        ("2024-03-01", "이천이십사 년 삼 월 일 일"),
        ("2024.6.10에", "이천이십사 년 유월 십 일에"),
        ("2024.03.01.", "이천이십사 년 삼 월 일 일."),
        ("2024/13/40", "이천이십사 십삼 사십"),  # not a date
        ("10000", "만"),
        ("110000", "십일만"),
        ("100000000", "일억"),
        ("007", "영영칠"),
        ("3은", "삼은"),
        ("영하 -5도", "영하 마이너스 오 도"),
        ("A&B", "A 앤드 B"),
        ("5kg이에요", "오 킬로그램이에요"),
        ("-5°C", "영하 오 도"),  # a temperature below zero
        ("3 meetings", "삼 meetings"),  # a word that starts like a unit is not one
        ("1+1", "일 플러스 일"),
        ("안녕하세요", "안녕하세요"),
    ],
)
def test_normalize_numbers_and_symbols(raw, expected):
    assert korean.normalize(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3시", "세 시"),
        ("3시간", "세 시간"),
        ("1개", "한 개"),
        ("2명", "두 명"),
        ("4마리", "네 마리"),
        ("20살", "스무 살"),
        ("21살", "스물한 살"),
        ("99번", "아흔아홉 번"),
        ("5잔", "다섯 잔"),
        ("3 권", "세 권"),
        ("100명", "백 명"),  # beyond 99: Sino-Korean
        ("3개월", "삼 개월"),  # starts like 개 but takes Sino-Korean
    ],
)
def test_native_numerals_before_native_counters(raw, expected):
    assert korean.normalize(raw) == expected


def test_acceptance_sentence_segments():
    """'오늘 meeting은 3시에 시작해요': the Korean segments are normalised separately; 3시 reads 세 시."""
    assert korean.normalize("오늘") == "오늘"
    tail = canonical_punctuation(korean.normalize("은 3시에 시작해요"))
    assert tail == "은 세 시에 시작해요"
    words = korean.g2p(tail)
    assert [tail[w.start : w.end] for w in words] == ["은", "세", "시에", "시작해요"]
    assert words[1].phones == (S, E)


@pytest.mark.parametrize(
    "letters, reading",
    [
        ("ㄱ", "기역"),
        ("ㄲ", "쌍기역"),
        ("ㄳ", "기역시옷"),
        ("ㅎ", "히읗"),
        ("ㅏ", "아"),
        ("ㅋㅋ", "크크"),  # runs are read as sounds
        ("ㅎㅎㅎ", "흐흐흐"),
        ("ㅠㅠ", "유유"),
    ],
)
def test_isolated_compatibility_jamo(letters, reading):
    [word] = korean.g2p(letters)
    assert (word.start, word.end) == (0, len(letters))
    assert word.phones == tuple(unicodedata.normalize("NFD", reading))


@pytest.mark.parametrize("latin, reading", [("A", "에이"), ("b", "비"), ("ABC", "에이비씨"), ("Wz", "더블유지")])
def test_latin_letters_read_by_korean_names(latin, reading):
    [word] = korean.g2p(latin)
    assert word.phones == tuple(unicodedata.normalize("NFD", reading))


SENTENCES = [
    "안녕하세요. 오늘 날씨가 좋네요.",
    "은 3시에 시작해요",
    "값이 너무 비싸요, 조금 깎아 주세요!",
    "2024년 3월 1일 10:30에 만나요?",
    "사과 2개와 배 21개, 총 1,500원입니다.",
    "ㅋㅋ 진짜 웃기다 ㅠㅠ",
    "BTS는 정말 유명해요…",
    "기온이 -3.5도까지 떨어졌어요 - 50% 확률로.",
    "닭 읽다 앉다 넋 삶 밟다 핥다 읊다 싫다 없다",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_invariants(sentence):
    text = canonical_punctuation(korean.normalize(sentence))
    words = korean.g2p(text)
    assert words
    previous_end = 0
    for w in words:
        assert all(p in SYMBOLS for p in w.phones)
        assert len(w.phones) == len(w.tones) and set(w.tones) == {0}
        assert previous_end <= w.start < w.end <= len(text)
        assert text[w.start : w.end] == text[w.start : w.end].strip()
        previous_end = w.end
    covered = {i for w in words for i in range(w.start, w.end)}
    assert all(text[i] == " " for i in range(len(text)) if i not in covered)  # every letter is read


def test_empty_and_unreadable_input():
    assert korean.g2p("") == []
    assert korean.normalize("") == ""
    text = "좋아요 😀 ★"
    words = korean.g2p(text)
    assert [(w.start, w.end) for w in words] == [(0, 3)]  # the emoji and the star are not covered


def test_long_input_is_fast():
    text = canonical_punctuation(korean.normalize("안녕하세요, 값이 123개 있어요. " * 500))[:10_000]
    start = time.perf_counter()
    words = korean.g2p(korean.normalize(text))
    assert time.perf_counter() - start < 2.0
    assert len(words) > 2000


def test_read_native_range():
    assert korean.read_native(1) == "한" and korean.read_native(20) == "스무" and korean.read_native(45) == "마흔다섯"
    with pytest.raises(ValueError, match="1..99"):
        korean.read_native(100)
