"""Dynamic time warping in numpy, vectorised over anti-diagonals and over many candidates at once.

Local cost ``d(i, j)`` = Euclidean distance between frame ``i`` of the query and frame ``j`` of the
candidate; the diagonal step weighs ``w``::

    D(0, 0) = w d(0, 0)
    D(i, j) = min( D(i-1, j-1) + w d(i, j),   D(i-1, j) + d(i, j),   D(i, j-1) + d(i, j) )

* ``w = 2`` (Sakoe-Chiba ``symmetric2``) for comparing candidates (:class:`CandidateBank`): every complete
  path's weights sum to ``N + M``, so ``D(N-1, M-1) / (N + M)`` is a length-normalised cost that compares
  candidates of different lengths fairly;
* ``w = 1`` (``symmetric1``) for the frame pairing of :func:`align`: every step costs its distance once, so
  a diagonal step is cheaper than a detour and the path stays near the diagonal where frames look alike
  (a stationary vowel, a noisy stretch), instead of wandering at no cost as it may with ``w = 2``.

Speed: the cells of one anti-diagonal (``i + j = const``) depend only on the two anti-diagonals before it,
so each is a few elementwise numpy operations, over the query frames and over all candidates at once
(candidates are padded to the longest with +inf costs; a padded cell never feeds a real one, since steps
only go forward). The batched costs are float32 (the accumulated sums of a 5 s pair keep ~6 significant
digits, plenty to rank candidates); :func:`align` works in float64 with exact distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Alignment", "CandidateBank", "align", "pairwise_distances"]

_FRAMES_PER_CHUNK = 20_000  # candidates x their padded length per batch: ~60 MB of float32 for 350-frame queries


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) -> (N, M) Euclidean distances, exact (0 for identical frames)."""
    from scipy.spatial.distance import cdist

    return cdist(a, b)


def _accumulate(cost: np.ndarray, diagonal_weight: int, workspace: np.ndarray | None = None) -> np.ndarray:
    """(N, M, K) local costs (+inf beyond each candidate's length) -> (N + M - 1, N, K) accumulated costs
    stored by anti-diagonal: ``out[i + j, i, k] = D_k(i, j)`` (+inf outside the grid). ``workspace``: a
    buffer of ``cost``'s dtype to reuse (fresh pages of a large array cost more than the sweep itself)."""
    if diagonal_weight not in (1, 2):
        raise ValueError(f"diagonal_weight must be 1 or 2, got {diagonal_weight}")
    n, m, k = cost.shape
    size = (n + m - 1) * n * k
    acc = (workspace[:size] if workspace is not None and workspace.size >= size else np.empty(size, cost.dtype))
    acc = acc.reshape(n + m - 1, n, k)
    acc.fill(np.inf)
    for i in range(n):  # lay row i of the grid along the anti-diagonals it crosses
        acc[i : i + m, i, :] = cost[i]
    acc[0, 0] *= diagonal_weight  # D(0, 0) = w d(0, 0)
    best = np.empty((n, k), dtype=acc.dtype)
    outside = np.full((n, k), np.inf, dtype=acc.dtype)  # "anti-diagonal -1"
    for d in range(1, n + m - 1):
        lo, hi = max(0, d - m + 1), min(d, n - 1)  # rows this anti-diagonal crosses
        local, last = acc[d], acc[d - 1]
        before_last = acc[d - 2] if d >= 2 else outside
        if lo == 0:  # row 0: horizontal steps only
            local[0] += last[0]
        first = max(lo, 1)
        if first <= hi:
            cell = slice(first, hi + 1)
            above = slice(first - 1, hi)
            out = best[: hi + 1 - first]
            if diagonal_weight == 2:  # diagonal step: D(i-1, j-1) + (w - 1) d(i, j), then + d(i, j) below
                np.add(before_last[above], local[cell], out=out)
            else:
                out[...] = before_last[above]
            np.minimum(out, last[above], out=out)  # vertical step from D(i-1, j)
            np.minimum(out, last[cell], out=out)  # horizontal step from D(i, j-1)
            local[cell] += out
    return acc


@dataclass(frozen=True)
class Alignment:
    """The best DTW path between a query (N frames) and a reference (M frames)."""

    query_frames: np.ndarray  # (L,) int: query frame of each path step, non-decreasing
    reference_frames: np.ndarray  # (L,) int
    mean_distance: float  # mean local distance over the path's steps


def align(query: np.ndarray, reference: np.ndarray) -> Alignment:
    """Best ``symmetric1`` path between ``query`` (N, D) and ``reference`` (M, D) frame features."""
    cost = pairwise_distances(query, reference)  # float64 throughout: identical inputs give the diagonal exactly
    n, m = cost.shape
    by_diagonal = _accumulate(cost[:, :, None], diagonal_weight=1)[:, :, 0]
    rows, columns = np.indices((n, m))
    acc = by_diagonal[rows + columns, rows]  # (N, M)
    i, j = n - 1, m - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:  # the predecessor with the smallest total; ties prefer the diagonal
            diagonal, up, left = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
            if diagonal <= up and diagonal <= left:
                i, j = i - 1, j - 1
            elif up <= left:
                i -= 1
            else:
                j -= 1
        path.append((i, j))
    steps = np.asarray(path[::-1], dtype=np.int64)
    return Alignment(steps[:, 0], steps[:, 1], float(acc[n - 1, m - 1] / steps.shape[0]))


class CandidateBank:
    """Candidates prepared once for many queries: sorted by length and stacked in padded chunks."""

    def __init__(self, candidates: Sequence[np.ndarray]) -> None:
        if not candidates:
            raise ValueError("no candidates to compare with")
        self.lengths = np.array([c.shape[0] for c in candidates], dtype=np.int64)
        if self.lengths.min() < 1:
            raise ValueError("a candidate has no frames")
        order = np.argsort(self.lengths, kind="stable")  # similar lengths side by side pad little
        self._chunks: list[_Chunk] = []
        start = 0
        while start < len(order):
            stop = start + 1  # lengths ascend: grow while (count x longest) fits
            while stop < len(order) and (stop + 1 - start) * self.lengths[order[stop]] <= _FRAMES_PER_CHUNK:
                stop += 1
            self._chunks.append(_Chunk.stack(order[start:stop], [candidates[i] for i in order[start:stop]]))
            start = stop
        self._workspace = np.empty(0, dtype=np.float32)

    def __len__(self) -> int:
        return self.lengths.shape[0]

    def normalised_costs(self, query: np.ndarray) -> np.ndarray:
        """Length-normalised DTW cost of ``query`` (N, D) against every candidate -> (K,), in input order."""
        n = query.shape[0]
        if n < 1:
            raise ValueError("the query has no frames")
        query32 = np.ascontiguousarray(query, dtype=np.float32)
        query_norms = (query32 * query32).sum(1)
        out = np.empty(len(self), dtype=np.float64)
        for chunk in self._chunks:
            m, k = chunk.padding.shape
            needed = (n + m - 1) * n * k
            if self._workspace.size < needed:
                self._workspace = np.empty(needed, dtype=np.float32)
            cost = query32 @ chunk.frames.T  # (N, M * K): every frame of every candidate in one product
            cost *= -2.0
            cost += query_norms[:, None]
            cost += chunk.norms[None, :]
            np.maximum(cost, 0.0, out=cost)
            np.sqrt(cost, out=cost)
            cost = cost.reshape(n, m, k)
            cost += chunk.padding
            acc = _accumulate(cost, diagonal_weight=2, workspace=self._workspace)
            ends = acc[n + chunk.lengths - 2, n - 1, np.arange(k)]  # D_k(N-1, M_k-1)
            out[chunk.members] = ends / (n + chunk.lengths)
        return out


@dataclass(frozen=True)
class _Chunk:
    members: np.ndarray  # (K,) indices into the bank's input order
    lengths: np.ndarray  # (K,) frames per candidate
    frames: np.ndarray  # (M * K, D) float32: frame j of candidate k at row j * K + k (zeros past its end)
    norms: np.ndarray  # (M * K,) squared norms of ``frames``
    padding: np.ndarray  # (M, K) float32: 0 for a real frame, +inf past the candidate's end

    @classmethod
    def stack(cls, members: np.ndarray, candidates: list[np.ndarray]) -> "_Chunk":
        lengths = np.array([c.shape[0] for c in candidates], dtype=np.int64)
        longest = int(lengths.max())
        frames = np.zeros((longest, len(candidates), candidates[0].shape[1]), dtype=np.float32)
        for column, candidate in enumerate(candidates):
            frames[: lengths[column], column] = candidate
        flat = frames.reshape(longest * len(candidates), -1)
        padding = np.where(np.arange(longest)[:, None] < lengths[None, :], 0.0, np.inf).astype(np.float32)
        return cls(members, lengths, flat, (flat * flat).sum(1), padding)
