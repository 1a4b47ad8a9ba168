"""What preprocessing found and did: the :class:`Report` the CLI prints and ``report.txt``/``report.json`` hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from melo.data.filelist import ERROR, FIXED, Problem, Row
from melo.files import json_bytes, write_if_changed

__all__ = ["Report", "count_line_problems", "write_report"]


@dataclass
class Report:
    """Everything preprocessing found and did; ``summary_table()`` is what the CLI prints at the end."""

    problems: list[Problem] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)  # split -> parsed rows
    good: Counter = field(default_factory=Counter)  # split -> rows kept
    audio_seconds: Counter = field(default_factory=Counter)  # split -> seconds kept
    computed: Counter = field(default_factory=Counter)  # artefact -> entries written this run
    reused: Counter = field(default_factory=Counter)  # artefact -> entries found in the cache

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def damaged_cache_entry(self, row: Row, path: Path) -> None:
        """Note a cache entry found cut short or unreadable (the caller recomputes it)."""
        self.problems.append(Problem(row.filelist, row.line, "cache-damaged",
                                     f"damaged cache entry {path} (cut short or unreadable): recomputed", FIXED))

    def to_text(self) -> str:
        lines = [str(p) for p in self.problems]
        return "\n".join([*lines, "", self.summary_table()]) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "problems": [
                {"filelist": str(p.filelist), "line": p.line, "kind": p.kind, "severity": p.severity, "message": p.message}
                for p in self.problems
            ],
            "rows": dict(self.rows),
            "good": dict(self.good),
            "audio_seconds": {k: round(v, 3) for k, v in self.audio_seconds.items()},
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "Report":
        """The report :meth:`to_json` wrote (what was computed and reused is not saved)."""
        return cls(
            problems=[Problem(Path(p["filelist"]), p["line"], p["kind"], p["message"], p["severity"])
                      for p in raw["problems"]],
            rows=Counter(raw["rows"]),
            good=Counter(raw["good"]),
            audio_seconds=Counter(raw["audio_seconds"]),
        )

    def summary_table(self) -> str:
        kinds = Counter((p.kind, p.severity) for p in self.problems)
        out = ["split   rows  good     audio", "------  ----  ----  --------"]
        for split in ("train", "val"):
            secs = round(self.audio_seconds[split])
            audio = f"{secs // 3600}:{secs // 60 % 60:02d}:{secs % 60:02d}"
            out.append(f"{split:<6}  {self.rows[split]:>4}  {self.good[split]:>4}  {audio:>8}")
        if kinds:
            out += ["", "problem               severity  rows", "--------------------  --------  ----"]
            for (kind, severity), n in sorted(kinds.items()):
                out.append(f"{kind:<20}  {severity:<8}  {n:>4}")
        out += ["", "cache      computed  reused", "---------  --------  ------"]
        for artefact in ("audio", "phonemes", "features"):
            out.append(f"{artefact:<9}  {self.computed[artefact]:>8}  {self.reused[artefact]:>6}")
        return "\n".join(out)


def count_line_problems(problems: Iterable[Problem]) -> int:
    """Lines that failed parsing (each counts as a row of the list)."""
    return len({p.line for p in problems if p.line > 0})


def write_report(cache_dir: Path, report: Report) -> list[str]:
    """Write ``report.txt`` and ``report.json`` where their content changed; the paths written."""
    wrote = []
    text_path, json_path = cache_dir / "report.txt", cache_dir / "report.json"
    body = "\n".join(str(p) for p in report.problems) + "\n"
    if write_if_changed(text_path, body.encode("utf-8")):
        wrote.append(str(text_path))
    if write_if_changed(json_path, json_bytes(report.to_json())):
        wrote.append(str(json_path))
    return wrote
