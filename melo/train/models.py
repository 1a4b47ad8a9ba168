"""The networks a run trains: building them, initialising them from pretrained weights, wrapping them for DDP.

Freezing parameter groups belongs here too: a parameter with ``requires_grad=False`` when
:func:`melo.train.step.make_optimizers` runs is left out of its optimizer.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from melo import checkpoint as ckpt
from melo.config import Config
from melo.distributed import Distributed
from melo.model import Discriminators, SynthesizerTrn
from melo.train.errors import TrainingError
from melo.train.step import Optimizers, unwrap

__all__ = ["LoadReport", "Networks", "build_networks", "build_schedulers", "load_matching", "load_pretrained",
           "wrap_ddp"]

logger = logging.getLogger(__name__)


@dataclass
class Networks:
    """The generator and its discriminators; DDP-wrapped under torchrun (``raw_*``: the modules inside)."""

    generator: nn.Module
    discriminators: Discriminators

    @property
    def raw_generator(self) -> SynthesizerTrn:
        return unwrap(self.generator)  # type: ignore[return-value]

    @property
    def raw_discriminators(self) -> Discriminators:
        d = self.discriminators
        return Discriminators(mpd=unwrap(d.mpd), duration=unwrap(d.duration) if d.duration is not None else None)

    def train(self) -> None:
        for m in (self.generator, self.discriminators.mpd, self.discriminators.duration):
            if m is not None:
                m.train()

    def parameter_counts(self) -> tuple[int, int]:
        """Parameters of the generator and of the discriminators."""
        d = self.raw_discriminators
        n_gen = sum(p.numel() for p in self.raw_generator.parameters())
        n_disc = sum(p.numel() for m in (d.mpd, d.duration) if m is not None for p in m.parameters())
        return n_gen, n_disc


def build_networks(config: Config, symbols: dict[str, Any], device: torch.device) -> Networks:
    from melo.model import build_discriminators, build_generator
    from melo.text.symbols import SymbolTable

    generator = build_generator(config, SymbolTable.from_dict(symbols)).to(device)
    d = build_discriminators(config)
    return Networks(generator=generator, discriminators=Discriminators(
        mpd=d.mpd.to(device), duration=d.duration.to(device) if d.duration is not None else None))


def build_schedulers(optimizers: Optimizers, config: Config) -> dict[str, torch.optim.lr_scheduler.LRScheduler]:
    """``learning_rate * lr_decay ** k`` per optimizer (k counted by the loop: epochs or steps)."""
    return {name: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=config.train.lr_decay)
            for name, opt in optimizers.by_name().items()}


def wrap_ddp(networks: Networks, dist_ctx: Distributed) -> Networks:
    if not dist_ctx.enabled:
        return networks
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [dist_ctx.local_rank] if dist_ctx.device.type == "cuda" else None
    # Every generator parameter reaches the generator loss in each step (the torchrun test checks it),
    # so DDP needs no unused-parameter search. The discriminators run through DDP only in their own
    # update; the generator update calls the unwrapped modules with frozen weights.
    d = networks.discriminators
    return dataclasses.replace(networks, generator=DDP(networks.generator, device_ids=ids), discriminators=Discriminators(
        mpd=DDP(d.mpd, device_ids=ids), duration=DDP(d.duration, device_ids=ids) if d.duration is not None else None))


@dataclass
class LoadReport:
    """What :func:`load_matching` took from a state dict, and what it left."""

    module: str
    source: str
    loaded: list[str] = field(default_factory=list)
    total: int = 0
    mismatched: list[str] = field(default_factory=list)  # "name: checkpoint (shape) vs model (shape)"
    missing: list[str] = field(default_factory=list)  # in the model, not in the checkpoint
    unexpected: list[str] = field(default_factory=list)  # in the checkpoint, not in the model

    def log(self) -> None:
        logger.info("initialised %d/%d tensors of %s from %s", len(self.loaded), self.total, self.module, self.source)
        if self.mismatched:
            logger.warning("%s: %d shape mismatches (kept the fresh initialisation):\n  %s",
                           self.source, len(self.mismatched), "\n  ".join(self.mismatched))
        if self.missing:
            logger.warning("%s: %d tensors missing: %s", self.source, len(self.missing), ", ".join(self.missing[:20]))
        if self.unexpected:
            logger.warning("%s: %d tensors not in the model: %s", self.source, len(self.unexpected),
                           ", ".join(self.unexpected[:20]))


def load_matching(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> LoadReport:
    """Load the tensors whose names and shapes match; report the rest."""
    own = module.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    report = LoadReport(
        module=type(module).__name__, source=source, loaded=list(usable), total=len(own),
        mismatched=[f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
                    for k, v in state.items() if k in own and own[k].shape != v.shape],
        missing=[k for k in own if k not in state], unexpected=[k for k in state if k not in own],
    )
    module.load_state_dict(usable, strict=False)
    report.log()
    return report


def load_pretrained(config: Config, networks: Networks) -> list[LoadReport]:
    """Initialise from ``train.pretrained_G`` / ``pretrained_D`` (a ``G_*.pth``/``G_latest.pth`` and a
    ``D_*.pth`` of this project), loading every tensor whose name and shape match and reporting the rest."""
    t = config.train
    reports = []
    if t.pretrained_G:
        state = _pretrained_part(t.pretrained_G, "generator")
        reports.append(load_matching(networks.raw_generator, state, t.pretrained_G))
    if t.pretrained_D:
        discs = _pretrained_part(t.pretrained_D, "discriminators")
        raw = networks.raw_discriminators
        reports.append(load_matching(raw.mpd, discs.get("mpd", {}), t.pretrained_D))
        if raw.duration is not None:
            if "duration" in discs:
                reports.append(load_matching(raw.duration, discs["duration"], t.pretrained_D))
            else:
                logger.warning("%s has no duration discriminator: it starts from scratch", t.pretrained_D)
    return reports


def _pretrained_part(path: str, key: str) -> dict[str, Any]:
    try:
        payload = ckpt.load_checkpoint_file(path)
    except ckpt.CheckpointError as e:
        raise TrainingError(str(e)) from None
    if key not in payload:
        raise TrainingError(f"{path}: not a melo {key} checkpoint (it holds {', '.join(map(str, payload))})")
    return payload[key]
