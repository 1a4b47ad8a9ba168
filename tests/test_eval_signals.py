"""melo.eval's core metrics (numpy/scipy only) on signals whose answers are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from eval_audio import espeak, noise, vowel_sequence
from melo.demo.corpus import KR
from melo.eval import Reference, Utterance, evaluate_utterances
from melo.eval.acoustic import analyse, compare
from melo.eval.analysis import ANALYSIS_RATE, HOP, mel_cepstrum, speech_span
from melo.eval.dtw import CandidateBank, align, pairwise_distances
from melo.eval.evaluate import Evaluator
from melo.eval.identification import ClosedSet
from melo.eval.pitch import track_pitch

RATES = (16000, 22050, 44100)


def _dtw_by_loops(cost: np.ndarray, diagonal_weight: int = 2) -> np.ndarray:
    """The DTW recursion cell by cell, the definition the vectorised code must match."""
    n, m = cost.shape
    acc = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                acc[i, j] = diagonal_weight * cost[0, 0]
                continue
            steps = []
            if i and j:
                steps.append(acc[i - 1, j - 1] + diagonal_weight * cost[i, j])
            if i:
                steps.append(acc[i - 1, j] + cost[i, j])
            if j:
                steps.append(acc[i, j - 1] + cost[i, j])
            acc[i, j] = min(steps)
    return acc


@pytest.mark.parametrize("query_frames", [1, 2, 17])
def test_batched_dtw_matches_the_recursion_cell_by_cell(query_frames: int) -> None:
    rng = np.random.default_rng(query_frames)
    query = rng.standard_normal((query_frames, 6))
    candidates = [rng.standard_normal((m, 6)) for m in (1, 5, 17, 30, 3)]
    expected = [_dtw_by_loops(pairwise_distances(query, c))[-1, -1] / (query_frames + len(c)) for c in candidates]
    np.testing.assert_allclose(CandidateBank(candidates).normalised_costs(query), expected, rtol=1e-5)


def test_alignment_path_is_monotonic_complete_and_has_the_optimal_cost() -> None:
    rng = np.random.default_rng(0)
    query, reference = rng.standard_normal((23, 4)), rng.standard_normal((31, 4))
    path = align(query, reference)
    steps = np.stack([path.query_frames, path.reference_frames], axis=1)
    assert tuple(steps[0]) == (0, 0) and tuple(steps[-1]) == (22, 30)
    assert {tuple(m) for m in np.diff(steps, axis=0)} <= {(1, 0), (0, 1), (1, 1)}
    cost = pairwise_distances(query, reference)
    path_cost = cost[steps[:, 0], steps[:, 1]].sum()  # symmetric1: every step counts once
    assert path_cost == pytest.approx(_dtw_by_loops(cost, diagonal_weight=1)[-1, -1], rel=1e-9)
    assert path.mean_distance == pytest.approx(path_cost / len(steps), rel=1e-9)


def test_alignment_of_a_sequence_with_itself_is_the_diagonal() -> None:
    frames = np.repeat(np.random.default_rng(1).standard_normal((5, 4)), 8, axis=0)  # stationary stretches
    path = align(frames, frames.copy())
    np.testing.assert_array_equal(path.query_frames, np.arange(40))
    np.testing.assert_array_equal(path.reference_frames, np.arange(40))


@pytest.mark.parametrize(("rate", "f0"), [(16000, 310.0), (22050, 80.0), (44100, 150.0)])
def test_pitch_of_a_harmonic_signal_is_found_within_a_few_cents(rate: int, f0: float) -> None:
    x = vowel_sequence(rate, f0s=[f0] * 3, order=(0, 3, 1))
    track = track_pitch(x, rate, round(rate * 0.01))
    assert track.voiced.mean() > 0.95
    cents = 1200 * np.log2(track.f0_hz[track.voiced] / f0)
    assert np.abs(cents).max() < 5.0


@pytest.mark.parametrize("rate", RATES)
def test_noise_and_silence_are_unvoiced(rate: int) -> None:
    assert not track_pitch(noise(1.0, rate, seed=1), rate, round(rate * 0.01)).voiced.any()
    assert not track_pitch(np.zeros(rate), rate, round(rate * 0.01)).voiced.any()


@pytest.mark.parametrize("rate", [16000, 44100])
def test_identical_audio_scores_zero_distortion(rate: int) -> None:
    x = vowel_sequence(rate)
    scores = compare(analyse(x, rate), analyse(x.copy(), rate))
    assert scores.mcd_db == 0.0 and scores.f0_rmse_cents == 0.0 and scores.voicing_error == 0.0
    assert scores.duration_ratio == 1.0


@pytest.mark.parametrize("rate", RATES)
def test_pitch_raised_by_100_cents_measures_100_cents(rate: int) -> None:
    f0s = [150.0] * 6  # one F0 (a jump between vowels would leave a frame or two of the wrong pitch)
    reference = analyse(vowel_sequence(rate, f0s=f0s), rate)
    raised = analyse(vowel_sequence(rate, f0s=f0s, cents=100.0), rate)
    scores = compare(raised, reference)
    assert scores.f0_rmse_cents == pytest.approx(100.0, abs=2.0)
    assert scores.voicing_error < 0.02
    assert 0.0 < scores.mcd_db < 2.0  # the same formants: a small spectral difference


def test_time_stretched_copy_has_the_stretch_as_duration_ratio_and_silence_does_not_count() -> None:
    rate = 22050
    reference = vowel_sequence(rate, seconds=0.3)
    stretched = vowel_sequence(rate, seconds=0.375)  # every vowel 25% longer
    padded = np.concatenate([np.zeros(rate // 2, np.float32), stretched, np.zeros(rate, np.float32)])
    scores = compare(analyse(padded, rate), analyse(reference, rate))
    assert scores.duration_ratio == pytest.approx(1.25, abs=0.01)
    assert scores.mcd_db < 0.3  # the path pairs each vowel with itself (other vowels: test_mcd_grows_...)


def test_speech_span_trims_leading_and_trailing_silence() -> None:
    x = np.concatenate([np.zeros(8000), vowel_sequence(ANALYSIS_RATE, seconds=0.25), np.zeros(4000)])
    start, stop = speech_span(x)
    assert abs(start - 8000) <= HOP and abs(stop - (8000 + 6 * 4000)) <= HOP
    assert speech_span(np.zeros(16000)) == (0, 0)


def test_voicing_error_counts_the_frames_of_a_known_unvoiced_span() -> None:
    rate = 16000
    voiced = vowel_sequence(rate, seconds=0.25)  # 1.5 s, voiced throughout
    partly_whispered = vowel_sequence(rate, seconds=0.25, whispered=(2, 3))  # 0.5 s to 1.0 s unvoiced
    track = track_pitch(partly_whispered, rate, HOP)
    time = np.arange(track.voiced.shape[0]) * HOP / rate
    inside = (time > 0.53) & (time < 0.97)
    outside = ((time > 0.03) & (time < 0.47)) | ((time > 1.03) & (time < 1.47))
    assert track.voiced[inside].mean() < 0.05 and track.voiced[outside].mean() > 0.95
    scores = compare(analyse(partly_whispered, rate), analyse(voiced, rate))
    assert scores.voicing_error == pytest.approx(1 / 3, abs=0.04)


def test_mcd_grows_with_spectral_difference() -> None:
    rate = 16000
    reference = analyse(vowel_sequence(rate), rate)
    other_vowels = analyse(vowel_sequence(rate, order=(5, 4, 3, 2, 1, 0)), rate)
    white = analyse(noise(1.8, rate, seed=0), rate)
    near, far = compare(other_vowels, reference).mcd_db, compare(white, reference).mcd_db
    assert 1.0 < near < far


def test_mel_cepstrum_of_a_flat_spectrum_is_near_zero_past_c0() -> None:
    c = mel_cepstrum(noise(2.0, ANALYSIS_RATE, seed=0, level=0.3))
    assert c.shape[1] == 24
    assert np.abs(c.mean(axis=0)).max() < 0.25  # white noise through Slaney (area-normalised) bands: flat


@pytest.fixture(scope="module")
def espeak_set() -> list[Reference]:
    """Ten Korean sentences read by espeak-ng (22.05 kHz)."""
    refs = []
    for i, text in enumerate(KR[:10]):
        audio, rate = espeak(text, "ko")
        refs.append(Reference(f"kr{i}", text, "KR", "espeak", audio, rate))
    return refs


def test_identical_audio_is_identified_every_time(espeak_set: list[Reference]) -> None:
    utterances = [Utterance(r.id, r.text, r.language, r.speaker, r.audio, r.audio.copy(), r.sample_rate) for r in espeak_set]
    summary = evaluate_utterances(utterances).summary()
    assert summary["id_accuracy"] == 1.0 and summary["id_chance"] == pytest.approx(0.1)
    assert summary["mcd_db"] == 0.0 and summary["voicing_error"] == 0.0 and summary["duration_ratio"] == 1.0


def test_another_voice_reading_the_same_sentences_is_identified(espeak_set: list[Reference]) -> None:
    evaluator = Evaluator(espeak_set)
    other = [espeak(r.text, "ko+f3", pitch=70, speed=160) for r in espeak_set]
    summary = evaluator.evaluate([a for a, _ in other], other[0][1], system="other voice").summary()
    assert summary["id_accuracy"] >= 0.9
    assert summary["f0_rmse_cents"] > 300  # a female variant: well above the male voice


def test_noise_is_identified_at_chance_level() -> None:
    # 20 "sentences" (vowel orders), each queried with independent noise: a query that carries no
    # information is right with probability 1/20, so the count of correct answers is Binomial(20, 1/20)
    # (mean 1); 5 or more has probability 0.26%. The same references queried with themselves score 20 of
    # 20 below, so an identifier that passes both tests tells sentences apart and only that.
    permutations = list(itertools.permutations(range(6)))
    orders = [permutations[i] for i in np.random.default_rng(7).choice(len(permutations), 20, replace=False)]
    rate = 16000
    texts = [str(order) for order in orders]
    features = [analyse(vowel_sequence(rate, order=o, seconds=0.15), rate).normalised_cepstrum for o in orders]
    closed = ClosedSet(texts, features, ["EN"] * 20)
    results = [closed.identify(analyse(noise(0.9, rate, seed=100 + i), rate).normalised_cepstrum, t, "EN") for i, t in enumerate(texts)]
    assert all(r.chance == pytest.approx(1 / 20) and r.candidates == 20 for r in results)
    assert sum(r.correct for r in results) <= 4
    identical = [closed.identify(f, t, "EN") for f, t in zip(features, texts)]
    assert all(r.correct and r.rank == 1 for r in identical)


def test_candidates_by_language_or_all_and_repeated_texts_set_the_chance_level() -> None:
    rate = 16000
    a, b, c = (analyse(vowel_sequence(rate, order=o, seconds=0.2), rate).normalised_cepstrum for o in [(0, 1, 2), (3, 4, 5), (5, 1, 3)])
    closed = ClosedSet(["x", "y", "x", "z"], [a, b, a, c], ["EN", "EN", "EN", "KR"])
    found = closed.identify(a, "x", "EN")
    assert found.correct and found.candidates == 3 and found.chance == pytest.approx(2 / 3)
    assert closed.identify(c, "z", "KR").chance == 1.0
    everything = ClosedSet(["x", "y", "z"], [a, b, c], ["all"] * 3)
    assert everything.identify(b, "y", "all").candidates == 3


def test_evaluator_rejects_bad_input() -> None:
    rate = 16000
    x = vowel_sequence(rate)
    ref = Reference("a", "text", "EN", "s", x, rate)
    with pytest.raises(ValueError, match="unknown metric 'mcd'; known: acoustic, identification, asr, speaker, dnsmos"):
        Evaluator([ref], metrics="mcd")
    with pytest.raises(ValueError, match="ids must be unique; 'a'"):
        Evaluator([ref, ref])
    with pytest.raises(ValueError, match="language must be one of KR, EN, ZH, JP, got 'FR'"):
        Evaluator([Reference("b", "t", "FR", "s", x, rate)])
    with pytest.raises(ValueError, match="got 2 syntheses for 1 references"):
        Evaluator([ref]).evaluate([x, x], rate)
    with pytest.raises(ValueError, match="model audio for 'a': empty audio"):
        Evaluator([ref]).evaluate([np.zeros(0, np.float32)], rate, system="model")
