"""Reference-based acoustic metrics along one DTW path: MCD, log-F0 error, voicing error, duration ratio.

Both signals are analysed by :func:`analyse` (16 kHz, silence trimmed, mel cepstrum and F0 on the same
10 ms grid); the DTW path between the two cepstrum sequences (:func:`melo.eval.dtw.align`) pairs frames,
and every frame metric is averaged over the path's steps:

* ``mcd_db`` -- mel-cepstral distortion, ``(10 / ln 10) * sqrt(2 * sum_{m=1..24} (c_m - c'_m)^2)`` dB per
  step (``c_0`` excluded); 0 for identical audio;
* ``f0_rmse_cents`` -- RMS of ``1200 * log2(F0_syn / F0_ref)`` over the steps voiced in both (NaN when
  there is none);
* ``voicing_error`` -- fraction of steps whose voiced/unvoiced decisions disagree;
* ``duration_ratio`` -- speech duration of the synthesis / of the reference (NaN for a silent reference),
  each measured between the first and last non-silent frame (:func:`melo.eval.analysis.speech_span`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from melo.eval.analysis import ANALYSIS_RATE, HOP, mel_cepstrum, speech_span, to_analysis_rate
from melo.eval.dtw import align
from melo.eval.pitch import PitchTrack, track_pitch

__all__ = ["AcousticScores", "Analysis", "analyse", "compare"]

MCD_SCALE = 10.0 / np.log(10.0) * np.sqrt(2.0)


@dataclass(frozen=True)
class Analysis:
    """One signal, analysed: the trimmed 16 kHz speech and its frame-level features (same frame grid)."""

    speech: np.ndarray  # (T,) float64, 16 kHz, leading/trailing silence cut
    speech_seconds: float  # 0.0 for a silent signal (``speech`` then holds the untrimmed signal)
    cepstrum: np.ndarray  # (frames, 24) mel cepstrum c_1..c_24
    pitch: PitchTrack  # (frames,) F0 and voicing

    @property
    def normalised_cepstrum(self) -> np.ndarray:
        """The cepstrum minus its mean over time (cepstral mean normalisation; removes the channel)."""
        return self.cepstrum - self.cepstrum.mean(axis=0, keepdims=True)


def analyse(samples: np.ndarray, sample_rate: int) -> Analysis:
    """Resample to 16 kHz, trim silence, compute the mel cepstrum and F0. A silent signal is kept whole."""
    x = to_analysis_rate(samples, sample_rate)
    if x.shape[0] == 0:
        raise ValueError("empty audio (0 samples)")
    if not np.isfinite(x).all():
        raise ValueError("audio holds NaN or infinite samples")
    start, stop = speech_span(x)
    speech = x[start:stop] if stop > start else x
    return Analysis(
        speech=speech,
        speech_seconds=(stop - start) / ANALYSIS_RATE,
        cepstrum=mel_cepstrum(speech),
        pitch=track_pitch(speech, ANALYSIS_RATE, HOP),
    )


@dataclass(frozen=True)
class AcousticScores:
    mcd_db: float
    f0_rmse_cents: float
    voicing_error: float
    duration_ratio: float


def compare(synthesis: Analysis, reference: Analysis) -> AcousticScores:
    """The four metrics of ``synthesis`` against ``reference`` along their DTW path (module docstring)."""
    path = align(synthesis.cepstrum, reference.cepstrum)
    s, r = path.query_frames, path.reference_frames
    difference = synthesis.cepstrum[s] - reference.cepstrum[r]
    mcd = float(np.mean(MCD_SCALE * np.sqrt((difference**2).sum(axis=1))))
    voiced_s, voiced_r = synthesis.pitch.voiced[s], reference.pitch.voiced[r]
    both = voiced_s & voiced_r
    if both.any():
        cents = 1200.0 * np.log2(synthesis.pitch.f0_hz[s][both] / reference.pitch.f0_hz[r][both])
        f0_rmse = float(np.sqrt(np.mean(cents**2)))
    else:
        f0_rmse = float("nan")
    ratio = synthesis.speech_seconds / reference.speech_seconds if reference.speech_seconds > 0 else float("nan")
    return AcousticScores(
        mcd_db=mcd,
        f0_rmse_cents=f0_rmse,
        voicing_error=float(np.mean(voiced_s != voiced_r)),
        duration_ratio=ratio,
    )
