"""Every row measured: its audio and text cache entries found or computed, and the row judged.

:func:`measure_rows` resolves each row's wav (a name in the other Unicode normalisation form is read, and
said), hashes it (memoised by path/size/mtime), reuses every intact cache entry, runs the missing ones as
jobs (:mod:`melo.data.cache_jobs`, in :mod:`melo.data.worker_pool`) and gives each row its verdict
(:mod:`melo.data.row_verdict`). Identical texts or wavs share one job.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from melo.config import DataConfig
from melo.data import cache as C
from melo.data.cache_jobs import AudioJob, TextJob
from melo.data.filelist import ERROR, FIXED, Problem, Row
from melo.data.integrity import npz_intact
from melo.data.manifest import ManifestItem
from melo.data.report import Report
from melo.data.row_checks import other_normalisation
from melo.data.row_verdict import audio_usable, row_problems
from melo.data.worker_pool import run_jobs
from melo.path_kind import NOT_FOUND, not_a_file

__all__ = ["RowState", "measure_rows"]

logger = logging.getLogger(__name__)


@dataclass
class RowState:
    """One row on its way through preprocessing: its cache keys, what was measured, and the verdict."""

    row: Row
    audio_key: str | None = None
    phoneme_key: str | None = None
    audio: dict[str, Any] | None = None  # measured facts
    text: dict[str, Any] | None = None  # phonemes, ids, or error
    feature_key: str | None = None
    ok: bool = False

    def manifest_item(self, spk2id: dict[str, int]) -> ManifestItem:
        assert self.audio is not None and self.text is not None and self.feature_key is not None
        assert self.audio_key is not None and self.phoneme_key is not None
        return ManifestItem(
            key=self.row.key,
            wav=str(self.row.wav),
            text=self.row.text,
            speaker=self.row.speaker,
            speaker_id=spk2id[self.row.speaker],
            text_length=len(self.text["phone_ids"]),
            spec_length=int(self.audio["frames"]),
            wav_length=int(self.audio["frames"]) * int(self.audio["hop_length"]),
            audio=self.audio_key,
            phonemes=self.phoneme_key,
            features=self.feature_key,
        )


def measure_rows(
    rows: list[Row], data: DataConfig, cache_dir: Path, index: C.WavHashIndex, workers: int, progress: bool,
    report: Report, min_parallel: int,
) -> list[RowState]:
    """Each row's state, in order; ``ok`` for the rows to keep. Problems go into ``report``."""
    from melo.text.symbols import DEFAULT_TABLE

    symbols = DEFAULT_TABLE.fingerprint()
    states = [RowState(row) for row in rows]
    jobs: dict[tuple[str, str], AudioJob | TextJob] = {}
    for st in states:
        row = st.row
        st.phoneme_key = C.phoneme_key(row.text, row.language, symbols, data.add_blank, data.korean_coda_classes)
        text_json = C.shard_path(cache_dir, "phonemes", st.phoneme_key, ".json")
        if ("text", st.phoneme_key) not in jobs:
            st.text = _cached_json(text_json, row, report)
            if st.text is None or "retry" in st.text:
                jobs[("text", st.phoneme_key)] = TextJob(st.phoneme_key, str(cache_dir), row.text, row.language, data)
            else:
                report.reused["phonemes"] += 1
        kind = not_a_file(row.wav)
        other = other_normalisation(row.wav) if kind == NOT_FOUND else None
        if other is not None:  # e.g. a list written on Linux (NFC) for files named on macOS (NFD)
            report.problems.append(Problem(row.filelist, row.line, "name-normalised", f"audio file {row.wav.name!r} "
                                           f"is on disk as {other.name!r}, the same name in another Unicode "
                                           f"normalisation form: read that", FIXED))
            st.row = row = replace(row, wav=other)
            kind = not_a_file(row.wav)
        if kind == NOT_FOUND:
            report.problems.append(Problem(row.filelist, row.line, "missing-file", f"audio file not found: {row.wav}"))
            continue
        if kind is not None:
            report.problems.append(Problem(row.filelist, row.line, "not-a-file", f"audio path {row.wav} {kind}"))
            continue
        try:
            wav_hash = index.hash(row.wav)
        except FileNotFoundError:
            report.problems.append(Problem(row.filelist, row.line, "missing-file", f"audio file not found: {row.wav}"))
            continue
        except OSError as e:
            report.problems.append(Problem(row.filelist, row.line, "unreadable", f"cannot read {row.wav}: {e.strerror or e}"))
            continue
        st.audio_key = C.audio_key(wav_hash, data.sampling_rate, data.filter_length, data.hop_length, data.win_length)
        if ("audio", st.audio_key) in jobs:
            continue
        meta_path = C.shard_path(cache_dir, "audio", st.audio_key, ".json")
        st.audio = _cached_json(meta_path, row, report)
        arrays = C.shard_path(cache_dir, "audio", st.audio_key, ".npz")
        usable = st.audio is not None and audio_usable(st.audio, data.min_audio_seconds, data.max_audio_seconds)
        damaged = usable and arrays.exists() and not npz_intact(arrays)
        if damaged:
            report.damaged_cache_entry(row, arrays)
        # measured before: recompute only a usable clip whose arrays are missing (e.g. limits were widened) or damaged
        if st.audio is None or (usable and (damaged or not arrays.exists())):
            jobs[("audio", st.audio_key)] = AudioJob(st.audio_key, str(cache_dir), str(row.wav), data)
        else:
            report.reused["audio"] += 1

    results = dict(zip(jobs, run_jobs(list(jobs.values()), workers, progress, min_parallel)))
    for (kind, _), _res in results.items():
        report.computed["audio" if kind == "audio" else "phonemes"] += 1
    for st in states:
        if st.audio_key is not None and ("audio", st.audio_key) in results:
            st.audio = results[("audio", st.audio_key)]
        if ("text", st.phoneme_key) in results:
            st.text = results[("text", st.phoneme_key)]
        if st.audio_key is None:
            continue  # already reported (missing / unreadable file)
        assert st.audio is not None and st.text is not None
        problems = row_problems(st.row, st.audio, st.text, data)
        report.problems += problems
        st.ok = not any(p.severity == ERROR for p in problems)
    return states


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("%s: unreadable cache entry; recomputing it", path)
        return None


def _cached_json(path: Path, row: Row, report: Report) -> dict[str, Any] | None:
    """A cache entry's JSON, or ``None`` when it is absent or damaged (then reported; the caller recomputes)."""
    if not path.exists():
        return None
    value = _read_json(path)
    if not isinstance(value, dict):
        report.damaged_cache_entry(row, path)
        return None
    return value
