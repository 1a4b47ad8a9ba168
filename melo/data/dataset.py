"""Dataset over a preprocessing manifest. Reads cache files only: no G2P, no encoder, no STFT here.

    dataset = TextAudioDataset(prepared.train_manifest)
    sampler = DistributedBucketSampler(dataset.lengths, batch_size, num_replicas, rank, seed=seed)
    loader = DataLoader(dataset, batch_sampler=sampler, collate_fn=collate, pin_memory=True)
"""

from __future__ import annotations

import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from melo.data.batch import Batch
from melo.data.manifest import Manifest, load_manifest

__all__ = ["Item", "TextAudioDataset", "collate"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """One utterance, unpadded."""

    key: str
    phone_ids: torch.Tensor  # (T_text,) long
    tone_ids: torch.Tensor  # (T_text,) long
    language_ids: torch.Tensor  # (T_text,) long
    text_features: torch.Tensor  # (bert_channels, T_text) float32
    spec: torch.Tensor  # (spec_channels, T_spec) float32
    wav: torch.Tensor  # (T_spec * hop_length,) float32
    speaker_id: int


class TextAudioDataset(torch.utils.data.Dataset):
    """Items of one manifest (``PreparedData.train_manifest`` or ``.val_manifest``)."""

    def __init__(self, manifest: str | Path | Manifest) -> None:
        self.manifest = manifest if isinstance(manifest, Manifest) else load_manifest(manifest)
        self.items = self.manifest.items

    def __len__(self) -> int:
        return len(self.items)

    @property
    def lengths(self) -> list[int]:
        """Spectrogram frames per item (what the bucket sampler sorts by)."""
        return [it.spec_length for it in self.items]

    @property
    def keys(self) -> list[str]:
        return [it.key for it in self.items]

    def __getitem__(self, index: int) -> Item:
        it = self.items[index]
        path = self.manifest.phonemes_path(it)
        try:
            text = json.loads(path.read_text(encoding="utf-8"))
            path = self.manifest.features_path(it)
            text_features = np.load(path)  # (H, T_text) fp16
            path = self.manifest.audio_path(it)
            with np.load(path) as audio:
                spec = audio["spec"]  # (F, T_spec) fp16
                wav = audio["wav"]  # (T_spec * hop,) int16
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
            raise RuntimeError(f"{it.key}: cache entry {path} is damaged ({type(e).__name__}: {e}); rerun "
                               f"python -m melo.preprocess, which checks the cache and recomputes it") from None
        phone_ids = torch.tensor(text["phone_ids"], dtype=torch.long)
        if text_features.shape[1] != phone_ids.shape[0] or spec.shape[1] * self.manifest.hop_length != wav.shape[0]:
            raise RuntimeError(
                f"{it.key}: cache entries disagree (phones {phone_ids.shape[0]}, features {text_features.shape[1]}, "
                f"frames {spec.shape[1]}, samples {wav.shape[0]}); delete {self.manifest.cache_dir} and rerun melo.preprocess"
            )
        return Item(
            key=it.key,
            phone_ids=phone_ids,
            tone_ids=torch.tensor(text["tone_ids"], dtype=torch.long),
            language_ids=torch.tensor(text["language_ids"], dtype=torch.long),
            text_features=torch.from_numpy(text_features.astype(np.float32)),
            spec=torch.from_numpy(spec.astype(np.float32)),
            wav=torch.from_numpy(wav.astype(np.float32) / 32768.0),
            speaker_id=it.speaker_id,
        )


def collate(items: list[Item]) -> Batch:
    """Zero-pad a list of items into a :class:`Batch` (in the given order)."""
    if not items:
        raise ValueError("collate needs at least one item")
    b = len(items)
    t_text = max(int(it.phone_ids.shape[0]) for it in items)
    t_spec = max(int(it.spec.shape[1]) for it in items)
    t_wav = max(int(it.wav.shape[0]) for it in items)
    phone_ids = torch.zeros(b, t_text, dtype=torch.long)
    tone_ids = torch.zeros(b, t_text, dtype=torch.long)
    language_ids = torch.zeros(b, t_text, dtype=torch.long)
    text_features = torch.zeros(b, items[0].text_features.shape[0], t_text)
    spec = torch.zeros(b, items[0].spec.shape[0], t_spec)
    wav = torch.zeros(b, 1, t_wav)
    text_lengths = torch.zeros(b, dtype=torch.long)
    spec_lengths = torch.zeros(b, dtype=torch.long)
    wav_lengths = torch.zeros(b, dtype=torch.long)
    for i, it in enumerate(items):
        n, f, s = it.phone_ids.shape[0], it.spec.shape[1], it.wav.shape[0]
        phone_ids[i, :n] = it.phone_ids
        tone_ids[i, :n] = it.tone_ids
        language_ids[i, :n] = it.language_ids
        text_features[i, :, :n] = it.text_features
        spec[i, :, :f] = it.spec
        wav[i, 0, :s] = it.wav
        text_lengths[i], spec_lengths[i], wav_lengths[i] = n, f, s
    return Batch(
        phone_ids=phone_ids,
        tone_ids=tone_ids,
        language_ids=language_ids,
        text_lengths=text_lengths,
        text_features=text_features,
        spec=spec,
        spec_lengths=spec_lengths,
        wav=wav,
        wav_lengths=wav_lengths,
        speaker_ids=torch.tensor([it.speaker_id for it in items], dtype=torch.long),
        keys=[it.key for it in items],
    )
