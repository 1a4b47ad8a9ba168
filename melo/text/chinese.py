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

* 一: 1st tone as an ordinal (第一), inside numbers (十一, 一九九九, 三点一四, 一点八), in dates (三月一日),
  at the end of a multi-character word (统一, 唯一) or of the run; neutral in V一V (看一看); otherwise
  2nd before a 4th or neutral tone (一个, 一样) and 4th before tones 1-3 (一天, 一年, 一起);
* 不: neutral in V不V (好不好); 2nd before a 4th tone (不是, 不对); otherwise 4th; a neutral tone
  that pypinyin gives (差不多) is kept;
* third tone: within a prosodic group -- adjacent jieba words merged left to right while the group
  stays at most 4 syllables -- each run of consecutive 3rd tones is changed: two -> 2 3 (你好);
  three -> 2 2 3 when the first two belong together (展览|馆) or 3 2 3 when the last two do
  (我|很好), all-but-last -> 2 when no structure is known; four or more -> all but the last become 2;
* neutral tones are the ones pypinyin gives (particles 的 了 吗, 们, some reduplications).

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

__all__ = ["Syllable", "apply_sandhi", "g2p", "normalize", "syllable_phones"]

logger = logging.getLogger(__name__)

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN_RE = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<punct>[!?…,.'\-])")
_INITIALS_LONGEST_FIRST = sorted(ZH_INITIALS, key=len, reverse=True)
_FINALS = frozenset(ZH_FINALS)


# --- normalisation ---------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """Read numbers (cardinals, decimals, dates, times, percentages, currency) and symbols in Chinese."""
    from melo.text.zh_numbers import expand_numbers

    return expand_numbers(text)


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
_LEXICAL_ER = frozenset(["女儿", "婴儿", "孤儿", "幼儿", "健儿", "男儿", "少儿", "宠儿", "胎儿", "患儿",
                         "儿女", "孩儿", "混血儿", "新生儿", "产儿", "托儿", "育儿", "寄生儿", "弃儿", "乳儿"])
_MAX_GROUP_SYLLABLES = 4


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
    return 2 if orig[i + 1] in (4, 5) else 4


def _bu_tone(syls: list[Syllable], i: int, orig: list[int]) -> int:
    prev = syls[i - 1].char if i > 0 else ""
    nxt = syls[i + 1].char if i + 1 < len(syls) else ""
    if prev and prev == nxt:
        return 5  # 好不好
    if orig[i] == 5:
        return 5  # pypinyin's own neutral tone (差不多)
    return 2 if nxt and orig[i + 1] == 4 else 4


def _prosodic_groups(syls: list[Syllable]) -> list[tuple[int, int]]:
    """[start, end) syllable ranges: adjacent words merged while a group stays <= 4 syllables."""
    words: list[tuple[int, int]] = []
    for i, s in enumerate(syls):
        if words and syls[words[-1][0]].word == s.word:
            words[-1] = (words[-1][0], i + 1)
        else:
            words.append((i, i + 1))
    groups: list[tuple[int, int]] = []
    for start, end in words:
        if groups and end - groups[-1][0] <= _MAX_GROUP_SYLLABLES:
            groups[-1] = (groups[-1][0], end)
        else:
            groups.append((start, end))
    return groups


def _third_tone_run(syls: list[Syllable], start: int, end: int) -> None:
    """Sandhi for syllables [start, end), all 3rd tone; the last one keeps its 3rd tone."""
    length = end - start
    if length == 3:
        boundaries = {k for k in (1, 2) if syls[start + k].word != syls[start + k - 1].word}
        if not boundaries:
            chars = "".join(s.char for s in syls[start:end])
            boundaries = {2} if _in_dictionary(chars[:2]) else ({1} if _in_dictionary(chars[1:]) else set())
        if boundaries == {1}:  # 1+2: 3 2 3
            syls[start + 1].tone = 2
            return
    for s in syls[start : end - 1]:
        s.tone = 2


def apply_sandhi(syls: list[Syllable]) -> None:
    """In place: 一 and 不 sandhi, then third-tone sandhi per prosodic group (see the module docstring)."""
    # neighbours' tones as written; 一 and 不 by their citation tones (pypinyin's phrase dictionary
    # sometimes gives them already changed, e.g. 一起 yi4)
    orig = [1 if (s.char, s.pinyin) == ("一", "yi") and s.tone != 5 else s.tone for s in syls]
    for i, s in enumerate(syls):
        if s.char == "一" and s.pinyin == "yi" and s.tone != 5:
            s.tone = _yi_tone(syls, i, orig)
        elif s.char == "不" and s.pinyin == "bu":
            s.tone = _bu_tone(syls, i, orig)
    for g_start, g_end in _prosodic_groups(syls):
        i = g_start
        while i < g_end:
            if syls[i].tone != 3:
                i += 1
                continue
            j = i
            while j < g_end and syls[j].tone == 3:
                j += 1
            if j - i >= 2:
                _third_tone_run(syls, i, j)
            i = j


# --- g2p -------------------------------------------------------------------------------------------
def _read_run(run: str, offset: int) -> list[Word]:
    """Words for one run of Han characters starting at ``offset`` in the segment."""
    syls: list[Syllable] = []
    positions: list[int] = []  # character offset of each syllable
    words = _segment(run)
    pos = offset
    for w_index, word in enumerate(words):
        readings = _read(word)
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
