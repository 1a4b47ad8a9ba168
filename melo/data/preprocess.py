"""Preprocessing: validate the filelists, then fill the content-keyed caches the dataset reads.

``prepare(config)`` is the whole job (``python -m melo.preprocess`` is a thin CLI around it):

1. parse both filelists (``melo.data.filelist``), give speakers ids (train, then val), check ``n_speakers``;
2. per row, in ``workers`` processes: hash the wav (memoised by path/size/mtime), measure it (readable?
   silent? length? rate? channels? clipped?) and store int16 wav + fp16 linear spectrogram; run the text
   frontend and store the phonemes and ids -- each only when its cache entry is missing;
3. batch the encoder over the good rows whose features are missing and store them as fp16;
4. write one manifest per filelist (the good rows), the report, and the resolved config -- each only if
   its content changed, so a second run over fresh caches writes nothing at all.

Audio storage (measured in ``benchmarks/bench_preprocess.py``): the waveform as int16 (88 KB per second
of 44.1 kHz audio) plus the spectrogram as fp16 (177 KB/s) in one uncompressed ``.npz``, 265 KB per second
of audio in all (about 1 GB per hour). Loading both took about half the time of loading the int16 waveform
and recomputing the STFT (1.9x on the demo corpus, 3x on an idle machine for a 3 s clip), and keeps the
DataLoader workers free for the model's own work, so the dataset never runs an STFT. Text artefacts are
negligible (~1 KB/s phonemes; features are fp16, ``bert_channels`` x phone positions: ~2 KB/s for the
tiny 64-d encoder, ~37 KB/s for bge-m3's 1024 dims).
Every clip is trimmed to a whole number of hops before its spectrogram is taken, so
``wav_length == spec_length * hop_length`` exactly.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from melo.audio import SpectrogramParams
from melo.config import Config, DataConfig
from melo.data import DataError
from melo.data import cache as C
from melo.data.filelist import (
    ERROR,
    FIXED,
    WARNING,
    Problem,
    Row,
    assign_speaker_ids,
    parse_filelists,
    unseen_val_speakers,
)
from melo.data.jobs import SILENCE_PEAK, Job, audio_usable, fill_features, run_jobs
from melo.data.manifest import ManifestItem, load_manifest, manifest_path, write_manifest
from melo.data.report import Report
from melo.files import write_if_changed

__all__ = ["CLIP_FRACTION", "DataError", "PreparedData", "is_fresh", "load_prepared", "prepare", "resolve_cache_dir"]

logger = logging.getLogger(__name__)

CLIP_FRACTION = 1e-3
"""A clip with more than this fraction of clipped samples (``melo.data.jobs.CLIP_LEVEL``) is reported (kept,
with a warning)."""


# -- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedData:
    """What the trainer needs: the resolved config (with ``spk2id``) and the manifests."""

    config: Config
    cache_dir: Path
    config_path: Path
    train_manifest: Path
    val_manifest: Path
    report: Report
    wrote: tuple[str, ...]  # files written this run (empty when everything was fresh)


# -- entry points ---------------------------------------------------------------------------------


def resolve_cache_dir(data: DataConfig) -> Path:
    if data.cache_dir:
        return Path(data.cache_dir)
    return Path(data.training_files).parent / "cache"


def prepare(
    config: Config,
    workers: int = 1,
    strict: bool = False,
    device: str = "cpu",
    progress: bool = True,
) -> PreparedData:
    """Validate, fill the caches, write manifests + report + resolved config. Idempotent.

    Raises :class:`DataError` for problems no row-level report can express (more speakers than
    ``n_speakers``; with ``strict``, any error or warning). Rows with problems are reported and left out.
    """
    data = config.data
    cache_dir = resolve_cache_dir(data)
    cache_dir.mkdir(parents=True, exist_ok=True)
    report = Report()
    wrote: list[str] = []

    train_parse, val_parse = parse_filelists(data.training_files, data.validation_files)
    report.problems += train_parse.problems + val_parse.problems
    report.rows["train"] = len(train_parse.rows) + _count_line_problems(train_parse.problems)
    report.rows["val"] = len(val_parse.rows) + _count_line_problems(val_parse.problems)
    spk2id = assign_speaker_ids(train_parse.rows, val_parse.rows, data.spk2id)
    if len(spk2id) > data.n_speakers:
        raise DataError(
            f"found {len(spk2id)} speakers in {data.training_files} and {data.validation_files}, "
            f"but data.n_speakers is {data.n_speakers}; raise n_speakers to at least {len(spk2id)}"
        )
    resolved = config.replace(data={"spk2id": spk2id})
    rows = train_parse.rows + val_parse.rows

    index = C.WavHashIndex(cache_dir / "wav_index.json")
    row_states = _measure_rows(rows, data, cache_dir, index, workers, progress, report)
    if index.save():
        wrote.append(str(index.path))
    report.problems += unseen_val_speakers(
        [s.row for s in row_states if s.ok and s.row.split == "train"], [s.row for s in row_states if s.row.split == "val"]
    )

    report.problems.sort(key=lambda p: (str(p.filelist) != str(data.training_files), str(p.filelist), p.line))
    if strict:
        serious = [p for p in report.problems if p.severity in (ERROR, WARNING)]
        if serious:
            wrote += report.write(cache_dir)
            raise DataError(
                f"--strict: {len(serious)} problem(s) in the filelists (see {cache_dir / 'report.txt'}):\n"
                + "\n".join(str(p) for p in serious)
            )

    good = [s for s in row_states if s.ok]
    fill_features(good, data, config.model.bert_channels, cache_dir, device, progress, report)

    manifests = {}
    for split, filelist in (("train", data.training_files), ("val", data.validation_files)):
        items = [s.manifest_item(resolved.data.spk2id) for s in good if s.row.split == split]
        report.good[split] = len(items)
        report.audio_seconds[split] = sum(it.wav_length for it in items) / data.sampling_rate
        path = manifest_path(cache_dir, filelist, split)
        if write_manifest(path, split, filelist, data.hop_length, data.sampling_rate, items):
            wrote.append(str(path))
        manifests[split] = path

    config_path = cache_dir / "config.json"
    if write_if_changed(config_path, (resolved.to_json() + "\n").encode("utf-8")):
        wrote.append(str(config_path))
    wrote += report.write(cache_dir)
    if report.good["train"] == 0:
        logger.error("no usable training rows in %s", data.training_files)
    return PreparedData(
        config=resolved,
        cache_dir=cache_dir,
        config_path=config_path,
        train_manifest=manifests["train"],
        val_manifest=manifests["val"],
        report=report,
        wrote=tuple(wrote),
    )


def load_prepared(config: Config) -> PreparedData:
    """What :func:`prepare` wrote for ``config``, read back without validating or loading the encoder.

    For DDP ranks other than 0 (after rank 0's ``prepare`` and a barrier), and for tools that only read.
    Raises :class:`DataError` when the cache folder lacks a prepared config or manifests.
    """
    from melo.config import ConfigError, load_config

    data = config.data
    cache_dir = resolve_cache_dir(data)
    config_path = cache_dir / "config.json"
    train_manifest = manifest_path(cache_dir, data.training_files, "train")
    val_manifest = manifest_path(cache_dir, data.validation_files, "val")
    try:
        resolved = load_config(config_path)
        raw = json.loads((cache_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, ConfigError) as e:
        raise DataError(f"{cache_dir}: no prepared data ({e}); run python -m melo.preprocess first") from None
    for path in (train_manifest, val_manifest):
        if not path.exists():
            raise DataError(f"{path}: manifest missing; run python -m melo.preprocess first")
    report = Report.from_json(raw)
    return PreparedData(
        config=resolved,
        cache_dir=cache_dir,
        config_path=config_path,
        train_manifest=train_manifest,
        val_manifest=val_manifest,
        report=report,
        wrote=(),
    )


def is_fresh(config: Config) -> bool:
    """Cheap check (reads no audio): would ``prepare(config)`` find every artefact in place?

    True when the saved data config matches ``config.data`` (ignoring ``spk2id``), both filelists are
    byte-identical to the ones the manifests were built from, every listed wav still has the size and
    mtime it was hashed with and every cache file a manifest names exists. Encoder weights changed in
    place are not detected; ``prepare`` is the authority and is itself fast when everything is fresh.
    """
    from melo.config import ConfigError, load_config

    data = config.data
    cache_dir = resolve_cache_dir(data)
    try:
        saved = load_config(cache_dir / "config.json")
        index = json.loads((cache_dir / "wav_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, ConfigError):
        return False
    if {**saved.to_dict()["data"], "spk2id": None} != {**config.to_dict()["data"], "spk2id": None}:
        return False  # only the data section shapes the caches; train/model changes do not matter here
    for split, filelist in (("train", data.training_files), ("val", data.validation_files)):
        try:
            manifest = load_manifest(manifest_path(cache_dir, filelist, split))
            if manifest.filelist_hash != C.file_hash(Path(filelist)):
                return False
        except (OSError, ValueError, KeyError, TypeError):  # ManifestError is a ValueError
            return False
        for item in manifest.items:
            entry = index.get(item.wav)
            try:
                st = os.stat(item.wav)
            except OSError:
                return False
            if entry is None or entry[0] != st.st_size or entry[1] != st.st_mtime_ns:
                return False
            paths = (manifest.audio_path(item), manifest.phonemes_path(item), manifest.features_path(item))
            if not all(p.exists() for p in paths):
                return False
    return True


# -- per-row work ---------------------------------------------------------------------------------


@dataclass
class _RowState:
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


def _measure_rows(
    rows: list[Row], data: DataConfig, cache_dir: Path, index: C.WavHashIndex, workers: int, progress: bool, report: Report
) -> list[_RowState]:
    from melo.text.symbols import DEFAULT_TABLE

    symbols = DEFAULT_TABLE.fingerprint()
    states = [_RowState(row) for row in rows]
    jobs: dict[tuple[str, str], Job] = {}
    for st in states:
        row = st.row
        st.phoneme_key = C.phoneme_key(row.text, row.language, symbols, data.add_blank)
        text_json = C.shard_path(cache_dir, "phonemes", st.phoneme_key, ".json")
        if ("text", st.phoneme_key) not in jobs:
            if text_json.exists():
                st.text = _read_json(text_json)
            if st.text is None or "retry" in st.text:
                jobs[("text", st.phoneme_key)] = Job("text", st.phoneme_key, str(cache_dir), text=row.text,
                                                       language=row.language, add_blank=data.add_blank)
            else:
                report.reused["phonemes"] += 1
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
        st.audio = _read_json(meta_path) if meta_path.exists() else None
        arrays = C.shard_path(cache_dir, "audio", st.audio_key, ".npz")
        # measured before: recompute only a usable clip whose arrays are missing (e.g. limits were widened)
        if st.audio is None or (audio_usable(st.audio, data.min_audio_seconds, data.max_audio_seconds) and not arrays.exists()):
            jobs[("audio", st.audio_key)] = Job("audio", st.audio_key, str(cache_dir), wav=str(row.wav),
                                                stft=SpectrogramParams.from_config(data))
        else:
            report.reused["audio"] += 1

    results = dict(zip(jobs, run_jobs(list(jobs.values()), workers, progress, data)))
    for (kind, _), _res in results.items():
        report.computed["audio" if kind == "audio" else "phonemes"] += 1
    for st in states:
        if st.audio_key is not None and ("audio", st.audio_key) in results:
            st.audio = results[("audio", st.audio_key)]
        if ("text", st.phoneme_key) in results:
            st.text = results[("text", st.phoneme_key)]
        if st.audio_key is None:
            continue  # already reported (missing / unreadable file)
        st.ok = _judge(st, data, report)
    return states


def _judge(st: _RowState, data: DataConfig, report: Report) -> bool:
    """Turn measured facts into problems; True when the row is usable."""
    row, audio, text = st.row, st.audio, st.text
    assert audio is not None and text is not None
    problems: list[Problem] = []

    def add(kind: str, message: str, severity: str = ERROR) -> None:
        problems.append(Problem(row.filelist, row.line, kind, message, severity))  # type: ignore[arg-type]

    if audio.get("error"):
        add("unreadable", f"unreadable or corrupt audio {row.wav.name}: {audio['error']}")
    elif audio["samples"] == 0:
        add("empty-audio", f"zero-length audio {row.wav.name}")
    elif audio["peak"] < SILENCE_PEAK:
        add("silent", f"silent audio {row.wav.name} (peak {audio['peak']:.1e} < {SILENCE_PEAK:g})")
    else:
        seconds = audio["samples"] / data.sampling_rate
        if seconds < data.min_audio_seconds or audio["frames"] == 0:
            add("too-short", f"too short: {seconds:.2f} s < data.min_audio_seconds {data.min_audio_seconds:g} s")
        elif seconds > data.max_audio_seconds:
            add("too-long", f"too long: {seconds:.2f} s > data.max_audio_seconds {data.max_audio_seconds:g} s")
        if audio["original_sample_rate"] != data.sampling_rate:
            add("resampled", f"resampled {audio['original_sample_rate']} Hz -> {data.sampling_rate} Hz", FIXED)
        if audio["channels"] > 1:
            add("stereo", f"{audio['channels']} channels mixed to mono", FIXED)
        if audio["clipped_fraction"] > CLIP_FRACTION:
            add("clipped", f"clipped: {100 * audio['clipped_fraction']:.1f}% of samples at full scale", WARNING)
    if text.get("error"):
        add(text.get("kind", "text"), text["error"])
    else:
        if text.get("dropped"):
            chars = "".join(text["dropped"])
            add("dropped-chars", f"characters no language could read were dropped: {chars!r}", WARNING)
        if text.get("unknown_phones"):
            add("unknown-phones", f"phones not in the symbol table (read as UNK): {' '.join(text['unknown_phones'])}", WARNING)
    report.problems += problems
    ok = not any(p.severity == ERROR for p in problems)
    assert not ok or audio_usable(audio, data.min_audio_seconds, data.max_audio_seconds)
    return ok


# -- features -------------------------------------------------------------------------------------


# -- helpers --------------------------------------------------------------------------------------


def _count_line_problems(problems: Iterable[Problem]) -> int:
    """Lines that failed parsing (each counts as a row of the list)."""
    return len({p.line for p in problems if p.line > 0})


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("%s: unreadable cache entry; recomputing it", path)
        return None


