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
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from melo.config import Config, DataConfig
from melo.data import DataError
from melo.data import cache as C
from melo.data.integrity import npy_shape, npz_intact
from melo.data.manifest import Manifest, ManifestItem, load_manifest, manifest_path, write_manifest
from melo.data.row_checks import (
    constant_audio,
    nothing_to_say,
    other_normalisation,
    phone_rate,
    script_names,
    truncated_wav,
)
from melo.files import atomic_write, json_bytes, write_if_changed, write_json_atomic
from melo.path_kind import NOT_FOUND, not_a_file
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

SILENCE_PEAK = 1e-3
"""A clip whose peak amplitude stays below this (-60 dBFS) is reported as silent."""
CLIP_LEVEL = 0.99
"""Samples at or above this magnitude count as clipped ..."""
CLIP_FRACTION = 1e-3
"""... and a clip with more than this fraction of them is reported (kept, with a warning)."""
PARALLEL_MIN_JOBS = 100
"""Below this many pending items ``workers > 1`` still runs in-process: each spawned worker first pays
seconds of start-up (torch and the language backends), more than such a batch takes on one core."""
FEATURE_CHUNK = 64
"""Rows handed to the feature extractor per call (it batches further inside)."""


# -- results --------------------------------------------------------------------------------------


@dataclass
class Report:
    """Everything preprocessing found and did; ``summary_table()`` is what the CLI prints at the end."""

    problems: list[Problem] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)  # split -> parsed rows
    good: Counter = field(default_factory=Counter)  # split -> rows kept
    audio_seconds: Counter = field(default_factory=Counter)  # split -> seconds kept
    computed: Counter = field(default_factory=Counter)  # artefact -> entries written this run
    reused: Counter = field(default_factory=Counter)  # artefact -> entries found in the cache

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def to_text(self) -> str:
        lines = [str(p) for p in self.problems]
        return "\n".join([*lines, "", self.summary_table()]) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "problems": [
                {"filelist": str(p.filelist), "line": p.line, "kind": p.kind, "severity": p.severity, "message": p.message}
                for p in self.problems
            ],
            "rows": dict(self.rows),
            "good": dict(self.good),
            "audio_seconds": {k: round(v, 3) for k, v in self.audio_seconds.items()},
        }

    def summary_table(self) -> str:
        kinds = Counter((p.kind, p.severity) for p in self.problems)
        out = ["split   rows  good     audio", "------  ----  ----  --------"]
        for split in ("train", "val"):
            secs = round(self.audio_seconds[split])
            audio = f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}"
            out.append(f"{split:<6}  {self.rows[split]:>4}  {self.good[split]:>4}  {audio:>8}")
        if kinds:
            out += ["", "problem               severity  rows", "--------------------  --------  ----"]
            for (kind, severity), n in sorted(kinds.items()):
                out.append(f"{kind:<20}  {severity:<8}  {n:>4}")
        out += ["", "cache      computed  reused", "---------  --------  ------"]
        for artefact in ("audio", "phonemes", "features"):
            out.append(f"{artefact:<9}  {self.computed[artefact]:>8}  {self.reused[artefact]:>6}")
        return "\n".join(out)


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
            wrote += _write_report(cache_dir, report)
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
    _fill_features(good, data, config.model.bert_channels, cache_dir, device, progress, report)

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
    wrote += _write_report(cache_dir, report)
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
    report = Report(
        problems=[Problem(Path(p["filelist"]), p["line"], p["kind"], p["message"], p["severity"]) for p in raw["problems"]],
        rows=Counter(raw["rows"]),
        good=Counter(raw["good"]),
        audio_seconds=Counter(raw["audio_seconds"]),
    )
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


@dataclass(frozen=True)
class _Job:
    kind: str  # "audio" or "text"
    key: str
    cache_dir: str
    wav: str = ""
    text: str = ""
    language: str | None = None
    sampling_rate: int = 0
    filter_length: int = 0
    hop_length: int = 0
    win_length: int = 0
    add_blank: bool = True
    korean_coda_classes: bool = False


def _measure_rows(
    rows: list[Row], data: DataConfig, cache_dir: Path, index: C.WavHashIndex, workers: int, progress: bool, report: Report
) -> list[_RowState]:
    from melo.text.symbols import DEFAULT_TABLE

    symbols = DEFAULT_TABLE.fingerprint()
    states = [_RowState(row) for row in rows]
    jobs: dict[tuple[str, str], _Job] = {}
    for st in states:
        row = st.row
        st.phoneme_key = C.phoneme_key(row.text, row.language, symbols, data.add_blank, data.korean_coda_classes)
        text_json = C.shard_path(cache_dir, "phonemes", st.phoneme_key, ".json")
        if ("text", st.phoneme_key) not in jobs:
            st.text = _cached_json(text_json, row, report)
            if st.text is None or "retry" in st.text:
                jobs[("text", st.phoneme_key)] = _Job("text", st.phoneme_key, str(cache_dir), text=row.text,
                                                       language=row.language, add_blank=data.add_blank,
                                                       korean_coda_classes=data.korean_coda_classes)
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
        usable = st.audio is not None and _audio_usable(st.audio, data.min_audio_seconds, data.max_audio_seconds)
        damaged = usable and arrays.exists() and not npz_intact(arrays)
        if damaged:
            _report_damaged(report, row, arrays)
        # measured before: recompute only a usable clip whose arrays are missing (e.g. limits were widened) or damaged
        if st.audio is None or (usable and (damaged or not arrays.exists())):
            jobs[("audio", st.audio_key)] = _Job(
                "audio", st.audio_key, str(cache_dir), wav=str(row.wav),
                sampling_rate=data.sampling_rate, filter_length=data.filter_length,
                hop_length=data.hop_length, win_length=data.win_length,
            )
        else:
            report.reused["audio"] += 1

    results = dict(zip(jobs, _run_jobs(list(jobs.values()), workers, progress, data)))
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
    elif audio.get("truncated"):
        add("truncated-audio", f"{row.wav.name}: {audio['truncated']}")
    elif audio["samples"] == 0:
        add("empty-audio", f"zero-length audio {row.wav.name}")
    elif audio["peak"] < SILENCE_PEAK:
        add("silent", f"silent audio {row.wav.name} (peak {audio['peak']:.1e} < {SILENCE_PEAK:g})")
    elif audio.get("constant"):
        add("no-speech", f"{row.wav.name}: {audio['constant']}")
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
    elif (silent_text := nothing_to_say(text["phonemes"]["phones"], row.text, text.get("dropped", ()))):
        add("unpronounceable", silent_text)
    else:
        if text.get("dropped"):
            chars = "".join(text["dropped"])
            scripts = script_names(text["dropped"])
            in_scripts = f" ({', '.join(scripts)} script)" if scripts else ""
            add("dropped-chars", f"characters no language could read were dropped: {chars!r}{in_scripts}", WARNING)
        if text.get("unknown_phones"):
            add("unknown-phones", f"phones not in the symbol table (read as UNK): {' '.join(text['unknown_phones'])}", WARNING)
    if not any(p.severity == ERROR for p in problems):
        rate = phone_rate(len(text["phone_ids"]), int(audio["frames"]), data.min_phones_per_frame,
                          data.max_phones_per_frame)
        if rate is not None:
            add(*rate)
    report.problems += problems
    ok = not any(p.severity == ERROR for p in problems)
    assert not ok or _audio_usable(audio, data.min_audio_seconds, data.max_audio_seconds)
    return ok


def _audio_usable(audio: dict[str, Any], min_seconds: float, max_seconds: float) -> bool:
    """The one rule for "these measured facts make a trainable clip" (the job and the report both use it)."""
    if audio.get("error") or audio["samples"] == 0 or audio["frames"] == 0 or audio["peak"] < SILENCE_PEAK:
        return False
    if audio.get("truncated") or audio.get("constant"):
        return False
    return min_seconds <= audio["samples"] / audio["sampling_rate"] <= max_seconds


def _run_jobs(jobs: list[_Job], workers: int, progress: bool, data: DataConfig) -> list[dict[str, Any]]:
    if not jobs:
        return []
    from tqdm import tqdm

    # Skip the expensive STFT for clips that will be rejected anyway: the worker measures first.
    limits = (data.min_audio_seconds, data.max_audio_seconds)
    bar = dict(total=len(jobs), desc="preprocess", unit="item", disable=not progress)
    if workers <= 1 or len(jobs) < PARALLEL_MIN_JOBS:
        return [_do_job(job, limits) for job in tqdm(jobs, **bar)]
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init) as pool:
        chunk = max(1, min(16, len(jobs) // (4 * workers)))
        return list(tqdm(pool.map(_do_job, jobs, [limits] * len(jobs), chunksize=chunk), **bar))


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _do_job(job: _Job, limits: tuple[float, float]) -> dict[str, Any]:
    return _audio_job(job, limits) if job.kind == "audio" else _text_job(job)


def _audio_job(job: _Job, limits: tuple[float, float]) -> dict[str, Any]:
    import torch

    from melo.audio import load_audio, spectrogram

    cache_dir = Path(job.cache_dir)
    meta: dict[str, Any] = {"hop_length": job.hop_length, "sampling_rate": job.sampling_rate,
                            "truncated": truncated_wav(job.wav)}
    try:
        clip = load_audio(job.wav, job.sampling_rate)
    except (RuntimeError, ValueError, OSError) as e:  # soundfile raises LibsndfileError (a RuntimeError)
        meta["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        write_json_atomic(C.shard_path(cache_dir, "audio", job.key, ".json"), meta)
        return meta
    samples = clip.samples
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    frames = samples.shape[0] // job.hop_length
    meta.update(
        samples=int(samples.shape[0]),
        frames=int(frames),
        original_sample_rate=int(clip.original_sample_rate),
        channels=int(clip.original_channels),
        peak=peak,
        clipped_fraction=float(np.mean(np.abs(samples) >= CLIP_LEVEL)) if samples.size else 0.0,
        constant=constant_audio(samples, SILENCE_PEAK),
    )
    if not np.isfinite(samples).all():
        meta["error"] = "non-finite samples (NaN or infinity)"
    if _audio_usable(meta, *limits):
        wav16 = np.round(np.clip(samples[: frames * job.hop_length], -1.0, 1.0) * 32767.0).astype(np.int16)
        wav = torch.from_numpy(wav16.astype(np.float32) / 32768.0)
        spec = spectrogram(wav, job.filter_length, job.hop_length, job.win_length)[0]  # (F, frames)
        if spec.shape[-1] != frames:  # only for STFT settings with odd (n_fft - hop)
            frames = min(frames, int(spec.shape[-1]))
            spec, wav16 = spec[:, :frames], wav16[: frames * job.hop_length]
            meta["frames"] = frames
        spec16 = spec.numpy().astype(np.float16)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, wav=wav16, spec=spec16)

        atomic_write(C.shard_path(cache_dir, "audio", job.key, ".npz"), write)
    write_json_atomic(C.shard_path(cache_dir, "audio", job.key, ".json"), meta)
    return meta


def _text_job(job: _Job) -> dict[str, Any]:
    from melo.text import NothingToPronounceError, phonemize
    from melo.text.sequence import to_sequence
    from melo.text.symbols import DEFAULT_TABLE

    path = C.shard_path(Path(job.cache_dir), "phonemes", job.key, ".json")
    try:
        phonemes = phonemize(job.text, job.language, korean_coda_classes=job.korean_coda_classes)
    except NothingToPronounceError as e:
        out = {"error": f"nothing pronounceable in the text ({e})", "kind": "unpronounceable"}
        write_json_atomic(path, out)
        return out
    except Exception as e:  # noqa: BLE001 -- a frontend bug on one row is reported, not fatal; not cached
        logger.debug("text frontend failed on %r", job.text, exc_info=True)
        return {"error": f"text frontend failed: {type(e).__name__}: {e}", "kind": "frontend-error", "retry": True}
    seq = to_sequence(phonemes, DEFAULT_TABLE, add_blank=job.add_blank)
    out = {
        "phonemes": _phonemes_to_dict(phonemes),
        "phone_ids": seq.phone_ids.tolist(),
        "tone_ids": seq.tone_ids.tolist(),
        "language_ids": seq.language_ids.tolist(),
        "dropped": list(phonemes.dropped),
        "unknown_phones": sorted({p for p in phonemes.phones if p not in DEFAULT_TABLE}),
    }
    write_json_atomic(path, out)
    return out


def _phonemes_to_dict(p: Any) -> dict[str, Any]:
    return {
        "text": p.text,
        "normalized": p.normalized,
        "segments": [[s.language, s.start, s.end, s.text] for s in p.segments],
        "phones": list(p.phones),
        "tones": list(p.tones),
        "languages": list(p.languages),
        "word_spans": [list(s) for s in p.word_spans],
        "dropped": list(p.dropped),
    }


def phonemes_from_dict(d: dict[str, Any]) -> Any:
    from melo.text.types import Phonemes, Segment

    return Phonemes(
        text=d["text"],
        normalized=d["normalized"],
        segments=tuple(Segment(language=s[0], start=s[1], end=s[2], text=s[3]) for s in d["segments"]),
        phones=tuple(d["phones"]),
        tones=tuple(d["tones"]),
        languages=tuple(d["languages"]),
        word_spans=tuple(tuple(s) for s in d["word_spans"]),  # type: ignore[misc]
        dropped=tuple(d["dropped"]),
    )


# -- features -------------------------------------------------------------------------------------


def _fill_features(
    good: list[_RowState], data: DataConfig, bert_channels: int, cache_dir: Path, device: str, progress: bool, report: Report
) -> None:
    if not good:
        return
    from melo.features import FeatureExtractor, ModelUnavailableError, feature_fingerprint

    try:
        # The fingerprint needs the model's files, not the model: loading waits until there is work.
        fingerprint = feature_fingerprint(data.bert_model, data.bert_layer, data.bert_precision)  # type: ignore[arg-type]
    except ModelUnavailableError as e:
        raise DataError(f"text encoder data.bert_model={data.bert_model!r} is unavailable: {e}") from e
    todo: dict[str, _RowState] = {}
    for st in good:
        assert st.phoneme_key is not None
        st.feature_key = C.feature_key(st.phoneme_key, fingerprint, data.bert_model, data.bert_layer, data.add_blank)
        if st.feature_key in todo:
            continue
        path = C.shard_path(cache_dir, "features", st.feature_key, ".npy")
        if not path.exists():
            todo[st.feature_key] = st
            continue
        shape = npy_shape(path)
        if shape is not None and shape[0] != bert_channels:  # the encoder's size, whether or not it is loaded
            raise DataError(f"data.bert_model {data.bert_model!r} gives {shape[0]}-dimensional features (cached in "
                            f"{path}) but model.bert_channels is {bert_channels}; they must be equal")
        if shape is None or shape[1] != len(st.text["phone_ids"]):  # type: ignore[index]
            _report_damaged(report, st.row, path)
            todo[st.feature_key] = st
        else:
            report.reused["features"] += 1
    if not todo:
        return
    try:
        extractor = FeatureExtractor.from_config(data, device=device, precision=data.bert_precision)  # type: ignore[arg-type]
    except ModelUnavailableError as e:
        raise DataError(f"text encoder data.bert_model={data.bert_model!r} is unavailable: {e}") from e
    except ValueError as e:  # data.bert_layer beyond the encoder's layers, or int8 (CPU only) asked for on CUDA
        setting = ("data.bert_layer" if "bert_layer" in str(e)
                   else f"data.bert_precision={data.bert_precision!r} on device {device!r}")
        raise DataError(f"{setting}: {e}") from e
    if extractor.hidden_size != bert_channels:
        raise DataError(
            f"data.bert_model {data.bert_model!r} has hidden size {extractor.hidden_size} "
            f"but model.bert_channels is {bert_channels}; they must be equal"
        )
    assert extractor.fingerprint() == fingerprint
    from tqdm import tqdm

    pending = list(todo.items())
    with tqdm(total=len(pending), desc="features", unit="row", disable=not progress) as bar:
        for start in range(0, len(pending), FEATURE_CHUNK):
            chunk = pending[start : start + FEATURE_CHUNK]
            phonemes = [phonemes_from_dict(st.text["phonemes"]) for _, st in chunk]  # type: ignore[index]
            feats = extractor.extract_batch(phonemes, add_blank=data.add_blank)
            for (key, st), feat in zip(chunk, feats):
                n = len(st.text["phone_ids"])  # type: ignore[index]
                if tuple(feat.shape) != (extractor.hidden_size, n):
                    raise DataError(
                        f"{st.row.filelist}:{st.row.line}: feature extractor returned shape {tuple(feat.shape)}, "
                        f"expected ({extractor.hidden_size}, {n})"
                    )
                arr = feat.detach().cpu().numpy().astype(np.float16)
                atomic_write(C.shard_path(cache_dir, "features", key, ".npy"), lambda tmp, a=arr: _save_npy(tmp, a))
                report.computed["features"] += 1
            bar.update(len(chunk))


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, array)


# -- helpers --------------------------------------------------------------------------------------


def _count_line_problems(problems: Iterable[Problem]) -> int:
    """Lines that failed parsing (each counts as a row of the list)."""
    return len({p.line for p in problems if p.line > 0})


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return True


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
        _report_damaged(report, row, path)
        return None
    return value


def _report_damaged(report: Report, row: Row, path: Path) -> None:
    report.problems.append(Problem(row.filelist, row.line, "cache-damaged",
                                   f"damaged cache entry {path} (cut short or unreadable): recomputed", FIXED))


def _write_report(cache_dir: Path, report: Report) -> list[str]:
    wrote = []
    text_path, json_path = cache_dir / "report.txt", cache_dir / "report.json"
    body = "\n".join(str(p) for p in report.problems) + "\n"
    if write_if_changed(text_path, body.encode("utf-8")):
        wrote.append(str(text_path))
    if write_if_changed(json_path, json_bytes(report.to_json())):
        wrote.append(str(json_path))
    return wrote

