"""The held-out evaluation sets (tests/data/frontend_eval*.tsv) and the tools that read them."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from melo.text.__main__ import main
from melo.text.evaluate import EvalFileError, load_eval_rows, score_rows

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["frontend_eval.tsv", "frontend_eval_2.tsv"])
def test_every_language_reads_at_least_95_percent_of_the_evaluation_set(name):
    results, groups = score_rows(load_eval_rows(DATA / name))
    assert {"KR", "EN", "ZH", "JP", "MIX"} <= set(groups)
    assert all(total >= 40 for group, (_, total) in groups.items() if group != "MIX")
    wrong = [f"line {r.row.line}: {r.row.text!r} got {r.got!r} want {r.want!r}" for r in results if not r.passed]
    shares = {group: passed / total for group, (passed, total) in groups.items()}
    assert all(share >= 0.95 for share in shares.values()), (shares, wrong)


def test_a_wrong_reading_fails_its_row(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("KR\t-\t3개\t삼 개\nEN\t-\tI read it yesterday.\tphones:read=R IY D\n", encoding="utf-8")
    results, groups = score_rows(load_eval_rows(bad))
    assert [r.passed for r in results] == [False, False]
    assert groups == {"KR": (0, 1), "EN": (0, 1)}


@pytest.mark.parametrize(
    "line, message",
    [("KR\t-\tonly three", "expected 4 tab-separated fields"), ("KR\tXX\ta\tb", "field TAG: unknown language code 'XX'")],
)
def test_malformed_rows_are_named(tmp_path, line, message):
    bad = tmp_path / "bad.tsv"
    bad.write_text("# header\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EvalFileError, match=rf"bad.tsv:2: {message}"):
        load_eval_rows(bad)


def test_check_prints_one_block_per_line(tmp_path, capsys):
    sentences = tmp_path / "s.txt"
    sentences.write_text("약 400km예요\n# a comment\n\nI read it yesterday.\n😀\n", encoding="utf-8")
    assert main(["--check", str(sentences)]) == 0
    out = unicodedata.normalize("NFC", capsys.readouterr().out)  # Korean phones are conjoining jamo
    assert out.split("\n\n")[:3] == [
        "약 400km예요\n  KR: 약 사백 킬로미터예요\n  phones: 약 · 사백 · 킬로미터예요",
        "I read it yesterday.\n  EN: I read it yesterday.\n  phones: AY1 · R EH1 D · IH1 T · Y EH1 S T ER0 D EY2 · .",
        "😀\n  (nothing to read)",
    ]


def test_check_and_eval_name_a_missing_file(capsys):
    assert main(["--check", "/no/such/file.txt"]) == 2
    assert "cannot read /no/such/file.txt" in capsys.readouterr().err


def test_eval_prints_a_table(tmp_path, capsys):
    rows = tmp_path / "e.tsv"
    rows.write_text("KR\t-\t3개\t세 개\nKR\t-\t3개\t삼 개\n", encoding="utf-8")
    assert main(["--eval", str(rows), "--failures"]) == 0
    out = capsys.readouterr().out
    assert "| KR | 1/2 = 50% |" in out and "line 2 [KR] 3개" in out
