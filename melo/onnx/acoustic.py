"""The exported acoustic model: model inputs + noise -> waveform, with two onnxruntime graphs.

``text`` graph: phone, tone and language ids and the bge-m3 features of one utterance -> whole frames per text
position (the stochastic and deterministic duration predictors blended by ``sdp_ratio``, times
``length_scale``), the prior's means and log-scales, the speaker embedding.
``audio`` graph: those + standard normal noise over the frames -> waveform (length regulation, prior sample,
reverse flow, HiFi-GAN decoder).

The frame count is only known after the text graph, so the noise for the audio graph is drawn between the two
(as ``SynthesizerTrn.infer`` draws it). Randomness comes from a :class:`NoiseSource`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from melo.onnx.manifest import AUDIO_INPUTS, TEXT_INPUTS
from melo.onnx.sessions import open_session

__all__ = ["AcousticGraphs", "AcousticOutput", "NoiseSource", "NumpyNoise", "ReplayedNoise"]


class NoiseSource(Protocol):
    """Standard normal float32 draws of a given shape, in call order (the duration noise, then the frames')."""

    def normal(self, shape: tuple[int, ...]) -> np.ndarray: ...


class NumpyNoise:
    """The runtime's default noise: numpy's PCG64 generator, seeded (reproducible) or from the OS."""

    def __init__(self, seed: int | None = None) -> None:
        self._generator = np.random.default_rng(seed)

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        return self._generator.standard_normal(shape, dtype=np.float32)


class ReplayedNoise:
    """Draws given in advance, handed out in order (e.g. the noise a PyTorch synthesis drew, to reproduce it)."""

    def __init__(self, draws: list[np.ndarray]) -> None:
        self._draws = [np.asarray(d, dtype=np.float32) for d in draws]
        self._next = 0

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._next >= len(self._draws):
            raise ValueError(f"replayed noise: all {len(self._draws)} draws are used; one of shape {shape} was asked for")
        draw = self._draws[self._next]
        if tuple(draw.shape) != tuple(shape):
            raise ValueError(f"replayed noise: draw {self._next} has shape {tuple(draw.shape)} but {tuple(shape)} was "
                             "asked for (the durations, and so the frame count, differ from the recording's)")
        self._next += 1
        return draw


@dataclass
class AcousticOutput:
    audio: np.ndarray  # (n_samples,) float32
    durations: np.ndarray  # (T,) int64 frames per text position
    seconds_text: float  # wall time of the text graph
    seconds_audio: float  # wall time of the audio graph


class AcousticGraphs:
    """The ``text`` and ``audio`` graphs of one precision."""

    def __init__(self, text_graph: str | Path, audio_graph: str | Path, latent_channels: int,
                 threads: int | None = None) -> None:
        self.text = open_session(text_graph, threads)
        self.audio = open_session(audio_graph, threads)
        self.latent_channels = latent_channels

    def infer(self, phone_ids: np.ndarray, tone_ids: np.ndarray, language_ids: np.ndarray, text_features: np.ndarray,
              speaker: int, noise: NoiseSource, *, sdp_ratio: float, noise_scale: float, noise_scale_w: float,
              length_scale: float) -> AcousticOutput:
        """One utterance: ids (T,) int64, ``text_features`` (bert_channels, T) float32 -> audio. Draws the duration noise
        (1, 2, T) only when ``sdp_ratio`` > 0, then the frames' noise (1, C, frames), as ``infer`` does."""
        if not 0.0 <= sdp_ratio <= 1.0:
            raise ValueError(f"sdp_ratio must be in [0, 1], got {sdp_ratio}")
        if not length_scale > 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale}")
        t = int(phone_ids.shape[0])
        sdp_noise = (noise.normal((1, 2, t)) * np.float32(noise_scale_w) if sdp_ratio > 0
                     else np.zeros((1, 2, t), dtype=np.float32))
        started = time.perf_counter()
        feeds = dict(zip(TEXT_INPUTS, (
            phone_ids[None].astype(np.int64), tone_ids[None].astype(np.int64), language_ids[None].astype(np.int64),
            np.ascontiguousarray(text_features[None], dtype=np.float32), np.array([speaker], dtype=np.int64),
            sdp_noise.astype(np.float32), np.array(sdp_ratio, dtype=np.float32), np.array(length_scale, dtype=np.float32),
        )))
        durations, prior_mean, prior_log_scale, speaker_embedding = self.text.run(None, feeds)
        text_done = time.perf_counter()
        frames = max(1, int(durations.sum()))
        frame_noise = noise.normal((1, self.latent_channels, frames)).astype(np.float32, copy=False)
        feeds = dict(zip(AUDIO_INPUTS, (durations, prior_mean, prior_log_scale, speaker_embedding, frame_noise,
                                        np.array(noise_scale, dtype=np.float32))))
        (audio,) = self.audio.run(None, feeds)
        return AcousticOutput(audio=audio[0, 0], durations=durations[0, 0].astype(np.int64),
                              seconds_text=text_done - started, seconds_audio=time.perf_counter() - text_done)
