"""Audio: loading, resampling, linear and mel spectrograms. The one module that knows audio.

Conventions (MeloTTS's, so trained weights mean the same thing): the STFT is reflect-padded by
``(n_fft - hop) // 2`` on both sides and not centred, Hann window, magnitude ``sqrt(re^2 + im^2 + 1e-6)``;
the mel filterbank is Slaney-style (Slaney mel scale, area-normalised), the mel spectrogram is the natural
log of the filtered magnitude clamped at 1e-5.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from melo.config import DataConfig

__all__ = [
    "AudioClip",
    "SpectrogramParams",
    "load_audio",
    "mel_filterbank",
    "mel_spectrogram",
    "save_wav",
    "spec_to_mel",
    "spectrogram",
]


@dataclass(frozen=True)
class AudioClip:
    """Mono float32 audio in [-1, 1] at ``sample_rate``, plus what was done to get there."""

    samples: np.ndarray  # (T,) float32
    sample_rate: int
    original_sample_rate: int
    original_channels: int

    @property
    def seconds(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    @property
    def resampled(self) -> bool:
        return self.original_sample_rate != self.sample_rate


def load_audio(path: str | Path, sample_rate: int) -> AudioClip:
    """Read any format libsndfile reads, mix to mono, resample with soxr to ``sample_rate``.

    Raises ``RuntimeError`` (from soundfile) for unreadable files; the caller reports it with the row.
    """
    import soundfile as sf

    data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    channels = data.shape[1]
    mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    if sr != sample_rate and mono.shape[0] > 0:
        import soxr

        mono = soxr.resample(mono, sr, sample_rate, quality="HQ")
    return AudioClip(
        samples=np.ascontiguousarray(mono, dtype=np.float32),
        sample_rate=sample_rate,
        original_sample_rate=sr,
        original_channels=channels,
    )


def save_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit PCM WAV (clipped to [-1, 1])."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0), sample_rate, subtype="PCM_16")


@functools.lru_cache(maxsize=16)
def _hann(win_length: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.hann_window(win_length, device=device, dtype=dtype)


def spectrogram(wav: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """Linear magnitude spectrogram. ``wav``: (B, T) or (T,) -> (B, n_fft // 2 + 1, frames)."""
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    pad = (n_fft - hop_length) // 2
    padded = torch.nn.functional.pad(wav.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = _hann(win_length, padded.device, padded.dtype)
    stft = torch.stft(
        padded,
        n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=False,
        pad_mode="reflect",
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    return torch.sqrt(stft.real.pow(2) + stft.imag.pow(2) + 1e-6)


# Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4).
_LINEAR_HZ_PER_MEL = 200.0 / 3
_LOG_START_HZ = 1000.0
_LOG_START_MEL = _LOG_START_HZ / _LINEAR_HZ_PER_MEL
_LOG_MEL_STEP = np.log(6.4) / 27.0


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    return np.where(f >= _LOG_START_HZ, _LOG_START_MEL + np.log(np.maximum(f, 1e-10) / _LOG_START_HZ) / _LOG_MEL_STEP,
                    f / _LINEAR_HZ_PER_MEL)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= _LOG_START_MEL, _LOG_START_HZ * np.exp(_LOG_MEL_STEP * (m - _LOG_START_MEL)),
                    _LINEAR_HZ_PER_MEL * m)


@functools.lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Slaney-normalised triangular filterbank, shape (n_mels, n_fft // 2 + 1), float32."""
    fft_freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    mel_points = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(mel_points)
    ramps = mel_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_points[2 : n_mels + 2] - mel_points[:n_mels]))[:, None]
    weights.flags.writeable = False
    return weights.astype(np.float32)


@functools.lru_cache(maxsize=16)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.from_numpy(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax).copy()).to(device=device, dtype=dtype)


def spec_to_mel(spec: torch.Tensor, sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> torch.Tensor:
    """(B, n_fft // 2 + 1, frames) linear magnitude -> (B, n_mels, frames) log mel."""
    basis = _mel_basis(sample_rate, n_fft, n_mels, float(fmin), float(fmax), spec.device, spec.dtype)
    return torch.log(torch.clamp(torch.matmul(basis, spec), min=1e-5))


def mel_spectrogram(
    wav: torch.Tensor,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    win_length: int,
    n_mels: int,
    fmin: float,
    fmax: float,
) -> torch.Tensor:
    """(B, T) waveform -> (B, n_mels, frames) log mel."""
    return spec_to_mel(spectrogram(wav, n_fft, hop_length, win_length), sample_rate, n_fft, n_mels, fmin, fmax)


@dataclass(frozen=True)
class SpectrogramParams:
    """The STFT and mel settings of one model (``data.*`` in the config), in one object.

    ``SpectrogramParams.from_config(config.data).mel(wav)`` is the training mel everywhere (the step, validation,
    TensorBoard images); preprocessing stores ``.spectrogram(wav)``."""

    sampling_rate: int
    n_fft: int  # data.filter_length
    hop_length: int
    win_length: int
    n_mels: int
    fmin: float
    fmax: float

    @classmethod
    def from_config(cls, data: "DataConfig") -> "SpectrogramParams":
        return cls(sampling_rate=data.sampling_rate, n_fft=data.filter_length, hop_length=data.hop_length,
                   win_length=data.win_length, n_mels=data.n_mel_channels, fmin=data.mel_fmin,
                   fmax=data.resolved_mel_fmax)

    def spectrogram(self, wav: torch.Tensor) -> torch.Tensor:
        """(B, T) or (T,) waveform -> (B, n_fft // 2 + 1, frames) linear magnitude."""
        return spectrogram(wav, self.n_fft, self.hop_length, self.win_length)

    def spec_to_mel(self, spec: torch.Tensor) -> torch.Tensor:
        """(B, n_fft // 2 + 1, frames) linear magnitude -> (B, n_mels, frames) log mel."""
        return spec_to_mel(spec, self.sampling_rate, self.n_fft, self.n_mels, self.fmin, self.fmax)

    def mel(self, wav: torch.Tensor) -> torch.Tensor:
        """(B, T) waveform -> (B, n_mels, frames) log mel."""
        return self.spec_to_mel(self.spectrogram(wav))
