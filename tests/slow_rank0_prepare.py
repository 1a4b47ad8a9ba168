"""Test helper: one rank of a gloo group whose rank 0 preprocesses slowly (or fails), under a short timeout.

    RANK=r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=p python tests/slow_rank0_prepare.py CONFIG MODE

Joins the group with ``init_distributed`` and a collective timeout of ``TIMEOUT_S`` seconds, then calls the
trainer's :func:`melo.train.data.prepare_data`, rank 0's preprocessing first sleeping ``SLOW_S`` seconds (more
than the timeout). ``MODE`` ``slow``: the run goes on, proved by an all-reduce; prints ``rank R ok``.
``MODE`` ``fail``: rank 0's preprocessing raises a data error; prints ``rank R error: MESSAGE``.
``MODE`` ``die``: rank 0 dies while preprocessing (exit status 1, nothing published, its store closed); rank 1
prints ``rank 1 error: MESSAGE``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for ``import melo``

import melo.data.preprocess  # noqa: E402
from melo.config import load_config  # noqa: E402
from melo.distributed import init_distributed  # noqa: E402
from melo.train.data import prepare_data  # noqa: E402
from melo.train.errors import TrainingError  # noqa: E402

TIMEOUT_S = 2.0
SLOW_S = 6.0


def main() -> None:
    config_path, mode = sys.argv[1], sys.argv[2]
    dist_ctx = init_distributed("cpu", timeout_minutes=TIMEOUT_S / 60)
    real_prepare = melo.data.preprocess.prepare

    def slow_prepare(*args, **kwargs):  # type: ignore[no-untyped-def]
        if dist_ctx.is_main:
            time.sleep(SLOW_S)
            if mode == "die":
                os._exit(1)
            if mode == "fail":
                raise melo.data.preprocess.DataError("train_list.txt:3: broken row (injected)")
        return real_prepare(*args, **kwargs)

    melo.data.preprocess.prepare = slow_prepare
    try:
        prepared = prepare_data(load_config(config_path), 1, dist_ctx)
        total = torch.tensor([float(prepared.report.good["train"])])
        dist.all_reduce(total)  # the group still works after the long wait
        print(f"rank {dist_ctx.rank} ok ({int(total.item())} training rows over the group)", flush=True)
    except TrainingError as e:
        print(f"rank {dist_ctx.rank} error: {e}", flush=True)
    finally:
        dist_ctx.close()


if __name__ == "__main__":
    main()
