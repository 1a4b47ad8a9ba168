"""Many distinct everyday sentences in Korean, English, Chinese and Japanese, from small grammars.

The learning-proof corpus (``melo.demo.proof_corpus``) needs hundreds of sentences per language, plus held-out
sentences that occur in no training line, written by us (no downloads). Each language has a grammar of a few
slots (who, when, where, what they do); a sentence is one choice per slot. Every sentence is a pure function of
``(language, index)``: sentences are drawn without repetition from a fixed shuffle of the whole product, so
``sentences(lang, n)`` is a prefix of ``sentences(lang, n + k)`` and held-out sentences (taken from the far end
of the shuffle) never meet training ones.

Japanese slots carry a kana reading beside the written form: espeak-ng voices the corpus and cannot read kanji
(the topic particle は is written わ there, as it is spoken: espeak-ng reads kana letter by letter).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

__all__ = ["LANGUAGES", "Sentence", "grammar_size", "held_out_sentences", "sentences"]

LANGUAGES = ("KR", "EN", "ZH", "JP")


@dataclass(frozen=True)
class Sentence:
    language: str
    text: str
    reading: str
    """What espeak-ng is given: the text itself, or (Japanese) its kana reading."""


# Each slot lists (written, reading); the reading is only different for Japanese.
_KR = (
    ["저는", "제 친구는", "우리 엄마는", "선생님은", "동생은", "그 학생은", "할머니는", "우리 팀은", "옆집 아저씨는", "언니는"],
    ["오늘", "내일", "어제", "주말에", "아침에", "저녁에", "가끔", "매일", "지난주에", "방학 동안"],
    ["집에서", "공원에서", "학교에서", "도서관에서", "카페에서", "회사에서", "시장에서", "바닷가에서", "식당에서", "기차 안에서"],
    ["책을 읽어요.", "커피를 마셔요.", "음악을 들어요.", "친구를 만나요.", "사진을 찍어요.", "편지를 써요.",
     "빵을 먹어요.", "노래를 불러요.", "숙제를 해요.", "영화를 봐요.", "운동을 해요.", "그림을 그려요."],
)
_EN = (
    ["My brother", "The teacher", "Our neighbour", "A young girl", "The old farmer", "Her best friend",
     "The tired driver", "My grandmother", "A quiet student", "The new doctor"],
    ["often", "never", "always", "sometimes", "rarely", "quickly", "slowly", "happily"],
    ["reads a book", "drinks warm milk", "paints the fence", "walks the dog", "sings a song", "cooks some rice",
     "writes a letter", "cleans the kitchen", "plays the piano", "fixes the bike", "feeds the birds", "waters the plants"],
    ["in the morning.", "after lunch.", "on Sunday.", "at the station.", "near the river.", "before dinner.",
     "in the garden.", "at night.", "by the window.", "at school."],
)
_ZH = (
    ["我", "他", "我妈妈", "老师", "我的朋友", "小王", "爷爷", "那个学生", "我们", "她的哥哥"],
    ["今天", "明天", "昨天", "周末", "早上", "晚上", "每天", "下午"],
    ["在家里", "在公园", "在学校", "在图书馆", "在咖啡馆", "在公司", "在市场", "在海边", "在饭店", "在火车上"],
    ["看书。", "喝茶。", "听音乐。", "见朋友。", "拍照片。", "写信。", "吃面包。", "唱歌。", "做作业。", "看电影。",
     "跑步。", "画画。"],
)
_JP = (
    [("私は", "わたしわ"), ("友達は", "ともだちわ"), ("母は", "ははわ"), ("先生は", "せんせいわ"), ("弟は", "おとうとわ"),
     ("あの学生は", "あの がくせいわ"), ("祖母は", "そぼわ"), ("兄は", "あにわ"), ("隣の人は", "となりの ひとわ"),
     ("姉は", "あねわ")],
    [("今日", "きょう"), ("明日", "あした"), ("昨日", "きのう"), ("週末に", "しゅうまつに"), ("朝", "あさ"),
     ("夜", "よる"), ("毎日", "まいにち"), ("午後", "ごご")],
    [("家で", "いえで"), ("公園で", "こうえんで"), ("学校で", "がっこうで"), ("図書館で", "としょかんで"),
     ("喫茶店で", "きっさてんで"), ("会社で", "かいしゃで"), ("市場で", "いちばで"), ("海で", "うみで"),
     ("駅で", "えきで"), ("電車で", "でんしゃで")],
    [("本を読みます。", "ほんを よみます。"), ("お茶を飲みます。", "おちゃを のみます。"),
     ("音楽を聴きます。", "おんがくを ききます。"), ("友達に会います。", "ともだちに あいます。"),
     ("写真を撮ります。", "しゃしんを とります。"), ("手紙を書きます。", "てがみを かきます。"),
     ("パンを食べます。", "ぱんを たべます。"), ("歌を歌います。", "うたを うたいます。"),
     ("宿題をします。", "しゅくだいを します。"), ("映画を見ます。", "えいがを みます。"),
     ("走ります。", "はしります。"), ("絵を描きます。", "えを かきます。")],
)


def _slots(language: str) -> tuple[list[tuple[str, str]], ...]:
    if language == "JP":
        return _JP
    grammar = {"KR": _KR, "EN": _EN, "ZH": _ZH}.get(language)
    if grammar is None:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    return tuple([(w, w) for w in slot] for slot in grammar)


def _joiner(language: str) -> str:
    return " " if language in ("KR", "EN") else ""


def grammar_size(language: str) -> int:
    """How many distinct sentences the language's grammar makes."""
    n = 1
    for slot in _slots(language):
        n *= len(slot)
    return n


def _order(language: str) -> list[tuple[int, ...]]:
    slots = _slots(language)
    order = list(itertools.product(*(range(len(s)) for s in slots)))
    random.Random(f"melo-sentences-{language}").shuffle(order)
    return order


def _sentence(language: str, choice: tuple[int, ...]) -> Sentence:
    parts = [slot[i] for slot, i in zip(_slots(language), choice)]
    j = _joiner(language)
    text = j.join(w for w, _ in parts)
    return Sentence(language, text, " ".join(r for _, r in parts) if language == "JP" else text)


def sentences(language: str, n: int) -> list[Sentence]:
    """The first ``n`` sentences of the language's fixed order (training side)."""
    order = _order(language)
    if n > len(order) // 2:
        raise ValueError(f"{language}: asked for {n} sentences; the grammar keeps at most {len(order) // 2} for training")
    return [_sentence(language, c) for c in order[:n]]


def held_out_sentences(language: str, n: int) -> list[Sentence]:
    """``n`` sentences from the far end of the order: never among ``sentences(language, k)`` for any allowed k."""
    order = _order(language)
    if n > len(order) // 2:
        raise ValueError(f"{language}: asked for {n} held-out sentences; at most {len(order) // 2}")
    return [_sentence(language, c) for c in order[len(order) - n:]]
