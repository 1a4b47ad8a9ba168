"""Where a run is and everything besides the weights that resuming it needs.

:class:`TrainingState` is what ``optimizer_<step>.pth`` holds under ``training`` (see :mod:`melo.checkpoint`,
which writes and reads the files); :func:`capture` takes it from a running trainer and :func:`restore` puts a
checkpoint set back into one.

Step and schedule semantics: ``step`` counts training batches (skipped ones included) and is what the
checkpoint names carry; ``epoch`` is 0-based and seeds the sampler; ``batch_in_epoch`` batches of it were
already trained on (the sampler resumes after them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from melo import checkpoint as ckpt
from melo.distributed import Distributed
from melo.model import Discriminators
from melo.train.errors import TrainingError

__all__ = ["Progress", "TrainingState", "capture", "restore"]

logger = logging.getLogger(__name__)

Schedulers = dict[str, torch.optim.lr_scheduler.LRScheduler]


@dataclass
class Progress:
    """Where the run is; all of it is checkpointed."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    skipped_steps: int = 0
    """Steps in which at least one update was skipped."""
    skipped_updates: dict[str, int] = field(default_factory=dict)
    """Skipped updates per optimiser (``G``/``D``/``DUR``)."""


@dataclass
class TrainingState:
    """The ``training`` payload of ``optimizer_<step>.pth``; ``to_dict`` is the file format."""

    progress: Progress
    world_size: int
    seed: int
    optimizers: dict[str, Any]  # "G"/"D"/"DUR" -> optimizer state dict
    schedulers: dict[str, Any]  # the same names -> scheduler state dict
    scaler: dict[str, Any]  # GradScaler state, or {} without fp16
    rng: list[dict[str, Any]]  # one per rank (melo.checkpoint.capture_rng_state)

    def to_dict(self) -> dict[str, Any]:
        p = self.progress
        return {"epoch": p.epoch, "batch_in_epoch": p.batch_in_epoch, "skipped_steps": p.skipped_steps,
                "skipped_updates": dict(p.skipped_updates), "world_size": self.world_size, "seed": self.seed, "optimizers": self.optimizers,
                "schedulers": self.schedulers, "scaler": self.scaler, "rng": self.rng}

    @classmethod
    def from_dict(cls, raw: dict[str, Any], step: int, source: Path) -> "TrainingState":
        missing = [k for k in ("epoch", "batch_in_epoch", "optimizers", "schedulers", "rng") if k not in raw]
        if missing:
            raise TrainingError(f"{source}: the training state lacks {', '.join(missing)}")
        progress = Progress(step=step, epoch=int(raw["epoch"]), batch_in_epoch=int(raw["batch_in_epoch"]),
                            skipped_steps=int(raw.get("skipped_steps", 0)),
                            skipped_updates={str(k): int(v) for k, v in raw.get("skipped_updates", {}).items()})
        return cls(progress=progress, world_size=int(raw.get("world_size", len(raw["rng"]))),
                   seed=int(raw.get("seed", 0)), optimizers=raw["optimizers"], schedulers=raw["schedulers"],
                   scaler=raw.get("scaler") or {}, rng=list(raw["rng"]))


def capture(progress: Progress, optimizers: dict[str, torch.optim.Optimizer], schedulers: Schedulers,
            scaler: torch.amp.GradScaler, rng: list[dict[str, Any]], world_size: int, seed: int) -> TrainingState:
    """The state of a running trainer (``rng``: every rank's generator states, gathered on rank 0)."""
    return TrainingState(
        progress=Progress(**{**vars(progress), "skipped_updates": dict(progress.skipped_updates)}), world_size=world_size, seed=seed,
        optimizers={k: o.state_dict() for k, o in optimizers.items()},
        schedulers={k: s.state_dict() for k, s in schedulers.items()},
        scaler=scaler.state_dict() if scaler.is_enabled() else {}, rng=rng,
    )


def restore(ckpt_dir: Path, generator: nn.Module, discriminators: Discriminators,
            optimizers: dict[str, torch.optim.Optimizer], schedulers: Schedulers, scaler: torch.amp.GradScaler,
            dist_ctx: Distributed) -> Progress:
    """Load the newest complete checkpoint set of ``ckpt_dir`` into the (unwrapped) networks and the optimizer
    state, restore this rank's random streams, and return where the run was."""
    loaded = ckpt.load_latest_complete(ckpt_dir)
    if loaded is None:
        raise TrainingError(f"--resume: no loadable checkpoint in {ckpt_dir} (every set is incomplete or broken)")
    g_path, d_path, o_path = loaded.paths
    _load_exact(generator, loaded.generator, g_path)
    _load_exact(discriminators.mpd, loaded.discriminators["mpd"], d_path)
    if discriminators.duration is not None:
        if "duration" not in loaded.discriminators:
            raise TrainingError(f"{d_path}: has no duration discriminator but model.use_duration_discriminator is true")
        _load_exact(discriminators.duration, loaded.discriminators["duration"], d_path)
    state = TrainingState.from_dict(loaded.training, loaded.step, o_path)
    if set(state.optimizers) != set(optimizers):
        raise TrainingError(f"{o_path}: holds optimizers {sorted(state.optimizers)}, this run has "
                            f"{sorted(optimizers)} (was model.use_duration_discriminator changed?)")
    for name, opt in optimizers.items():
        try:
            opt.load_state_dict(state.optimizers[name])
        except ValueError as e:  # another number of trainable parameters
            raise TrainingError(f"{o_path}: the {name} optimizer state does not fit this run ({e}); was train.freeze "
                                f"changed since the run started?") from None
        schedulers[name].load_state_dict(state.schedulers[name])
    if state.scaler and scaler.is_enabled():
        scaler.load_state_dict(state.scaler)
    if len(state.rng) == dist_ctx.world_size:
        ckpt.restore_rng_state(state.rng[dist_ctx.rank])
    else:
        logger.warning("checkpoint was written by %d ranks, this run has %d: the data position and random "
                       "streams continue approximately", len(state.rng), dist_ctx.world_size)
        torch.manual_seed(state.seed + loaded.step * 1000 + dist_ctx.rank)
    p = state.progress
    logger.info("resumed from %s: step %d, epoch %d (batch %d), lr %.6g", g_path.name, p.step, p.epoch,
                p.batch_in_epoch, optimizers["G"].param_groups[0]["lr"])
    return p


def _load_exact(module: nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    try:
        module.load_state_dict(state)
    except RuntimeError as e:
        raise TrainingError(f"{path}: does not fit the model this config builds (was the model section of the "
                            f"config changed since the run started?):\n{e}") from None
