"""A run's data: preprocessing when the caches are missing or stale, then the training and validation loaders.

Rank 0 validates and fills the caches (a no-op when they are fresh); the other ranks wait at a barrier, then
read what it wrote. DataLoader worker set-up (e.g. what a worker does on SIGTERM) goes in
:func:`build_loaders`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from melo.config import Config
from melo.distributed import Distributed
from melo.train.errors import TrainingError

if TYPE_CHECKING:
    from melo.data.preprocess import PreparedData

__all__ = ["Loaders", "build_loaders", "prepare_data"]

logger = logging.getLogger(__name__)


def prepare_data(config: Config, workers: int, dist_ctx: Distributed) -> "PreparedData":
    """The prepared data (its config has ``spk2id`` filled in), preprocessing first where needed."""
    from melo.data.preprocess import DataError, is_fresh, prepare

    device = str(dist_ctx.device)
    prepared = None
    try:
        if dist_ctx.is_main:
            if is_fresh(config):
                logger.info("preprocessing caches are fresh")
            else:
                logger.info("preprocessing %s and %s (caches missing or stale)",
                            config.data.training_files, config.data.validation_files)
            prepared = prepare(config, workers=max(1, workers), device=device, progress=True)
            _log_data_report(prepared)
        dist_ctx.barrier()
        if not dist_ctx.is_main:
            prepared = prepare(config, workers=1, device=device, progress=False)
    except DataError as e:
        raise TrainingError(str(e)) from None
    assert prepared is not None
    if prepared.report.good["train"] == 0:
        raise TrainingError(f"no usable training rows in {config.data.training_files}; see "
                            f"{prepared.cache_dir / 'report.txt'}")
    return prepared


def _log_data_report(prepared: "PreparedData") -> None:
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


@dataclass
class Loaders:
    """The training loader with its bucket sampler (which the loop positions per epoch), and validation's."""

    train: torch.utils.data.DataLoader
    sampler: Any
    validation: torch.utils.data.DataLoader | None


def build_loaders(prepared: "PreparedData", config: Config, dist_ctx: Distributed, workers: int) -> Loaders:
    from melo.data.dataset import TextAudioDataset, collate
    from melo.data.sampler import DistributedBucketSampler

    train_set = TextAudioDataset(prepared.train_manifest)
    sampler = DistributedBucketSampler(
        train_set.lengths, batch_size=config.train.batch_size, num_replicas=dist_ctx.world_size,
        rank=dist_ctx.rank, shuffle=True, seed=config.train.seed,
    )
    common: dict[str, Any] = dict(
        collate_fn=collate,
        num_workers=workers,
        pin_memory=dist_ctx.device.type == "cuda",
        persistent_workers=workers > 0,
        # The loader draws its workers' base seed from this generator instead of the global RNG, so
        # creating an iterator (each epoch, or after a resume) leaves training's random streams alone.
        # (The dataset itself draws no random numbers: worker seeds do not change the data.)
        generator=torch.Generator().manual_seed(config.train.seed + dist_ctx.rank),
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
    return Loaders(train=train_loader, sampler=sampler, validation=val_loader)
