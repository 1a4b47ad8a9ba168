"""The networks a run trains: building them, initialising them from pretrained weights, wrapping them for DDP.

Freezing parameter groups belongs here too: a parameter with ``requires_grad=False`` when
:func:`melo.train.step.make_optimizers` runs is left out of its optimizer.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from melo.config import Config
from melo.distributed import Distributed
from melo.model import Discriminators, SynthesizerTrn
from melo.train.errors import TrainingError
from melo.train.step import Optimizers, unwrap

__all__ = ["Networks", "build_networks", "build_schedulers", "freeze", "load_pretrained", "wrap_ddp"]

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


def load_pretrained(config: Config, networks: Networks, symbols: dict[str, Any], report_dir: Path | None) -> None:
    """Initialise from ``train.init_from`` / ``init_from_D`` / ``init_from_DUR`` (see :mod:`melo.init`): tensors
    mapped by name, embedding rows by symbol/tone/language/speaker name, a load report per parameter group;
    a source that loads too little is an error."""
    from melo.init import InitError, initialise
    from melo.text.symbols import SymbolTable

    try:
        initialise(config, networks.raw_generator, networks.raw_discriminators, SymbolTable.from_dict(symbols),
                   report_dir)
    except InitError as e:
        raise TrainingError(str(e)) from None


def freeze(config: Config, networks: Networks) -> None:
    """``train.freeze``: those generator groups keep their weights (and stay out of the optimizer)."""
    if config.train.freeze:
        from melo.init import freeze_groups

        freeze_groups(networks.raw_generator, config.train.freeze)
