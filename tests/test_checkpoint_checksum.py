"""Every checkpoint file carries a checksum of its content: bytes flipped inside tensor data name the damaged
file, and resuming falls back to the previous set as it does for a truncated one."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
import torch

from melo import checkpoint as ck

MARK = 1.5
"""The generator's weights: a value whose bytes are easy to find in the file."""


def _write_set(folder: Path, step: int) -> None:
    ck.save_checkpoint_set(folder, step, generator={"w": torch.full((256,), MARK)},
                           discriminators={"mpd": {"w": torch.zeros(2)}},
                           training={"epoch": 0, "batch_in_epoch": step, "optimizers": {}, "rng": []})


def _flip_a_weight_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    at = data.index(struct.pack("<f", MARK) * 16) + 33  # inside the tensor's storage
    data[at] ^= 0x40
    path.write_bytes(bytes(data))


def test_flipped_tensor_bytes_name_the_damaged_file(tmp_path: Path) -> None:
    _write_set(tmp_path, 4)
    path = tmp_path / "G_4.pth"
    _flip_a_weight_byte(path)
    assert torch.load(path, weights_only=True)["step"] == 4  # torch alone does not notice
    with pytest.raises(ck.CheckpointError, match=r"G_4\.pth: damaged: its content does not match the checksum"):
        ck.load_checkpoint_file(path)


def test_resume_passes_over_a_damaged_set_to_the_previous_one(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    _write_set(tmp_path, 2)
    _write_set(tmp_path, 4)
    _flip_a_weight_byte(tmp_path / "G_4.pth")
    loaded = ck.load_latest_complete(tmp_path)
    assert loaded is not None and loaded.step == 2
    assert "skipping checkpoint step 4" in caplog.text and "G_4.pth: damaged" in caplog.text


def test_checksum_is_not_part_of_the_loaded_payload_and_old_files_still_load(tmp_path: Path) -> None:
    path = ck.save_latest(tmp_path, 7, {"w": torch.ones(2)}, config={}, symbols={}, spk2id={"a": 0})
    assert "checksum" in torch.load(path, weights_only=True)
    assert "checksum" not in ck.load_checkpoint_file(path)
    old = tmp_path / "old.pth"
    torch.save({"format": "melo-G-latest", "step": 1, "generator": {"w": torch.ones(2)}}, old)  # no checksum
    assert ck.load_checkpoint_file(old)["step"] == 1
