"""Training evaluates speech: a fixed validation subset is synthesised from text at every evaluation, scored by
melo.eval, reported to TensorBoard, and ``G_best.pth`` keeps the best generator by ``train.best_metric``."""

from __future__ import annotations

import inspect
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from melo import checkpoint as ck
from melo import train as trainer
from workspace_config import config_variant

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, demo_corpus_dir: Path, tiny_encoder_dir: Path) -> Path:
    """12 training lines of the demo corpus, its first four validation lines (one English, three Japanese; four
    speakers), and a tiny config."""
    root = tmp_path_factory.mktemp("speech_eval_ws")
    corpus = root / "corpus"
    shutil.copytree(demo_corpus_dir, corpus)
    for name, keep in (("train_list.txt", 12), ("val_list.txt", 4)):  # few rows: preprocessing stays short
        path = corpus / name
        path.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:keep]), encoding="utf-8")
    val = corpus / "val_list.txt"
    raw = json.loads((REPO / "configs" / "tiny.json").read_text(encoding="utf-8"))
    raw["data"].update(training_files=str(corpus / "train_list.txt"), validation_files=str(val),
                       bert_model=str(tiny_encoder_dir))
    raw["train"].update(log_interval=1, eval_interval=2, num_workers=0, eval_utterances=3, best_metric="mcd_db")
    (root / "tiny.json").write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return root


def _train(ws: Path, name: str, config: Path, *extra: str) -> int:
    return trainer.main(["--config", str(config), "--model", name, "--device", "cpu",
                         "--checkpoints-dir", str(ws / "checkpoints"), "--logs-dir", str(ws / "logs"), *extra])


def _scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0, "audio": 0})
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


@pytest.fixture(scope="module")
def evaluated_run(workspace: Path) -> str:
    assert _train(workspace, "speech", workspace / "tiny.json", "--max-steps", "4") == 0
    return "speech"


def test_every_evaluation_scores_speech_into_tensorboard(workspace: Path, evaluated_run: str) -> None:
    scalars = _scalars(workspace / "logs" / evaluated_run)
    for tag in ("speech/mcd_db", "speech/id_accuracy", "speech/duration_ratio", "speech/f0_rmse_cents"):
        assert [step for step, _ in scalars[tag]] == [0, 2, 4], tag  # the untrained baseline, then each evaluation
    per_language = {tag.split("/")[0] for tag in scalars if tag.startswith("speech_")}
    assert len(per_language) >= 2, per_language  # the subset takes the languages in turn
    assert all(math.isfinite(v) and v > 0 for _, v in scalars["speech/mcd_db"])


def test_best_generator_is_the_one_with_the_lowest_mcd(workspace: Path, evaluated_run: str) -> None:
    scalars = dict(_scalars(workspace / "logs" / evaluated_run)["speech/mcd_db"])
    payload = ck.load_checkpoint_file(workspace / "checkpoints" / evaluated_run / ck.BEST_NAME)
    best = payload["best"]
    trained = {step: v for step, v in scalars.items() if step > 0}  # step 0 is not saved: nothing was trained
    assert best["metric"] == "mcd_db"
    assert best["step"] == min(trained, key=trained.get)
    assert best["value"] == pytest.approx(trained[best["step"]])
    kept = ck.load_checkpoint_file(workspace / "checkpoints" / evaluated_run / f"G_{best['step']}.pth")["generator"]
    for key, tensor in payload["generator"].items():  # the weights of that step, in the layout TTS loads
        assert torch.equal(tensor, kept[key]), key
    from melo.api import TTS

    tts = TTS(workspace / "checkpoints" / evaluated_run / ck.BEST_NAME, device="cpu", precision="fp32")
    assert tts.synthesize("Hello.", speaker_id=0).size > 0


def test_resume_keeps_the_best_so_far(workspace: Path, evaluated_run: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "speech_resumed"
    shutil.copytree(workspace / "checkpoints" / evaluated_run, workspace / "checkpoints" / name)
    best_before = ck.load_checkpoint_file(workspace / "checkpoints" / name / ck.BEST_NAME)["best"]
    from melo.train import loop

    seen: list[float | None] = []
    keep_best = loop._keep_best

    def spy(run: Any, scores: dict[str, float]) -> None:
        seen.append(run.best_value)
        keep_best(run, {**scores, "mcd_db": best_before["value"] + 100.0})  # a worse evaluation

    monkeypatch.setattr(loop, "_keep_best", spy)
    assert _train(workspace, name, workspace / "tiny.json", "--max-steps", "6", "--resume") == 0
    assert seen and seen[0] == pytest.approx(best_before["value"])  # read back from G_best.pth
    assert ck.load_checkpoint_file(workspace / "checkpoints" / name / ck.BEST_NAME)["best"] == best_before


def test_speech_evaluation_off_writes_no_best(workspace: Path) -> None:
    config = config_variant(workspace, "off", train=dict(eval_utterances=0, best_metric="val_mel_l1"))
    assert _train(workspace, "off", config, "--max-steps", "2") == 0
    scalars = _scalars(workspace / "logs" / "off")
    assert not [t for t in scalars if t.startswith("speech")]
    assert ck.load_checkpoint_file(workspace / "checkpoints" / "off" / ck.BEST_NAME)["best"]["metric"] == "val_mel_l1"


def test_a_missing_evaluation_extra_stops_the_run_before_training(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    from melo.eval import extras

    monkeypatch.setattr(extras, "_installed", lambda name: False)
    config = config_variant(workspace, "extra", train=dict(eval_metrics=["acoustic", "asr"]))
    assert _train(workspace, "extra", config, "--max-steps", "2") == 2
    assert "train.eval_metrics" in caplog.text and "requirements-eval.txt" in caplog.text
    assert not (workspace / "checkpoints" / "extra" / "G_2.pth").exists()


def test_subset_takes_languages_in_turn_with_distinct_sentences_and_speakers(workspace: Path) -> None:
    from melo.config import load_config
    from melo.data.dataset import TextAudioDataset
    from melo.data.preprocess import prepare
    from melo.train.speech_eval import _choose_lines

    prepared = prepare(load_config(workspace / "tiny.json"), progress=False)
    dataset = TextAudioDataset(prepared.val_manifest)  # EN, JP, JP, JP (four speakers)
    lines = _choose_lines(dataset, 3)
    assert [x.language for x in lines] == ["EN", "JP", "JP"]  # EN's one line, then JP's in list order
    assert len({x.text for x in lines}) == 3 and len({x.speaker for x in lines}) == 3
    assert [x.index for x in lines] == [0, 1, 2]
    assert len(_choose_lines(dataset, 10)) == 4


@pytest.mark.parametrize(("metric", "value", "best", "better"), [
    ("mcd_db", 5.0, 6.0, True), ("mcd_db", 6.0, 5.0, False), ("id_accuracy", 0.9, 0.5, True),
    ("id_accuracy", 0.4, 0.5, False), ("duration_ratio", 0.95, 1.2, True), ("duration_ratio", 1.3, 0.9, False),
    ("val_mel_l1", 0.7, 0.8, True), ("mcd_db", float("nan"), 6.0, False), ("mcd_db", 7.0, None, True),
])
def test_which_score_is_better(metric: str, value: float, best: float | None, better: bool) -> None:
    from melo.train.speech_eval import score_is_better

    assert score_is_better(metric, value, best) is better


def test_config_names_agree_with_melo_eval_and_the_api() -> None:
    from melo.api import TTS
    from melo.config import BEST_METRICS, EVAL_METRIC_GROUPS
    from melo.eval import AGGREGATES, ALL_METRICS
    from melo.train.speech_eval import SYNTHESIS_SETTINGS

    assert EVAL_METRIC_GROUPS == ALL_METRICS
    assert set(BEST_METRICS) == set(AGGREGATES) - {"id_chance", "asr_id_chance"} | {"val_mel_l1"}
    assert all(BEST_METRICS[k] == AGGREGATES[k].group for k in BEST_METRICS if k != "val_mel_l1")
    defaults = inspect.signature(TTS.synthesize).parameters
    for name in ("noise_scale", "noise_scale_w", "sdp_ratio"):
        assert SYNTHESIS_SETTINGS[name] == defaults[name].default, name
    assert SYNTHESIS_SETTINGS["length_scale"] == 1.0 / defaults["speed"].default


@pytest.mark.parametrize(("train", "message"), [
    ({"best_metric": "wer"}, "asr"),
    ({"best_metric": "mcd"}, "unknown score"),
    ({"eval_metrics": ["acoustic", "mos"]}, "unknown metric group"),
    ({"eval_utterances": -1}, "must be >= 0"),
    ({"eval_utterances": 0, "best_metric": "mcd_db"}, "train.eval_utterances"),
])
def test_config_refuses_evaluation_settings_that_cannot_work(train: dict[str, Any], message: str) -> None:
    from melo.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match=message):
        TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in train.items()})
