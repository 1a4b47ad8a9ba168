"""Rows a model cannot learn from are reported with their own reason (``LIST:LINE: reason``) and left out;
speakers get ids only from the rows that were kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_messy import tone, write_wav

from melo.config import Config
from melo.data import preprocess as P


def _dataset(root: Path, encoder_dir: Path, extra_train: list[str]) -> Config:
    """Two good training rows, one good validation row, then ``extra_train`` lines (wav paths under wavs/)."""
    wavs = root / "wavs"
    write_wav(wavs / "a.wav", tone(1.0, freq=220))
    write_wav(wavs / "b.wav", tone(1.1, freq=330))
    write_wav(wavs / "v.wav", tone(0.9, freq=440))
    lines = ["wavs/a.wav|Hello there.|alice|EN", "wavs/b.wav|Good morning.|bob|EN", *extra_train]
    (root / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "val.txt").write_text("wavs/v.wav|Good evening.|alice|EN\n", encoding="utf-8")
    return Config().replace(
        data={"training_files": str(root / "train.txt"), "validation_files": str(root / "val.txt"),
              "bert_model": str(encoder_dir), "n_speakers": 8},
        model={"bert_channels": json.loads((encoder_dir / "config.json").read_text())["hidden_size"]},
    )


def _problems(prepared: P.PreparedData) -> dict[int, tuple[str, str]]:
    return {p.line: (p.kind, p.message) for p in prepared.report.problems if p.filelist.name == "train.txt"}


def test_a_speaker_of_rejected_rows_only_gets_no_id(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = _dataset(tmp_path, tiny_encoder_dir, ["wavs/none.wav|Missing audio.|ghost|EN"])
    prepared = P.prepare(config, progress=False)
    assert _problems(prepared)[3][0] == "missing-file"
    assert prepared.config.data.spk2id == {"alice": 0, "bob": 1}
