"""A small clean filelist pair (three tone clips, two speakers) that tests extend with the rows they check."""

from __future__ import annotations

import json
from pathlib import Path

from data_messy import tone, write_wav

from melo.config import Config


def small_dataset(root: Path, encoder_dir: Path, extra_train: list[str] = (), **data: object) -> Config:
    """Two good training rows, one good validation row, then ``extra_train`` lines (wav paths relative to
    ``root``, the lists' folder); ``data`` overrides fields of the data section."""
    wavs = root / "wavs"
    write_wav(wavs / "a.wav", tone(1.0, freq=220))
    write_wav(wavs / "b.wav", tone(1.1, freq=330))
    write_wav(wavs / "v.wav", tone(0.9, freq=440))
    lines = ["wavs/a.wav|Hello there.|alice|EN", "wavs/b.wav|Good morning.|bob|EN", *extra_train]
    (root / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "val.txt").write_text("wavs/v.wav|Good evening.|alice|EN\n", encoding="utf-8")
    return Config().replace(
        data={"training_files": str(root / "train.txt"), "validation_files": str(root / "val.txt"),
              "bert_model": str(encoder_dir), "n_speakers": 8, **data},
        model={"bert_channels": json.loads((encoder_dir / "config.json").read_text())["hidden_size"]},
    )
