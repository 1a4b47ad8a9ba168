"""Generator checkpoints written before the modules were renamed (MeloTTS's abbreviations: ``enc_p``, ``emb_g``,
...) load into the current model, tensor for tensor: G_latest.pth through the API, the shipped demo base, and a
trainer's ``init_from``. (Resuming a run written before: tests/test_train_resume.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from melo import checkpoint as ck
from melo.api import load_generator_checkpoint
from melo.config import Config, load_config
from melo.init import initialise
from melo.model import build_discriminators, build_generator
from melo.model.legacy_names import LEGACY_GENERATOR_PREFIXES, current_generator_key
from melo.text.symbols import DEFAULT_TABLE

REPO = Path(__file__).resolve().parents[1]
MELOTTS_KEYS = REPO / "tests" / "data" / "melotts_checkpoint_keys.tsv"
BASE = REPO / "melo" / "demo" / "base" / "G_base.pth"

EARLIER = {
    # the current top-level name -> the one checkpoints written before hold (MeloTTS's), written out here
    "text_encoder.feature_proj.": "enc_p.bert_proj.",
    "text_encoder.": "enc_p.",
    "speaker_embedding.": "emb_g.",
    "posterior_encoder.": "enc_q.",
    "decoder.": "dec.",
    "stochastic_duration_predictor.": "sdp.",
    "duration_predictor.": "dp.",
}

pytestmark = pytest.mark.usefixtures("one_thread")


def under_earlier_names(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` as a checkpoint written before the rename holds it."""
    def earlier(key: str) -> str:
        for current, old in EARLIER.items():
            if key.startswith(current):
                return old + key[len(current):]
        return key

    return {earlier(k): v for k, v in state.items()}


def tiny_config() -> Config:
    return load_config(REPO / "configs" / "tiny.json").replace(data={"spk2id": {"alice": 0, "bruno": 1}})


def _write_latest_as_before(path: Path, state: dict[str, torch.Tensor], config: Config) -> Path:
    """A G_latest.pth exactly as version 1 wrote it (earlier names, ``"version": 1``)."""
    ck.atomic_save({"format": "melo-G-latest", "version": 1, "step": 7, "generator": under_earlier_names(state),
                    "config": config.to_dict(), "symbols": DEFAULT_TABLE.to_dict(), "spk2id": config.data.spk2id},
                   path)
    return path


def test_every_earlier_top_level_name_is_translated_to_a_module_of_the_model() -> None:
    melotts_tops = {line.split("\t")[1].split(".")[0] for line in MELOTTS_KEYS.read_text(encoding="utf-8").splitlines()
                    if line.startswith("G\t")}
    assert melotts_tops == {"enc_p", "emb_g", "enc_q", "dec", "sdp", "dp", "flow"}
    model = build_generator(tiny_config(), DEFAULT_TABLE)
    children = {name for name, _ in model.named_children()}
    assert {current_generator_key(top + ".x").split(".")[0] for top in melotts_tops} == children
    assert {old for old, _ in LEGACY_GENERATOR_PREFIXES} == set(EARLIER.values())
    assert all(current_generator_key(old) == new for new, old in EARLIER.items())
    assert all(current_generator_key(k) == k for k in model.state_dict())  # current names pass unchanged


def test_g_latest_written_under_the_earlier_names_loads_every_tensor(tmp_path: Path) -> None:
    config = tiny_config()
    torch.manual_seed(3)
    state = build_generator(config, DEFAULT_TABLE).state_dict()
    path = _write_latest_as_before(tmp_path / ck.LATEST_NAME, state, config)
    raw = torch.load(path, map_location="cpu", weights_only=True)["generator"]
    assert "enc_p.bert_proj.weight" in raw and "emb_g.weight" in raw and "dec.conv_pre.weight" in raw

    model, _, _, speakers = load_generator_checkpoint(path)
    loaded = model.state_dict()
    assert loaded.keys() == state.keys() and speakers == config.data.spk2id
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_init_from_a_checkpoint_under_the_earlier_names_copies_every_tensor(tmp_path: Path) -> None:
    config = tiny_config()
    torch.manual_seed(3)
    state = build_generator(config, DEFAULT_TABLE).state_dict()
    path = _write_latest_as_before(tmp_path / "base" / ck.LATEST_NAME, state, config)
    torch.manual_seed(4)
    new = build_generator(config, DEFAULT_TABLE)
    (report,) = initialise(config.replace(train={"init_from": str(path)}), new, build_discriminators(config),
                           DEFAULT_TABLE)
    assert report.count("fresh") == 0 and report.count("dropped") == 0
    loaded = new.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items() if k != "speaker_embedding.weight")
    rows = list(config.data.spk2id.values())  # the named speakers' rows (unnamed rows start fresh, by design)
    assert torch.equal(loaded["speaker_embedding.weight"][rows], state["speaker_embedding.weight"][rows])


def test_the_shipped_base_voice_holds_the_earlier_names_and_loads_under_the_current_ones() -> None:
    raw = torch.load(BASE, map_location="cpu", weights_only=True)["generator"]
    assert any(k.startswith("enc_p.") for k in raw) and "emb_g.weight" in raw  # written before the rename

    model, *_ = load_generator_checkpoint(BASE)
    loaded = model.state_dict()
    assert len(loaded) == len(raw)
    for key, value in raw.items():
        assert torch.equal(loaded[current_generator_key(key)], value.to(loaded[current_generator_key(key)].dtype)), key


def test_a_generator_holding_both_names_of_a_tensor_is_refused_naming_the_file(tmp_path: Path) -> None:
    state = {"emb_g.weight": torch.ones(2, 3), "speaker_embedding.weight": torch.zeros(2, 3)}
    ck.atomic_save({"format": "melo-G", "version": 1, "step": 1, "generator": state}, tmp_path / "G_1.pth")
    with pytest.raises(ck.CheckpointError, match=re.escape(str(tmp_path / "G_1.pth")) + ".*both its earlier"):
        ck.load_checkpoint_file(tmp_path / "G_1.pth")


def test_new_generator_files_are_version_2_under_the_current_names(tmp_path: Path) -> None:
    config = tiny_config()
    state = build_generator(config, DEFAULT_TABLE).state_dict()
    g_path, *_ = ck.save_checkpoint_set(tmp_path, 1, state, {"mpd": {}}, {})
    latest = ck.save_latest(tmp_path, 1, state, config.to_dict(), DEFAULT_TABLE.to_dict(), config.data.spk2id)
    for path in (g_path, latest):
        payload = torch.load(path, map_location="cpu", weights_only=True)
        assert payload["version"] == ck.GENERATOR_FORMAT_VERSION == 2
        assert list(payload["generator"]) == list(state)
