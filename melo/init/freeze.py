"""``train.freeze``: generator groups that keep their initial weights.

A frozen parameter has ``requires_grad=False`` before the optimizers are built, so
:func:`melo.train.step.make_optimizers` leaves it out: no gradient, no AdamW update, no weight decay; it
stays bit-identical for the whole run (and in every checkpoint).
"""

from __future__ import annotations

import logging
from typing import Iterable

from torch import nn

from melo.init.layout import group_of

__all__ = ["freeze_groups"]

logger = logging.getLogger(__name__)


def freeze_groups(generator: nn.Module, groups: Iterable[str]) -> dict[str, int]:
    """Freeze the generator's parameters in ``groups``; returns the frozen parameter count per group."""
    wanted = set(groups)
    frozen: dict[str, int] = {g: 0 for g in wanted}
    for name, param in generator.named_parameters():
        group = group_of("generator", name)
        if group in wanted:
            param.requires_grad_(False)
            frozen[group] += param.numel()
    if frozen:
        total = sum(p.numel() for p in generator.parameters())
        logger.info("train.freeze: %s (%.2f M of %.2f M generator parameters are not trained)",
                    ", ".join(f"{g} {n / 1e6:.2f} M" for g, n in frozen.items()), sum(frozen.values()) / 1e6,
                    total / 1e6)
    return frozen
