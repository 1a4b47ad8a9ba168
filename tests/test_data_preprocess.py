"""Preprocessing on a filelist with every kind of bad row; idempotence; cache invalidation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from data_messy import GOOD_TRAIN, GOOD_VAL, SR, build_messy_dataset, expected_problems, tone, write_wav

from melo.config import Config
from melo.data import preprocess as P



@pytest.fixture()
def messy(tmp_path: Path, tiny_encoder_dir: Path) -> Config:
    return build_messy_dataset(tmp_path, tiny_encoder_dir)


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()}


def test_every_bad_row_is_reported_with_line_and_reason(messy: Config) -> None:
    prepared = P.prepare(messy, progress=False)
    found = {(p.filelist.name, p.line, p.kind, p.severity) for p in prepared.report.problems}
    assert found == expected_problems()
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

    import melo.features
    import melo.text

    def boom(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("recomputed on a warm run")

    monkeypatch.setattr(melo.text, "phonemize", boom)
    monkeypatch.setattr(melo.features.FeatureExtractor, "extract_batch", boom)
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
    write_wav(wav, tone(1.5, freq=500))
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


@pytest.mark.parametrize("change", ["bert_model", "bert_layer", "bert_precision"])
def test_encoder_change_invalidates_features_only(messy: Config, change: str, tmp_path: Path) -> None:
    if change == "bert_model":
        other = tmp_path / "another_encoder"
        shutil.copytree(messy.data.bert_model, other)
        changed = messy.replace(data={"bert_model": str(other)})
    elif change == "bert_layer":
        changed = messy.replace(data={"bert_layer": -2})
    else:
        changed = messy.replace(data={"bert_precision": "int8"})
    first = P.prepare(messy, progress=False)
    a = P.load_manifest(first.train_manifest).items
    assert not P.is_fresh(changed)
    second = P.prepare(changed, progress=False)
    assert second.report.computed["features"] == first.report.computed["features"] > 0
    assert second.report.computed["audio"] == 0 and second.report.computed["phonemes"] == 0
    b = P.load_manifest(second.train_manifest).items
    assert all(x.features != y.features and x.audio == y.audio for x, y in zip(a, b))


def test_fast_encoder_precision_gives_features_close_to_fp32(messy: Config) -> None:
    import numpy as np

    exact = P.load_manifest(P.prepare(messy, progress=False).train_manifest)
    fast = P.load_manifest(P.prepare(messy.replace(data={"bert_precision": "bf16"}), progress=False).train_manifest)
    for a, b in zip(exact.items, fast.items):
        x = np.load(exact.features_path(a)).astype(np.float32)
        y = np.load(fast.features_path(b)).astype(np.float32)
        assert x.shape == y.shape
        assert 0 < np.linalg.norm(x - y) / np.linalg.norm(x) < 0.1


def test_unknown_encoder_precision_is_a_config_error(messy: Config) -> None:
    from melo.config import ConfigError

    with pytest.raises(ConfigError, match="data.bert_precision"):
        messy.replace(data={"bert_precision": "int4"})


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
    assert "split   rows  good     audio" in captured.out
    assert main(["--config", str(cfg), "--no-progress", "--strict"]) == 2

    # no good training row left -> non-zero
    train = Path(messy.data.training_files)
    train.write_text("wavs/missing.wav|Nothing here.|alice|EN\n", encoding="utf-8")
    assert main(["--config", str(cfg), "--no-progress"]) == 1


def test_workers_give_the_same_caches(messy: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(P, "PARALLEL_MIN_JOBS", 0)  # use the process pool even for this small list
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


def test_is_fresh_ignores_training_settings(messy: Config) -> None:
    P.prepare(messy, progress=False)
    assert P.is_fresh(messy.replace(train={"learning_rate": 1e-4}))
    assert not P.is_fresh(messy.replace(data={"add_blank": False}))
    assert not P.is_fresh(messy.replace(data={"validation_files": messy.data.training_files}))


def test_changed_text_and_deleted_entry_recompute_only_themselves(messy: Config) -> None:
    P.prepare(messy, progress=False)
    train = Path(messy.data.training_files)
    lines = train.read_bytes().split(b"\n")
    lines[0] = b"wavs/good1.wav|Hello again.|alice|EN"
    train.write_bytes(b"\n".join(lines))
    changed = P.prepare(messy, progress=False)
    assert (changed.report.computed["audio"], changed.report.computed["phonemes"], changed.report.computed["features"]) == (0, 1, 1)
    item = P.load_manifest(changed.train_manifest).items[0]
    assert item.text == "Hello again."
    manifest = P.load_manifest(changed.train_manifest)
    manifest.audio_path(manifest.items[1]).unlink()  # e.g. an interrupted copy of the cache
    repaired = P.prepare(messy, progress=False)
    assert (repaired.report.computed["audio"], repaired.report.computed["phonemes"], repaired.report.computed["features"]) == (1, 0, 0)
    assert manifest.audio_path(manifest.items[1]).exists()


def test_load_prepared_reads_back_without_the_encoder(messy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(P.DataError, match="run python -m melo.preprocess"):
        P.load_prepared(messy)
    prepared = P.prepare(messy, progress=False)
    import melo.features

    monkeypatch.setattr(melo.features.FeatureExtractor, "from_config", None)  # would fail if called
    loaded = P.load_prepared(messy)
    assert loaded.config == prepared.config
    assert (loaded.train_manifest, loaded.val_manifest) == (prepared.train_manifest, prepared.val_manifest)
    assert [str(p) for p in loaded.report.problems] == [str(p) for p in prepared.report.problems]
    assert loaded.report.good == prepared.report.good


def test_widening_the_length_limit_admits_the_long_clip(messy: Config) -> None:
    first = P.prepare(messy, progress=False)
    assert any(p.kind == "too-long" for p in first.report.problems)
    wider = P.prepare(messy.replace(data={"max_audio_seconds": 4.0}), progress=False)
    assert not any(p.kind == "too-long" for p in wider.report.problems)
    assert wider.report.computed["audio"] == 1  # only long.wav's arrays; its measurements were cached
    assert wider.report.good["train"] == first.report.good["train"] + 1


def test_missing_encoder_is_a_fatal_error_naming_it(messy: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from melo.preprocess import main

    cfg = tmp_path / "config.json"
    messy.replace(data={"bert_model": str(tmp_path / "no_such_encoder")}).save(cfg)
    assert main(["--config", str(cfg), "--no-progress"]) == 2
    assert "no_such_encoder" in capsys.readouterr().err
