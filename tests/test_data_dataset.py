"""Dataset reads caches only; collate pads correctly; dataset + sampler are reproducible per seed/epoch/rank."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from melo.data import preprocess as P
from melo.data.batch import Batch
from melo.data.dataset import TextAudioDataset, collate
from melo.data.sampler import DistributedBucketSampler

from data_messy import GOOD_TRAIN, build_messy_dataset


@pytest.fixture()
def prepared(tmp_path: Path, tiny_encoder_dir: Path) -> P.PreparedData:
    return P.prepare(build_messy_dataset(tmp_path, tiny_encoder_dir), progress=False)


def test_getitem_reads_only_caches(prepared: P.PreparedData, monkeypatch: pytest.MonkeyPatch) -> None:
    import melo.audio
    import melo.text

    def boom(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("the dataset must not run G2P, the encoder or the STFT")

    monkeypatch.setattr(melo.text, "phonemize", boom)
    monkeypatch.setattr(melo.audio, "spectrogram", boom)
    monkeypatch.setattr(melo.audio, "load_audio", boom)
    ds = TextAudioDataset(prepared.train_manifest)
    assert len(ds) == len(GOOD_TRAIN)
    hop = prepared.config.data.hop_length
    for i in range(len(ds)):
        item = ds[i]
        n = item.phone_ids.shape[0]
        assert item.tone_ids.shape == item.language_ids.shape == (n,)
        assert item.text_features.shape[1] == n and item.text_features.dtype == torch.float32
        assert item.spec.shape[0] == prepared.config.data.spec_channels
        assert item.wav.shape[0] == item.spec.shape[1] * hop
        assert ds.lengths[i] == item.spec.shape[1]


def test_collate_shapes_and_zero_padding(prepared: P.PreparedData) -> None:
    ds = TextAudioDataset(prepared.train_manifest)
    items = [ds[i] for i in range(len(ds))]
    batch = collate(items)
    assert isinstance(batch, Batch) and len(batch) == len(items)
    b = len(items)
    t_text = max(it.phone_ids.shape[0] for it in items)
    t_spec = max(it.spec.shape[1] for it in items)
    hop = prepared.config.data.hop_length
    assert batch.phone_ids.shape == batch.tone_ids.shape == batch.language_ids.shape == (b, t_text)
    assert batch.text_features.shape == (b, items[0].text_features.shape[0], t_text)
    assert batch.spec.shape == (b, prepared.config.data.spec_channels, t_spec)
    assert batch.wav.shape == (b, 1, t_spec * hop)
    assert torch.equal(batch.wav_lengths, batch.spec_lengths * hop)
    for t in (batch.phone_ids, batch.text_lengths, batch.spec_lengths, batch.wav_lengths, batch.speaker_ids):
        assert t.dtype == torch.long
    for i, it in enumerate(items):
        n, f = it.phone_ids.shape[0], it.spec.shape[1]
        assert int(batch.text_lengths[i]) == n and int(batch.spec_lengths[i]) == f
        assert torch.equal(batch.phone_ids[i, :n], it.phone_ids)
        assert int(batch.phone_ids[i, n:].abs().sum()) == 0
        assert float(batch.text_features[i, :, n:].abs().sum()) == 0.0
        assert float(batch.spec[i, :, f:].abs().sum()) == 0.0
        assert float(batch.wav[i, 0, f * hop :].abs().sum()) == 0.0
    assert batch.keys == [it.key for it in items]
    moved = batch.to("cpu")
    assert torch.equal(moved.spec, batch.spec) and moved.keys == batch.keys


def _loader_batches(manifest, epoch: int, rank: int, world: int, seed: int, boundaries=None) -> list[list[str]]:
    ds = TextAudioDataset(manifest)
    sampler = DistributedBucketSampler(ds.lengths, batch_size=2, num_replicas=world, rank=rank, seed=seed, boundaries=boundaries)
    sampler.set_epoch(epoch)
    loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, collate_fn=collate, num_workers=0)
    out = []
    for batch in loader:
        assert isinstance(batch, Batch)
        out.append(batch.keys)
    return out


def test_same_batches_for_same_seed_and_epoch(prepared: P.PreparedData) -> None:
    a = _loader_batches(prepared.train_manifest, epoch=1, rank=0, world=1, seed=5)
    assert a == _loader_batches(prepared.train_manifest, epoch=1, rank=0, world=1, seed=5)
    assert sorted(k for b in a for k in b) == sorted(f"train_list.txt:{i}" for i in GOOD_TRAIN)
    epochs = {tuple(map(tuple, _loader_batches(prepared.train_manifest, e, 0, 1, 5))) for e in range(6)}
    assert len(epochs) > 1


def test_disjoint_shards_per_rank(prepared: P.PreparedData) -> None:
    # 8 good rows in one bucket, batch 2 -> 4 batches over 2 ranks: no padding, so the shards must be
    # disjoint and complete (uneven splits are covered in test_data_sampler.py)
    r0 = _loader_batches(prepared.train_manifest, epoch=0, rank=0, world=2, seed=1, boundaries=[10**9])
    r1 = _loader_batches(prepared.train_manifest, epoch=0, rank=1, world=2, seed=1, boundaries=[10**9])
    k0, k1 = {k for b in r0 for k in b}, {k for b in r1 for k in b}
    assert len(r0) == len(r1)
    assert not k0 & k1
    assert k0 | k1 == {f"train_list.txt:{i}" for i in GOOD_TRAIN}


def test_demo_corpus_preprocesses_cleanly(demo_corpus_dir: Path, tiny_encoder_dir: Path, tmp_path: Path) -> None:
    """The espeak-ng corpus, real frontend, tiny encoder: every row usable, batches load."""
    import json

    from melo.config import load_config

    hidden = json.loads((tiny_encoder_dir / "config.json").read_text())["hidden_size"]
    cfg = load_config(Path(__file__).resolve().parents[1] / "configs" / "tiny.json").replace(
        data={
            "training_files": str(demo_corpus_dir / "train_list.txt"),
            "validation_files": str(demo_corpus_dir / "val_list.txt"),
            "bert_model": str(tiny_encoder_dir),
            "cache_dir": str(tmp_path / "cache"),
        },
        model={"bert_channels": hidden},
    )
    prepared = P.prepare(cfg, progress=False)
    assert [str(p) for p in prepared.report.problems] == []
    assert prepared.report.good["train"] == prepared.report.rows["train"] > 50
    assert set(prepared.config.data.spk2id) == {"alice", "bruno", "chen", "dara"}
    ds = TextAudioDataset(prepared.train_manifest)
    sampler = DistributedBucketSampler(ds.lengths, batch_size=cfg.train.batch_size, seed=cfg.train.seed)
    batch = collate([ds[i] for i in next(iter(sampler))])
    assert batch.text_features.shape[1] == hidden and batch.spec.shape[1] == cfg.data.spec_channels
    assert torch.equal(batch.wav_lengths, batch.spec_lengths * cfg.data.hop_length)
    spoken = set()
    for i in range(len(ds)):
        spoken |= set(ds[i].language_ids[1::2].tolist())  # odd positions are phones, even are blanks
    assert spoken == {0, 1, 2, 3}  # KR, EN, ZH, JP all present
