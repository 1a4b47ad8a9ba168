"""Objective evaluation (melo.eval): DTW identification speed, and every metric on espeak-ng speech.

    python benchmarks/bench_eval.py [--utterances 100] [--sentences 4]

1. Closed-set identification speed, the code path ``python -m melo.eval`` and the trainer run
   (``melo.eval.identification.ClosedSet``): N queries against N candidates of 2-5 s (200-500 frames of
   24 mel-cepstral coefficients), one pool of N and four pools of N/4 (``--candidates language``), against
   the same anti-diagonal sweep run one candidate at a time (no batching over candidates).
2. Every metric on espeak-ng speech in KR/EN/ZH/JP (``--sentences`` per language, voice ``alice`` of the
   demo corpus): the references scored against themselves (the ceiling), the same sentences read by
   another voice (``bruno``), and white noise of the same durations (the floor), with the CPU seconds per
   utterance of each metric group. The model-based metrics need the evaluation extra.

Writes ``benchmarks/results/eval.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

RESULT = REPO / "benchmarks" / "results" / "eval.md"


def _identification_speed(n: int) -> list[str]:
    from melo.eval.dtw import CandidateBank
    from melo.eval.identification import ClosedSet

    rng = np.random.default_rng(0)
    lengths = rng.integers(200, 501, n)
    features = [rng.standard_normal((int(m), 24)) for m in lengths]
    texts = [f"sentence {i}" for i in range(n)]
    rows = []
    for label, pools in ((f"1 pool of {n}", ["all"] * n), (f"4 pools of {n // 4}", [f"L{i % 4}" for i in range(n)])):
        closed = ClosedSet(texts, features, pools)
        started = time.perf_counter()
        correct = sum(closed.identify(f, t, p).correct for f, t, p in zip(features, texts, pools))
        seconds = time.perf_counter() - started
        pairs = sum(pools.count(p) for p in pools)
        rows.append((label, seconds, pairs, correct))
    # baseline: the same sweep, one candidate at a time, for the first queries (extrapolated per pair)
    singles = [CandidateBank([f]) for f in features]
    probe = max(2, n // 10)
    started = time.perf_counter()
    for query in features[:probe]:
        for bank in singles:
            bank.normalised_costs(query)
    per_pair_single = (time.perf_counter() - started) / (probe * n)
    lines = [
        f"Closed-set identification by DTW, {n} queries of 200-500 frames (2-5 s at 10 ms) against references of the same",
        "lengths (random 24-d features: the cost does not depend on the content); wall time on this machine.",
        "",
        "| candidates | queries x candidates | total s | ms per query | µs per pair | vs one candidate at a time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, seconds, pairs, correct in rows:
        assert correct == n, "identical features must be identified"
        per_pair = seconds / pairs
        lines.append(f"| {label} | {pairs:,} | {seconds:.1f} | {1000 * seconds / n:.0f} | {1e6 * per_pair:.0f} | "
                     f"{per_pair_single / per_pair:.1f}x faster |")
    lines.append(f"| one at a time (baseline, {probe} queries x {n}) | {probe * n:,} | - | - | {1e6 * per_pair_single:.0f} | 1.0x |")
    return lines


def _speak(text: str, language: str, speaker_name: str) -> tuple[np.ndarray, int]:
    """espeak-ng's reading with a demo-corpus voice (Chinese through pinyin, Japanese through kana)."""
    import io
    import subprocess

    import soundfile as sf

    from melo.demo.corpus import JP, SPEAKERS, VOICES

    speaker = next(s for s in SPEAKERS if s.name == speaker_name)
    spoken = text
    if language == "ZH":
        from pypinyin import Style, lazy_pinyin

        spoken = " ".join(s for s in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True) if s.strip())
        spoken = spoken.translate(str.maketrans({"，": ",", "。": ".", "？": "?", "！": "!"}))
    elif language == "JP":
        spoken = dict(JP)[text]
    cmd = ["espeak-ng", "-v", VOICES[language] + speaker.variant, "-p", str(speaker.pitch), "-s", str(speaker.speed), "--stdout", "--", spoken]
    audio, rate = sf.read(io.BytesIO(subprocess.run(cmd, capture_output=True, check=True).stdout), dtype="float32")
    return audio, rate


def _metric_values(sentences: int) -> list[str]:
    from melo.demo.corpus import EN, JP, KR, ZH
    from melo.eval import AGGREGATES, EvalReport, Evaluator, Reference, SpeakerRecordings
    from melo.eval.evaluate import ALL_METRICS

    texts = {"KR": KR, "EN": EN, "ZH": ZH, "JP": [t for t, _ in JP]}
    references, other, noise = [], [], []
    rng = np.random.default_rng(0)
    for language, pool in texts.items():
        for i, text in enumerate(pool[:sentences]):
            audio, rate = _speak(text, language, "alice")
            references.append(Reference(f"{language}{i}", text, language, "alice", audio, rate))
            other.append(_speak(text, language, "bruno")[0])
            noise.append((0.1 * rng.standard_normal(audio.shape[0])).astype(np.float32))
    rate = references[0].sample_rate
    own = [_speak(text, "EN", "alice")[0] for text in EN[sentences : sentences + 5]]  # alice's "training" lines
    recordings = {"alice": SpeakerRecordings(own, rate, frozenset({"EN"}))}  # KR/ZH/JP lines: cross-lingual
    evaluator = Evaluator(references, speaker_recordings=recordings, metrics="all")
    report = EvalReport.merge(
        evaluator.evaluate_references(),
        evaluator.evaluate(other, rate, system="other voice"),
        evaluator.evaluate(noise, rate, system="noise"),
    )
    seconds_per_group = {}
    for group in ALL_METRICS:
        timed = Evaluator(references, speaker_recordings=recordings, metrics=(group,))
        timed.evaluate_references()  # references analysed, models loaded: time the syntheses' side only
        started = time.process_time()
        timed.evaluate(other, rate, system="other voice")
        seconds_per_group[group] = (time.process_time() - started) / len(other)
    aggregates = report.aggregates()
    lines = [
        "",
        f"Every metric on espeak-ng speech: {sentences} sentences per language (KR, EN, ZH, JP) read by the demo corpus's",
        "`alice`; her profile for speaker similarity comes from 5 other English lines, so her KR/ZH/JP lines are",
        "cross-lingual. `reference`: the recordings scored against themselves (the ceiling); `other voice`: the same",
        "sentences read by `bruno`; `noise`: white noise (RMS 0.1) of the same durations (the floor). Identification",
        f"candidates: the {sentences} sentences of the same language (chance {1 / sentences:.2f}); WER and ASR-ID on the",
        f"{sentences} English lines.",
        "",
        "| metric | better | reference | other voice | noise |",
        "|---|---|---:|---:|---:|",
    ]
    for name, info in AGGREGATES.items():
        values = [aggregates[s]["all"].get(name) for s in ("reference", "other voice", "noise")]
        cells = ["-" if v is None else f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}" for v in values]
        lines.append(f"| {name} ({info.label}) | {info.better} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "CPU seconds per utterance of each metric group (`other voice`, references prepared, models loaded):",
        "",
        "| group | CPU s / utterance |",
        "|---|---:|",
    ]
    lines += [f"| {group} | {seconds:.3f} |" for group, seconds in seconds_per_group.items()]
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--utterances", type=int, default=100, help="queries and candidates for the speed test (default 100)")
    p.add_argument("--sentences", type=int, default=4, help="espeak-ng sentences per language for the metric table (default 4)")
    args = p.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = ["## Objective evaluation (`benchmarks/bench_eval.py`)", "", f"Load average {load} at the start."]
    lines += [""] + _identification_speed(args.utterances)
    lines += _metric_values(args.sentences)
    text = "\n".join(lines) + "\n"
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
