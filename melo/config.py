"""Typed, validated configuration.

A config file is JSON with three sections, named as in MeloTTS so existing configs read the same:
``train`` (optimisation and loop), ``data`` (files, audio and text features) and ``model`` (shapes).
Every field is declared here with its type, default and meaning; unknown keys are errors with a
suggestion, wrong types are errors naming the key. ``//`` line comments are allowed in the file
(the user guide shows them), although plain JSON is what we write back.

The resolved config (with ``data.spk2id`` filled in) is stored inside every checkpoint, so a
checkpoint alone is enough to synthesise from.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Config",
    "ConfigError",
    "DataConfig",
    "GeneratorGroup",
    "ModelConfig",
    "TrainConfig",
    "load_config",
]


EVAL_METRIC_GROUPS = ("acoustic", "identification", "asr", "speaker", "dnsmos")
"""The metric groups of :mod:`melo.eval` (its ``ALL_METRICS``; a test keeps them equal)."""
BEST_METRICS: dict[str, str | None] = {
    "mcd_db": "acoustic", "f0_rmse_cents": "acoustic", "voicing_error": "acoustic", "duration_ratio": "acoustic",
    "id_accuracy": "identification", "wer": "asr", "asr_id_accuracy": "asr", "speaker_similarity": "speaker",
    "speaker_similarity_cross_lingual": "speaker", "dnsmos_sig": "dnsmos", "dnsmos_bak": "dnsmos",
    "dnsmos_ovrl": "dnsmos", "val_mel_l1": None,
}
"""Scores ``train.best_metric`` may name, with the metric group that produces each (``val_mel_l1``: validation)."""


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the key and the file."""


GeneratorGroup = Literal["text_embeddings", "text_encoder", "duration_predictors", "flow", "posterior_encoder",
                         "decoder", "speakers"]
"""The generator's parameter groups (``train.freeze``, the load report); :mod:`melo.init.layout` says which
parameters belong to which."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and training-loop settings (section ``train``)."""

    log_interval: int = 200
    """Steps between scalar logs (TensorBoard and the log file)."""
    eval_interval: int = 1000
    """Steps between validation + checkpoint saves."""
    seed: int = 52
    epochs: int = 10000
    """Upper bound on epochs; ``--max-steps`` on the command line can stop earlier."""
    learning_rate: float = 3e-4
    betas: tuple[float, float] = (0.8, 0.99)
    eps: float = 1e-9
    batch_size: int = 6
    """Per-GPU batch size."""
    max_frames_per_batch: int | None = None
    """Frame budget per GPU batch: items x the batch's longest clip, in spectrogram frames. Buckets of long clips
    get smaller batches so peak memory is bounded whatever the data (``python -m melo.train --dry-run``
    measures it). Must admit the longest clip ``data.max_audio_seconds`` allows. ``null``: no budget."""
    fp16_run: bool = False
    """fp16 autocast + GradScaler on CUDA. Ignored (with one warning) on CPU."""
    bf16_run: bool = False
    """bf16 autocast on CUDA GPUs with native bf16 (compute capability 8.0+; others stop with an error); no
    scaler needed. Takes precedence over ``fp16_run``."""
    lr_decay: float = 0.999875
    """Exponential learning-rate decay factor, applied once per ``lr_decay_interval``."""
    lr_decay_interval: Literal["epoch", "step"] = "epoch"
    """MeloTTS decays once per epoch; ``step`` makes the schedule independent of dataset size."""
    segment_size: int = 16384
    """Audio samples decoded per training example (a multiple of ``data.hop_length``)."""
    c_mel: float = 45.0
    """Weight of the mel-spectrogram L1 loss."""
    c_kl: float = 1.0
    """Weight of the KL loss."""
    c_dur: float = 1.0
    """Weight of the duration-predictor loss."""
    grad_clip_norm: float | None = None
    """Clip gradients to this total norm; ``null`` measures the norm without clipping."""
    max_consecutive_skips: int = 50
    """Stop the run with an error when one optimiser skips this many updates in a row (non-finite gradients:
    a persistent fp16 overflow or a diverged network). Checked when the loop logs, and at least this often."""
    keep_ckpts: int = 5
    """How many step checkpoints to keep (0 keeps all); ``G_latest.pth`` is always kept."""
    num_workers: int = 2
    """DataLoader worker processes per rank."""
    pretrained_G: str | None = None
    """The older name of ``init_from`` (setting both is an error)."""
    pretrained_D: str | None = None
    """The older name of ``init_from_D`` (setting both is an error)."""
    init_from: str | None = None
    """Start the generator from these weights instead of random ones (fresh runs only; ``--resume`` continues
    from the run's own checkpoints): one of our ``G_*.pth`` / ``G_latest.pth`` (or a generator-only export of the
    same layout), a MeloTTS ``checkpoint.pth`` / ``G_*.pth`` (its ``config.json`` beside it names the speakers),
    a folder holding one of those, or a MeloTTS Hugging Face repo id such as ``myshell-ai/MeloTTS-Korean``.
    Every tensor is mapped by name, embedding rows by symbol, tone, language and speaker name; a load report
    per parameter group is logged and written to ``init_report.txt`` beside the checkpoints (see
    :mod:`melo.init`)."""
    init_from_D: str | None = None
    """Start the discriminators from: one of our ``D_*.pth`` (both discriminators) or a MeloTTS ``D_*.pth``
    (the waveform discriminators)."""
    init_from_DUR: str | None = None
    """Start the duration discriminator from a MeloTTS ``DUR_*.pth`` (ours are inside our ``D_*.pth``)."""
    init_min_fraction: float = 0.5
    """Refuse to train when less than this fraction of a network's parameters came from its ``init_from*``
    source (a source that loads nothing is always refused): a pretrained name on random weights is an error,
    not a warning."""
    init_speaker_map: dict[str, str] = field(default_factory=dict)
    """This run's speaker -> the source's speaker whose embedding row it starts from, e.g. ``{"myvoice": "KR"}``
    from ``myshell-ai/MeloTTS-Korean``. Other speakers take the row of the source speaker with the same name,
    or start fresh. A source without speaker names names them by id (``"0"``, ``"1"``, ...)."""
    allow_shape_mismatch: bool = False
    """With ``init_from*``: a tensor whose shape differs from the source's (other than the embedding tables,
    whose rows move by name) is an error, unless this is true; then it starts fresh and the report says so."""
    freeze: tuple[GeneratorGroup, ...] = ()
    """Generator parameter groups that keep their initial weights: they are left out of the optimizer and stay
    bit-identical. Needs ``init_from`` (frozen random weights would stay random). Groups: ``text_embeddings``
    (phone, tone, language embeddings and the bge-m3 projection), ``text_encoder``, ``duration_predictors``,
    ``flow``, ``posterior_encoder``, ``decoder``, ``speakers`` (the speaker embedding table)."""
    eval_utterances: int = 16
    """Validation lines synthesised from their text at every evaluation and scored against their own recordings
    (:mod:`melo.train.speech_eval`), taken from each language in turn; 0 turns this off."""
    eval_metrics: tuple[str, ...] = ("acoustic", "identification")
    """:mod:`melo.eval` metric groups of that evaluation: ``acoustic``, ``identification`` (core install), ``asr``,
    ``speaker``, ``dnsmos`` (``pip install -r requirements-eval.txt``)."""
    best_metric: str | None = "mcd_db"
    """Keep ``G_best.pth``, the generator with the best value of this score so far: an evaluation score
    (``mcd_db``, ``f0_rmse_cents``, ``voicing_error``, ``duration_ratio``, ``id_accuracy``, ``wer``,
    ``asr_id_accuracy``, ``speaker_similarity``, ``dnsmos_ovrl``, ...) or ``val_mel_l1``; null keeps none."""

    @property
    def generator_init(self) -> str | None:
        """``init_from`` or its older name ``pretrained_G``."""
        return self.init_from or self.pretrained_G

    @property
    def discriminator_init(self) -> str | None:
        """``init_from_D`` or its older name ``pretrained_D``."""
        return self.init_from_D or self.pretrained_D

    def __post_init__(self) -> None:
        _check(self.log_interval > 0, "train.log_interval", "must be > 0")
        _check(self.eval_interval > 0, "train.eval_interval", "must be > 0")
        _check(self.epochs > 0, "train.epochs", "must be > 0")
        _check(0 < self.learning_rate <= 1, "train.learning_rate", "must be in (0, 1]")
        _check(0 < self.eps < 1, "train.eps", "must be in (0, 1)")
        for name in ("c_mel", "c_kl", "c_dur"):
            _check(getattr(self, name) >= 0, f"train.{name}", "must be >= 0 (a loss weight)")
        _check(len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "train.betas", "must be two numbers in [0, 1)")
        _check(self.batch_size > 0, "train.batch_size", "must be > 0")
        _check(0 < self.lr_decay <= 1, "train.lr_decay", "must be in (0, 1]")
        _check(self.segment_size > 0, "train.segment_size", "must be > 0")
        _check(self.keep_ckpts >= 0, "train.keep_ckpts", "must be >= 0 (0 keeps all)")
        _check(self.num_workers >= 0, "train.num_workers", "must be >= 0")
        _check(self.grad_clip_norm is None or self.grad_clip_norm > 0, "train.grad_clip_norm", "must be > 0 or null")
        _check(self.max_consecutive_skips > 0, "train.max_consecutive_skips", "must be > 0")
        _check(self.max_frames_per_batch is None or self.max_frames_per_batch > 0, "train.max_frames_per_batch",
               "must be > 0 or null")
        _check(not (self.init_from and self.pretrained_G), "train.pretrained_G",
               "is the older name of train.init_from; set only one of them")
        _check(not (self.init_from_D and self.pretrained_D), "train.pretrained_D",
               "is the older name of train.init_from_D; set only one of them")
        _check(0 <= self.init_min_fraction <= 1, "train.init_min_fraction", "must be in [0, 1]")
        _check(not self.init_speaker_map or self.generator_init is not None, "train.init_speaker_map",
               "needs train.init_from (the source whose speakers it names)")
        _check(len(set(self.freeze)) == len(self.freeze), "train.freeze", "lists a group twice")
        _check(not self.freeze or self.generator_init is not None, "train.freeze",
               "needs train.init_from: frozen randomly initialised weights would stay random")
        _check(len(self.freeze) < len(typing.get_args(GeneratorGroup)), "train.freeze",
               "freezes every generator group: nothing would be trained")
        _check(self.eval_utterances >= 0, "train.eval_utterances", "must be >= 0 (0 turns speech evaluation off)")
        unknown = [m for m in self.eval_metrics if m not in EVAL_METRIC_GROUPS]
        _check(not unknown, "train.eval_metrics", f"unknown metric group(s) {unknown}; known: {', '.join(EVAL_METRIC_GROUPS)}")
        if self.best_metric is not None:
            _check(self.best_metric in BEST_METRICS, "train.best_metric",
                   f"unknown score {self.best_metric!r}; known: {', '.join(BEST_METRICS)} (or null)")
            group = BEST_METRICS[self.best_metric]
            _check(group is None or (self.eval_utterances > 0 and group in self.eval_metrics), "train.best_metric",
                   f"{self.best_metric!r} comes from the {group!r} evaluation: add it to train.eval_metrics "
                   f"(and keep train.eval_utterances > 0), or choose another score")


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
        _check(self.sampling_rate > 0, "data.sampling_rate", "must be > 0")
        _check(self.filter_length > 0, "data.filter_length", "must be > 0")
        _check(0 < self.hop_length <= self.win_length, "data.hop_length", "must be in (0, win_length]")
        _check(0 < self.win_length <= self.filter_length, "data.win_length", "must be in (0, filter_length]")
        _check(self.n_mel_channels > 0, "data.n_mel_channels", "must be > 0")
        nyquist = self.sampling_rate / 2
        _check(0 <= self.mel_fmin < nyquist, "data.mel_fmin", f"must be in [0, {nyquist:g})")
        _check(
            self.mel_fmax is None or self.mel_fmin < self.mel_fmax <= nyquist,
            "data.mel_fmax",
            f"must be null or in (mel_fmin, {nyquist:g}]",
        )
        _check(self.n_speakers > 0, "data.n_speakers", "must be > 0")
        _check(
            len(self.spk2id) <= self.n_speakers,
            "data.spk2id",
            f"has {len(self.spk2id)} speakers but n_speakers is {self.n_speakers}",
        )
        bad = {k: v for k, v in self.spk2id.items() if not 0 <= v < self.n_speakers}
        _check(not bad, "data.spk2id", f"ids must be in [0, n_speakers={self.n_speakers}); got {bad}")
        _check(
            len(set(self.spk2id.values())) == len(self.spk2id), "data.spk2id", "two speakers share an id"
        )
        _check(bool(self.bert_model), "data.bert_model", "must not be empty")
        _check(self.bert_precision in ("fp32", "fp16", "bf16", "int8"), "data.bert_precision",
               f"must be one of fp32, fp16, bf16, int8; got {self.bert_precision!r}")
        _check(0 < self.min_audio_seconds < self.max_audio_seconds, "data.min_audio_seconds", "must be in (0, max_audio_seconds)")
        _check(0 <= self.min_phones_per_frame < self.max_phones_per_frame, "data.min_phones_per_frame",
               "must be in [0, max_phones_per_frame)")

    @property
    def spec_channels(self) -> int:
        """Bins of the linear spectrogram."""
        return self.filter_length // 2 + 1

    @property
    def resolved_mel_fmax(self) -> float:
        return self.sampling_rate / 2 if self.mel_fmax is None else self.mel_fmax


@dataclass(frozen=True)
class ModelConfig:
    """Model shapes and switches (section ``model``). Defaults are MeloTTS's.

    MeloTTS hard-codes many of these in its model code; here each one is a field, with MeloTTS's
    value as the default, so ``configs/config_bge_m3.json`` builds the same architecture.
    """

    use_spk_conditioned_encoder: bool = True
    """Add the speaker embedding inside the text encoder (before layer ``speaker_cond_layer``)."""
    use_noise_scaled_mas: bool = True
    """VITS2 noise on the alignment-search scores, ``mas_noise_scale - mas_noise_scale_delta * step``."""
    use_mel_posterior_encoder: bool = False
    """Feed the posterior encoder a mel spectrogram (``data.n_mel_channels`` bins) instead of the linear one."""
    use_duration_discriminator: bool = True
    """Train the VITS2 duration discriminator."""
    inter_channels: int = 192
    """Latent ``z`` channels (prior, posterior, flow and decoder input)."""
    hidden_channels: int = 192
    filter_channels: int = 768
    """FFN width of the text encoder and of the flow's transformers."""
    n_heads: int = 2
    n_layers: int = 6
    """Text-encoder transformer layers."""
    n_layers_trans_flow: int = 3
    """Transformer layers inside each flow coupling layer."""
    kernel_size: int = 3
    """FFN convolution kernel of the text encoder."""
    p_dropout: float = 0.1
    resblock: Literal["1", "2"] = "1"
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2, 2)
    upsample_initial_channel: int = 512
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 8, 2, 2)
    n_layers_q: int = 3
    """Kept for MeloTTS config compatibility (unused: the posterior encoder uses ``posterior_n_layers``)."""
    use_spectral_norm: bool = False
    """Spectral instead of weight norm in the scale discriminator."""
    gin_channels: int = 256
    """Speaker-embedding size."""
    bert_channels: int = 1024
    """Width of the text features (bge-m3: 1024); one ``Conv1d(bert_channels, hidden_channels, 1)`` projects them."""

    # -- text encoder and flow transformers (MeloTTS hard-codes these) -------------------------
    attention_window_size: int = 4
    """Relative-position attention window (positions -w..w have their own key/value embeddings)."""
    speaker_cond_layer: int = 2
    """Text-encoder layer before which the speaker embedding is added (VITS2: the 3rd block, index 2)."""
    n_flow_layer: int = 4
    """Transformer-coupling layers in the flow (each followed by a channel flip)."""
    flow_kernel_size: int = 5
    """FFN convolution kernel inside the flow's transformers."""
    flow_speaker_cond_layer: int = 2
    """Layer of each flow transformer before which the speaker embedding is added."""

    # -- duration predictors ----------------------------------------------------------------
    duration_predictor_filter_channels: int = 256
    duration_predictor_kernel_size: int = 3
    duration_predictor_dropout: float = 0.5
    sdp_filter_channels: int = 192
    """Stochastic duration predictor width (MeloTTS passes 192 and then overrides it with hidden_channels;
    both are 192)."""
    sdp_kernel_size: int = 3
    sdp_dropout: float = 0.5
    sdp_n_flows: int = 4
    """Spline coupling flows in the stochastic duration predictor (and in its posterior)."""
    sdp_conv_layers: int = 3
    """Dilated depth-separable conv layers in each of its conv stacks."""
    sdp_num_bins: int = 10
    """Bins of each rational-quadratic spline."""
    sdp_tail_bound: float = 5.0
    """The splines act on [-tail_bound, tail_bound]; identity outside."""

    # -- posterior encoder ----------------------------------------------------------------
    posterior_kernel_size: int = 5
    posterior_n_layers: int = 16
    posterior_dilation_rate: int = 1

    # -- alignment search -----------------------------------------------------------------
    mas_noise_scale: float = 0.01
    """Initial VITS2 alignment noise (times the std of the scores)."""
    mas_noise_scale_delta: float = 2e-6
    """Noise decrease per training step (reaches 0 after 5000 steps with the defaults)."""

    # -- discriminators ---------------------------------------------------------------------
    duration_discriminator_filter_channels: int = 192
    """MeloTTS builds it with ``hidden_channels`` (192)."""
    duration_discriminator_kernel_size: int = 3
    duration_discriminator_dropout: float = 0.1
    duration_discriminator_speaker_conditioned: bool = False
    """MeloTTS creates a speaker ``cond`` layer in the duration discriminator but never passes a speaker,
    so it is dead weight; ``true`` builds it and conditions on the (detached) speaker embedding."""
    discriminator_periods: tuple[int, ...] = (2, 3, 5, 7, 11)
    period_discriminator_channels: tuple[int, ...] = (32, 128, 512, 1024, 1024)
    """Output channels of the period discriminators' five (k x 1) convolutions."""
    period_discriminator_kernel_size: int = 5
    period_discriminator_stride: int = 3
    scale_discriminator_channels: tuple[int, ...] = (16, 64, 256, 1024, 1024, 1024)
    """Output channels of the scale discriminator's six convolutions."""
    scale_discriminator_groups: tuple[int, ...] = (1, 4, 16, 64, 256, 1)
    """Groups of those convolutions (each must divide its input and output channels)."""

    def __post_init__(self) -> None:
        for name in ("inter_channels", "hidden_channels", "filter_channels", "n_heads", "n_layers",
                     "n_layers_trans_flow", "kernel_size", "upsample_initial_channel", "gin_channels",
                     "bert_channels", "n_flow_layer", "flow_kernel_size", "duration_predictor_filter_channels",
                     "duration_predictor_kernel_size", "sdp_filter_channels", "sdp_kernel_size", "sdp_n_flows",
                     "sdp_conv_layers", "sdp_num_bins", "posterior_kernel_size", "posterior_n_layers",
                     "posterior_dilation_rate", "duration_discriminator_filter_channels",
                     "duration_discriminator_kernel_size", "period_discriminator_kernel_size",
                     "period_discriminator_stride"):
            _check(getattr(self, name) > 0, f"model.{name}", "must be > 0")
        _check(self.hidden_channels % self.n_heads == 0, "model.hidden_channels", "must be divisible by n_heads")
        _check(self.inter_channels % 2 == 0, "model.inter_channels", "must be even (the flow splits it in halves)")
        for name in ("p_dropout", "duration_predictor_dropout", "sdp_dropout", "duration_discriminator_dropout"):
            _check(0 <= getattr(self, name) < 1, f"model.{name}", "must be in [0, 1)")
        _check(self.attention_window_size >= 0, "model.attention_window_size", "must be >= 0")
        _check(
            0 <= self.speaker_cond_layer < self.n_layers,
            "model.speaker_cond_layer",
            f"must be in [0, n_layers={self.n_layers})",
        )
        _check(
            0 <= self.flow_speaker_cond_layer < self.n_layers_trans_flow,
            "model.flow_speaker_cond_layer",
            f"must be in [0, n_layers_trans_flow={self.n_layers_trans_flow})",
        )
        _check(self.sdp_tail_bound > 0, "model.sdp_tail_bound", "must be > 0")
        _check(self.mas_noise_scale >= 0, "model.mas_noise_scale", "must be >= 0")
        _check(self.mas_noise_scale_delta >= 0, "model.mas_noise_scale_delta", "must be >= 0")
        _check(
            len(self.upsample_rates) == len(self.upsample_kernel_sizes),
            "model.upsample_kernel_sizes",
            "needs one kernel per upsample rate",
        )
        _check(
            all(k >= r and (k - r) % 2 == 0 for k, r in zip(self.upsample_kernel_sizes, self.upsample_rates)),
            "model.upsample_kernel_sizes",
            "each kernel must be >= its rate and differ from it by an even number (exact upsampling)",
        )
        _check(
            self.upsample_initial_channel % (2 ** len(self.upsample_rates)) == 0,
            "model.upsample_initial_channel",
            f"must be divisible by 2**{len(self.upsample_rates)} (channels halve at each upsampling)",
        )
        _check(
            len(self.resblock_kernel_sizes) == len(self.resblock_dilation_sizes),
            "model.resblock_dilation_sizes",
            "needs one dilation list per resblock kernel",
        )
        _check(len(self.discriminator_periods) > 0 and all(p > 0 for p in self.discriminator_periods),
               "model.discriminator_periods", "must be a non-empty list of positive periods")
        _check(len(self.period_discriminator_channels) == 5 and all(c > 0 for c in self.period_discriminator_channels),
               "model.period_discriminator_channels", "must be 5 positive channel counts")
        _check(len(self.scale_discriminator_channels) == 6 and all(c > 0 for c in self.scale_discriminator_channels),
               "model.scale_discriminator_channels", "must be 6 positive channel counts")
        _check(len(self.scale_discriminator_groups) == 6, "model.scale_discriminator_groups", "must be 6 group counts")
        c_in = 1
        for i, (c, g) in enumerate(zip(self.scale_discriminator_channels, self.scale_discriminator_groups)):
            _check(g > 0 and c_in % g == 0 and c % g == 0, "model.scale_discriminator_groups",
                   f"entry {i} ({g}) must divide the conv's input ({c_in}) and output ({c}) channels")
            c_in = c

    def mas_noise_scale_at(self, step: int) -> float:
        """VITS2 alignment noise at training ``step`` (0 when ``use_noise_scaled_mas`` is off)."""
        if not self.use_noise_scaled_mas:
            return 0.0
        return max(self.mas_noise_scale - self.mas_noise_scale_delta * step, 0.0)


@dataclass(frozen=True)
class Config:
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        upsample = 1
        for r in self.model.upsample_rates:
            upsample *= r
        _check(
            upsample == self.data.hop_length,
            "model.upsample_rates",
            f"multiply to {upsample} but data.hop_length is {self.data.hop_length}; they must be equal",
        )
        _check(
            self.train.segment_size % self.data.hop_length == 0,
            "train.segment_size",
            f"must be a multiple of data.hop_length ({self.data.hop_length})",
        )
        budget, d = self.train.max_frames_per_batch, self.data
        longest = int(d.max_audio_seconds * d.sampling_rate) // d.hop_length
        _check(
            budget is None or budget >= longest,
            "train.max_frames_per_batch",
            f"is {budget} frames, less than the longest clip data.max_audio_seconds allows ({d.max_audio_seconds:g} s "
            f"= {longest} frames); lower data.max_audio_seconds to at most "
            f"{(budget or 0) * d.hop_length / d.sampling_rate:.2f} s or raise the budget",
        )

    # -- conversion -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        from melo.files import write_bytes_atomic

        write_bytes_atomic(path, (self.to_json() + "\n").encode("utf-8"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<config>") -> "Config":
        return _build(cls, raw, "", source)

    def replace(self, **sections: dict[str, Any]) -> "Config":
        """A copy with fields replaced per section: ``cfg.replace(data={"spk2id": {...}})``."""
        raw = self.to_dict()
        for name, updates in sections.items():
            if name not in raw:
                raise ConfigError(f"unknown config section {name!r}; known: {', '.join(raw)}")
            raw[name].update(updates)
        return Config.from_dict(raw)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Errors name the file and the key."""
    from melo.path_kind import NOT_FOUND, not_a_file

    path = Path(path)
    kind = not_a_file(path)
    if kind not in (None, NOT_FOUND):  # a directory, or a FIFO that would block the read
        raise ConfigError(f"{path}: cannot read the config: it {kind}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file ({e.strerror or e})") from None
    try:
        raw = json.loads(_strip_line_comments(text), object_pairs_hook=_refuse_duplicate_keys)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except _DuplicateKey as e:
        raise ConfigError(f"{path}: key {e.args[0]!r} appears twice in one object; keep one") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be an object with train/data/model sections")
    return _build(Config, raw, "", str(path))


# -- internals ------------------------------------------------------------------------------

class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


def _strip_line_comments(text: str) -> str:
    """Remove ``// ...`` comments that are outside JSON strings."""
    out_lines = []
    for line in text.splitlines():
        in_string = escaped = False
        cut = len(line)
        for i, ch in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif ch == "\\":
                    escaped = True
                elif ch == '"':
                    in_string = False
            elif ch == '"':
                in_string = True
            elif ch == "/" and line[i + 1 : i + 2] == "/":
                cut = i
                break
        out_lines.append(line[:cut])
    return "\n".join(out_lines)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    return value


def _build(cls: type, raw: Any, prefix: str, source: str) -> Any:
    where = prefix.rstrip(".") or "top level"
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where}: expected an object, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{prefix}{close[0]}'?" if close else f"; known keys: {', '.join(sorted(known))}"
            raise ConfigError(f"{source}: unknown key '{prefix}{key}'{hint}")
    kwargs = {}
    for key, value in raw.items():
        kwargs[key] = _coerce(hints[key], value, f"{prefix}{key}", source)
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None


def _coerce(tp: Any, value: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key + ".", source)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, key, source)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{source}: {key}: invalid value {value!r}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{source}: {key}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: {key}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]", source) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{source}: {key}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(a, v, f"{key}[{i}]", source) for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected an object, got {value!r}")
        kt, vt = args
        return {_coerce(kt, k, f"{key}", source): _coerce(vt, v, f"{key}[{k!r}]", source) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f"{source}: {key}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{source}: {key}: expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key}: expected a string, got {value!r}")
        return value
    raise TypeError(f"unsupported config type {tp!r} for {key}")  # internal: a field with a type we don't parse
