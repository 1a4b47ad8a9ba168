"""Rows a model cannot learn from are reported with their own reason (``LIST:LINE: reason``) and left out;
speakers get ids only from the rows that were kept."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from data_messy import SR, tone, write_wav
from data_small import small_dataset
from fifo_readers import unblock_fifo_readers  # noqa: F401 -- fixture

from melo.data import preprocess as P


def _problems(prepared: P.PreparedData) -> dict[int, tuple[str, str]]:
    return {p.line: (p.kind, p.message) for p in prepared.report.problems if p.filelist.name == "train.txt"}


def test_a_speaker_of_rejected_rows_only_gets_no_id(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir, ["wavs/none.wav|Missing audio.|ghost|EN"])
    prepared = P.prepare(config, progress=False)
    assert _problems(prepared)[3][0] == "missing-file"
    assert prepared.config.data.spk2id == {"alice": 0, "bob": 1}


# -- rows that cannot train, each with its own reason ----------------------------------------------------

LONG_TEXT = "The quick brown fox jumps over the lazy dog near the river bank. " * 5  # ~320 characters
NFC_NAME, NFD_NAME = "caf\u00e9.wav", "cafe\u0301.wav"
BAD_ROWS = [  # (line in train.txt, filelist line, kind, words the reason must hold)
    (3, f"wavs/half_second.wav|{LONG_TEXT}|alice|EN", "too-many-phones", "per frame > data.max_phones_per_frame 1)"),
    (4, "wavs/long_clip.wav|Hi.|alice|EN", "too-few-phones", "data.min_phones_per_frame 0.02"),
    (5, "wavs/cut.wav|A clip cut short.|alice|EN", "truncated-audio", "the data chunk declares"),
    (6, "wavs/dc.wav|A constant level.|alice|EN", "no-speech", "constant level +0.200"),
    (7, "wavs/c.wav|?!...|alice|EN", "unpronounceable", "holds only punctuation"),
    (8, "wavs/d.wav|Привет, как дела?|alice|", "unpronounceable", "script no language here reads (CYRILLIC)"),
    (9, "wavs/../wavs/a.wav|Hello there.|alice|EN", "duplicate", "already used by train.txt:1"),
    (10, f"wavs/{NFC_NAME}|Coffee.|bob|EN", None, ""),
    (11, f"wavs/{NFD_NAME}|Coffee.|bob|EN", "duplicate", "already used by train.txt:10"),
    (12, f"wavs/n{NFC_NAME}|Coffee again.|bob|EN", "name-normalised", "the same name in another Unicode normalisation"),
    (13, "wavs/a\0.wav|A NUL byte.|bob|EN", "bad-path", "contains a NUL byte"),
    (14, "wavs|A folder.|bob|EN", "not-a-file", "is a directory"),
    (15, "wavs/pipe.wav|A named pipe.|bob|EN", "not-a-file", "is a FIFO"),
]


def _write_bad_wavs(wavs: Path) -> None:
    write_wav(wavs / "half_second.wav", tone(0.5))
    write_wav(wavs / "long_clip.wav", tone(8.0))
    write_wav(wavs / "full.wav", tone(1.0))
    data = (wavs / "full.wav").read_bytes()
    (wavs / "cut.wav").write_bytes(data[: len(data) // 2])
    write_wav(wavs / "dc.wav", np.full(SR, 0.2, dtype=np.float32))
    write_wav(wavs / "c.wav", tone(1.0, freq=500))
    write_wav(wavs / "d.wav", tone(1.0, freq=600))
    write_wav(wavs / NFC_NAME, tone(1.0, freq=700))
    write_wav(wavs / f"n{NFD_NAME}", tone(1.0, freq=800))  # the list names it in NFC
    os.mkfifo(wavs / "pipe.wav")


def test_rows_that_cannot_train_are_reported_each_with_its_reason(tmp_path: Path, tiny_encoder_dir: Path,
                                                                  unblock_fifo_readers: None) -> None:
    _write_bad_wavs(tmp_path / "wavs")
    config = small_dataset(tmp_path, tiny_encoder_dir, [line for _, line, _, _ in BAD_ROWS], max_audio_seconds=10.0)
    prepared = P.prepare(config, progress=False)
    found = _problems(prepared)
    for number, _, kind, words in BAD_ROWS:
        if kind is None:
            assert number not in found, found[number]
            continue
        assert number in found, (number, found)
        assert found[number][0] == kind, (number, found[number])
        assert words in found[number][1], (number, found[number][1])
    kept = {int(it.key.split(":")[1]) for it in P.load_manifest(prepared.train_manifest).items}
    assert kept == {1, 2, 10, 12}


def test_phone_rate_bounds_are_configurable(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    write_wav(tmp_path / "wavs" / "half_second.wav", tone(0.5))
    config = small_dataset(tmp_path, tiny_encoder_dir, [BAD_ROWS[0][1]], max_phones_per_frame=20.0)
    prepared = P.prepare(config, progress=False)
    assert 3 not in _problems(prepared)
    assert len(P.load_manifest(prepared.train_manifest).items) == 3


def test_nul_byte_in_a_path_is_a_report_line_also_under_strict(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir, [BAD_ROWS[10][1]])
    with pytest.raises(P.DataError, match=r"train.txt:3: the wav path contains a NUL byte"):
        P.prepare(config, strict=True, progress=False)


def test_a_directory_or_fifo_given_as_filelist_is_one_problem(tmp_path: Path, tiny_encoder_dir: Path,
                                                              unblock_fifo_readers: None) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir)
    os.mkfifo(tmp_path / "val_pipe.txt")
    config = config.replace(data={"training_files": str(tmp_path / "wavs"),
                                  "validation_files": str(tmp_path / "val_pipe.txt")})
    prepared = P.prepare(config, progress=False)
    messages = sorted(str(p) for p in prepared.report.problems)
    assert messages == [f"{tmp_path / 'val_pipe.txt'}: cannot read filelist: is a FIFO (named pipe), not a file",
                        f"{tmp_path / 'wavs'}: cannot read filelist: is a directory, not a file"]
    assert prepared.report.good["train"] == 0


def test_a_utf16_filelist_is_named_as_such_once(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir)
    lines = (tmp_path / "train.txt").read_text(encoding="utf-8")
    (tmp_path / "train.txt").write_bytes(lines.encode("utf-16"))
    prepared = P.prepare(config, progress=False)
    assert [str(p) for p in prepared.report.problems if p.filelist.name == "train.txt"] == [
        f"{tmp_path / 'train.txt'}: the filelist is encoded as UTF-16; save it as UTF-8"]
