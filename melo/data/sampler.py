"""Length-bucketed batch sampler for one or many ranks, with no hidden drop rules.

Each epoch, with a generator seeded by ``(seed, epoch)`` (identical on every rank):

1. items go to buckets by length; ``boundaries`` are upper bounds of all but the last bucket, and
   the first/last buckets are open-ended, so *every* length lands in some bucket;
2. each bucket is shuffled and cut into batches of its batch size (the last one of a bucket may be smaller):
   ``batch_size``, or with a frame budget ``max_frames`` as many items as fit it at the bucket's longest
   item (``n * longest <= max_frames``: the padded frames of any batch of the bucket), so batches of long
   clips are smaller and a batch's memory is bounded whatever its clips;
3. the list of all batches is shuffled, then padded by repeating its first batches until its length is a
   multiple of ``num_replicas``; rank ``r`` takes batches ``r, r + R, r + 2R, ...``.

So every item is in exactly one batch of the epoch across ranks, ranks get disjoint shards (apart from
the fewer than ``num_replicas`` repeated padding batches) and the same number of batches, and the whole
plan is a pure function of ``(lengths, seed, epoch)``. ``set_epoch(epoch, start_batch=k)`` resumes an
epoch at this rank's ``k``-th batch, so a restored trainer sees exactly the batches it had not seen yet.
An item longer than ``max_frames`` fits no batch: that is an error, not a silent drop.

:func:`sequential_batches` is the same budget for validation: the items in order, in consecutive batches.
"""

from __future__ import annotations

import bisect
from typing import Iterator, Sequence

import torch

__all__ = ["DistributedBucketSampler", "default_boundaries", "sequential_batches"]


def default_boundaries(lengths: Sequence[int], batch_size: int, max_buckets: int = 8) -> list[int]:
    """Upper bounds from the length distribution: up to ``max_buckets`` buckets of about equal item
    counts, each with at least ``batch_size`` items where the data allows."""
    n = len(lengths)
    n_buckets = max(1, min(max_buckets, n // max(1, batch_size)))
    ordered = sorted(lengths)
    bounds: list[int] = []
    for k in range(1, n_buckets):
        b = ordered[(k * n) // n_buckets - 1]
        if not bounds or b > bounds[-1]:
            bounds.append(b)
    return bounds


class DistributedBucketSampler(torch.utils.data.Sampler[list[int]]):
    """Yields lists of dataset indices (use as a DataLoader ``batch_sampler``)."""

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        num_replicas: int = 1,
        rank: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        boundaries: Sequence[int] | None = None,
        max_frames: int | None = None,
    ) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size must be > 0, got {batch_size}")
        _check_budget(lengths, max_frames)
        if num_replicas <= 0 or not 0 <= rank < num_replicas:
            raise ValueError(f"need 0 <= rank < num_replicas, got rank={rank}, num_replicas={num_replicas}")
        if len(lengths) == 0:
            raise ValueError("no items to sample from (empty dataset)")
        self.lengths = [int(x) for x in lengths]
        self.batch_size = batch_size
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = shuffle
        self.seed = seed
        if boundaries is None:
            boundaries = default_boundaries(self.lengths, batch_size * num_replicas)
        bounds = [int(b) for b in boundaries]
        if any(b2 <= b1 for b1, b2 in zip(bounds, bounds[1:])):
            raise ValueError(f"boundaries must be strictly increasing, got {bounds}")
        self.boundaries = bounds
        buckets: list[list[int]] = [[] for _ in range(len(bounds) + 1)]
        for i, length in enumerate(self.lengths):
            buckets[bisect.bisect_left(bounds, length)].append(i)  # lengths <= bounds[k] go to bucket k
        self.buckets = [b for b in buckets if b]
        self.max_frames = max_frames
        self.bucket_batch_sizes = [
            batch_size if max_frames is None else min(batch_size, max_frames // max(self.lengths[i] for i in b))
            for b in self.buckets
        ]
        """Items per batch in each bucket (``batch_size``, fewer where the frame budget demands)."""
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's plan; ``start_batch`` skips this rank's first batches (mid-epoch resume)."""
        if start_batch < 0:
            raise ValueError(f"start_batch must be >= 0, got {start_batch}")
        self.epoch = epoch
        self.start_batch = start_batch

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """All ranks' batches of ``epoch`` (before padding and sharding), in order."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        batches: list[list[int]] = []
        for bucket, size in zip(self.buckets, self.bucket_batch_sizes):
            order = [bucket[i] for i in torch.randperm(len(bucket), generator=g).tolist()] if self.shuffle else bucket
            batches += [order[i : i + size] for i in range(0, len(order), size)]
        if self.shuffle:
            batches = [batches[i] for i in torch.randperm(len(batches), generator=g).tolist()]
        return batches

    def rank_batches(self, epoch: int) -> list[list[int]]:
        """This rank's batches of ``epoch`` (padded so every rank has the same count)."""
        batches = self.epoch_batches(epoch)
        padding = (-len(batches)) % self.num_replicas
        batches = batches + [batches[i % len(batches)] for i in range(padding)]
        return batches[self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.rank_batches(self.epoch)[self.start_batch :]

    @property
    def batches_per_rank(self) -> int:
        """Batches each rank gets per epoch (the same every epoch)."""
        total = sum(-(-len(b) // size) for b, size in zip(self.buckets, self.bucket_batch_sizes))
        return -(-total // self.num_replicas)

    def __len__(self) -> int:
        """Batches this rank yields for the current epoch (after ``start_batch``)."""
        return max(0, self.batches_per_rank - self.start_batch)


def sequential_batches(lengths: Sequence[int], batch_size: int, max_frames: int | None = None) -> list[list[int]]:
    """Indices ``0..n-1`` in order, cut into consecutive batches of at most ``batch_size`` items whose padded
    frames (items x longest) stay within ``max_frames`` (use as a DataLoader ``batch_sampler``)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be > 0, got {batch_size}")
    _check_budget(lengths, max_frames)
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i, length in enumerate(lengths):
        grown = max(longest, int(length))
        over_budget = max_frames is not None and (len(current) + 1) * grown > max_frames
        if current and (len(current) == batch_size or over_budget):
            batches.append(current)
            current, grown = [], int(length)
        current.append(i)
        longest = grown
    if current:
        batches.append(current)
    return batches


def _check_budget(lengths: Sequence[int], max_frames: int | None) -> None:
    if max_frames is None:
        return
    if max_frames <= 0:
        raise ValueError(f"max_frames must be > 0, got {max_frames}")
    too_long = [int(x) for x in lengths if int(x) > max_frames]
    if too_long:
        raise ValueError(f"{len(too_long)} items are longer than the frame budget max_frames={max_frames} "
                         f"(the longest has {max(too_long)} frames): they fit no batch")
