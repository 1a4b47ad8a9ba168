import json

import pytest

from melo.config import Config, ConfigError, load_config


def test_full_config_has_the_user_guide_values():
    cfg = load_config("configs/config_bge_m3.json")
    assert cfg.train.batch_size == 6
    assert cfg.train.learning_rate == 0.0003
    assert cfg.train.lr_decay == 0.999875
    assert cfg.train.fp16_run is True
    assert cfg.train.segment_size == 16384
    assert cfg.train.c_mel == 45
    assert cfg.data.n_speakers == 256
    assert cfg.data.sampling_rate == 44100
    assert cfg.data.training_files == "data/train_list.txt"
    assert cfg.data.validation_files == "data/val_list.txt"
    assert cfg.data.bert_model == "BAAI/bge-m3"
    assert cfg.model.bert_channels == 1024


def test_tiny_config_loads():
    cfg = load_config("configs/tiny.json")
    assert cfg.model.hidden_channels < 192


def test_unknown_key_is_an_error_with_a_suggestion(tmp_path):
    raw = json.loads(open("configs/config_bge_m3.json").read())
    raw["train"]["batch_sise"] = 4
    p = tmp_path / "c.json"
    p.write_text(json.dumps(raw))
    with pytest.raises(ConfigError, match=r"batch_sise.*did you mean 'train\.batch_size'"):
        load_config(p)


def test_wrong_type_names_the_key(tmp_path):
    p = tmp_path / "c.json"
    p.write_text(json.dumps({"train": {"fp16_run": "yes"}}))
    with pytest.raises(ConfigError, match=r"c\.json: train\.fp16_run: expected true or false"):
        load_config(p)


def test_line_comments_from_the_user_guide_are_accepted(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"train": {\n "batch_size": 6,  // GPU 메모리에 따라 조정\n "learning_rate": 0.0003 // 기본값\n},\n "data": {"bert_model": "http://x//y"}}')
    cfg = load_config(p)
    assert cfg.train.batch_size == 6 and cfg.data.bert_model == "http://x//y"


def test_invalid_json_reports_line(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"train": {\n "batch_size": 6,,\n}}')
    with pytest.raises(ConfigError, match=r"c\.json:2:"):
        load_config(p)


def test_cross_section_checks():
    with pytest.raises(ConfigError, match="hop_length"):
        Config.from_dict({"model": {"upsample_rates": [8, 8, 2, 2], "upsample_kernel_sizes": [16, 16, 4, 4]}})
    with pytest.raises(ConfigError, match="segment_size"):
        Config.from_dict({"train": {"segment_size": 1000}})


def test_too_many_speakers_is_an_error():
    with pytest.raises(ConfigError, match="3 speakers but n_speakers is 2"):
        Config.from_dict({"data": {"n_speakers": 2, "spk2id": {"a": 0, "b": 1, "c": 2}}})


def test_round_trip_and_replace(tmp_path):
    cfg = load_config("configs/config_bge_m3.json")
    again = Config.from_dict(json.loads(cfg.to_json()))
    assert again == cfg
    with_speakers = cfg.replace(data={"spk2id": {"alice": 0, "bob": 1}})
    assert with_speakers.data.spk2id == {"alice": 0, "bob": 1}
    assert cfg.data.spk2id == {}
    with_speakers.save(tmp_path / "resolved.json")
    assert load_config(tmp_path / "resolved.json") == with_speakers


def test_frame_budget_must_admit_the_longest_allowed_clip() -> None:
    with pytest.raises(ConfigError, match=r"train.max_frames_per_batch: is 2000 frames, less than the longest clip "
                                          r"data.max_audio_seconds allows \(30 s = 2583 frames\); lower "
                                          r"data.max_audio_seconds to at most 23.22 s"):
        Config.from_dict({"train": {"max_frames_per_batch": 2000}})
    ok = Config.from_dict({"train": {"max_frames_per_batch": 2000}, "data": {"max_audio_seconds": 23.0}})
    assert ok.train.max_frames_per_batch == 2000
