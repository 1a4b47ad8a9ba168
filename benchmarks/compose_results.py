"""Rebuild benchmarks/RESULTS.md from the per-benchmark tables in benchmarks/results/*.md."""

from __future__ import annotations

import platform
from datetime import datetime, timezone
from pathlib import Path

ORDER = [
    "frontend", "frontend_kr_jp", "frontend_en_zh", "features", "preprocess",
    "model_params", "model_train_step", "model_infer", "decoder_lengths", "model_mas", "learning_proof", "learning_proof_analysis", "learning_curve", "e2e_infer",
]


def main() -> None:
    here = Path(__file__).resolve().parent
    tables = {p.stem: p.read_text(encoding="utf-8").strip() for p in sorted((here / "results").glob("*.md"))}
    names = [n for n in ORDER if n in tables] + sorted(n for n in tables if n not in ORDER)
    head = [
        "# Benchmark results",
        "",
        "Each section is written by one script in `benchmarks/` (rerun them all with `benchmarks/run_all`).",
        "Every ratio compares numbers measured in the same run on the same machine; absolute times depend on",
        "the machine and its load (each section states its load average).",
        f"Composed {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python {platform.python_version()}.",
        "",
    ]
    body = [tables[n] + "\n" for n in names]
    (here / "RESULTS.md").write_text("\n".join(head + body), encoding="utf-8")


if __name__ == "__main__":
    main()
