"""Synthesis arguments checked before any work starts, and the audio file format chosen by extension.

Each check returns ``None`` for a good value or the reason as a one-line message; :class:`melo.api.TTS`
raises it as a ``SynthesisError`` before loading the text backends or running the model, so a bad value
never writes a garbage file (``noise_scale=nan``) nor fails after minutes of synthesis (``--output x.mp3``
with a WAV encoder, an output path that is a directory).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["OUTPUT_FORMATS", "numbers_problem", "output_problem", "text_problem", "write_audio"]

OUTPUT_FORMATS: dict[str, str] = {".wav": "wav", ".flac": "flac", ".mp3": "mp3", ".opus": "opus", ".ogg": "opus",
                                  ".pcm": "pcm", ".raw": "pcm"}
"""File extension -> audio format (:mod:`melo.serve.audio_formats` encodes them; ``pcm``: raw 16-bit samples)."""

_RANGES: dict[str, tuple[float, float]] = {
    "speed": (0.1, 10.0),
    "sdp_ratio": (0.0, 1.0),
    "noise_scale": (0.0, 10.0),
    "noise_scale_w": (0.0, 10.0),
    "pause_seconds": (0.0, 10.0),
}
"""Accepted ranges: ``speed`` scales every duration (0.1: ten times slower), ``sdp_ratio`` mixes the two
duration predictors, the noise scales multiply unit-variance noise (0 is deterministic)."""


def numbers_problem(**values: Any) -> str | None:
    """Why one of the named numbers (keys of :data:`_RANGES`) is not a finite number in its range."""
    for name, value in values.items():
        low, high = _RANGES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return f"{name} must be a number, got {type(value).__name__} {value!r}"
        if not math.isfinite(float(value)):
            return f"{name} must be a finite number, got {value!r}"
        if not low <= float(value) <= high:
            return f"{name} must be in [{low:g}, {high:g}], got {value!r}"
    return None


def text_problem(text: Any) -> str | None:
    if isinstance(text, (bytes, bytearray)):
        return "text must be a str, got bytes; decode it first (e.g. text.decode('utf-8'))"
    if not isinstance(text, str):
        return f"text must be a str, got {type(text).__name__}"
    return None


def output_problem(path: str | Path) -> str | None:
    """Why audio cannot be written to ``path``: an extension with no format, or a path that is a folder."""
    path = Path(path)
    if path.is_dir():
        return f"output {path} is a directory; give a file name such as {path / 'out.wav'}"
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        what = f"extension {path.suffix!r}" if path.suffix else "no extension"
        return f"output {path} has {what}; supported: {', '.join(OUTPUT_FORMATS)}"
    from melo.serve.audio_formats import FORMATS, refusal

    if fmt not in FORMATS:
        return f"output {path}: {refusal(fmt, stream=False)}"
    if path.parent.exists() and not path.parent.is_dir():
        return f"output {path}: {path.parent} is not a directory"
    return None


def write_audio(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write ``audio`` to ``path`` in the format its extension names (checked by :func:`output_problem`)."""
    from melo.files import write_bytes_atomic
    from melo.serve.audio_formats import encode_whole

    path = Path(path)
    fmt = OUTPUT_FORMATS[path.suffix.lower()]
    if fmt == "wav":
        from melo.audio import save_wav

        save_wav(path, audio, sample_rate)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, encode_whole(audio, sample_rate, fmt))
