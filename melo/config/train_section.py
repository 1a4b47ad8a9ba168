"""Section ``train`` of the config: optimisation, the training loop, initialisation, evaluation."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Literal

from melo.config.errors import check

__all__ = ["BEST_METRICS", "EVAL_METRIC_GROUPS", "GeneratorGroup", "TrainConfig"]


EVAL_METRIC_GROUPS = ("acoustic", "identification", "asr", "speaker", "dnsmos")
"""The metric groups of :mod:`melo.eval` (its ``ALL_METRICS``; a test keeps them equal)."""
BEST_METRICS: dict[str, str | None] = {
    "mcd_db": "acoustic", "f0_rmse_cents": "acoustic", "voicing_error": "acoustic", "duration_ratio": "acoustic",
    "id_accuracy": "identification", "wer": "asr", "asr_id_accuracy": "asr", "speaker_similarity": "speaker",
    "speaker_similarity_cross_lingual": "speaker", "dnsmos_sig": "dnsmos", "dnsmos_bak": "dnsmos",
    "dnsmos_ovrl": "dnsmos", "val_mel_l1": None,
}
"""Scores ``train.best_metric`` may name, with the metric group that produces each (``val_mel_l1``: validation)."""


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
        check(self.log_interval > 0, "train.log_interval", "must be > 0")
        check(self.eval_interval > 0, "train.eval_interval", "must be > 0")
        check(self.epochs > 0, "train.epochs", "must be > 0")
        check(0 < self.learning_rate <= 1, "train.learning_rate", "must be in (0, 1]")
        check(0 < self.eps < 1, "train.eps", "must be in (0, 1)")
        for name in ("c_mel", "c_kl", "c_dur"):
            check(getattr(self, name) >= 0, f"train.{name}", "must be >= 0 (a loss weight)")
        check(len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "train.betas", "must be two numbers in [0, 1)")
        check(self.batch_size > 0, "train.batch_size", "must be > 0")
        check(0 < self.lr_decay <= 1, "train.lr_decay", "must be in (0, 1]")
        check(self.segment_size > 0, "train.segment_size", "must be > 0")
        check(self.keep_ckpts >= 0, "train.keep_ckpts", "must be >= 0 (0 keeps all)")
        check(self.num_workers >= 0, "train.num_workers", "must be >= 0")
        check(self.grad_clip_norm is None or self.grad_clip_norm > 0, "train.grad_clip_norm", "must be > 0 or null")
        check(self.max_consecutive_skips > 0, "train.max_consecutive_skips", "must be > 0")
        check(self.max_frames_per_batch is None or self.max_frames_per_batch > 0, "train.max_frames_per_batch",
               "must be > 0 or null")
        check(not (self.init_from and self.pretrained_G), "train.pretrained_G",
               "is the older name of train.init_from; set only one of them")
        check(not (self.init_from_D and self.pretrained_D), "train.pretrained_D",
               "is the older name of train.init_from_D; set only one of them")
        check(0 <= self.init_min_fraction <= 1, "train.init_min_fraction", "must be in [0, 1]")
        check(not self.init_speaker_map or self.generator_init is not None, "train.init_speaker_map",
               "needs train.init_from (the source whose speakers it names)")
        check(len(set(self.freeze)) == len(self.freeze), "train.freeze", "lists a group twice")
        check(not self.freeze or self.generator_init is not None, "train.freeze",
               "needs train.init_from: frozen randomly initialised weights would stay random")
        check(len(self.freeze) < len(typing.get_args(GeneratorGroup)), "train.freeze",
               "freezes every generator group: nothing would be trained")
        check(self.eval_utterances >= 0, "train.eval_utterances", "must be >= 0 (0 turns speech evaluation off)")
        unknown = [m for m in self.eval_metrics if m not in EVAL_METRIC_GROUPS]
        check(not unknown, "train.eval_metrics", f"unknown metric group(s) {unknown}; known: {', '.join(EVAL_METRIC_GROUPS)}")
        if self.best_metric is not None:
            check(self.best_metric in BEST_METRICS, "train.best_metric",
                   f"unknown score {self.best_metric!r}; known: {', '.join(BEST_METRICS)} (or null)")
            group = BEST_METRICS[self.best_metric]
            check(group is None or (self.eval_utterances > 0 and group in self.eval_metrics), "train.best_metric",
                   f"{self.best_metric!r} comes from the {group!r} evaluation: add it to train.eval_metrics "
                   f"(and keep train.eval_utterances > 0), or choose another score")

