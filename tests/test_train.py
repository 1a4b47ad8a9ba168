"""Acceptance tests for ``python -m melo.train`` on CPU with the tiny config and the demo corpus.

The corpus is copied and preprocessed once per module; every test trains into its own
checkpoint and log folders. Most runs call :func:`melo.train.main` in-process (seconds instead of a
fresh interpreter); crash, signal and torchrun tests run real subprocesses.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from melo import checkpoint as ck
from melo import train as trainer
from workspace_config import config_variant

REPO = Path(__file__).resolve().parents[1]
THREADS = 1
"""torch threads for every run here, in-process and in subprocesses. One thread: on a shared 2-core
machine two OpenMP threads spin-wait for each other and a tiny-config step costs 1-20 s of CPU instead
of 0.25 s (measured). The same count everywhere also matters for the equality checks: CPU float
reductions depend on it, and Adam turns rounding differences into visible weight differences."""
PYTHON_ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(THREADS)}


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Any:
    previous = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, demo_corpus_dir: Path, tiny_encoder_dir: Path) -> Path:
    """A copy of the demo corpus plus a tiny config pointing at it, preprocessed once."""
    from melo.config import load_config
    from melo.data.preprocess import prepare

    root = tmp_path_factory.mktemp("train_ws")
    corpus = root / "corpus"
    shutil.copytree(demo_corpus_dir, corpus)
    val_list = corpus / "val_list.txt"  # two validation utterances keep every evaluation short
    val_list.write_text("".join(val_list.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    raw = json.loads((REPO / "configs" / "tiny.json").read_text(encoding="utf-8"))
    raw["data"].update(
        training_files=str(corpus / "train_list.txt"),
        validation_files=str(corpus / "val_list.txt"),
        bert_model=str(tiny_encoder_dir),
    )
    raw["train"].update(log_interval=1, eval_interval=2, num_workers=0, keep_ckpts=3)
    config_path = root / "tiny.json"
    config_path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    prepare(load_config(config_path), workers=1, progress=False)
    return root


def _argv(ws: Path, name: str, config: Path | None = None, *extra: str) -> list[str]:
    return [
        "--config", str(config or ws / "tiny.json"), "--model", name, "--device", "cpu",
        "--checkpoints-dir", str(ws / "checkpoints"), "--logs-dir", str(ws / "logs"), *extra,
    ]


def _train(ws: Path, name: str, *extra: str, config: Path | None = None) -> int:
    return trainer.main(_argv(ws, name, config, *extra))


def _ckpt(ws: Path, name: str, kind: str, step: int) -> dict[str, Any]:
    return torch.load(ws / "checkpoints" / name / f"{kind}_{step}.pth", map_location="cpu", weights_only=True)


def _assert_same_tensors(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.shape == b.shape, where
        assert torch.allclose(a.float(), b.float(), rtol=0, atol=1e-6), f"{where}: max diff {(a.float() - b.float()).abs().max()}"
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys differ: {set(a) ^ set(b)}"
        for k in a:
            _assert_same_tensors(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_tensors(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def uninterrupted(workspace: Path) -> str:
    """Four steps in one go (checkpoints at 2 and 4): the reference for the resume tests."""
    assert _train(workspace, "ref", "--max-steps", "4") == 0
    return "ref"


# -- a few steps write everything -----------------------------------------------------------------

def test_few_steps_write_checkpoints_tensorboard_and_log(workspace: Path, uninterrupted: str) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = workspace / "checkpoints" / uninterrupted
    for step in (2, 4):
        for kind in ("G", "D", "optimizer"):
            assert (folder / f"{kind}_{step}.pth").is_file()
    latest = ck.load_checkpoint_file(folder / ck.LATEST_NAME, "melo-G-latest")
    assert set(latest) == {"format", "version", "step", "generator", "config", "symbols", "spk2id"}
    assert latest["step"] == 4 and len(latest["spk2id"]) == 4
    assert latest["config"]["data"]["spk2id"] == latest["spk2id"]
    _assert_same_tensors(latest["generator"], _ckpt(workspace, uninterrupted, "G", 4)["generator"])
    assert "duration" in _ckpt(workspace, uninterrupted, "D", 4)["discriminators"]
    training = _ckpt(workspace, uninterrupted, "optimizer", 4)["training"]
    assert set(training["optimizers"]) == {"G", "D", "DUR"} and set(training["schedulers"]) == {"G", "D", "DUR"}
    assert (folder / "config.json").is_file() and (folder / "symbols.json").is_file()

    events = EventAccumulator(str(workspace / "logs" / uninterrupted), size_guidance={"scalars": 0, "images": 0, "audio": 0})
    events.Reload()
    tags = events.Tags()
    for tag in ("loss/d/total", "loss/dur_d/total", "loss/g/adv", "loss/g/fm", "loss/g/mel", "loss/g/kl",
                "loss/g/dur", "loss/g/dur_adv", "loss/g/total", "grad_norm/g", "grad_norm/d", "grad_norm/dur_d",
                "train/lr", "train/skipped_steps", "train/step_seconds", "val/mel_l1"):
        assert tag in tags["scalars"], tag
    assert [e.step for e in events.Scalars("loss/g/total")] == [1, 2, 3, 4]
    assert events.Scalars("train/lr")[0].value == pytest.approx(3e-4)
    for tag in ("train/mel_generated", "train/mel_target", "train/alignment", "val/mel_generated_0"):
        assert tag in tags["images"], tag
    assert "val/generated_0" in tags["audio"] and "val/ground_truth_0" in tags["audio"]

    logs = sorted((workspace / "logs").glob(f"train_{uninterrupted}_*.log"))
    assert len(logs) == 1
    text = logs[0].read_text(encoding="utf-8")
    assert "step 4 epoch" in text and "loss/g/mel=" in text and "validation mel L1" in text
    assert "saved checkpoint step 4" in text


# -- resume -----------------------------------------------------------------------------------------

def test_resume_continues_exactly(workspace: Path, uninterrupted: str) -> None:
    assert _train(workspace, "split", "--max-steps", "2") == 0
    assert not (workspace / "checkpoints" / "split" / "G_4.pth").exists()
    assert _train(workspace, "split", "--max-steps", "4", "--resume") == 0
    for kind, key in (("G", "generator"), ("D", "discriminators"), ("optimizer", "training")):
        _assert_same_tensors(_ckpt(workspace, "split", kind, 4)[key], _ckpt(workspace, uninterrupted, kind, 4)[key], kind)


def test_resume_without_checkpoint_is_an_error(workspace: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert _train(workspace, "nothing_here", "--resume") == 2
    assert "no checkpoint to resume from" in caplog.text


def test_existing_checkpoints_without_resume_is_an_error(workspace: Path, uninterrupted: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    before = sorted(p.name for p in (workspace / "checkpoints" / uninterrupted).iterdir())
    assert _train(workspace, uninterrupted, "--max-steps", "1") == 2
    assert "already holds checkpoints" in caplog.text and "--resume" in caplog.text
    assert sorted(p.name for p in (workspace / "checkpoints" / uninterrupted).iterdir()) == before


def test_killed_during_checkpoint_write_resumes_from_previous(workspace: Path, uninterrupted: str) -> None:
    killer = [sys.executable, str(REPO / "tests" / "kill_during_save.py"), "optimizer_4.pth"]  # dies writing it
    proc = subprocess.run([*killer, "-m", "melo.train", *_argv(workspace, "killed", None, "--max-steps", "4")],
                          cwd=REPO, env=PYTHON_ENV, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    folder = workspace / "checkpoints" / "killed"
    assert (folder / "G_4.pth").exists() and not (folder / "optimizer_4.pth").exists()
    assert ck.load_latest_complete(folder).step == 2
    assert ck.load_checkpoint_file(folder / ck.LATEST_NAME)["step"] == 2  # the previous one, intact

    assert _train(workspace, "killed", "--max-steps", "4", "--resume") == 0
    assert not list(folder.glob(".*.tmp"))
    _assert_same_tensors(_ckpt(workspace, "killed", "G", 4)["generator"], _ckpt(workspace, uninterrupted, "G", 4)["generator"])


# -- robustness -------------------------------------------------------------------------------------

def _poison_step(monkeypatch: pytest.MonkeyPatch, poisoned_step: int) -> None:
    """Fill the spectrogram of the batch of step ``poisoned_step`` (1-based) with NaN before the step runs."""
    import melo.train.loop

    real_step = melo.train.loop.train_step

    def step_with_nan(generator, discriminators, optimizers, inputs, wav, config, step, **kwargs):
        if step + 1 == poisoned_step:
            inputs = {**inputs, "spec": torch.full_like(inputs["spec"], float("nan"))}
        return real_step(generator, discriminators, optimizers, inputs, wav, config, step, **kwargs)

    monkeypatch.setattr(melo.train.loop, "train_step", step_with_nan)


def test_nan_batch_is_skipped_and_training_continues(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _poison_step(monkeypatch, 2)
    config = config_variant(workspace, "nan", train=dict(eval_interval=1))
    assert _train(workspace, "nan", "--max-steps", "3", config=config) == 0
    g1, g2, g3 = (_ckpt(workspace, "nan", "G", s)["generator"] for s in (1, 2, 3))
    d1, d2 = (_ckpt(workspace, "nan", "D", s)["discriminators"] for s in (1, 2))
    o1, o2 = (_ckpt(workspace, "nan", "optimizer", s)["training"] for s in (1, 2))
    _assert_same_tensors(g2, g1)  # the poisoned step changed no generator weight ...
    _assert_same_tensors(d2["mpd"], d1["mpd"])  # ... nor a waveform discriminator's ...
    for name in ("G", "D"):  # ... nor their optimizer moments and step counts
        _assert_same_tensors(o2["optimizers"][name], o1["optimizers"][name], name)
    assert o2["skipped_steps"] == 1 and o2["skipped_updates"]["G"] == 1 and o2["skipped_updates"]["D"] == 1
    assert all(torch.isfinite(t).all() for t in g3.values())
    assert any(not torch.equal(g3[k], g2[k]) for k in g3)  # step 3 trained again
    log = next((workspace / "logs").glob("train_nan_*.log")).read_text(encoding="utf-8")
    assert "step 2: skipped G x1, D x1" in log and "(non-finite gradients)" in log


def test_overflow_in_one_optimiser_k_times_in_a_row_stops_the_run(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    import melo.train.models

    real_build = melo.train.models.build_networks

    def build_with_overflowing_discriminator(*args: Any, **kwargs: Any) -> Any:
        networks = real_build(*args, **kwargs)
        first = next(networks.discriminators.mpd.parameters())
        first.register_hook(lambda grad: torch.full_like(grad, float("inf")))
        return networks

    monkeypatch.setattr(melo.train.models, "build_networks", build_with_overflowing_discriminator)
    config = config_variant(workspace, "overflow", train=dict(max_consecutive_skips=3, eval_interval=1000))
    assert _train(workspace, "overflow", "--max-steps", "10", config=config) == 2
    assert "updates of D (3 in a row) were skipped" in caplog.text
    log = next((workspace / "logs").glob("train_overflow_*.log")).read_text(encoding="utf-8")
    assert "step 3: skipped D x1" in log and "step 4" not in log
    assert "step 2 epoch 0 | " in log and "grad_norm/d=nan" in log and "grad_norm/g=nan" not in log  # G trained


def test_sigterm_to_the_process_group_of_a_two_worker_run_saves_a_checkpoint_that_resumes(workspace: Path) -> None:
    """As torchrun and Slurm deliver it: SIGTERM to the whole process group, DataLoader workers included."""
    config = config_variant(workspace, "sigterm", train=dict(eval_interval=1000))
    argv = _argv(workspace, "sigterm", config, "--max-steps", "500", "--workers", "2")
    proc = subprocess.Popen([sys.executable, "-m", "melo.train", *argv], cwd=REPO, env=PYTHON_ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 300
    log = None
    while time.monotonic() < deadline and proc.poll() is None:
        logs = list((workspace / "logs").glob("train_sigterm_*.log"))
        if logs and "step 2 epoch" in logs[0].read_text(encoding="utf-8"):
            log = logs[0]
            break
        time.sleep(0.2)
    assert log is not None, "training did not reach step 2"
    os.killpg(proc.pid, signal.SIGTERM)  # the trainer and its two workers
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    steps = ck.complete_steps(workspace / "checkpoints" / "sigterm")
    assert len(steps) == 1 and 2 <= steps[0] < 500
    assert "received SIGTERM" in log.read_text(encoding="utf-8")
    assert _train(workspace, "sigterm", "--max-steps", str(steps[0] + 1), "--resume", config=config) == 0
    assert ck.complete_steps(workspace / "checkpoints" / "sigterm") == [steps[0], steps[0] + 1]


def test_dry_run_steps_on_the_heaviest_batches_prints_peak_memory_and_leaves_nothing(
        workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    budget = 1100  # frames per batch: at least the 12 s clip the tiny config's data.max_audio_seconds allows
    config = config_variant(workspace, "dry", train=dict(max_frames_per_batch=budget))
    lengths = _train_lengths(workspace)
    assert _train(workspace, "dry", "--dry-run", config=config) == 0
    out = capsys.readouterr().out
    rows = {cells[1]: cells for cells in (
        [c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| 0 |"))}
    assert set(rows) == {"longest clip", "most padded frames"}, out
    assert rows["longest clip"][3].startswith(f"{max(lengths)} frames")
    for cells in rows.values():
        assert int(cells[4]) <= budget and cells[6].endswith("GiB")
    assert "peak RSS" in out and "train.max_frames_per_batch=1100" in out
    assert not (workspace / "checkpoints" / "dry").exists()  # no checkpoint folder ...
    assert not list((workspace / "logs").glob("train_dry_*")) and not (workspace / "logs" / "dry").exists()  # ... nor logs


def _train_lengths(workspace: Path) -> list[int]:
    from melo.config import load_config
    from melo.data.dataset import TextAudioDataset
    from melo.data.preprocess import load_prepared

    return TextAudioDataset(load_prepared(load_config(workspace / "tiny.json")).train_manifest).lengths


def test_clip_gradients_measures_clips_and_flags_non_finite() -> None:
    layer = torch.nn.Linear(3, 1, bias=False)
    layer.weight.grad = torch.tensor([[3.0, 0.0, 4.0]])
    finite, norm = trainer.clip_gradients(layer, None)
    assert finite and float(norm) == pytest.approx(5.0)
    assert torch.equal(layer.weight.grad, torch.tensor([[3.0, 0.0, 4.0]]))  # measured, not clipped
    finite, norm = trainer.clip_gradients(layer, 1.0)
    assert finite and float(norm) == pytest.approx(5.0)  # the norm before clipping
    assert float(layer.weight.grad.norm()) == pytest.approx(1.0, rel=1e-4)
    layer.weight.grad = torch.tensor([[float("nan"), 1.0, 1.0]])
    finite, _ = trainer.clip_gradients(layer, 1.0)
    assert not finite


def test_duration_discriminator_can_be_off(workspace: Path) -> None:
    """Also: lr decay per step, gradient clipping on, and fp16_run on CPU (fp32 with exactly one warning)."""
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    raw["model"]["use_duration_discriminator"] = False
    raw["train"].update(lr_decay_interval="step", lr_decay=0.9, grad_clip_norm=5.0, fp16_run=True)
    config = workspace / "nodur.json"
    config.write_text(json.dumps(raw), encoding="utf-8")
    assert _train(workspace, "nodur", "--max-steps", "2", config=config) == 0
    assert "duration" not in _ckpt(workspace, "nodur", "D", 2)["discriminators"]
    training = _ckpt(workspace, "nodur", "optimizer", 2)["training"]
    assert set(training["optimizers"]) == {"G", "D"}
    lr = training["optimizers"]["G"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(3e-4 * 0.9**2)  # decayed once per step
    log = next((workspace / "logs").glob("train_nodur_*.log")).read_text(encoding="utf-8")
    assert log.count("train.fp16_run is set but the device is cpu: training in fp32") == 1


# -- multi-process ------------------------------------------------------------------------------------

def test_torchrun_two_processes_via_train_sh(workspace: Path) -> None:
    """``NUM_GPUS=2 ./train.sh`` runs torchrun (gloo on CPU): one set of checkpoints, the configured steps."""
    env = {
        **PYTHON_ENV,
        "NUM_GPUS": "2",
        "MASTER_PORT": str(_free_port()),
        "CONFIG": str(workspace / "tiny.json"),
        "MODEL_NAME": "ddp",
        "TORCHRUN": str(Path(sys.executable).parent / "torchrun"),
    }
    extra = ["--device", "cpu", "--checkpoints-dir", str(workspace / "checkpoints"),
             "--logs-dir", str(workspace / "logs"), "--max-steps", "3"]
    proc = subprocess.run([str(REPO / "train.sh"), *extra], cwd=workspace, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    folder = workspace / "checkpoints" / "ddp"
    assert ck.complete_steps(folder) == [2, 3]  # eval_interval 2, then the end
    training = _ckpt(workspace, "ddp", "optimizer", 3)["training"]
    assert training["world_size"] == 2 and len(training["rng"]) == 2
    logs = list((workspace / "logs").glob("train_ddp_*.log"))
    assert len(logs) == 1  # rank 0 only
    assert "rank 0/2" in logs[0].read_text(encoding="utf-8")


def test_other_ranks_wait_for_a_slow_rank0_preprocessing_beyond_the_collective_timeout(workspace: Path) -> None:
    """Rank 0 preprocesses for 6 s under a 2 s collective timeout (tests/slow_rank0_prepare.py): the other rank
    waits and the group works afterwards; when rank 0's preprocessing fails, the other rank stops with its
    message instead of waiting; when rank 0 dies, the other rank stops with a clear error."""
    helper = REPO / "tests" / "slow_rank0_prepare.py"
    expected = {  # mode: per rank, (exit status, line printed)
        "slow": ((0, "rank 0 ok ("), (0, "rank 1 ok (")),
        "fail": ((0, "rank 0 error: train_list.txt:3: broken row (injected)"),
                 (0, "rank 1 error: rank 0 could not prepare the data: train_list.txt:3: broken row (injected)")),
        "die": ((1, ""), (0, "rank 1 error: rank 1 lost the rendezvous store while waiting for rank 0 "
                             "(data_prepared): rank 0 stopped; see its log")),
    }
    for mode, per_rank in expected.items():
        env = {**PYTHON_ENV, "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port())}
        procs = [subprocess.Popen([sys.executable, str(helper), str(workspace / "tiny.json"), mode], cwd=REPO,
                                  env={**env, "RANK": str(r), "LOCAL_RANK": str(r)}, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for r in (0, 1)]
        outputs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err), (status, line) in zip(procs, outputs, per_rank):
            assert p.returncode == status and line in out, f"{mode}: {out}\n{err[-3000:]}"


def test_train_sh_builds_the_documented_commands(tmp_path: Path) -> None:
    """train.sh's command lines, checked with stand-ins for python and torchrun that print their arguments."""
    fake = tmp_path / "echo_args"
    fake.write_text("#!/usr/bin/env bash\necho \"$(basename \"$0\") $*\"\nexit 7\n")
    fake.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if k not in ("NUM_GPUS", "CONFIG", "MODEL_NAME", "MASTER_PORT")}
    one = subprocess.run([str(REPO / "train.sh"), "--resume"], env={**base, "PYTHON": str(fake)},
                         capture_output=True, text=True)
    assert one.returncode == 7  # the trainer's exit status
    assert one.stdout.strip() == "echo_args -m melo.train --config configs/config_bge_m3.json --model melo_bge_m3 --resume"
    four = subprocess.run([str(REPO / "train.sh")], env={**base, "TORCHRUN": str(fake), "NUM_GPUS": "4",
                                                         "MODEL_NAME": "x"}, capture_output=True, text=True)
    assert four.stdout.strip() == ("echo_args --nproc_per_node=4 --master_port=29500 -m melo.train "
                                   "--config configs/config_bge_m3.json --model x")
    bad = subprocess.run([str(REPO / "train.sh")], env={**base, "NUM_GPUS": "two"}, capture_output=True, text=True)
    assert bad.returncode == 2 and "NUM_GPUS" in bad.stderr


# -- initialisation and learning ----------------------------------------------------------------------

def test_pretrained_init_loads_matching_tensors_and_reports_mismatches(workspace: Path, uninterrupted: str,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    folder = workspace / "checkpoints" / uninterrupted
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    raw["data"]["n_speakers"] = 16  # the speaker table changes shape; everything else matches
    raw["train"].update(pretrained_G=str(folder / "G_4.pth"), pretrained_D=str(folder / "D_4.pth"), eval_interval=1000)
    config = workspace / "pretrained.json"
    config.write_text(json.dumps(raw), encoding="utf-8")
    assert _train(workspace, "pretrained", "--max-steps", "1", config=config) == 0
    assert "speaker_embedding.weight (4 rows by speaker name)" in caplog.text  # the speaker table grew: rows by name
    ref = _ckpt(workspace, uninterrupted, "G", 4)["generator"]
    trained = _ckpt(workspace, "pretrained", "G", 1)["generator"]
    # one AdamW step moves each weight by at most ~lr from the pretrained value
    close = [k for k in ref if k != "speaker_embedding.weight" and (trained[k].float() - ref[k].float()).abs().max() < 1e-3]
    assert len(close) == len(ref) - 1


def test_init_from_our_checkpoint_with_two_more_speakers_and_a_grown_symbol_table(workspace: Path, uninterrupted: str
                                                                                   ) -> None:
    """The base was trained with an older symbol table (here: five symbols fewer, in another order) and four
    speakers; the new run has the full table and two more speakers. Rows move by name and training runs."""
    from melo.text.symbols import DEFAULT_TABLE, SymbolTable

    latest = ck.load_checkpoint_file(workspace / "checkpoints" / uninterrupted / ck.LATEST_NAME)
    old_symbols = ("_", *reversed(DEFAULT_TABLE.symbols[1:-5]))
    old_table = SymbolTable(old_symbols, DEFAULT_TABLE.languages, dict(DEFAULT_TABLE.num_tones))
    emb = latest["generator"]["text_encoder.emb.weight"]
    latest["generator"]["text_encoder.emb.weight"] = emb[[DEFAULT_TABLE.symbol_id(s) for s in old_symbols]]
    latest["symbols"] = old_table.to_dict()
    base = workspace / "older_base"
    ck.save_latest(base, latest["step"], latest["generator"], latest["config"], latest["symbols"], latest["spk2id"])

    corpus = workspace / "corpus"
    lines = (corpus / "train_list.txt").read_text(encoding="utf-8").splitlines()
    renamed = {"alice": "erin", "bruno": "frank"}  # every other line of two speakers goes to a new speaker
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        wav, text, speaker, *lang = line.split("|")
        seen[speaker] = seen.get(speaker, 0) + 1
        if speaker in renamed and seen[speaker] % 2 == 0:
            lines[i] = "|".join([wav, text, renamed[speaker], *lang])
    (corpus / "train_more_speakers.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    raw["data"]["training_files"] = str(corpus / "train_more_speakers.txt")
    raw["train"].update(init_from=str(base / ck.LATEST_NAME), eval_interval=1000)
    config = workspace / "grown.json"
    config.write_text(json.dumps(raw), encoding="utf-8")

    assert _train(workspace, "grown", "--max-steps", "1", config=config) == 0
    report = (workspace / "checkpoints" / "grown" / "init_report.txt").read_text(encoding="utf-8")
    assert "4 rows by speaker name; fresh: erin frank" in report
    assert "202 rows by symbol name; fresh: " + " ".join(DEFAULT_TABLE.symbols[-5:]) in report  # the 5 left out
    trained = _ckpt(workspace, "grown", "G", 1)["generator"]
    spk2id = json.loads((workspace / "checkpoints" / "grown" / "config.json").read_text(encoding="utf-8"))["data"]["spk2id"]
    for name, row in latest["spk2id"].items():  # one AdamW step moves a weight by about lr at most
        moved = (trained["speaker_embedding.weight"][spk2id[name]] - latest["generator"]["speaker_embedding.weight"][row]).abs()
        assert float(moved.max()) < 1e-3, name
    for symbol in ("ᄀ", "AA", "a", "ɴ"):
        moved = trained["text_encoder.emb.weight"][DEFAULT_TABLE.symbol_id(symbol)] - emb[DEFAULT_TABLE.symbol_id(symbol)]
        assert float(moved.abs().max()) < 1e-3, symbol


def test_freeze_keeps_groups_bit_identical_and_out_of_the_optimizer(workspace: Path, uninterrupted: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """From G_4.pth / D_4.pth (names from the run's config.json and symbols.json beside them), decoder and flow
    frozen: after two steps they are bit-identical to the source and the generator's optimizer never saw them."""
    folder = workspace / "checkpoints" / uninterrupted
    config = config_variant(workspace, "frozen", train=dict(init_from=str(folder / "G_4.pth"),
                                                            init_from_D=str(folder / "D_4.pth"),
                                                            freeze=["decoder", "flow"], eval_interval=1000))
    assert _train(workspace, "frozen", "--max-steps", "2", config=config) == 0
    source, trained = _ckpt(workspace, uninterrupted, "G", 4)["generator"], _ckpt(workspace, "frozen", "G", 2)["generator"]
    frozen = [k for k in source if k.startswith(("decoder.", "flow."))]
    assert frozen and all(torch.equal(trained[k], source[k]) for k in frozen)
    assert not torch.equal(trained["text_encoder.encoder.attn_layers.0.conv_q.weight"],
                           source["text_encoder.encoder.attn_layers.0.conv_q.weight"])
    optimizer = _ckpt(workspace, "frozen", "optimizer", 2)["training"]["optimizers"]["G"]
    assert len(optimizer["param_groups"][0]["params"]) == len(source) - len(frozen)
    assert len(optimizer["state"]) == len(source) - len(frozen)

    thawed = config_variant(workspace, "thawed",
                            train=dict(init_from=str(folder / "G_4.pth"), freeze=["decoder"], eval_interval=1000))
    assert _train(workspace, "frozen", "--resume", "--max-steps", "3", config=thawed) == 2
    assert 'cannot change:\n  train.freeze: ["decoder", "flow"] -> ["decoder"]' in caplog.text


def test_validation_mel_loss_falls(workspace: Path) -> None:
    """A short run (learning rate raised to 1e-3 to keep it short): the validation mel L1 after 20 steps
    is clearly below the untrained one at step 0. ``benchmarks/learning_curve.py`` runs the real curve."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = config_variant(workspace, "learn", train=dict(eval_interval=20, log_interval=10, learning_rate=1e-3))
    assert _train(workspace, "learn", "--max-steps", "20", config=config) == 0
    events = EventAccumulator(str(workspace / "logs" / "learn"), size_guidance={"scalars": 0})
    events.Reload()
    curve = {e.step: e.value for e in events.Scalars("val/mel_l1")}
    assert set(curve) == {0, 20}
    assert curve[20] < 0.9 * curve[0], curve


def test_resume_with_a_different_model_config_is_an_error(workspace: Path, uninterrupted: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    folder = workspace / "checkpoints" / uninterrupted
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    raw["model"]["hidden_channels"] = 48
    config = workspace / "wider.json"
    config.write_text(json.dumps(raw), encoding="utf-8")
    other_logs = str(workspace / "logs_wider")  # keeps the reference run's log folder to itself
    assert _train(workspace, uninterrupted, "--resume", "--logs-dir", other_logs, config=config) == 2
    assert "cannot change:\n  model.hidden_channels: 32 -> 48" in caplog.text
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # nothing rewritten
