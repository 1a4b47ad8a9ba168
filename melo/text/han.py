"""Is a stretch of Han characters (kanji / hanzi) with no kana around it Japanese or Chinese?

A sentence with kana is Japanese, whatever its kanji. A kana-less stretch is weighed by its characters,
using the character sets of the standard encodings (Python's own codecs, no data files):

* **Japanese evidence**: characters of JIS X 0208 (``shift_jis``) that Simplified Chinese (GB 2312)
  lacks -- the Japanese forms 駅 県 図 気 庁 経 and the traditional-looking forms Japanese keeps, 東 語 書 館;
* **Chinese evidence**: characters that JIS X 0208 lacks (们 这 说 你 她 吗), common Traditional-Chinese
  forms Japanese has replaced (們 這 麼 會 學 國 ...), and Chinese function words rarely written in
  kana-less Japanese (我 很 呢 吧 啊 哪 跟 也);
* everything else (大 阪 府 市 北 区 中 国 人 ...) is shared and weighs nothing.

The side with more evidence wins. A tie (often: no evidence at all, as in 大阪府大阪市北区 or 中国人) is
broken by the paragraph -- the sentences around it vote, each by its kana or its own evidence --, then by
the caller's language tag (a call's or a speaker's default language), then goes to Chinese.
"""

from __future__ import annotations

import functools
import re

__all__ = ["HanVote", "han_evidence", "han_language", "paragraph_vote"]

JP, ZH = "JP", "ZH"
HanVote = str  # "JP", "ZH" or "" (no decision)

_CHINESE_FUNCTION_WORDS = frozenset("我很呢吧啊哪跟也")
_TRADITIONAL_ONLY = frozenset("們這麼嗎裡對說來會學國體點邊與")
_SENTENCE_END = re.compile(r"[.!?。！？\n]+")
_EVIDENCE: dict[str, int] = {}  # char -> +1 Japanese, -1 Chinese, 0 neither


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _char_evidence(ch: str) -> int:
    score = _EVIDENCE.get(ch)
    if score is None:
        if ch in _CHINESE_FUNCTION_WORDS or ch in _TRADITIONAL_ONLY:
            score = -1
        elif _encodable(ch, "shift_jis"):
            score = 0 if _encodable(ch, "gb2312") else 1
        else:
            score = -1 if (_encodable(ch, "gb2312") or _encodable(ch, "big5")) else 0
        _EVIDENCE[ch] = score
    return score


def is_kana(ch: str) -> bool:
    o = ord(ch)
    return (0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F) and ch != "・"


def is_han(ch: str) -> bool:
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F
        or ch in "々〆〇"
    )


def han_evidence(sentence: str) -> HanVote:
    """The sentence's own vote: JP if it has kana or more Japanese evidence, ZH for more Chinese, else ""."""
    total = 0
    for ch in sentence:
        if is_kana(ch):
            return JP
        if ch > "\u3000" and is_han(ch):
            total += _char_evidence(ch)
    return JP if total > 0 else ZH if total < 0 else ""


@functools.lru_cache(maxsize=64)
def paragraph_vote(paragraph: str) -> HanVote:
    """JP or ZH by the majority of the paragraph's sentences that decide on their own; "" on a tie."""
    jp = zh = 0
    for sentence in _SENTENCE_END.split(paragraph):
        vote = han_evidence(sentence)
        jp += vote == JP
        zh += vote == ZH
    return JP if jp > zh else ZH if zh > jp else ""


def han_language(sentence: str, paragraph: str | None, tag: str | None) -> str:
    """JP or ZH for the Han characters of ``sentence`` (see the module docstring)."""
    vote = han_evidence(sentence)
    if not vote and paragraph:
        vote = paragraph_vote(paragraph)
    if not vote and tag in (JP, ZH):
        vote = tag
    return vote or ZH
