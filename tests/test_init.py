"""melo.init: initialising from MeloTTS's checkpoints and from ours, the load report, refusal, freezing.

MeloTTS checkpoints are built from ``tests/data/melotts_checkpoint_keys.tsv`` (every key and shape of its
released generator, discriminator and duration discriminator; random values). The expected MeloTTS -> ours
correspondence is written out here independently of ``melo/init/layout.py``.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch

from melo import checkpoint as ck
from melo.config import Config, ConfigError, load_config
from melo.init import InitError, freeze_groups, initialise
from melo.init.weightnorm import canonical, folded
from melo.model import Discriminators, build_discriminators, build_generator
from melo.model.commons import remove_weight_norm
from melo.text.symbols import DEFAULT_TABLE, SymbolTable

REPO = Path(__file__).resolve().parents[1]
KEYS_TSV = REPO / "tests" / "data" / "melotts_checkpoint_keys.tsv"
TINY_SPEAKERS = {"alice": 0, "bruno": 1, "chen": 2, "dara": 3}

pytestmark = pytest.mark.usefixtures("one_thread")


# -- MeloTTS checkpoints from the facts table -----------------------------------------------------------

def melotts_state(part: str, seed: int) -> dict[str, torch.Tensor]:
    """Random tensors in the names and shapes MeloTTS's ``part`` (G, D or DUR) has."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for line in KEYS_TSV.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        which, key, shape = line.split("\t")
        if which != part:
            continue
        state[key] = torch.randn(json.loads(shape), generator=gen)
    return state


def ours_from_melotts(key: str) -> str:
    """Our key for MeloTTS's ``key`` (canonical: weight-norm pairs under ``.weight``), as documented."""
    key = re.sub(r"\.weight_[gv]$", ".weight", key)
    key = re.sub(r"\.parametrizations\.weight\.original[01]$", ".weight", key)
    key = key.replace(".spk_emb_linear.", ".spk_proj.")
    key = re.sub(r"(enc_p\.encoder|\.enc)\.norm_layers_([12])\.", r"\1.norm_\2.", key)
    key = re.sub(r"^flow\.flows\.(\d+)\.", lambda m: f"flow.flows.{int(m[1]) // 2}.", key)
    key = re.sub(r"^(enc_p\.bert_proj|enc_p|emb_g|enc_q|dec|sdp|dp)\.", lambda m: MELOTTS_MODULES[m[1]] + ".", key)
    return key.replace("output_layer.0.", "output_layer.")


MELOTTS_MODULES = {"enc_p.bert_proj": "text_encoder.feature_proj", "enc_p": "text_encoder", "emb_g": "speaker_embedding",
                   "enc_q": "posterior_encoder", "dec": "decoder", "sdp": "stochastic_duration_predictor",
                   "dp": "duration_predictor"}
"""MeloTTS's top-level generator modules and ours."""


def full_config(**train: Any) -> Config:
    return load_config(REPO / "configs" / "config_bge_m3.json").replace(
        train=train, data={"spk2id": {"KR": 0, "myvoice": 1}})


def save_melotts(folder: Path, name: str, state: dict[str, torch.Tensor], spk2id: dict[str, int] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state}, folder / name)
    if spk2id is not None:
        (folder / "config.json").write_text(json.dumps({"data": {"spk2id": spk2id}}), encoding="utf-8")
    return folder / name


@pytest.fixture(scope="module")
def full_networks() -> tuple[torch.nn.Module, Discriminators]:
    torch.manual_seed(0)
    config = full_config()
    return build_generator(config, DEFAULT_TABLE), build_discriminators(config)


def _expect_equal_after_folding(ours: dict[str, Any], theirs: dict[str, Any], key: str) -> None:
    a, b = ours[key], theirs[key]
    if type(a) is type(b) and not isinstance(a, torch.Tensor):  # both weight-norm pairs: g and v as stored
        assert torch.equal(a.g.flatten(), b.g.flatten()) and torch.equal(a.v.flatten(), b.v.flatten()), key
    else:
        torch.testing.assert_close(folded(a).flatten(), folded(b).flatten(), rtol=1e-6, atol=1e-6, msg=key)


@pytest.mark.slow
def test_melotts_voice_loads_every_tensor_by_name_with_weight_norm_in_both_forms(
        tmp_path: Path, full_networks: tuple[torch.nn.Module, Discriminators]) -> None:
    generator, discriminators = full_networks
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    source = melotts_state("G", seed=1)
    ckpt_path = save_melotts(tmp_path / "voice", "checkpoint.pth", source, {"KR": 0})
    config = full_config(init_from=str(ckpt_path))
    (report,) = initialise(config, generator, discriminators, DEFAULT_TABLE, report_dir=tmp_path / "run")

    ours, theirs = canonical(generator.state_dict()), canonical(source)
    row_tables = {"enc_p.emb.weight", "enc_p.tone_emb.weight", "enc_p.language_emb.weight", "emb_g.weight"}
    mapped = {}
    for key in theirs:
        if key.startswith("enc_p.ja_bert_proj.") or key == "enc_p.bert_proj.weight" or key in row_tables:
            continue
        mapped[ours_from_melotts(key)] = key
        _expect_equal_after_folding(ours, {ours_from_melotts(key): theirs[key]}, ours_from_melotts(key))
    assert len(mapped) == len(theirs) - 7  # every other MeloTTS tensor has a place here
    assert set(ours) - set(mapped) == {ours_from_melotts(k) for k in row_tables | {"enc_p.bert_proj.weight"}}
    assert torch.equal(ours["text_encoder.feature_proj.weight"], torch.zeros(192, 1024, 1))  # the documented rule

    # rows by name: symbols (MeloTTS spells EN lower case, JP ɴ/cl as N/q), tones, languages, speakers
    emb, melo_emb = ours["text_encoder.emb.weight"], theirs["enc_p.emb.weight"]
    melotts_row = {"_": 0, "AA": 21, "V": 14, "v": 104, "ᄀ": 160, "ᆼ": 206, "ɴ": 11, "cl": 84, "E": 37, "a": 19,
                   "…": 210, "SP": 217, "UNK": 218}
    for symbol, row in melotts_row.items():
        assert torch.equal(emb[DEFAULT_TABLE.symbol_id(symbol)], melo_emb[row]), symbol
    for symbol in ("ᆩ", "gw", "fy", "ueng", "ê"):  # MeloTTS has no such phone: the model's own row
        assert torch.equal(emb[DEFAULT_TABLE.symbol_id(symbol)], before["text_encoder.emb.weight"][DEFAULT_TABLE.symbol_id(symbol)])
    tones = ours["text_encoder.tone_emb.weight"]
    assert torch.equal(tones[DEFAULT_TABLE.tone_id("EN", 2)], theirs["enc_p.tone_emb.weight"][9])
    assert torch.equal(tones[DEFAULT_TABLE.tone_id("KR", 0)], theirs["enc_p.tone_emb.weight"][11])
    assert torch.equal(tones[DEFAULT_TABLE.tone_id("JP", 1)], before["text_encoder.tone_emb.weight"][DEFAULT_TABLE.tone_id("JP", 1)])
    languages = ours["text_encoder.language_emb.weight"]
    for lang, row in {"KR": 4, "EN": 2, "ZH": 0, "JP": 1}.items():
        assert torch.equal(languages[DEFAULT_TABLE.language_id(lang)], theirs["enc_p.language_emb.weight"][row])
    assert torch.equal(ours["speaker_embedding.weight"][0], theirs["emb_g.weight"][0])  # KR -> KR
    assert torch.equal(ours["speaker_embedding.weight"][1], before["speaker_embedding.weight"][1])  # myvoice: fresh

    # the report's counts
    fresh_symbols = sum(1 for s in DEFAULT_TABLE.symbols if s in ("ᆩ", "ᆪ", "ᆬ", "ᆭ", "ᆰ", "ᆱ", "ᆲ", "ᆳ", "ᆴ", "ᆵ",
                        "ᆶ", "ᆹ", "ᆺ", "ᆻ", "ᆽ", "ᆾ", "ᆿ", "ᇀ", "ᇁ", "ᇂ", "ueng", "io", "ê", "gw", "kw", "fy",
                        "ᆨ̚", "ᆫ̚", "ᆮ̚", "ᆯ̚", "ᆷ̚", "ᆸ̚", "ᆼ̚"))  # the last seven: Korean coda classes
    assert fresh_symbols == 33
    n_ours = sum(p.numel() for p in generator.parameters())
    fresh = 192 * 1024 + 33 * 192 + 1 * 192 + (256 - 1) * 256  # bert_proj weight, symbols, JP:1, speakers
    assert (report.parameters, report.copied) == (n_ours, n_ours - fresh)
    assert report.count("dropped") == 2 and report.count("fresh") == 1 and report.count("resized") == 3
    assert report.count("loaded") == len(ours) - 4
    table = report.table()
    assert re.search(r"text_embeddings\s+2\s+2\s+1\s+2\s", table), table
    assert re.search(r"decoder\s+195\s+0\s+0\s+0\s", table), table
    written = (tmp_path / "run" / "init_report.txt").read_text(encoding="utf-8")
    assert "enc_p.ja_bert_proj.weight" in written and "zeroed" in written and "fresh: myvoice" in written

    # the same voice written by a newer torch (parametrized weight norm) maps to the same values
    from melo.init.mapping import map_source
    from melo.init.rows import table_row_names
    from melo.init.sources import read_generator

    loaded = read_generator(str(ckpt_path))
    loaded.state = {re.sub(r"\.weight_([gv])$", lambda m: f".parametrizations.weight.original{'gv'.index(m[1])}", k): v
                    for k, v in loaded.state.items()}
    assert sum(".parametrizations." in k for k in loaded.state) == sum(k.endswith("_g") for k in source) * 2
    again = map_source(generator, loaded, table_row_names(DEFAULT_TABLE, config.data.spk2id))
    for key, value in again.state.items():
        assert torch.equal(value, generator.state_dict()[key]) or key in ("text_encoder.emb.weight",
                                                                            "speaker_embedding.weight",
                                                                            "text_encoder.tone_emb.weight"), key
    assert again.report.copied == report.copied


@pytest.mark.slow
def test_melotts_discriminators_load_from_d_and_dur_files(tmp_path: Path,
                                                          full_networks: tuple[torch.nn.Module, Discriminators]) -> None:
    generator, discriminators = full_networks
    d_state, dur_state = melotts_state("D", seed=2), melotts_state("DUR", seed=3)
    d_path = save_melotts(tmp_path, "D_1000.pth", d_state, None)
    dur_path = save_melotts(tmp_path, "DUR_1000.pth", dur_state, None)
    config = full_config(init_from_D=str(d_path), init_from_DUR=str(dur_path))
    mpd_report, dur_report = initialise(config, generator, discriminators, DEFAULT_TABLE)

    ours = canonical(discriminators.mpd.state_dict())
    for key, value in canonical(d_state).items():  # (k, 1) Conv2d kernels as (k,) Conv1d ones
        _expect_equal_after_folding(ours, {ours_from_melotts(key): value}, ours_from_melotts(key))
    assert mpd_report.fraction == 1.0 and mpd_report.count("dropped") == 0
    ours = canonical(discriminators.duration.state_dict())
    for key, value in canonical(dur_state).items():
        if not key.startswith("cond."):
            _expect_equal_after_folding(ours, {ours_from_melotts(key): value}, ours_from_melotts(key))
    # MeloTTS never passes a speaker to its duration discriminator: its cond layer is dead weight, not built here
    assert dur_report.count("dropped") == 2 and dur_report.fraction == 1.0


def test_melotts_checkpoint_into_a_different_model_is_refused(tmp_path: Path) -> None:
    config = load_config(REPO / "configs" / "tiny.json").replace(data={"spk2id": TINY_SPEAKERS})
    generator, discriminators = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    text_side = {k: v for k, v in melotts_state("G", 4).items() if k.startswith(("enc_p.", "dp.", "sdp."))}
    path = save_melotts(tmp_path, "checkpoint.pth", text_side, {"KR": 0})
    with pytest.raises(InitError, match="tensors of the generator differ in shape from") as error:
        initialise(config.replace(train={"init_from": str(path)}), generator, discriminators, DEFAULT_TABLE)
    assert "text_encoder.emb.weight: source (219, 192) vs model (207, 32)" in str(error.value)
    assert "set train.allow_shape_mismatch" in str(error.value)
    lenient = config.replace(train={"init_from": str(path), "allow_shape_mismatch": True})
    with pytest.raises(InitError, match=r"only 0\.\d% of the generator's parameters came from .*init_min_fraction = 0.5"):
        initialise(lenient, generator, discriminators, DEFAULT_TABLE)

    unrelated = save_melotts(tmp_path / "x", "checkpoint.pth", {"enc_p.something.weight": torch.ones(3)}, None)
    with pytest.raises(InitError, match="nothing of the generator was initialised from"):
        initialise(config.replace(train={"init_from": str(unrelated), "init_min_fraction": 0.0}), generator,
                   discriminators, DEFAULT_TABLE)


# -- our own checkpoints --------------------------------------------------------------------------------

def tiny_config(**data: Any) -> Config:
    return load_config(REPO / "configs" / "tiny.json").replace(data={"spk2id": TINY_SPEAKERS, **data})


def older_table() -> SymbolTable:
    """A table without the last five symbols, the rest in another order (a foreign table, not a prefix)."""
    kept = list(DEFAULT_TABLE.symbols[1:-5])
    return SymbolTable(("_", *reversed(kept)), DEFAULT_TABLE.languages, dict(DEFAULT_TABLE.num_tones))


def save_ours(folder: Path, generator: torch.nn.Module, config: Config, table: SymbolTable) -> Path:
    return ck.save_latest(folder, 7, generator.state_dict(), config.to_dict(), table.to_dict(), config.data.spk2id)


def test_our_checkpoint_into_more_speakers_and_a_grown_symbol_table(tmp_path: Path) -> None:
    torch.manual_seed(1)
    old_config, old_table = tiny_config(), older_table()
    old = build_generator(old_config, old_table)
    path = save_ours(tmp_path / "base", old, old_config, old_table)

    # the new run: two more speakers, ids reassigned; the full symbol table
    spk2id = {"erin": 0, "bruno": 1, "alice": 2, "frank": 3, "chen": 4, "dara": 5}
    config = tiny_config(spk2id=spk2id).replace(train={"init_from": str(path)})
    torch.manual_seed(2)
    new, discriminators = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    fresh = {k: v.clone() for k, v in new.state_dict().items()}
    (report,) = initialise(config, new, discriminators, DEFAULT_TABLE)

    state, old_state = new.state_dict(), old.state_dict()
    for name, row in spk2id.items():
        expected = old_state["speaker_embedding.weight"][TINY_SPEAKERS[name]] if name in TINY_SPEAKERS else fresh["speaker_embedding.weight"][row]
        assert torch.equal(state["speaker_embedding.weight"][row], expected), name
    for symbol in DEFAULT_TABLE.symbols:
        row = DEFAULT_TABLE.symbol_id(symbol)
        expected = (old_state["text_encoder.emb.weight"][old_table.symbol_id(symbol)] if symbol in old_table
                    else fresh["text_encoder.emb.weight"][row])
        assert torch.equal(state["text_encoder.emb.weight"][row], expected), symbol
    for key, value in state.items():
        if key not in ("speaker_embedding.weight", "text_encoder.emb.weight"):
            assert torch.equal(value, old_state[key]), key
    assert report.count("resized") == 2 and report.count("fresh") == 0 and report.count("dropped") == 0
    details = report.details()
    assert "4 rows by speaker name; fresh: erin frank" in details
    assert "202 rows by symbol name; fresh: " + " ".join(DEFAULT_TABLE.symbols[-5:]) in details  # the 5 left out
    n = sum(p.numel() for p in new.parameters())
    assert report.copied == n - 5 * 32 - (8 - 4) * 16  # five new symbols; speaker rows 4 new + 2 unused


def test_speaker_map_starts_a_new_speaker_from_a_named_one(tmp_path: Path) -> None:
    torch.manual_seed(1)
    config = tiny_config()
    old = build_generator(config, DEFAULT_TABLE)
    path = save_ours(tmp_path, old, config, DEFAULT_TABLE)
    new_config = tiny_config(spk2id={"me": 0}).replace(train={"init_from": str(path), "init_speaker_map": {"me": "chen"}})
    new, discriminators = build_generator(new_config, DEFAULT_TABLE), build_discriminators(new_config)
    initialise(new_config, new, discriminators, DEFAULT_TABLE)
    assert torch.equal(new.speaker_embedding.weight[0], old.speaker_embedding.weight[2])
    with pytest.raises(InitError, match=r"zed is not a speaker of .*its speakers: alice, bruno, chen, dara"):
        initialise(new_config.replace(train={"init_speaker_map": {"me": "zed"}}), new, discriminators, DEFAULT_TABLE)
    with pytest.raises(InitError, match=r"names you, not a speaker of this run \(its speakers: me\)"):
        initialise(new_config.replace(train={"init_speaker_map": {"you": "chen"}}), new, discriminators, DEFAULT_TABLE)


def test_fp16_generator_only_export_with_folded_weight_norm(tmp_path: Path) -> None:
    """An inference export: fp16, weight norm folded into plain weights, G_latest.pth's layout."""
    torch.manual_seed(1)
    config = tiny_config()
    old = build_generator(config, DEFAULT_TABLE)
    export = copy.deepcopy(old)
    remove_weight_norm(export)
    half = {k: v.half() for k, v in export.state_dict().items()}
    torch.save({"generator": half, "config": config.to_dict(), "symbols": DEFAULT_TABLE.to_dict(),
                "spk2id": TINY_SPEAKERS}, tmp_path / "voice_fp16.pth")
    new_config = config.replace(train={"init_from": str(tmp_path / "voice_fp16.pth")})
    new, discriminators = build_generator(new_config, DEFAULT_TABLE), build_discriminators(new_config)
    (report,) = initialise(new_config, new, discriminators, DEFAULT_TABLE)
    ours = canonical(new.state_dict())
    assert any(k.endswith("original0") for k in new.state_dict())  # weight norm is live again
    for key, value in half.items():
        if key != "speaker_embedding.weight":
            torch.testing.assert_close(folded(ours[key]), value.float(), rtol=1e-3, atol=1e-6, msg=key)
    assert report.count("fresh") == 0 and report.count("dropped") == 0 and report.count("resized") == 1  # the speaker table


def test_shape_mismatch_in_our_checkpoint_is_an_error_unless_allowed(tmp_path: Path) -> None:
    config = tiny_config()
    path = save_ours(tmp_path, build_generator(config, DEFAULT_TABLE), config, DEFAULT_TABLE)
    wider = load_config(REPO / "configs" / "tiny.json").replace(
        data={"spk2id": TINY_SPEAKERS}, model={"upsample_initial_channel": 64}, train={"init_from": str(path)})
    new, discriminators = build_generator(wider, DEFAULT_TABLE), build_discriminators(wider)
    with pytest.raises(InitError, match=r"decoder\.conv_pre\.weight: source \(32, 32, 7\) vs model \(64, 32, 7\)"):
        initialise(wider, new, discriminators, DEFAULT_TABLE)
    (report,) = initialise(wider.replace(train={"allow_shape_mismatch": True}), new, discriminators, DEFAULT_TABLE)
    assert report.count("fresh", "decoder") > 0 and report.count("fresh", "flow") == 0
    assert "model.upsample_initial_channel: 32 in the source, 64 here" in report.details()


def test_our_discriminators_load_from_d_file(tmp_path: Path) -> None:
    config = tiny_config()
    torch.manual_seed(3)
    old = build_discriminators(config)
    ck.save_checkpoint_set(tmp_path, 5, {}, {"mpd": old.mpd.state_dict(), "duration": old.duration.state_dict()},
                           {"epoch": 0, "batch_in_epoch": 0, "optimizers": {}, "schedulers": {}, "rng": []})
    new_config = config.replace(train={"init_from_D": str(tmp_path / "D_5.pth")})
    torch.manual_seed(4)
    generator, new = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    reports = initialise(new_config, generator, new, DEFAULT_TABLE)
    assert [r.network for r in reports] == ["discriminators", "duration_discriminator"]
    for mine, theirs in ((new.mpd, old.mpd), (new.duration, old.duration)):
        for (k, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
            assert torch.equal(a, b), k


# -- sources: the hub, errors ---------------------------------------------------------------------------

def test_hub_repo_offline_and_uncached_fails_fast_with_instructions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    config = tiny_config().replace(train={"init_from": "myshell-ai/MeloTTS-Korean"})
    generator, discriminators = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    with pytest.raises(InitError) as error:
        initialise(config, generator, discriminators, DEFAULT_TABLE)
    for needed in ("myshell-ai/MeloTTS-Korean", "checkpoint.pth", "local checkpoint.pth", "huggingface-cli download",
                   "HF_HOME", "HF_HUB_OFFLINE"):
        assert needed in str(error.value)


def test_hub_repo_from_the_cache_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A MeloTTS voice already in the Hugging Face cache loads offline, its speakers named by its config.json."""
    from huggingface_hub import constants

    from melo.init.sources import read_generator

    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--myshell-ai--MeloTTS-Korean"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    snapshot = repo / "snapshots" / revision
    save_melotts(snapshot, "checkpoint.pth", {"enc_p.emb.weight": torch.ones(219, 4), "emb_g.weight": torch.ones(256, 2)},
                 {"KR": 0})
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    source = read_generator("myshell-ai/MeloTTS-Korean")
    assert source.path == snapshot / "checkpoint.pth" and source.format == "melotts"
    assert source.row_names is not None and source.row_names.speakers == {"KR": 0}


@pytest.mark.parametrize("origin, message", [
    ("no/such/G_1.pth", "no such checkpoint file"),
    ("missing.pth", "no such checkpoint file"),
])
def test_missing_sources_are_named(origin: str, message: str) -> None:
    from melo.init.sources import read_generator

    with pytest.raises(InitError, match=message):
        read_generator(origin)


def test_foreign_files_are_refused_with_what_they_hold(tmp_path: Path) -> None:
    from melo.init.sources import read_discriminators, read_generator

    torch.save({"weights": {"a": torch.ones(1)}}, tmp_path / "other.pth")
    with pytest.raises(InitError, match=r"other.pth: not a checkpoint this project reads \(top-level keys: weights\)"):
        read_generator(str(tmp_path / "other.pth"))
    d_path = save_melotts(tmp_path, "D_1.pth", melotts_state("DUR", 0), None)
    with pytest.raises(InitError, match="a MeloTTS checkpoint but not of a generator"):
        read_generator(str(d_path))
    with pytest.raises(InitError, match="not a discriminator checkpoint"):
        read_discriminators(str(d_path), with_duration=True)


# -- freezing and the config ----------------------------------------------------------------------------

def test_freeze_groups_turns_off_gradients_of_exactly_those_groups() -> None:
    generator = build_generator(tiny_config(), DEFAULT_TABLE)
    frozen = freeze_groups(generator, ["decoder", "flow"])
    for name, param in generator.named_parameters():
        assert param.requires_grad == (not name.startswith(("decoder.", "flow."))), name
    assert frozen["decoder"] == sum(p.numel() for p in generator.decoder.parameters())
    assert frozen["flow"] == sum(p.numel() for p in generator.flow.parameters())


@pytest.mark.parametrize("train, message", [
    ({"freeze": ["decoder"]}, "train.freeze: needs train.init_from"),
    ({"init_from": "x.pth", "freeze": ["vocoder"]}, "'vocoder' is not one of 'text_embeddings'"),
    ({"init_from": "x.pth", "freeze": ["flow", "flow"]}, "lists a group twice"),
    ({"init_from": "x.pth", "freeze": ["text_embeddings", "text_encoder", "duration_predictors", "flow",
                                       "posterior_encoder", "decoder", "speakers"]}, "nothing would be trained"),
    ({"init_from": "a.pth", "pretrained_G": "b.pth"}, "older name of train.init_from"),
    ({"init_min_fraction": 1.5}, "train.init_min_fraction: must be in"),
    ({"init_speaker_map": {"me": "KR"}}, "train.init_speaker_map: needs train.init_from"),
])
def test_config_validates_the_init_fields(tmp_path: Path, train: dict[str, Any], message: str) -> None:
    raw = json.loads((REPO / "configs" / "tiny.json").read_text(encoding="utf-8"))
    raw["train"].update(train)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(path)


def test_finetune_config_has_the_bge_m3_model_section() -> None:
    finetune = json.loads((REPO / "configs" / "finetune.json").read_text(encoding="utf-8"))
    base = json.loads((REPO / "configs" / "config_bge_m3.json").read_text(encoding="utf-8"))
    assert finetune["model"] == base["model"]
    config = load_config(REPO / "configs" / "finetune.json")
    assert config.train.init_from and config.train.learning_rate < 3e-4
    assert math.isclose(config.train.init_min_fraction, 0.5)


# -- python -m melo.finetune ------------------------------------------------------------------------------

def test_finetune_composes_a_run_from_our_checkpoint_and_a_filelist(tmp_path: Path) -> None:
    from melo.finetune import FinetuneError, compose_config

    torch.manual_seed(1)
    base_config = tiny_config()
    path = save_ours(tmp_path / "base", build_generator(base_config, DEFAULT_TABLE), base_config, DEFAULT_TABLE)
    data = tmp_path / "voice"
    data.mkdir()
    lines = [f"wavs/{i:03d}.wav|안녕하세요 {i}.|{'me' if i % 3 else 'you'}|KR" for i in range(41)]
    (data / "list.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    finetune = load_config(REPO / "configs" / "finetune.json")
    run_dir = tmp_path / "checkpoints" / "mine"
    config = compose_config(finetune, str(path), data / "list.txt", None, run_dir, speaker_from="chen",
                            freeze=("decoder",))
    assert config.model == base_config.model  # the checkpoint's shapes, not finetune.json's
    assert config.data.bert_model == base_config.data.bert_model and config.data.n_speakers == 8
    assert config.train.learning_rate == finetune.train.learning_rate and config.train.init_from == str(path)
    assert config.data.spk2id == {**TINY_SPEAKERS, "you": 4, "me": 5}
    assert config.train.init_speaker_map == {"you": "chen", "me": "chen"} and config.train.freeze == ("decoder",)
    train_lines = Path(config.data.training_files).read_text(encoding="utf-8").splitlines()
    val_lines = Path(config.data.validation_files).read_text(encoding="utf-8").splitlines()
    assert (len(train_lines), len(val_lines)) == (39, 2)  # every 20th line held out
    assert val_lines[0] == f"{data / 'wavs' / '019.wav'}|안녕하세요 19.|me|KR"
    assert config.data.cache_dir == str(data / "cache")

    with pytest.raises(FinetuneError, match="--speaker-from KR: not a speaker of .*its speakers: alice, bruno, chen, dara"):
        compose_config(finetune, str(path), data / "list.txt", None, run_dir, speaker_from="KR")
