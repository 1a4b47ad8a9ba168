"""Speaker similarity (evaluation extra): cosine between speaker embeddings of resemblyzer's pretrained
speaker encoder (a GE2E d-vector network: 3-layer LSTM over 40-band mel frames, 256-d output).

Only resemblyzer's weight file (``pretrained.pt``, inside its wheel) is used; the front end is computed
here, following resemblyzer's documented parameters: 16 kHz audio, leading/trailing silence trimmed
(:func:`melo.eval.analysis.speech_span`; resemblyzer uses webrtcvad), loudness raised to -30 dBFS RMS
(never lowered), power mel spectrogram (25 ms Hann window and FFT, 10 ms hop, 40 Slaney bands, centred
frames); the utterance is cut into 1.6 s partial windows (160 frames) 1.3 per second, the last one kept
when at least 75% covered, and the embedding is the normalised mean of the partials' embeddings.

A speaker's profile is the normalised mean of the embeddings of its own recordings; an utterance's
similarity is the cosine between its embedding and its speaker's profile (about 0.6-0.75 between
different voices of espeak-ng, 0.9 and more for the same voice; see the README's table).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import torch

from melo.audio import mel_filterbank
from melo.eval.analysis import ANALYSIS_RATE, HOP, power_spectrum, speech_span, to_analysis_rate
from melo.eval.extras import package_file

__all__ = ["SpeakerEncoder", "get_speaker_encoder", "mean_embedding"]

MEL_BANDS = 40
PARTIAL_FRAMES = 160
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0


class _Network(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = torch.nn.LSTM(MEL_BANDS, 256, 3, batch_first=True)
        self.linear = torch.nn.Linear(256, 256)

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        """(P, 160, 40) mel frames -> (P, 256) unit-norm partial embeddings."""
        _, (hidden, _) = self.lstm(mels)
        embeddings = torch.relu(self.linear(hidden[-1]))
        return embeddings / embeddings.norm(dim=1, keepdim=True).clamp_min(1e-12)


class SpeakerEncoder:
    """resemblyzer's pretrained weights behind this module's own front end (module docstring)."""

    def __init__(self) -> None:
        weights = package_file("resemblyzer", "pretrained.pt", "speaker")
        state = torch.load(weights, map_location="cpu", weights_only=True)["model_state"]
        self._network = _Network()
        self._network.load_state_dict({k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))})
        self._network.eval()

    def embed(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """(256,) float32 unit vector for one utterance."""
        x = to_analysis_rate(samples, sample_rate)
        start, stop = speech_span(x)
        if stop > start:
            x = x[start:stop]
        rms = float(np.sqrt(np.mean(x**2))) if x.size else 0.0
        if 0.0 < rms < 10 ** (TARGET_DBFS / 20):
            x = x * (10 ** (TARGET_DBFS / 20) / rms)
        partials = _partials(x)
        with torch.inference_mode():
            embeddings = self._network(torch.from_numpy(partials)).numpy()
        mean = embeddings.mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


def _partials(x: np.ndarray) -> np.ndarray:
    """(T,) 16 kHz -> (P, 160, 40) float32 mel windows covering the utterance."""
    n_frames = int(np.ceil((x.shape[0] + 1) / HOP))
    step = int(round(ANALYSIS_RATE / PARTIALS_PER_SECOND / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step))
    coverage = (x.shape[0] - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts.pop()
    needed = (starts[-1] + PARTIAL_FRAMES) * HOP
    if needed > x.shape[0]:
        x = np.pad(x, (0, needed - x.shape[0]))
    mels = _mel_power(x)
    return np.stack([mels[s : s + PARTIAL_FRAMES] for s in starts]).astype(np.float32)


def _mel_power(x: np.ndarray) -> np.ndarray:
    bank = mel_filterbank(ANALYSIS_RATE, 400, MEL_BANDS, 0.0, ANALYSIS_RATE / 2).astype(np.float64)
    return power_spectrum(x, window=400, n_fft=400) @ bank.T


def mean_embedding(embeddings: Sequence[np.ndarray]) -> np.ndarray:
    """A speaker's profile: the normalised mean of its recordings' embeddings."""
    mean = np.mean(np.stack(embeddings), axis=0)
    return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def get_speaker_encoder() -> SpeakerEncoder:
    """The encoder, loaded once per process."""
    return SpeakerEncoder()
