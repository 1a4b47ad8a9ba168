"""A filelist pair with every kind of bad row the data pipeline must report, and the expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from melo.config import Config
from melo.data.filelist import ERROR, FIXED, WARNING

SR = 44100


def tone(seconds: float, sr: int = SR, amp: float = 0.3, freq: float = 220.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def write_wav(path: Path, samples: np.ndarray, sr: int = SR) -> None:
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
    (b"wavs/nan.wav|Not a number.|alice|EN", ("unreadable", ERROR)),  # 22: float wav holding NaN
]
VAL_LINES = [
    ("wavs/val1.wav", "Validation line.", "alice", "EN", None),  # 1
    ("wavs/val2.wav", "Unseen speaker.", "carol", "EN", ("val-speaker-unseen", WARNING)),  # 2
]
GOOD_TRAIN = {1, 2, 3, 4, 9, 10, 11, 18}
GOOD_VAL = {1, 2}


def build_messy_dataset(tmp_path: Path, encoder_dir: Path) -> Config:
    """Write a filelist pair with every kind of bad row (and its wavs) under ``tmp_path``; return its config
    (text encoder: the tiny stand-in in ``encoder_dir``)."""
    root = tmp_path / "data"
    wavs = root / "wavs"
    for i in range(1, 10):
        write_wav(wavs / f"good{i}.wav", tone(0.8 + 0.1 * i, freq=200 + 20 * i))
    for name in ("val1", "val2"):
        write_wav(wavs / f"{name}.wav", tone(0.7, freq=330))
    (wavs / "corrupt.wav").write_bytes(b"RIFF\x00\x01\x02not really a wave file" + bytes(range(200)))
    write_wav(wavs / "silent.wav", np.zeros(SR, dtype=np.float32))
    write_wav(wavs / "short.wav", tone(0.1))
    write_wav(wavs / "long.wav", tone(3.5))
    write_wav(wavs / "rate22k.wav", tone(1.0, sr=22050), sr=22050)
    write_wav(wavs / "stereo.wav", tone(1.0, channels=2))
    write_wav(wavs / "clipped.wav", tone(1.0, amp=3.0))
    write_wav(wavs / "zero.wav", np.zeros(0, dtype=np.float32))
    nan = tone(1.0)
    nan[100] = np.nan
    sf.write(str(wavs / "nan.wav"), nan, SR, subtype="FLOAT")

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
            "bert_model": str(encoder_dir),
            "max_audio_seconds": 3.0,
            "n_speakers": 8,
        },
        model={"bert_channels": json.loads((encoder_dir / "config.json").read_text())["hidden_size"]},
    )


def expected_problems() -> set[tuple[str, int, str, str]]:
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


