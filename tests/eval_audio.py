"""Test signals for the melo.eval tests: synthetic vowels with a known F0 and timing, espeak-ng speech, noise."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence

import numpy as np
import soundfile as sf

# (F1, F2, F3) of a few vowels, Hz
VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410), (440, 1020, 2240))

EN_SENTENCES = (
    "Please call me back when you get home tonight.",
    "I think the weather will be much better tomorrow morning.",
    "She bought three apples, two oranges and a loaf of bread.",
    "Could you speak a little more slowly, please?",
    "We watched an old movie and then went out for dinner.",
)


def vowel_sequence(
    sample_rate: int,
    f0s: Sequence[float] = (120.0, 140.0, 160.0, 130.0, 150.0, 110.0),
    seconds: Sequence[float] | float = 0.3,
    cents: float = 0.0,
    order: Sequence[int] = (0, 1, 2, 3, 4, 5),
    whispered: Sequence[int] = (),
) -> np.ndarray:
    """Harmonic vowels one after another, each at a constant F0 (times 2^(cents/1200)) with its own formants;
    a glottal-like source (all harmonics, -4 dB/octave) through three formant peaks, peak amplitude 0.3.
    The segments listed in ``whispered`` have the same spectral envelope over an aperiodic source (sinusoids
    every 7 Hz with random phases) instead: unvoiced, with the formants that keep DTW aligned."""
    durations = [seconds] * len(order) if isinstance(seconds, (int, float)) else list(seconds)
    rng = np.random.default_rng(0)
    pieces = []
    phase0 = 0.0
    for index, (vowel, f0, duration) in enumerate(zip(order, f0s, durations)):
        n = int(round(duration * sample_rate))
        f0 = f0 * 2 ** (cents / 1200)
        t = np.arange(n) / sample_rate
        if index in whispered:
            frequencies = np.arange(7.0, 0.45 * sample_rate, 7.0)
            source = (frequencies / f0) ** -0.7
            phases = rng.uniform(0, 2 * np.pi, frequencies.shape[0])
        else:
            harmonics = np.arange(1, int(0.45 * sample_rate / f0))
            frequencies, source, phases = harmonics * f0, harmonics**-0.7, phase0 * harmonics
            phase0 += 2 * np.pi * f0 * n / sample_rate
        envelope = 0.3 + sum(w * np.exp(-(((frequencies - f) / (100 + 50 * k)) ** 2)) for k, (f, w) in enumerate(zip(VOWELS[vowel], (1, 0.5, 0.25))))
        pieces.append((envelope * source) @ np.sin(2 * np.pi * frequencies[:, None] * t[None, :] + phases[:, None]))
    x = np.concatenate(pieces)
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


def noise(seconds: float, sample_rate: int, seed: int, level: float = 0.1) -> np.ndarray:
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * sample_rate))).astype(np.float32)


def espeak(text: str, voice: str = "en-us", pitch: int | None = None, speed: int | None = None) -> tuple[np.ndarray, int]:
    """espeak-ng's reading of ``text``: (float32 samples, sample rate)."""
    cmd = ["espeak-ng", "-v", voice]
    if pitch is not None:
        cmd += ["-p", str(pitch)]
    if speed is not None:
        cmd += ["-s", str(speed)]
    wav = subprocess.run([*cmd, "--stdout", "--", text], capture_output=True, check=True).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return samples, rate
