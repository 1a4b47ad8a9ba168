"""Japanese backend: golden phones and pitch, numbers, punctuation, span alignment, invariants, bad input."""

import subprocess
import sys
import time

import pytest

from melo.text import japanese
from melo.text.normalize import canonical_punctuation, clean_text
from melo.text.symbols import SYMBOLS


def read(text):
    """(surface, phones, tones) per word, the way the orchestrator would run the backend."""
    norm = canonical_punctuation(japanese.normalize(clean_text(text)))
    return norm, [(norm[w.start : w.end], " ".join(w.phones), "".join(map(str, w.tones))) for w in japanese.g2p(norm)]


def test_tokyo_tower_golden_with_high_and_low_pitch():
    norm, words = read("東京タワーに行きました")
    assert words == [
        # とーきょーた＼わーに: accent nucleus on the 5th mora
        ("東京タワー", "t o o ky o o t a w a a", "00111111000"),
        ("に", "n i", "00"),
        # いきま＼した, devoiced し
        ("行き", "i k i", "011"),
        ("まし", "m a sh I", "1100"),
        ("た", "t a", "00"),
    ]
    tones = {t for w in japanese.g2p(norm) for t in w.tones}
    assert tones == {0, 1}


@pytest.mark.parametrize(
    "text, expected",
    [
        # minimal pair: 箸 (atamadaka) vs 橋 (odaka, the particle falls)
        ("箸を持つ", [("箸", "h a sh i", "1100"), ("を", "o", "0"), ("持つ", "m o ts u", "1100")]),
        ("橋を渡る", [("橋", "h a sh i", "0011"), ("を", "o", "0"), ("渡る", "w a t a r u", "001111")]),
        (
            "私は学生です。",
            [("私", "w a t a sh i", "001111"), ("は", "w a", "11"), ("学生", "g a k U s e e", "0011111"),
             ("です", "d e s U", "1100"), (".", ".", "0")],
        ),
        ("フュージョン", [("フュージョン", "fy u u j o ɴ", "110000")]),
    ],
)
def test_golden_sentences(text, expected):
    assert read(text)[1] == expected


def test_punctuation_marks_are_their_own_words():
    norm, words = read("こんにちは、世界！元気？")
    assert norm == "こんにちは,世界!元気?"
    assert [w[0] for w in words] == ["こんにちは", ",", "世界", "!", "元気", "?"]
    assert [w[1:] for w in words if w[0] in ",!?"] == [(",", "0"), ("!", "0"), ("?", "0")]
    assert words[0][1] == "k o ɴ n i ch i w a"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2024年", "二千二十四年"),
        ("3.5", "三点五"),
        ("0.5", "零点五"),
        ("50%", "五十パーセント"),
        ("¥1,000", "千円"),
        ("1000円", "千円"),
        ("$5", "五ドル"),
        ("-5", "マイナス五"),
        ("気温は-5度", "気温はマイナス五度"),
        ("10:30", "十時三十分"),
        ("2024/3/1", "二千二十四年三月一日"),
        ("2024-03-01.", "二千二十四年三月一日."),
        ("10000", "一万"),
        ("1億2000万", "一億二千万"),
        ("007", "零零七"),
        ("A&B", "AアンドB"),
        ("-5°C", "マイナス五度"),
        ("5kg", "五キログラム"),
        ("東京", "東京"),
    ],
)
def test_normalize_numbers_and_symbols(raw, expected):
    assert japanese.normalize(raw) == expected


@pytest.mark.parametrize(
    "text, phones",
    [
        ("2024年", "n i s e ɴ n i j u u y o n e ɴ"),
        ("3.5", "s a ɴ t e ɴ g o"),
        ("50%", "g o j u cl p a a s e ɴ t o"),
        ("¥1,000", "s e ɴ e ɴ"),
        ("-5", "m a i n a s u g o"),
        ("300円", "s a ɴ by a k u e ɴ"),
        ("5kg", "g o k i r o g u r a m u"),  # さんびゃく: OpenJTalk's sound change on kanji numerals
    ],
)
def test_numbers_are_read(text, phones):
    _, words = read(text)
    assert " ".join(w[1] for w in words) == phones


def test_alignment_of_text_openjtalk_rewrites():
    # digits OpenJTalk turns into kanji itself: the numeral words share the digits' span
    words = japanese.g2p("2024年")
    assert [((w.start, w.end), " ".join(w.phones)) for w in words] == [
        ((0, 4), "n i s e ɴ n i j u u y o"), ((4, 5), "n e ɴ")
    ]
    # ASCII comes back full-width from OpenJTalk; both forms line up
    for text in ("ABCです", "ＡＢＣです"):
        words = japanese.g2p(text)
        assert [(w.start, w.end) for w in words] == [(0, 3), (3, 5)]


def test_align_nodes_fallbacks():
    align = japanese._align_nodes
    assert align("東京 タワー", ["東京", "タワー"]) == [(0, 2), (3, 6)]
    # unmatched nodes share the stretch up to the next node that matches
    assert align("12年", ["十", "二", "年"]) == [(0, 2), (0, 2), (2, 3)]
    # a node with no text of its own gets no span (its phones join the previous word)
    assert align("猫だ", ["猫", "ー", "だ"]) == [(0, 1), None, (1, 2)]
    # nothing matches: everything shares the whole text
    assert align("xyz", ["a", "b"]) == [(0, 3), (0, 3)]


@pytest.mark.parametrize(
    "position, accent, high",
    [(1, 0, False), (2, 0, True), (5, 0, True), (1, 1, True), (2, 1, False), (1, 3, False), (3, 3, True), (4, 3, False)],
)
def test_tokyo_pitch_rule(position, accent, high):
    assert japanese._is_high(position, accent) is high


def test_every_phone_openjtalk_emits_is_in_the_inventory():
    kata = [chr(c) for c in range(0x30A1, 0x30F5)]
    combos = kata + [a + b for a in "キギシジチヂニヒビピミリフヴテデトドウクグツスズ" for b in "ァィゥェォャュョ"]
    text = ",".join("ア" + c for c in combos)
    phones = {p for w in japanese.g2p(text) for p in w.phones}
    assert phones <= set(SYMBOLS), phones - set(SYMBOLS)
    assert {"fy", "ɴ", "cl", "v", "kw", "dy"} <= phones


SENTENCES = [
    "東京タワーに行きました",
    "今日は10:30に会いましょう。",
    "このりんごは1個100円です!",
    "ええと…本当ですか?",
    "私はJohnです, よろしくお願いします.",
    "2024年3月1日、東京で会議がありました。",
    "気温は-3.5度まで下がりました",
    "ー",
    "😀です",
    "Ｗｉ-Ｆｉのパスワードは？",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_invariants(sentence):
    norm = canonical_punctuation(japanese.normalize(clean_text(sentence)))
    words = japanese.g2p(norm)
    previous_end = 0
    for w in words:
        assert all(p in SYMBOLS for p in w.phones), w
        assert len(w.phones) == len(w.tones) and set(w.tones) <= {0, 1}
        assert previous_end <= w.start < w.end <= len(norm)
        assert norm[w.start : w.end] == norm[w.start : w.end].strip()
        assert "pau" not in w.phones and "sil" not in w.phones and "N" not in w.phones
        previous_end = w.end


def test_empty_and_unreadable_input():
    assert japanese.g2p("") == []
    assert japanese.g2p("   ") == []
    assert japanese.normalize("") == ""
    words = japanese.g2p("😀です")
    assert [(w.start, w.end) for w in words] == [(1, 3)]  # the emoji is not covered
    assert japanese.g2p("★") == []


def test_long_input_completes_quickly():
    text = ("東京タワーに行きました" * 910)[:10_000]  # no punctuation: cut into pieces OpenJTalk accepts
    start = time.perf_counter()
    words = japanese.g2p(text)
    assert time.perf_counter() - start < 10.0
    assert words[-1].end <= len(text) and len(words) > 3000


def test_import_and_first_use_print_nothing():
    code = "from melo.text import japanese; japanese.g2p(japanese.normalize('ー日本-5'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
