"""Golden readings per error class and language, beyond the issue's own examples
(``test_text_issue22_examples.py``): ``input -> expected reading`` (see ``tests/text_reading.py``)."""

from __future__ import annotations

import pytest

from text_reading import phones, pinyin, segments


@pytest.mark.parametrize(
    "text, expected",
    [
        ("이 약은 500mg이에요.", "KR:이 약은 오백 밀리그램이에요."),
        ("차로 시속 80km/h로 달렸어요.", "KR:차로 시속 팔십 킬로미터로 달렸어요."),  # 시속 said once
        ("용량은 1.5L예요.", "KR:용량은 일 점 오 리터예요."),
        ("16GB 메모리", "KR:십육 기가바이트 메모리"),
        ("He ran 26.2 mi.", "EN:He ran twenty-six point two miles."),
        ("The room is 12 ft wide.", "EN:The room is twelve feet wide."),
        ("It weighs 1 kg.", "EN:It weighs one kilogram."),
        ("It uses 60W.", "EN:It uses sixty watts."),
        ("体重60kg。", "ZH:体重六十公斤."),
        ("今天气温25℃。", "ZH:今天气温二十五摄氏度."),
        ("下降了-5%", "ZH:下降了负百分之五"),
        ("身長は180cmです。", "JP:身長は百八十センチメートルです."),
        ("バッテリーは5000mAhです。", "JP:バッテリーは五千ミリアンペアアワーです."),
        ("時速80km/hで", "JP:時速八十キロメートルで"),
    ],
)
def test_numbers_with_units(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("연락처: 02-3456-7890", "KR:연락처, 공이 삼사오육 칠팔구공"),
        ("+82 10-1234-5678로 전화 주세요.", "KR:플러스 팔이 일공 일이삼사 오육칠팔로 전화 주세요."),
        ("Call +1 (212) 555-0100.", "EN:Call plus one, two one two, five five five, zero one zero zero."),
        ("客服热线400-820-1234。", "ZH:客服热线四零零,八二零,幺二三四."),
        ("遇到危险请拨打110。", "ZH:遇到危险请拨打幺幺零."),
        ("フリーダイヤル0120-444-555", "JP:フリーダイヤルゼロイチニーゼロ,ヨンヨンヨン,ゴーゴーゴー"),
    ],
)
def test_phone_numbers(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, tag, expected",
    [
        ("li@qq.com", "ZH", "EN:li | ZH:艾特 | EN:QQ | ZH:点 | EN:com"),  # a name is read, a vowel-less label spelled
        ("www.mi.com", "EN", "EN:WWW dot mi dot com"),  # the site's name, however short
        ("info@company.co.uk", "EN", "EN:info at company dot CO dot UK"),  # short suffixes spelled
        ("https://www.nhk.or.jp", "JP", "JP:エイチティーティーピーエスコロンスラッシュスラッシュダブリューダブリューダブリュー"
         "ドットエヌエイチケードットオーアールドットジェーピー"),
        ("park123@hanmail.net", "KR", "EN:park | KR:일이삼 골뱅이 | EN:hanmail | KR:닷 넷"),
    ],
)
def test_addresses(text, tag, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("사람이 4~5명 있어요.", "KR:사람이 네다섯 명 있어요."),  # neighbouring numbers: one word
        ("2~3시간 걸려요.", "KR:두세 시간 걸려요."),
        ("5~10분 기다리세요.", "KR:오 분에서 십 분 기다리세요."),  # a Sino counter, said twice
        ("3~4시에 만나요.", "KR:세 시에서 네 시에 만나요."),  # hours of the clock in full
        ("The price rose 10-20%.", "EN:The price rose ten to twenty percent."),
        ("from 1990-2000", "EN:from nineteen ninety to two thousand"),
        ("100~200元", "ZH:一百到二百元"),
        ("2020-2024年", "ZH:二零二零到二零二四年"),
        ("所要時間は10〜15分です。", "JP:所要時間は十から十五分です."),
        ("2020-2024年に", "JP:二千二十から二千二十四年に"),
    ],
)
def test_ranges(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1/3 of the cake", "EN:one third of the cake"),
        ("Add 2 1/2 cups.", "EN:Add two and a half cups."),
        ("3/4컵", "KR:사 분의 삼컵"),
        ("2/3の人", "JP:三分の二の人"),
        ("只有1/3的人", "ZH:只有三分之一的人"),
        ("Meet me on 3/15.", "EN:Meet me on March fifteenth."),  # not a fraction: month/day
        ("3/15에 만나요.", "KR:삼 월 십오 일에 만나요."),
        ("3/15に会いましょう。", "JP:三月十五日に会いましょう."),
    ],
)
def test_fractions_and_slash_dates(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x^2 + y^2", "EN:x squared plus y squared"),
        ("10^6", "EN:ten to the power of six"),
        ("3 × 5 = 15", "EN:three times five equals fifteen"),
        ("3×4=12예요.", "KR:삼 곱하기 사는 십이예요."),  # = after a number: the topic particle
        ("10÷2=5です。", "JP:十わる二は五です."),
        ("감사합니다^^", "KR:감사합니다"),  # a smile, not a power: silent
    ],
)
def test_symbols(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("20대 여성", "KR:이십 대 여성"),  # an age group: Sino
        ("3대 1로 이겼어요.", "KR:삼 대 일로 이겼어요."),  # a score: Sino
        ("자동차 3대", "KR:자동차 세 대"),
        ("1째, 2째, 3째", "KR:첫째, 둘째, 셋째"),
        ("2번 버스", "KR:이 번 버스"),  # a label
        ("2번 봤어요.", "KR:두 번 봤어요."),  # a count
        ("장미 10송이", "KR:장미 열 송이"),
        ("100명", "KR:백 명"),  # 100 and more: Sino
    ],
)
def test_korean_counters(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, han, expected",
    [
        ("他是第一名。", "第一", "di4 yi1"),
        ("一九九八年", "一九九八", "yi1 jiu2 jiu3 ba1"),
        ("一个人", "一个", "yi2 ge4"),
        ("看一看", "看一看", "kan4 yi5 kan4"),
        ("好不好", "好不好", "hao3 bu5 hao3"),
        ("展览馆", "展览馆", "zhan2 lan2 guan3"),  # 2+1: 2 2 3
        ("小老虎", "小老虎", "xiao3 lao2 hu3"),  # 1+2: 3 2 3
        ("老板好", "老板好", "lao2 ban2 hao3"),
        ("我很好", "我很好", "wo3 hen2 hao3"),
        ("买水果", "买水果", "mai3 shui2 guo3"),
        ("你得去医院。", "你得去", "ni2 dei3 qu4"),
        ("慢慢地走", "慢慢地", "man4 man4 de5"),
        ("这块地很大", "地", "di4"),
        ("请把书还给我。", "还给", "huan2 gei2"),
        ("我明天还你钱。", "还", "huan2"),  # give back, with the pronoun between
        ("书要按时还。", "还", "huan2"),  # at the end of the clause
        ("他还在睡觉。", "还", "hai2"),
        ("他高兴地笑了。", "高兴地", "gao1 xing4 de5"),  # jieba glues 地 to the verb: 地笑
        ("他静静地坐着。", "静静地", "jing4 jing4 de5"),  # ... or to the adverb
        ("我们到了目的地。", "目的地", "mu4 di4 di4"),  # a place
    ],
)
def test_chinese_tones_in_context(text, han, expected):
    assert pinyin(text, han) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Main St. is closed.", "EN:Main Street is closed."),
        ("Dr. Lee works on Sunset Dr.", "EN:Doctor Lee works on Sunset Drive."),
        ("On Feb 29, 2024", "EN:On February twenty-ninth, twenty twenty-four"),
        ("May 5", "EN:May fifth"),
        ("Mt. Fuji", "EN:Mount Fuji"),
        ("I woke at 7 a.m. Then I ran.", "EN:I woke at seven A M. / EN:Then I ran."),
        ("Follow #MondayMotivation", "EN:Follow hashtag MondayMotivation"),
    ],
)
def test_english_abbreviations(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize(
    "text, word, expected",
    [
        ("I have read it.", "read", "R EH D"),
        ("It was read aloud.", "read", "R EH D"),
        ("I can read.", "read", "R IY D"),
        ("The lead singer sang.", "lead", "L IY D"),
        ("He was exposed to lead.", "lead", "L IY D"),  # no clear context: the common reading
        ("They stream live every night.", "live", "L AY V"),
        ("We sell live bait.", "live", "L AY V"),
        ("He lives alone.", "lives", "L IH V Z"),
        ("Many lives were saved.", "lives", "L AY V Z"),
        ("Follow #MondayMotivation", "MondayMotivation", "M AH N D IY M OW T AH V EY SH AH N"),
        ("HTMLParser", "HTMLParser", "EY CH T IY EH M EH L P AA R S ER"),
    ],
)
def test_english_phones_in_context(text, word, expected):
    assert phones(text, word) == expected


@pytest.mark.parametrize(
    "text, tag, expected",
    [
        ("日本語能力試験", None, "JP:日本語能力試験"),
        ("东京很大。", None, "ZH:东京很大."),  # 东: Simplified Chinese
        ("我們在東京。", None, "ZH:我們在東京."),  # 們 (Traditional Chinese) and 我 outweigh 東
        ("中国人", None, "ZH:中国人"),  # shared characters, no context: Chinese
        ("中国人", "JP", "JP:中国人"),
        ("我今天很忙。東京に行きます。", None, "ZH:我今天很忙. / JP:東京に行きます."),
    ],
)
def test_han_language(text, tag, expected):
    assert segments(text, tag) == expected


@pytest.mark.parametrize(
    "text, tag, expected",
    [
        ("010-1234-5678", None, "EN:zero one zero, one two three four, five six seven eight"),
        ("010-1234-5678", "KR", "KR:공일공 일이삼사 오육칠팔"),
        ("3×4=12。", None, "ZH:三乘以四等于十二."),  # CJK punctuation and no letters: Chinese
        ("전화번호입니다. 010-1234-5678", None, "KR:전화번호입니다. / KR:공일공 일이삼사 오육칠팔"),  # the paragraph's language
    ],
)
def test_text_without_letters_takes_the_tag_or_the_paragraphs_language(text, tag, expected):
    assert segments(text, tag) == expected
