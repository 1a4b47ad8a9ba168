"""A run's data: preprocessing when the caches are missing or stale, then the training and validation loaders.

Rank 0 validates and fills the caches (a no-op when they are fresh); the other ranks wait for its word in the
rendezvous store (no timeout, however long preprocessing takes), then read what it wrote.

DataLoader workers ignore SIGTERM and SIGINT (:func:`ignore_stop_signals`): torchrun, Slurm's ``scancel``
and a terminal's Ctrl-C signal the whole process group, and a worker killed by it would take the main
process down ("DataLoader worker killed by signal") before it saves. The main process decides (it finishes
the step, saves, exits); the workers end with it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

import torch

from melo.config import Config
from melo.distributed import Distributed, RendezvousLost
from melo.train.errors import TrainingError

if TYPE_CHECKING:
    from melo.data.preprocess import PreparedData

__all__ = ["PREPARED_KEY", "Loaders", "build_loaders", "ignore_stop_signals", "prepare_data"]

logger = logging.getLogger(__name__)


PREPARED_KEY = "data_prepared"
"""The rendezvous-store key rank 0 publishes when the caches are ready (``ok``) or preparing failed."""


def prepare_data(config: Config, workers: int, dist_ctx: Distributed) -> "PreparedData":
    """The prepared data (its config has ``spk2id`` filled in), preprocessing first where needed.

    Rank 0 prepares; the other ranks wait for its word in the rendezvous store, with no time limit (a first
    run on hundreds of hours of audio preprocesses for longer than any collective's timeout), then read the
    caches. When rank 0 fails, the others stop with its message."""
    from melo.data.preprocess import DataError, is_fresh, prepare

    device = str(dist_ctx.device)
    try:
        if dist_ctx.is_main:
            try:
                if is_fresh(config):
                    logger.info("preprocessing caches are fresh")
                else:
                    logger.info("preprocessing %s and %s (caches missing or stale)",
                                config.data.training_files, config.data.validation_files)
                prepared = prepare(config, workers=max(1, workers), device=device, progress=True)
            except DataError as e:
                dist_ctx.publish(PREPARED_KEY, f"rank 0 could not prepare the data: {e}")
                dist_ctx.wait_for_readers(PREPARED_KEY)  # they stop with this message, not a lost connection
                raise
            except BaseException as e:
                dist_ctx.publish(PREPARED_KEY, f"rank 0 failed while preparing the data ({type(e).__name__}); "
                                               f"see its log")
                raise
            dist_ctx.publish(PREPARED_KEY, "ok")
            _log_data_report(prepared)
        else:
            try:
                outcome = dist_ctx.wait_for_main(PREPARED_KEY)
            except RendezvousLost as e:
                raise TrainingError(str(e)) from None
            if outcome != "ok":
                raise TrainingError(str(outcome))
            prepared = prepare(config, workers=1, device=device, progress=False)
    except DataError as e:
        raise TrainingError(str(e)) from None
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


def ignore_stop_signals(_worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: leave SIGTERM and SIGINT to the main process (see the module's notes)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Loaders:
    """The training loader with its bucket sampler (which the loop positions per epoch), and validation's."""

    train: torch.utils.data.DataLoader
    sampler: Any
    validation: torch.utils.data.DataLoader | None


def build_loaders(prepared: "PreparedData", config: Config, dist_ctx: Distributed, workers: int) -> Loaders:
    """Length-bucketed training batches within ``train.max_frames_per_batch``, and validation's batches (rank 0;
    in filelist order, the same budget)."""
    from melo.data.dataset import TextAudioDataset, collate
    from melo.data.sampler import DistributedBucketSampler, sequential_batches

    t = config.train
    train_set = TextAudioDataset(prepared.train_manifest)
    with _over_budget_is_an_error(config.data.training_files):
        sampler = DistributedBucketSampler(
            train_set.lengths, batch_size=t.batch_size, num_replicas=dist_ctx.world_size, rank=dist_ctx.rank,
            shuffle=True, seed=t.seed, max_frames=t.max_frames_per_batch,
        )
    if dist_ctx.is_main:
        _log_short_clips(train_set.lengths, config)
    common: dict[str, Any] = dict(
        collate_fn=collate,
        num_workers=workers,
        pin_memory=dist_ctx.device.type == "cuda",
        persistent_workers=workers > 0,
        worker_init_fn=ignore_stop_signals,
        # The loader draws its workers' base seed from this generator instead of the global RNG, so
        # creating an iterator (each epoch, or after a resume) leaves training's random streams alone.
        # (The dataset itself draws no random numbers: worker seeds do not change the data.)
        generator=torch.Generator().manual_seed(t.seed + dist_ctx.rank),
    )
    train_loader = torch.utils.data.DataLoader(train_set, batch_sampler=sampler, **common)
    val_loader = None
    if dist_ctx.is_main:
        val_set = TextAudioDataset(prepared.val_manifest)
        if len(val_set) > 0:
            with _over_budget_is_an_error(config.data.validation_files):
                val_batches = sequential_batches(val_set.lengths, t.batch_size, t.max_frames_per_batch)
            val_loader = torch.utils.data.DataLoader(
                val_set, batch_sampler=val_batches, **{**common, "num_workers": 0, "persistent_workers": False},
            )
        else:
            logger.warning("no usable validation rows in %s: validation is skipped", config.data.validation_files)
    return Loaders(train=train_loader, sampler=sampler, validation=val_loader)


@contextlib.contextmanager
def _over_budget_is_an_error(filelist: str) -> Iterator[None]:
    """A clip longer than the frame budget (cached under an older, longer ``data.max_audio_seconds``)."""
    try:
        yield
    except ValueError as e:
        raise TrainingError(f"{filelist}: {e}; lower data.max_audio_seconds and rerun preprocessing, or raise "
                            f"train.max_frames_per_batch") from None


def _log_short_clips(lengths: list[int], config: Config) -> None:
    """Clips shorter than one training window train on it zero-padded past their end (see README, Training)."""
    hop, segment = config.data.hop_length, config.train.segment_size
    short = sum(1 for frames in lengths if frames * hop < segment)
    if short:
        logger.info("%d of %d training clips are shorter than one training window (train.segment_size %d samples "
                    "= %.2f s): their windows are zero-padded past the end, in the real audio and the latent alike",
                    short, len(lengths), segment, segment / config.data.sampling_rate)
