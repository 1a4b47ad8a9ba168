"""The server on the torch-free runtime: ``python -m melo.serve --model DIR`` with a folder written by
``python -m melo.export`` serves ``melo.onnx.OnnxTTS``; audio and input errors as with ``melo.api.TTS``."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from melo.onnx import OnnxTTS
from melo.serve.__main__ import _load
from melo.serve.app import create_app
from melo.serve.settings import ServeSettings
from tests.serve_helpers import ServerThread, build_tiny_checkpoint, request, wait_healthy

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> Path:
    from melo.export.__main__ import main

    root = tmp_path_factory.mktemp("serve_onnx")
    checkpoint = build_tiny_checkpoint(root, tiny_encoder_dir)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["--model", str(checkpoint), "--out", str(root / "onnx"), "--no-int8", "--log-level", "warning"]) == 0
    return root / "onnx"


def _args(model: Path, **overrides) -> argparse.Namespace:
    return argparse.Namespace(**{"model": str(model), "config": None, "device": "auto", "precision": "auto", **overrides})


def test_an_exported_folder_is_served_with_onnxruntime(exported: Path) -> None:
    assert isinstance(_load(_args(exported, precision="fp32")), OnnxTTS)
    with pytest.raises(ValueError, match="is an ONNX export: it carries its own config and runs on CPU"):
        _load(_args(exported, device="cuda"))


def test_onnx_server_answers_speech_and_input_errors(exported: Path) -> None:
    tts = OnnxTTS(exported, precision="fp32", threads=1)
    running = ServerThread(create_app(tts, ServeSettings()))
    try:
        wait_healthy(running.port)
        status, headers, body = request(running.port, "POST", "/v1/audio/speech",
                                        {"input": "안녕하세요. Hello there.", "response_format": "wav"})
        assert status == 200 and headers["content-type"] == "audio/wav"
        audio, rate = sf.read(io.BytesIO(body), dtype="float32")
        assert rate == tts.sample_rate and audio.shape[0] > rate // 10 and np.isfinite(audio).all()
        status, _, body = request(running.port, "POST", "/v1/audio/speech", {"input": "Hello.", "voice": "nobody"})
        assert status == 400 and b"unknown voice 'nobody'; known: alice (0), bruno (1)" in body
        # the runtime's own SynthesisError (nothing to say) is the API's input error, as with melo.api.TTS
        status, _, body = request(running.port, "POST", "/v1/audio/speech", {"input": "?!..."})
        assert status == 400 and b'"code":"invalid_input"' in body and b"nothing pronounceable" in body, body
    finally:
        running.stop()
