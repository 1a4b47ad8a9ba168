"""Synthesis input checked before any work starts: numbers that are not finite or out of range, text that is
not a str or says nothing, output paths with no format or that are folders, a text file as checkpoint; and the
output format chosen from the extension."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import soundfile as sf
from fifo_readers import unblock_fifo_readers  # noqa: F401 -- fixture

from melo import infer
from melo.api import TTS, SynthesisError
from melo.checkpoint import CheckpointError
from test_api import trained, tts  # noqa: F401 -- fixtures


@pytest.fixture()
def no_synthesis(tts: TTS, monkeypatch: pytest.MonkeyPatch) -> TTS:
    """``tts`` with synthesis replaced by a failure: a check that passes lets the test fail."""
    def fail(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("synthesis started although an argument is bad")

    monkeypatch.setattr(tts, "_sentence_audio", fail)
    return tts


@pytest.mark.parametrize("name, value, reason", [
    ("noise_scale", math.nan, "noise_scale must be a finite number, got nan"),
    ("noise_scale_w", -1.0, "noise_scale_w must be in [0, 10], got -1.0"),
    ("speed", math.inf, "speed must be a finite number, got inf"),
    ("speed", "fast", "speed must be a number, got str 'fast'"),
    ("speed", 0, "speed must be in [0.1, 10], got 0"),
    ("sdp_ratio", 2.0, "sdp_ratio must be in [0, 1], got 2.0"),
    ("seed", 1.5, "seed must be an integer or None, got 1.5"),
])
def test_bad_numbers_are_refused_before_synthesis(no_synthesis: TTS, name: str, value: object, reason: str) -> None:
    with pytest.raises(SynthesisError) as e:
        no_synthesis.synthesize("Hello.", **{name: value})
    assert str(e.value) == reason


def test_bytes_text_is_refused_with_the_fix(no_synthesis: TTS) -> None:
    with pytest.raises(SynthesisError, match=r"text must be a str, got bytes; decode it first"):
        no_synthesis.synthesize(b"Hello.")  # type: ignore[arg-type]


@pytest.mark.parametrize("language", [None, "KR", "EN", "ZH", "JP"])
@pytest.mark.parametrize("text", ["?!...", "Привет, как дела?"])
def test_text_with_nothing_to_say_is_an_error_in_every_language(tts: TTS, text: str, language: str | None) -> None:
    with pytest.raises(SynthesisError, match="nothing pronounceable"):
        tts.synthesize(text, language=language)


@pytest.mark.parametrize("output, reason", [
    ("out", "has no extension; supported: .wav, .flac, .mp3, .opus, .ogg, .pcm, .raw"),
    ("out.aac", "has extension '.aac'; supported: .wav"),
    (".", "is a directory; give a file name such as"),
])
def test_output_without_a_format_or_a_folder_is_refused_before_synthesis(no_synthesis: TTS, tmp_path: Path,
                                                                         output: str, reason: str) -> None:
    with pytest.raises(SynthesisError, match=reason):
        no_synthesis.synthesize("Hello.", output_path=tmp_path / output)


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".flac", "PCM_16"), (".mp3", "MPEG_LAYER_III")])
def test_output_format_follows_the_extension(tts: TTS, tmp_path: Path, suffix: str, subtype: str) -> None:
    path = tmp_path / f"hello{suffix}"
    audio = tts.synthesize("Hello.", output_path=path, seed=0)
    info = sf.info(str(path))
    assert info.subtype == subtype and info.samplerate == tts.sample_rate
    assert abs(info.frames - audio.shape[0]) < 0.1 * tts.sample_rate  # MP3 pads a little


def test_a_text_file_given_as_checkpoint_says_so(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Once upon a time there was a voice.\n", encoding="utf-8")
    with pytest.raises(CheckpointError, match=r"story.txt: cannot read checkpoint: it is a text file \('Once upon"):
        TTS(story, device="cpu")


def test_cli_reports_an_output_folder_and_a_fifo_text_file_in_one_line(
        trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture, unblock_fifo_readers: None) -> None:
    assert infer.main(["--model", str(trained), "--text", "Hello.", "--output", str(tmp_path), "--device", "cpu"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: output {tmp_path} is a directory; give a file name such as "
                                               f"{tmp_path / 'out.wav'}")
    fifo = tmp_path / "story.txt"
    os.mkfifo(fifo)
    assert infer.main(["--model", str(trained), "--file", str(fifo), "--device", "cpu"]) == 2  # no hang
    assert capsys.readouterr().err.strip() == f"error: {fifo}: cannot read text: it is a FIFO (named pipe), not a file"
    assert [p.name for p in tmp_path.iterdir()] == ["story.txt"]  # nothing written
