"""The training-step benchmark's command line: where MeloTTS's code comes from, and the message when it is missing."""

from __future__ import annotations

import pytest

from benchmark_scripts import load_benchmark


def test_the_melotts_folder_defaults_to_the_environment_variable_and_the_option_overrides_it(monkeypatch, tmp_path):
    script = load_benchmark("bench_train_step")
    monkeypatch.setenv("MELOTTS_DIR", str(tmp_path / "from_env"))
    assert script.parse_args([]).melotts == tmp_path / "from_env"
    assert script.parse_args(["--melotts", str(tmp_path / "given")]).melotts == tmp_path / "given"


def test_a_missing_melotts_checkout_stops_the_benchmark_with_the_clone_command(tmp_path):
    script = load_benchmark("bench_train_step")
    with pytest.raises(SystemExit) as exc:
        script.main(["--melotts", str(tmp_path / "nowhere")])
    message = str(exc.value)
    assert str(tmp_path / "nowhere") in message
    assert "git clone https://github.com/myshell-ai/MeloTTS" in message


def test_a_package_melotts_imports_that_is_missing_is_named_with_its_install_command(monkeypatch, tmp_path):
    script = load_benchmark("bench_train_step")
    (tmp_path / "melo").mkdir()
    (tmp_path / "melo" / "models.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(script, "MELOTTS_PACKAGES", ("json", "no_such_package_for_melotts"))
    with pytest.raises(script.BaselineUnavailable, match=r"imports no_such_package_for_melotts, which is not installed: "
                                                          r"`pip install no_such_package_for_melotts`"):
        script.check_baseline(tmp_path)
