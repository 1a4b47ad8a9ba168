"""Cache entries are checked on every read: one cut short is recomputed with a report line (never passed to
training as fresh), the dataset names a damaged file, and the encoder's size is checked against
``model.bert_channels`` whether or not the features are already cached."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_small import small_dataset

from melo.config import Config
from melo.data import preprocess as P
from melo.data.dataset import TextAudioDataset


@pytest.fixture()
def prepared(tmp_path: Path, tiny_encoder_dir: Path) -> tuple[Config, P.PreparedData]:
    config = small_dataset(tmp_path, tiny_encoder_dir)
    return config, P.prepare(config, progress=False)


def _cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("artefact", ["audio", "features", "phonemes"])
def test_a_truncated_cache_entry_is_recomputed_and_reported(prepared: tuple[Config, P.PreparedData],
                                                            artefact: str) -> None:
    config, first = prepared
    manifest = P.load_manifest(first.train_manifest)
    item = manifest.items[0]
    path = {"audio": manifest.audio_path, "features": manifest.features_path,
            "phonemes": manifest.phonemes_path}[artefact](item)
    _cut_in_half(path)
    assert not P.is_fresh(config)
    second = P.prepare(config, progress=False)
    damaged = [p for p in second.report.problems if p.kind == "cache-damaged"]
    assert [(p.filelist.name, p.line, p.severity) for p in damaged] == [("train.txt", 1, "fixed")]
    assert str(path) in damaged[0].message and "recomputed" in damaged[0].message
    assert second.report.computed[artefact] == 1
    assert P.is_fresh(config)
    TextAudioDataset(second.train_manifest)[0]  # whole again


def test_the_dataset_names_a_damaged_entry(prepared: tuple[Config, P.PreparedData]) -> None:
    _, first = prepared
    dataset = TextAudioDataset(first.train_manifest)
    path = dataset.manifest.audio_path(dataset.items[0])
    _cut_in_half(path)
    with pytest.raises(RuntimeError, match=f"cache entry {path} is damaged.*rerun python -m melo.preprocess"):
        dataset[0]


def test_bert_channels_disagreeing_with_the_encoder_is_caught_when_features_are_cached(
        prepared: tuple[Config, P.PreparedData], monkeypatch: pytest.MonkeyPatch) -> None:
    config, _ = prepared
    import melo.features

    def no_encoder(*a, **k):  # noqa: ANN002, ANN003
        raise AssertionError("the encoder was loaded although every feature is cached")

    monkeypatch.setattr(melo.features.FeatureExtractor, "from_config", no_encoder)
    wrong = config.replace(model={"bert_channels": config.model.bert_channels * 2})
    with pytest.raises(P.DataError, match=f"gives {config.model.bert_channels}-dimensional features .* but "
                                          f"model.bert_channels is {config.model.bert_channels * 2}"):
        P.prepare(wrong, progress=False)


def test_a_bert_layer_beyond_the_encoder_is_blamed_on_bert_layer(tmp_path: Path, tiny_encoder_dir: Path) -> None:
    config = small_dataset(tmp_path, tiny_encoder_dir, bert_layer=99)
    with pytest.raises(P.DataError) as e:
        P.prepare(config, progress=False)
    assert str(e.value).startswith("data.bert_layer: bert_layer 99 is out of range")
    assert "bert_precision" not in str(e.value)
