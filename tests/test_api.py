"""Inference: melo.api.TTS and python -m melo.infer on a tiny model trained here (2 steps on the demo corpus).

The tiny model is untrained noise with a random stand-in encoder: these tests check plumbing, shapes,
durations, determinism and errors, not voice quality.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from melo.api import TTS, SynthesisError, resolve_device
from sample_texts import SAMPLE_TEXTS as TEXTS

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, demo_corpus_dir: Path, tiny_encoder_dir: Path) -> Path:
    """G_latest.pth of a tiny model trained for 2 steps (its config points at the stand-in encoder)."""
    import melo.train

    root = tmp_path_factory.mktemp("api")
    raw = json.loads((REPO / "configs" / "tiny.json").read_text(encoding="utf-8"))
    raw["data"].update(
        training_files=str(demo_corpus_dir / "train_list.txt"),
        validation_files=str(demo_corpus_dir / "val_list.txt"),
        cache_dir=str(root / "cache"),
        bert_model=str(tiny_encoder_dir),
    )
    raw["train"].update(eval_interval=2, log_interval=1, num_workers=0)
    (root / "tiny.json").write_text(json.dumps(raw), encoding="utf-8")
    argv = ["--config", str(root / "tiny.json"), "--model", "api", "--device", "cpu", "--max-steps", "2",
            "--checkpoints-dir", str(root / "checkpoints"), "--logs-dir", str(root / "logs")]
    assert melo.train.main(argv) == 0
    return root / "checkpoints" / "api" / "G_latest.pth"


@pytest.fixture(scope="module")
def tts(trained: Path) -> TTS:
    return TTS(trained, device="cpu")


def test_properties_come_from_the_checkpoint(tts: TTS) -> None:
    assert tts.sample_rate == 44100
    assert tts.speakers == {"alice": 0, "bruno": 1, "chen": 2, "dara": 3}
    assert tts.languages == ("KR", "EN", "ZH", "JP")


@pytest.mark.parametrize("name", list(TEXTS))
def test_every_speaker_reads_every_language_to_a_wav(tts: TTS, tmp_path: Path, name: str) -> None:
    from melo.text import phonemize
    from melo.text.split import split_sentences

    hop = tts.config.data.hop_length
    positions = sum(2 * len(phonemize(s)) + 1 for s in split_sentences(TEXTS[name]))
    for speaker in tts.speakers:
        out = tmp_path / f"{name}_{speaker}.wav"
        audio = tts.synthesize(TEXTS[name], speaker_id=speaker, output_path=out, seed=0)
        assert audio.dtype == np.float32 and audio.ndim == 1 and np.isfinite(audio).all()
        data, sr = sf.read(out)
        assert sr == 44100 and data.shape == audio.shape
        # every text position lasts at least one frame, and none absurdly long (untrained durations)
        assert positions * hop <= audio.shape[0] <= positions * hop * 40 + 44100


def test_speaker_by_name_and_by_number_give_the_same_audio(tts: TTS) -> None:
    a = tts.synthesize(TEXTS["mixed"], speaker_id="chen", seed=3)
    b = tts.synthesize(TEXTS["mixed"], speaker_id=2, seed=3)
    c = tts.synthesize(TEXTS["mixed"], speaker_id=1, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_speed_changes_length(tts: TTS) -> None:
    normal = tts.synthesize(TEXTS["EN"], seed=0, sdp_ratio=0.0)
    slow = tts.synthesize(TEXTS["EN"], seed=0, sdp_ratio=0.0, speed=0.5)
    assert 1.6 < slow.shape[0] / normal.shape[0] < 2.4


def test_stream_yields_one_chunk_per_sentence(tts: TTS) -> None:
    text = "First sentence. 두 번째 문장입니다. 第三句话。四番目の文です。"
    chunks = list(tts.stream(text, seed=0))
    assert len(chunks) == 4
    whole = tts.synthesize(text, seed=0)
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_unknown_speaker_lists_the_known_ones(tts: TTS) -> None:
    with pytest.raises(SynthesisError, match="unknown speaker 'bob'; known: alice, bruno, chen, dara"):
        tts.synthesize("hello", speaker_id="bob")
    with pytest.raises(SynthesisError, match=r"speaker_id 5 was never trained; known: alice=0"):
        tts.synthesize("hello", speaker_id=5)
    with pytest.raises(SynthesisError, match=r"out of range \[0, 8\)"):
        tts.synthesize("hello", speaker_id=99)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_is_an_error(tts: TTS, text: str) -> None:
    with pytest.raises(SynthesisError, match="text is empty"):
        tts.synthesize(text)


def test_unpronounceable_text_is_an_error(tts: TTS) -> None:
    with pytest.raises(SynthesisError, match="nothing pronounceable"):
        tts.synthesize("👍 🎉")


def test_unknown_language_code_is_an_error(tts: TTS) -> None:
    with pytest.raises(ValueError, match="valid codes: KR, EN, ZH, JP"):
        tts.synthesize("hello", language="FR")


def test_unreadable_checkpoint_names_the_file_and_why(tmp_path: Path) -> None:
    bad = tmp_path / "G_latest.pth"
    bad.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(RuntimeError, match=rf"{bad}: cannot read checkpoint"):
        TTS(bad, device="cpu")
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        TTS(tmp_path / "missing.pth", device="cpu")
    torch.save({"hello": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(RuntimeError, match="not a melo generator checkpoint"):
        TTS(tmp_path / "other.pth", device="cpu")


def test_unavailable_device_is_an_error() -> None:
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            resolve_device(f"cuda:{torch.cuda.device_count()}")
    else:
        with pytest.raises(RuntimeError, match="'cuda' is not available: torch sees no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(RuntimeError, match="not supported"):
        resolve_device("tpu")
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_config_that_disagrees_with_the_checkpoint_names_the_field(trained: Path) -> None:
    with pytest.raises(ValueError, match=r"model\.inter_channels is 192 but the checkpoint .* was trained with 32"):
        TTS(trained, config_path=REPO / "configs" / "config_bge_m3.json", device="cpu")


def test_fp32_precision_is_close_to_the_fast_path(tts: TTS, trained: Path) -> None:
    exact = TTS(trained, device="cpu", precision="fp32")
    a = exact.synthesize(TEXTS["KR"], seed=0, sdp_ratio=0.0, noise_scale=0.0)
    b = tts.synthesize(TEXTS["KR"], seed=0, sdp_ratio=0.0, noise_scale=0.0)
    assert a.shape == b.shape


def test_int8_precision_decodes_int8_on_cpu_and_other_precisions_are_refused(tts: TTS, trained: Path) -> None:
    from melo.runtime.precision import int8_decoder_supported

    fast = TTS(trained, device="cpu", precision="int8")
    assert fast.engine.precision.decoder == (torch.int8 if int8_decoder_supported("cpu") else tts.engine.precision.decoder)
    assert fast.engine.precision.flow == tts.engine.precision.flow and fast.engine.precision.text == tts.engine.precision.text
    a = fast.synthesize(TEXTS["EN"], seed=0, sdp_ratio=0.0, noise_scale=0.0)
    assert a.dtype == np.float32 and a.shape == tts.synthesize(TEXTS["EN"], seed=0, sdp_ratio=0.0, noise_scale=0.0).shape
    with pytest.raises(ValueError, match="precision must be one of 'auto', 'int8', 'fp32', got 'int4'"):
        TTS(trained, device="cpu", precision="int4")


def test_int8_precision_falls_back_to_the_fast_path_without_an_int8_decoder(trained: Path, monkeypatch) -> None:
    import melo.runtime.precision

    monkeypatch.setattr(melo.runtime.precision, "int8_decoder_supported", lambda device: False)
    tts = TTS(trained, device="cpu", precision="int8")
    assert tts.engine.precision.decoder == melo.runtime.precision.fast_decoder_dtype("cpu")


def test_cli_lists_speakers_and_writes_a_wav(trained: Path, tmp_path: Path) -> None:
    run = [sys.executable, "-m", "melo.infer", "--model", str(trained)]
    r = subprocess.run(run + ["--list-speakers"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "alice", "1", "bruno", "2", "chen", "3", "dara"]
    out = tmp_path / "cli.wav"
    r = subprocess.run(run + ["--text", TEXTS["mixed"], "--speaker", "dara", "--output", str(out), "--device", "cpu"],
                       capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, r.stderr
    assert out.is_file() and sf.info(out).samplerate == 44100
    r = subprocess.run(run + ["--text", "hi", "--speaker", "zed", "--output", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 2 and "unknown speaker 'zed'; known: alice, bruno, chen, dara" in r.stderr


def test_warmup_loads_every_language_backend(tts: TTS) -> None:
    import sys

    tts.warmup()
    assert {"melo.text.korean", "melo.text.english", "melo.text.chinese", "melo.text.japanese"} <= set(sys.modules)


def test_cli_precision_choices_are_the_api_ones(capsys) -> None:
    from melo.api import PRECISIONS
    from melo.infer import _parse

    assert PRECISIONS == ("auto", "int8", "fp32")
    for precision in PRECISIONS:
        assert _parse(["--model", "G.pth", "--text", "hi", "--precision", precision]).precision == precision
    with pytest.raises(SystemExit):
        _parse(["--model", "G.pth", "--text", "hi", "--precision", "int4"])
    assert "invalid choice: 'int4'" in capsys.readouterr().err
