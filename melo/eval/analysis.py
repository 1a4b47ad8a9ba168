"""Signal analysis shared by the evaluation metrics: one sample rate, one frame grid, one mel-cepstrum.

Every signal is analysed at :data:`ANALYSIS_RATE` (16 kHz, resampled with soxr), so scores do not depend on
the model's sample rate, and every frame-level feature (mel cepstrum, F0, voicing, energy) lives on the
same grid: frame ``t`` is centred on sample ``t * HOP`` (10 ms), ``1 + len // HOP`` frames per signal.

Mel cepstrum (the MCD and identification feature). The power spectrum of a 25 ms Hann window (512-point
FFT) goes through a 40-band Slaney mel filterbank (0-8 kHz, :func:`melo.audio.mel_filterbank`); with
``A_k`` the band amplitudes (square root of the band power, floored at 1e-5) and ``M = 40``,

    c_m = (2/M) * sum_{k=0}^{M-1} ln(A_k) * cos(pi * m * (k + 1/2) / M),      m = 1 .. CEPSTRUM_ORDER (24)

the cosine-series coefficients of the log-amplitude mel spectrum (``ln A(w) ~= c_0/2 + sum_m c_m cos(m w)``
on the mel-warped axis), computed as a DCT-II. This is the convention of SPTK's mel-cepstrum, for which
the usual MCD formula ``(10 / ln 10) * sqrt(2 * sum_m (c_m - c'_m)^2)`` is the RMS difference of the two
smoothed log spectra in dB. ``c_0`` (loudness) is left out.

Speech span (silence trimming). A frame is speech when its energy (10 ms window) is within
:data:`SPEECH_RANGE_DB` (40 dB) of the loudest frame and above :data:`SILENCE_FLOOR_DBFS` (-65 dBFS); the
span runs from the first to the last speech frame (``HOP`` samples per frame). Leading and trailing silence
is cut before any frame-level metric, and the span's length is the duration used by the duration ratio.
"""

from __future__ import annotations

import functools
import numpy as np
import scipy.fft

from melo.audio import mel_filterbank

__all__ = [
    "ANALYSIS_RATE",
    "CEPSTRUM_ORDER",
    "HOP",
    "frame_energy_db",
    "frames",
    "log_mel",
    "mel_cepstrum",
    "power_spectrum",
    "speech_span",
    "to_analysis_rate",
]

ANALYSIS_RATE = 16000
HOP = 160  # 10 ms
WINDOW = 400  # 25 ms
N_FFT = 512
N_MELS = 40
CEPSTRUM_ORDER = 24
SPEECH_RANGE_DB = 40.0
SILENCE_FLOOR_DBFS = -65.0
_AMPLITUDE_FLOOR = 1e-5


def to_analysis_rate(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float64 audio at :data:`ANALYSIS_RATE`. ``samples``: (T,) at ``sample_rate``."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected mono audio of shape (T,), got shape {x.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate}")
    if sample_rate != ANALYSIS_RATE and x.shape[0] > 0:
        import soxr

        x = soxr.resample(x, sample_rate, ANALYSIS_RATE, quality="HQ")
    return x


def frames(x: np.ndarray, frame_length: int, hop: int = HOP) -> np.ndarray:
    """(T,) -> (1 + T // hop, frame_length) frames, frame ``t`` centred on sample ``t * hop`` (zero padded)."""
    n_frames = 1 + x.shape[0] // hop
    half = frame_length // 2
    padded = np.zeros(n_frames * hop + frame_length, dtype=np.float64)
    padded[half : half + x.shape[0]] = x
    return np.lib.stride_tricks.sliding_window_view(padded, frame_length)[: n_frames * hop : hop]


@functools.lru_cache(maxsize=4)
def _window(length: int) -> np.ndarray:
    return np.hanning(length + 1)[:-1]  # periodic Hann


def power_spectrum(x: np.ndarray, window: int = WINDOW, n_fft: int = N_FFT) -> np.ndarray:
    """(T,) 16 kHz -> (frames, n_fft // 2 + 1) power spectrum of Hann-windowed frames."""
    return np.abs(np.fft.rfft(frames(x, window) * _window(window), n=n_fft, axis=1)) ** 2


def log_mel(x: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """(T,) 16 kHz -> (frames, n_mels) natural-log mel band amplitudes (floored at 1e-5)."""
    bank = mel_filterbank(ANALYSIS_RATE, N_FFT, n_mels, 0.0, ANALYSIS_RATE / 2).astype(np.float64)
    band_power = power_spectrum(x) @ bank.T
    return 0.5 * np.log(np.maximum(band_power, _AMPLITUDE_FLOOR**2))


def mel_cepstrum(x: np.ndarray, order: int = CEPSTRUM_ORDER) -> np.ndarray:
    """(T,) 16 kHz -> (frames, order) mel cepstrum ``c_1 .. c_order`` (module docstring)."""
    log_amplitude = log_mel(x)
    c = scipy.fft.dct(log_amplitude, type=2, axis=1) / log_amplitude.shape[1]  # DCT-II: 2 * sum(...)
    return c[:, 1 : order + 1]


def frame_energy_db(x: np.ndarray, window: int = HOP) -> np.ndarray:
    """(T,) -> (frames,) mean-square energy of each frame (``window`` samples, default 10 ms) in dBFS."""
    energy = np.mean(frames(x, window) ** 2, axis=1)
    return 10.0 * np.log10(np.maximum(energy, 1e-12))


def speech_span(x: np.ndarray) -> tuple[int, int]:
    """``(start, stop)`` samples of the speech in ``x`` (16 kHz) after trimming silence; ``(0, 0)`` if silent."""
    energy = frame_energy_db(x)
    threshold = max(float(energy.max(initial=-120.0)) - SPEECH_RANGE_DB, SILENCE_FLOOR_DBFS)
    speech = np.flatnonzero(energy > threshold)
    if speech.size == 0:
        return 0, 0
    start = max(0, int(speech[0]) * HOP - HOP // 2)
    stop = min(x.shape[0], int(speech[-1]) * HOP + HOP // 2)
    return start, stop
