"""The demo's sample check (melo.demo.sample_check) on signals whose answer is known.

espeak-ng's own reading of each demo sentence must be identified (rank 1, MCD 0, duration 1); a reading of a
*different* held-out sentence given in its place must not be; noise must not be identified in every language.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from melo.demo.__main__ import CANDIDATES_PER_LANGUAGE, DEMO_SENTENCES, SPEAKER
from melo.demo.corpus import SAMPLE_RATE, SPEAKERS, espeak_executable, espeak_text, speak
from melo.demo.sample_check import check_sentences, format_checks
from melo.demo.sentences import LANGUAGES, held_out_sentences

VOICE = next(s for s in SPEAKERS if s.name == SPEAKER)
CANDIDATES = {lang: held_out_sentences(lang, CANDIDATES_PER_LANGUAGE) for lang in LANGUAGES}


def _readings(sentences) -> list[np.ndarray]:
    exe = espeak_executable()
    with tempfile.TemporaryDirectory() as tmp:
        return [speak(exe, s.language, espeak_text(s.language, s.text, s.reading), VOICE, Path(tmp)) for s in sentences]


def test_espeak_readings_of_the_demo_sentences_are_identified() -> None:
    checks = check_sentences(_readings(DEMO_SENTENCES), SAMPLE_RATE, DEMO_SENTENCES, CANDIDATES, VOICE)
    assert [c.identified for c in checks] == [True] * len(LANGUAGES)
    assert [c.rank for c in checks] == [1] * len(LANGUAGES)
    assert all(c.candidates == CANDIDATES_PER_LANGUAGE for c in checks)
    assert all(c.mcd_db == pytest.approx(0.0, abs=1e-6) and c.duration_ratio == pytest.approx(1.0) for c in checks)
    assert "yes (1 of 12)" in format_checks(checks, SPEAKER)


def test_another_sentences_reading_is_not_identified_and_names_the_sentence_it_reads() -> None:
    others = [CANDIDATES[s.language][1] for s in DEMO_SENTENCES]  # index 0 is the demo sentence itself
    checks = check_sentences(_readings(others), SAMPLE_RATE, DEMO_SENTENCES, CANDIDATES, VOICE)
    assert not any(c.identified for c in checks)
    assert all(c.rank > 1 for c in checks)
    assert [c.nearest_text for c in checks] == [o.text for o in others]
    assert "NO (" in format_checks(checks, SPEAKER)


def test_noise_is_not_identified_in_every_language() -> None:
    rng = np.random.default_rng(0)
    noise = [0.1 * rng.standard_normal(2 * SAMPLE_RATE).astype(np.float32) for _ in DEMO_SENTENCES]
    checks = check_sentences(noise, SAMPLE_RATE, DEMO_SENTENCES, CANDIDATES, VOICE)
    assert sum(c.identified for c in checks) < len(LANGUAGES)
