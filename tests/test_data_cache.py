"""Cache keys, atomic writes and the wav-hash memo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from melo.data import cache as C
from melo.files import atomic_write, write_bytes_atomic, write_if_changed


def test_keys_change_with_every_input() -> None:
    base = dict(wav_hash="h", sampling_rate=44100, filter_length=2048, hop_length=512, win_length=2048)
    key = C.audio_key(**base)
    assert key == C.audio_key(**base)
    for field, value in [("wav_hash", "h2"), ("sampling_rate", 22050), ("filter_length", 1024), ("hop_length", 256), ("win_length", 1024)]:
        assert C.audio_key(**{**base, field: value}) != key, field
    p = C.phoneme_key("text", "EN", "sym", True)
    assert len({p, C.phoneme_key("text2", "EN", "sym", True), C.phoneme_key("text", None, "sym", True),
                C.phoneme_key("text", "EN", "sym2", True), C.phoneme_key("text", "EN", "sym", False)}) == 5
    f = C.feature_key(p, "fp", "model", -3, True)
    assert len({f, C.feature_key("other", "fp", "model", -3, True), C.feature_key(p, "fp2", "model", -3, True),
                C.feature_key(p, "fp", "model2", -3, True), C.feature_key(p, "fp", "model", -2, True)}) == 5


def test_format_version_is_part_of_every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    before = C.phoneme_key("t", "EN", "s", True)
    monkeypatch.setattr(C, "FORMAT_VERSION", C.FORMAT_VERSION + 1)
    assert C.phoneme_key("t", "EN", "s", True) != before


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.bin"

    def half_then_fail(tmp: Path) -> None:
        tmp.write_bytes(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert not target.exists() and list(target.parent.iterdir()) == []
    write_bytes_atomic(target, b"ok")
    assert target.read_bytes() == b"ok"
    assert not write_if_changed(target, b"ok")
    assert write_if_changed(target, b"new") and target.read_bytes() == b"new"


def test_wav_hash_index_memoises_by_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wav = tmp_path / "x.wav"
    wav.write_bytes(b"abc")
    calls: list[Path] = []
    real = C.file_hash
    monkeypatch.setattr(C, "file_hash", lambda p: calls.append(p) or real(p))
    index = C.WavHashIndex(tmp_path / "index.json")
    h1 = index.hash(wav)
    assert index.save() and not index.save()
    again = C.WavHashIndex(tmp_path / "index.json")
    assert again.hash(wav) == h1 and len(calls) == 1  # served from the saved memo
    wav.write_bytes(b"abd")
    os.utime(wav, ns=(wav.stat().st_atime_ns, wav.stat().st_mtime_ns + 10**9))
    assert again.hash(wav) != h1 and len(calls) == 2
