"""Response audio: the formats the server writes, whole or as a stream, and why the others are refused.

Whole responses are written by libsndfile (through ``soundfile``, already a dependency): WAV and FLAC
(16-bit), MP3 (LAME, in libsndfile >= 1.1, bundled with soundfile >= 0.12.1's wheels) and Opus in Ogg
(libopus takes 8/12/16/24/48 kHz only, so Opus audio is resampled to 48 kHz with ``soxr``); ``pcm`` is raw
16-bit signed little-endian mono at the model's sample rate (the ``X-Sample-Rate`` header says which;
OpenAI's is 24 kHz). AAC is refused: no library the project keeps encodes it.

Streams are WAV (a 44-byte header whose sizes say "unknown length", 0xFFFFFFFF, then 16-bit samples) or raw
PCM: both are plain samples, so each sentence goes out the moment it exists. libsndfile's FLAC, MP3 and
Opus writers seek back at the end to fill in lengths (readers then mis-measure a stream sent before that),
and its Opus writer holds every page until the file closes, so those formats are sent whole only.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np

__all__ = ["FORMATS", "STREAM_FORMATS", "AudioFormat", "StreamEncoder", "encode_whole", "pcm16", "refusal"]

OPUS_RATE = 48000


@dataclass(frozen=True)
class AudioFormat:
    name: str
    media_type: str
    file_extension: str


def _available() -> dict[str, AudioFormat]:
    import soundfile as sf

    formats = {
        "wav": AudioFormat("wav", "audio/wav", "wav"),
        "flac": AudioFormat("flac", "audio/flac", "flac"),
        "pcm": AudioFormat("pcm", "audio/pcm", "pcm"),
    }
    if "MP3" in sf.available_formats():
        formats["mp3"] = AudioFormat("mp3", "audio/mpeg", "mp3")
    if "OGG" in sf.available_formats() and "OPUS" in sf.available_subtypes("OGG"):
        formats["opus"] = AudioFormat("opus", "audio/ogg", "opus")
    return formats


FORMATS: dict[str, AudioFormat] = _available()
STREAM_FORMATS: tuple[str, ...] = ("wav", "pcm")
_WHY_NOT = {
    "aac": "no library this project keeps encodes AAC (libsndfile has no AAC encoder)",
    "mp3": "this libsndfile has no MP3 encoder (soundfile >= 0.12.1 wheels bundle libsndfile >= 1.1, which has)",
    "opus": "this libsndfile has no Opus encoder",
}


def refusal(name: str, stream: bool) -> str | None:
    """Why ``name`` cannot be sent (``stream``: as a stream), or None when it can."""
    choices = ", ".join(FORMATS)
    if name not in FORMATS:
        reason = _WHY_NOT.get(name, "unknown format")
        return f"response_format {name!r} is not available: {reason}; use one of {choices}"
    if stream and name not in STREAM_FORMATS:
        return (f"response_format {name!r} cannot be streamed (its encoder rewrites the file's header at the end); "
                f"stream one of {', '.join(STREAM_FORMATS)}, or send stream=false")
    return None


def pcm16(audio: np.ndarray) -> bytes:
    """float audio in [-1, 1] -> 16-bit signed little-endian samples (clipped)."""
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    return (np.round(clipped * 32767.0)).astype("<i2").tobytes()


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """A 16-bit mono PCM WAV header; ``data_bytes`` None: a stream of unknown length (sizes 0xFFFFFFFF)."""
    data_size = 0xFFFFFFFF if data_bytes is None else data_bytes
    riff_size = 0xFFFFFFFF if data_bytes is None else 36 + data_bytes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", riff_size, b"WAVE", b"fmt ", 16, 1, 1, sample_rate,
                       sample_rate * 2, 2, 16, b"data", data_size)


def encode_whole(audio: np.ndarray, sample_rate: int, name: str) -> bytes:
    """One complete file of format ``name`` (one of :data:`FORMATS`)."""
    import soundfile as sf

    if name == "pcm":
        return pcm16(audio)
    if name == "wav":
        samples = pcm16(audio)
        return wav_header(sample_rate, len(samples)) + samples
    clipped = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    out = io.BytesIO()
    if name == "flac":
        sf.write(out, clipped, sample_rate, format="FLAC", subtype="PCM_16")
    elif name == "mp3":
        sf.write(out, clipped, sample_rate, format="MP3", subtype="MPEG_LAYER_III")
    elif name == "opus":
        import soxr

        sf.write(out, soxr.resample(clipped, sample_rate, OPUS_RATE), OPUS_RATE, format="OGG", subtype="OPUS")
    else:
        raise ValueError(f"unknown audio format {name!r}")
    return out.getvalue()


class StreamEncoder:
    """Bytes to send for each chunk of a stream of format ``name`` (one of :data:`STREAM_FORMATS`)."""

    def __init__(self, name: str, sample_rate: int) -> None:
        if name not in STREAM_FORMATS:
            raise ValueError(f"{name!r} cannot be streamed; use one of {', '.join(STREAM_FORMATS)}")
        self._header = wav_header(sample_rate, None) if name == "wav" else b""

    def encode(self, chunk: np.ndarray) -> bytes:
        header, self._header = self._header, b""
        return header + pcm16(chunk)
