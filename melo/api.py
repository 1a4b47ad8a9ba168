"""Synthesis API: a trained checkpoint + text -> waveform.

    from melo.api import TTS
    tts = TTS(model_path="checkpoints/melo_bge_m3/G_latest.pth", config_path="configs/config_bge_m3.json", device="cuda")
    tts.synthesize("안녕하세요. BGE-M3로 학습한 모델입니다.", speaker_id=0, output_path="test.wav")

The resolved config, symbol table and speaker map come from the checkpoint (``G_latest.pth`` holds them).
A ``config_path`` is optional; when given (the user guide passes the base config, whose ``spk2id`` is
empty), every model-shape field must agree with the checkpoint, and a disagreement is an error naming
the field. Its ``data.bert_model`` may point at a local copy of the encoder.

Any speaker speaks any of the four languages; mixed-language text is read segment by segment with one
encoder pass per sentence. Long text is split into sentences (``melo.text.split``), synthesised one by
one and joined with short pauses; :meth:`TTS.stream` yields each sentence's audio as soon as it is ready.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from melo.checkpoint import CheckpointError, load_checkpoint_file
from melo.config import Config, ConfigError, load_config
from melo.runtime.precision import PRECISIONS, PrecisionPolicy
from melo.synthesis_args import output_problem, write_audio
# one error type and one set of request checks for TTS and the torch-free OnnxTTS
from melo.synthesis_input import SynthesisError, request_sentences, speaker_index, spoken_sentences
from melo.text import DEFAULT_TABLE, NothingToPronounceError, SymbolTable, phonemize
from melo.text.symbols import has_speech
from melo.text.sequence import to_sequence

__all__ = ["PRECISIONS", "SynthesisError", "TTS", "Timings", "resolve_device"]

logger = logging.getLogger(__name__)

# Fields whose value shapes the network or the audio it makes: they must match the checkpoint.
_SHAPE_FIELDS_DATA = (
    "sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels", "add_blank", "n_speakers", "bert_layer",
)





def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` -> CUDA when available, else CPU. Asking for an absent device is an error."""
    if isinstance(device, torch.device):
        device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise RuntimeError(f"device {device!r} is not supported; use 'auto', 'cpu' or 'cuda[:N]'") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} is not available: torch sees no CUDA GPU (use device='cpu' or 'auto')")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise RuntimeError(f"device {device!r} is not available: only {torch.cuda.device_count()} CUDA device(s)")
    if dev.type not in ("cpu", "cuda"):
        raise RuntimeError(f"device {device!r} is not supported; use 'auto', 'cpu' or 'cuda[:N]'")
    return dev


@dataclass
class Timings:
    """Seconds spent per stage in the last ``synthesize``/``stream`` call (``acoustic`` excludes ``vocoder``)."""

    frontend: float = 0.0
    features: float = 0.0
    acoustic: float = 0.0
    vocoder: float = 0.0
    samples: int = 0


def _load_checkpoint(path: Path) -> dict[str, Any]:
    payload = load_checkpoint_file(path)  # names the file: missing (FileNotFoundError), unreadable, not a dict
    if "generator" not in payload:
        raise CheckpointError(f"{path}: not a melo generator checkpoint (no 'generator' weights)")
    return payload


def _encoder_reachable(name: str) -> bool:
    """A local folder that exists, or something that reads as a hub id (``org/name``)."""
    if Path(name).is_dir():
        return True
    return not (Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") != 1)


def _resolve_config(path: Path, payload: dict[str, Any], config_path: str | Path | None) -> Config:
    stored = payload.get("config")
    base: Config | None = Config.from_dict(stored, source=f"{path} (stored config)") if stored else None
    if base is None:
        beside = path.parent / "config.json"
        if beside.is_file():
            base = load_config(beside)
    given = load_config(config_path) if config_path is not None else None
    if base is None and given is None:
        raise RuntimeError(f"{path}: the checkpoint stores no config and none was given (pass config_path=...)")
    if base is None:
        assert given is not None
        return given
    if given is not None:
        for name, want in given.model.__dict__.items():
            have = getattr(base.model, name)
            if have != want:
                raise ConfigError(f"{config_path}: model.{name} is {want!r} but the checkpoint {path} was trained with {have!r}")
        for name in _SHAPE_FIELDS_DATA:
            want, have = getattr(given.data, name), getattr(base.data, name)
            if want != have:
                raise ConfigError(f"{config_path}: data.{name} is {want!r} but the checkpoint {path} was trained with {have!r}")
        if given.data.spk2id and given.data.spk2id != base.data.spk2id:
            raise ConfigError(f"{config_path}: data.spk2id differs from the speakers stored in {path}")
        stored, wanted = base.data.bert_model, given.data.bert_model
        if wanted != stored and (Path(wanted).is_dir() or not _encoder_reachable(stored)):
            logger.info("text encoder from %s: %s (the checkpoint was trained with %s)", config_path, wanted, stored)
            base = base.replace(data={"bert_model": wanted})
    return base



def load_generator_checkpoint(model_path: str | Path, config_path: str | Path | None = None
                              ) -> tuple[torch.nn.Module, Config, SymbolTable, dict[str, int]]:
    """The generator of ``G_latest.pth`` (or any generator checkpoint with a stored or given config), its config,
    symbol table and speakers. Errors name the file."""
    from melo.model import build_generator

    model_path = Path(model_path)
    payload = _load_checkpoint(model_path)
    config = _resolve_config(model_path, payload, config_path)
    symbols = SymbolTable.from_dict(payload["symbols"]) if payload.get("symbols") else DEFAULT_TABLE
    speakers = dict(payload.get("spk2id") or config.data.spk2id)
    model = build_generator(config, symbols)
    try:
        model.load_state_dict(payload["generator"])
    except RuntimeError as e:
        raise RuntimeError(f"{model_path}: weights do not fit the config's model ({e})") from None
    return model, config, symbols, speakers

class TTS:
    """A loaded voice model. Thread-compatible, not thread-safe (one synthesis at a time)."""

    def __init__(
        self,
        model_path: str | Path,
        config_path: str | Path | None = None,
        device: str | torch.device = "auto",
        precision: str = "auto",
    ) -> None:
        """``precision``: ``auto`` (CPU: int8 bge-m3, bf16 text encoder and flow, packed bf16 decoder; CUDA:
        fp16/bf16), ``int8`` (``auto`` plus, on CPU, an int8 decoder: ~20% faster than bf16 on CPUs with VNNI; its
        error on random weights is of the order of bf16's, but listen to your voice before you ship it; on GPUs it
        is ``auto``), or ``fp32`` (exact; on CPU the decoder still runs packed, in fp32)."""
        from melo.features import get_extractor

        device_ = resolve_device(device)
        policy = PrecisionPolicy.resolve(device_, precision)
        model_path = Path(model_path)
        model, config, symbols, speakers = load_generator_checkpoint(model_path, config_path)
        features = get_extractor(config.data.bert_model, config.data.bert_layer, device_, policy.features)
        self._setup(model, features, config, symbols, speakers, device_, policy)
        self.precision = precision
        self.model_path = model_path

    @classmethod
    def from_components(
        cls,
        model: Any,
        features: Any,
        config: Config,
        symbols: SymbolTable = DEFAULT_TABLE,
        speakers: dict[str, int] | None = None,
        device: str | torch.device = "cpu",
        precision: str = "auto",
    ) -> "TTS":
        """A TTS over an in-memory generator and feature extractor (benchmarks, tests, custom loading)."""
        self = cls.__new__(cls)
        device_ = resolve_device(device)
        self._setup(model, features, config, symbols, dict(speakers or config.data.spk2id), device_,
                    PrecisionPolicy.resolve(device_, precision))
        self.precision = precision
        self.model_path = None
        return self

    def _setup(self, model: Any, features: Any, config: Config, symbols: SymbolTable, speakers: dict[str, int],
               device: torch.device, policy: PrecisionPolicy) -> None:
        from melo.runtime.engine import InferenceEngine

        self.device = device
        self.config = config
        self.symbols = symbols
        self._speakers = speakers
        if features.hidden_size != config.model.bert_channels:
            raise ConfigError(
                f"text encoder {config.data.bert_model} has hidden size {features.hidden_size} "
                f"but the model expects model.bert_channels={config.model.bert_channels}"
            )
        self.features = features
        self.engine = InferenceEngine(model, device, policy)
        self.engine.build()  # the packed decoder and the traces: not on the first request
        self.last_timings = Timings()

    # -- properties -------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The generator (weight norm folded, frozen) that :attr:`engine` synthesises with."""
        return self.engine.model

    @property
    def sample_rate(self) -> int:
        return self.config.data.sampling_rate

    @property
    def speakers(self) -> dict[str, int]:
        """Speaker name -> id, as trained."""
        return dict(self._speakers)

    @property
    def languages(self) -> tuple[str, ...]:
        return self.symbols.languages

    def warmup(self, languages: tuple[str, ...] | None = None) -> None:
        """Load the language backends (jieba, OpenJTalk, CMUdict, ...), make every CPU kernel a sentence of up to
        ~6 s of speech needs (the decoder's, and the text side's and the flow's per length bucket; ~2.5 s on 2
        cores) and run one short synthesis per language, so the first real requests do not pay for them."""
        self.engine.build(warm=True)
        samples = {"KR": "안녕하세요.", "EN": "Hello.", "ZH": "你好。", "JP": "こんにちは。"}
        for lang in languages or self.languages:
            if lang in samples:
                self.synthesize(samples[lang], speaker_id=next(iter(self._speakers.values()), 0), seed=0)

    # -- synthesis --------------------------------------------------------------------------
    def _sentence_audio(
        self, sentence: str, speaker: int, language: str | None, speed: float, sdp_ratio: float, noise_scale: float, noise_scale_w: float,
        paragraph: str | None = None,
    ) -> np.ndarray:
        t0 = time.perf_counter()
        phonemes = phonemize(sentence, language=language, context=paragraph,  # context: kanji-only sentences
                             korean_coda_classes=self.config.data.korean_coda_classes)
        if not has_speech(phonemes.phones):  # punctuation only (or a script no language reads, dropped)
            raise NothingToPronounceError(f"nothing pronounceable in {sentence!r} (only punctuation is left)")
        seq = to_sequence(phonemes, self.symbols, add_blank=self.config.data.add_blank)
        t1 = time.perf_counter()
        text_features = self.features(phonemes, add_blank=self.config.data.add_blank)
        t2 = time.perf_counter()
        dev = self.device
        with torch.inference_mode():
            out = self.engine.infer(
                torch.from_numpy(seq.phone_ids).unsqueeze(0).to(dev),
                torch.from_numpy(seq.tone_ids).unsqueeze(0).to(dev),
                torch.from_numpy(seq.language_ids).unsqueeze(0).to(dev),
                text_features.unsqueeze(0).to(dev),
                torch.tensor([speaker], device=dev),
                noise_scale=noise_scale,
                noise_scale_w=noise_scale_w,
                length_scale=1.0 / speed,
                sdp_ratio=sdp_ratio,
            )
        audio = out.audio[0, 0, : int(out.audio_lengths[0])].float().cpu().numpy()
        t3 = time.perf_counter()
        timings = self.last_timings
        timings.frontend += t1 - t0
        timings.features += t2 - t1
        timings.vocoder += out.decoder_seconds
        timings.acoustic += (t3 - t2) - out.decoder_seconds
        timings.samples += audio.shape[0]
        return audio

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
    ) -> Iterator[np.ndarray]:
        """Yield float32 audio one sentence at a time (each followed by a short pause but the last)."""
        sentences = request_sentences(text, language, speed=speed, sdp_ratio=sdp_ratio, noise_scale=noise_scale,
                                     noise_scale_w=noise_scale_w, pause_seconds=pause_seconds)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise SynthesisError(f"seed must be an integer or None, got {seed!r}")
        speaker = speaker_index(speaker_id, self._speakers, self.config.data.n_speakers)
        if seed is not None:
            torch.manual_seed(seed)
        self.last_timings = Timings()
        yield from spoken_sentences(
            text, sentences,
            lambda sentence: self._sentence_audio(sentence, speaker, language, speed, sdp_ratio, noise_scale,
                                                  noise_scale_w, text),
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
    ) -> np.ndarray:
        """Read ``text`` with speaker ``speaker_id`` (int id or name); returns float32 audio at
        :attr:`sample_rate`, and writes it to ``output_path`` when given, in the format its extension names
        (:data:`melo.synthesis_args.OUTPUT_FORMATS`: 16-bit WAV, FLAC or raw PCM, MP3, Opus)."""
        if output_path is not None and (problem := output_problem(output_path)):
            raise SynthesisError(problem)  # before any synthesis
        chunks = list(
            self.stream(
                text, speaker_id=speaker_id, language=language, speed=speed, sdp_ratio=sdp_ratio,
                noise_scale=noise_scale, noise_scale_w=noise_scale_w, seed=seed,
            )
        )
        audio = np.concatenate(chunks).astype(np.float32, copy=False)
        if output_path is not None:
            write_audio(output_path, audio, self.sample_rate)
        return audio
