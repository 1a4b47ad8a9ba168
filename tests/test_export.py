"""ONNX export (python -m melo.export) and the torch-free runtime (melo.onnx.OnnxTTS) on the tiny model.

The model is configs/tiny.json with random weights, every parameter non-zero (a fresh model's flow and
spline projections start at zero, which would make them identities and hide a wrong export), and the tiny
stand-in encoder. The exported fp32 graphs must reproduce PyTorch's fp32 synthesis from text, under the noise
PyTorch drew, to within ``WAVEFORM_TOLERANCE`` for every language and length.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from sample_texts import SAMPLE_TEXTS

REPO = Path(__file__).resolve().parent.parent
SPEAKERS = {"alice": 0, "bruno": 1}
WAVEFORM_TOLERANCE = 1e-4
"""Largest |difference| allowed between the fp32 graphs' audio and PyTorch's (audio in [-1, 1]; the tiny model's
peak is ~0.15). Measured: ~1e-7 (float rounding)."""
TEXTS = {
    **SAMPLE_TEXTS,
    # one sentence of ~190 stand-in tokens: past its 126 content tokens, so it is encoded in two windows
    "long EN": ", ".join(["the quick brown fox jumps over the lazy dog near the river bank"] * 12) + ".",
}

pytestmark = pytest.mark.usefixtures("one_thread")


def _tiny_checkpoint(out_dir: Path, encoder_dir: Path) -> Path:
    from melo.checkpoint import save_latest
    from melo.config import load_config
    from melo.model import build_generator
    from melo.text import DEFAULT_TABLE

    config = load_config(REPO / "configs" / "tiny.json")
    config = config.replace(data={"bert_model": str(encoder_dir), "spk2id": SPEAKERS})
    torch.manual_seed(0)
    generator = build_generator(config, DEFAULT_TABLE)
    with torch.no_grad():
        for p in generator.parameters():
            if not p.abs().sum():
                p.normal_(0.0, 0.1)
    return save_latest(out_dir, 0, generator.state_dict(), config.to_dict(), DEFAULT_TABLE.to_dict(), SPEAKERS)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> tuple[Path, Path, str]:
    """(checkpoint, exported folder, what the CLI printed)."""
    import contextlib
    import io

    from melo.export.__main__ import main

    root = tmp_path_factory.mktemp("export")
    checkpoint = _tiny_checkpoint(root, tiny_encoder_dir)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["--model", str(checkpoint), "--out", str(root / "onnx"), "--log-level", "warning"]) == 0
    return checkpoint, root / "onnx", printed.getvalue()


@pytest.fixture(scope="module")
def torch_tts(exported: tuple[Path, Path, str]):
    from melo.api import TTS

    return TTS(exported[0], device="cpu", precision="fp32")


@pytest.fixture(scope="module")
def onnx_tts(exported: tuple[Path, Path, str]):
    from melo.onnx import OnnxTTS

    return OnnxTTS(exported[1], precision="fp32", threads=1)


@pytest.mark.slow
def test_export_writes_every_graph_the_tokenizer_and_the_manifest(exported: tuple[Path, Path, str]) -> None:
    from melo.onnx import read_manifest
    from melo.text import DEFAULT_TABLE

    _, folder, printed = exported
    manifest = read_manifest(folder)  # checks that every file it names exists
    assert set(manifest.graphs) == {"fp32", "int8"}
    assert manifest.sample_rate == 44100 and manifest.hop_length == 512
    assert manifest.speakers == SPEAKERS and manifest.n_speakers == 8
    assert manifest.symbols == DEFAULT_TABLE.to_dict()
    assert manifest.encoder.hidden_size == 64 and manifest.encoder.layer == -1 and manifest.encoder.max_tokens == 126
    assert manifest.encoder.stand_in  # the stand-in says what it is
    assert (folder / "tokenizer.json").is_file()
    # the self-check ran on several lengths and its fp32 verdict is stored and printed
    fp32 = manifest.check["fp32"]
    assert fp32["acoustic"]["lengths"] == [5, 23, 88] and all(fp32["acoustic"]["durations_equal"])
    assert fp32["acoustic"]["max_abs_error"] <= 1e-3 and fp32["encoder"]["max_abs_error"] <= 1e-3
    assert "fp32 vs PyTorch: durations equal at 3/3 lengths" in printed
    assert "int8 vs PyTorch" in printed and "encoder.int8.onnx" in printed


def test_graphs_take_any_length_and_hold_folded_weights(exported: tuple[Path, Path, str]) -> None:
    import onnx

    folder = exported[1]
    dynamic = {"text.onnx": {"phone_ids": 1, "bert": 2, "sdp_noise": 2}, "audio.onnx": {"noise": 2, "durations": 2},
               "encoder.onnx": {"input_ids": 1, "attention_mask": 1}}
    for name, axes in dynamic.items():
        graph = onnx.load(str(folder / name), load_external_data=False).graph
        inputs = {i.name: i.type.tensor_type.shape.dim for i in graph.input}
        for input_name, axis in axes.items():
            assert inputs[input_name][axis].dim_param, f"{name}: {input_name} axis {axis} is fixed"
        if name != "encoder.onnx":
            names = [w.name for w in graph.initializer]
            assert not [n for n in names if "parametrizations" in n or "original0" in n or "weight_g" in n], name


@pytest.mark.parametrize("name", list(TEXTS))
def test_onnx_fp32_matches_pytorch_for_the_same_noise(torch_tts, onnx_tts, name: str) -> None:
    from melo.export.adapter import RecordedNoise
    from melo.onnx import ReplayedNoise

    with RecordedNoise() as noise:
        want = torch_tts.synthesize(TEXTS[name], speaker_id="bruno", seed=7, sdp_ratio=0.5)
    got = onnx_tts.synthesize(TEXTS[name], speaker_id="bruno", sdp_ratio=0.5,
                              noise=ReplayedNoise([d.numpy() for d in noise.draws]))
    assert got.shape == want.shape  # same durations, so the same frame counts
    error = float(np.abs(got - want).max())
    assert error <= WAVEFORM_TOLERANCE, f"{name}: max |error| {error:.2e} (peak {np.abs(want).max():.3f})"


def test_features_match_the_pytorch_extractor_including_windows(torch_tts, onnx_tts) -> None:
    from melo.text import phonemize

    phonemes = phonemize(TEXTS["long EN"])
    tokens = len(onnx_tts.features.tokenize(phonemes.normalized))
    assert tokens > onnx_tts.manifest.encoder.max_tokens  # the windowed path
    want = torch_tts.features(phonemes).numpy()
    got = onnx_tts.features(phonemes)
    assert got.shape == want.shape and float(np.abs(got - want).max()) <= 1e-4


def test_int8_graphs_synthesise_and_their_error_is_measured(exported: tuple[Path, Path, str]) -> None:
    from melo.onnx import OnnxTTS, read_manifest

    folder = exported[1]
    for precision in ("int8", "auto"):
        audio = OnnxTTS(folder, precision=precision, threads=1).synthesize(TEXTS["KR"], seed=0)
        assert audio.dtype == np.float32 and np.isfinite(audio).all() and audio.size > 0
    encoder = read_manifest(folder).check["int8"]["encoder"]
    # dynamic int8 on the stand-in: ~1% of the largest hidden state (measured 0.9%); it is not exact
    assert 0 < encoder["max_abs_error"] <= 0.05 * encoder["peak"]


def test_runtime_has_the_api_shape_of_tts(onnx_tts, torch_tts) -> None:
    from melo.onnx import SynthesisError

    assert onnx_tts.speakers == torch_tts.speakers == SPEAKERS
    assert onnx_tts.sample_rate == torch_tts.sample_rate and onnx_tts.languages == torch_tts.languages
    chunks = list(onnx_tts.stream(TEXTS["KR"], speaker_id=1, seed=0))
    assert len(chunks) == 2 and all(c.dtype == np.float32 for c in chunks)
    assert np.array_equal(np.concatenate(chunks), onnx_tts.synthesize(TEXTS["KR"], speaker_id="bruno", seed=0))
    assert not np.array_equal(onnx_tts.synthesize(TEXTS["EN"], seed=1), onnx_tts.synthesize(TEXTS["EN"], seed=2))
    assert onnx_tts.last_timings.samples > 0
    with pytest.raises(SynthesisError, match="unknown speaker 'carol'; known: alice, bruno"):
        onnx_tts.synthesize("Hello.", speaker_id="carol")
    with pytest.raises(SynthesisError, match="never trained"):
        onnx_tts.synthesize("Hello.", speaker_id=5)
    with pytest.raises(SynthesisError, match="text is empty"):
        onnx_tts.synthesize("   ")


@pytest.mark.parametrize("arguments", [
    dict(noise_scale=float("nan")), dict(speed=0), dict(speed="fast"), dict(sdp_ratio=1.5), dict(pause_seconds=-1.0),
])
def test_runtime_refuses_bad_numbers_with_the_message_tts_gives(onnx_tts, torch_tts, arguments) -> None:
    from melo.onnx import SynthesisError

    with pytest.raises(SynthesisError) as from_torch:
        list(torch_tts.stream("Hello.", **arguments))
    with pytest.raises(SynthesisError) as from_onnx:
        list(onnx_tts.stream("Hello.", **arguments))
    assert str(from_onnx.value) == str(from_torch.value)
    assert next(iter(arguments)) in str(from_onnx.value)


def test_runtime_imports_and_runs_without_torch(exported: tuple[Path, Path, str], tmp_path: Path) -> None:
    """In a subprocess where importing torch raises, the runtime loads the folder and reads all four languages."""
    script = textwrap.dedent(f"""
        import sys

        class NoTorch:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("torch", "transformers"):
                    raise ImportError("torch is not installed here (test)")

        sys.meta_path.insert(0, NoTorch())
        try:
            import torch
        except ImportError:
            pass
        else:
            raise SystemExit("the blocker does not work")
        from melo.onnx import OnnxTTS

        tts = OnnxTTS({str(exported[1])!r}, threads=1)
        for text in ("안녕하세요.", "Hello there.", "你好。", "こんにちは。"):
            assert tts.synthesize(text, seed=0).size > 0
        tts.synthesize("Hello.", output_path={str(tmp_path / "out.wav")!r})
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
        print("loaded:", loaded)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded: []" in result.stdout
    assert (tmp_path / "out.wav").stat().st_size > 44


def test_cli_reports_a_missing_checkpoint(tmp_path: Path, capsys) -> None:
    from melo.export.__main__ import main

    assert main(["--model", str(tmp_path / "nope.pth"), "--out", str(tmp_path / "out")]) == 2
    assert str(tmp_path / "nope.pth") in capsys.readouterr().err


def test_manifest_errors_name_the_file_and_field(exported: tuple[Path, Path, str], tmp_path: Path) -> None:
    import shutil

    from melo.onnx import ManifestError, OnnxTTS, read_manifest

    with pytest.raises(ManifestError, match="melo-onnx.json: not found"):
        read_manifest(tmp_path)
    folder = tmp_path / "copy"
    shutil.copytree(exported[1], folder)
    manifest = folder / "melo-onnx.json"
    raw = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps({**raw, "sample_rate": "fast"}), encoding="utf-8")
    with pytest.raises(ManifestError, match="field 'sample_rate' has the wrong type"):
        read_manifest(folder)
    manifest.write_text(json.dumps(raw), encoding="utf-8")
    (folder / "audio.int8.onnx").unlink()
    with pytest.raises(ManifestError, match=r"graphs\.int8\.audio: .*audio\.int8\.onnx does not exist"):
        OnnxTTS(folder)


def test_a_graph_over_the_protobuf_limit_keeps_its_weights_in_one_side_file(tiny_encoder_dir: Path, tmp_path: Path,
                                                                              monkeypatch) -> None:
    """bge-m3 in fp32 (~2.1 GB) is over protobuf's 2 GiB; here the limit is lowered to 1 MiB so the stand-in is
    'large'. The graph must then hold no weights itself, and still load and run."""
    from transformers import AutoModel, AutoTokenizer

    import melo.export.graphs as graphs
    from melo.export.quantize import ENCODER_INT8_OPS, quantize_graph
    from melo.features.loading import prepare_encoder
    from melo.onnx.sessions import open_session

    monkeypatch.setattr(graphs, "TWO_GIB", 2**26 + 2**20)  # 1 MiB above the headroom _export keeps
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    encoder = prepare_encoder(AutoModel.from_pretrained(tiny_encoder_dir), -1, "fp32")
    path = graphs.export_encoder_graph(encoder, tokenizer.cls_token_id, tokenizer.sep_token_id, tmp_path / "encoder.onnx")
    assert (tmp_path / "encoder.onnx.data").stat().st_size > 2**20 > path.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["encoder.onnx", "encoder.onnx.data"]
    ids = np.array([[tokenizer.cls_token_id, 7, 8, 9, tokenizer.sep_token_id]], dtype=np.int64)
    (hidden,) = open_session(path).run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    with torch.no_grad():
        want = encoder(input_ids=torch.from_numpy(ids), attention_mask=torch.ones(1, 5, dtype=torch.long)).last_hidden_state
    assert float(np.abs(hidden - want.numpy()).max()) <= 1e-4
    target = quantize_graph(path, tmp_path / "encoder.int8.onnx", ENCODER_INT8_OPS)
    assert open_session(target).run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0].shape == hidden.shape
