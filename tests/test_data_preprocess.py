"""Preprocessing on a filelist with every kind of bad row; idempotence; cache invalidation."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from melo.config import Config
from melo.data import preprocess as P
from melo.data.filelist import ERROR, FIXED, WARNING

from . import _data_fakes

SR = 44100


def _tone(seconds: float, sr: int = SR, amp: float = 0.3, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def _write(path: Path, samples: np.ndarray, sr: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.clip(samples, -1, 1), sr, subtype="PCM_16")


# (line, kind, severity) every bad row must produce; lines are 1-based in the list written below.
TRAIN_LINES = [
    ("wavs/good1.wav", "Hello there.", "alice", "EN", None),  # 1
    ("wavs/good2.wav", "안녕하세요.", "bob", "KR", None),  # 2
    ("wavs/good3.wav", "Good morning", "alice", "", None),  # 3 empty LANG: detect
    ("wavs/good4.wav", "오늘 meeting 합니다", "bob", None, None),  # 4 no LANG field
    ("wavs/corrupt.wav", "Corrupt bytes.", "alice", "EN", ("unreadable", ERROR)),  # 5
    ("wavs/silent.wav", "Silence.", "alice", "EN", ("silent", ERROR)),  # 6
    ("wavs/short.wav", "Short.", "alice", "EN", ("too-short", ERROR)),  # 7
    ("wavs/long.wav", "Long.", "alice", "EN", ("too-long", ERROR)),  # 8
    ("wavs/rate22k.wav", "Twenty two kilohertz.", "bob", "EN", ("resampled", FIXED)),  # 9
    ("wavs/stereo.wav", "Stereo clip.", "bob", "EN", ("stereo", FIXED)),  # 10
    ("wavs/clipped.wav", "Clipped clip.", "alice", "EN", ("clipped", WARNING)),  # 11
    ("wavs/missing.wav", "Missing file.", "alice", "EN", ("missing-file", ERROR)),  # 12
    ("wavs/good5.wav", "", "alice", "EN", ("empty-text", ERROR)),  # 13
    ("wavs/good6.wav", "Bonjour.", "alice", "FR", ("unknown-language", ERROR)),  # 14
    ("wavs/good7.wav", "😀😀", "alice", "", ("unpronounceable", ERROR)),  # 15
    ("wavs/good1.wav", "Hello there.", "alice", "EN", ("duplicate", ERROR)),  # 16
    ("wavs/zero.wav", "Zero samples.", "bob", "EN", ("empty-audio", ERROR)),  # 17
    ("wavs/good8.wav", "Smile 😀 please", "bob", "EN", ("dropped-chars", WARNING)),  # 18
]
RAW_BAD_TRAIN = [
    (b"wavs/good9.wav|Two fields only", ("field-count", ERROR)),  # 19
    (b"wavs/good9.wav|a|b|alice|EN", ("stray-pipe", ERROR)),  # 20
    ("wavs/good9.wav|caf\u00e9|alice|EN".encode("latin-1"), ("undecodable", ERROR)),  # 21
]
VAL_LINES = [
    ("wavs/val1.wav", "Validation line.", "alice", "EN", None),  # 1
    ("wavs/val2.wav", "Unseen speaker.", "carol", "EN", ("val-speaker-unseen", WARNING)),  # 2
]
GOOD_TRAIN = {1, 2, 3, 4, 9, 10, 11, 18}
GOOD_VAL = {1, 2}


@pytest.fixture()
def messy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    _data_fakes.install(monkeypatch)
    root = tmp_path / "data"
    wavs = root / "wavs"
    for i in range(1, 10):
        _write(wavs / f"good{i}.wav", _tone(0.8 + 0.1 * i, freq=200 + 20 * i))
    for name in ("val1", "val2"):
        _write(wavs / f"{name}.wav", _tone(0.7, freq=330))
    (wavs / "corrupt.wav").write_bytes(b"RIFF\x00\x01\x02not really a wave file" + bytes(range(200)))
    _write(wavs / "silent.wav", np.zeros(SR, dtype=np.float32))
    _write(wavs / "short.wav", _tone(0.1))
    _write(wavs / "long.wav", _tone(3.5))
    _write(wavs / "rate22k.wav", _tone(1.0, sr=22050), sr=22050)
    _write(wavs / "stereo.wav", _tone(1.0, channels=2))
    _write(wavs / "clipped.wav", _tone(1.0, amp=3.0))
    _write(wavs / "zero.wav", np.zeros(0, dtype=np.float32))

    def fmt(lines):
        out = []
        for wav, text, spk, lang, _ in lines:
            fields = [wav, text, spk] + ([] if lang is None else [lang])
            out.append("|".join(fields).encode("utf-8"))
        return out

    train = fmt(TRAIN_LINES) + [raw for raw, _ in RAW_BAD_TRAIN]
    (root / "train_list.txt").write_bytes(b"\n".join(train) + b"\n")
    (root / "val_list.txt").write_bytes(b"\n".join(fmt(VAL_LINES)) + b"\n")
    return Config().replace(
        data={
            "training_files": str(root / "train_list.txt"),
            "validation_files": str(root / "val_list.txt"),
            "bert_model": "fake-encoder",
            "max_audio_seconds": 3.0,
            "n_speakers": 8,
        }
    )


def _expected() -> set[tuple[str, int, str, str]]:
    exp = set()
    for i, (*_, bad) in enumerate(TRAIN_LINES, start=1):
        if bad:
            exp.add(("train_list.txt", i, *bad))
    for j, (_, bad) in enumerate(RAW_BAD_TRAIN, start=len(TRAIN_LINES) + 1):
        exp.add(("train_list.txt", j, *bad))
    for i, (*_, bad) in enumerate(VAL_LINES, start=1):
        if bad:
            exp.add(("val_list.txt", i, *bad))
    return exp


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_every_bad_row_is_reported_with_line_and_reason(messy: Config) -> None:
    prepared = P.prepare(messy, progress=False)
    found = {(p.filelist.name, p.line, p.kind, p.severity) for p in prepared.report.problems}
    assert found == _expected()
    for p in prepared.report.problems:
        assert str(p).startswith(f"{p.filelist}:{p.line}: ")
    report_txt = (prepared.cache_dir / "report.txt").read_text(encoding="utf-8")
    for p in prepared.report.problems:
        assert str(p) in report_txt
    train = P.load_manifest(prepared.train_manifest)
    val = P.load_manifest(prepared.val_manifest)
    assert {int(it.key.split(":")[1]) for it in train.items} == GOOD_TRAIN
    assert {int(it.key.split(":")[1]) for it in val.items} == GOOD_VAL
    for m in (train, val):
        for it in m.items:
            assert m.audio_path(it).exists() and m.phonemes_path(it).exists() and m.features_path(it).exists()
            assert it.wav_length == it.spec_length * messy.data.hop_length
    # speakers in order of first appearance, train then val
    assert prepared.config.data.spk2id == {"alice": 0, "bob": 1, "carol": 2}
    assert P.load_manifest(prepared.train_manifest).items[1].speaker_id == 1
    assert "spk2id" in prepared.config_path.read_text(encoding="utf-8")


def test_second_run_is_a_noop(messy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    first = P.prepare(messy, progress=False)
    assert first.report.computed["audio"] > 0 and first.report.computed["features"] > 0
    assert P.is_fresh(messy)
    before = _snapshot(first.cache_dir)

    import importlib

    import melo.text

    features = importlib.import_module("melo.features")

    def boom(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("recomputed on a warm run")

    monkeypatch.setattr(melo.text, "phonemize", boom)
    monkeypatch.setattr(features.FeatureExtractor, "extract_batch", boom)
    monkeypatch.setattr("melo.audio.load_audio", boom)
    second = P.prepare(messy, progress=False)
    assert second.wrote == ()
    assert _snapshot(first.cache_dir) == before
    assert sum(second.report.computed.values()) == 0
    assert second.report.reused["audio"] > 0
    assert {str(p) for p in second.report.problems} == {str(p) for p in first.report.problems}


def test_changed_wav_is_recomputed(messy: Config) -> None:
    first = P.prepare(messy, progress=False)
    wav = Path(messy.data.training_files).parent / "wavs" / "good1.wav"
    _write(wav, _tone(1.5, freq=500))
    assert not P.is_fresh(messy)
    second = P.prepare(messy, progress=False)
    assert second.report.computed["audio"] == 1
    assert second.report.computed["phonemes"] == 0 and second.report.computed["features"] == 0
    item = P.load_manifest(second.train_manifest).items[0]
    assert item.spec_length == int(1.5 * SR) // messy.data.hop_length
    assert first.report.good == second.report.good


def test_sampling_rate_invalidates_audio_only(messy: Config) -> None:
    first = P.prepare(messy, progress=False)
    first_items = P.load_manifest(first.train_manifest).items
    changed = messy.replace(data={"sampling_rate": 22050})
    assert not P.is_fresh(changed)
    second = P.prepare(changed, progress=False)
    n_audio = first.report.computed["audio"]
    assert second.report.computed["audio"] == n_audio
    assert second.report.computed["phonemes"] == 0 and second.report.computed["features"] == 0
    second_items = P.load_manifest(second.train_manifest).items
    assert all(a.audio != b.audio for a, b in zip(first_items, second_items))
    assert all(a.features == b.features for a, b in zip(first_items, second_items))
    # now the 22.05 kHz row is native and the 44.1 kHz rows are the resampled ones
    resampled = {p.line for p in second.report.problems if p.kind == "resampled" and p.filelist.name == "train_list.txt"}
    assert 9 not in resampled and {1, 2, 3, 4} <= resampled


@pytest.mark.parametrize("change", [{"bert_model": "another-encoder"}, {"bert_layer": -2}])
def test_encoder_change_invalidates_features_only(messy: Config, change: dict) -> None:
    first = P.prepare(messy, progress=False)
    a = P.load_manifest(first.train_manifest).items
    second = P.prepare(messy.replace(data=change), progress=False)
    assert second.report.computed["features"] == first.report.computed["features"] > 0
    assert second.report.computed["audio"] == 0 and second.report.computed["phonemes"] == 0
    b = P.load_manifest(second.train_manifest).items
    assert all(x.features != y.features and x.audio == y.audio for x, y in zip(a, b))


def test_strict_makes_bad_rows_fatal(messy: Config) -> None:
    with pytest.raises(P.DataError, match=r"train_list.txt:5: unreadable or corrupt audio"):
        P.prepare(messy, strict=True, progress=False)


def test_too_many_speakers_is_an_error_naming_the_count(messy: Config) -> None:
    with pytest.raises(P.DataError, match=r"found 3 speakers .* data.n_speakers is 2"):
        P.prepare(messy.replace(data={"n_speakers": 2}), progress=False)


def test_cli_exit_status_and_stderr(messy: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from melo.preprocess import main

    cfg = tmp_path / "config.json"
    messy.save(cfg)
    assert main(["--config", str(cfg), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert f"{messy.data.training_files}:12: audio file not found" in captured.err
    assert "split   rows  good" in captured.out
    assert main(["--config", str(cfg), "--no-progress", "--strict"]) == 2

    # no good training row left -> non-zero
    train = Path(messy.data.training_files)
    train.write_text("wavs/missing.wav|Nothing here.|alice|EN\n", encoding="utf-8")
    assert main(["--config", str(cfg), "--no-progress"]) == 1


def test_workers_give_the_same_caches(messy: Config, tmp_path: Path) -> None:
    one = P.prepare(messy.replace(data={"cache_dir": str(tmp_path / "c1")}), progress=False)
    two = P.prepare(messy.replace(data={"cache_dir": str(tmp_path / "c2")}), workers=2, progress=False)
    a = P.load_manifest(one.train_manifest).items
    b = P.load_manifest(two.train_manifest).items
    assert a == b
    for x in a:
        pa = Path(one.cache_dir) / "audio" / x.audio[:2] / f"{x.audio}.npz"
        pb = Path(two.cache_dir) / "audio" / x.audio[:2] / f"{x.audio}.npz"
        assert pa.read_bytes() == pb.read_bytes()
    assert os.path.exists(two.cache_dir / "report.txt")
