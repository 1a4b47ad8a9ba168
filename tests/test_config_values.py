"""Config values that would train nothing, or something else than asked, are refused naming the key:
non-finite numbers, out-of-range rates and weights, duplicate keys; a folder given as a config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from melo.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("key, value, reason", [
    ("learning_rate", "Infinity", "expected a finite number, got inf"),
    ("learning_rate", "NaN", "expected a finite number, got nan"),
    ("lr_decay", "-Infinity", "expected a finite number"),
    ("learning_rate", "5", "must be in (0, 1]"),
    ("eps", "0", "must be in (0, 1)"),
    ("c_mel", "-45", "must be >= 0"),
])
def test_non_finite_and_out_of_range_train_values_are_refused(tmp_path: Path, key: str, value: str,
                                                              reason: str) -> None:
    path = _write(tmp_path, '{"train": {"%s": %s}}' % (key, value))
    with pytest.raises(ConfigError, match=f"train.{key}") as e:
        load_config(path)
    assert reason in str(e.value) and str(path) in str(e.value)


def test_trainer_refuses_an_infinite_learning_rate_before_any_work(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from melo import train as trainer

    raw = json.loads((REPO / "configs" / "tiny.json").read_text(encoding="utf-8"))
    text = json.dumps(raw).replace('"learning_rate": 0.0003', '"learning_rate": Infinity')
    path = _write(tmp_path, text)
    assert trainer.main(["--config", str(path), "--model", "inf", "--device", "cpu",
                         "--checkpoints-dir", str(tmp_path / "ck"), "--logs-dir", str(tmp_path / "logs")]) == 2
    assert "train.learning_rate: expected a finite number, got inf" in caplog.text
    assert not (tmp_path / "ck").exists()


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"train": {"learning_rate": 0.001, "learning_rate": 0.0002}}')
    with pytest.raises(ConfigError, match="key 'learning_rate' appears twice"):
        load_config(path)


def test_a_directory_given_as_config_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config: it is a directory, not a file"):
        load_config(tmp_path)
