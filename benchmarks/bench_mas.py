"""Monotonic alignment search: the vectorised torch version against a straightforward per-item double loop
(the algorithm of VITS's Cython/numba kernel, here in plain Python + numpy), same inputs, same results.

Run: python benchmarks/bench_mas.py  -> benchmarks/results/model_mas.md
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from melo.model.alignment import maximum_path  # noqa: E402

THREADS = int(os.environ.get("MELO_BENCH_THREADS", "2"))
SHAPES = [(2, 400, 101), (6, 400, 101), (2, 1000, 251)]  # (batch, frames, text positions)


def reference(scores: np.ndarray, spec_lengths: list[int], text_lengths: list[int]) -> np.ndarray:
    neg = np.float32(-1e9)
    value = scores.astype(np.float32).copy()
    path = np.zeros(scores.shape, dtype=np.float32)
    for b in range(scores.shape[0]):
        v, t_y, t_x = value[b], spec_lengths[b], text_lengths[b]
        for y in range(t_y):
            for x in range(max(0, t_x + y - t_y), min(t_x, y + 1)):
                stay = neg if x == y else v[y - 1, x]
                advance = (np.float32(0.0) if y == 0 else neg) if x == 0 else v[y - 1, x - 1]
                v[y, x] = v[y, x] + max(advance, stay)
        index = t_x - 1
        for y in range(t_y - 1, -1, -1):
            path[b, y, index] = 1
            if index != 0 and (index == y or v[y - 1, index] < v[y - 1, index - 1]):
                index -= 1
    return path


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(THREADS)
    g = torch.Generator().manual_seed(0)
    lines = [
        f"## Monotonic alignment search ({THREADS} threads)",
        "",
        "| batch x frames x text | torch, vectorised (ms) | Python double loop (ms) | speed-up | identical paths |",
        "|---|---:|---:|---:|---|",
    ]
    for b, t_spec, t_text in SHAPES:
        spec_lengths = [t_spec] + torch.randint(t_spec // 2, t_spec + 1, (b - 1,), generator=g).tolist()
        text_lengths = [t_text] + torch.randint(t_text // 2, t_text + 1, (b - 1,), generator=g).tolist()
        scores = torch.randn(b, t_spec, t_text, generator=g) * 10 - 100
        mask = ((torch.arange(t_spec).view(1, -1, 1) < torch.tensor(spec_lengths).view(-1, 1, 1))
                & (torch.arange(t_text).view(1, 1, -1) < torch.tensor(text_lengths).view(-1, 1, 1))).float()
        maximum_path(scores, mask)  # warm-up
        fast = timed(lambda: maximum_path(scores, mask), 7)
        slow = timed(lambda: reference(scores.numpy(), spec_lengths, text_lengths), 1)
        same = np.array_equal(maximum_path(scores, mask).numpy(), reference(scores.numpy(), spec_lengths, text_lengths))
        lines.append(f"| {b} x {t_spec} x {t_text} | {fast * 1e3:.1f} | {slow * 1e3:.0f} | {slow / fast:.1f}x | {same} |")
    load = os.getloadavg()
    lines += ["", f"Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}. MeloTTS instead copies the "
              "scores to the CPU and runs a numba loop every step (numba is not installed here, so it is not timed)."]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "model_mas.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
