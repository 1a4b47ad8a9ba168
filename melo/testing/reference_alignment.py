"""The classic monotonic alignment search of VITS, written as its per-item double loop in plain Python + numpy.

Slow on purpose: it is the reference that :func:`melo.model.alignment.maximum_path` is checked against (tests
and ``benchmarks/bench_mas.py``), in float32 like the original numba/Cython kernels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["reference_maximum_path"]

_IMPOSSIBLE = np.float32(-1e9)


def reference_maximum_path(scores: np.ndarray, spec_lengths: list[int], text_lengths: list[int]) -> np.ndarray:
    """The hard alignment (B, T_spec, T_text) of 0/1 maximising the summed ``scores`` of each item's valid
    ``spec_lengths[b] x text_lengths[b]`` corner along a monotonic path that starts at (0, 0), ends at the corner's
    last cell and advances one text position at most per frame."""
    value = scores.astype(np.float32).copy()
    path = np.zeros(scores.shape, dtype=np.float32)
    for b in range(scores.shape[0]):
        v, t_y, t_x = value[b], spec_lengths[b], text_lengths[b]
        for y in range(t_y):
            for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
                stay = _IMPOSSIBLE if x == y else v[y - 1, x]
                if x == 0:
                    advance = np.float32(0.0) if y == 0 else _IMPOSSIBLE
                else:
                    advance = v[y - 1, x - 1]
                v[y, x] = v[y, x] + max(advance, stay)
        index = t_x - 1
        for y in range(t_y - 1, -1, -1):
            path[b, y, index] = 1
            if index != 0 and (index == y or v[y - 1, index] < v[y - 1, index - 1]):
                index -= 1
    return path
