"""``--resume`` keeps what the checkpoints were trained with: speaker ids by name, whatever the filelists'
order now, with new names appended and reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from melo import checkpoint as ck
from test_train import _one_thread, _train, workspace  # noqa: F401 -- fixtures


def _run_config(ws: Path, name: str) -> dict:
    return json.loads((ws / "checkpoints" / name / "config.json").read_text(encoding="utf-8"))


def test_resume_after_the_filelist_order_changed_keeps_speaker_ids_and_appends_new_names(
        workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert _train(workspace, "order", "--max-steps", "2") == 0
    trained = _run_config(workspace, "order")["data"]["spk2id"]
    assert len(trained) == 4

    corpus = workspace / "corpus"
    lines = (corpus / "train_list.txt").read_text(encoding="utf-8").splitlines()[::-1]  # another first speaker
    first = lines[0].split("|")[2]
    lines[0] = lines[0].replace(f"|{first}|", "|zoe|")  # and a new speaker
    (corpus / "train_reordered.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    raw["data"]["training_files"] = str(corpus / "train_reordered.txt")
    config = workspace / "reordered.json"
    config.write_text(json.dumps(raw), encoding="utf-8")

    assert _train(workspace, "order", "--resume", "--max-steps", "3", config=config) == 0
    expected = {**trained, "zoe": 4}
    assert _run_config(workspace, "order")["data"]["spk2id"] == expected
    latest = ck.load_checkpoint_file(workspace / "checkpoints" / "order" / ck.LATEST_NAME)
    assert latest["step"] == 3 and latest["spk2id"] == expected
    assert "speaker ids kept from the checkpoint (4 speakers)" in caplog.text
    assert "speakers added on resume (new embedding rows): zoe=4" in caplog.text
