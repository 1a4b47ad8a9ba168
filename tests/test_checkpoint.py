"""melo.checkpoint: atomic writes, newest complete set, pruning, RNG round trip."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from melo import checkpoint as ck


def _write_set(folder: Path, step: int, value: float) -> None:
    ck.save_checkpoint_set(
        folder,
        step,
        generator={"w": torch.full((3,), value)},
        discriminators={"mpd": {"w": torch.full((2,), value)}},
        training={"epoch": 1, "batch_in_epoch": step, "optimizers": {}, "rng": [ck.capture_rng_state()]},
    )


def test_save_set_round_trips_with_weights_only(tmp_path: Path) -> None:
    _write_set(tmp_path, 10, 1.5)
    loaded = ck.load_latest_complete(tmp_path)
    assert loaded is not None and loaded.step == 10
    assert torch.equal(loaded.generator["w"], torch.full((3,), 1.5))
    assert torch.equal(loaded.discriminators["mpd"]["w"], torch.full((2,), 1.5))
    assert loaded.training["batch_in_epoch"] == 10
    for path in loaded.paths:  # every file loads under the safe unpickler
        torch.load(path, weights_only=True)


def test_newest_complete_set_skips_incomplete_and_corrupt(tmp_path: Path) -> None:
    _write_set(tmp_path, 5, 5.0)
    _write_set(tmp_path, 10, 10.0)
    _write_set(tmp_path, 15, 15.0)
    (tmp_path / "optimizer_15.pth").unlink()  # step 15 incomplete
    data = (tmp_path / "D_10.pth").read_bytes()
    (tmp_path / "D_10.pth").write_bytes(data[: len(data) // 2])  # step 10 corrupt
    assert ck.complete_steps(tmp_path) == [5, 10]
    loaded = ck.load_latest_complete(tmp_path)
    assert loaded is not None and loaded.step == 5
    assert float(loaded.generator["w"][0]) == 5.0


def test_no_checkpoint_gives_none(tmp_path: Path) -> None:
    assert ck.load_latest_complete(tmp_path / "missing") is None
    assert not ck.has_checkpoints(tmp_path)
    _write_set(tmp_path, 1, 0.0)
    assert ck.has_checkpoints(tmp_path)


def test_prune_keeps_last_n_and_latest(tmp_path: Path) -> None:
    for step in (1, 2, 3, 4):
        _write_set(tmp_path, step, float(step))
    ck.save_latest(tmp_path, 4, {"w": torch.zeros(1)}, config={"a": 1}, symbols={"symbols": ["_"]}, spk2id={"x": 0})
    (tmp_path / ".G_9.pth.123.tmp").write_bytes(b"partial")
    ck.prune_checkpoints(tmp_path, keep=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(["G_3.pth", "D_3.pth", "optimizer_3.pth", "G_4.pth", "D_4.pth", "optimizer_4.pth", "G_latest.pth"])
    ck.prune_checkpoints(tmp_path, keep=0)  # 0 keeps all
    assert len(list(tmp_path.iterdir())) == 7


def test_latest_holds_only_inference_fields(tmp_path: Path) -> None:
    path = ck.save_latest(tmp_path, 7, {"w": torch.ones(2)}, config={"train": {}}, symbols={"symbols": ["_"]}, spk2id={"a": 0})
    payload = ck.load_checkpoint_file(path, "melo-G-latest")
    assert set(payload) == {"format", "version", "step", "generator", "config", "symbols", "spk2id"}
    assert payload["step"] == 7 and payload["spk2id"] == {"a": 0}


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "G_1.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ck.CheckpointError, match="G_1.pth"):
        ck.load_checkpoint_file(bad)
    with pytest.raises(ck.CheckpointError, match="not found"):
        ck.load_checkpoint_file(tmp_path / "nope.pth")


def test_rng_state_round_trip() -> None:
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    state = ck.capture_rng_state()
    expected = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    random.seed(99)
    np.random.seed(99)
    torch.manual_seed(99)
    ck.restore_rng_state(state)
    assert (random.random(), float(np.random.rand()), float(torch.rand(1))) == expected


def test_kill_during_write_leaves_previous_file_usable(tmp_path: Path) -> None:
    """A writer SIGKILLed halfway through replacing a file leaves the old file loadable."""
    target = tmp_path / "G_latest.pth"
    ck.atomic_save({"v": torch.tensor([1.0])}, target)
    script = (
        "import torch; from melo.checkpoint import atomic_save;"
        f"atomic_save({{'v': torch.arange(100000.0)}}, {str(target)!r})"
    )
    killer = Path(__file__).with_name("kill_during_save.py")  # kills the writer of G_latest.pth halfway
    proc = subprocess.run([sys.executable, str(killer), "G_latest.pth", "-c", script], env=dict(os.environ),
                          cwd=Path(__file__).parents[1], capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    assert list(tmp_path.glob(".*.tmp")), "the killed writer should have left a partial temporary file"
    assert torch.equal(ck.load_checkpoint_file(target)["v"], torch.tensor([1.0]))
    ck.prune_checkpoints(tmp_path, keep=1)
    assert not list(tmp_path.glob(".*.tmp"))
