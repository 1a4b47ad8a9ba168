"""A fixture for tests that give a FIFO (named pipe) where a file is expected: code that wrongly opens it
for reading would block forever; this writer lets such a reader through (it reads an empty file), so the
test fails on its assertions instead of hanging the suite."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Iterator

import pytest


@pytest.fixture()
def unblock_fifo_readers(tmp_path: Path) -> Iterator[None]:
    """Open and close, for writing, every FIFO under ``tmp_path`` whenever a reader waits on one."""
    stop = threading.Event()

    def poke() -> None:
        while not stop.wait(0.2):
            for fifo in (p for p in tmp_path.rglob("*") if stat.S_ISFIFO(p.lstat().st_mode)):
                try:
                    os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                except OSError:
                    pass  # no reader waiting

    thread = threading.Thread(target=poke, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()
