"""F0 and voicing: a YIN tracker (de Cheveigné & Kawahara, 2002) in numpy, vectorised over frames.

For frame ``t`` (centred on sample ``t * hop``, the grid of :mod:`melo.eval.analysis`), with an integration
window of ``W`` samples (one period of ``fmin``) and lags up to ``tau_max = sr / fmin``:

1. difference function ``d(tau) = sum_{j<W} (x_j - x_{j+tau})^2``, from FFT cross-correlations;
2. cumulative-mean-normalised difference ``d'(tau) = d(tau) * tau / sum_{1<=s<=tau} d(s)``, ``d'(0) = 1``;
3. the period is the first lag in ``[sr/fmax, sr/fmin]`` where ``d'`` dips below :data:`THRESHOLD` (then
   followed down to its local minimum), else the global minimum of ``d'`` in that range; refined by
   parabolic interpolation (sub-sample accuracy, a fraction of a cent on clean signals);
4. a frame is voiced when ``d'`` at the chosen lag is below :data:`VOICING_THRESHOLD` (periodic enough)
   and its energy is within :data:`VOICED_RANGE_DB` of the loudest frame (not background);
   voiced runs shorter than :data:`MIN_VOICED_FRAMES` frames are dropped as spurious.

Any sample rate works (tested at 16, 22.05 and 44.1 kHz); the defaults cover speech, 50-600 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from melo.eval.analysis import frames

__all__ = ["PitchTrack", "track_pitch"]

THRESHOLD = 0.15
VOICING_THRESHOLD = 0.3
VOICED_RANGE_DB = 35.0
MIN_VOICED_FRAMES = 3


@dataclass(frozen=True)
class PitchTrack:
    f0_hz: np.ndarray  # (frames,) float64, 0.0 where unvoiced
    voiced: np.ndarray  # (frames,) bool
    aperiodicity: np.ndarray  # (frames,) d' at the chosen lag: ~0 for a clean periodic frame, ~1 for noise


def track_pitch(
    samples: np.ndarray, sample_rate: int, hop_length: int, fmin: float = 50.0, fmax: float = 600.0
) -> PitchTrack:
    """F0 of every frame of ``samples`` (T,), frames centred on multiples of ``hop_length``."""
    if not 0 < fmin < fmax < sample_rate / 2:
        raise ValueError(f"need 0 < fmin < fmax < sample_rate / 2, got fmin={fmin}, fmax={fmax}, rate {sample_rate}")
    x = np.asarray(samples, dtype=np.float64)
    tau_max = int(np.ceil(sample_rate / fmin))
    tau_min = max(2, int(np.floor(sample_rate / fmax)))
    window = tau_max
    segments = frames(x, window + tau_max + 1, hop_length)  # (F, W + tau_max + 1)
    d = _difference(segments, window, tau_max)  # (F, tau_max + 1)
    normalised = _cumulative_mean_normalised(d)
    lag = _choose_lag(normalised, tau_min, tau_max)
    aperiodicity = np.take_along_axis(normalised, lag[:, None], axis=1)[:, 0]
    period = lag + _parabolic_offset(normalised, lag)
    energy = np.mean(segments[:, :window] ** 2, axis=1)
    energy_db = 10.0 * np.log10(np.maximum(energy, 1e-12))
    loud_enough = energy_db > energy_db.max(initial=-120.0) - VOICED_RANGE_DB
    voiced = _drop_short_runs((aperiodicity < VOICING_THRESHOLD) & loud_enough, MIN_VOICED_FRAMES)
    f0 = np.where(voiced, sample_rate / period, 0.0)
    return PitchTrack(f0_hz=f0, voiced=voiced, aperiodicity=aperiodicity)


def _difference(segments: np.ndarray, window: int, tau_max: int) -> np.ndarray:
    """YIN's difference function for lags 0..tau_max of each frame: (F, L) -> (F, tau_max + 1)."""
    length = segments.shape[1]
    n_fft = 1 << int(np.ceil(np.log2(length + window)))
    head = np.fft.rfft(segments[:, :window], n_fft, axis=1)
    whole = np.fft.rfft(segments, n_fft, axis=1)
    correlation = np.fft.irfft(np.conj(head) * whole, n_fft, axis=1)[:, : tau_max + 1]  # sum_j x_j x_{j+tau}
    squares = np.cumsum(np.concatenate([np.zeros((segments.shape[0], 1)), segments**2], axis=1), axis=1)
    energy_head = squares[:, window][:, None]  # sum_{j<W} x_j^2
    lags = np.arange(tau_max + 1)
    energy_shifted = squares[:, lags + window] - squares[:, lags]  # sum_{tau<=j<tau+W} x_j^2
    return np.maximum(energy_head + energy_shifted - 2.0 * correlation, 0.0)


def _cumulative_mean_normalised(d: np.ndarray) -> np.ndarray:
    out = np.ones_like(d)
    running = np.cumsum(d[:, 1:], axis=1)
    lags = np.arange(1, d.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        out[:, 1:] = np.where(running > 0, d[:, 1:] * lags / running, 1.0)
    return out


def _choose_lag(normalised: np.ndarray, tau_min: int, tau_max: int) -> np.ndarray:
    """(F, tau_max + 1) -> (F,) int lag: first dip below THRESHOLD followed to its minimum, else the minimum."""
    search = normalised[:, tau_min : tau_max + 1]
    below = search < THRESHOLD
    has_dip = below.any(axis=1)
    lag = np.where(has_dip, np.argmax(below, axis=1), np.argmin(search, axis=1))
    rows = np.arange(search.shape[0])
    last = search.shape[1] - 1
    moving = has_dip.copy()
    while moving.any():  # walk each dip down to its local minimum
        step = moving & (lag < last)
        step[step] = search[rows[step], lag[step] + 1] < search[rows[step], lag[step]]
        lag = lag + step
        moving = step
    return lag + tau_min


def _parabolic_offset(values: np.ndarray, lag: np.ndarray) -> np.ndarray:
    """Sub-sample offset in [-0.5, 0.5] of the minimum of the parabola through lag-1, lag, lag+1."""
    rows = np.arange(values.shape[0])
    inner = (lag > 0) & (lag < values.shape[1] - 1)
    left = values[rows, np.maximum(lag - 1, 0)]
    centre = values[rows, lag]
    right = values[rows, np.minimum(lag + 1, values.shape[1] - 1)]
    curvature = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(inner & (curvature > 0), 0.5 * (left - right) / curvature, 0.0)
    return np.clip(offset, -0.5, 0.5)


def _drop_short_runs(flags: np.ndarray, shortest: int) -> np.ndarray:
    """Clear runs of True shorter than ``shortest``."""
    if shortest <= 1 or not flags.any():
        return flags
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = flags.copy()
    for start, stop in zip(starts, stops):
        if stop - start < shortest:
            out[start:stop] = False
    return out
