"""DistributedBucketSampler: coverage, determinism, disjoint rank shards, mid-epoch resume."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from melo.data.sampler import DistributedBucketSampler, default_boundaries, sequential_batches


def _lengths(n: int = 103, seed: int = 1) -> list[int]:
    rng = random.Random(seed)
    # a wide, lumpy range: very short, typical and very long items
    return [rng.choice([rng.randint(1, 5), rng.randint(50, 400), rng.randint(2000, 5000)]) for _ in range(n)]


def _all_ranks(lengths: list[int], world: int, epoch: int, **kw) -> list[list[list[int]]]:
    out = []
    for rank in range(world):
        s = DistributedBucketSampler(lengths, num_replicas=world, rank=rank, **kw)
        s.set_epoch(epoch)
        out.append(list(s))
    return out


@pytest.mark.parametrize("world", [1, 2, 3, 4])
@pytest.mark.parametrize("boundaries", [None, [10, 100], [1000]])
def test_every_item_in_exactly_one_batch_per_epoch(world: int, boundaries: list[int] | None) -> None:
    lengths = _lengths()
    shards = _all_ranks(lengths, world, epoch=3, batch_size=4, seed=7, boundaries=boundaries)
    assert len({len(s) for s in shards}) == 1, "ranks must get the same number of batches"
    s0 = DistributedBucketSampler(lengths, 4, world, 0, seed=7, boundaries=boundaries)
    assert len(shards[0]) == len(s0) == s0.batches_per_rank
    plan = s0.epoch_batches(3)
    counts = Counter(i for batch in plan for i in batch)
    assert sorted(counts) == list(range(len(lengths))) and set(counts.values()) == {1}
    seen = Counter(i for shard in shards for batch in shard for i in batch)
    assert set(seen) == set(range(len(lengths)))
    padding_batches = sum(len(s) for s in shards) - len(plan)
    assert 0 <= padding_batches < world
    assert all(1 <= len(b) <= 4 for shard in shards for b in shard)


def test_out_of_range_lengths_are_kept() -> None:
    lengths = [1, 2, 3, 10_000, 20_000, 50, 60]
    s = DistributedBucketSampler(lengths, batch_size=2, boundaries=[40, 100])
    got = sorted(i for b in s for i in b)
    assert got == list(range(len(lengths)))


def test_batches_group_similar_lengths() -> None:
    lengths = [5] * 20 + [5000] * 20
    s = DistributedBucketSampler(lengths, batch_size=4, seed=0)
    for batch in s:
        assert len({lengths[i] for i in batch}) == 1


def test_deterministic_per_seed_epoch_rank_and_epochs_differ() -> None:
    lengths = _lengths()
    a = _all_ranks(lengths, 2, epoch=5, batch_size=4, seed=11)
    b = _all_ranks(lengths, 2, epoch=5, batch_size=4, seed=11)
    assert a == b
    assert _all_ranks(lengths, 2, epoch=6, batch_size=4, seed=11) != a
    assert _all_ranks(lengths, 2, epoch=5, batch_size=4, seed=12) != a


def test_disjoint_shards_when_batches_divide_evenly() -> None:
    lengths = [10] * 32 + [100] * 32
    shards = _all_ranks(lengths, 4, epoch=0, batch_size=4, seed=0)
    sets = [{i for b in shard for i in b} for shard in shards]
    for r in range(4):
        for q in range(r + 1, 4):
            assert not sets[r] & sets[q]
    assert set().union(*sets) == set(range(64))


def test_start_batch_resumes_mid_epoch() -> None:
    lengths = _lengths()
    s = DistributedBucketSampler(lengths, batch_size=4, num_replicas=2, rank=1, seed=3)
    s.set_epoch(2)
    full = list(s)
    s.set_epoch(2, start_batch=5)
    assert list(s) == full[5:]
    assert len(s) == len(full) - 5


def test_no_shuffle_is_length_sorted_bucket_order() -> None:
    lengths = [3, 1, 2, 300, 100, 200]
    s = DistributedBucketSampler(lengths, batch_size=3, shuffle=False, boundaries=[10])
    assert list(s) == [[0, 1, 2], [3, 4, 5]]


def test_default_boundaries_follow_the_distribution() -> None:
    lengths = list(range(1, 101))
    bounds = default_boundaries(lengths, batch_size=10, max_buckets=4)
    assert bounds == [25, 50, 75]
    assert default_boundaries([7] * 50, batch_size=4) == [7]


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="rank"):
        DistributedBucketSampler([1, 2], 1, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="increasing"):
        DistributedBucketSampler([1, 2], 1, boundaries=[5, 5])
    with pytest.raises(ValueError, match="empty"):
        DistributedBucketSampler([], 1)


# -- frame budget ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("world", [1, 3])
def test_frame_budget_bounds_every_batch_and_keeps_every_item(world: int) -> None:
    lengths = _lengths()
    budget = 6000
    shards = _all_ranks(lengths, world, epoch=2, batch_size=8, seed=5, max_frames=budget)
    assert len({len(s) for s in shards}) == 1
    s0 = DistributedBucketSampler(lengths, 8, world, 0, seed=5, max_frames=budget)
    assert len(shards[0]) == len(s0) == s0.batches_per_rank
    for shard in shards:
        for batch in shard:
            assert 1 <= len(batch) <= 8 and len(batch) * max(lengths[i] for i in batch) <= budget
    seen = Counter(i for shard in shards for batch in shard for i in batch)
    assert set(seen) == set(range(len(lengths)))
    # long clips come in smaller batches, short ones still fill batch_size
    assert min(s0.bucket_batch_sizes) == budget // max(lengths) and max(s0.bucket_batch_sizes) == 8


def test_without_a_budget_the_plan_is_unchanged() -> None:
    lengths = _lengths()
    plain = DistributedBucketSampler(lengths, 4, seed=3)
    generous = DistributedBucketSampler(lengths, 4, seed=3, max_frames=4 * max(lengths))
    assert plain.epoch_batches(1) == generous.epoch_batches(1)


def test_an_item_over_the_budget_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(ValueError, match=r"1 items are longer than the frame budget max_frames=100 \(the longest has 101"):
        DistributedBucketSampler([10, 101, 50], 2, max_frames=100)
    with pytest.raises(ValueError, match="longer than the frame budget"):
        sequential_batches([10, 101], 2, max_frames=100)


def test_sequential_batches_keep_order_within_the_budget() -> None:
    lengths = [10, 10, 10, 40, 10, 90, 5, 5]
    assert sequential_batches(lengths, 3) == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert sequential_batches(lengths, 3, max_frames=90) == [[0, 1, 2], [3, 4], [5], [6, 7]]
