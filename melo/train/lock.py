"""The run lock: one training run per checkpoint folder at a time.

``checkpoints/NAME/run.lock`` is held (an exclusive ``flock``) from before anything is written until the run
ends, on a fresh run and on ``--resume`` alike. It holds ``{"pid", "host", "started"}`` of the holder, so a
second run on the same folder is refused with who holds it. The kernel drops a ``flock`` when its process
dies however it dies (``kill -9`` included), so a lock file left behind by a dead run is free: the next run
takes it over with a warning naming the dead holder. Where the file system has no ``flock`` (some network
mounts), the holder's pid is checked instead when it ran on this host.

Only rank 0 of a DDP run takes the lock; the other ranks learn the outcome collectively.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from melo.distributed import Distributed
from melo.train.errors import TrainingError

__all__ = ["LOCK_NAME", "RunLock", "acquire_run_lock", "hold_run_lock"]

logger = logging.getLogger(__name__)

LOCK_NAME = "run.lock"


@dataclass
class RunLock:
    """A held lock; :meth:`release` removes the file and frees it (idempotent)."""

    path: Path
    fd: int | None
    created_dir: bool
    """The checkpoint folder did not exist before the lock made it (removed again on release when empty)."""

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)  # closing drops the flock
            self.fd = None
        if self.created_dir:
            try:
                self.path.parent.rmdir()  # only when the run wrote nothing else
            except OSError:
                pass


def acquire_run_lock(ckpt_dir: Path) -> RunLock:
    """Take ``ckpt_dir/run.lock`` or raise :class:`TrainingError` naming its holder."""
    created = not ckpt_dir.exists()
    path = ckpt_dir / LOCK_NAME
    for _ in range(3):  # a holder that releases (and unlinks) between our open and flock: open again
        try:
            ckpt_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise TrainingError(f"{ckpt_dir}: cannot create the run lock ({e.strerror or e})") from None
        locked = _try_flock(fd)
        if locked is not True or _same_file(fd, path):
            break
        os.close(fd)
    try:
        previous = _read_holder(fd)
        if locked is False or (locked is None and previous is not None and _alive_here(previous)):
            raise TrainingError(
                f"{ckpt_dir} is in use by another training run ({_describe(previous)}; lock file {path}); wait for "
                f"it to finish or stop it, or choose another --model name"
            )
        if previous is not None and previous.get("pid") != os.getpid():
            logger.warning("%s: taking over a stale run lock from %s (that process is no longer running)",
                           path, _describe(previous))
        _write_holder(fd)
    except BaseException:
        os.close(fd)
        raise
    return RunLock(path=path, fd=fd, created_dir=created)


def hold_run_lock(ckpt_dir: Path, dist_ctx: Distributed) -> RunLock | None:
    """:func:`acquire_run_lock` on rank 0; every rank raises when rank 0 could not take it."""
    lock: RunLock | None = None
    error: TrainingError | None = None
    if dist_ctx.is_main:
        try:
            lock = acquire_run_lock(ckpt_dir)
        except TrainingError as e:
            error = e
    if dist_ctx.any_true(error is not None):
        if error is not None:
            raise error
        raise TrainingError(f"rank 0 could not lock {ckpt_dir} (see its log)")
    return lock


# -- internals --------------------------------------------------------------------------------------

def _try_flock(fd: int) -> bool | None:
    """True: locked; False: another process holds it; None: the file system has no flock."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as e:
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        if e.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
            return None
        raise


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _read_holder(fd: int) -> dict[str, Any] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 4096):
        raw += chunk
    if not raw.strip():
        return None
    try:
        holder = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {"unreadable": raw[:80].decode("utf-8", "replace")}
    return holder if isinstance(holder, dict) else {"unreadable": str(holder)[:80]}


def _write_holder(fd: int) -> None:
    holder = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    data = (json.dumps(holder) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)
    os.fsync(fd)


def _alive_here(holder: dict[str, Any]) -> bool:
    """Whether the holder runs on this host; a holder on another host counts as alive (it cannot be checked)."""
    if holder.get("host") != socket.gethostname():
        return True
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "holder unknown"
    if "unreadable" in holder:
        return f"holder unreadable: {holder['unreadable']!r}"
    return f"pid {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started')}"
