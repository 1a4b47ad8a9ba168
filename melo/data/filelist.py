"""Filelist parsing and row-level checks.

A filelist line is ``wav|text|SPEAKER`` or ``wav|text|SPEAKER|LANG`` (LANG in KR/EN/ZH/JP, or empty for
auto-detection). Wav paths are relative to the list's folder unless absolute. Parsing never stops at the
first bad line: every problem is collected as a :class:`Problem` (``LIST:LINE: reason``) and every good
line becomes a :class:`Row`. Audio and text checks that need the file contents live in
``melo.data.preprocess``; this module only reads the lists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from melo.data.row_checks import path_key
from melo.path_kind import not_a_file
from melo.text.symbols import validate_language

__all__ = [
    "ERROR",
    "FIXED",
    "WARNING",
    "FilelistParse",
    "Problem",
    "Row",
    "assign_speaker_ids",
    "parse_filelist",
    "parse_filelists",
    "unseen_val_speakers",
]

logger = logging.getLogger(__name__)

Severity = Literal["error", "warning", "fixed"]
ERROR: Severity = "error"
"""The row is left out of training."""
WARNING: Severity = "warning"
"""The row is kept, but something about it looks wrong (``--strict`` makes it fatal)."""
FIXED: Severity = "fixed"
"""The row is kept after a routine repair (resampled, mixed to mono); counted in the report."""


@dataclass(frozen=True)
class Problem:
    """One finding about one filelist line; ``str(problem)`` is ``LIST:LINE: reason``."""

    filelist: Path
    line: int  # 1-based; 0 for a problem about the whole list
    kind: str  # short stable tag, e.g. "missing-file", "too-short"
    message: str
    severity: Severity = ERROR

    def __str__(self) -> str:
        where = f"{self.filelist}:{self.line}" if self.line else str(self.filelist)
        tag = "" if self.severity == ERROR else f"{self.severity}: "
        return f"{where}: {tag}{self.message}"


@dataclass(frozen=True)
class Row:
    """A syntactically valid filelist line."""

    filelist: Path
    line: int
    split: str  # "train" or "val"
    wav: Path  # resolved absolute path
    text: str
    speaker: str
    language: str | None  # None: detect from the script

    @property
    def key(self) -> str:
        """Human-readable row id (``train_list.txt:12``), used in batches and reports."""
        return f"{self.filelist.name}:{self.line}"


@dataclass
class FilelistParse:
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def parse_filelist(path: str | Path, split: str, seen_wavs: dict[str, Row] | None = None) -> FilelistParse:
    """Parse one filelist. ``seen_wavs`` (shared across lists) finds rows that reuse an audio file.

    A missing list, one that is not a file (a directory, a FIFO) or one in UTF-16/UTF-32 is a single problem
    at line 0 (no rows). Blank lines and lines starting with ``#`` are skipped. The checks here: undecodable
    bytes, wrong field count / stray ``|``, empty wav, text or speaker, a NUL byte in the path, unknown
    language code, duplicate rows (the same audio file as an earlier row, in this list or another, however
    its path is spelt: ``..``, links, Unicode NFC/NFD; see :func:`melo.data.row_checks.path_key`).
    """
    path = Path(path)
    out = FilelistParse()
    seen = seen_wavs if seen_wavs is not None else {}
    kind = not_a_file(path)
    if kind is not None:
        out.problems.append(Problem(path, 0, "missing-filelist", f"cannot read filelist: {kind}"))
        return out
    try:
        raw = path.read_bytes()
    except OSError as e:
        out.problems.append(Problem(path, 0, "missing-filelist", f"cannot read filelist: {e.strerror or e}"))
        return out
    encoding = _wide_encoding(raw)
    if encoding is not None:
        out.problems.append(Problem(path, 0, "undecodable", f"the filelist is encoded as {encoding}; save it as UTF-8"))
        return out
    base = path.resolve().parent
    for number, raw_line in enumerate(raw.split(b"\n"), start=1):
        raw_line = raw_line.rstrip(b"\r")
        if number == 1 and raw_line.startswith(b"\xef\xbb\xbf"):
            raw_line = raw_line[3:]  # UTF-8 byte-order mark
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw_line[e.start : e.end].hex(" ")
            out.problems.append(
                Problem(path, number, "undecodable", f"not valid UTF-8 (byte {e.start}: {bad}); save the list as UTF-8")
            )
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = _parse_line(path, number, line, split, base, out.problems)
        if row is None:
            continue
        key = path_key(row.wav)
        first = seen.get(key)
        if first is not None:
            what = "duplicate row" if (first.text, first.speaker) == (row.text, row.speaker) else "audio file reused"
            out.problems.append(
                Problem(path, number, "duplicate", f"{what}: {row.wav.name} is already used by {first.filelist.name}:{first.line}")
            )
            continue
        seen[key] = row
        out.rows.append(row)
    return out


def _parse_line(path: Path, number: int, line: str, split: str, base: Path, problems: list[Problem]) -> Row | None:
    fields = line.split("|")
    if len(fields) < 3:
        problems.append(
            Problem(path, number, "field-count", f"expected 3 or 4 fields (wav|text|speaker[|LANG]), found {len(fields)}")
        )
        return None
    if len(fields) > 4:
        problems.append(
            Problem(
                path,
                number,
                "stray-pipe",
                f"stray '|': found {len(fields)} fields, expected wav|text|speaker[|LANG] ('|' is not allowed inside the text)",
            )
        )
        return None
    wav_field, text, speaker = fields[0].strip(), fields[1].strip(), fields[2].strip()
    lang_field = fields[3].strip() if len(fields) == 4 else ""
    ok = True
    if not wav_field:
        problems.append(Problem(path, number, "empty-wav", "empty wav path"))
        ok = False
    elif "\0" in wav_field:
        problems.append(Problem(path, number, "bad-path", f"the wav path contains a NUL byte: {wav_field!r}"))
        ok = False
    if not text:
        problems.append(Problem(path, number, "empty-text", "empty text"))
        ok = False
    if not speaker:
        problems.append(Problem(path, number, "empty-speaker", "empty speaker name"))
        ok = False
    try:
        language = validate_language(lang_field)
    except ValueError as e:
        problems.append(Problem(path, number, "unknown-language", str(e)))
        ok = False
        language = None
    if not ok:
        return None
    wav = Path(wav_field)
    wav = wav if wav.is_absolute() else base / wav
    return Row(filelist=path, line=number, split=split, wav=wav, text=text, speaker=speaker, language=language)


def parse_filelists(train: str | Path, val: str | Path) -> tuple[FilelistParse, FilelistParse]:
    """Parse the training then the validation list; a wav used by both is reported on the val line."""
    seen: dict[str, Row] = {}
    return parse_filelist(train, "train", seen), parse_filelist(val, "val", seen)


def _wide_encoding(raw: bytes) -> str | None:
    """``"UTF-16"``/``"UTF-32"`` when the bytes are in one of those (a byte-order mark, or NUL bytes between
    ASCII characters), else ``None``."""
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe", "UTF-16"),
                      (b"\xfe\xff", "UTF-16")):
        if raw.startswith(bom):
            return name
    head = raw[:400]
    if len(head) >= 8 and head.count(0) >= len(head) // 4:
        return "UTF-32" if head.count(0) >= len(head) // 2 + len(head) // 8 else "UTF-16"
    return None


def assign_speaker_ids(train_rows: list[Row], val_rows: list[Row], existing: dict[str, int] | None = None) -> dict[str, int]:
    """Speaker -> id in order of first appearance (train, then val), after any ``existing`` mapping.

    Ids already in ``existing`` (e.g. a config's ``spk2id`` from an earlier run) are kept; new speakers
    get the next free ids, so adding data never renumbers a trained speaker.
    """
    spk2id = dict(existing or {})
    next_id = max(spk2id.values(), default=-1) + 1
    for row in [*train_rows, *val_rows]:
        if row.speaker not in spk2id:
            spk2id[row.speaker] = next_id
            next_id += 1
    return spk2id


def unseen_val_speakers(train_rows: list[Row], val_rows: list[Row]) -> list[Problem]:
    """A warning on the first val line of each speaker that has no (usable) training row."""
    train_speakers = {r.speaker for r in train_rows}
    problems: list[Problem] = []
    reported: set[str] = set()
    for row in val_rows:
        if row.speaker not in train_speakers and row.speaker not in reported:
            reported.add(row.speaker)
            problems.append(
                Problem(
                    row.filelist,
                    row.line,
                    "val-speaker-unseen",
                    f"speaker {row.speaker!r} has no usable training rows (its embedding will stay untrained)",
                    WARNING,
                )
            )
    return problems
