"""Every example of issue 22 ("Text frontend: read what users really type"), read as the issue expects.

Each row is ``input -> expected reading``: the normalised text of each language segment (see
``tests/text_reading.py``), or the toned pinyin / the phones where the example is about sounds.
"""

from __future__ import annotations

import pytest

from text_reading import phones, pinyin, segments


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        # a number's unit stays in the number's language, with or without a tag
        (None, "약 400km예요", "KR:약 사백 킬로미터예요"),
        ("KR", "약 400km예요", "KR:약 사백 킬로미터예요"),
        (None, "기온은 30℃예요", "KR:기온은 삼십 도예요"),
        ("KR", "30℃", "KR:삼십 도"),
        ("ZH", "30℃", "ZH:三十摄氏度"),
        ("JP", "30℃", "JP:三十度"),
        ("EN", "30℃", "EN:thirty degrees Celsius"),
        ("KR", "3kg", "KR:삼 킬로그램"),
        ("ZH", "3kg", "ZH:三公斤"),
        ("JP", "3kg", "JP:三キログラム"),
        ("EN", "3kg", "EN:three kilograms"),
        (None, "气温-5°C", "ZH:气温零下五摄氏度"),
        ("ZH", "气温-5°C", "ZH:气温零下五摄氏度"),
        (None, "跑了10km", "ZH:跑了十公里"),
        (None, "5kmを走る", "JP:五キロメートルを走る"),
        ("JP", "5kmを", "JP:五キロメートルを"),
    ],
)
def test_units_stay_in_their_numbers_language(tag, text, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        ("KR", "kim@naver.com", "EN:kim | KR:골뱅이 | EN:naver | KR:닷 컴"),
        (None, "메일은 kim@naver.com으로 보내 주세요.", "KR:메일은 | EN:kim | KR:골뱅이 | EN:naver | KR:닷 컴으로 보내 주세요."),
        ("KR", "https://www.korea.kr",
         "KR:에이치티티피에스 콜론 슬래시 슬래시 더블유 더블유 더블유 닷 | EN:korea | KR:닷 케이알"),
        ("ZH", "www.baidu.com", "EN:WWW | ZH:点 | EN:baidu | ZH:点 | EN:com"),
        (None, "请访问www.baidu.com。", "ZH:请访问 | EN:WWW | ZH:点 | EN:baidu | ZH:点 | EN:com."),
        ("EN", "www.baidu.com", "EN:WWW dot baidu dot com"),
        ("JP", "info@example.jp", "EN:info | JP:アットマーク | EN:example | JP:ドットジェーピー"),
        (None, "連絡はinfo@example.jpまで。", "JP:連絡は | EN:info | JP:アットマーク | EN:example | JP:ドットジェーピーまで."),
        ("EN", "info@example.jp", "EN:info at example dot JP"),
    ],
)
def test_urls_and_email_addresses(tag, text, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        ("KR", "010-1234-5678", "KR:공일공 일이삼사 오육칠팔"),
        (None, "전화는 010-1234-5678로 주세요.", "KR:전화는 공일공 일이삼사 오육칠팔로 주세요."),
        ("ZH", "13812345678", "ZH:幺三八,幺二三四,五六七八"),
        (None, "请拨打138-1234-5678。", "ZH:请拨打幺三八,幺二三四,五六七八."),
        ("JP", "090-1234-5678", "JP:ゼロキューゼロ,イチニーサンヨン,ゴーロクナナハチ"),
        (None, "電話は090-1234-5678です。", "JP:電話はゼロキューゼロ,イチニーサンヨン,ゴーロクナナハチです."),
    ],
)
def test_phone_numbers_are_read_digit_by_digit(tag, text, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        (None, "3~5명이 와요.", "KR:세 명에서 다섯 명이 와요."),
        (None, "3-5天", "ZH:三到五天"),
        (None, "3〜5個", "JP:三から五個"),
        (None, "1/2컵", "KR:이 분의 일컵"),
        (None, "1/2を", "JP:二分の一を"),
        ("EN", "½", "EN:one half"),
        ("EN", "1½", "EN:one and a half"),
        ("KR", "½", "KR:이 분의 일"),
        ("KR", "1½", "KR:일과 이 분의 일"),
        ("ZH", "½", "ZH:二分之一"),
        ("ZH", "1½", "ZH:一又二分之一"),
        ("JP", "½", "JP:二分の一"),
        ("JP", "1½", "JP:一と二分の一"),
    ],
)
def test_ranges_and_fractions(tag, text, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        (None, "東京都庁", "JP:東京都庁"),  # 東 and 庁 are not Simplified Chinese
        (None, "日本語", "JP:日本語"),  # nor is 語
        ("JP", "大阪府大阪市北区", "JP:大阪府大阪市北区"),  # shared characters: the tag breaks the tie
        (None, "大阪府大阪市北区。ここに住んでいます。", "JP:大阪府大阪市北区. / JP:ここに住んでいます."),  # the paragraph does
        (None, "東京都庁。日本語。大阪府大阪市北区。きれいな所です。",
         "JP:東京都庁. / JP:日本語. / JP:大阪府大阪市北区. / JP:きれいな所です."),
    ],
)
def test_kanji_only_japanese(tag, text, expected):
    assert segments(text, tag) == expected


def test_kanji_only_japanese_is_read_with_japanese_sounds():
    assert phones("東京都庁。", "東京") == "t o o ky o o"


@pytest.mark.parametrize(
    "text, han, expected",
    [
        ("很有意思", "很有意思", "hen2 you3 yi4 si5"),  # third tone before a third tone, across words
        ("你好你好", "你好你好", "ni2 hao3 ni2 hao3"),
        ("一月", "一月", "yi1 yue4"),  # 一 as "first": dates, floors
        ("我住在一楼。", "一楼", "yi1 lou2"),
        ("有2万人", "两万", "liang3 wan4"),  # 两 before 万 and 亿
        ("赚了2亿元", "两亿", "liang3 yi4"),
        ("有20000人", "两万", "liang3 wan4"),
        ("他跑得很快。", "跑得", "pao3 de5"),  # 得
        ("你得去医院。", "得去", "dei3 qu4"),
        ("他得到了。", "得到", "de2 dao4"),
        ("他还没来。", "还", "hai2"),  # 还
        ("记得还钱。", "还钱", "huan2 qian2"),
        ("他认真地学习。", "认真地", "ren4 zhen1 de5"),  # 地
        ("这块土地很大。", "土地", "tu3 di4"),
        ("对不起。", "对不起", "dui4 bu5 qi3"),  # 不
        ("不是。", "不是", "bu2 shi4"),
    ],
)
def test_chinese_context(text, han, expected):
    assert pinyin(text, han) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("피자 3조각", "KR:피자 세 조각"),
        ("2배", "KR:두 배"),
        ("3가지", "KR:세 가지"),
        ("5곳", "KR:다섯 곳"),
        ("2군데", "KR:두 군데"),
        ("1번 출구", "KR:일 번 출구"),
        ("1번째", "KR:첫 번째"),
        ("첫 번째", "KR:첫 번째"),
    ],
)
def test_korean_counters(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dec. 3rd", "EN:December third"),
        ("St. Louis", "EN:Saint Louis"),
        ("at 7am", "EN:at seven A M"),
        ("at 7 a.m. today", "EN:at seven A M today"),  # one sentence, no full stop after a.m.
        ("24/7", "EN:twenty-four seven"),
        ("#TTSlife", "EN:hashtag TTSlife"),
        ("5'11\"", "EN:five feet eleven inches"),
        ("5 ft 11 in", "EN:five feet eleven inches"),
    ],
)
def test_english_abbreviations(text, expected):
    assert segments(text) == expected


def test_camel_case_hashtag_is_split_where_the_words_are():
    assert phones("#TTSlife", "TTSlife") == "T IY T IY EH S L AY F"


@pytest.mark.parametrize(
    "text, word, expected",
    [
        ("I read it yesterday.", "read", "R EH D"),
        ("I will read it.", "read", "R IY D"),
        ("Lead pipes are old.", "Lead", "L EH D"),
        ("They lead the team.", "lead", "L IY D"),
        ("We love live music.", "live", "L AY V"),
        ("We live in Seoul.", "live", "L IH V"),
    ],
)
def test_english_heteronyms(text, word, expected):
    assert phones(text, word) == expected


@pytest.mark.parametrize(
    "tag, text, expected",
    [
        ("EN", "3×4", "EN:three times four"),
        ("EN", "8÷2", "EN:eight divided by two"),
        ("EN", "2^10", "EN:two to the power of ten"),
        ("EN", "3⁄4", "EN:three quarters"),
        ("KR", "3×4", "KR:삼 곱하기 사"),
        ("KR", "8÷2", "KR:팔 나누기 이"),
        ("KR", "2^10", "KR:이의 십 제곱"),
        ("KR", "3⁄4", "KR:사 분의 삼"),
        ("ZH", "3×4", "ZH:三乘以四"),
        ("ZH", "8÷2", "ZH:八除以二"),
        ("ZH", "2^10", "ZH:二的十次方"),
        ("ZH", "3⁄4", "ZH:四分之三"),
        ("JP", "3×4", "JP:三かける四"),
        ("JP", "8÷2", "JP:八わる二"),
        ("JP", "2^10", "JP:二の十乗"),
        ("JP", "3⁄4", "JP:四分の三"),
    ],
)
def test_symbols_are_read_in_every_language(tag, text, expected):
    assert segments(text, tag) == expected
