"""``OnnxTTS``: synthesis from a folder written by ``python -m melo.export``, with onnxruntime and numpy only.

    from melo.onnx import OnnxTTS
    tts = OnnxTTS("exported/melo_bge_m3")               # int8 bge-m3 + fp32 acoustic graphs
    tts.synthesize("안녕하세요.", speaker_id=0, output_path="test.wav")

The same API shape as :class:`melo.api.TTS` (``synthesize``, ``stream``, ``speakers``, ``sample_rate``,
``languages``, ``warmup``, ``last_timings``) and the same text path (``melo.text``: sentence split, phonemize,
blank interleaving; ``melo.features.align``: token-to-phone pooling). Importing this module imports no torch.

Randomness: numpy's generator (``seed`` makes a call reproducible), so the same seed gives different draws from
``melo.api.TTS`` (torch's generator); pass ``noise=`` to supply the draws yourself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from melo.onnx.acoustic import AcousticGraphs, NoiseSource, NumpyNoise
from melo.onnx.features import OnnxFeatures
from melo.onnx.manifest import read_manifest
from melo.synthesis_input import SynthesisError, request_sentences, speaker_index, spoken_sentences
from melo.text import NothingToPronounceError, SymbolTable, phonemize
from melo.text.symbols import has_speech
from melo.text.sequence import to_sequence

__all__ = ["OnnxTTS", "PRECISIONS", "SynthesisError", "Timings"]

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "int8", "fp32")
"""``auto``: the int8 text encoder (bge-m3; fp32 in a folder exported without int8) and the fp32 acoustic graphs; ``int8``: every graph int8;
``fp32``: every graph fp32 (matches PyTorch's fp32 synthesis to float rounding)."""


@dataclass
class Timings:
    """Seconds per stage in the last ``synthesize``/``stream`` call, as :class:`melo.api.Timings`; here
    ``acoustic`` is the text graph (text encoder, durations) and ``vocoder`` the audio graph (flow and decoder)."""

    frontend: float = 0.0
    features: float = 0.0
    acoustic: float = 0.0
    vocoder: float = 0.0
    samples: int = 0


class OnnxTTS:
    """An exported voice. Thread-compatible, not thread-safe (one synthesis at a time)."""

    def __init__(self, folder: str | Path, precision: str = "auto", threads: int | None = None) -> None:
        """``folder``: what ``python -m melo.export`` wrote; ``threads``: onnxruntime's intra-op threads per
        graph (None: one per physical core)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}")
        folder = Path(folder)
        self.folder = folder
        self.manifest = manifest = read_manifest(folder)
        self.precision = precision
        encoder_precision = "fp32" if precision == "fp32" or "int8" not in manifest.graphs else "int8"
        if precision == "auto" and encoder_precision == "fp32":
            logger.info("%s holds no int8 graphs (exported with --no-int8): the encoder runs in fp32", folder)
        acoustic_precision = "int8" if precision == "int8" else "fp32"
        for wanted in {encoder_precision, acoustic_precision}:
            if wanted not in manifest.graphs:
                raise ValueError(f"{folder}: holds no {wanted} graphs (it has {', '.join(manifest.graphs)}); "
                                 f"use precision={'fp32' if 'fp32' in manifest.graphs else 'int8'!r} or export again")
        encoder = manifest.graphs[encoder_precision]["encoder"]
        acoustic = manifest.graphs[acoustic_precision]
        self.symbols = SymbolTable.from_dict(manifest.symbols)
        self.features = OnnxFeatures(folder / encoder, folder / manifest.encoder.tokenizer, manifest.encoder, threads)
        self.acoustic = AcousticGraphs(folder / acoustic["text"], folder / acoustic["audio"], manifest.latent_channels,
                                       threads)
        if manifest.encoder.stand_in:
            logger.warning("text encoder of %s is the %s", folder, manifest.encoder.stand_in)
        self.last_timings = Timings()

    # -- properties -------------------------------------------------------------------------
    @property
    def sample_rate(self) -> int:
        return self.manifest.sample_rate

    @property
    def speakers(self) -> dict[str, int]:
        """Speaker name -> id, as trained."""
        return dict(self.manifest.speakers)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.symbols.languages

    def warmup(self, languages: tuple[str, ...] | None = None) -> None:
        """Load the language backends and run one short synthesis per language (onnxruntime plans its kernels
        on the first run of each graph)."""
        samples = {"KR": "안녕하세요.", "EN": "Hello.", "ZH": "你好。", "JP": "こんにちは。"}
        for lang in languages or self.languages:
            if lang in samples:
                self.synthesize(samples[lang], speaker_id=next(iter(self.manifest.speakers.values()), 0), seed=0)

    # -- synthesis --------------------------------------------------------------------------
    def _sentence_audio(self, sentence: str, speaker: int, language: str | None, speed: float, sdp_ratio: float,
                        noise_scale: float, noise_scale_w: float, paragraph: str, noise: NoiseSource) -> np.ndarray:
        t0 = time.perf_counter()
        phonemes = phonemize(sentence, language=language, context=paragraph,
                             korean_coda_classes=self.manifest.korean_coda_classes)
        if not has_speech(phonemes.phones):  # punctuation only (or a script no language reads, dropped)
            raise NothingToPronounceError(f"nothing pronounceable in {sentence!r} (only punctuation is left)")
        seq = to_sequence(phonemes, self.symbols, add_blank=self.manifest.add_blank)
        t1 = time.perf_counter()
        text_features = self.features(phonemes, add_blank=self.manifest.add_blank)
        t2 = time.perf_counter()
        out = self.acoustic.infer(seq.phone_ids, seq.tone_ids, seq.language_ids, text_features, speaker, noise,
                                  sdp_ratio=sdp_ratio, noise_scale=noise_scale, noise_scale_w=noise_scale_w,
                                  length_scale=1.0 / speed)
        timings = self.last_timings
        timings.frontend += t1 - t0
        timings.features += t2 - t1
        timings.acoustic += out.seconds_text
        timings.vocoder += out.seconds_audio
        timings.samples += out.audio.shape[0]
        return out.audio

    def stream(
        self,
        text: str,
        speaker_id: int | str = 0,
        language: str | None = None,
        speed: float = 1.0,
        sdp_ratio: float = 0.2,
        noise_scale: float = 0.6,
        noise_scale_w: float = 0.8,
        pause_seconds: float = 0.15,
        seed: int | None = None,
        noise: NoiseSource | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield float32 audio one sentence at a time (each followed by a short pause but the last).
        ``noise``: the random draws (default: numpy's generator, seeded with ``seed``)."""
        sentences = request_sentences(text, language, speed=speed, sdp_ratio=sdp_ratio, noise_scale=noise_scale,
                                      noise_scale_w=noise_scale_w, pause_seconds=pause_seconds)
        speaker = speaker_index(speaker_id, self.manifest.speakers, self.manifest.n_speakers)
        noise = noise if noise is not None else NumpyNoise(seed)
        self.last_timings = Timings()
        yield from spoken_sentences(
            text, sentences,
            lambda sentence: self._sentence_audio(sentence, speaker, language, speed, sdp_ratio, noise_scale,
                                                  noise_scale_w, text, noise),
            int(round(pause_seconds * self.sample_rate)))

    def synthesize(
        self,
        text: str,
        speaker_id: int | str = 0,
        output_path: str | Path | None = None,
        language: str | None = None,
        speed: float = 1.0,
        sdp_ratio: float = 0.2,
        noise_scale: float = 0.6,
        noise_scale_w: float = 0.8,
        seed: int | None = None,
        noise: NoiseSource | None = None,
    ) -> np.ndarray:
        """Read ``text`` with speaker ``speaker_id`` (int id or name); returns float32 audio at
        :attr:`sample_rate`, and writes a 16-bit WAV to ``output_path`` when given."""
        chunks = list(self.stream(text, speaker_id=speaker_id, language=language, speed=speed, sdp_ratio=sdp_ratio,
                                  noise_scale=noise_scale, noise_scale_w=noise_scale_w, seed=seed, noise=noise))
        audio = np.concatenate(chunks).astype(np.float32, copy=False)
        if output_path is not None:  # as melo.audio.save_wav, which imports torch
            import soundfile

            Path(output_path).parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(str(output_path), np.clip(audio, -1.0, 1.0), self.sample_rate, subtype="PCM_16")
        return audio

