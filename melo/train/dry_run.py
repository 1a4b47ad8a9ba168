"""``python -m melo.train --dry-run``: one training step on each of the heaviest batches, then the peak memory.

The run is set up exactly as training sets it up (config, precision, data preparation, networks with their
pretrained initialisation, optimisers, DDP under torchrun, the frame-budgeted sampler), but into a scratch
folder that is deleted afterwards: no checkpoint, log file or TensorBoard event is left. Then one full GAN
step runs on the batch holding the longest clip and one on the batch with the most padded frames (of the
whole epoch plan, whichever rank would get them), and a table shows each step's time and peak memory: an
out-of-memory error shows in the first minute instead of hours into a run. Memory is
``torch.cuda.max_memory_allocated`` (and reserved) against the GPU's total on CUDA, and the process's peak
resident set size (``ru_maxrss``, setup included) on CPU.
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from melo.distributed import Distributed
from melo.train.cli import Args
from melo.data.dataset import collate
from melo.train.errors import TrainingError
from melo.train.loop import train_on_batch
from melo.train.run import Run, setup

if TYPE_CHECKING:
    from melo.data.dataset import TextAudioDataset

__all__ = ["DryRunStep", "dry_run", "heaviest_batches"]

logger = logging.getLogger(__name__)

HEADROOM_WARNING = 0.9
"""Warn when a step's peak reaches this share of the GPU's memory (fragmentation and longer text can add)."""


@dataclass(frozen=True)
class DryRunStep:
    """One measured step."""

    label: str
    clips: int
    longest_frames: int
    padded_frames: int
    seconds: float
    peak_bytes: int
    reserved_bytes: int | None  # CUDA only


def heaviest_batches(batches: list[list[int]], lengths: list[int]) -> dict[str, list[int]]:
    """The batch holding the longest clip and the one with the most padded frames (items x longest clip)."""
    def longest(batch: list[int]) -> int:
        return max(lengths[i] for i in batch)

    return {"longest clip": max(batches, key=longest),
            "most padded frames": max(batches, key=lambda b: len(b) * longest(b))}


def dry_run(args: Args, dist_ctx: Distributed) -> list[DryRunStep]:
    """Set up as training does (in a scratch folder), step on the heaviest batches, print the table."""
    with tempfile.TemporaryDirectory(prefix="melo-dry-run-") as scratch:
        scratch_args = dataclasses.replace(args, resume=False, checkpoints_dir=Path(scratch) / "checkpoints",
                                           logs_dir=Path(scratch) / "logs")
        run = setup(scratch_args, dist_ctx)
        try:
            run.networks.train()
            dataset = run.loaders.train.dataset
            picks = heaviest_batches(run.loaders.sampler.epoch_batches(0), dataset.lengths)
            steps = [_measure(run, label, batch, dataset) for label, batch in picks.items()]
        finally:
            run.monitor.close()
            if run.lock is not None:
                run.lock.release()
    everyone = dist_ctx.gather_to_main(steps)
    if dist_ctx.is_main:
        assert everyone is not None
        print(_table(run, everyone))
    return steps


def _measure(run: Run, label: str, indices: list[int], dataset: "TextAudioDataset") -> DryRunStep:

    device = run.dist.device
    batch = collate([dataset[i] for i in indices]).to(device)
    frames = [int(f) for f in batch.spec_lengths.tolist()]
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    started = time.perf_counter()
    try:
        result = train_on_batch(run, batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    except torch.OutOfMemoryError:
        t = run.config.train
        raise TrainingError(
            f"out of memory in the dry run on {device}, on the batch with the {label} ({len(indices)} clips, the "
            f"longest {max(frames)} frames, {len(indices) * max(frames)} padded frames): lower "
            f"train.max_frames_per_batch (now {t.max_frames_per_batch}) or batch_size (now {t.batch_size}), or "
            f"segment_size (now {t.segment_size})") from None
    seconds = time.perf_counter() - started
    del result
    if device.type == "cuda":
        peak, reserved = torch.cuda.max_memory_allocated(device), torch.cuda.max_memory_reserved(device)
    else:
        peak, reserved = peak_rss_bytes(), None
    return DryRunStep(label=label, clips=len(indices), longest_frames=max(frames),
                      padded_frames=len(indices) * max(frames), seconds=seconds, peak_bytes=peak,
                      reserved_bytes=reserved)


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _table(run: Run, per_rank: list[list[DryRunStep]]) -> str:
    t, d, device = run.config.train, run.config.data, run.dist.device
    precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(run.precision.dtype, "fp32")  # type: ignore[arg-type]
    memory = "peak allocated (reserved)" if device.type == "cuda" else "peak RSS (process)"
    lines = [
        f"dry run: one training step on each of the heaviest batches; {device.type}, {precision}, "
        f"train.batch_size={t.batch_size}, train.max_frames_per_batch={t.max_frames_per_batch}, "
        f"train.segment_size={t.segment_size}",
        "",
        f"| rank | batch | clips | longest clip | padded frames | step (s) | {memory} |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for rank, steps in enumerate(per_rank):
        for s in steps:
            seconds = s.longest_frames * d.hop_length / d.sampling_rate
            reserved = f" ({_gib(s.reserved_bytes)})" if s.reserved_bytes is not None else ""
            lines.append(f"| {rank} | {s.label} | {s.clips} | {s.longest_frames} frames ({seconds:.1f} s) | "
                         f"{s.padded_frames} | {s.seconds:.2f} | {_gib(s.peak_bytes)}{reserved} |")
    peak = max(s.peak_bytes for steps in per_rank for s in steps)
    if device.type == "cuda":
        total = torch.cuda.get_device_properties(device).total_memory
        lines += ["", f"peak {_gib(peak)} of {_gib(total)} on {torch.cuda.get_device_name(device)} "
                      f"({100 * peak / total:.0f}%)"]
        if peak > HEADROOM_WARNING * total:
            lines.append(f"warning: over {HEADROOM_WARNING:.0%} of the GPU's memory: little headroom; lower "
                         f"train.max_frames_per_batch")
    else:
        lines += ["", f"peak RSS {_gib(peak)} (the whole process, setup included)"]
    return "\n".join(lines)


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"
