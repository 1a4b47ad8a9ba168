"""The manifest: the good rows of one filelist, as preprocessing writes them and the dataset reads them.

``<cache>/<split>.<list stem>.manifest.json`` holds ``format_version``, ``split``, ``filelist``, ``hop_length``,
``sampling_rate``, ``filelist_hash`` (of the list's bytes, for freshness checks) and ``items``: one
:class:`ManifestItem` per usable row, naming its cache entries by key. :mod:`melo.data.preprocess` writes it
(:func:`write_manifest`), :mod:`melo.data.dataset` reads it (:func:`load_manifest`); neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from melo.data import DataError
from melo.data import cache as C
from melo.files import json_bytes, write_if_changed

__all__ = ["Manifest", "ManifestItem", "load_manifest", "manifest_path", "write_manifest"]


@dataclass(frozen=True)
class ManifestItem:
    """One good row: what the dataset and the sampler need, and where its cached artefacts are."""

    key: str  # "train_list.txt:12"
    wav: str
    text: str
    speaker: str
    speaker_id: int
    text_length: int  # phone positions (with blanks)
    spec_length: int  # frames
    wav_length: int  # samples == spec_length * hop_length
    audio: str  # cache keys
    phonemes: str
    features: str


@dataclass(frozen=True)
class Manifest:
    split: str
    filelist: str
    cache_dir: Path
    hop_length: int
    items: tuple[ManifestItem, ...]

    def audio_path(self, item: ManifestItem) -> Path:
        return C.shard_path(self.cache_dir, "audio", item.audio, ".npz")

    def phonemes_path(self, item: ManifestItem) -> Path:
        return C.shard_path(self.cache_dir, "phonemes", item.phonemes, ".json")

    def features_path(self, item: ManifestItem) -> Path:
        return C.shard_path(self.cache_dir, "features", item.features, ".npy")


def manifest_path(cache_dir: Path, filelist: str | Path, split: str) -> Path:
    return cache_dir / f"{split}.{Path(filelist).stem}.manifest.json"


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    if raw.get("format_version") != C.FORMAT_VERSION:
        raise DataError(f"{path}: cache format {raw.get('format_version')} != {C.FORMAT_VERSION}; rerun melo.preprocess")
    return Manifest(
        split=raw["split"],
        filelist=raw["filelist"],
        cache_dir=path.parent,
        hop_length=int(raw["hop_length"]),
        items=tuple(ManifestItem(**it) for it in raw["items"]),
    )


def write_manifest(path: Path, split: str, filelist: str | Path, hop_length: int, sampling_rate: int,
                   items: list[ManifestItem]) -> bool:
    """Write the manifest of ``filelist`` unless ``path`` already holds exactly it. Returns whether it wrote."""
    payload = {
        "format_version": C.FORMAT_VERSION,
        "split": split,
        "filelist": str(filelist),
        "hop_length": hop_length,
        "sampling_rate": sampling_rate,
        "filelist_hash": C.file_hash(Path(filelist)) if Path(filelist).is_file() else None,  # not a folder or FIFO
        "items": [asdict(it) for it in items],
    }
    return write_if_changed(path, json_bytes(payload))
