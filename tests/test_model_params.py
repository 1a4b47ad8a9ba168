"""Parameter counts of the full config against MeloTTS's, with the documented differences."""

from __future__ import annotations

import pytest

from benchmark_scripts import load_benchmark


def test_full_model_parameter_counts_match_meloTTS_up_to_the_documented_differences(capsys):
    script = load_benchmark("model_params")
    c = script.counts()
    print(script.table(c))  # visible with -s; the same table is in benchmarks/results/model_params.md
    melo = script.MELO
    assert (c["generator"] + script.JA_BERT_PROJ) / 1e6 == pytest.approx(melo["generator"], abs=0.005)
    assert (c["inference"] + script.JA_BERT_PROJ) / 1e6 == pytest.approx(melo["inference"], abs=0.06)
    assert c["mpd"] / 1e6 == pytest.approx(melo["mpd"], abs=0.005)
    assert (c["duration"] + script.DEAD_DUR_COND) / 1e6 == pytest.approx(melo["duration"], abs=0.005)
    assert c["generator"] - c["inference"] == c["generator.posterior_encoder"]
