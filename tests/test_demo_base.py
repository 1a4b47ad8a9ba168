"""The quick-start demo's base voice: ``configs/demo.json`` fits ``melo/demo/base`` and the base loads whole.

The demo (``python -m melo.demo``) fine-tunes the shipped base voice instead of training from random weights.
A base that silently did not load would bring back the buzz the demo used to end in, so these tests load the
shipped files exactly as the trainer does (``melo.init.initialise``) and require every tensor to come from them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from melo import checkpoint as ck
from melo.config import load_config
from melo.demo.__main__ import DEMO_SENTENCES, _without_initialisation
from melo.demo.corpus import EN, JP, KR, MIXED, SPEAKERS, ZH
from melo.demo.sentences import LANGUAGES, grammar_size, held_out_sentences, sentences
from melo.init import initialise
from melo.model import build_discriminators, build_generator
from melo.text.symbols import DEFAULT_TABLE

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "configs" / "demo.json"
BASE = REPO / "melo" / "demo" / "base"

pytestmark = pytest.mark.usefixtures("one_thread")


def _demo_config():
    config = load_config(DEMO_CONFIG)
    speakers = {s.name: i for i, s in enumerate(SPEAKERS)}
    return config.replace(
        train={"init_from": str(BASE / "G_base.pth"), "init_from_D": str(BASE / "D_base.pth")},
        data={"spk2id": speakers})


def test_demo_config_has_the_base_configs_model_and_audio() -> None:
    demo = load_config(DEMO_CONFIG)
    base = load_config(REPO / "configs" / "cpu_base.json")
    assert demo.to_dict()["model"] == base.to_dict()["model"]
    for field in ("sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels", "bert_layer"):
        assert getattr(demo.data, field) == getattr(base.data, field), field


def test_shipped_base_was_trained_with_the_demo_model_config() -> None:
    payload = ck.load_checkpoint_file(BASE / "G_base.pth")
    assert payload["config"]["model"] == load_config(DEMO_CONFIG).to_dict()["model"]
    assert payload["config"]["data"]["bert_model"] == load_config(DEMO_CONFIG).data.bert_model
    assert (BASE / "G_base.pth").stat().st_size < 20 * 2**20


def test_base_voice_loads_every_tensor_into_the_demo_networks(tmp_path: Path) -> None:
    config = _demo_config()
    torch.manual_seed(0)
    generator, discriminators = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    reports = initialise(config, generator, discriminators, DEFAULT_TABLE, report_dir=tmp_path)
    assert [r.network for r in reports] == ["generator", "discriminators", "duration_discriminator"]
    for report in reports:
        assert report.count("fresh") == 0, report.text()
        assert report.count("dropped") == 0, report.text()
    g = reports[0]
    # only the speaker table is resized: the demo corpus adds chen and dara to the base's alice and bruno
    assert [o.name for o in g.outcomes if o.kind == "resized"] == ["speaker_embedding.weight"]
    assert g.fraction > 0.9999
    changed = [k for k, v in generator.state_dict().items() if not torch.equal(v, before[k])]
    assert len(changed) > 0.95 * len(before)


def test_from_scratch_config_drops_every_initialisation(tmp_path: Path) -> None:
    out = _without_initialisation(DEMO_CONFIG, tmp_path / "demo.config.json")
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert raw["train"]["init_from"] is None and raw["train"]["init_from_D"] is None
    assert raw["model"] == load_config(DEMO_CONFIG).to_dict()["model"]


def test_demo_sentences_are_held_out_from_every_training_corpus() -> None:
    assert [s.language for s in DEMO_SENTENCES] == list(LANGUAGES)
    demo_corpus_texts = {*KR, *EN, *ZH, *(text for text, _ in JP), *MIXED}
    for sentence in DEMO_SENTENCES:
        assert sentence in held_out_sentences(sentence.language, 12)
        trained = {s.text for s in sentences(sentence.language, grammar_size(sentence.language) // 2)}
        assert sentence.text not in trained  # the base's corpus draws its training and validation lines here
        assert sentence.text not in demo_corpus_texts
