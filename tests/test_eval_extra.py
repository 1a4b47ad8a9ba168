"""melo.eval's model-based metrics (the evaluation extra: pocketsphinx, resemblyzer's weights, DNSMOS) on
espeak-ng speech and noise, and the message when the extra is missing. Everything runs offline: the
models ship inside the wheels."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from eval_audio import EN_SENTENCES, espeak, noise
from melo.eval import Evaluator, MissingExtraError, Reference, SpeakerRecordings

pytestmark = pytest.mark.usefixtures("one_thread")

REPO = Path(__file__).resolve().parent.parent
ALICE = {"voice": "en-us+f3", "pitch": 62, "speed": 155}  # the demo corpus's first speaker
BRUNO = {"voice": "en-us+m3", "pitch": 38, "speed": 145}


@pytest.fixture(scope="module")
def alice_english() -> list[tuple[np.ndarray, int]]:
    return [espeak(text, **ALICE) for text in EN_SENTENCES]


def test_recogniser_transcribes_espeak_english_and_hears_nothing_in_noise(alice_english) -> None:
    from melo.eval.asr import get_recognizer, word_errors, words_of

    recognizer = get_recognizer()
    audio, rate = alice_english[0]
    expected = words_of(EN_SENTENCES[0])
    clean = word_errors(expected, recognizer.transcribe(audio, rate).split()) / len(expected)
    noisy = word_errors(expected, recognizer.transcribe(noise(3.0, 16000, seed=0), 16000).split()) / len(expected)
    assert clean <= 0.3 and noisy >= 0.9


def test_recogniser_grammar_picks_each_sentence_and_none_for_noise(alice_english) -> None:
    from melo.eval.asr import get_recognizer

    recognizer = get_recognizer()
    chosen = [recognizer.choose(audio, rate, EN_SENTENCES) for audio, rate in alice_english]
    assert chosen == list(range(len(EN_SENTENCES)))
    assert recognizer.choose(noise(3.0, 16000, seed=1), 16000, EN_SENTENCES) is None


def test_words_are_normalised_and_errors_counted_in_words() -> None:
    from melo.eval.asr import word_errors, words_of

    assert words_of("It's 25 degrees, Dr. Smith!") == ["it's", "twenty", "five", "degrees", "doctor", "smith"]
    assert word_errors(["a", "b", "c"], ["a", "x", "c", "d"]) == 2  # one substitution, one insertion
    assert word_errors(["a", "b"], []) == 2 and word_errors([], ["a"]) == 1


def test_speaker_similarity_is_higher_for_the_same_voice_in_either_language(alice_english) -> None:
    from melo.eval.speaker import get_speaker_encoder, mean_embedding

    encoder = get_speaker_encoder()
    profile = mean_embedding([encoder.embed(audio, rate) for audio, rate in alice_english[:3]])
    same = encoder.embed(*alice_english[4])
    other = encoder.embed(*espeak(EN_SENTENCES[4], **BRUNO))
    assert float(same @ profile) > float(other @ profile) + 0.15
    korean_alice = encoder.embed(*espeak("오늘은 날씨가 정말 좋네요.", voice="ko+f3", pitch=62, speed=155))
    korean_bruno = encoder.embed(*espeak("오늘은 날씨가 정말 좋네요.", voice="ko+m3", pitch=38, speed=145))
    assert float(korean_alice @ profile) > float(korean_bruno @ profile) + 0.15


def test_dnsmos_rates_clean_speech_above_noise(alice_english) -> None:
    from melo.eval.dnsmos import get_dnsmos

    model = get_dnsmos()
    clean = model.score(*alice_english[1])
    hiss = model.score(noise(3.0, 16000, seed=2), 16000)
    assert clean.ovrl > hiss.ovrl + 1.0 and clean.bak > hiss.bak + 1.0
    assert all(1.0 <= v <= 5.0 for v in (clean.sig, clean.bak, clean.ovrl, hiss.sig, hiss.bak, hiss.ovrl))


@pytest.mark.slow
def test_evaluator_with_every_metric_scores_references_and_flags_cross_lingual_lines(alice_english) -> None:
    korean, korean_rate = espeak("감사합니다.", voice="ko+f3", pitch=62, speed=155)
    references = [
        Reference("en0", EN_SENTENCES[0], "EN", "alice", *alice_english[0]),
        Reference("en1", EN_SENTENCES[1], "EN", "alice", *alice_english[1]),
        Reference("kr0", "감사합니다.", "KR", "alice", korean, korean_rate),
    ]
    own = SpeakerRecordings([a for a, _ in alice_english[2:]], alice_english[0][1], frozenset({"EN"}))
    evaluator = Evaluator(references, speaker_recordings={"alice": own}, metrics="all")
    ceiling = evaluator.evaluate_references()
    rows = {row.id: row for row in ceiling.rows}
    assert rows["kr0"].score("cross_lingual") == 1.0 and rows["en0"].score("cross_lingual") == 0.0
    assert np.isnan(rows["kr0"].score("wer")) and rows["en1"].transcript is not None
    summary = ceiling.summary()
    assert summary["asr_id_accuracy"] == 1.0 and summary["asr_id_chance"] == 0.5
    assert summary["id_accuracy"] == 1.0 and summary["mcd_db"] == 0.0
    assert summary["speaker_similarity"] > 0.8 and summary["dnsmos_ovrl"] > 2.0
    assert "speaker_similarity_cross_lingual" in summary
    noisy = evaluator.evaluate([noise(2.0, 16000, seed=i) for i in range(3)], 16000, system="noise").summary()
    assert noisy["wer"] >= 0.9 and noisy["asr_id_accuracy"] == 0.0
    assert noisy["speaker_similarity"] < summary["speaker_similarity"] - 0.2
    assert noisy["dnsmos_ovrl"] < summary["dnsmos_ovrl"] - 1.0


@pytest.mark.parametrize(("metric", "package"), [("asr", "pocketsphinx"), ("speaker", "resemblyzer"), ("dnsmos", "speechmos")])
def test_a_missing_extra_names_the_install_command(monkeypatch, metric: str, package: str) -> None:
    from melo.eval.asr import get_recognizer
    from melo.eval.dnsmos import get_dnsmos
    from melo.eval.speaker import get_speaker_encoder

    monkeypatch.setitem(sys.modules, package, None)  # what an absent package looks like to import machinery
    reference = Reference("a", "hello", "EN", "s", np.zeros(1600, np.float32), 16000)
    with pytest.raises(MissingExtraError) as caught:
        Evaluator([reference], metrics=("acoustic", metric))
    message = str(caught.value)
    assert f"metric '{metric}' needs the Python package '{package}'" in message
    assert "pip install -r requirements-eval.txt" in message and "pip install --no-deps resemblyzer==0.1.4" in message
    getter = {"asr": get_recognizer, "speaker": get_speaker_encoder, "dnsmos": get_dnsmos}[metric]
    getter.cache_clear()
    try:
        with pytest.raises(MissingExtraError, match="requirements-eval.txt"):
            getter()
    finally:
        getter.cache_clear()


def test_requirements_file_pyproject_extra_and_install_script_agree() -> None:
    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~ ;\[]", r.strip(), maxsplit=1)[0].lower() for r in requirements if r.strip()}

    lines = [line.split("#")[0] for line in (REPO / "requirements-eval.txt").read_text(encoding="utf-8").splitlines()]
    extra = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["eval"]
    assert names(lines) == names(extra) == {"pocketsphinx", "onnxruntime", "speechmos", "matplotlib"}
    script = (REPO / "scripts" / "install_eval.sh").read_text(encoding="utf-8")
    assert "requirements-eval.txt" in script and 'RESEMBLYZER="resemblyzer==0.1.4"' in script and "--no-deps" in script
    assert "scripts/install_eval.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
