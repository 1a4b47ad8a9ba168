"""``python -m melo.train``: train the VITS2 generator against its discriminators.

Usage::

    python -m melo.train --config configs/config_bge_m3.json --model melo_bge_m3 [--resume] [--max-steps N]
    torchrun --nproc_per_node=4 --master_port=29500 -m melo.train --config ... --model ...

The file reads top to bottom as ``setup -> loop -> save -> cleanup``:

* **setup** -- join the process group (torchrun), open the log file and TensorBoard (rank 0), refuse to
  overwrite or to resume from nothing, run preprocessing when its caches are missing or stale (rank 0
  first, the other ranks after a barrier), build the generator, the discriminators, their AdamW
  optimizers, exponential LR schedules and the gradient scaler, and restore a checkpoint.
* **loop** -- per batch: the discriminator step (LSGAN on the multi-period + scale discriminator), the
  duration-discriminator step (when ``model.use_duration_discriminator``), and the generator step
  (adversarial + 2x feature matching + ``c_mel`` * mel L1 + ``c_kl`` * KL + ``c_dur`` * duration losses
  + the duration discriminator's adversarial term). Each update is guarded: a non-finite loss (on any
  rank) or gradient norm skips that update and the rest of the step on every rank, so no non-finite
  value reaches weights or optimizer moments; the step is logged and counted as skipped. (A poisoned
  batch already makes the first, discriminator, loss non-finite, so the whole step changes nothing.)
* **save** -- every ``train.eval_interval`` steps: validation (losses, audio, mels) and a checkpoint set;
  also at the end and on SIGTERM/SIGINT. See :mod:`melo.checkpoint` for the files.
* **cleanup** -- close TensorBoard, leave the process group.

Step and schedule semantics: ``step`` counts training batches (skipped ones included) and is what the
checkpoint names carry; ``--max-steps N`` stops when the step reaches N (so ``--resume --max-steps``
continues to an absolute step). The learning rate is ``learning_rate * lr_decay ** k`` where ``k`` is
the number of finished epochs (``lr_decay_interval: "epoch"``, MeloTTS's schedule) or of finished steps
(``"step"``); the scheduler state is checkpointed, so a resumed run continues the same curve.

Mixed precision: ``train.bf16_run`` -> bf16 autocast on CUDA; otherwise ``train.fp16_run`` -> fp16
autocast with a GradScaler on CUDA. On CPU both are ignored with one warning (fp32).

Test hooks (environment variables, for the test suite only): ``MELO_TEST_INJECT_NAN_STEP=k`` fills the
spectrogram of the batch of step ``k`` (1-based) with NaN on rank 0; ``MELO_TEST_KILL_DURING_SAVE`` is
described in :mod:`melo.checkpoint`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import torch
from torch import nn

from melo import checkpoint as ckpt
from melo.config import Config, ConfigError, load_config
from melo.distributed import Distributed, init_distributed
from melo.monitor import (
    Monitor,
    alignment_image,
    close_logging,
    format_scalars,
    open_log_file,
    setup_logging,
    spectrogram_image,
)

if TYPE_CHECKING:
    from melo.data.batch import Batch

__all__ = ["Args", "TrainingError", "clip_gradients", "main", "parse_args"]

logger = logging.getLogger("melo.train")

NAN_HOOK_ENV = "MELO_TEST_INJECT_NAN_STEP"
VALIDATION_AUDIO_ITEMS = 2
"""How many validation utterances are synthesised into TensorBoard at each evaluation."""


class TrainingError(RuntimeError):
    """Training cannot start or continue (bad arguments, missing/conflicting checkpoints, no data)."""


# =============================================================================================
# command line
# =============================================================================================

@dataclass(frozen=True)
class Args:
    config: Path
    model: str
    resume: bool = False
    max_steps: int | None = None
    device: str = "auto"
    workers: int | None = None
    checkpoints_dir: Path = Path("checkpoints")
    logs_dir: Path = Path("logs")


def parse_args(argv: Sequence[str] | None = None) -> Args:
    p = argparse.ArgumentParser(prog="python -m melo.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", "-c", type=Path, required=True, help="config JSON (e.g. configs/config_bge_m3.json)")
    p.add_argument("--model", "-m", required=True, help="run name: checkpoints/NAME, logs/NAME")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--max-steps", type=int, default=None, help="stop when the global step reaches N")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--workers", type=int, default=None,
                   help="DataLoader workers per rank and preprocessing processes (default: train.num_workers)")
    p.add_argument("--checkpoints-dir", type=Path, default=Path("checkpoints"), help="parent of checkpoints/NAME")
    p.add_argument("--logs-dir", type=Path, default=Path("logs"), help="parent of logs/NAME and the log files")
    ns = p.parse_args(argv)
    if ns.max_steps is not None and ns.max_steps <= 0:
        p.error("--max-steps must be > 0")
    if ns.workers is not None and ns.workers < 0:
        p.error("--workers must be >= 0")
    return Args(config=ns.config, model=ns.model, resume=ns.resume, max_steps=ns.max_steps, device=ns.device,
                workers=ns.workers, checkpoints_dir=ns.checkpoints_dir, logs_dir=ns.logs_dir)


# =============================================================================================
# state
# =============================================================================================

@dataclass
class Progress:
    """Where the run is; all of it is checkpointed."""

    step: int = 0
    epoch: int = 0
    """0-based; the sampler is seeded by it."""
    batch_in_epoch: int = 0
    """Batches of ``epoch`` already trained on (the sampler resumes after them)."""
    skipped_steps: int = 0


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
class Models:
    generator: nn.Module
    """DDP-wrapped under torchrun; use :attr:`raw_generator` for state dicts and inference."""
    mpd: nn.Module
    duration: nn.Module | None
    raw_generator: nn.Module
    raw_mpd: nn.Module
    raw_duration: nn.Module | None

    def train(self) -> None:
        for m in (self.generator, self.mpd, self.duration):
            if m is not None:
                m.train()


@dataclass
class Run:
    """Everything the loop needs, built once by :func:`setup`."""

    args: Args
    config: Config
    dist: Distributed
    precision: Precision
    models: Models
    optimizers: dict[str, torch.optim.Optimizer]
    schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler]
    train_loader: torch.utils.data.DataLoader
    sampler: Any
    val_loader: torch.utils.data.DataLoader | None
    monitor: Monitor
    ckpt_dir: Path
    symbols: dict[str, Any]
    progress: Progress = field(default_factory=Progress)
    stop_signal: list[int] = field(default_factory=list)
    last_saved_step: int = -1
    logged_ground_truth: bool = False


# =============================================================================================
# setup
# =============================================================================================

def setup(args: Args, dist_ctx: Distributed) -> Run:
    setup_logging(dist_ctx.is_main)
    config = _load_config(args.config)
    ckpt_dir = args.checkpoints_dir / args.model
    _check_checkpoint_intent(ckpt_dir, args.resume)  # before anything is written
    if dist_ctx.is_main:
        logger.info("log file: %s", open_log_file(args.logs_dir, args.model))
    logger.info("rank %d/%d on %s%s", dist_ctx.rank, dist_ctx.world_size, dist_ctx.device,
                f" ({dist_ctx.backend})" if dist_ctx.backend else "")
    precision = _resolve_precision(config, dist_ctx)
    torch.manual_seed(config.train.seed + dist_ctx.rank)
    _seed_python_and_numpy(config.train.seed + dist_ctx.rank)

    prepared = _prepare_data(config, args, dist_ctx)
    config = prepared.config  # resolved: spk2id filled in
    symbols = _symbol_table_dict()
    models = _build_models(config, symbols, dist_ctx.device)
    if not args.resume:
        _load_pretrained(config, models)
    optimizers, schedulers = _build_optimizers(config, models)

    progress = Progress()
    if args.resume:
        progress = _restore(ckpt_dir, models, optimizers, schedulers, precision, dist_ctx)
    if dist_ctx.is_main:  # the resolved config and symbol table, readable without loading a checkpoint
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        config.save(ckpt_dir / "config.json")
        _write_json(ckpt_dir / "symbols.json", symbols)

    models = _wrap_ddp(models, dist_ctx)
    workers = config.train.num_workers if args.workers is None else args.workers
    loader_generator = torch.Generator().manual_seed(config.train.seed + dist_ctx.rank)
    train_loader, sampler, val_loader = _build_loaders(prepared, config, dist_ctx, workers, loader_generator)
    monitor = Monitor(args.logs_dir / args.model if dist_ctx.is_main else None)
    run = Run(args=args, config=config, dist=dist_ctx, precision=precision, models=models,
              optimizers=optimizers, schedulers=schedulers, train_loader=train_loader, sampler=sampler,
              val_loader=val_loader, monitor=monitor, ckpt_dir=ckpt_dir, symbols=symbols, progress=progress,
              last_saved_step=progress.step if args.resume else -1)
    n_gen = sum(p.numel() for p in models.raw_generator.parameters())
    n_disc = sum(p.numel() for m in (models.raw_mpd, models.raw_duration) if m is not None for p in m.parameters())
    logger.info("generator %.2f M parameters, discriminators %.2f M; %d training batches per epoch per rank",
                n_gen / 1e6, n_disc / 1e6, len(train_loader))
    return run


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


def _resolve_precision(config: Config, dist_ctx: Distributed) -> Precision:
    device = dist_ctx.device
    wanted = "bf16" if config.train.bf16_run else "fp16" if config.train.fp16_run else None
    dtype: torch.dtype | None = None
    if wanted and device.type != "cuda":
        if dist_ctx.is_main:
            logger.warning("train.%s_run is set but the device is %s: training in fp32", wanted, device.type)
    elif wanted == "bf16":
        dtype = torch.bfloat16
    elif wanted == "fp16":
        dtype = torch.float16
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    if dtype is not None:
        logger.info("mixed precision: %s autocast%s", wanted, " + GradScaler" if scaler.is_enabled() else "")
    return Precision(device=device, dtype=dtype, scaler=scaler)


def _seed_python_and_numpy(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)


def _prepare_data(config: Config, args: Args, dist_ctx: Distributed):  # -> PreparedData
    """Rank 0 validates and fills the caches (a no-op when they are fresh); the others wait, then read."""
    from melo.data.preprocess import DataError, is_fresh, prepare

    workers = max(1, config.train.num_workers if args.workers is None else args.workers)
    device = str(dist_ctx.device)
    prepared = None
    try:
        if dist_ctx.is_main:
            if is_fresh(config):
                logger.info("preprocessing caches are fresh")
            else:
                logger.info("preprocessing %s and %s (caches missing or stale)",
                            config.data.training_files, config.data.validation_files)
            prepared = prepare(config, workers=workers, device=device, progress=True)
            _log_data_report(prepared)
        dist_ctx.barrier()
        if not dist_ctx.is_main:
            prepared = prepare(config, workers=1, device=device, progress=False)
    except DataError as e:
        raise TrainingError(str(e)) from None
    if prepared.report.good["train"] == 0:
        raise TrainingError(f"no usable training rows in {config.data.training_files}; see "
                            f"{prepared.cache_dir / 'report.txt'}")
    return prepared


def _log_data_report(prepared) -> None:  # prepared: PreparedData
    """The preprocessing report, as ``python -m melo.preprocess`` prints it: every problem row when this
    run did preprocessing work, a count (and where the full report is) when the caches were fresh."""
    report = prepared.report
    if prepared.wrote:
        for problem in report.problems:
            logger.warning("%s", problem)
    elif report.problems:
        logger.info("%d filelist rows have problems (listed in %s)", len(report.problems),
                    prepared.cache_dir / "report.txt")
    logger.info("data:\n%s", report.summary_table())


def _symbol_table_dict() -> dict[str, Any]:
    """The symbol table the data pipeline encodes phones with, as stored in checkpoints."""
    from melo.text.symbols import DEFAULT_TABLE

    return DEFAULT_TABLE.to_dict()


def _build_models(config: Config, symbols: dict[str, Any], device: torch.device) -> Models:
    from melo.model import build_discriminators, build_generator
    from melo.text.symbols import SymbolTable

    generator = build_generator(config, SymbolTable.from_dict(symbols)).to(device)
    discriminators = build_discriminators(config)
    mpd = discriminators.mpd.to(device)
    duration = discriminators.duration.to(device) if discriminators.duration is not None else None
    return Models(generator=generator, mpd=mpd, duration=duration,
                  raw_generator=generator, raw_mpd=mpd, raw_duration=duration)


def _build_optimizers(config: Config, models: Models):
    t = config.train
    optimizers: dict[str, torch.optim.Optimizer] = {}
    for name, module in (("G", models.raw_generator), ("D", models.raw_mpd), ("DUR", models.raw_duration)):
        if module is None:
            continue
        optimizers[name] = torch.optim.AdamW(
            [p for p in module.parameters() if p.requires_grad], lr=t.learning_rate, betas=t.betas, eps=t.eps
        )
    schedulers = {name: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=t.lr_decay) for name, opt in optimizers.items()}
    return optimizers, schedulers


def _load_pretrained(config: Config, models: Models) -> None:
    """Initialise from ``train.pretrained_G`` / ``pretrained_D`` (a ``G_*.pth``/``G_latest.pth`` and a
    ``D_*.pth`` of this project), loading every tensor whose name and shape match and reporting the rest."""
    t = config.train
    if t.pretrained_G:
        state = _pretrained_part(t.pretrained_G, "generator")
        _load_matching(models.raw_generator, state, t.pretrained_G)
    if t.pretrained_D:
        discs = _pretrained_part(t.pretrained_D, "discriminators")
        _load_matching(models.raw_mpd, discs.get("mpd", {}), t.pretrained_D)
        if models.raw_duration is not None:
            if "duration" in discs:
                _load_matching(models.raw_duration, discs["duration"], t.pretrained_D)
            else:
                logger.warning("%s has no duration discriminator: it starts from scratch", t.pretrained_D)


def _pretrained_part(path: str, key: str) -> dict[str, Any]:
    try:
        payload = ckpt.load_checkpoint_file(path)
    except ckpt.CheckpointError as e:
        raise TrainingError(str(e)) from None
    if key not in payload:
        raise TrainingError(f"{path}: not a melo {key} checkpoint (it holds {', '.join(map(str, payload))})")
    return payload[key]


def _load_matching(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load the tensors whose names and shapes match; report the rest."""
    own = module.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    mismatched = [f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
                  for k, v in state.items() if k in own and own[k].shape != v.shape]
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    module.load_state_dict(usable, strict=False)
    logger.info("initialised %d/%d tensors of %s from %s", len(usable), len(own), type(module).__name__, source)
    if mismatched:
        logger.warning("%s: %d shape mismatches (kept the fresh initialisation):\n  %s",
                       source, len(mismatched), "\n  ".join(mismatched))
    if missing:
        logger.warning("%s: %d tensors missing: %s", source, len(missing), ", ".join(missing[:20]))
    if unexpected:
        logger.warning("%s: %d tensors not in the model: %s", source, len(unexpected), ", ".join(unexpected[:20]))


def _restore(ckpt_dir: Path, models: Models, optimizers, schedulers, precision: Precision,
             dist_ctx: Distributed) -> Progress:
    loaded = ckpt.load_latest_complete(ckpt_dir)
    if loaded is None:
        raise TrainingError(f"--resume: no loadable checkpoint in {ckpt_dir} (every set is incomplete or broken)")
    t = loaded.training
    _load_exact(models.raw_generator, loaded.generator, loaded.paths[0])
    _load_exact(models.raw_mpd, loaded.discriminators["mpd"], loaded.paths[1])
    if models.raw_duration is not None:
        if "duration" not in loaded.discriminators:
            raise TrainingError(f"{loaded.paths[1]}: has no duration discriminator but "
                                "model.use_duration_discriminator is true")
        _load_exact(models.raw_duration, loaded.discriminators["duration"], loaded.paths[1])
    if set(t["optimizers"]) != set(optimizers):
        raise TrainingError(f"{loaded.paths[2]}: holds optimizers {sorted(t['optimizers'])}, this run has "
                            f"{sorted(optimizers)} (was model.use_duration_discriminator changed?)")
    for name, opt in optimizers.items():
        opt.load_state_dict(t["optimizers"][name])
        schedulers[name].load_state_dict(t["schedulers"][name])
    if t.get("scaler") and precision.scaler.is_enabled():
        precision.scaler.load_state_dict(t["scaler"])
    rng_states = t["rng"]
    if len(rng_states) == dist_ctx.world_size:
        ckpt.restore_rng_state(rng_states[dist_ctx.rank])
    else:
        logger.warning("checkpoint was written by %d ranks, this run has %d: the data position and random "
                       "streams continue approximately", len(rng_states), dist_ctx.world_size)
        torch.manual_seed(t.get("seed", 0) + loaded.step * 1000 + dist_ctx.rank)
    progress = Progress(step=loaded.step, epoch=t["epoch"], batch_in_epoch=t["batch_in_epoch"],
                        skipped_steps=t.get("skipped_steps", 0))
    logger.info("resumed from %s: step %d, epoch %d (batch %d), lr %.6g", loaded.paths[0].name, progress.step,
                progress.epoch, progress.batch_in_epoch, optimizers["G"].param_groups[0]["lr"])
    return progress


def _load_exact(module: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise TrainingError(f"{path}: does not fit the model this config builds (was the model section of the "
                            f"config changed since the run started?):\n{e}") from None


def _wrap_ddp(models: Models, dist_ctx: Distributed) -> Models:
    if not dist_ctx.enabled:
        return models
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [dist_ctx.local_rank] if dist_ctx.device.type == "cuda" else None
    # Every generator parameter reaches the generator loss in each step (the torchrun test checks it),
    # so DDP needs no unused-parameter search. The discriminators run through DDP only in their own
    # step; the generator step calls the unwrapped modules with frozen weights.
    return dataclasses.replace(
        models,
        generator=DDP(models.raw_generator, device_ids=ids),
        mpd=DDP(models.raw_mpd, device_ids=ids),
        duration=DDP(models.raw_duration, device_ids=ids) if models.raw_duration is not None else None,
    )


def _build_loaders(prepared, config: Config, dist_ctx: Distributed, workers: int, generator: torch.Generator):
    from melo.data.dataset import TextAudioDataset, collate
    from melo.data.sampler import DistributedBucketSampler

    train_set = TextAudioDataset(prepared.train_manifest)
    sampler = DistributedBucketSampler(
        train_set.lengths, batch_size=config.train.batch_size, num_replicas=dist_ctx.world_size,
        rank=dist_ctx.rank, shuffle=True, seed=config.train.seed,
    )
    common = dict(
        collate_fn=collate,
        num_workers=workers,
        pin_memory=dist_ctx.device.type == "cuda",
        persistent_workers=workers > 0,
        # The loader draws its workers' base seed from this generator instead of the global RNG, so
        # creating an iterator (each epoch, or after a resume) leaves training's random streams alone.
        # (The dataset itself draws no random numbers: worker seeds do not change the data.)
        generator=generator,
    )
    train_loader = torch.utils.data.DataLoader(train_set, batch_sampler=sampler, **common)
    val_loader = None
    if dist_ctx.is_main:
        val_set = TextAudioDataset(prepared.val_manifest)
        if len(val_set) > 0:
            val_loader = torch.utils.data.DataLoader(
                val_set, batch_size=config.train.batch_size, shuffle=False,
                **{**common, "num_workers": 0, "persistent_workers": False},
            )
        else:
            logger.warning("no usable validation rows in %s: validation is skipped", config.data.validation_files)
    return train_loader, sampler, val_loader


# =============================================================================================
# loop
# =============================================================================================

def train(run: Run) -> None:
    """Epochs of steps until ``--max-steps``, ``train.epochs`` or a stop signal."""
    t = run.config.train
    p = run.progress
    run.models.train()
    bar = _progress_bar(run)
    step_timer = time.perf_counter()
    window: list[dict[str, torch.Tensor]] = []
    stop_requested = False
    if p.step == 0:
        evaluate(run)  # the untrained baseline of the validation curve
    with _stop_on_signals(run):
        while p.epoch < t.epochs and not _reached_max(run):
            run.sampler.set_epoch(p.epoch, p.batch_in_epoch)
            for batch in run.train_loader:
                result = train_step(run, batch.to(run.dist.device, non_blocking=True))
                p.step += 1
                p.batch_in_epoch += 1
                if t.lr_decay_interval == "step":
                    _step_schedulers(run)
                window.append(result.scalars)
                if bar is not None:
                    bar.update(1)
                if p.step % t.log_interval == 0:
                    elapsed = time.perf_counter() - step_timer
                    _log_train(run, window, elapsed / len(window), result)
                    window, step_timer = [], time.perf_counter()
                del result
                if p.step % t.eval_interval == 0:
                    paused = time.perf_counter()
                    evaluate(run)
                    save(run)
                    step_timer += time.perf_counter() - paused  # step_seconds measures training only
                stop_requested = run.dist.any_true(bool(run.stop_signal))  # a signal seen by any rank
                if stop_requested or _reached_max(run):
                    break
            else:  # the epoch ran out
                p.epoch += 1
                p.batch_in_epoch = 0
                if t.lr_decay_interval == "epoch":
                    _step_schedulers(run)
                continue
            break
    if bar is not None:
        bar.close()
    if stop_requested:
        name = signal.Signals(run.stop_signal[0]).name if run.stop_signal else "a stop signal on another rank"
        logger.warning("received %s at step %d: saving and stopping", name, p.step)
    elif p.epoch >= t.epochs:
        logger.info("finished train.epochs=%d at step %d", t.epochs, p.step)
    else:
        logger.info("reached --max-steps %d", run.args.max_steps)
    save(run)


@dataclass
class StepResult:
    scalars: dict[str, torch.Tensor]
    """Detached scalar tensors (losses, gradient norms), still on the device."""
    skipped: bool
    output: Any
    """The generator's forward output (``GeneratorOutput``), for images at log steps."""
    batch: "Batch"


def train_step(run: Run, batch: "Batch") -> StepResult:
    """One waveform-discriminator step, one duration-discriminator step, one generator step.

    The discriminators see the generated audio detached; the generator step then runs them unwrapped
    (outside DDP) with their parameters frozen, since their gradients there would be thrown away.
    """
    from melo.model import losses

    t = run.config.train
    models, prec = run.models, run.precision
    batch = _maybe_inject_nan(run, batch)
    scalars: dict[str, torch.Tensor] = {}
    unscaled = False

    spec = _posterior_input(run, batch.spec)
    with prec.autocast():
        out = models.generator(
            phone_ids=batch.phone_ids, tone_ids=batch.tone_ids, language_ids=batch.language_ids,
            text_lengths=batch.text_lengths, bert=batch.bert, spec=spec, spec_lengths=batch.spec_lengths,
            speaker_ids=batch.speaker_ids, step=run.progress.step,
        )
    real, fake, mel_real, mel_fake = _segments(run, batch, spec, out)

    # ---- waveform discriminators (LSGAN, multi-period + scale) ----
    with prec.autocast():
        d_out = models.mpd(real, fake.detach())
    loss_d = losses.discriminator_loss(d_out.real_logits, d_out.fake_logits)
    scalars["loss/d/total"] = loss_d.total.detach()
    for i, part in enumerate(loss_d.per_discriminator):
        scalars[f"loss/d/sub_{i}"] = part
    ok = run.dist.all_true(torch.isfinite(loss_d.total))
    if ok:
        ok, scalars["grad_norm/d"], unscaled = _optimizer_step(run, "D", loss_d.total, models.raw_mpd)

    # ---- duration discriminator ----
    dd = out.duration_discriminator
    if ok and models.duration is not None:
        with prec.autocast():
            probs = models.duration(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted.detach(), g=dd.speaker)
        loss_dur_d = losses.duration_discriminator_loss(probs.real, probs.fake, dd.x_mask)
        scalars["loss/dur_d/total"] = loss_dur_d.detach()
        ok = run.dist.all_true(torch.isfinite(loss_dur_d))
        if ok:
            ok, scalars["grad_norm/dur_d"], unscaled_dur = _optimizer_step(run, "DUR", loss_dur_d, models.raw_duration)
            unscaled = unscaled or unscaled_dur

    # ---- generator ----
    if ok:
        discriminators = [m for m in (models.raw_mpd, models.raw_duration) if m is not None]
        with _frozen(discriminators):
            with prec.autocast():
                g_out = models.raw_mpd(real, fake)
                terms = {
                    "adv": losses.generator_adversarial_loss(g_out.fake_logits).total,
                    "fm": losses.feature_matching_loss(g_out.real_features, g_out.fake_features),
                    "mel": t.c_mel * losses.mel_l1_loss(mel_real, mel_fake),
                    "kl": t.c_kl * losses.kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.z_mask),
                    "dur": t.c_dur * out.duration_loss,
                }
                if models.raw_duration is not None:
                    probs = models.raw_duration(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted, g=dd.speaker)
                    terms["dur_adv"] = losses.duration_generator_loss(probs.fake, dd.x_mask)
            loss_g = torch.stack([v.float() for v in terms.values()]).sum()
            ok = run.dist.all_true(torch.isfinite(loss_g))
            if ok:
                ok, scalars["grad_norm/g"], unscaled_g = _optimizer_step(run, "G", loss_g, models.raw_generator)
                unscaled = unscaled or unscaled_g
        scalars.update({f"loss/g/{k}": v.detach() for k, v in terms.items()})
        scalars["loss/g/mel_l1"] = terms["mel"].detach() / t.c_mel if t.c_mel else terms["mel"].detach()
        scalars["loss/g/dur_dp"] = out.duration_loss_dp.detach()
        scalars["loss/g/dur_sdp"] = out.duration_loss_sdp.detach()
        scalars["loss/g/total"] = loss_g.detach()

    if unscaled:
        prec.scaler.update()
    if not ok:  # the decision was collective: every rank skips, rank 0 reports
        run.progress.skipped_steps += 1
        if run.dist.is_main:
            scale = f"; fp16 loss scale now {prec.scaler.get_scale():g}" if prec.scaler.is_enabled() else ""
            logger.warning("step %d skipped: non-finite loss or gradient (%d skipped so far%s)",
                           run.progress.step + 1, run.progress.skipped_steps, scale)
    return StepResult(scalars=scalars, skipped=not ok, output=out, batch=batch)


def _optimizer_step(run: Run, name: str, loss: torch.Tensor, module: nn.Module) -> tuple[bool, torch.Tensor, bool]:
    """Backward, unscale, measure (and clip) the gradient norm, then step unless it is non-finite.

    Returns ``(stepped, grad_norm, unscaled)``. After DDP's all-reduce the gradients are identical on
    every rank, so the finiteness decision agrees across ranks without another collective. The norm is
    one fused torch reduction (no per-parameter ``.item()``); the single host sync is the finiteness test.
    """
    opt = run.optimizers[name]
    scaler = run.precision.scaler
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if scaler.is_enabled():
        scaler.unscale_(opt)
    finite, norm = clip_gradients(module, run.config.train.grad_clip_norm)
    if finite:
        scaler.step(opt)
    opt.zero_grad(set_to_none=True)  # gradients are not needed after the step; free them
    return finite, norm, scaler.is_enabled()


def clip_gradients(module: nn.Module, max_norm: float | None) -> tuple[bool, torch.Tensor]:
    """Total L2 norm of ``module``'s gradients and whether it is finite; when it is and ``max_norm`` is
    set, scale the gradients down to that norm. Returns ``(finite, norm before clipping)``."""
    params = [p for p in module.parameters() if p.grad is not None]
    if not params:
        return True, torch.zeros(())
    norm = torch.nn.utils.get_total_norm([p.grad for p in params])
    finite = bool(torch.isfinite(norm))
    if finite and max_norm is not None:
        torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm)  # takes the parameters, reads .grad
    return finite, norm.detach()


@contextlib.contextmanager
def _frozen(modules: list[nn.Module]) -> Iterator[None]:
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _posterior_input(run: Run, spec: torch.Tensor) -> torch.Tensor:
    """What the posterior encoder reads: the linear spectrogram, or its mel (``use_mel_posterior_encoder``)."""
    return _spec_to_mel(run, spec) if run.config.model.use_mel_posterior_encoder else spec


def _segments(run: Run, batch: "Batch", spec: torch.Tensor, out) -> tuple[torch.Tensor, ...]:
    """The real and generated waveform windows (B, 1, segment_size) and their log mels (B, n_mels, frames)."""
    t, d = run.config.train, run.config.data
    frames = t.segment_size // d.hop_length
    real = _slice(batch.wav, out.ids_slice * d.hop_length, t.segment_size)
    fake = out.audio.float()
    spec_slice = _slice(spec, out.ids_slice, frames)
    mel_real = spec_slice if run.config.model.use_mel_posterior_encoder else _spec_to_mel(run, spec_slice.float())
    mel_fake = _wav_to_mel(run, fake.squeeze(1))
    return real, fake, mel_real, mel_fake


def _step_schedulers(run: Run) -> None:
    for scheduler in run.schedulers.values():
        scheduler.step()


def _reached_max(run: Run) -> bool:
    return run.args.max_steps is not None and run.progress.step >= run.args.max_steps


# =============================================================================================
# reporting
# =============================================================================================

def _log_train(run: Run, window: list[dict[str, torch.Tensor]], seconds_per_step: float, last: StepResult) -> None:
    """Means over the steps since the last log; non-finite values (of skipped steps) are left out, and a
    term with no finite value in the window is reported as NaN."""
    if not run.dist.is_main:
        return
    keys = sorted({k for s in window for k in s})
    means = []
    for k in keys:
        vals = torch.stack([s[k].float() for s in window if k in s])
        finite = torch.isfinite(vals)
        n_finite = finite.sum()
        mean = torch.where(finite, vals, 0).sum() / n_finite.clamp(min=1)
        means.append(torch.where(n_finite > 0, mean, torch.full_like(mean, float("nan"))))
    values = dict(zip(keys, torch.stack(means).tolist())) if keys else {}  # one device->host copy
    values["train/skipped_steps"] = float(run.progress.skipped_steps)
    values["train/lr"] = run.optimizers["G"].param_groups[0]["lr"]
    values["train/step_seconds"] = seconds_per_step
    values["train/epoch"] = float(run.progress.epoch)
    if run.precision.scaler.is_enabled():
        values["train/grad_scale"] = float(run.precision.scaler.get_scale())
    run.monitor.scalars(run.progress.step, values)
    logger.info("step %d epoch %d | %s", run.progress.step, run.progress.epoch, format_scalars(values))
    if not last.skipped:
        _log_images(run, "train", last.output, last.batch)


def _log_images(run: Run, prefix: str, out, batch: "Batch") -> None:
    """Target and generated mel of the first item's training window, and its alignment."""
    step = run.progress.step
    with torch.no_grad():
        spec = _posterior_input(run, batch.spec[:1])
        frames = run.config.train.segment_size // run.config.data.hop_length
        spec_slice = _slice(spec, out.ids_slice[:1], frames)
        mel_real = spec_slice if run.config.model.use_mel_posterior_encoder else _spec_to_mel(run, spec_slice.float())
        mel_fake = _wav_to_mel(run, out.audio[:1].float().squeeze(1))
    run.monitor.image(f"{prefix}/mel_target", step, spectrogram_image(mel_real[0]))
    run.monitor.image(f"{prefix}/mel_generated", step, spectrogram_image(mel_fake[0]))
    t_spec, t_text = int(batch.spec_lengths[0]), int(batch.text_lengths[0])
    run.monitor.image(f"{prefix}/alignment", step, alignment_image(out.attention[0, 0, :t_spec, :t_text]))


@torch.no_grad()
def evaluate(run: Run) -> float | None:
    """Validation (rank 0): mean mel L1 of the generator's training forward (no dropout, no alignment
    noise, the same random windows every time), mel/alignment images, and synthesised audio.

    Runs under its own random stream, so evaluating does not change what training draws next.
    Returns the validation mel L1 (``None`` on other ranks or without validation data)."""
    if not run.dist.is_main or run.val_loader is None:
        return None
    from melo.model import losses

    g = run.models.raw_generator
    g.eval()
    started = time.perf_counter()
    devices = [run.dist.device] if run.dist.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(run.config.train.seed)
            total, count, first = 0.0, 0, None
            for batch in run.val_loader:
                batch = batch.to(run.dist.device)
                spec = _posterior_input(run, batch.spec)
                with run.precision.autocast():
                    out = g(phone_ids=batch.phone_ids, tone_ids=batch.tone_ids, language_ids=batch.language_ids,
                            text_lengths=batch.text_lengths, bert=batch.bert, spec=spec,
                            spec_lengths=batch.spec_lengths, speaker_ids=batch.speaker_ids, mas_noise_scale=0.0)
                _, _, mel_real, mel_fake = _segments(run, batch, spec, out)
                total += float(losses.mel_l1_loss(mel_real, mel_fake)) * len(batch)
                count += len(batch)
                if first is None:
                    first = (batch, out)
            val_mel = total / count
            batch, out = first
            _log_images(run, "val", out, batch)
            _log_synthesis(run, g, batch)
    finally:
        g.train()
    run.monitor.scalars(run.progress.step, {"val/mel_l1": val_mel})
    logger.info("step %d | validation mel L1 %.4f (%d utterances, %.1f s)", run.progress.step, val_mel, count,
                time.perf_counter() - started)
    return val_mel


def _log_synthesis(run: Run, g: nn.Module, batch: "Batch") -> None:
    """Synthesise the first validation utterances from text (no reference audio) into TensorBoard."""
    step, sr = run.progress.step, run.config.data.sampling_rate
    for i in range(min(VALIDATION_AUDIO_ITEMS, len(batch))):
        n = int(batch.text_lengths[i])
        result = g.infer(batch.phone_ids[i:i + 1, :n], batch.tone_ids[i:i + 1, :n], batch.language_ids[i:i + 1, :n],
                         batch.bert[i:i + 1, :, :n], batch.speaker_ids[i:i + 1],
                         max_len=int(batch.spec_lengths[i]) * 2)
        audio = result.audio[0, :, : int(result.audio_lengths[0])]
        run.monitor.audio(f"val/generated_{i}", step, audio, sr)
        run.monitor.image(f"val/mel_generated_{i}", step, spectrogram_image(_wav_to_mel(run, audio)[0]))
        if not run.logged_ground_truth:
            real = batch.wav[i, :, : int(batch.wav_lengths[i])]
            run.monitor.audio(f"val/ground_truth_{i}", step, real, sr)
            run.monitor.image(f"val/mel_ground_truth_{i}", step, spectrogram_image(_wav_to_mel(run, real)[0]))
    run.logged_ground_truth = True


# =============================================================================================
# save
# =============================================================================================

def save(run: Run) -> None:
    """Write the checkpoint set for the current step (rank 0), once per step; prune old ones."""
    p = run.progress
    if p.step == run.last_saved_step or p.step == 0:
        return
    rng = run.dist.gather_to_main(ckpt.capture_rng_state())
    if run.dist.is_main:
        started = time.perf_counter()
        models = run.models
        discs = {"mpd": models.raw_mpd.state_dict()}
        if models.raw_duration is not None:
            discs["duration"] = models.raw_duration.state_dict()
        training = {
            "epoch": p.epoch,
            "batch_in_epoch": p.batch_in_epoch,
            "skipped_steps": p.skipped_steps,
            "world_size": run.dist.world_size,
            "seed": run.config.train.seed,
            "optimizers": {k: o.state_dict() for k, o in run.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in run.schedulers.items()},
            "scaler": run.precision.scaler.state_dict() if run.precision.scaler.is_enabled() else {},
            "rng": rng,
        }
        # CPU copies: the files then load on any machine, with or without the GPU they came from
        generator_state, discs, training = _to_cpu((models.raw_generator.state_dict(), discs, training))
        ckpt.save_checkpoint_set(run.ckpt_dir, p.step, generator_state, discs, training)
        ckpt.save_latest(run.ckpt_dir, p.step, generator_state, run.config.to_dict(), run.symbols,
                         run.config.data.spk2id)
        removed = ckpt.prune_checkpoints(run.ckpt_dir, run.config.train.keep_ckpts)
        logger.info("saved checkpoint step %d in %s (%.1f s%s)", p.step, run.ckpt_dir,
                    time.perf_counter() - started, f", removed {len(removed)} old files" if removed else "")
    run.last_saved_step = p.step
    run.dist.barrier()


# =============================================================================================
# cleanup and entry point
# =============================================================================================

def cleanup(run: Run | None, dist_ctx: Distributed) -> None:
    if run is not None:
        run.monitor.close()
    dist_ctx.close()
    close_logging()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    dist_ctx = init_distributed(args.device)  # type: ignore[arg-type]
    run: Run | None = None
    try:
        run = setup(args, dist_ctx)
        train(run)
        return 0
    except TrainingError as e:
        logger.error("%s", e)
        return 2
    except BaseException:
        logger.exception("training failed")  # into the log file too, then fail loudly
        raise
    finally:
        cleanup(run, dist_ctx)


# =============================================================================================
# helpers
# =============================================================================================

def _slice(x: torch.Tensor, starts: torch.Tensor, size: int) -> torch.Tensor:
    """x: (B, C, T); take ``x[b, :, starts[b]:starts[b]+size]`` for every b -> (B, C, size)."""
    idx = starts.reshape(-1, 1, 1) + torch.arange(size, device=x.device).reshape(1, 1, -1)
    return torch.gather(x, 2, idx.expand(x.shape[0], x.shape[1], size))


def _spec_to_mel(run: Run, spec: torch.Tensor) -> torch.Tensor:
    from melo.audio import spec_to_mel

    d = run.config.data
    return spec_to_mel(spec, d.sampling_rate, d.filter_length, d.n_mel_channels, d.mel_fmin, d.resolved_mel_fmax)


def _wav_to_mel(run: Run, wav: torch.Tensor) -> torch.Tensor:
    from melo.audio import mel_spectrogram

    d = run.config.data
    return mel_spectrogram(wav, d.sampling_rate, d.filter_length, d.hop_length, d.win_length, d.n_mel_channels,
                           d.mel_fmin, d.resolved_mel_fmax)


def _maybe_inject_nan(run: Run, batch: "Batch") -> "Batch":
    target = os.environ.get(NAN_HOOK_ENV)
    if target and run.dist.is_main and int(target) == run.progress.step + 1:
        logger.warning("%s=%s: filling this batch's spectrogram with NaN", NAN_HOOK_ENV, target)
        return dataclasses.replace(batch, spec=torch.full_like(batch.spec, float("nan")))
    return batch


def _progress_bar(run: Run):
    if not run.dist.is_main:
        return None
    from tqdm import tqdm

    total = run.args.max_steps
    return tqdm(total=total, initial=run.progress.step, unit="step", dynamic_ncols=True,
                disable=not sys.stderr.isatty())


@contextlib.contextmanager
def _stop_on_signals(run: Run) -> Iterator[None]:
    """SIGTERM/SIGINT ask the loop to stop after the current step; it then saves and returns."""
    def handler(signum: int, _frame: Any) -> None:
        if not run.stop_signal:
            run.stop_signal.append(signum)
        else:  # a second signal: stop now
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    sys.exit(main())
