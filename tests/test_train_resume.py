"""``--resume`` keeps what the checkpoints were trained with: speaker ids by name, whatever the filelists'
order now, with new names appended and reported; every config difference is reported, what cannot change is
refused, and a changed learning rate is applied."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from melo import checkpoint as ck
from test_legacy_names import under_earlier_names
from test_train import _assert_same_tensors, _ckpt, _one_thread, _train, workspace  # noqa: F401 -- fixtures
from workspace_config import config_variant


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


def test_resume_refuses_every_setting_it_cannot_honour_and_names_them(workspace: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    assert _train(workspace, "diffs", "--max-steps", "2") == 0
    folder = workspace / "checkpoints" / "diffs"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    config = config_variant(workspace, "diffs_refused", model={"p_dropout": 0.2}, data={"mel_fmin": 20.0},
                      train={"batch_size": 2})  # same shapes: the weights would load
    assert _train(workspace, "diffs", "--resume", "--max-steps", "3", config=config) == 2
    assert "settings a resumed run cannot change:\n  data.mel_fmin: 0 -> 20\n  model.p_dropout: 0.1 -> 0.2\n" \
        in caplog.text
    assert "train.init_from: " in caplog.text  # the way to start a new run from these weights
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before


def test_resume_applies_a_changed_learning_rate_and_reports_every_change(workspace: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    assert _train(workspace, "newlr", "--max-steps", "2") == 0
    config = config_variant(workspace, "newlr", train={"learning_rate": 1e-4, "batch_size": 2, "c_mel": 40.0,
                                                  "init_from": "elsewhere/G_latest.pth"})
    assert _train(workspace, "newlr", "--resume", "--max-steps", "3", config=config) == 0
    training = torch.load(workspace / "checkpoints" / "newlr" / "optimizer_3.pth", weights_only=True)["training"]
    decay = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))["train"].get("lr_decay", 0.999875)
    for name, state in training["optimizers"].items():
        assert state["param_groups"][0]["lr"] == pytest.approx(1e-4 * decay ** training["epoch"]), name
        assert training["schedulers"][name]["base_lrs"] == [pytest.approx(1e-4)]
    text = caplog.text
    assert "resume: train.learning_rate: 0.0003 -> 0.0001 (applied to the restored optimisers)" in text
    assert "resume: train.batch_size: 4 -> 2 (takes effect from the resumed step)" in text
    assert "resume: train.c_mel: 45 -> 40 (takes effect from the resumed step)" in text
    assert 'resume: train.init_from: null -> "elsewhere/G_latest.pth" (ignored' in text


@pytest.mark.slow
def test_resume_of_a_run_written_under_the_earlier_module_names_continues_exactly(workspace: Path) -> None:
    """A run checkpointed before the generator's modules were renamed (G files of version 1, keys ``enc_p.``,
    ``emb_g.``, ...) resumes into the same weights and optimizer state as the run under the current names: the
    keys are translated and the parameter order the optimizer state is indexed by is unchanged."""
    assert _train(workspace, "names_now", "--max-steps", "2") == 0
    shutil.copytree(workspace / "checkpoints" / "names_now", workspace / "checkpoints" / "names_before")
    for name in ("G_2.pth", ck.LATEST_NAME):
        path = workspace / "checkpoints" / "names_before" / name
        payload = ck.load_checkpoint_file(path)
        ck.atomic_save({**payload, "version": 1, "generator": under_earlier_names(payload["generator"])}, path)
    assert "emb_g.weight" in torch.load(workspace / "checkpoints" / "names_before" / "G_2.pth",
                                        weights_only=True)["generator"]

    for name in ("names_now", "names_before"):
        assert _train(workspace, name, "--resume", "--max-steps", "3") == 0
    for kind, key in (("G", "generator"), ("D", "discriminators"), ("optimizer", "training")):
        before, now = _ckpt(workspace, "names_before", kind, 3)[key], _ckpt(workspace, "names_now", kind, 3)[key]
        _assert_same_tensors(before, now, kind)
