"""The whole frontend with the real backends: the issue's acceptance sentences and invariants."""

import json
import subprocess
import sys
import time

import pytest

from melo.text import NothingToPronounceError, phonemize
from melo.text.symbols import SYMBOLS

KR_ONSET, KR_VOWEL, KR_CODA = (0x1100, 0x1112), (0x1161, 0x1175), (0x11A8, 0x11C2)


def _is_conjoining_jamo(p):
    return len(p) == 1 and any(a <= ord(p) <= b for a, b in (KR_ONSET, KR_VOWEL, KR_CODA))


def _cli_json(*args):
    r = subprocess.run([sys.executable, "-m", "melo.text", "--json", *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cli_korean_sentence_is_one_kr_segment_of_conjoining_jamo():
    out = _cli_json("안녕하세요. 오늘 날씨가 좋네요.")
    assert [s["language"] for s in out["segments"]] == ["KR"]
    assert {"normalized", "segments", "phones", "tones", "languages"} <= out.keys()
    letters = [p for p in out["phones"] if p not in ".,"]
    assert letters and all(_is_conjoining_jamo(p) for p in letters)
    assert out["phones"][:6] == ["\u110b", "\u1161", "\u11ab", "\u1102", "\u1167", "\u11bc"]  # 안녕: onset ㅇ != coda ㅇ


@pytest.mark.parametrize(
    "text, lang",
    [("Hello, how are you today?", "EN"), ("你好，今天天气很好。", "ZH"), ("東京タワーに行きました。", "JP")],
)
def test_cli_single_language_sentences(text, lang):
    out = _cli_json(text)
    assert [s["language"] for s in out["segments"]] == [lang]
    assert set(out["languages"]) == {lang}


def test_mixed_korean_english_reads_the_hour_in_korean():
    ph = phonemize("오늘 meeting은 3시에 시작해요")
    assert [s.language for s in ph.segments] == ["KR", "EN", "KR"]
    assert "세 시" in ph.segments[2].text
    en = [p for p, lang in zip(ph.phones, ph.languages) if lang == "EN"]
    assert en[:2] == ["M", "IY"]


def test_mixed_chinese_english():
    ph = phonemize("我今天很忙, but I will call you.")
    assert [s.language for s in ph.segments] == ["ZH", "EN"]


def test_kanji_with_kana_is_japanese_not_chinese():
    ph = phonemize("東京タワーに行きました")
    assert [s.language for s in ph.segments] == ["JP"]
    assert set(ph.tones) == {0, 1}  # pitch accent, not one flat tone


def test_japanese_tag_reads_kanji_only_text_as_japanese():
    assert [s.language for s in phonemize("東京", language="JP").segments] == ["JP"]
    assert [s.language for s in phonemize("東京").segments] == ["JP"]  # 東 is not Simplified Chinese
    assert [s.language for s in phonemize("中国人").segments] == ["ZH"]  # shared characters: the tie goes to ZH
    assert [s.language for s in phonemize("中国人", language="JP").segments] == ["JP"]  # unless the tag says JP


SENTENCES = [
    "안녕하세요. 오늘 날씨가 좋네요.",
    "값이 3,000원이에요! 닭 두 마리, 50% 할인.",
    "Hello, how are you today? I paid $5.50 on March 3rd, 2024.",
    "The GPU runs TTS at 3:30 p.m. & it's 100% fine.",
    "你好，今天天气很好。我有3个苹果，花了12.5元。",
    "一起去不是很好吗？展览馆里有两千人。",
    "東京タワーに行きました。2024年3月1日、気温は-5度でした。",
    "오늘 meeting은 3시에 시작해요. 我今天很忙, but I will call you. 東京に行きます。",
    "ㄱㅏ ㅋㅋㅋ OK? 좋아요 👍",
]


@pytest.mark.parametrize("text", SENTENCES)
def test_invariants(text):
    ph = phonemize(text)
    n = len(ph.phones)
    assert n > 0
    assert len(ph.tones) == len(ph.languages) == len(ph.word_spans) == n
    assert all(p in SYMBOLS for p in ph.phones)
    for (a, b), lang in zip(ph.word_spans, ph.languages):
        assert 0 <= a < b <= len(ph.normalized)
        assert any(s.start <= a and b <= s.end and s.language == lang for s in ph.segments)
    for s in ph.segments:
        assert ph.normalized[s.start : s.end] == s.text


def test_emoji_and_control_characters_are_dropped_and_reported():
    ph = phonemize("좋아요 👍\x07 ok")
    assert "👍" in ph.dropped
    assert "👍" not in ph.normalized and "\x07" not in ph.normalized


@pytest.mark.parametrize("text", ["", "   \n\t", "👍🎉", "\x00\x1b\x07\u200b"])
def test_nothing_pronounceable_is_a_clear_error(text):
    with pytest.raises(NothingToPronounceError):
        phonemize(text)


def test_unknown_language_code_names_the_valid_ones():
    with pytest.raises(ValueError, match="valid codes: KR, EN, ZH, JP"):
        phonemize("hello", language="DE")


def test_ten_thousand_characters_complete_quickly():
    text = ("오늘 meeting은 3시에 시작해요. Hello world! 你好。東京に行きます。 " * 400)[:10_000]
    t0 = time.perf_counter()
    ph = phonemize(text)
    assert time.perf_counter() - t0 < 30
    assert len(ph.phones) > 5_000


def test_english_only_run_never_imports_other_backends():
    code = (
        "import sys; from melo.text import phonemize; phonemize('Hello world, this is English only.'); "
        "bad = [m for m in ('pyopenjtalk', 'jieba', 'pypinyin', 'jamo', 'cn2an') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
