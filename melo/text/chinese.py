"""Chinese (Mandarin) backend: ``normalize`` (numbers via cn2an, symbols) and ``g2p`` (jieba + pypinyin).

Pipeline of :func:`g2p`: runs of Han characters are segmented into words by jieba; each word is read
by pypinyin (``Style.TONE3``, neutral tone 5, phrase dictionary); tone sandhi is applied across the run;
each syllable is split into an initial and a final from ``ZH_INITIALS`` / ``ZH_FINALS``. Every jieba
word becomes one :class:`~melo.text.types.Word`; each punctuation mark its own Word; everything else
(Latin letters, emoji, characters pypinyin cannot read) is left uncovered.

Syllable convention (``syllable_phones``):

* the **initial carries the syllable's tone** (as in MeloTTS), so every phone of a syllable has its tone;
  punctuation has tone 0;
* zero-initial syllables written with y/w take ``y``/``w`` as the initial and keep the medial in the
  final: yi -> y i, ya -> y ia, ye -> y ie, you -> y iu, yan -> y ian, yong -> y iong, yu -> y v,
  yue -> y ve, yuan -> y van, yun -> y vn; wu -> w u, wa -> w ua, wo -> w uo, wei -> w ui,
  wen -> w un, weng -> w ueng (and the rare wong -> w ong); syllables starting with a/o/e
  (an, ou, er, ê) have no initial and are one phone;
* zhi chi shi ri -> final ``ir``; zi ci si -> final ``i0``; ju qu xu (and nü lü) -> ``v`` finals;
  iu/ui/un are kept as written (liu -> l iu, dui -> d ui, dun -> d un);
* the syllabic nasals 嗯 n/ng and 呣 m, hm, hng are approximated: n -> en, ng -> eng, m -> m u,
  hm -> h en, hng -> h eng.

Tone sandhi (``apply_sandhi``), on pypinyin's tones:

* 一: 1st tone as an ordinal (第一, and before 月 楼 号 线 流 年级 等奖: 一月, 一楼, 一号线, 一年级), inside
  numbers (十一, 一九九九, 三点一四, 一点八), in dates (三月一日), at the end of a multi-character word (统一,
  唯一) or of the run; neutral in V一V (看一看); otherwise 2nd before a 4th or neutral tone (一个, 一样)
  and 4th before tones 1-3 (一天, 一年, 一起);
* 不: neutral in V不V (好不好) and in the middle of a three-character word (对不起, 了不起, 看不见); 2nd
  before a 4th tone (不是, 不对); otherwise 4th; a neutral tone that pypinyin gives (差不多) is kept;
* third tone, over the whole run between punctuation marks: inside each jieba word first (two -> 2 3;
  three -> 2 2 3, or 3 2 3 when the last two form a word, 小|老虎; four -> 2 3 2 3), then across word
  boundaries from right to left (你好|你好 -> 2 3 2 3, 很|有意思 -> 很 2, 我|很|好 -> 3 2 3, 老板|好 -> 2 2 3);
* neutral tones are the ones pypinyin gives (particles 的 了 吗, 们, some reduplications).

Before sandhi, the one-character words 得 (de5/dei3/de2), 还 (hai2/huan2) and 地 (de5/di4) are read from
their neighbours (:func:`context_readings`).

Erhua: a word-final 儿 of a multi-character word (那儿, 一点儿, 玩儿), except words where 儿 is a full
syllable (女儿, 婴儿, 孤儿, ...), is read as a reduced syllable ``er`` with the neutral tone 5. The
inventory has no r-coloured finals, so it is not merged into the preceding final.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
from dataclasses import dataclass

from melo.text.symbols import ZH_FINALS, ZH_INITIALS
from melo.text.types import Word

__all__ = ["Syllable", "apply_sandhi", "context_readings", "g2p", "normalize", "syllable_phones"]

logger = logging.getLogger(__name__)

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN_RE = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<punct>[!?…,.'\-])")
_INITIALS_LONGEST_FIRST = sorted(ZH_INITIALS, key=len, reverse=True)
_FINALS = frozenset(ZH_FINALS)


# --- normalisation ---------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """Read entities (units, ranges, fractions, phone numbers, addresses: :mod:`melo.text.entities`),
    numbers (cardinals, decimals, dates, times, currency) and symbols in Chinese."""
    from melo.text.entities import expand_entities
    from melo.text.zh_entities import READER
    from melo.text.zh_numbers import expand_numbers

    return expand_numbers(expand_entities(text, READER))


# --- syllables -------------------------------------------------------------------------------------
_Y_FINALS = {"i": "i", "in": "in", "ing": "ing", "u": "v", "ue": "ve", "uan": "van", "un": "vn",
             "a": "ia", "e": "ie", "ao": "iao", "ou": "iu", "an": "ian", "ang": "iang", "ong": "iong",
             "o": "io", "v": "v", "ve": "ve", "van": "van", "vn": "vn"}
_W_FINALS = {"u": "u", "a": "ua", "o": "uo", "ai": "uai", "ei": "ui", "an": "uan", "en": "un",
             "ang": "uang", "eng": "ueng", "ong": "ong"}
_SYLLABIC_NASALS = {"n": ("en",), "ng": ("eng",), "m": ("m", "u"), "hm": ("h", "en"), "hng": ("h", "eng")}


@functools.lru_cache(maxsize=4096)
def syllable_phones(syllable: str) -> tuple[str, ...] | None:
    """``"zhuang"`` -> ("zh", "uang"); ``"yu"`` -> ("y", "v"); None if it is not a pinyin syllable."""
    s = syllable.replace("ü", "v")
    if s in _SYLLABIC_NASALS:
        return _SYLLABIC_NASALS[s]
    initial = next((i for i in _INITIALS_LONGEST_FIRST if s.startswith(i) and len(s) > len(i)), "")
    final = s[len(initial):]
    if initial == "y":
        final = _Y_FINALS.get(final, "")
    elif initial == "w":
        final = _W_FINALS.get(final, "")
    elif initial in ("j", "q", "x") or (initial in ("n", "l") and final.startswith("ue")):
        final = {"u": "v", "ue": "ve", "uan": "van", "un": "vn"}.get(final, final)
    elif initial in ("zh", "ch", "sh", "r") and final == "i":
        final = "ir"
    elif initial in ("z", "c", "s") and final == "i":
        final = "i0"
    if final not in _FINALS:
        return None
    return (initial, final) if initial else (final,)


@dataclass
class Syllable:
    """One Han character's reading while sandhi is applied: ``pinyin`` without tone, ``tone`` 1-5."""

    char: str
    pinyin: str
    tone: int
    word: int  # index of its jieba word within the run


# --- jieba / pypinyin ------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _tokenizer():  # -> jieba.Tokenizer
    """jieba's default tokenizer, quiet, with its cache file in a private temp folder (built once)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    cache_dir = os.path.join(tempfile.gettempdir(), "melo_jieba")
    try:
        os.makedirs(cache_dir, exist_ok=True)
        jieba.dt.tmp_dir = cache_dir
    except OSError as err:  # jieba falls back to its default temp folder
        logger.warning("cannot create jieba cache folder %s (%s); segmentation still works", cache_dir, err)
    jieba.dt.initialize()
    return jieba.dt


def _segment(run: str) -> list[str]:
    return _tokenizer().lcut(run)


def _in_dictionary(word: str) -> bool:
    return _tokenizer().FREQ.get(word, 0) > 0


def _read(word: str) -> list[str]:
    """TONE3 readings of a Han word, one per character; "" for a character pypinyin cannot read."""
    from pypinyin import Style, lazy_pinyin

    def style(w: str) -> list[str]:
        return lazy_pinyin(w, style=Style.TONE3, neutral_tone_with_five=True, errors=lambda x: [""] * len(x))

    readings = style(word)
    if len(readings) != len(word):  # never seen, but do not misalign: read character by character
        readings = [(style(ch) or [""])[0] for ch in word]
    return [r or "" for r in readings]


# --- tone sandhi -----------------------------------------------------------------------------------
_NUMERALS = frozenset("零〇一二三四五六七八九十两")
_BIG_UNITS = frozenset("百千万亿")
# 一 is the ordinal "first", tone 1, before these: 一月 (January), 一楼 (ground floor), 一号 (number one),
# 一线 (front line), 一流 (first-rate); and before these pairs: 一年级 (first grade), 一等奖, 一季度
_FIRST_OF = frozenset("月楼号线流")
_FIRST_OF_TWO = frozenset(["年级", "等奖", "季度", "单元", "等座"])
_LEXICAL_ER = frozenset(["女儿", "婴儿", "孤儿", "幼儿", "健儿", "男儿", "少儿", "宠儿", "胎儿", "患儿",
                         "儿女", "孩儿", "混血儿", "新生儿", "产儿", "托儿", "育儿", "寄生儿", "弃儿", "乳儿"])


def _is_word_final(syls: list[Syllable], i: int) -> bool:
    return i + 1 == len(syls) or syls[i + 1].word != syls[i].word


def _yi_tone(syls: list[Syllable], i: int, orig: list[int]) -> int:
    prev = syls[i - 1].char if i > 0 else ""
    nxt = syls[i + 1].char if i + 1 < len(syls) else ""
    if prev and prev == nxt:
        return 5  # 看一看
    word_start = i == 0 or syls[i - 1].word != syls[i].word
    if not nxt or (not word_start and _is_word_final(syls, i)):
        return 1  # run end; 统一, 唯一, 十一, 第一
    if prev == "第" or prev in _NUMERALS or prev == "点" or nxt in _NUMERALS - {"十", "两"}:
        return 1  # ordinal, inside a number or a digit string, decimals
    if prev in _BIG_UNITS and nxt not in _BIG_UNITS:
        return 1  # 一百一
    if prev == "月" and nxt in "日号":
        return 1  # dates: 三月一日
    if nxt == "点" and i + 2 < len(syls) and syls[i + 2].char in _NUMERALS:
        return 1  # decimals: 一点八五
    after = "".join(s.char for s in syls[i + 1 : i + 3])
    if word_start and (nxt in _FIRST_OF or after in _FIRST_OF_TWO):
        return 1  # the first month, floor, line, grade: 一月, 一楼, 一号线, 一年级, 一等奖
    return 2 if orig[i + 1] in (4, 5) else 4


def _bu_tone(syls: list[Syllable], i: int, orig: list[int]) -> int:
    prev = syls[i - 1].char if i > 0 else ""
    nxt = syls[i + 1].char if i + 1 < len(syls) else ""
    if prev and prev == nxt:
        return 5  # 好不好
    if orig[i] == 5:
        return 5  # pypinyin's own neutral tone (差不多)
    if 0 < i < len(syls) - 1 and syls[i - 1].word == syls[i].word == syls[i + 1].word and _word_length(syls, i) == 3:
        return 5  # the middle of 对不起, 了不起, 来不及, 看不见
    return 2 if nxt and orig[i + 1] == 4 else 4


def _word_length(syls: list[Syllable], i: int) -> int:
    return sum(1 for s in syls if s.word == syls[i].word)


def _word_ranges(syls: list[Syllable]) -> list[tuple[int, int]]:
    """[start, end) syllable ranges of the jieba words."""
    words: list[tuple[int, int]] = []
    for i, s in enumerate(syls):
        if words and syls[words[-1][0]].word == s.word:
            words[-1] = (words[-1][0], i + 1)
        else:
            words.append((i, i + 1))
    return words


def _third_tone_run(syls: list[Syllable], start: int, end: int) -> None:
    """Sandhi for syllables [start, end) of one word, all 3rd tone; the last one keeps its 3rd tone:
    two -> 2 3; three -> 2 2 3 or 3 2 3 by the word's inner structure (展览|馆, 小|老虎); four -> 2 3 2 3;
    more -> all but the last 2."""
    length = end - start
    if length == 3:
        chars = "".join(s.char for s in syls[start:end])
        if not _in_dictionary(chars[:2]) and _in_dictionary(chars[1:]):  # 1+2: 3 2 3
            syls[start + 1].tone = 2
            return
    if length == 4:
        syls[start].tone = syls[start + 2].tone = 2
        return
    for s in syls[start : end - 1]:
        s.tone = 2


def _third_tone_sandhi(syls: list[Syllable]) -> None:
    """Within each word first, then across word boundaries from right to left: a 3rd tone before a 3rd
    tone becomes 2nd (你好|你好 -> 2 3 2 3; 很|有意思 -> 很 2; 我|很|好 -> 3 2 3; 展览|馆 -> 2 2 3)."""
    words = _word_ranges(syls)
    for start, end in words:
        i = start
        while i < end:
            if syls[i].tone != 3:
                i += 1
                continue
            j = i
            while j < end and syls[j].tone == 3:
                j += 1
            if j - i >= 2:
                _third_tone_run(syls, i, j)
            i = j
    for start, _ in reversed(words[1:]):
        if syls[start - 1].tone == 3 and syls[start].tone == 3:
            syls[start - 1].tone = 2


def apply_sandhi(syls: list[Syllable]) -> None:
    """In place: 一 and 不 sandhi, then third-tone sandhi over the run (see the module docstring)."""
    # neighbours' tones as written; 一 and 不 by their citation tones (pypinyin's phrase dictionary
    # sometimes gives them already changed, e.g. 一起 yi4)
    orig = [1 if (s.char, s.pinyin) == ("一", "yi") and s.tone != 5 else s.tone for s in syls]
    for i, s in enumerate(syls):
        if s.char == "一" and s.pinyin == "yi" and s.tone != 5:
            s.tone = _yi_tone(syls, i, orig)
        elif s.char == "不" and s.pinyin == "bu":
            s.tone = _bu_tone(syls, i, orig)
    _third_tone_sandhi(syls)


# --- readings that depend on the neighbouring words ----------------------------------------------------
_SUBJECTS = frozenset("我 你 您 他 她 它 我们 你们 他们 她们 咱们 大家 谁 人家 自己".split())
_MODAL_ADVERBS = frozenset("还 就 也 都 总 只 又 可 才 必须 一定 非".split())
_RETURNED = frozenset("钱书债款贷清回本手击礼")  # 还钱, 还书, 还债: huan2 (give back)
_NOT_ADVERBIAL = frozenset("块片个这那种此该各某每整的")  # 这块地, 那片地: 地 is di4 (ground)


def context_readings(words: list[str], readings: list[list[str]]) -> None:
    """In place: readings of 得, 还 and 地 from their neighbouring words.

    * 得 (a word of its own) -- dei3 (must) after a subject or a modal adverb (你得去, 还得); de2 (get)
      before 了/到; de5 (the complement marker) after any other word (跑得快, 唱得好);
    * 还 (a word of its own) -- huan2 (give back) before 钱 书 债 款 ..., also after a pronoun (还钱, 还你钱),
      and at the end of a clause (按时还); otherwise pypinyin's hai2 (still);
    * 地 -- de5 (the adverbial marker) after an adverbial of two or more characters that is not a
      demonstrative or measure phrase (认真地学习, 慢慢地走), also where jieba glued it to the verb (高兴|地笑)
      or to the adverb (静静地, 不断地; but 目的地, 殖民地 keep di4); otherwise di4.
    """
    for k, word in enumerate(words):
        prev = words[k - 1] if k > 0 else ""
        nxt = words[k + 1] if k + 1 < len(words) else ""
        if word == "得":
            if nxt[:1] in ("了", "到"):
                continue
            reading = "dei3" if prev in _SUBJECTS or prev in _MODAL_ADVERBS else "de5" if prev else ""
            if reading:
                readings[k] = [reading]
        elif word == "还":
            after = words[k + 2] if k + 2 < len(words) else ""
            if not nxt or nxt[:1] in _RETURNED or (nxt in _SUBJECTS and after[:1] in _RETURNED):
                readings[k] = ["huan2"]
        elif "地" in word:
            _adverbial_de(words, k, readings)


def _adverbial_de(words: list[str], k: int, readings: list[list[str]]) -> None:
    word, prev = words[k], words[k - 1] if k > 0 else ""
    after_adverbial = len(prev) >= 2 and prev[-1] not in _NOT_ADVERBIAL
    if word == "地":
        if after_adverbial and k + 1 < len(words):
            readings[k] = ["de5"]
    elif word[0] == "地" and len(word) == 2 and after_adverbial and not _in_dictionary(word):
        readings[k] = ["de5", *readings[k][1:]]  # 高兴|地笑
    elif word[-1] == "地" and len(word) >= 3 and (word[0] == word[1] or not _in_dictionary(word)):
        readings[k] = [*readings[k][:-1], "de5"]  # 静静地, 不断地


# --- g2p -------------------------------------------------------------------------------------------
def _read_run(run: str, offset: int) -> list[Word]:
    """Words for one run of Han characters starting at ``offset`` in the segment."""
    syls: list[Syllable] = []
    positions: list[int] = []  # character offset of each syllable
    words = _segment(run)
    word_readings = [_read(word) for word in words]
    context_readings(words, word_readings)
    pos = offset
    for w_index, (word, readings) in enumerate(zip(words, word_readings)):
        for k, (ch, reading) in enumerate(zip(word, readings)):
            if reading and reading[-1].isdigit():
                pinyin, tone = reading[:-1], int(reading[-1])
                if ch == "儿" and k == len(word) - 1 and len(word) > 1 and word not in _LEXICAL_ER:
                    tone = 5  # erhua suffix: reduced, neutral
                if syllable_phones(pinyin) is not None and 1 <= tone <= 5:
                    syls.append(Syllable(ch, pinyin, tone, w_index))
                    positions.append(pos + k)
                    continue
            logger.debug("no pinyin reading for %r", ch)
        pos += len(word)
    apply_sandhi(syls)
    out: list[Word] = []
    i = 0
    while i < len(syls):
        # one Word per jieba word, split where an unreadable character interrupts it
        j = i + 1
        while j < len(syls) and syls[j].word == syls[i].word and positions[j] == positions[j - 1] + 1:
            j += 1
        phones: list[str] = []
        tones: list[int] = []
        for s in syls[i:j]:
            for p in syllable_phones(s.pinyin) or ():
                phones.append(p)
                tones.append(s.tone)
        out.append(Word(positions[i], positions[j - 1] + 1, tuple(phones), tuple(tones)))
        i = j
    return out


def g2p(text: str) -> list[Word]:
    """Words of a normalised Chinese segment with pinyin initials/finals and local tones (1-5, 0)."""
    out: list[Word] = []
    for m in _TOKEN_RE.finditer(text):
        if m["punct"]:
            out.append(Word(m.start(), m.end(), (m["punct"],), (0,)))
        else:
            out.extend(_read_run(m["han"], m.start()))
    return out
