"""The run lock of ``checkpoints/NAME``: a second run on a held folder is refused naming the holder (fresh and
``--resume``), a lock left by a dead process is taken over with a warning, and a finished run frees it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from melo.train.errors import TrainingError
from melo.train.lock import LOCK_NAME, acquire_run_lock
from test_train import _one_thread, _train, uninterrupted, workspace  # noqa: F401 -- fixtures


def _folder(ws: Path, name: str) -> Path:
    return ws / "checkpoints" / name


def test_fresh_run_on_a_held_folder_is_refused_naming_the_holder(workspace: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    lock = acquire_run_lock(_folder(workspace, "held_fresh"))  # another run holds it (same host, this pid)
    try:
        assert _train(workspace, "held_fresh", "--max-steps", "1") == 2
    finally:
        lock.release()
    assert f"is in use by another training run (pid {os.getpid()} on host {socket.gethostname()}, started 20" \
        in caplog.text
    assert not _folder(workspace, "held_fresh").exists()  # nothing written; the holder's release removed it


def test_resume_on_a_held_folder_is_refused_and_writes_nothing(workspace: Path, uninterrupted: str,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    folder = _folder(workspace, uninterrupted)
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    lock = acquire_run_lock(folder)
    try:
        assert _train(workspace, uninterrupted, "--resume", "--max-steps", "6") == 2
        assert "is in use by another training run" in caplog.text
    finally:
        lock.release()
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid is now free
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK_NAME).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                                "started": "2026-01-01T00:00:00Z"}))
    lock = acquire_run_lock(folder)
    try:
        assert f"taking over a stale run lock from pid {dead.pid} on host" in caplog.text
        holder = json.loads((folder / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid()
        with pytest.raises(TrainingError, match=f"pid {os.getpid()}"):
            acquire_run_lock(folder)  # held now
    finally:
        lock.release()
    acquire_run_lock(folder).release()  # released: free again, without a warning about a stale holder
    assert caplog.text.count("stale run lock") == 1


def test_a_finished_run_frees_its_lock(workspace: Path) -> None:
    assert _train(workspace, "lock_freed", "--max-steps", "1") == 0
    assert not (_folder(workspace, "lock_freed") / LOCK_NAME).exists()
    acquire_run_lock(_folder(workspace, "lock_freed")).release()


@pytest.mark.parametrize("name", ["", " ", ".", "..", "a/b"])
def test_model_name_that_is_not_a_folder_name_is_refused(name: str, capsys: pytest.CaptureFixture) -> None:
    from melo.train import parse_args

    with pytest.raises(SystemExit) as stop:
        parse_args(["--config", "c.json", "--model", name])
    assert stop.value.code == 2 and "--model must be a run name" in capsys.readouterr().err


def test_a_second_stop_signal_is_one_log_line_and_exit_130(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture,
                                                          capsys: pytest.CaptureFixture) -> None:
    """The loop's signal handler raises KeyboardInterrupt on a second SIGTERM/SIGINT; main turns it into one
    line (no traceback) and frees the run lock."""
    import melo.train.loop

    def interrupted(run: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(melo.train.loop, "train", interrupted)
    try:
        status = _train(workspace, "twice", "--max-steps", "1")
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped melo.train.main")
    assert status == 130
    assert "stopped at once by a second stop signal at step 0, without saving" in caplog.text
    assert "Traceback" not in caplog.text and "Traceback" not in capsys.readouterr().err
    assert not (_folder(workspace, "twice") / LOCK_NAME).exists()
