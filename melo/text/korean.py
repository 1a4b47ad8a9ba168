"""Korean backend: number/symbol reading (:func:`normalize`) and orthographic jamo G2P (:func:`g2p`).

Phones are **orthographic conjoining jamo** -- exactly what ``jamo.hangul_to_jamo`` returns: onsets
U+1100-U+1112, vowels U+1161-U+1175 and all 27 codas U+11A8-U+11C2 (onset ㅇ U+110B and coda ㅇ U+11BC
stay distinct). No pronunciation rules are applied and codas are **not neutralised**: liaison (연음)
and tensification depend on the full coda -- 값이 is said [갑씨], and only the ㅅ of ᆹ tells the model so;
neutralising ᆹ to ᆸ would lose it -- while the text encoder's transformer sees every neighbour and can
learn the sound changes from context. Decomposition uses Unicode NFD, which for precomposed syllables is
the same mapping as ``jamo.hangul_to_jamo`` (tested) and runs in C. Optionally
(``data.korean_coda_classes``, :mod:`melo.text.kr_codas`) a neutralised coda is followed by its class
symbol (옷도 -> ... ᆺ ᆮ̚ ...), so the codas that sound alike share what the model learns.

What :func:`g2p` reads, each run being one :class:`~melo.text.types.Word`:

* an eojeol (a run of Hangul syllables);
* Hangul compatibility letters (ㄱ, ㅏ, ㅋㅋ): a *single* consonant letter is read by its name
  (ㄱ -> 기역, ㄲ -> 쌍기역, ㄳ -> 기역시옷) and a single vowel letter by its sound (ㅏ -> 아); a *run* of two
  or more letters (ㅋㅋ, ㅎㅎ, ㅠㅠ) is read as sounds, as Korean readers say them: consonant + ㅡ
  (ㅋㅋ -> 크크, ㄳ -> 그스), vowel after a silent ㅇ (ㅠㅠ -> 유유);
* Latin letters, spelled with Korean letter names (A -> 에이, B -> 비, ..., W -> 더블유);
* stray conjoining jamo that are in the inventory, as themselves;
* each punctuation mark ``! ? … , . ' -`` as its own word with phone ``(mark,)``.

Anything else (digits left over, emoji, other scripts) is not covered. Every tone is 0.

:func:`normalize` reads numbers Sino-Korean (1234 -> 천이백삼십사, 0.5 -> 영 점 오, -3 -> 마이너스 삼),
and with native numerals (한/두/세/네/스무 ..., 1-99) before native counters (3시 -> 세 시, 2개 -> 두 개,
3조각 -> 세 조각; see :mod:`melo.text.kr_numbers` for 번, 번째 and 대); time 10:30 -> 열 시 삼십 분; dates
2024-03-01 / 2024.3.1 -> 이천이십사 년 삼 월 일 일; 6월/10월 -> 유월/시월; currency ₩ $ € £ ¥; the symbols
% & + @ # = × ÷ (3×4=12 -> 삼 곱하기 사는 십이); units, ranges, fractions, phone numbers and addresses
through :mod:`melo.text.kr_entities` (5kg -> 오 킬로그램, 3~5명 -> 세 명에서 다섯 명, 1/2 -> 이 분의 일,
010-1234-5678 -> 공일공 일이삼사 오육칠팔). A number is separated from a following unit by a space
(2024년 -> 이천이십사 년) but a bare particle stays attached (3은 -> 삼은). A caret that is not a power
(^^, a smile) is silent.
"""

from __future__ import annotations

import logging
import re
import unicodedata

from melo.text.entities import expand_entities
from melo.text.kr_codas import with_coda_classes
from melo.text.kr_entities import READER
from melo.text.kr_numbers import read_decimal, read_month, read_native, read_ordinal_prefix, read_sino, takes_native
from melo.text.types import Word
from melo.text.written_numbers import DATE, NUMBER

__all__ = ["g2p", "normalize", "read_month", "read_native", "read_sino"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------------------

_CURRENCY = {"₩": "원", "$": "달러", "€": "유로", "£": "파운드", "¥": "엔"}
_SYMBOLS = {"%": "퍼센트", "&": "앤드", "+": "플러스", "@": "골뱅이", "#": "샵", "=": "이퀄", "°": "도",
            "×": "곱하기", "÷": "나누기", "⁄": "슬래시"}
_TOPIC = "\ue000"  # stands for "=" after a number until the number is read: 3×4=12 -> 삼 곱하기 사는 십이

_NORMALIZE = re.compile(
    DATE
    + r"|(?P<time>(?<!\d)(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?!\d))"
    + "|" + NUMBER
    + r"|(?P<sym>[%&+@#=°×÷⁄])"
)
_TRIGGER = re.compile(r"[\d%&+@#=°×÷⁄^*]")
_HANGUL_RUN = re.compile(r"[가-힣]+")
_PRODUCT = re.compile(r"(?<=\d) ?[x*] ?(?=\d)")  # 3x4, 3*4 -> 3×4
_EQUALS_AFTER_NUMBER = re.compile(r"(?<=\d) ?= ?")
_EMOTICON_CARETS = re.compile(r"\^+")  # ^^ (a smile) is silent; 2^10 was read as an entity before
_FINAL_HANGUL = re.compile(r"([가-힣])[^가-힣]*$")


def _unit_separator(text: str, end: int) -> tuple[str, str]:
    """What follows a number at ``end``: (separator to insert, the Hangul run there).

    The run may sit right after the number (``3시``) or after one space (``3 시``); a space is only
    inserted in the first case, and not before a bare particle (``3은``).
    """
    m = _HANGUL_RUN.match(text, end)
    if m is not None:
        run = m.group()
        return ("" if run in _PARTICLES else " "), run
    if text.startswith(" ", end):
        m = _HANGUL_RUN.match(text, end + 1)
        if m is not None:
            return "", m.group()
    return "", ""


_PARTICLES = frozenset(
    "은 는 이 가 을 를 에 의 로 와 과 만 나 랑 요 께 "
    "으로 에서 에게 까지 부터 보다 처럼 이나 이랑 하고 이다 이고 이며 입니다 이에요 예요 이요".split()
)


def _replace(m: re.Match[str]) -> str:
    text = m.string
    if m.group("date"):
        month, day = int(m.group("mo")), int(m.group("d"))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return " ".join(read_sino(m.group(g)) for g in ("y", "mo", "d"))  # not a date
        sep, _ = _unit_separator(text, m.end())
        return f"{read_sino(m.group('y'))} 년 {read_month(month)} {read_sino(str(day))} 일" + sep
    if m.group("time"):
        hour, minute = int(m.group("h")), int(m.group("m"))
        if hour > 24 or minute > 59:
            return read_sino(m.group("h")) + " " + read_sino(m.group("m"))
        words = [(read_native(hour) if hour else "영") + " 시"]
        if minute:
            words.append(read_sino(str(minute)) + " 분")
        if m.group("s") and int(m.group("s")):
            words.append(read_sino(str(int(m.group("s")))) + " 초")
        sep, _ = _unit_separator(text, m.end())
        return " ".join(words) + sep
    if m.group("sym"):
        return " " + _SYMBOLS[m.group("sym")] + " "

    integer = m.group("int").replace(",", "")
    frac = m.group("frac")
    sep, following = _unit_separator(text, m.end())
    n = int(integer)
    plain = frac is None and not m.group("cur") and not (len(integer) > 1 and integer[0] == "0")
    if frac is not None:
        reading = read_decimal(integer, frac)
    elif plain and following.startswith(("번째", "째")) and 1 <= n <= 99:
        reading = read_ordinal_prefix(n, "째" if following.startswith("째") else "번째")
        reading = reading.partition(" ")[0].removesuffix("째")
        sep = "" if following.startswith("째") else " "
    elif plain and following and takes_native(n, following, text[m.end() + len(following) + (text[m.end()] == " "):]):
        reading = read_native(n)
    elif following.startswith("월") and integer in ("6", "10"):
        reading = "유" if integer == "6" else "시"  # 유월, 시월
        sep = ""
    else:
        reading = read_sino(integer)
    if m.group("neg"):
        reading = "마이너스 " + reading
    if m.group("cur"):
        return reading + " " + _CURRENCY[m.group("cur")] + (" " if sep else "")
    return reading + sep


def _topic_particle(m: re.Match[str]) -> str:
    """은 after a syllable with a final consonant, 는 after an open one (십이는? 십이 ends open: 는)."""
    before = _FINAL_HANGUL.search(m.string, 0, m.start())
    if before is None:
        return " 이퀄 "
    has_coda = (ord(before.group(1)) - 0xAC00) % 28 != 0
    return ("은" if has_coda else "는") + " "


_SPACES = re.compile(r" {2,}")


def normalize(text: str) -> str:
    """Read entities (units, ranges, fractions, phone numbers, addresses: see
    :mod:`melo.text.entities`), numbers and symbols of one Korean segment as Korean words."""
    text = expand_entities(text, READER)
    if _TRIGGER.search(text) is None:
        return text
    if "x" in text or "*" in text:
        text = _PRODUCT.sub("×", text)
    if "=" in text:
        text = _EQUALS_AFTER_NUMBER.sub(_TOPIC, text)
    if "^" in text:
        text = _EMOTICON_CARETS.sub(" ", text)
    out = _NORMALIZE.sub(_replace, text)
    if _TOPIC in out:
        out = re.sub(" ?" + _TOPIC + " ?", _topic_particle, out)
    return _SPACES.sub(" ", out).strip()


# --------------------------------------------------------------------------------------------------
# G2P
# --------------------------------------------------------------------------------------------------

_VOWEL_BASE = 0x314F  # ㅏ in the compatibility block; ㅏ..ㅣ are 21 letters in jamo vowel order
_ONSET_OF_COMPAT = {  # compatibility consonant letter -> conjoining onset(s) it is made of
    "ㄱ": "ᄀ", "ㄲ": "ᄁ", "ㄳ": "ᄀᄉ", "ㄴ": "ᄂ", "ㄵ": "ᄂᄌ", "ㄶ": "ᄂᄒ", "ㄷ": "ᄃ", "ㄸ": "ᄄ",
    "ㄹ": "ᄅ", "ㄺ": "ᄅᄀ", "ㄻ": "ᄅᄆ", "ㄼ": "ᄅᄇ", "ㄽ": "ᄅᄉ", "ㄾ": "ᄅᄐ", "ㄿ": "ᄅᄑ", "ㅀ": "ᄅᄒ",
    "ㅁ": "ᄆ", "ㅂ": "ᄇ", "ㅃ": "ᄈ", "ㅄ": "ᄇᄉ", "ㅅ": "ᄉ", "ㅆ": "ᄊ", "ㅇ": "ᄋ", "ㅈ": "ᄌ",
    "ㅉ": "ᄍ", "ㅊ": "ᄎ", "ㅋ": "ᄏ", "ㅌ": "ᄐ", "ㅍ": "ᄑ", "ㅎ": "ᄒ",
}
_LETTER_NAMES = {
    "ㄱ": "기역", "ㄴ": "니은", "ㄷ": "디귿", "ㄹ": "리을", "ㅁ": "미음", "ㅂ": "비읍", "ㅅ": "시옷",
    "ㅇ": "이응", "ㅈ": "지읒", "ㅊ": "치읓", "ㅋ": "키읔", "ㅌ": "티읕", "ㅍ": "피읖", "ㅎ": "히읗",
}
_LETTER_NAMES.update({d: "쌍" + _LETTER_NAMES[s] for d, s in zip("ㄲㄸㅃㅆㅉ", "ㄱㄷㅂㅅㅈ")})
_LETTER_NAMES.update(
    {c: _LETTER_NAMES[a] + _LETTER_NAMES[b] for c, (a, b) in
     {"ㄳ": "ㄱㅅ", "ㄵ": "ㄴㅈ", "ㄶ": "ㄴㅎ", "ㄺ": "ㄹㄱ", "ㄻ": "ㄹㅁ", "ㄼ": "ㄹㅂ", "ㄽ": "ㄹㅅ",
      "ㄾ": "ㄹㅌ", "ㄿ": "ㄹㅍ", "ㅀ": "ㄹㅎ", "ㅄ": "ㅂㅅ"}.items()}
)
_EU = "\u1173"  # ㅡ
_SILENT_ONSET = "\u110b"  # onset ㅇ

_LATIN_NAMES = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    "에이 비 씨 디 이 에프 지 에이치 아이 제이 케이 엘 엠 엔 오 피 큐 알 에스 티 유 브이 더블유 엑스 와이 지".split(),
))


def _compat_vowel_jamo(ch: str) -> str:
    return chr(0x1161 + ord(ch) - _VOWEL_BASE)


def _read_compat_letters(run: str) -> str:
    """Conjoining-jamo reading of a run of compatibility letters (see the module docstring)."""
    if len(run) == 1:
        if run in _LETTER_NAMES:
            return unicodedata.normalize("NFD", _LETTER_NAMES[run])
        return _SILENT_ONSET + _compat_vowel_jamo(run)
    out = []
    for ch in run:
        onsets = _ONSET_OF_COMPAT.get(ch)
        if onsets is None:
            out.append(_SILENT_ONSET + _compat_vowel_jamo(ch))
        else:
            out.extend(o + _EU for o in onsets)
    return "".join(out)


_LATIN_JAMO = {k: unicodedata.normalize("NFD", v) for k, v in _LATIN_NAMES.items()}
_TOKEN = re.compile(
    r"([가-힣]+)"  # 1: eojeol
    r"|([\u3131-\u3163]+)"  # 2: compatibility letters (consonants ㄱ..ㅎ, vowels ㅏ..ㅣ)
    r"|([A-Za-z]+)"  # 3: Latin letters
    r"|([\u1100-\u1112\u1161-\u1175\u11a8-\u11c2]+)"  # 4: stray conjoining jamo in the inventory
    r"|([!?…,.'\-])"  # 5: punctuation
)
_ZEROS: dict[int, tuple[int, ...]] = {}


def _zeros(n: int) -> tuple[int, ...]:
    z = _ZEROS.get(n)
    if z is None:
        z = _ZEROS[n] = (0,) * n
    return z


def g2p(text: str, coda_classes: bool = False) -> list[Word]:
    """Orthographic jamo per eojeol, letter, Latin run and punctuation mark; tones all 0.

    ``coda_classes`` adds the class symbol after each neutralised coda (:mod:`melo.text.kr_codas`).
    """
    words: list[Word] = []
    nfd = unicodedata.normalize
    for m in _TOKEN.finditer(text):
        kind = m.lastindex
        s = m.group()
        if kind == 1:
            phones = tuple(with_coda_classes(s)) if coda_classes else tuple(nfd("NFD", s))
        elif kind == 5:
            phones = (s,)
        elif kind == 2:
            phones = tuple(_read_compat_letters(s))
        elif kind == 3:
            phones = tuple("".join(_LATIN_JAMO[c] for c in s.lower()))
        else:
            phones = tuple(s)
        words.append(Word(m.start(), m.end(), phones, _zeros(len(phones))))
    return words
