"""Whole text frontend (melo.text.phonemize: clean -> segment -> normalise -> G2P) per language.

Times are the process's CPU time (``time.process_time``): the machine's cores are shared, and wall-clock
time would count the other processes' load. Prints sentences/s per language and for mixed-language text, and the Korean per-sentence time next to
g2pkk's 12.6 ms (DESIGN.md; g2pkk itself needs mecab and is not installed here). The Korean backend alone
(normalize + g2p, without the orchestrator) is timed in the same run for comparison.

``--baseline-tree DIR`` also times another checkout's frontend (e.g. the commit before a change, exported
with ``git archive REV melo | tar -x -C DIR``) on the same sentences in the same run, alternating the two in separate processes, and
prints the ratio new/old per language (the fastest of ``--rounds`` processes per tree: on a shared machine
the fastest is the one the other processes slowed least). The "issue 22" row holds sentences of the classes issue 22 added
(units, addresses, phone numbers, ranges, fractions, symbols); an older frontend reads them wrongly, but its
time is still the cost of the code path users run.
Writes benchmarks/results/frontend.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.environ.get("MELO_FRONTEND_ROOT") or str(HERE.parent))

G2PKK_MS = 12.6
SENTENCES = {
    "KR": ["안녕하세요. 오늘 날씨가 좋네요.", "저는 내일 친구와 함께 영화를 보러 갈 거예요.", "이 문장은 한국어 음성 합성을 위한 예시입니다.",
           "값이 3,000원이라서 두 개를 샀어요.", "회의는 오후 3시에 시작합니다."],
    "EN": ["Hello, how are you today?", "The quick brown fox jumps over the lazy dog.", "I paid $5.50 for two coffees on March 3rd.",
           "Speech synthesis has improved a lot in recent years.", "Please call me back at 3:30 p.m."],
    "ZH": ["你好，今天天气很好。", "我们一起去看电影吧。", "这个苹果三块五毛钱。", "语音合成技术发展得很快。", "他不是我的老师。"],
    "JP": ["東京タワーに行きました。", "今日はとても良い天気ですね。", "明日の会議は午後三時からです。", "音声合成の研究をしています。", "このりんごは百円です。"],
    "mixed": ["오늘 meeting은 3시에 시작해요.", "我今天很忙, but I will call you.", "東京で hello と言いました。", "이 모델은 BGE-M3로 학습했어요.", "AI 技术很有意思。"],
    "issue 22": ["약 400km예요.", "문의는 kim@naver.com으로 보내 주세요.", "请拨打13812345678。", "3~5명이 와요.", "1/2を加えます。",
                 "Visit www.python.org at 7am.", "气温-5°C。", "3×4=12です。"],
}


def per_sentence_seconds(fn, sentences, min_time=0.5, repeats=5) -> float:
    for s in sentences:
        fn(s)  # warm-up: loads the language backend
    results = []
    for _ in range(repeats):
        n = 0
        t0 = time.process_time()
        while True:
            for s in sentences:
                fn(s)
            n += len(sentences)
            elapsed = time.process_time() - t0
            if elapsed >= min_time / repeats:
                break
        results.append(elapsed / n)
    return statistics.median(results)


def measure() -> dict[str, float]:
    """Seconds per sentence of ``phonemize`` per row, and of the Korean backend alone."""
    import logging

    logging.disable(logging.WARNING)
    from melo.text import korean, phonemize
    from melo.text.normalize import canonical_punctuation

    def read(s: str) -> None:
        phonemize(s)

    out = {lang: per_sentence_seconds(read, sentences) for lang, sentences in SENTENCES.items()}
    out["KR backend"] = per_sentence_seconds(lambda s: korean.g2p(canonical_punctuation(korean.normalize(s))), SENTENCES["KR"])
    return out


def _measure_in(root: Path) -> dict[str, float]:
    env = dict(os.environ, MELO_FRONTEND_ROOT=str(root), HF_HUB_OFFLINE="1")
    r = subprocess.run([sys.executable, __file__, "--measure"], capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        raise SystemExit(f"measuring the frontend in {root} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def compare(baseline: Path, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """The fastest of ``rounds`` alternating runs of this tree's frontend and the baseline's, per row
    (on a shared machine the fastest run is the one least slowed by the others)."""
    new: list[dict[str, float]] = []
    old: list[dict[str, float]] = []
    for _ in range(rounds):
        new.append(_measure_in(HERE.parent))
        old.append(_measure_in(baseline))

    def fastest(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: min(r[k] for r in runs) for k in runs[0]}

    return fastest(new), fastest(old)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline-tree", type=Path, help="another checkout whose frontend is timed in the same run")
    parser.add_argument("--baseline-label", help="what to call the baseline in the table (default: its path)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per tree with --baseline-tree (default 3)")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure()))
        return
    old = None
    if args.baseline_tree:
        new, old = compare(args.baseline_tree.resolve(), args.rounds)
    else:
        new = measure()
    load = os.getloadavg()
    kr, kr_backend = new["KR"], new["KR backend"]
    lines = [
        "## Text frontend (`benchmarks/bench_frontend.py`)",
        "",
        f"Whole pipeline `melo.text.phonemize` (clean, segment, normalise, G2P), CPU time, median of 5; load average {load[0]:.2f}.",
    ]
    if old is not None:
        lines += [
            f"Before: the frontend of {args.baseline_label or f'`{args.baseline_tree}`'}, timed in the same run (the fastest of {args.rounds} "
            "alternating processes per tree).",
            "",
            "| sentences | sentences/s | µs/sentence | before, µs/sentence | now / before |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += [f"| {k} | {1 / v:,.0f} | {v * 1e6:,.1f} | {old[k] * 1e6:,.1f} | {v / old[k]:.2f}x |" for k, v in new.items()]
    else:
        lines += [
            "",
            "| sentences | sentences/s | µs/sentence |",
            "|---|---:|---:|",
        ]
        lines += [f"| {k} | {1 / v:,.0f} | {v * 1e6:,.1f} |" for k, v in new.items()]
    lines += [
        "",
        "| Korean | µs/sentence | vs g2pkk 12.6 ms |",
        "|---|---:|---:|",
        f"| `phonemize` (whole frontend) | {kr * 1e6:.1f} | {G2PKK_MS / 1e3 / kr:,.0f}× faster |",
        f"| jamo backend only (`korean.normalize` + `g2p`) | {kr_backend * 1e6:.1f} | {G2PKK_MS / 1e3 / kr_backend:,.0f}× faster |",
        "",
        "g2pkk's 12.6 ms is DESIGN.md's figure measured on these machines (g2pkk needs mecab; not installed here).",
    ]
    text = "\n".join(lines)
    print(text)
    out = HERE / "results" / "frontend.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
