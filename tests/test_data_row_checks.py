"""Rows a model cannot learn from are reported with their own reason (``LIST:LINE: reason``) and left out;
speakers get ids only from the rows that were kept."""

from __future__ import annotations

from pathlib import Path

from data_small import small_dataset

from melo.data import preprocess as P


def _problems(prepared: P.PreparedData) -> dict[int, tuple[str, str]]:
    return {p.line: (p.kind, p.message) for p in prepared.report.problems if p.filelist.name == "train.txt"}


def test_a_speaker_of_rejected_rows_only_gets_no_id(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir, ["wavs/none.wav|Missing audio.|ghost|EN"])
    prepared = P.prepare(config, progress=False)
    assert _problems(prepared)[3][0] == "missing-file"
    assert prepared.config.data.spk2id == {"alice": 0, "bob": 1}
