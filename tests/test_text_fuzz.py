"""Random strings never crash the frontend: they give phones or a NothingToPronounceError."""

from __future__ import annotations

import random

import pytest

from melo.text import NothingToPronounceError, phonemize
from melo.text.symbols import SYMBOLS

_ALPHABET = (
    "가나다값닭옷있ㄱㅋㅏ"  # Korean, compatibility letters
    "あいうカタナー"  # kana
    "東京日本語中国人我很们一不得还地"  # Han
    "abcXYZ"  # Latin
    "0123456789０１"  # digits, full width too
    " .,!?-~〜～:;/@#%&+=^_×÷⁄½¼²³°℃㎡$€¥₩'\"()[]「」。、…"  # what the recognisers and readers look at
    "😀\u200b\x07é"  # emoji, zero width, control, accented
)
_PIECES = ["km", "kg", "www.", ".com", "@", "http://", "010-", "1234", "5678", "3~5", "1/2", "2^10", "a.m.",
           "Dec.", "St.", "#Tag", "6'2\"", "1½", "-5°C", "명", "번째", "年", "です", "read", "live"]


def _random_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.3:
            parts.append(rng.choice(_PIECES))
        else:
            parts.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 6))))
    return "".join(parts)


@pytest.mark.slow
def test_random_strings_do_not_crash():
    rng = random.Random(22)
    for _ in range(300):
        text = _random_text(rng)
        language = rng.choice([None, "KR", "EN", "ZH", "JP"])
        context = rng.choice([None, text + " 日本です", "我们。" + text])
        try:
            ph = phonemize(text, language=language, context=context)
        except NothingToPronounceError:
            continue
        n = len(ph.phones)
        assert n and len(ph.tones) == len(ph.languages) == len(ph.word_spans) == n, text
        assert all(p in SYMBOLS for p in ph.phones), text
        assert all(0 <= a < b <= len(ph.normalized) for a, b in ph.word_spans), text
