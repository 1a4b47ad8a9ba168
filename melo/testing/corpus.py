"""A small built-in KR/EN/ZH/JP text sample for training the tiny stand-in tokenizer.

Written for this project. It is only meant to give a locally trained tokenizer a realistic mix of
scripts, word lengths and punctuation; it says nothing about bge-m3's real vocabulary.
"""

from __future__ import annotations

__all__ = ["training_sentences"]

_EN = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get home tonight.",
    "I think the weather will be much better tomorrow morning.",
    "She bought three apples, two oranges and a loaf of bread.",
    "How long does it take to walk to the station from here?",
    "The meeting has been moved to Thursday at half past ten.",
    "Could you speak a little more slowly, please?",
    "We watched an old movie and then went out for dinner.",
    "My brother works as an engineer in a small company.",
    "Reading before bed helps me fall asleep quickly.",
    "The train was delayed because of heavy snow.",
    "Don't forget to bring your umbrella; it might rain.",
    "Our teacher explained the problem again with a simple example.",
    "This restaurant serves the best noodles in the city!",
    "He has been learning Korean and Japanese for two years.",
    "Turn left at the second traffic light and go straight.",
    "The children were playing happily in the park.",
    "Thank you very much for your kind help yesterday.",
    "What time does the library open on Sundays?",
    "The price of coffee went up again this month.",
    "I usually drink green tea in the afternoon.",
    "Let's meet in front of the museum at noon.",
    "Speech synthesis turns written text into natural sounding audio.",
    "The model reads the sentence and predicts how long each sound lasts.",
    "Internationalization is a surprisingly difficult word to pronounce.",
    "Unbelievably, the extraordinary performance lasted until midnight.",
    "A multilingual encoder understands sentences in many languages.",
    "Good morning! Did you sleep well?",
    "It's twenty-five degrees outside, perfect for a walk.",
    "The river flows slowly toward the distant sea.",
)

_KR = (
    "안녕하세요, 만나서 반갑습니다.",
    "오늘 날씨가 정말 좋네요.",
    "내일 아침에 일찍 일어나야 해요.",
    "저는 한국어를 공부하고 있습니다.",
    "이 식당은 김치찌개가 아주 맛있어요.",
    "지하철역까지 걸어서 얼마나 걸려요?",
    "주말에 친구들과 영화를 보러 갔어요.",
    "회의는 목요일 오후 세 시로 바뀌었습니다.",
    "천천히 다시 한 번 말씀해 주시겠어요?",
    "우리 동생은 작은 회사에서 일하고 있어요.",
    "비가 올지도 모르니까 우산을 챙기세요.",
    "도서관은 일요일에도 문을 엽니까?",
    "커피 값이 이번 달에 또 올랐어요.",
    "아이들이 공원에서 즐겁게 놀고 있습니다.",
    "어제 도와주셔서 정말 감사합니다.",
    "두 번째 신호등에서 왼쪽으로 도세요.",
    "음성 합성은 글을 자연스러운 소리로 바꿉니다.",
    "저녁으로 비빔밥과 된장찌개를 먹었어요.",
    "창밖으로 눈이 조용히 내리고 있었다.",
    "새로운 프로젝트가 다음 주에 시작됩니다.",
    "값이 너무 비싸서 사지 않았어요.",
    "닭고기와 흙냄새, 읽기와 넓이는 발음이 어렵다.",
    "할머니께서 맛있는 떡을 만들어 주셨다.",
    "기차가 눈 때문에 한 시간 늦게 도착했다.",
    "좋은 아침입니다! 잘 주무셨어요?",
    "여기서 박물관까지 버스로 갈 수 있나요?",
    "그 노래를 들으면 항상 고향이 생각나요.",
    "책을 읽으면 마음이 편안해집니다.",
    "강물이 먼 바다를 향해 천천히 흐른다.",
    "다국어 인코더는 여러 언어의 문장을 이해합니다.",
)

_ZH = (
    "你好，很高兴认识你。",
    "今天天气非常好。",
    "明天早上我要早点起床。",
    "我正在学习中文和日语。",
    "这家饭店的面条特别好吃。",
    "从这里走到火车站要多长时间？",
    "周末我和朋友们去看了电影。",
    "会议改到星期四下午三点了。",
    "请您再慢慢地说一遍，好吗？",
    "我弟弟在一家小公司当工程师。",
    "可能会下雨，别忘了带伞。",
    "图书馆星期天开门吗？",
    "这个月咖啡又涨价了。",
    "孩子们在公园里开心地玩耍。",
    "非常感谢你昨天的帮助。",
    "在第二个红绿灯向左转。",
    "语音合成把文字变成自然的声音。",
    "晚饭我们吃了饺子和米饭。",
    "窗外的雪静静地下着。",
    "新的项目下周开始。",
    "我们的世界很大，也很美丽。",
    "他说的话让大家都笑了。",
    "火车因为大雪晚点了一个小时。",
    "早上好！昨晚睡得好吗？",
    "坐公共汽车可以到博物馆吗？",
    "每次听到这首歌，我都会想起家乡。",
    "读书让人心情平静。",
    "河水慢慢地流向远方的大海。",
    "多语言编码器能理解很多种语言的句子。",
    "中华人民共和国成立于一九四九年。",
)

_JP = (
    "こんにちは、はじめまして。",
    "今日はとても良い天気ですね。",
    "明日の朝は早く起きなければなりません。",
    "私は日本語と韓国語を勉強しています。",
    "このレストランのラーメンはとても美味しいです。",
    "ここから駅まで歩いてどのくらいかかりますか？",
    "週末に友達と映画を見に行きました。",
    "会議は木曜日の午後三時に変更されました。",
    "もう一度ゆっくり話していただけますか？",
    "弟は小さな会社でエンジニアとして働いています。",
    "雨が降るかもしれないので、傘を持って行ってください。",
    "図書館は日曜日も開いていますか？",
    "今月もコーヒーの値段が上がりました。",
    "子供たちが公園で楽しそうに遊んでいます。",
    "昨日は手伝ってくれて本当にありがとうございました。",
    "二つ目の信号を左に曲がってください。",
    "音声合成は文章を自然な音声に変えます。",
    "晩ご飯に寿司と味噌汁を食べました。",
    "窓の外では雪が静かに降っていた。",
    "新しいプロジェクトは来週から始まります。",
    "電車は大雪のために一時間遅れました。",
    "おはようございます！よく眠れましたか？",
    "バスで博物館まで行けますか？",
    "この歌を聞くと、いつも故郷を思い出します。",
    "本を読むと心が落ち着きます。",
    "川はゆっくりと遠い海へ流れていく。",
    "多言語エンコーダーは多くの言語の文を理解します。",
    "東京タワーからの景色はすばらしかった。",
    "カタカナとひらがなと漢字を使います。",
    "ありがとう、またね！",
)

# Small word lists combined below into extra sentences, so the sample has a few hundred lines.
_EN_SUBJ = ("My friend", "The teacher", "Our neighbour", "A little girl", "The old man", "Everyone")
_EN_PRED = ("likes music", "visited Seoul last year", "is reading a book", "cooked dinner", "missed the bus")
_KR_SUBJ = ("제 친구는", "선생님은", "우리 이웃은", "어린 소녀는", "할아버지는", "모두가")
_KR_PRED = ("음악을 좋아해요", "작년에 서울에 갔어요", "책을 읽고 있어요", "저녁을 만들었어요", "버스를 놓쳤어요")
_ZH_SUBJ = ("我的朋友", "老师", "我们的邻居", "小女孩", "那位老人", "大家")
_ZH_PRED = ("喜欢音乐", "去年去了首尔", "正在看书", "做了晚饭", "错过了公共汽车")
_JP_SUBJ = ("私の友達は", "先生は", "隣の人は", "小さな女の子は", "おじいさんは", "みんなは")
_JP_PRED = ("音楽が好きです", "去年ソウルに行きました", "本を読んでいます", "晩ご飯を作りました", "バスに乗り遅れました")


def training_sentences() -> list[str]:
    """Every sentence of the sample, in a fixed order (deterministic, a few hundred lines)."""
    out: list[str] = [*_EN, *_KR, *_ZH, *_JP]
    for subjects, predicates, end in (
        (_EN_SUBJ, _EN_PRED, "."),
        (_KR_SUBJ, _KR_PRED, "."),
        (_ZH_SUBJ, _ZH_PRED, "。"),
        (_JP_SUBJ, _JP_PRED, "。"),
    ):
        sep = " " if end == "." else ""
        out.extend(f"{s}{sep}{p}{end}" for s in subjects for p in predicates)
    # Mixed-language lines, the way users write them.
    out.extend(
        (
            "오늘 meeting은 세 시에 시작해요.",
            "我今天用 Python 写了一个程序。",
            "この app はとても便利です。",
            "I love 김치 and 寿司, but not 香菜.",
            "서울에서 東京까지 비행기로 두 시간 걸려요.",
            "Let's go to 北京 next summer!",
        )
    )
    return out
