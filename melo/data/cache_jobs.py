"""The two jobs that fill a missing cache entry, each run in a worker process or in-process (``melo.data.worker_pool``).

* :class:`AudioJob`: read one wav, measure it (readable? silent? length? rate? channels? clipped? truncated?
  constant?) and write the facts as JSON; for a clip :func:`~melo.data.row_verdict.audio_usable` keeps, also
  the int16 waveform + fp16 linear spectrogram as one ``.npz``, trimmed to a whole number of hops.
* :class:`TextJob`: run the text frontend on one row's text and write its phonemes and ids (or why the text is
  unusable). A frontend bug on one row is reported, not cached, so a later run tries again.

A job returns what it wrote; the caller judges the row (:mod:`melo.data.row_verdict`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from melo.config import DataConfig
from melo.data import cache as C
from melo.data.phonemes_json import phonemes_to_dict
from melo.data.row_checks import constant_audio, truncated_wav
from melo.data.row_verdict import CLIP_LEVEL, SILENCE_PEAK, audio_usable
from melo.files import atomic_write, write_json_atomic

__all__ = ["AudioJob", "TextJob"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioJob:
    """Measure and store the wav at ``wav`` under cache ``key`` with the audio settings of ``data``."""

    key: str
    cache_dir: str
    wav: str
    data: DataConfig

    def run(self) -> dict[str, Any]:
        import torch

        from melo.audio import load_audio, spectrogram

        data, cache_dir = self.data, Path(self.cache_dir)
        meta: dict[str, Any] = {"hop_length": data.hop_length, "sampling_rate": data.sampling_rate,
                                "truncated": truncated_wav(self.wav)}
        try:
            clip = load_audio(self.wav, data.sampling_rate)
        except (RuntimeError, ValueError, OSError) as e:  # soundfile raises LibsndfileError (a RuntimeError)
            meta["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
            write_json_atomic(C.shard_path(cache_dir, "audio", self.key, ".json"), meta)
            return meta
        samples = clip.samples
        peak = float(np.abs(samples).max()) if samples.size else 0.0
        frames = samples.shape[0] // data.hop_length
        meta.update(
            samples=int(samples.shape[0]),
            frames=int(frames),
            original_sample_rate=int(clip.original_sample_rate),
            channels=int(clip.original_channels),
            peak=peak,
            clipped_fraction=float(np.mean(np.abs(samples) >= CLIP_LEVEL)) if samples.size else 0.0,
            constant=constant_audio(samples, SILENCE_PEAK),
        )
        if not np.isfinite(samples).all():
            meta["error"] = "non-finite samples (NaN or infinity)"
        # Skip the expensive STFT for clips that will be rejected anyway: measured first.
        if audio_usable(meta, data.min_audio_seconds, data.max_audio_seconds):
            wav16 = np.round(np.clip(samples[: frames * data.hop_length], -1.0, 1.0) * 32767.0).astype(np.int16)
            wav = torch.from_numpy(wav16.astype(np.float32) / 32768.0)
            spec = spectrogram(wav, data.filter_length, data.hop_length, data.win_length)[0]  # (F, frames)
            if spec.shape[-1] != frames:  # only for STFT settings with odd (n_fft - hop)
                frames = min(frames, int(spec.shape[-1]))
                spec, wav16 = spec[:, :frames], wav16[: frames * data.hop_length]
                meta["frames"] = frames
            spec16 = spec.numpy().astype(np.float16)

            def write(tmp: Path) -> None:
                with open(tmp, "wb") as f:
                    np.savez(f, wav=wav16, spec=spec16)

            atomic_write(C.shard_path(cache_dir, "audio", self.key, ".npz"), write)
        write_json_atomic(C.shard_path(cache_dir, "audio", self.key, ".json"), meta)
        return meta


@dataclass(frozen=True)
class TextJob:
    """Phonemise ``text`` (tagged ``language``, or ``None``) and store it under cache ``key``."""

    key: str
    cache_dir: str
    text: str
    language: str | None
    data: DataConfig

    def run(self) -> dict[str, Any]:
        from melo.text import NothingToPronounceError, phonemize
        from melo.text.sequence import to_sequence
        from melo.text.symbols import DEFAULT_TABLE

        path = C.shard_path(Path(self.cache_dir), "phonemes", self.key, ".json")
        try:
            phonemes = phonemize(self.text, self.language, korean_coda_classes=self.data.korean_coda_classes)
        except NothingToPronounceError as e:
            out = {"error": f"nothing pronounceable in the text ({e})", "kind": "unpronounceable"}
            write_json_atomic(path, out)
            return out
        except Exception as e:  # noqa: BLE001 -- a frontend bug on one row is reported, not fatal; not cached
            logger.debug("text frontend failed on %r", self.text, exc_info=True)
            return {"error": f"text frontend failed: {type(e).__name__}: {e}", "kind": "frontend-error", "retry": True}
        seq = to_sequence(phonemes, DEFAULT_TABLE, add_blank=self.data.add_blank)
        out = {
            "phonemes": phonemes_to_dict(phonemes),
            "phone_ids": seq.phone_ids.tolist(),
            "tone_ids": seq.tone_ids.tolist(),
            "language_ids": seq.language_ids.tolist(),
            "dropped": list(phonemes.dropped),
            "unknown_phones": sorted({p for p in phonemes.phones if p not in DEFAULT_TABLE}),
        }
        write_json_atomic(path, out)
        return out
