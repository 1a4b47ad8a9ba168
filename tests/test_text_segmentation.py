import pytest

from melo.text.language import segment_languages


def runs(text, tag=None, context=None):
    r, _ = segment_languages(text, tag, context=context)
    return [(x.language, text[x.start : x.end]) for x in r]


@pytest.mark.parametrize(
    "text, tag, expected",
    [
        ("오늘 meeting은 3시에 시작해요", None, [("KR", "오늘 "), ("EN", "meeting"), ("KR", "은 3시에 시작해요")]),
        ("我今天很忙, but I will call you.", None, [("ZH", "我今天很忙, "), ("EN", "but I will call you.")]),
        ("東京タワーに行きました", None, [("JP", "東京タワーに行きました")]),
        ("東京", None, [("JP", "東京")]),  # 東: Japanese, not Simplified Chinese
        ("北京", None, [("ZH", "北京")]),
        ("東京", "JP", [("JP", "東京")]),
        ("Hello, 세계!", None, [("EN", "Hello, "), ("KR", "세계!")]),
        ("가격은 $100입니다", None, [("KR", "가격은 $100입니다")]),
        ("don't e-mail me", None, [("EN", "don't e-mail me")]),
        ("meeting 3시", None, [("EN", "meeting "), ("KR", "3시")]),
        ("123", None, [("EN", "123")]),
        ("123", "ZH", [("ZH", "123")]),
        ("ㄱㅏ", None, [("KR", "ㄱㅏ")]),
    ],
)
def test_segments(text, tag, expected):
    assert runs(text, tag) == expected


def test_kanji_only_sentence_takes_the_language_of_its_paragraph():
    assert runs("日本語です。中国人。") == [("JP", "日本語です。中国人。")]
    assert runs("中国人。") == [("ZH", "中国人。")]
    assert runs("中国人。", context="中国人。明日来ます。") == [("JP", "中国人。")]
    assert runs("我们是中国人。中国人。") == [("ZH", "我们是中国人。中国人。")]


def test_tag_does_not_force_english_words_into_korean():
    assert runs("오늘 meeting은", "KR") == [("KR", "오늘 "), ("EN", "meeting"), ("KR", "은")]


def test_unreadable_characters_are_listed():
    _, bad = segment_languages("hi 😀 там")
    assert [c for _, c in bad] == ["😀", "т", "а", "м"]
