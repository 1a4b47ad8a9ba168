"""``python -m melo.eval`` end to end on a tiny random-weight checkpoint and a small espeak-ng filelist,
and its one-line errors for bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from eval_audio import espeak
from melo.eval.__main__ import main

pytestmark = pytest.mark.usefixtures("one_thread")

REPO = Path(__file__).resolve().parent.parent
LINES = (  # wav, text, speaker, language field, espeak voice
    ("alice_en.wav", "Please call me back when you get home tonight.", "alice", "EN", "en-us+f3"),
    ("bruno_kr.wav", "안녕하세요. 만나서 반갑습니다.", "bruno", "KR", "ko+m3"),
    ("alice_jp.wav", "こんにちは。", "alice", "", "ja+f3"),  # untagged: detected as Japanese
)


@pytest.fixture(scope="module")
def voice(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> dict[str, Path]:
    """A tiny untrained checkpoint (random weights, speakers alice and bruno), an eval list and a training list."""
    import torch

    from melo.checkpoint import save_latest
    from melo.config import load_config
    from melo.model import build_generator
    from melo.text import DEFAULT_TABLE

    root = tmp_path_factory.mktemp("eval_cli")
    (root / "wavs").mkdir()
    for wav, text, _, _, espeak_voice in LINES:
        audio, rate = espeak(text, espeak_voice)
        sf.write(root / "wavs" / wav, audio, rate)
    (root / "val_list.txt").write_text("".join(f"wavs/{w}|{t}|{s}|{lang}\n" for w, t, s, lang, _ in LINES), encoding="utf-8")
    (root / "train_list.txt").write_text(
        "".join(f"wavs/{w}|{t}|{s}|{lang}\n" for w, t, s, lang, _ in LINES[:2]), encoding="utf-8"
    )  # alice has only English recordings: her Japanese line is cross-lingual
    speakers = {"alice": 0, "bruno": 1}
    config = load_config(REPO / "configs" / "tiny.json").replace(
        data={"bert_model": str(tiny_encoder_dir), "spk2id": speakers, "training_files": str(root / "train_list.txt")}
    )
    torch.manual_seed(0)
    generator = build_generator(config, DEFAULT_TABLE)
    model = save_latest(root / "ckpt", 0, generator.state_dict(), config.to_dict(), DEFAULT_TABLE.to_dict(), speakers)
    return {"root": root, "model": model, "list": root / "val_list.txt", "train": root / "train_list.txt"}


@pytest.mark.slow
def test_cli_scores_reference_model_and_control_and_writes_every_file(voice, tmp_path: Path, capsys) -> None:
    out = tmp_path / "eval"
    status = main(["--model", str(voice["model"]), "--list", str(voice["list"]), "--out", str(out), "--device", "cpu"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    aggregates = report["aggregates"]
    assert set(aggregates) == {"reference", "model", "control"}
    assert set(aggregates["model"]) == {"EN", "KR", "JP", "all"}
    reference = aggregates["reference"]["all"]
    assert reference["mcd_db"] == 0.0 and reference["id_accuracy"] == 1.0 and reference["asr_id_accuracy"] == 1.0
    assert reference["speaker_similarity"] > 0.7 and "speaker_similarity_cross_lingual" in reference
    for system in ("model", "control"):  # random weights: a buzz, nowhere near the references
        assert aggregates[system]["all"]["mcd_db"] > 5.0 and aggregates[system]["EN"]["asr_id_accuracy"] == 0.0
        assert aggregates[system]["all"]["dnsmos_ovrl"] < reference["dnsmos_ovrl"]
    rows = list(csv.DictReader((out / "report.csv").open(encoding="utf-8")))
    assert len(rows) == 9 and {r["system"] for r in rows} == {"reference", "model", "control"}
    japanese = [r for r in rows if r["id"] == "val_list.txt:3"]
    assert {r["language"] for r in japanese} == {"JP"} and {r["cross_lingual"] for r in japanese} == {"1"}
    assert sorted(p.name for p in (out / "mels").iterdir()) == [
        "000_val_list_txt_1.png", "001_val_list_txt_2.png", "002_val_list_txt_3.png"
    ]
    assert len(list((out / "wavs").glob("*_model.wav"))) == 3 and len(list((out / "wavs").glob("*_control.wav"))) == 3
    table = captured.out.splitlines()
    assert table[0].split()[:3] == ["lang", "system", "n"] and any(line.startswith("all   control") for line in table)


def _one_error_line(argv: list[str], capsys) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_bad_input_is_one_error_line(voice, tmp_path: Path, capsys) -> None:
    model, good = str(voice["model"]), voice["list"]
    missing = tmp_path / "missing.txt"
    missing.write_text("wavs/nope.wav|hello|alice|EN\n", encoding="utf-8")
    assert _one_error_line(["--model", model, "--list", str(missing)], capsys) == (
        f"error: {missing}:1: audio file not found: {tmp_path / 'wavs' / 'nope.wav'}"
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n", encoding="utf-8")
    assert _one_error_line(["--model", model, "--list", str(empty)], capsys) == f"error: {empty}: no lines to evaluate"
    stranger = voice["root"] / "stranger.txt"  # beside wavs/
    stranger.write_text(good.read_text(encoding="utf-8").replace("|bruno|", "|zed|"), encoding="utf-8")
    assert _one_error_line(["--model", model, "--list", str(stranger), "--metrics", "core", "--device", "cpu"], capsys) == (
        "error: stranger.txt:2: unknown speaker 'zed'; the checkpoint knows: alice, bruno"
    )
    assert _one_error_line(["--model", model, "--list", str(good), "--metrics", "mcd"], capsys).startswith(
        "error: --metrics: unknown metric 'mcd'; known: acoustic, identification, asr, speaker, dnsmos"
    )


def test_a_file_that_is_not_a_checkpoint_is_one_error_line_from_the_module(voice, tmp_path: Path) -> None:
    bogus = tmp_path / "G_latest.pth"
    bogus.write_bytes(b"not a checkpoint" * 8)
    run = subprocess.run(
        [sys.executable, "-m", "melo.eval", "--model", str(bogus), "--list", str(voice["list"]), "--metrics", "core"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith(f"error: {bogus}: cannot read checkpoint")


def test_a_missing_extra_stops_the_cli_before_any_work(voice, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    line = _one_error_line(["--model", "does-not-matter.pth", "--list", str(voice["list"]), "--metrics", "core,asr"], capsys)
    assert line.startswith("error: metric 'asr' needs the Python package 'pocketsphinx', which is not installed; ")
    assert "pip install -r requirements-eval.txt" in line
