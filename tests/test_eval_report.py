"""melo.eval's report (aggregates, JSON, CSV, table) and its PNG writer."""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from eval_audio import vowel_sequence
from melo.eval import AGGREGATES, EvalReport, UtteranceResult, mel_comparison_image, write_png

NAN = float("nan")


def _rows() -> EvalReport:
    model = [
        UtteranceResult("model", "l:1", "EN", "alice", "one two three", {"mcd_db": 6.0, "wer": 1 / 3, "wer_errors": 1.0, "wer_words": 3.0,
                        "id_correct": 1.0, "id_chance": 0.5, "speaker_similarity": 0.8, "cross_lingual": 0.0}, "one two tree"),
        UtteranceResult("model", "l:2", "EN", "bruno", "four", {"mcd_db": 8.0, "wer": 1.0, "wer_errors": 1.0, "wer_words": 1.0,
                        "id_correct": 0.0, "id_chance": 0.5, "speaker_similarity": 0.6, "cross_lingual": 1.0}, ""),
        UtteranceResult("model", "l:3", "KR", "alice", "하나", {"mcd_db": 10.0, "f0_rmse_cents": NAN, "id_correct": 1.0,
                        "id_chance": 1.0, "speaker_similarity": 0.5, "cross_lingual": 1.0}),
    ]
    reference = [UtteranceResult("reference", r.id, r.language, r.speaker, r.text, {"mcd_db": 0.0, "id_correct": 1.0}) for r in model]
    return EvalReport.merge(EvalReport(reference), EvalReport(model))


def test_aggregates_pool_wer_over_words_and_average_the_rest() -> None:
    report = _rows()
    everything = report.summary("model")
    assert everything["n"] == 3
    assert everything["mcd_db"] == pytest.approx(8.0)
    assert everything["wer"] == pytest.approx(2 / 4)  # pooled: 2 errors in 4 words, not the mean of 1/3 and 1
    assert everything["id_accuracy"] == pytest.approx(2 / 3) and everything["id_chance"] == pytest.approx(2 / 3)
    assert everything["speaker_similarity"] == pytest.approx((0.8 + 0.6 + 0.5) / 3)
    assert everything["speaker_similarity_cross_lingual"] == pytest.approx((0.6 + 0.5) / 2)
    assert "f0_rmse_cents" not in everything  # NaN everywhere: left out
    korean = report.summary("model", "KR")
    assert korean["n"] == 1 and "wer" not in korean and korean["mcd_db"] == 10.0
    assert report.aggregates()["reference"]["all"]["mcd_db"] == 0.0
    with pytest.raises(ValueError, match="holds systems reference, model; name one"):
        report.summary()


def test_json_holds_aggregates_rows_and_nulls_for_nan(tmp_path: Path) -> None:
    report = _rows()
    report.to_json(tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert set(data["aggregates"]) == {"reference", "model"}
    assert set(data["aggregates"]["model"]) == {"EN", "KR", "all"}
    assert data["utterances"][5]["scores"]["f0_rmse_cents"] is None
    assert data["utterances"][3]["transcript"] == "one two tree"
    assert set(data["metrics"]) == set(AGGREGATES)


def test_csv_has_one_line_per_system_and_utterance_with_empty_cells_for_missing_scores() -> None:
    lines = list(csv.reader(io.StringIO(_rows().to_csv())))
    header, body = lines[0], lines[1:]
    assert header[:6] == ["system", "id", "language", "speaker", "text", "transcript"]
    assert len(body) == 6 and [row[0] for row in body] == ["reference"] * 3 + ["model"] * 3
    wer = header.index("wer")
    assert body[0][wer] == "" and float(body[3][wer]) == pytest.approx(1 / 3)


def test_table_has_a_line_per_language_and_system_and_dashes_for_missing_values() -> None:
    table = _rows().table()
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["lang", "system", "n", "MCD"]
    assert [line.split()[:2] for line in lines[2:]] == [
        ["EN", "reference"], ["EN", "model"], ["KR", "reference"], ["KR", "model"], ["all", "reference"], ["all", "model"]
    ]
    assert "WER" in lines[0] and lines[4].split()[lines[0].split().index("WER")] == "-"  # no WER for Korean


def test_png_is_valid_and_holds_the_pixels(tmp_path: Path) -> None:
    image = np.random.default_rng(0).integers(0, 256, (3, 5, 7), dtype=np.uint8)
    data = write_png(tmp_path / "x.png", image).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (7, 5)
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    raw = zlib.decompress(data[start : start + length])
    rows = np.frombuffer(raw, np.uint8).reshape(5, 1 + 7 * 3)
    assert (rows[:, 0] == 0).all()
    np.testing.assert_array_equal(rows[:, 1:].reshape(5, 7, 3).transpose(2, 0, 1), image)
    with pytest.raises(ValueError, match=r"expected a \(3, H, W\) uint8 image"):
        write_png(tmp_path / "y.png", image.astype(np.float32))


def test_mel_comparison_puts_panels_side_by_side_on_one_scale() -> None:
    rate = 16000
    loud = vowel_sequence(rate, seconds=0.1)  # 0.6 s: 61 frames
    quiet = 0.01 * vowel_sequence(rate, seconds=0.2)  # 1.2 s: 121 frames, 40 dB down
    image = mel_comparison_image([(loud, rate), (quiet, rate)])
    assert image.shape == (3, 160, 61 + 4 + 121) and image.dtype == np.uint8
    assert (image[:, :, 61:65] == 255).all()  # the white separator
    brightness = image.astype(float).sum(axis=0)
    assert brightness[:, :61].mean() > brightness[:, 65:].mean() + 50  # a shared scale: the quiet one is darker
