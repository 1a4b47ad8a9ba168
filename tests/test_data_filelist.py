"""Filelist parsing: paths, optional LANG, comments/BOM, every line-level problem, speaker ids."""

from __future__ import annotations

from pathlib import Path

from melo.data.filelist import assign_speaker_ids, parse_filelist, parse_filelists, unseen_val_speakers


def test_paths_lang_and_skipped_lines(tmp_path: Path) -> None:
    lst = tmp_path / "lists" / "train.txt"
    lst.parent.mkdir()
    absolute = tmp_path / "elsewhere" / "abs.wav"
    lst.write_bytes(
        "\ufeffwavs/a.wav|Hello.|spk|en\n"  # BOM, lower-case LANG
        "\n# a comment\n"
        f"{absolute}|안녕.|spk2\r\n"  # absolute path, no LANG, CRLF
        "wavs/c.wav|Hi.|spk||\n".encode("utf-8")  # 5 fields -> stray |
    )
    parsed = parse_filelist(lst, "train")
    assert [(r.line, r.wav, r.language, r.speaker) for r in parsed.rows] == [
        (1, lst.parent / "wavs" / "a.wav", "EN", "spk"),
        (4, absolute, None, "spk2"),
    ]
    assert [(p.line, p.kind) for p in parsed.problems] == [(5, "stray-pipe")]
    assert parsed.rows[0].key == "train.txt:1"


def test_line_problems_are_all_collected(tmp_path: Path) -> None:
    lst = tmp_path / "t.txt"
    lst.write_bytes(
        b"only|two\n"
        b"a.wav||spk|XX\n"  # empty text AND unknown language: both reported
        b"|text|spk\n"
        b"b.wav|text|\n"
        b"c.wav|caf\xe9|spk\n"
        b"d.wav|ok|spk|EN\n"
    )
    parsed = parse_filelist(lst, "train")
    kinds = [(p.line, p.kind) for p in parsed.problems]
    assert kinds == [
        (1, "field-count"),
        (2, "empty-text"),
        (2, "unknown-language"),
        (3, "empty-wav"),
        (4, "empty-speaker"),
        (5, "undecodable"),
    ]
    assert [r.line for r in parsed.rows] == [6]
    assert str(parsed.problems[0]) == f"{lst}:1: expected 3 or 4 fields (wav|text|speaker[|LANG]), found 2"
    assert "'XX'" in parsed.problems[2].message and "KR, EN, ZH, JP" in parsed.problems[2].message


def test_missing_list_is_one_problem(tmp_path: Path) -> None:
    parsed = parse_filelist(tmp_path / "nope.txt", "val")
    assert parsed.rows == [] and [p.kind for p in parsed.problems] == ["missing-filelist"]


def test_duplicates_across_lists_and_speaker_ids(tmp_path: Path) -> None:
    (tmp_path / "train.txt").write_text("a.wav|A.|zed\nb.wav|B.|amy\na.wav|A.|zed\n", encoding="utf-8")
    (tmp_path / "val.txt").write_text("b.wav|Other text.|amy\nc.wav|C.|new\n", encoding="utf-8")
    train, val = parse_filelists(tmp_path / "train.txt", tmp_path / "val.txt")
    assert [(p.filelist.name, p.line, p.kind) for p in train.problems + val.problems] == [
        ("train.txt", 3, "duplicate"),
        ("val.txt", 1, "duplicate"),
    ]
    assert "train.txt:1" in train.problems[0].message and "train.txt:2" in val.problems[0].message
    assert assign_speaker_ids(train.rows, val.rows) == {"zed": 0, "amy": 1, "new": 2}
    assert assign_speaker_ids(train.rows, val.rows, {"amy": 5}) == {"amy": 5, "zed": 6, "new": 7}
    unseen = unseen_val_speakers(train.rows, val.rows)
    assert [(p.line, p.kind, p.severity) for p in unseen] == [(2, "val-speaker-unseen", "warning")]
