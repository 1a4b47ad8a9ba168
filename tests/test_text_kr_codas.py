"""Korean coda classes (melo.text.kr_codas, data.korean_coda_classes)."""

from __future__ import annotations

import unicodedata

import pytest

from melo.text import DEFAULT_TABLE, phonemize
from melo.text.kr_codas import CODA_CLASS, coda_statistics, with_coda_classes
from melo.text.sequence import to_sequence
from melo.text.symbols import KR_CODA_CLASSES, KR_CODAS

K, N, T, L, M, P, NG = KR_CODA_CLASSES


def test_every_coda_has_a_class_and_the_classes_are_in_the_table():
    assert set(CODA_CLASS) == set(KR_CODAS)
    assert all(cls in DEFAULT_TABLE for cls in KR_CODA_CLASSES)


@pytest.mark.parametrize(
    "eojeol, classes",
    [
        ("옷도", [T]),  # ㅅ before a consonant: [옫]
        ("옷이", []),  # before a vowel the whole coda moves on: [오시]
        ("옷", [T]),  # at the end of the eojeol
        ("값도", [P]),
        ("닭", [K]),
        ("있었다", [T]),  # 있: liaison (no class); 었: before ㄷ
        ("좋다", []),  # ㅎ inside an eojeol aspirates: [조타]
        ("히읗", [T]),
        ("국물", [K, L]),  # assimilation [궁물] is left to the model
        ("강", [NG]),
    ],
)
def test_classes_follow_neutralised_codas(eojeol, classes):
    phones = with_coda_classes(eojeol)
    assert [p for p in phones if p in KR_CODA_CLASSES] == classes
    assert [p for p in phones if p not in KR_CODA_CLASSES] == list(unicodedata.normalize("NFD", eojeol))


def test_the_option_reaches_phonemize_and_ids():
    plain = phonemize("옷도 있어요")
    with_classes = phonemize("옷도 있어요", korean_coda_classes=True)
    assert with_classes.phones == plain.phones[:3] + (T,) + plain.phones[3:]
    ids = to_sequence(with_classes).phone_ids
    assert DEFAULT_TABLE.symbol_id("UNK") not in ids.tolist()
    assert phonemize("Hello there", korean_coda_classes=True).phones == phonemize("Hello there").phones


def test_statistics():
    stats = coda_statistics(["옷도", "옷이", "닭", "강"])
    assert (stats.syllables, stats.codas, stats.neutralised) == (6, 4, 3)
    assert stats.written == {"ᆺ": 1, "ᆰ": 1, "ᆼ": 1}
    assert stats.differing_share() == pytest.approx(2 / 3)  # ㅅ (class ㄷ) and ㄺ (class ㄱ)
    assert stats.extra_phones == pytest.approx(3 / stats.phones)


def test_the_config_flag_defaults_off_and_keys_the_phoneme_cache(tmp_path):
    from melo.config import DataConfig
    from melo.data.cache import phoneme_key

    assert DataConfig().korean_coda_classes is False
    assert DataConfig(korean_coda_classes=True).korean_coda_classes is True
    assert phoneme_key("옷", "KR", "f", True) != phoneme_key("옷", "KR", "f", True, korean_coda_classes=True)
