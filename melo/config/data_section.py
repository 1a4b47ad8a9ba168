"""Section ``data`` of the config: data files, the audio front end and the text features."""

from __future__ import annotations

from dataclasses import dataclass, field

from melo.config.errors import check

__all__ = ["DataConfig"]


@dataclass(frozen=True)
class DataConfig:
    """Data files, audio front end and text features (section ``data``)."""

    training_files: str = "data/train_list.txt"
    """Training filelist; lines ``wav|text|speaker[|LANG]``, wav paths relative to the list's folder."""
    validation_files: str = "data/val_list.txt"
    cache_dir: str | None = None
    """Where preprocessing caches go; ``null`` means ``cache/`` beside ``training_files``."""
    max_wav_value: float = 32768.0
    """Kept for MeloTTS config compatibility; audio is read as float in [-1, 1]."""
    sampling_rate: int = 44100
    filter_length: int = 2048
    """STFT size; the linear spectrogram has ``filter_length // 2 + 1`` bins."""
    hop_length: int = 512
    win_length: int = 2048
    n_mel_channels: int = 128
    mel_fmin: float = 0.0
    mel_fmax: float | None = None
    """``null`` means the Nyquist frequency."""
    add_blank: bool = True
    """Interleave the blank symbol (id 0) between phones, as VITS does."""
    n_speakers: int = 256
    """Size of the speaker-embedding table (maximum number of speakers)."""
    spk2id: dict[str, int] = field(default_factory=dict)
    """Speaker name -> id. Filled from the filelists in order of first appearance (train, then val)."""
    bert_model: str = "BAAI/bge-m3"
    """Text-feature encoder: a Hugging Face hub id or a local folder (``AutoModel``/``AutoTokenizer``)."""
    bert_layer: int = -3
    """Which hidden layer feeds the TTS model. Negative counts from the last; -3 (third from last) is
    what MeloTTS-style systems use, since bge-m3's last layers are tuned for retrieval."""
    bert_precision: str = "fp32"
    """Precision of the text encoder while preprocessing: ``fp32`` (exact), ``bf16`` (CPU with bf16 units or
    CUDA; ~2x faster on CPU, ~1.3% feature error), ``int8`` (CPU only; ~3.5x faster, ~5% error on random
    weights) or ``fp16`` (CUDA). Part of the feature-cache key. See benchmarks/results/features.md."""
    korean_coda_classes: bool = False
    """Follow each neutralised Korean coda with its class symbol (``melo.text.kr_codas``: 옷 ᆺ ᆮ̚), so codas
    that sound alike share what is learnt. Changes the phone sequences: a model is trained and used with one
    setting. Off by default: on a Korean sample the rare coda letters it would help were 0.8% of the
    neutralised codas, for +14% Korean phones (benchmarks/results/frontend_korean_codas.md)."""
    min_audio_seconds: float = 0.3
    """Clips shorter than this are reported and left out of training."""
    max_audio_seconds: float = 30.0
    """Clips longer than this are reported and left out of training."""
    min_phones_per_frame: float = 0.02
    max_phones_per_frame: float = 1.0
    """Rows whose phone positions (blanks included, as the model sees them) per spectrogram frame fall outside
    these bounds are reported and left out. Above 1 the alignment cannot place the text at all (it needs a
    frame per position); 300 characters read over half a second come to about 10. Measured: 0.11 to 0.31 on
    the demo corpus at 86 frames/s (44.1 kHz, hop 512); ordinary read speech at 43 frames/s (22.05 kHz, hop
    512) reached 0.90 in the test data, so the default stops at the alignment's limit. Below 0.02 (under one
    phone a second at 86 frames/s) a clip is mostly silence or its transcript mostly missing."""

    def __post_init__(self) -> None:
        check(self.sampling_rate > 0, "data.sampling_rate", "must be > 0")
        check(self.filter_length > 0, "data.filter_length", "must be > 0")
        check(0 < self.hop_length <= self.win_length, "data.hop_length", "must be in (0, win_length]")
        check(0 < self.win_length <= self.filter_length, "data.win_length", "must be in (0, filter_length]")
        check(self.n_mel_channels > 0, "data.n_mel_channels", "must be > 0")
        nyquist = self.sampling_rate / 2
        check(0 <= self.mel_fmin < nyquist, "data.mel_fmin", f"must be in [0, {nyquist:g})")
        check(
            self.mel_fmax is None or self.mel_fmin < self.mel_fmax <= nyquist,
            "data.mel_fmax",
            f"must be null or in (mel_fmin, {nyquist:g}]",
        )
        check(self.n_speakers > 0, "data.n_speakers", "must be > 0")
        check(
            len(self.spk2id) <= self.n_speakers,
            "data.spk2id",
            f"has {len(self.spk2id)} speakers but n_speakers is {self.n_speakers}",
        )
        bad = {k: v for k, v in self.spk2id.items() if not 0 <= v < self.n_speakers}
        check(not bad, "data.spk2id", f"ids must be in [0, n_speakers={self.n_speakers}); got {bad}")
        check(
            len(set(self.spk2id.values())) == len(self.spk2id), "data.spk2id", "two speakers share an id"
        )
        check(bool(self.bert_model), "data.bert_model", "must not be empty")
        check(self.bert_precision in ("fp32", "fp16", "bf16", "int8"), "data.bert_precision",
               f"must be one of fp32, fp16, bf16, int8; got {self.bert_precision!r}")
        check(0 < self.min_audio_seconds < self.max_audio_seconds, "data.min_audio_seconds", "must be in (0, max_audio_seconds)")
        check(0 <= self.min_phones_per_frame < self.max_phones_per_frame, "data.min_phones_per_frame",
               "must be in [0, max_phones_per_frame)")

    @property
    def spec_channels(self) -> int:
        """Bins of the linear spectrogram."""
        return self.filter_length // 2 + 1

    @property
    def resolved_mel_fmax(self) -> float:
        return self.sampling_rate / 2 if self.mel_fmax is None else self.mel_fmax

