"""Run setup: everything the loop needs, built once by :func:`setup` into a :class:`Run`.

In order: logging (rank 0 also opens the log file), the config, the run lock (:mod:`melo.train.lock`), the
checkpoint folder's intent (refuse to overwrite a run, or to resume from nothing), mixed precision, seeds,
data preparation, the networks (pretrained initialisation on a fresh run), optimizers and schedules, the
resumed state, the resolved config and symbol table beside the checkpoints, DDP, loaders, TensorBoard.

Mixed precision: ``train.bf16_run`` -> bf16 autocast on CUDA GPUs that compute bf16 natively (compute
capability 8.0+; on older ones the run stops with an error, as emulated bf16 is slow); otherwise
``train.fp16_run`` -> fp16 autocast with a GradScaler on CUDA. On CPU both are ignored with one warning (fp32).
"""

from __future__ import annotations

import contextlib
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from melo import checkpoint as ckpt
from melo.config import Config, ConfigError, load_config
from melo.distributed import Distributed
from melo.files import write_json_atomic
from melo.monitor import Monitor, open_log_file, setup_logging
from melo.precision import cuda_has_native_bf16, describe_cuda_device
from melo.train import models as nets
from melo.train.cli import Args
from melo.train.data import Loaders, build_loaders, prepare_data
from melo.train.errors import TrainingError
from melo.train.lock import RunLock, hold_run_lock
from melo.train.resume_config import apply_optimizer_settings, check_resume_config
from melo.train.speakers import pin_trained_speakers, prepared_speakers, report_speaker_changes
from melo.train.state import Progress, restore
from melo.train.step import Optimizers, make_optimizers

__all__ = ["Precision", "Run", "resolve_precision", "setup"]

logger = logging.getLogger(__name__)


@dataclass
class Precision:
    device: torch.device
    dtype: torch.dtype | None
    """Autocast dtype, or ``None`` for fp32."""
    scaler: torch.amp.GradScaler

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)


@dataclass
class Run:
    """Everything the loop needs."""

    args: Args
    config: Config
    dist: Distributed
    precision: Precision
    networks: nets.Networks
    optimizers: Optimizers
    schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler]
    loaders: Loaders
    monitor: Monitor
    symbols: dict[str, Any]
    progress: Progress = field(default_factory=Progress)
    stop_signal: list[int] = field(default_factory=list)
    last_saved_step: int = -1
    logged_ground_truth: bool = False
    speech_eval: Any = None
    """:class:`melo.train.speech_eval.SpeechEvaluation` on rank 0 when ``train.eval_utterances`` > 0."""
    best_value: float | None = None
    """The best ``train.best_metric`` so far (kept in ``G_best.pth``)."""
    lock: RunLock | None = None
    """The checkpoint folder's run lock (rank 0; :mod:`melo.train.lock`)."""

    @property
    def ckpt_dir(self) -> Path:
        return self.args.checkpoint_dir


def setup(args: Args, dist_ctx: Distributed) -> Run:
    setup_logging(dist_ctx.is_main)
    config = _load_config(args.config)
    lock = hold_run_lock(args.checkpoint_dir, dist_ctx)  # before anything is written; released by cleanup
    try:
        run = _setup_locked(args, dist_ctx, config)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    run.lock = lock
    return run


def _setup_locked(args: Args, dist_ctx: Distributed, config: Config) -> Run:
    _check_checkpoint_intent(args.checkpoint_dir, args.resume)
    if dist_ctx.is_main:
        logger.info("log file: %s", open_log_file(args.logs_dir, args.model))
    if args.resume:  # every difference from the checkpoints' config, and a refusal of what cannot change
        check_resume_config(args.checkpoint_dir, config, report=dist_ctx.is_main)
    logger.info("rank %d/%d on %s%s", dist_ctx.rank, dist_ctx.world_size, dist_ctx.device,
                f" ({dist_ctx.backend})" if dist_ctx.backend else "")
    precision = resolve_precision(config, dist_ctx)
    _seed_everything(config.train.seed + dist_ctx.rank)

    workers = config.train.num_workers if args.workers is None else args.workers
    trained_spk2id = None
    if args.resume:  # names keep the ids they were trained with, whatever order the filelists list them in
        config, trained_spk2id = pin_trained_speakers(config, args.checkpoint_dir)
    prepared = prepare_data(config, workers, dist_ctx)
    config = prepared.config  # resolved: spk2id filled in
    if dist_ctx.is_main:
        report_speaker_changes(trained_spk2id, config.data.spk2id, prepared_speakers(prepared))
    symbols = _symbol_table_dict()
    networks = nets.build_networks(config, symbols, dist_ctx.device)
    if not args.resume:
        nets.load_pretrained(config, networks, symbols, args.checkpoint_dir if dist_ctx.is_main else None)
    nets.freeze(config, networks)
    optimizers = make_optimizers(networks.raw_generator, networks.raw_discriminators, config)
    schedulers = nets.build_schedulers(optimizers, config)

    progress = Progress()
    if args.resume:
        progress = restore(args.checkpoint_dir, networks.raw_generator, networks.raw_discriminators,
                           optimizers.by_name(), schedulers, precision.scaler, dist_ctx)
        apply_optimizer_settings(optimizers.by_name(), schedulers, config, report=dist_ctx.is_main)
    if dist_ctx.is_main:  # the resolved config and symbol table, readable without loading a checkpoint
        args.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        config.save(args.checkpoint_dir / "config.json")
        write_json_atomic(args.checkpoint_dir / "symbols.json", symbols, indent=2)

    networks = nets.wrap_ddp(networks, dist_ctx)
    loaders = build_loaders(prepared, config, dist_ctx, workers)
    monitor = Monitor(args.logs_dir / args.model if dist_ctx.is_main else None)
    run = Run(args=args, config=config, dist=dist_ctx, precision=precision, networks=networks,
              optimizers=optimizers, schedulers=schedulers, loaders=loaders, monitor=monitor, symbols=symbols,
              progress=progress, last_saved_step=progress.step if args.resume else -1,
              speech_eval=_speech_evaluation(config, loaders, dist_ctx),
              best_value=_best_so_far(args.checkpoint_dir, config) if args.resume else None)
    n_gen, n_disc = networks.parameter_counts()
    logger.info("generator %.2f M parameters, discriminators %.2f M; %d training batches per epoch per rank",
                n_gen / 1e6, n_disc / 1e6, len(loaders.train))
    return run


def _speech_evaluation(config: Config, loaders: Loaders, dist_ctx: Distributed) -> Any:
    """The speech evaluation of :mod:`melo.train.speech_eval` (rank 0, with validation data and
    ``train.eval_utterances`` > 0), else ``None``."""
    if not dist_ctx.is_main or config.train.eval_utterances == 0 or loaders.validation is None:
        return None
    from melo.eval import MissingExtraError
    from melo.train.speech_eval import SpeechEvaluation

    try:
        return SpeechEvaluation(loaders.validation.dataset, config)
    except MissingExtraError as e:
        raise TrainingError(f"train.eval_metrics: {e}") from None


def _best_so_far(ckpt_dir: Path, config: Config) -> float | None:
    """The value kept in ``G_best.pth`` when it was kept by the same ``train.best_metric``."""
    path = ckpt_dir / ckpt.BEST_NAME
    if config.train.best_metric is None or not path.is_file():
        return None
    try:
        best = ckpt.load_checkpoint_file(path).get("best") or {}
    except ckpt.CheckpointError as e:
        logger.warning("%s: unreadable (%s); the next evaluation starts a new best", path, e)
        return None
    if best.get("metric") != config.train.best_metric:
        logger.info("%s was kept by %s; train.best_metric is now %s: the next evaluation starts a new best",
                    path, best.get("metric"), config.train.best_metric)
        return None
    return float(best["value"])


def _load_config(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as e:
        raise TrainingError(str(e)) from None


def _check_checkpoint_intent(ckpt_dir: Path, resume: bool) -> None:
    if resume and not ckpt.complete_steps(ckpt_dir):
        raise TrainingError(
            f"--resume: no checkpoint to resume from in {ckpt_dir} (expected G_<step>.pth, D_<step>.pth and "
            f"optimizer_<step>.pth); start without --resume to train from scratch"
        )
    if not resume and ckpt.has_checkpoints(ckpt_dir):
        raise TrainingError(
            f"{ckpt_dir} already holds checkpoints; pass --resume to continue that run, or choose another "
            f"--model name (or move the folder away) to start a new one"
        )


def resolve_precision(config: Config, dist_ctx: Distributed) -> Precision:
    """The run's autocast dtype and GradScaler from ``train.bf16_run``/``fp16_run`` and the device in use."""
    device = dist_ctx.device
    wanted = "bf16" if config.train.bf16_run else "fp16" if config.train.fp16_run else None
    dtype: torch.dtype | None = None
    if wanted and device.type != "cuda":
        if dist_ctx.is_main:
            logger.warning("train.%s_run is set but the device is %s: training in fp32", wanted, device.type)
    elif wanted == "bf16":
        if not cuda_has_native_bf16(device):
            raise TrainingError(f"train.bf16_run: {describe_cuda_device(device)} has no native bf16 (it needs "
                                f"compute capability 8.0, Ampere or newer, and would emulate it slowly); set "
                                f"bf16_run to false and use fp16_run")
        dtype = torch.bfloat16
    elif wanted == "fp16":
        dtype = torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    if dtype is not None:
        logger.info("mixed precision: %s autocast%s", wanted, " + GradScaler" if scaler.is_enabled() else "")
    return Precision(device=device, dtype=dtype, scaler=scaler)


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def _symbol_table_dict() -> dict[str, Any]:
    """The symbol table the data pipeline encodes phones with, as stored in checkpoints."""
    from melo.text.symbols import DEFAULT_TABLE

    return DEFAULT_TABLE.to_dict()
