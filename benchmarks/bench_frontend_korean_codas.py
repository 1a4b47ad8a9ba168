"""Measure a Korean text sample for the default of ``data.korean_coda_classes`` (melo.text.kr_codas).

The option follows each neutralised coda with one of seven class symbols. It adds no information (the class
is a function of the written coda and the next syllable, both seen by the model); what it can add is
sharing: a rare coda (ㅊ, ㅌ, ㄿ ...) trains the class embedding it shares with frequent ones. So the
sample is measured for

* how many neutralised codas are written with a letter other than their class's own (ㅅ ㅆ ㅈ for ㄷ ...),
* how many are *rare* letters (each under 1% of the neutralised codas): the ones sharing would help,
* what the option costs: the phones it adds, relative to the written jamo (longer sequences for the text
  encoder, the alignment search and the duration predictor, in training and at inference).

Decision rule, fixed before the measurement: on by default only if the rare letters make up at least 5% of
the neutralised codas; otherwise off (the cost is paid on every Korean sentence, the benefit only on rare
letters, and existing checkpoints and caches were made without it).

The sample: the Korean user guide (/work/shared/seed, when present) and the Korean rows of the evaluation
sets in tests/data, read through the frontend (numbers become words). Prints a table and writes
benchmarks/results/frontend_korean_codas.md.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from melo.text import phonemize  # noqa: E402
from melo.text.kr_codas import CODA_CLASS, coda_statistics  # noqa: E402

_HANGUL_RUN = re.compile(r"[가-힣]+")
GUIDE = Path("/work/shared/seed/000_9b262eca7b3b6018.txt")
RARE_BELOW = 0.01
DEFAULT_ON_IF_RARE_SHARE = 0.05


def sample_lines() -> list[str]:
    lines: list[str] = []
    if GUIDE.exists():
        lines += [line for line in GUIDE.read_text(encoding="utf-8").splitlines() if _HANGUL_RUN.search(line)]
    for path in sorted((ROOT / "tests" / "data").glob("frontend_eval*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if len(fields) == 4 and fields[0] in ("KR", "MIX") and _HANGUL_RUN.search(fields[2]):
                lines.append(fields[2])
    return lines


def main() -> None:
    logging.disable(logging.WARNING)
    eojeols: list[str] = []
    for line in sample_lines():
        ph = phonemize(line, language="KR")
        for seg in ph.segments:
            if seg.language == "KR":
                eojeols += _HANGUL_RUN.findall(seg.text)
    stats = coda_statistics(eojeols)
    rare = stats.rare_share(RARE_BELOW)
    default_on = rare >= DEFAULT_ON_IF_RARE_SHARE
    lines = [
        "## Korean coda classes (`benchmarks/bench_frontend_korean_codas.py`)",
        "",
        f"Sample: {len(eojeols):,} eojeol, {stats.syllables:,} syllables, {stats.phones:,} written jamo; "
        f"{stats.codas:,} codas, {stats.neutralised:,} of them neutralised (before a consonant or at an eojeol's end).",
        "",
        "| class | written codas seen (tokens) |",
        "|---|---|",
    ]
    for cls, counter in stats.per_class.items():
        seen = ", ".join(f"{coda} {n}" for coda, n in counter.most_common())
        lines.append(f"| {cls} | {seen or '-'} |")
    lines += [
        "",
        "| measure | value |",
        "|---|---:|",
        f"| distinct written codas among the neutralised | {len(stats.written)} (of {len(CODA_CLASS)}) -> 7 classes |",
        f"| neutralised codas written with another letter than their class's | {stats.differing_share():.1%} |",
        f"| neutralised codas with a rare letter (each < {RARE_BELOW:.0%}) | {rare:.1%} |",
        f"| phones added by the option (relative to the written jamo) | +{stats.extra_phones:.1%} |",
        "",
        f"Rule: on by default only if rare letters make up >= {DEFAULT_ON_IF_RARE_SHARE:.0%} of the neutralised "
        f"codas. Measured {rare:.1%}: default **{'on' if default_on else 'off'}**.",
    ]
    text = "\n".join(lines)
    print(text)
    out = ROOT / "benchmarks" / "results" / "frontend_korean_codas.md"
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
