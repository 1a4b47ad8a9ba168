"""The espeak-ng demo corpus: layout, languages, tags, mixed lines, 44.1 kHz, determinism."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import soundfile as sf

from melo.data.filelist import parse_filelists
from melo.demo.corpus import build_corpus, main


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_layout_and_content(demo_corpus_dir: Path) -> None:
    train, val = parse_filelists(demo_corpus_dir / "train_list.txt", demo_corpus_dir / "val_list.txt")
    assert train.problems == [] and val.problems == []
    assert 50 <= len(train.rows) <= 80 and len(val.rows) == 8
    rows = train.rows + val.rows
    for row in rows:
        assert row.wav.parent == demo_corpus_dir / "wavs"
        info = sf.info(str(row.wav))
        assert info.samplerate == 44100 and info.channels == 1
        assert 0.3 < info.duration < 12.0
    raw = (demo_corpus_dir / "train_list.txt").read_text(encoding="utf-8").splitlines()
    assert all(line.startswith("wavs/") for line in raw)
    tags = {row.language for row in rows}
    assert {"KR", "EN", "ZH", "JP", None} <= tags
    assert {row.speaker for row in train.rows} == {"alice", "bruno", "chen", "dara"}
    assert {row.speaker for row in val.rows} <= {row.speaker for row in train.rows}
    mixed = [r for r in rows if re.search(r"[A-Za-z]", r.text) and re.search(r"[\uac00-\ud7a3\u4e00-\u9fff]", r.text)]
    assert len(mixed) >= 3 and all(r.language is None for r in mixed)


def test_deterministic_for_the_same_arguments(demo_corpus_dir: Path, tmp_path: Path) -> None:
    assert main([str(tmp_path / "again"), "--speakers", "4", "--seed", "0"]) == 0
    assert _digest(tmp_path / "again") == _digest(demo_corpus_dir)


def test_seed_and_speakers_change_the_corpus(demo_corpus_dir: Path, tmp_path: Path) -> None:
    info = build_corpus(tmp_path / "two", speakers=2, seed=1)
    assert info.speakers == ("alice", "bruno")
    train, _ = parse_filelists(info.train_list, info.val_list)
    assert {row.speaker for row in train.rows} == {"alice", "bruno"}
    seed0, _ = parse_filelists(demo_corpus_dir / "train_list.txt", demo_corpus_dir / "val_list.txt")
    assert [r.text for r in train.rows] != [r.text for r in seed0.rows]
