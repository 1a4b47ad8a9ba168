"""Preprocessing: validate the filelists, then fill the content-keyed caches the dataset reads.

``prepare(config)`` is the whole job (``python -m melo.preprocess`` is a thin CLI around it):

1. parse both filelists (``melo.data.filelist``);
2. per row, in ``workers`` processes: hash the wav (memoised by path/size/mtime), measure it (readable?
   silent? length? rate? channels? clipped?) and store int16 wav + fp16 linear spectrogram; run the text
   frontend and store the phonemes and ids -- each only when its cache entry is missing;
3. give the speakers of the kept rows ids (train, then val; after ``data.spk2id``), check ``n_speakers``;
   batch the encoder over the good rows whose features are missing and store them as fp16;
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

This module is the recipe; its steps live in their own modules: :mod:`melo.data.row_measurement` (step 2:
keys, cache reuse, jobs), :mod:`melo.data.cache_jobs` (one audio or text job) run by
:mod:`melo.data.worker_pool`, :mod:`melo.data.row_verdict` (measured facts -> problems),
:mod:`melo.data.feature_cache` (step 3's features), :mod:`melo.data.report` (the report) and
:mod:`melo.data.manifest` (step 4).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from melo.config import Config, DataConfig
from melo.data import DataError
from melo.data import cache as C
from melo.data.feature_cache import fill_features
from melo.data.filelist import ERROR, WARNING, assign_speaker_ids, parse_filelists, unseen_val_speakers
from melo.data.integrity import npy_shape, npz_intact
from melo.data.manifest import Manifest, ManifestItem, load_manifest, manifest_path, write_manifest
from melo.data.report import Report, count_line_problems, write_report
from melo.data.row_measurement import measure_rows
from melo.data.row_verdict import CLIP_FRACTION, CLIP_LEVEL, SILENCE_PEAK
from melo.files import write_if_changed
from melo.path_kind import not_a_file

__all__ = [
    "CLIP_FRACTION",
    "CLIP_LEVEL",
    "SILENCE_PEAK",
    "DataError",
    "Manifest",
    "ManifestItem",
    "PreparedData",
    "Report",
    "is_fresh",
    "load_manifest",
    "load_prepared",
    "prepare",
    "resolve_cache_dir",
]

logger = logging.getLogger(__name__)

PARALLEL_MIN_JOBS = 100
"""Below this many pending items ``workers > 1`` still runs in-process: each spawned worker first pays
seconds of start-up (torch and the language backends), more than such a batch takes on one core."""


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
    report.rows["train"] = len(train_parse.rows) + count_line_problems(train_parse.problems)
    report.rows["val"] = len(val_parse.rows) + count_line_problems(val_parse.problems)
    rows = train_parse.rows + val_parse.rows

    index = C.WavHashIndex(cache_dir / "wav_index.json")
    row_states = measure_rows(rows, data, cache_dir, index, workers, progress, report, PARALLEL_MIN_JOBS)
    if index.save():
        wrote.append(str(index.path))
    report.problems += unseen_val_speakers(
        [s.row for s in row_states if s.ok and s.row.split == "train"], [s.row for s in row_states if s.row.split == "val"]
    )

    report.problems.sort(key=lambda p: (str(p.filelist) != str(data.training_files), str(p.filelist), p.line))
    if strict:
        serious = [p for p in report.problems if p.severity in (ERROR, WARNING)]
        if serious:
            wrote += write_report(cache_dir, report)
            raise DataError(
                f"--strict: {len(serious)} problem(s) in the filelists (see {cache_dir / 'report.txt'}):\n"
                + "\n".join(str(p) for p in serious)
            )

    good = [s for s in row_states if s.ok]
    # ids only for speakers with kept rows (a speaker whose every row was rejected gets none)
    spk2id = assign_speaker_ids([s.row for s in good if s.row.split == "train"],
                                [s.row for s in good if s.row.split == "val"], data.spk2id)
    if len(spk2id) > data.n_speakers:
        raise DataError(
            f"found {len(spk2id)} speakers in {data.training_files} and {data.validation_files}, "
            f"but data.n_speakers is {data.n_speakers}; raise n_speakers to at least {len(spk2id)}"
        )
    resolved = config.replace(data={"spk2id": spk2id})
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
    wrote += write_report(cache_dir, report)
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
    mtime it was hashed with and every cache file a manifest names exists and passes the header checks of
    :mod:`melo.data.integrity`. Encoder weights changed in place are not detected; ``prepare`` is the
    authority and is itself fast when everything is fresh.
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
        if not_a_file(filelist) is not None:
            return False
        try:
            raw = json.loads(manifest_path(cache_dir, filelist, split).read_text(encoding="utf-8"))
            manifest = load_manifest(manifest_path(cache_dir, filelist, split))
            if raw.get("filelist_hash") != C.file_hash(Path(filelist)):
                return False
        except (OSError, ValueError, KeyError, TypeError, DataError):
            return False
        for item in manifest.items:
            entry = index.get(item.wav)
            try:
                st = os.stat(item.wav)
            except OSError:
                return False
            if entry is None or entry[0] != st.st_size or entry[1] != st.st_mtime_ns:
                return False
            if not (npz_intact(manifest.audio_path(item)) and npy_shape(manifest.features_path(item)) is not None
                    and _is_json(manifest.phonemes_path(item))):
                return False
    return True


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True
