"""Learning proof: does the trainer learn to speak, from scratch, on two CPU cores?

    python benchmarks/learning_proof.py [--work DIR] [--steps 12000] [--budget-minutes 90] [--threads 1]
    python benchmarks/learning_proof.py --work DIR --report-only      # tables and pictures of a run so far

1. Builds the learning-proof corpus (``melo.demo.proof_corpus``: 720 training utterances over KR/EN/ZH/JP read by
   two espeak-ng voices, and 48 held-out sentences -- in no training line -- read by both voices) and the tiny
   stand-in encoder the demo builds (``demo/tiny_encoder``: random, deterministic; not bge-m3).
2. Trains ``configs/cpu_base.json`` from scratch with ``python -m melo.train`` (a subprocess per
   ``train.eval_interval`` chunk, ``--resume`` between chunks), the held-out list as its validation list: at every
   evaluation the trainer synthesises 48 held-out lines (12 per language, different sentences, both voices) from
   text and scores them with melo.eval (TensorBoard ``speech_<LANG>/*``). After each chunk the generator is kept as
   ``WORK/generators/G_<step>.pth``. Training stops at ``--steps``.
3. Reports: the learning curve (every evaluation: steps, training minutes -- the trainer's own step time, evaluation
   and start-up excluded -- and wall minutes, per-language closed-set identification, MCD, duration ratio) as a
   table and a PNG; the goal's verdict per language at the last evaluation within ``--budget-minutes`` of training
   and at the end; and ``python -m melo.eval`` on all 96 held-out lines (through ``melo.api.TTS``, as users
   synthesise) for the last generator, with the references (ceiling) and an untrained model (control). Writes ``benchmarks/results/learning_proof.md`` (included in RESULTS.md),
   ``learning_proof_curve.png`` and ``learning_proof_<LANG>.png`` (reference | model | control mels).

Goal (issue 17): closed-set identification >= 80% in every language (reference ~100%, untrained ~chance), English
pocketsphinx WER within 0.15 of the references', duration ratio within +-10%.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "benchmarks" / "results"
LANGUAGES = ("KR", "EN", "ZH", "JP")
GOAL_ID, GOAL_WER_GAP, GOAL_DURATION = 0.80, 0.15, 0.10
FULL_EVAL_METRICS = "acoustic,identification,asr,dnsmos"
"""The held-out evaluation's metrics: all but speaker similarity, which costs ~7 CPU s per utterance (10x the
rest together; benchmarks/results/eval.md) and says little before the words are there."""


# -- workspace and training -------------------------------------------------------------------------

def _workspace(work: Path, config: Path, corpus: Path | None, encoder: Path | None) -> Path:
    """Corpus, stand-in encoder and the run's config (``WORK/config.json``); returns the config path."""
    from melo.config import load_config

    corpus = corpus or work / "corpus"
    if not (corpus / "heldout_list.txt").is_file():
        from melo.demo.proof_corpus import build_proof_corpus

        print(f"building the learning-proof corpus in {corpus}", flush=True)
        build_proof_corpus(corpus)
    encoder = encoder or work / "encoder"
    if not (encoder / "config.json").is_file():
        from melo.testing.tiny_encoder import build_tiny_encoder

        build_tiny_encoder(encoder)
    raw = load_config(config).to_dict()
    raw["data"].update(training_files=str(corpus / "train_list.txt"), validation_files=str(corpus / "heldout_list.txt"),
                       bert_model=str(encoder), cache_dir=str(work / "cache"))
    path = work / "config.json"
    if not path.is_file():
        path.write_text(json.dumps(raw, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _done_steps(ckpt_dir: Path) -> int:
    from melo.checkpoint import complete_steps

    steps = complete_steps(ckpt_dir) if ckpt_dir.is_dir() else []
    return max(steps) if steps else 0


def _train(work: Path, config: Path, name: str, steps: int, chunk: int, threads: int) -> None:
    """Train to ``steps`` in chunks of ``chunk`` steps, keeping each chunk's generator."""
    ckpt_dir = work / "checkpoints" / name
    kept = work / "generators"
    kept.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    while (done := _done_steps(ckpt_dir)) < steps:
        target = min(steps, (done // chunk + 1) * chunk)
        argv = [sys.executable, "-m", "melo.train", "--config", str(config), "--model", name, "--device", "cpu",
                "--max-steps", str(target), "--checkpoints-dir", str(work / "checkpoints"),
                "--logs-dir", str(work / "logs")] + (["--resume"] if done else [])
        started = time.time()
        with open(work / "train.log", "a", encoding="utf-8") as log:
            rc = subprocess.run(argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise SystemExit(f"training failed (exit {rc}); see {work / 'train.log'}")
        shutil.copy2(ckpt_dir / "G_latest.pth", kept / f"G_{target}.pth")
        with open(work / "chunks.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"step": target, "wall_seconds": time.time() - started,
                                "load_average": os.getloadavg()}) + "\n")
        print(f"step {target}: {time.time() - started:.0f} s this chunk", flush=True)


# -- reading the run --------------------------------------------------------------------------------

def _scalars(logdir: Path) -> dict[str, list[tuple[int, float, float]]]:
    """tag -> [(step, value, wall_time)] from every TensorBoard event file of the run."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 1, "audio": 1})
    events.Reload()
    return {t: [(e.step, e.value, e.wall_time) for e in events.Scalars(t)] for t in events.Tags()["scalars"]}


def _curve(logdir: Path, log_interval: int, chunks: list[dict]) -> list[dict[str, float]]:
    """One row per evaluation. Wall minutes: the finished chunks' wall time up to that step (a chunk cut short by a
    crash or a stop is not counted; its steps are trained again)."""
    scalars = _scalars(logdir)
    # a chunk resumed from its last checkpoint logs the steps after it again: keep each step's latest value
    latest = {s: v for s, v, _ in sorted(scalars.get("train/step_seconds", []), key=lambda e: e[2])}
    step_seconds = sorted(latest.items())
    rows = []
    evaluations = {s: (s, v, w) for s, v, w in sorted(scalars["speech/mcd_db"], key=lambda e: e[2])}
    for step, _, _ in sorted(evaluations.values()):
        row = {"step": step, "train_minutes": sum(v for s, v in step_seconds if s <= step) * log_interval / 60,
               "wall_minutes": sum(c["wall_seconds"] for c in chunks if c["step"] <= step) / 60}
        for tag, values in scalars.items():
            if tag.startswith("speech"):
                for s, v, _ in values:
                    if s == step:
                        row[tag] = v
        rows.append(row)
    return rows


# -- report ------------------------------------------------------------------------------------------

def _evaluate(work: Path, generator: Path, out: Path, threads: int) -> dict:
    """``python -m melo.eval`` over the whole held-out list (reference, model, untrained control)."""
    if not (out / "report.json").is_file():
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
        from melo.eval.extras import MissingExtraError, check_extras

        try:
            check_extras()
            metrics = FULL_EVAL_METRICS
        except MissingExtraError as e:
            print(f"note: {e}; scoring the core metrics only", flush=True)
            metrics = "core"
        corpus = Path(json.loads((work / "config.json").read_text(encoding="utf-8"))["data"]["validation_files"]).parent
        argv = [sys.executable, "-m", "melo.eval", "--model", str(generator), "--list", str(corpus / "heldout_list.txt"),
                "--speaker-list", str(corpus / "train_list.txt"), "--out", str(out), "--metrics", metrics,
                "--device", "cpu"]
        subprocess.run(argv, env=env, cwd=REPO, check=True)
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def _verdict(row: dict[str, float]) -> dict[str, str]:
    out = {}
    for lang in LANGUAGES:
        ident = row.get(f"speech_{lang}/id_accuracy")
        ratio = row.get(f"speech_{lang}/duration_ratio")
        ok_id = ident is not None and ident >= GOAL_ID
        ok_dur = ratio is not None and abs(ratio - 1) <= GOAL_DURATION
        out[lang] = ("met" if ok_id and ok_dur else "not met") + f" (ID {_fmt(ident, '.0%')}, duration {_fmt(ratio)})"
    return out


def _full_eval_table(report: dict, label: str) -> list[str]:
    agg = report["aggregates"]
    lines = [f"**{label}** (`python -m melo.eval --metrics {FULL_EVAL_METRICS}`, all 96 held-out lines, through "
             "`melo.api.TTS` on CPU):", "",
             "| language | system | ID | chance | MCD dB | F0 cents | VDE | duration | WER | ASR-ID | DNSMOS OVRL |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for lang in (*LANGUAGES, "all"):
        for system in ("reference", "model", "control"):
            s = agg.get(system, {}).get(lang)
            if not s:
                continue
            lines.append(f"| {lang} | {system} | {_fmt(s.get('id_accuracy'), '.0%')} | {_fmt(s.get('id_chance'), '.0%')} | "
                         f"{_fmt(s.get('mcd_db'))} | {_fmt(s.get('f0_rmse_cents'), '.0f')} | {_fmt(s.get('voicing_error'))} | "
                         f"{_fmt(s.get('duration_ratio'))} | {_fmt(s.get('wer'))} | {_fmt(s.get('asr_id_accuracy'), '.0%')} | "
                         f"{_fmt(s.get('dnsmos_ovrl'))} |")
    return lines + [""]


def _curve_png(rows: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    minutes = [r["train_minutes"] for r in rows]
    for lang in LANGUAGES:
        axes[0].plot(minutes, [r.get(f"speech_{lang}/id_accuracy", math.nan) for r in rows], marker="o", label=lang)
        axes[1].plot(minutes, [r.get(f"speech_{lang}/mcd_db", math.nan) for r in rows], marker="o", label=lang)
        axes[2].plot(minutes, [r.get(f"speech_{lang}/duration_ratio", math.nan) for r in rows], marker="o", label=lang)
    axes[0].axhline(GOAL_ID, color="k", ls="--", lw=0.8)
    axes[0].axhline(1 / 12, color="grey", ls=":", lw=0.8)
    axes[2].axhspan(1 - GOAL_DURATION, 1 + GOAL_DURATION, color="green", alpha=0.1)
    for ax, title in zip(axes, ("closed-set identification (goal 80%, chance 1/12)", "MCD (dB)", "duration ratio")):
        ax.set_title(title)
        ax.set_xlabel("training minutes (2-core CPU)")
        ax.legend()
        ax.grid(alpha=0.3)
    top = axes[0].secondary_xaxis("top", functions=(lambda m: m, lambda m: m))
    top.set_xticks(minutes[:: max(1, len(minutes) // 6)])
    top.set_xticklabels([str(r["step"]) for r in rows][:: max(1, len(minutes) // 6)])
    top.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _language_pictures(eval_dir: Path, held_out_list: Path) -> list[Path]:
    """One reference | model | control mel picture per language (its first held-out line), copied next to the
    results. melo.eval names its pictures ``NNN_<list name>_<line>.png`` after the line's number in the list."""
    lines = held_out_list.read_text(encoding="utf-8").splitlines()
    out = []
    for lang in LANGUAGES:
        number = next((i for i, line in enumerate(lines, 1) if line.rstrip().endswith(f"|{lang}")), None)
        matches = sorted((eval_dir / "mels").glob(f"*_{number}.png")) if number is not None else []
        if matches:
            target = RESULTS / f"learning_proof_{lang}.png"
            shutil.copy2(matches[0], target)
            out.append(target)
    return out


def report(work: Path, name: str, budget_minutes: float, threads: int) -> str:
    from melo.config import load_config

    config = load_config(work / "config.json")
    chunks = [json.loads(x) for x in (work / "chunks.jsonl").read_text().splitlines()] if (work / "chunks.jsonl").is_file() else []
    rows = _curve(work / "logs" / name, config.train.log_interval, chunks)
    if not rows:
        raise SystemExit("no evaluation in the run yet")
    within = [r for r in rows if r["train_minutes"] <= budget_minutes] or rows[:1]
    at_budget, last = within[-1], rows[-1]
    RESULTS.mkdir(parents=True, exist_ok=True)
    _curve_png(rows, RESULTS / "learning_proof_curve.png")
    loads = [c["load_average"][0] for c in chunks]
    lines = [
        "## Learning proof (issue 17): from scratch on 2 CPU cores",
        "",
        f"`python benchmarks/learning_proof.py`: `configs/cpu_base.json` ({config.data.sampling_rate} Hz, H={config.model.hidden_channels}, "
        f"batch {config.train.batch_size}, lr {config.train.learning_rate:g}) on the learning-proof corpus (720 espeak-ng utterances, "
        "KR/EN/ZH/JP, voices alice and bruno) with the tiny random stand-in encoder (not bge-m3: the model learns from "
        "phones, tones and languages; the stand-in's features are a fixed function of the tokens). Every evaluation "
        "synthesises 48 held-out lines (12 sentences per language that are in no training line, both voices) from text "
        "and scores them; closed-set identification picks, among the 12 held-out references of the same language, the "
        "one nearest by DTW over mel cepstra (chance 1/12 = 8%). Training minutes are the trainer's own step time "
        "(evaluations and start-up excluded); wall minutes include them. "
        + (f"The machine was shared with other work: 1-minute load average {min(loads):.1f}-{max(loads):.1f} at the "
           "chunk ends, so minutes here are slower than on an idle machine; steps are what the curve is measured in."
           if loads else ""),
        "",
        "| step | train min | wall min | ID KR | ID EN | ID ZH | ID JP | MCD dB | duration KR/EN/ZH/JP |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['step']} | {r['train_minutes']:.0f} | {r['wall_minutes']:.0f} | "
                     + " | ".join(_fmt(r.get(f"speech_{lang}/id_accuracy"), ".0%") for lang in LANGUAGES)
                     + f" | {_fmt(r.get('speech/mcd_db'))} | "
                     + " / ".join(_fmt(r.get(f"speech_{lang}/duration_ratio")) for lang in LANGUAGES) + " |")
    lines += ["", "![learning curve](results/learning_proof_curve.png)", ""]
    for label, row in ((f"At the budget ({budget_minutes:g} training minutes: step {at_budget['step']}, "
                        f"{at_budget['train_minutes']:.0f} min)", at_budget),
                       (f"At the end (step {last['step']}, {last['train_minutes']:.0f} training minutes)", last)):
        verdict = _verdict(row)
        lines.append(f"Goal verdict {label}: " + "; ".join(f"{lang} {v}" for lang, v in verdict.items()) + ".")
        lines.append("")
    generator = work / "generators" / f"G_{last['step']}.pth"
    if generator.is_file():
        eval_dir = work / f"eval_end_{last['step']}"
        result = _evaluate(work, generator, eval_dir, threads)
        lines += _full_eval_table(result, f"Generator of step {last['step']} (the end of the run)")
        corpus = Path(config.data.validation_files).parent
        pictures = _language_pictures(eval_dir, corpus / "heldout_list.txt")
        lines += ["Reference | model | untrained control, one held-out line per language:", "",
                  " ".join(f"![{p.stem}](results/{p.name})" for p in pictures), ""]
    text = "\n".join(lines)
    (RESULTS / "learning_proof.md").write_text(text + "\n", encoding="utf-8")
    return text


def export_base(work: Path, name: str, step: int | None, out: Path) -> None:
    """The demo's base voice: the generator and discriminators of ``step`` (default: the last) as fp16 files in our
    checkpoint layouts (``G_base.pth`` as ``G_latest.pth``, ``D_base.pth`` as ``D_<step>.pth``) plus a README."""
    import torch

    from melo import checkpoint as ckpt

    ckpt_dir = work / "checkpoints" / name
    step = step or _done_steps(ckpt_dir)
    latest = ckpt.load_checkpoint_file(work / "generators" / f"G_{step}.pth")
    discriminators = ckpt.load_checkpoint_file(ckpt_dir / f"D_{step}.pth")["discriminators"]

    def half(state: dict) -> dict:
        return {k: v.half() if v.is_floating_point() else v for k, v in state.items()}

    config = dict(latest["config"])
    config["data"] = {**config["data"], "training_files": "demo/proof/train_list.txt",
                      "validation_files": "demo/proof/heldout_list.txt", "bert_model": "demo/tiny_encoder",
                      "cache_dir": None}  # where `python -m melo.demo` puts them, not this machine's paths
    out.mkdir(parents=True, exist_ok=True)
    ckpt.atomic_save({**latest, "generator": half(latest["generator"]), "config": config}, out / "G_base.pth")
    ckpt.atomic_save({"format": "melo-D", "version": ckpt.FORMAT_VERSION, "step": step,
                      "discriminators": {k: half(v) for k, v in discriminators.items()}}, out / "D_base.pth")
    sizes = {p.name: p.stat().st_size / 2**20 for p in (out / "G_base.pth", out / "D_base.pth")}
    (out / "README.md").write_text(
        "# The demo's base voice\n\n"
        f"`configs/cpu_base.json` trained from scratch for {step} steps on the learning-proof corpus (espeak-ng, voices "
        "alice and bruno, KR/EN/ZH/JP) with the tiny random stand-in encoder that `python -m melo.demo` builds "
        "(`demo/tiny_encoder`; not bge-m3), by\n\n"
        f"    python benchmarks/learning_proof.py --steps {step} --export-base melo/demo/base\n\n"
        "Weights in fp16: " + ", ".join(f"`{k}` {v:.1f} MB" for k, v in sizes.items()) + ". "
        "`configs/demo.json` fine-tunes it (`train.init_from`, `train.init_from_D`). Its learning curve and held-out "
        "scores are in `benchmarks/RESULTS.md` (Learning proof).\n", encoding="utf-8")
    print(f"base voice of step {step} in {out}: " + ", ".join(f"{k} {v:.1f} MB" for k, v in sizes.items()))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, default=REPO / ".cache" / "learning_proof", help="run folder (kept; resumable)")
    p.add_argument("--config", type=Path, default=REPO / "configs" / "cpu_base.json")
    p.add_argument("--corpus", type=Path, default=None, help="an existing learning-proof corpus (default WORK/corpus)")
    p.add_argument("--encoder", type=Path, default=None, help="an existing stand-in encoder (default WORK/encoder)")
    p.add_argument("--name", default="proof", help="run name under WORK/checkpoints and WORK/logs")
    p.add_argument("--steps", type=int, default=12000, help="train to this step (default 12000)")
    p.add_argument("--budget-minutes", type=float, default=90.0, help="the goal's budget of training minutes")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared 2-core machine)")
    p.add_argument("--report-only", action="store_true", help="report the run as it is; train nothing")
    p.add_argument("--export-base", type=Path, default=None, metavar="DIR",
                   help="also write the last step's weights in fp16 as the demo's base voice (e.g. melo/demo/base)")
    args = p.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    config = _workspace(args.work, args.config, args.corpus, args.encoder)
    if not args.report_only:
        from melo.config import load_config

        _train(args.work, config, args.name, args.steps, load_config(config).train.eval_interval, args.threads)
    print(report(args.work, args.name, args.budget_minutes, args.threads))
    if args.export_base is not None:
        export_base(args.work, args.name, None, args.export_base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
