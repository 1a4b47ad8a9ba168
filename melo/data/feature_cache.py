"""The text encoder's features for every kept row, cached as fp16 ``.npy`` under a key of phonemes and encoder.

:func:`fill_features` keys each row by its phonemes and the encoder's fingerprint (computed from the model's
files, without loading it), checks the cached entries' shapes, and loads the encoder only when some are missing
or damaged; it then extracts them in chunks of :data:`FEATURE_CHUNK` rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from melo.config import DataConfig
from melo.data import DataError
from melo.data import cache as C
from melo.data.integrity import npy_shape
from melo.data.phonemes_json import phonemes_from_dict
from melo.data.report import Report
from melo.data.row_measurement import RowState
from melo.files import atomic_write

__all__ = ["FEATURE_CHUNK", "fill_features"]

FEATURE_CHUNK = 64
"""Rows handed to the feature extractor per call (it batches further inside)."""


def fill_features(
    good: list[RowState], data: DataConfig, bert_channels: int, cache_dir: Path, device: str, progress: bool, report: Report
) -> None:
    """Give each of the ``good`` rows its ``feature_key`` and make sure its features are in the cache.

    Raises :class:`DataError` when the encoder is unavailable or its size is not ``bert_channels``."""
    if not good:
        return
    from melo.features import FeatureExtractor, ModelUnavailableError, feature_fingerprint

    try:
        # The fingerprint needs the model's files, not the model: loading waits until there is work.
        fingerprint = feature_fingerprint(data.bert_model, data.bert_layer, data.bert_precision)  # type: ignore[arg-type]
    except ModelUnavailableError as e:
        raise DataError(f"text encoder data.bert_model={data.bert_model!r} is unavailable: {e}") from e
    todo: dict[str, RowState] = {}
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
            report.damaged_cache_entry(st.row, path)
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
