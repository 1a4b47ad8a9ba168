"""Run preprocessing's cache jobs in-process or in a pool of spawned worker processes, with a progress bar."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from typing import Any, Sequence

from melo.data.cache_jobs import AudioJob, TextJob

__all__ = ["run_jobs"]


def run_jobs(jobs: Sequence[AudioJob | TextJob], workers: int, progress: bool, min_parallel: int) -> list[dict[str, Any]]:
    """Each job's result, in order. Fewer than ``min_parallel`` jobs (or ``workers <= 1``) run in-process: a
    spawned worker first pays seconds of start-up (torch and the language backends)."""
    if not jobs:
        return []
    from tqdm import tqdm

    bar = dict(total=len(jobs), desc="preprocess", unit="item", disable=not progress)
    if workers <= 1 or len(jobs) < min_parallel:
        return [job.run() for job in tqdm(jobs, **bar)]
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init) as pool:
        chunk = max(1, min(16, len(jobs) // (4 * workers)))
        return list(tqdm(pool.map(_run, jobs, chunksize=chunk), **bar))


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _run(job: AudioJob | TextJob) -> dict[str, Any]:
    return job.run()
