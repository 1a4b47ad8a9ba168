"""Test helper: run Python with checkpoint writes of one file name dying halfway (crash-safety tests).

    python tests/kill_during_save.py FILE_NAME -m MODULE [ARGS...]
    python tests/kill_during_save.py FILE_NAME -c CODE

Runs ``MODULE`` (as ``python -m`` would) or ``CODE`` after wrapping :func:`melo.checkpoint.atomic_save`: when
it writes a file named ``FILE_NAME``, half of the file's bytes go into the temporary copy, which is flushed
and fsync'ed, and the process then kills itself with SIGKILL (as a power cut or the OOM killer would).
"""

from __future__ import annotations

import io
import os
import runpy
import signal
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for ``import melo``

import melo.checkpoint  # noqa: E402
from melo.files import atomic_write  # noqa: E402


def install(file_name: str) -> None:
    real = melo.checkpoint.atomic_save

    def dying_save(obj: Any, path: str | Path) -> None:
        if Path(path).name != file_name:
            return real(obj, path)
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        data = buffer.getvalue()

        def write_half_then_die(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                f.write(data[: len(data) // 2])
                f.flush()
                os.fsync(f.fileno())
            os.kill(os.getpid(), signal.SIGKILL)

        atomic_write(path, write_half_then_die)

    melo.checkpoint.atomic_save = dying_save


def main() -> None:
    file_name, flag, target, *rest = sys.argv[1:]
    install(file_name)
    if flag == "-m":
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    elif flag == "-c":
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
    else:
        raise SystemExit(f"usage: {sys.argv[0]} FILE_NAME (-m MODULE [ARGS...] | -c CODE)")


if __name__ == "__main__":
    main()
