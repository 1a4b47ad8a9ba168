"""Process-group setup for training: one process, or one per device under ``torchrun``.

``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT`` in each
worker's environment; when they are present we join the group it describes (NCCL on CUDA, gloo on
CPU), so multi-node training works through torchrun's own ``--nnodes``/``--rdzv-*`` flags. Without
them the run is a single process and every collective below is a no-op.

Collectives time out (``timeout_minutes``, 30 by default: NCCL's watchdog aborts a rank stuck in one). Waits
of unknown length, such as the other ranks waiting for rank 0's preprocessing of a large dataset, go through
the rendezvous key-value store instead (:meth:`Distributed.publish` / :meth:`Distributed.wait_for_main`):
polling a key never times out, and reaches every node without a shared filesystem. A rank 0 about to stop
after publishing waits (briefly) until the others have read its word (:meth:`Distributed.wait_for_readers`):
launched without torchrun's agent, rank 0 hosts the store, and its exit would close it under them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import torch
import torch.distributed as dist

__all__ = ["DeviceChoice", "Distributed", "RendezvousLost", "init_distributed"]

logger = logging.getLogger(__name__)

DeviceChoice = Literal["auto", "cpu", "cuda"]


class RendezvousLost(RuntimeError):
    """The rendezvous store went away while a rank waited for rank 0's word (rank 0 stopped)."""


@dataclass(frozen=True)
class Distributed:
    """This process's place in the job, and the few collectives the trainer needs."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str | None
    """``"nccl"``/``"gloo"`` when a process group is up, ``None`` for a single process."""
    store: Any = field(default=None, repr=False, compare=False)
    """The rendezvous key-value store (a ``torch.distributed.Store``, keys under ``melo/``) when a group is up."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier(device_ids=[self.local_rank]) if self.backend == "nccl" else dist.barrier()

    def any_true(self, flag: bool) -> bool:
        """True when ``flag`` is true on any rank (e.g. a stop request seen by one process). One all-reduce and
        one host read under a process group; free for one process."""
        if not self.enabled:
            return flag
        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0.5)

    def publish(self, key: str, value: str) -> None:
        """Rank 0: set ``key`` in the rendezvous store for :meth:`wait_for_main` (a no-op for one process)."""
        if self.enabled:
            self.store.set(key, value)

    def wait_for_main(self, key: str, poll_seconds: float = 1.0, log_every_seconds: float = 300.0) -> str | None:
        """Wait, with no time limit, until rank 0 has published ``key``; return its value (``None`` for one
        process) and count this rank as a reader of it (:meth:`wait_for_readers`). Holds no collective open, so
        nothing times out however long rank 0 takes; if rank 0 dies, torchrun stops the other ranks, and
        without torchrun the closed store raises :class:`RendezvousLost`."""
        if not self.enabled:
            return None
        started = last_log = time.monotonic()
        try:
            while not self.store.check([key]):
                time.sleep(poll_seconds)
                if time.monotonic() - last_log >= log_every_seconds:
                    last_log = time.monotonic()
                    logger.info("rank %d: waiting for rank 0 (%s), %.0f min so far", self.rank, key,
                                (last_log - started) / 60)
            value = self.store.get(key).decode("utf-8")
            self.store.add(_readers_key(key), 1)
        except dist.DistError as e:
            raise RendezvousLost(f"rank {self.rank} lost the rendezvous store while waiting for rank 0 ({key}): "
                                 f"rank 0 stopped; see its log ({type(e).__name__})") from None
        return value

    def wait_for_readers(self, key: str, timeout_seconds: float = 60.0, poll_seconds: float = 0.1) -> bool:
        """Rank 0: wait until every other rank has read ``key`` through :meth:`wait_for_main`, at most
        ``timeout_seconds``; whether they all did (True for one process). For a rank 0 about to stop after
        publishing why: its exit may close the store before the others have read the reason."""
        if not self.enabled:
            return True
        deadline = time.monotonic() + timeout_seconds
        while self.store.add(_readers_key(key), 0) < self.world_size - 1:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll_seconds)
        return True

    def gather_to_main(self, obj: Any) -> list[Any] | None:
        """Every rank's ``obj`` on rank 0 (in rank order); ``None`` on the other ranks."""
        if not self.enabled:
            return [obj]
        out: list[Any] | None = [None] * self.world_size if self.is_main else None
        dist.gather_object(obj, out, dst=0)
        return out

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()


def _readers_key(key: str) -> str:
    """The store counter of the ranks that have read ``key``."""
    return f"{key}/readers"


def init_distributed(device: DeviceChoice = "auto", timeout_minutes: float = 30.0) -> Distributed:
    """Resolve the device and, under torchrun, join the process group.

    ``auto`` picks CUDA when available. Under torchrun on CUDA each process uses ``cuda:LOCAL_RANK``
    (of the devices ``CUDA_VISIBLE_DEVICES`` exposes).
    """
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu or cuda")
    use_cuda = torch.cuda.is_available() if device == "auto" else device == "cuda"
    if use_cuda and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was requested but torch sees no CUDA device")

    launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))

    if use_cuda:
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA devices are visible "
                f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>')})"
            )
        torch.cuda.set_device(local_rank)
        resolved = torch.device("cuda", local_rank)
    else:
        resolved = torch.device("cpu")

    backend = None
    store = None
    if launched and world_size > 1:
        backend = "nccl" if use_cuda else "gloo"
        timeout = timedelta(minutes=timeout_minutes)
        # What init_process_group(init_method="env://") does, keeping the store for publish/wait_for_main.
        rendezvous_store, rank, world_size = next(dist.rendezvous("env://", timeout=timeout))
        rendezvous_store.set_timeout(timeout)
        kwargs: dict[str, Any] = {"backend": backend, "timeout": timeout, "rank": rank, "world_size": world_size,
                                  "store": dist.PrefixStore("default_pg", rendezvous_store)}
        if use_cuda:
            kwargs["device_id"] = resolved
        dist.init_process_group(**kwargs)
        store = dist.PrefixStore("melo", rendezvous_store)
        logger.info("joined process group: rank %d of %d (%s, %s)", rank, world_size, backend, resolved)
    return Distributed(rank=rank, world_size=world_size if backend else 1, local_rank=local_rank,
                       device=resolved, backend=backend, store=store)
