"""Evaluation results: one row per (system, utterance), aggregates per language and overall, and the
JSON / CSV / text-table forms.

A *system* is whatever produced the audio being scored: ``reference`` (the recordings themselves: each
metric's ceiling), ``model`` (a checkpoint), ``control`` (an untrained model of the same config: each
metric's floor), or any name a caller picks. Scores that do not apply to a row (WER of a Korean line, a
metric that was not asked for) are NaN in memory, ``null`` in JSON and empty in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ["AGGREGATES", "ALL_LANGUAGES", "AggregateInfo", "EvalReport", "UtteranceResult"]

ALL_LANGUAGES = "all"


@dataclass(frozen=True)
class AggregateInfo:
    """How one reported number is made from the rows, and how to read it."""

    label: str  # column header in the text table
    description: str
    better: Literal["lower", "higher", "closer to 1"]
    source: str  # the row score it aggregates
    how: Literal["mean", "pooled_wer", "cross_lingual_mean"] = "mean"
    group: str = ""  # the metric group (``metrics=`` name) that produces it


AGGREGATES: dict[str, AggregateInfo] = {
    "mcd_db": AggregateInfo("MCD", "mel-cepstral distortion along the DTW path, dB (0 = identical)", "lower", "mcd_db", group="acoustic"),
    "f0_rmse_cents": AggregateInfo("F0c", "RMS log-F0 error over frames voiced in both, cents (100 = a semitone)", "lower", "f0_rmse_cents", group="acoustic"),
    "voicing_error": AggregateInfo("VDE", "fraction of aligned frames whose voicing decisions disagree", "lower", "voicing_error", group="acoustic"),
    "duration_ratio": AggregateInfo("dur", "speech duration synthesis / reference (silence trimmed)", "closer to 1", "duration_ratio", group="acoustic"),
    "id_accuracy": AggregateInfo("ID", "closed-set identification by DTW: nearest reference reads the same sentence", "higher", "id_correct", group="identification"),
    "id_chance": AggregateInfo("ID-ch", "chance level of the DTW identification", "lower", "id_chance", group="identification"),
    "wer": AggregateInfo("WER", "English word error rate of pocketsphinx (errors / reference words, pooled)", "lower", "wer", "pooled_wer", group="asr"),
    "asr_id_accuracy": AggregateInfo("ASR-ID", "closed-set identification by the recogniser's grammar of the candidate sentences", "higher", "asr_id_correct", group="asr"),
    "asr_id_chance": AggregateInfo("ASR-ch", "chance level of the recogniser's identification", "lower", "asr_id_chance", group="asr"),
    "speaker_similarity": AggregateInfo("SPK", "cosine to the speaker's own recordings (resemblyzer)", "higher", "speaker_similarity", group="speaker"),
    "speaker_similarity_cross_lingual": AggregateInfo("SPK-x", "speaker similarity over cross-lingual lines only", "higher", "speaker_similarity", "cross_lingual_mean", group="speaker"),
    "dnsmos_sig": AggregateInfo("SIG", "DNSMOS P.835 speech quality, 1-5", "higher", "dnsmos_sig", group="dnsmos"),
    "dnsmos_bak": AggregateInfo("BAK", "DNSMOS P.835 background (5 = no noise), 1-5", "higher", "dnsmos_bak", group="dnsmos"),
    "dnsmos_ovrl": AggregateInfo("OVRL", "DNSMOS P.835 overall quality, 1-5", "higher", "dnsmos_ovrl", group="dnsmos"),
}
"""Every aggregate, in table order."""

_NAN = float("nan")


@dataclass
class UtteranceResult:
    """The scores of one system on one utterance. ``scores`` keys: the ``source`` names of
    :data:`AGGREGATES` plus ``id_rank``, ``wer_errors``, ``wer_words``, ``cross_lingual`` (1.0 when the
    speaker's own recordings hold no line in this language), ``speech_seconds``."""

    system: str
    id: str
    language: str
    speaker: str
    text: str
    scores: dict[str, float] = field(default_factory=dict)
    transcript: str | None = None  # the recogniser's words (English lines, with the asr metric)

    def score(self, name: str) -> float:
        return self.scores.get(name, _NAN)


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if v is not None and not math.isnan(v)]


def _aggregate(info: AggregateInfo, rows: list[UtteranceResult]) -> float:
    if info.how == "pooled_wer":
        pairs = [(r.score("wer_errors"), r.score("wer_words")) for r in rows]
        pairs = [(e, w) for e, w in pairs if not (math.isnan(e) or math.isnan(w))]
        words = sum(w for _, w in pairs)
        return sum(e for e, _ in pairs) / words if words > 0 else _NAN
    if info.how == "cross_lingual_mean":
        rows = [r for r in rows if r.score("cross_lingual") == 1.0]
    values = _finite(r.score(info.source) for r in rows)
    return sum(values) / len(values) if values else _NAN


@dataclass
class EvalReport:
    """Rows of scores and their aggregates. Build with :func:`melo.eval.evaluate_utterances` or
    :meth:`melo.eval.Evaluator.evaluate`; combine systems with :meth:`merge`."""

    rows: list[UtteranceResult] = field(default_factory=list)

    @classmethod
    def merge(cls, *reports: "EvalReport") -> "EvalReport":
        return cls(rows=[row for report in reports for row in report.rows])

    @property
    def systems(self) -> list[str]:
        return list(dict.fromkeys(r.system for r in self.rows))

    @property
    def languages(self) -> list[str]:
        return list(dict.fromkeys(r.language for r in self.rows))

    def summary(self, system: str | None = None, language: str = ALL_LANGUAGES) -> dict[str, float]:
        """Aggregates of one system (the only one when None) over one language or all: ``{name: value}``
        for every aggregate with a value (NaN ones left out), plus ``n`` (utterances)."""
        if system is None:
            if len(self.systems) != 1:
                raise ValueError(f"the report holds systems {', '.join(self.systems) or '(none)'}; name one")
            system = self.systems[0]
        rows = [r for r in self.rows if r.system == system and language in (ALL_LANGUAGES, r.language)]
        out: dict[str, float] = {"n": float(len(rows))}
        for name, info in AGGREGATES.items():
            value = _aggregate(info, rows)
            if not math.isnan(value):
                out[name] = value
        return out

    def aggregates(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{system: {language or 'all': summary}}``."""
        return {
            system: {language: self.summary(system, language) for language in [*self._languages_of(system), ALL_LANGUAGES]}
            for system in self.systems
        }

    def _languages_of(self, system: str) -> list[str]:
        return list(dict.fromkeys(r.language for r in self.rows if r.system == system))

    # -- files ------------------------------------------------------------------------------
    def to_json(self, path: str | Path | None = None) -> str:
        """The aggregates, what each means, and every row; NaN as null. Written to ``path`` when given."""
        payload: dict[str, Any] = {
            "metrics": {name: {"description": i.description, "better": i.better} for name, i in AGGREGATES.items()},
            "aggregates": self.aggregates(),
            "utterances": [
                {
                    "system": r.system, "id": r.id, "language": r.language, "speaker": r.speaker, "text": r.text,
                    "transcript": r.transcript, "scores": r.scores,
                }
                for r in self.rows
            ],
        }
        text = json.dumps(_nan_to_none(payload), ensure_ascii=False, indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """One line per (system, utterance); empty cells where a score does not apply."""
        names = list(dict.fromkeys(name for r in self.rows for name in r.scores))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["system", "id", "language", "speaker", "text", "transcript", *names])
        for r in self.rows:
            cells = ["" if math.isnan(r.score(n)) else f"{r.score(n):.6g}" for n in names]
            writer.writerow([r.system, r.id, r.language, r.speaker, r.text, r.transcript or "", *cells])
        text = buffer.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def table(self) -> str:
        """A text table: one line per (language, system), one column per aggregate that has a value."""
        aggregates = self.aggregates()
        columns = [n for n in AGGREGATES if any(n in by_lang[lang] for by_lang in aggregates.values() for lang in by_lang)]
        header = ["lang", "system", "n", *[AGGREGATES[n].label for n in columns]]
        lines = [header]
        for language in [*self.languages, ALL_LANGUAGES]:
            for system, by_language in aggregates.items():
                if language not in by_language:
                    continue
                values = by_language[language]
                lines.append([language, system, str(int(values["n"])), *[_format(values.get(n)) for n in columns]])
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        rendered = ["  ".join(cell.rjust(w) if i >= 2 else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths))) for line in lines]
        rendered.insert(1, "-" * len(rendered[0]))
        return "\n".join(rendered)


def _format(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value
