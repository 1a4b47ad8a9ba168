"""Monotonic alignment search at a training step's shapes (B=6, 400-1000 frames): the previous torch version,
the current one (both of its backtracks), a blocked-DP candidate, and MeloTTS's numba kernel, same inputs,
in one run.

Columns: median time per call on this machine's CPU; torch kernels dispatched per call (views excluded),
the device-independent count of GPU kernel launches (on a GPU each costs ~5-10 us of launch overhead,
so the small per-frame kernels are what a GPU pays for); host reads per call (``.item()``/``bool()``/
``nonzero``/boolean-mask indexing: each makes a GPU step wait); and whether the path equals the classic
per-item double loop's (VITS's algorithm in numpy: ``melo.testing.reference_alignment``).

* ``previous``: melo/model/alignment.py as it was before the "no host syncs" change (kept below verbatim):
  the same DP, one boolean-mask write (a host sync) and a backtrack of two kernels per frame.
* ``current, CPU backtrack``: what ``maximum_path`` runs on CPU (a gather per frame).
* ``current, CUDA backtrack``: what ``maximum_path`` runs on CUDA (pointer doubling, ~2 log2 T kernels), timed
  here on the CPU.
* ``blocked DP``: a candidate that was measured and not adopted: the DP in chunks of K frames (band
  "products" in the (max, +) semiring built for all chunks at once, a sequential pass over the chunks, a
  refill), ~7K + 4T/K kernels instead of 2T, but ~K times the arithmetic, and float sums in another order,
  so its paths differ from the reference's on near-ties.
* ``MeloTTS numba``: MeloTTS's ``melo/monotonic_align`` (a copy to host, the numba loop, a copy back). Not part
  of this project: set ``MELOTTS_DIR`` to a MeloTTS checkout (e.g. a clone of myshell-ai/MeloTTS outside this
  repository) and ``pip install numba``; without them the row says so.

GPU numbers are not measured here (no GPU on this machine); ``scripts/gpu_check.sh`` runs this benchmark on
CUDA scores (``--device cuda``).

Run: python benchmarks/bench_mas.py [--device cuda]  -> benchmarks/results/model_mas.md
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from melo.model import alignment  # noqa: E402
from melo.testing.reference_alignment import reference_maximum_path  # noqa: E402

THREADS = int(os.environ.get("MELO_BENCH_THREADS", "2"))
SHAPES = [(6, 400, 101), (6, 700, 176), (6, 1000, 251)]  # (batch, frames, text positions): ~4 frames per position
BLOCK = 24  # frames per chunk of the blocked DP (about sqrt(4 T / 7) at T = 1000)
NEG = -1e9
SYNC_OPS = {"aten._local_scalar_dense.default", "aten.nonzero.default", "aten.masked_select.default"}


# -- the previous implementation (verbatim, for the before/after comparison) -------------------------------

@torch.no_grad()
def previous_maximum_path(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    b, t_spec, t_text = scores.shape
    device = scores.device
    spec_lengths = mask[:, :, 0].sum(1).long()
    text_lengths = mask[:, 0, :].sum(1).long()
    frames = torch.arange(t_spec, device=device).view(t_spec, 1)
    positions = torch.arange(t_text, device=device).view(1, t_text)
    value = torch.full((b, t_spec, t_text + 1), NEG, device=device, dtype=torch.float32)
    value[:, :, 1:] = torch.where(positions > frames, NEG, scores.float())
    for y in range(1, t_spec):
        prev = value[:, y - 1]
        value[:, y, 1:] += torch.maximum(prev[:, :-1], prev[:, 1:])
    value = value[:, :, 1:]
    step_back = torch.zeros(b, t_spec, t_text, dtype=torch.long, device=device)
    forced = (positions == frames)[1:]
    step_back[:, 1:, 1:] = ((value[:, :-1, 1:] < value[:, :-1, :-1]) | forced[:, 1:]).long()
    step_back[frames.view(1, t_spec) >= spec_lengths.view(b, 1)] = 0
    index = (text_lengths - 1).view(b, 1)
    path_index = []
    for y in range(t_spec - 1, -1, -1):
        path_index.append(index)
        index = index - step_back[:, y].gather(1, index)
    path_index = torch.cat(path_index[::-1], dim=1)
    path = torch.zeros(b, t_spec, t_text, device=device, dtype=torch.float32)
    path.scatter_(2, path_index.unsqueeze(-1), 1.0)
    return path * (frames.view(1, t_spec, 1) < spec_lengths.view(b, 1, 1))


# -- a candidate: the DP in blocks of frames ------------------------------------------------------------------

@torch.no_grad()
def blocked_maximum_path(scores: torch.Tensor, mask: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """The DP of ``K = block`` frames at a time: for every chunk at once, the best score from each position at
    the chunk's start to each position at its end ("advanced i times", a band of K + 1 diagonals); then a
    pass over the chunks carries the row vector; then every chunk's rows are refilled from its start vector.
    The decision table and backtrack are the current ones."""
    b, t_spec, t_text = scores.shape
    device = scores.device
    frames = torch.arange(t_spec, device=device).view(t_spec, 1)
    positions = torch.arange(t_text, device=device).view(1, t_text)
    s = torch.where(positions > frames, NEG, scores.float())
    rows = t_spec - 1
    chunks = max(1, -(-rows // block))
    body = F.pad(s[:, 1:], (0, 0, 0, chunks * block - rows)).view(b, chunks, block, t_text)
    # band[b, c, x, i]: best sum over the chunk's rows of a path ending at x that advanced K - i times
    band = torch.full((b, chunks, t_text, block + 1), NEG, device=device)
    band[..., block] = 0.0
    for r in range(block):
        advanced = F.pad(band[:, :, :-1, 1:], (0, 1, 1, 0), value=NEG)
        band = body[:, :, r].unsqueeze(-1) + torch.maximum(band, advanced)
    starts = torch.empty(b, chunks, t_text, device=device)
    v = s[:, 0]
    for c in range(chunks):
        starts[:, c] = v
        window = F.pad(v, (block, 0), value=NEG).unfold(1, block + 1, 1)  # window[x, i] = v[x - (K - i)]
        v = (window + band[:, c]).amax(-1)
    value = torch.empty(b, chunks, block, t_text, device=device)
    prev = starts
    for r in range(block):
        advanced = F.pad(prev[..., :-1], (1, 0), value=NEG)
        prev = torch.add(body[:, :, r], torch.maximum(prev, advanced), out=value[:, :, r])
    value = torch.cat([s[:, :1], value.view(b, chunks * block, t_text)[:, :rows]], dim=1)
    spec_lengths = mask[:, :, 0].sum(1).long()
    text_lengths = mask[:, 0, :].sum(1).long()
    path_index = alignment._backtrack_by_frames(alignment._decisions(value, spec_lengths), text_lengths - 1)
    path = torch.zeros(b, t_spec, t_text, device=device)
    path.scatter_(2, path_index.unsqueeze(-1), 1.0)
    return path * (frames.view(1, t_spec, 1) < spec_lengths.view(b, 1, 1))


# -- MeloTTS (optional, from a checkout outside this repository) ----------------------------------------------

def melotts_maximum_path() -> tuple[Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None, str]:
    folder = os.environ.get("MELOTTS_DIR")
    if not folder:
        return None, "not measured: set MELOTTS_DIR to a MeloTTS checkout (and pip install numba)"
    sys.path.insert(0, str(Path(folder) / "melo"))  # its melo/monotonic_align package, imported on its own
    try:
        module = importlib.import_module("monotonic_align")
    except ImportError as e:
        return None, f"not measured: {e}"
    return module.maximum_path, "measured"


# -- the measurements -------------------------------------------------------------------------------------------

class KernelCounter(TorchDispatchMode):
    """Counts dispatched torch ops that run a kernel (views excluded) and the ones that read back to the host."""

    def __init__(self) -> None:
        super().__init__()
        self.kernels = 0
        self.syncs = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = str(func)
        boolean_index = name.startswith(("aten.index.Tensor", "aten.index_put")) and any(
            t is not None and t.dtype == torch.bool for t in args[1])
        if name in SYNC_OPS or boolean_index:
            self.syncs += 1
        if not func.is_view:
            self.kernels += 1
        return func(*args, **(kwargs or {}))


def timed_round_robin(calls: dict[str, Callable[[], object]], repeats: int, device: torch.device) -> dict[str, float]:
    """Median seconds per call of each function, timed in turns (one call of each per round), so that the load of a
    shared machine, which drifts over minutes, weighs on every implementation alike."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, fn in calls.items():
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="where the scores live (cpu, cuda)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "model_mas.md")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.set_num_threads(THREADS)
    melotts, melotts_status = melotts_maximum_path()
    candidates: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
        "previous": previous_maximum_path,
        "current, CPU backtrack": lambda s, m: alignment._maximum_path(s, m, alignment._backtrack_by_frames),
        "current, CUDA backtrack": lambda s, m: alignment._maximum_path(s, m, alignment._backtrack_by_doubling),
        f"blocked DP (K={BLOCK})": blocked_maximum_path,
    }
    if melotts is not None:
        candidates["MeloTTS numba"] = melotts
    where = "CPU" if device.type == "cpu" else torch.cuda.get_device_name(device)
    lines = [
        f"## Monotonic alignment search ({where}, {THREADS} threads)",
        "",
        "| batch x frames x text | implementation | ms per call | vs previous | kernels per call | host reads per call "
        "| identical to reference |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    g = torch.Generator().manual_seed(0)
    for b, t_spec, t_text in SHAPES:
        spec_lengths = [t_spec] + torch.randint(t_spec // 2, t_spec + 1, (b - 1,), generator=g).tolist()
        text_lengths = [t_text] + [min(n // 4, t_text) for n in spec_lengths[1:]]
        scores = (torch.randn(b, t_spec, t_text, generator=g) * 10 - 100).to(device)
        mask = ((torch.arange(t_spec).view(1, -1, 1) < torch.tensor(spec_lengths).view(-1, 1, 1))
                & (torch.arange(t_text).view(1, 1, -1) < torch.tensor(text_lengths).view(-1, 1, 1))).float().to(device)
        expected = reference_maximum_path(scores.cpu().numpy(), spec_lengths, text_lengths)
        checked = {}
        for name, fn in candidates.items():
            path = fn(scores, mask)  # warm-up (and numba's compilation)
            counter = KernelCounter()
            with counter:
                fn(scores, mask)
            checked[name] = (counter, np.array_equal(path.float().cpu().numpy(), expected))
        seconds = timed_round_robin({name: (lambda fn=fn: fn(scores, mask)) for name, fn in candidates.items()},
                                    args.repeats, device)
        baseline = seconds["previous"]
        for name, (counter, same) in checked.items():
            kernels = "-" if name == "MeloTTS numba" else str(counter.kernels)
            reads = "-" if name == "MeloTTS numba" else str(counter.syncs)
            lines.append(f"| {b} x {t_spec} x {t_text} | {name} | {seconds[name] * 1e3:.1f} | "
                         f"{baseline / seconds[name]:.2f}x | {kernels} | {reads} | {same} |")
    load = os.getloadavg()
    lines += [
        "",
        f"Load average at the end: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (a shared machine: times move with it; "
        "the kernel and host-read counts do not). MeloTTS numba: " + melotts_status + " (its time includes the "
        "copy to and from the host, trivial on CPU)." + (" GPU times were not measured on this machine."
                                                          if device.type == "cpu" else ""),
    ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
