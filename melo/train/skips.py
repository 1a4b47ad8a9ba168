"""Counting skipped updates without waiting for the device, and stopping a run that only skips.

A training step skips an optimiser's update when its gradients are non-finite (:mod:`melo.train.step`) and
leaves the flags on the device. :class:`SkipTracker` adds them up there, per optimiser: the total, the
current run of consecutive skips and the longest run since the last check (a few tiny kernels per step, no
host synchronisation). :meth:`SkipTracker.check` reads them (one synchronisation) when the loop logs and at
least every ``train.max_consecutive_skips`` steps; :meth:`SkipTracker.stop_if_stuck` then raises
:class:`TrainingError` once an optimiser has skipped ``max_consecutive_skips`` updates in a row: a persistent fp16 overflow or a diverged network would
otherwise skip every step forever with only warnings. Under DDP every rank sees the same flags (they come
from all-reduced gradients), so every rank stops at the same step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import torch

from melo.train.errors import TrainingError

__all__ = ["SkipCounts", "SkipTracker"]


@dataclass(frozen=True)
class SkipCounts:
    """What :meth:`SkipTracker.check` read: totals since the run started (resumes included)."""

    steps: int
    """Steps in which at least one update was skipped."""
    per_optimizer: dict[str, int]
    """Skipped updates per optimiser (``G``/``D``/``DUR``)."""
    longest_run: dict[str, int]
    """The longest run of consecutive skips per optimiser since the previous check."""

    def since(self, earlier: "SkipCounts") -> dict[str, int]:
        """Skipped updates per optimiser after ``earlier`` (only those with any)."""
        new = {n: c - earlier.per_optimizer.get(n, 0) for n, c in self.per_optimizer.items()}
        return {n: c for n, c in new.items() if c > 0}


class SkipTracker:
    """Per-optimiser skip counters on ``device``; ``limit`` consecutive skips of one optimiser stop the run."""

    def __init__(self, names: Sequence[str], device: torch.device, limit: int, *, step: int = 0, steps: int = 0,
                 per_optimizer: Mapping[str, int] | None = None) -> None:
        if limit <= 0:
            raise ValueError(f"limit must be > 0, got {limit}")
        self.names = list(names)
        self.limit = limit
        previous = per_optimizer or {}
        self._total = torch.tensor([previous.get(n, 0) for n in self.names], dtype=torch.long, device=device)
        self._run = torch.zeros(len(self.names), dtype=torch.long, device=device)
        self._longest = torch.zeros_like(self._run)
        self._steps = torch.tensor(steps, dtype=torch.long, device=device)
        self.reported = SkipCounts(steps=steps, per_optimizer={n: previous.get(n, 0) for n in self.names},
                                   longest_run={n: 0 for n in self.names})
        """The counts at the previous check (what the log has said so far) ..."""
        self.reported_step = step
        """... and the global step they were read at (``step``: where the run started or resumed)."""

    def update(self, skipped: Mapping[str, torch.Tensor]) -> None:
        """Add one step's flags (bool tensors on the device, one per name). No host synchronisation."""
        missing = [n for n in self.names if n not in skipped]
        if missing:
            raise KeyError(f"no skip flag for {', '.join(missing)}")
        flags = torch.stack([skipped[n].reshape(()) for n in self.names]).long()
        self._total += flags
        self._run = (self._run + 1) * flags
        torch.maximum(self._longest, self._run, out=self._longest)
        self._steps += flags.amax()

    def check(self, step: int) -> SkipCounts:
        """Read the counters at global step ``step`` (one host synchronisation) and start a new window for the
        longest run. Pass the counts to :meth:`stop_if_stuck` (after logging them)."""
        n = len(self.names)
        values = torch.cat([self._total, self._longest, self._steps.reshape(1)]).tolist()
        self._longest.copy_(self._run)
        counts = SkipCounts(steps=values[2 * n], per_optimizer=dict(zip(self.names, values[:n])),
                            longest_run=dict(zip(self.names, values[n:2 * n])))
        self.reported, self.reported_step = counts, step
        return counts

    def stop_if_stuck(self, counts: SkipCounts) -> None:
        """Raise :class:`TrainingError` when an optimiser skipped ``limit`` updates in a row."""
        stuck = {name: run for name, run in counts.longest_run.items() if run >= self.limit}
        if stuck:
            which = ", ".join(f"{name} ({run} in a row)" for name, run in stuck.items())
            raise TrainingError(
                f"stopping: updates of {which} were skipped for non-finite gradients, at least "
                f"train.max_consecutive_skips={self.limit} in a row. The weights are unharmed (skipped updates "
                f"change nothing); resume from the last checkpoint after removing the cause: with fp16, try "
                f"bf16_run on a GPU that has it, or a lower learning_rate / a grad_clip_norm; check the data "
                f"for broken clips")
