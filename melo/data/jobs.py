"""The per-row cache entries of preprocessing, made in this process or in a pool of worker processes.

An audio job reads one wav, measures it (readable? silent? length? rate? channels? clipped?) and, for a usable
clip, stores its int16 waveform and fp16 linear spectrogram; a text job runs the text frontend and stores the
phonemes and ids (or the reason the text is unusable). Each writes its entry atomically and returns what it
measured or made.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from melo.audio import SpectrogramParams
from melo.config import DataConfig
from melo.data import DataError
from melo.data import cache as C
from melo.data.report import Report
from melo.files import atomic_write, write_json_atomic

__all__ = ["CLIP_LEVEL", "FEATURE_CHUNK", "Job", "PARALLEL_MIN_JOBS", "SILENCE_PEAK", "audio_usable", "fill_features",
           "phonemes_from_dict", "run_jobs"]

logger = logging.getLogger(__name__)

SILENCE_PEAK = 1e-3
"""A clip whose peak amplitude stays below this (-60 dBFS) is reported as silent."""
CLIP_LEVEL = 0.99
"""Samples at or above this magnitude count as clipped."""
FEATURE_CHUNK = 64
"""Rows handed to the feature extractor per call (it batches further inside)."""
PARALLEL_MIN_JOBS = 100
"""Below this many pending items ``workers > 1`` still runs in-process: each spawned worker first pays
seconds of start-up (torch and the language backends), more than such a batch takes on one core."""


@dataclass(frozen=True)
class Job:
    """One cache entry to make: an audio clip's facts and arrays (``wav``, ``stft``) or a text's phonemes."""

    kind: str  # "audio" or "text"
    key: str
    cache_dir: str
    wav: str = ""
    stft: SpectrogramParams | None = None
    text: str = ""
    language: str | None = None
    add_blank: bool = True


def audio_usable(audio: dict[str, Any], min_seconds: float, max_seconds: float) -> bool:
    """The one rule for "these measured facts make a trainable clip" (the job and the report both use it)."""
    if audio.get("error") or audio["samples"] == 0 or audio["frames"] == 0 or audio["peak"] < SILENCE_PEAK:
        return False
    return min_seconds <= audio["samples"] / audio["sampling_rate"] <= max_seconds


def run_jobs(jobs: list[Job], workers: int, progress: bool, data: DataConfig) -> list[dict[str, Any]]:
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


def _do_job(job: Job, limits: tuple[float, float]) -> dict[str, Any]:
    return _audio_job(job, limits) if job.kind == "audio" else _text_job(job)


def _audio_job(job: Job, limits: tuple[float, float]) -> dict[str, Any]:
    import torch

    from melo.audio import load_audio

    assert job.stft is not None
    hop = job.stft.hop_length
    cache_dir = Path(job.cache_dir)
    meta: dict[str, Any] = {"hop_length": hop, "sampling_rate": job.stft.sampling_rate}
    try:
        clip = load_audio(job.wav, job.stft.sampling_rate)
    except (RuntimeError, ValueError, OSError) as e:  # soundfile raises LibsndfileError (a RuntimeError)
        meta["error"] = str(e).splitlines()[0] if str(e) else type(e).__name__
        write_json_atomic(C.shard_path(cache_dir, "audio", job.key, ".json"), meta)
        return meta
    samples = clip.samples
    peak = float(np.abs(samples).max()) if samples.size else 0.0
    frames = samples.shape[0] // hop
    meta.update(
        samples=int(samples.shape[0]),
        frames=int(frames),
        original_sample_rate=int(clip.original_sample_rate),
        channels=int(clip.original_channels),
        peak=peak,
        clipped_fraction=float(np.mean(np.abs(samples) >= CLIP_LEVEL)) if samples.size else 0.0,
    )
    if not np.isfinite(samples).all():
        meta["error"] = "non-finite samples (NaN or infinity)"
    if audio_usable(meta, *limits):
        wav16 = np.round(np.clip(samples[: frames * hop], -1.0, 1.0) * 32767.0).astype(np.int16)
        wav = torch.from_numpy(wav16.astype(np.float32) / 32768.0)
        spec = job.stft.spectrogram(wav)[0]  # (F, frames)
        if spec.shape[-1] != frames:  # only for STFT settings with odd (n_fft - hop)
            frames = min(frames, int(spec.shape[-1]))
            spec, wav16 = spec[:, :frames], wav16[: frames * hop]
            meta["frames"] = frames
        spec16 = spec.numpy().astype(np.float16)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, wav=wav16, spec=spec16)

        atomic_write(C.shard_path(cache_dir, "audio", job.key, ".npz"), write)
    write_json_atomic(C.shard_path(cache_dir, "audio", job.key, ".json"), meta)
    return meta


def _text_job(job: Job) -> dict[str, Any]:
    from melo.text import NothingToPronounceError, phonemize
    from melo.text.sequence import to_sequence
    from melo.text.symbols import DEFAULT_TABLE

    path = C.shard_path(Path(job.cache_dir), "phonemes", job.key, ".json")
    try:
        phonemes = phonemize(job.text, job.language)
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


def fill_features(
    good: list[Any], data: DataConfig, bert_channels: int, cache_dir: Path, device: str, progress: bool, report: Report
) -> None:
    """Make the missing encoder-feature entries of the ``good`` rows (a row: ``.text``, ``.phoneme_key``, ``.row``;
    each row's ``.feature_key`` is set here), ``FEATURE_CHUNK`` rows per extractor call."""
    if not good:
        return
    from melo.features import FeatureExtractor, ModelUnavailableError, feature_fingerprint

    try:
        # The fingerprint needs the model's files, not the model: loading waits until there is work.
        fingerprint = feature_fingerprint(data.bert_model, data.bert_layer, data.bert_precision)  # type: ignore[arg-type]
    except ModelUnavailableError as e:
        raise DataError(f"text encoder data.bert_model={data.bert_model!r} is unavailable: {e}") from e
    todo: dict[str, Any] = {}
    for st in good:
        assert st.phoneme_key is not None
        st.feature_key = C.feature_key(st.phoneme_key, fingerprint, data.bert_model, data.bert_layer, data.add_blank)
        if st.feature_key in todo:
            continue
        if C.shard_path(cache_dir, "features", st.feature_key, ".npy").exists():
            report.reused["features"] += 1
        else:
            todo[st.feature_key] = st
    if not todo:
        return
    try:
        extractor = FeatureExtractor.from_config(data, device=device, precision=data.bert_precision)  # type: ignore[arg-type]
    except ModelUnavailableError as e:
        raise DataError(f"text encoder data.bert_model={data.bert_model!r} is unavailable: {e}") from e
    except ValueError as e:  # e.g. int8 (CPU-only dynamic quantisation) asked for on CUDA
        raise DataError(f"data.bert_precision={data.bert_precision!r} on device {device!r}: {e}") from e
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
