"""The training step beside MeloTTS's, measured in the same run.

Ours is :func:`melo.train.step.train_step`, the step ``python -m melo.train`` runs (full config
``configs/config_bge_m3.json``, H=192). MeloTTS's is its own ``train.py`` loop body on its own models, driven by
``benchmarks/melotts_train_step.py`` from a MeloTTS checkout. Both at the shapes MeloTTS was measured with:
101 text positions, 400 spectrogram frames, segment 16384 samples, fp32, the same audio, the same thread
count. Batch sizes run interleaved (ours B=2, MeloTTS B=2, ours B=6, MeloTTS B=6), each in a fresh process
(peak RSS is per process), one warm-up step excluded (it allocates AdamW's state), median and min over the
timed steps.

Run: python benchmarks/bench_train_step.py [--melotts DIR] [--steps N] [--threads T]
  -> benchmarks/results/model_train_step.md (then benchmarks/compose_results.py rebuilds RESULTS.md)

Needs, for the baseline only (not in this project's requirements): a MeloTTS checkout
(``git clone https://github.com/myshell-ai/MeloTTS``; ``--melotts DIR``, default ``$MELOTTS_DIR`` or
/work/scratch/MeloTTS), and the packages its model code imports, numba and librosa
(``pip install numba librosa``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DEFAULT_MELOTTS = Path("/work/scratch/MeloTTS")
CLONE_COMMAND = "git clone https://github.com/myshell-ai/MeloTTS"
MELOTTS_PACKAGES = ("numba", "librosa")  # imported by MeloTTS's monotonic_align and mel_processing
T_TEXT, T_SPEC = 101, 400
FEATURES_KEYWORD = "text_features"  # the generator's keyword argument for the bge-m3 features


class BaselineUnavailable(Exception):
    """MeloTTS's code cannot run here (no checkout, or a package it imports is missing)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Our training step beside MeloTTS's, in the same run.")
    parser.add_argument("--melotts", type=Path, default=Path(os.environ.get("MELOTTS_DIR", DEFAULT_MELOTTS)),
                        help=f"a MeloTTS checkout ({CLONE_COMMAND}); default $MELOTTS_DIR or {DEFAULT_MELOTTS}")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per process, after one warm-up step")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("MELO_BENCH_THREADS", "2")))
    parser.add_argument("--batches", type=int, nargs="+", default=[2, 6])
    parser.add_argument("--output", type=Path, default=HERE / "results" / "model_train_step.md")
    parser.add_argument("--worker-batch", type=int, help=argparse.SUPPRESS)  # internal: run our step, print JSON
    args = parser.parse_args(argv)
    if args.steps < 1 or args.threads < 1 or min(args.batches) < 1:
        parser.error("--steps, --threads and --batches must be positive")
    return args


def check_baseline(melotts: Path) -> None:
    """Raise :class:`BaselineUnavailable` saying what is missing and how to get it."""
    if not (melotts / "melo" / "models.py").is_file():
        raise BaselineUnavailable(
            f"MeloTTS checkout not found at {melotts} (no melo/models.py); the baseline runs MeloTTS's own code. "
            f"Get it with `{CLONE_COMMAND} {melotts}`, or pass --melotts DIR / set MELOTTS_DIR.")
    missing = [name for name in MELOTTS_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise BaselineUnavailable(
            f"MeloTTS's model code imports {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not "
            f"installed: `pip install {' '.join(missing)}` (benchmark only; not a requirement of this project).")


def our_step(batch: int, steps: int, threads: int) -> dict:
    """Time our :func:`melo.train.step.train_step` in this process."""
    sys.path.insert(0, str(ROOT))
    import torch

    torch.set_num_threads(threads)
    from melo.audio import SpectrogramParams
    from melo.config import load_config
    from melo.model import build_discriminators, build_generator, count_parameters
    from melo.model.alignment import maximum_path
    from melo.text.symbols import DEFAULT_TABLE
    from melo.train.step import make_optimizers, train_step

    config = load_config(ROOT / "configs" / "config_bge_m3.json")
    d, m = config.data, config.model
    torch.manual_seed(0)
    gen, discs = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    opts = make_optimizers(gen, discs, config)
    g = torch.Generator().manual_seed(0)
    wav = (0.3 * torch.randn(batch, 1, T_SPEC * d.hop_length, generator=g)).clamp(-1.0, 1.0)
    inputs = {
        "phone_ids": torch.randint(1, DEFAULT_TABLE.n_symbols, (batch, T_TEXT), generator=g),
        "tone_ids": torch.randint(0, DEFAULT_TABLE.n_tones, (batch, T_TEXT), generator=g),
        "language_ids": torch.randint(0, DEFAULT_TABLE.n_languages, (batch, T_TEXT), generator=g),
        "text_lengths": torch.full((batch,), T_TEXT),
        FEATURES_KEYWORD: torch.randn(batch, m.bert_channels, T_TEXT, generator=g),
        "spec": SpectrogramParams.from_config(d).spectrogram(wav.squeeze(1))[:, :, :T_SPEC],
        "spec_lengths": torch.full((batch,), T_SPEC),
        "speaker_ids": torch.randint(0, d.n_speakers, (batch,), generator=g),
    }
    times = []
    for step in range(1 + steps):
        start = time.perf_counter()
        result = train_step(gen, discs, opts, inputs, wav, config, step)
        elapsed = time.perf_counter() - start
        if step >= 1:
            times.append(elapsed)
        losses = {"d": result.discriminator, "dur_d": result.duration_discriminator, "g": result.generator_total}
        del result  # as the trainer's loop does
    scores = torch.randn(batch, T_SPEC, T_TEXT, generator=g)  # the alignment search alone
    mask = torch.ones_like(scores)
    mas = []
    for _ in range(5):
        start = time.perf_counter()
        maximum_path(scores, mask)
        mas.append(time.perf_counter() - start)
    return {
        "implementation": "ours", "batch": batch, "steps": len(times),
        "median_s": statistics.median(times), "min_s": min(times), "times_s": times, "peak_gib": _peak_rss_gib(),
        "mas_ms": statistics.median(mas) * 1e3, "segment": config.train.segment_size, "hop": d.hop_length,
        "frames": inputs["spec"].size(2), "losses": {k: float(v) for k, v in losses.items() if v is not None},
        "params": {"generator": count_parameters(gen), "mpd": count_parameters(discs.mpd),
                   "duration": count_parameters(discs.duration) if discs.duration is not None else 0},
    }


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB on Linux


def _run(command: list[str], env: dict[str, str], what: str) -> dict:
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(args: argparse.Namespace) -> list[dict]:
    """Ours and MeloTTS's step per batch size, interleaved, each in a fresh process; with the load average."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base.update(OMP_NUM_THREADS=str(args.threads), NUMBA_NUM_THREADS=str(args.threads))
    ours_env = dict(base, PYTHONPATH=str(ROOT))
    shape = ["--steps", str(args.steps), "--threads", str(args.threads)]
    results = []
    for batch in args.batches:
        runs = (
            ([sys.executable, str(Path(__file__).resolve()), "--worker-batch", str(batch), *shape], ours_env, "ours"),
            ([sys.executable, str(HERE / "melotts_train_step.py"), "--melotts", str(args.melotts.resolve()),
              "--batch", str(batch), "--text-len", str(T_TEXT), "--spec-len", str(T_SPEC), *shape], base, "MeloTTS"),
        )
        for command, env, name in runs:  # MeloTTS's package is also `melo`: our repo stays off its path
            load_before = os.getloadavg()[0]
            result = _run(command, env, f"{name}'s step at B={batch}")
            result["load_before"], result["load_after"] = load_before, os.getloadavg()[0]
            print(json.dumps(result), flush=True)
            results.append(result)
    return results


def check_comparable(results: list[dict]) -> None:
    """Both steps saw the same segment, hop and frames, and every loss is finite."""
    for key in ("segment", "hop", "frames"):
        values = {r[key] for r in results}
        if len(values) != 1:
            raise RuntimeError(f"the two steps differ in {key}: {sorted(values)}")
    for r in results:
        bad = {k: v for k, v in r["losses"].items() if v != v or abs(v) == float("inf")}
        if bad or len(r["losses"]) != 3:
            raise RuntimeError(f"{r['implementation']} at B={r['batch']}: losses {r['losses']}")


def melotts_commit(melotts: Path) -> str:
    proc = subprocess.run(["git", "-C", str(melotts), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else "unknown commit"


def report(results: list[dict], args: argparse.Namespace, commit: str) -> str:
    by = {(r["implementation"], r["batch"]): r for r in results}
    threads = f"{args.threads} thread{'s' if args.threads > 1 else ''}"
    loads = [load for r in results for load in (r["load_before"], r["load_after"])]
    lines = [
        f"## Training step (full config, fp32, {threads}): ours vs MeloTTS's code, same run",
        "",
        "Ours: `melo.train.step.train_step`, the step `python -m melo.train` runs. MeloTTS: its `train.py` loop body "
        f"on its own SynthesizerTrn and discriminators (MeloTTS {commit}, its configs/config.json), driven by "
        "`benchmarks/melotts_train_step.py`. Same audio, "
        f"{T_TEXT} text positions, {T_SPEC} frames, segment {results[0]['segment']} samples, H=192, fp32, {threads}; "
        f"interleaved (ours, MeloTTS per batch size), each in a fresh process; median and min over {args.steps} "
        "steps after one warm-up step. Losses are the last step's (D, duration D, generator total); MeloTTS's "
        "duration-D loss is an unmasked mean, ours masked, so those two differ by definition.",
        "",
        "| batch | step | median (s) | min (s) | peak RSS (GiB) | alignment search alone (ms) | losses D / dur-D / G | load (1 min) before → after |",
        "|---:|---|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        lo = r["losses"]
        lines.append(f"| {r['batch']} | {r['implementation']} | {r['median_s']:.2f} | {r['min_s']:.2f} | "
                     f"{r['peak_gib']:.2f} | {r['mas_ms']:.1f} | {lo['d']:.2f} / {lo['dur_d']:.3f} / {lo['g']:.1f} | "
                     f"{r['load_before']:.2f} → {r['load_after']:.2f} |")
    lines += ["", "| batch | time ours / MeloTTS (median) | (min) | peak RSS ours / MeloTTS |", "|---:|---:|---:|---:|"]
    for batch in args.batches:
        o, b = by[("ours", batch)], by[("MeloTTS", batch)]
        lines.append(f"| {batch} | {o['median_s'] / b['median_s']:.2f}x | {o['min_s'] / b['min_s']:.2f}x | "
                     f"{o['peak_gib'] / b['peak_gib']:.2f}x |")
    p_ours, p_melo = by[("ours", args.batches[0])]["params"], by[("MeloTTS", args.batches[0])]["params"]
    lines += [
        "",
        "Parameters (M), ours / MeloTTS: " + ", ".join(
            f"{name} {p_ours[name] / 1e6:.2f} / {p_melo[name] / 1e6:.2f}" for name in ("generator", "mpd", "duration"))
        + ". MeloTTS's generator also has its ja_bert projection (768 -> 192) and larger embedding tables; its "
        "duration discriminator builds a speaker projection its trainer never feeds (see Model parameters).",
        "",
        "What differs in the step itself (the same losses otherwise): ours updates the waveform discriminators "
        "before the duration discriminator (MeloTTS the other way round; each reads only the generator's detached "
        "outputs, so the order does not change the maths) and masks the duration discriminator's LSGAN terms; "
        "freezes the discriminators during the generator's backward and computes the real audio's feature maps "
        "without a graph; uses fused AdamW (MeloTTS's default AdamW on CPU is the per-parameter loop) and one "
        "total norm instead of a per-parameter norm with a host read each; frees gradients after each update. Its "
        "alignment search is vectorised torch without host reads (for the GPU); MeloTTS's numba loop is the "
        "faster one on CPU (the alignment column), a small part of either step.",
        "",
        reading(results, args.batches, args.threads),
        "",
        f"1-minute load average during the run: {min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} cores "
        f"shared with other work, this benchmark's own {threads} included (each row's is beside it).",
    ]
    return "\n".join(lines) + "\n"


def reading(results: list[dict], batches: list[int], threads: int) -> str:
    """The ratios in words, and whether the machine was loaded while they were measured."""
    by = {(r["implementation"], r["batch"]): r for r in results}
    parts = []
    for batch in batches:
        o, b = by[("ours", batch)], by[("MeloTTS", batch)]
        time_ratio, memory_ratio = o["median_s"] / b["median_s"], o["peak_gib"] / b["peak_gib"]
        parts.append(f"at B={batch} ours takes {time_ratio:.2f}x MeloTTS's step time "
                     f"({'faster' if time_ratio < 1 else 'slower'}) and {memory_ratio:.2f}x its peak RSS")
    text = "Reading: " + "; ".join(parts) + "."
    busiest = max(max(r["load_before"], r["load_after"]) for r in results)
    if busiest > threads + 1:  # the benchmark's own threads account for about `threads` of the load
        text += (f" Other work was running (1-minute load up to {busiest:.2f} with this benchmark's {threads} "
                 "threads), so the absolute times are inflated and carry that noise; interleaving puts both steps "
                 "under similar load, so the ratios are the figures to read, the min column the least disturbed step.")
    else:
        text += (f" The load stayed near this benchmark's own {threads} threads (at most {busiest:.2f}): the machine "
                 "was otherwise quiet, and the per-step times varied by the spread between the median and min columns.")
    return text


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker_batch is not None:
        print(json.dumps(our_step(args.worker_batch, args.steps, args.threads)))
        return
    try:
        check_baseline(args.melotts)
    except BaselineUnavailable as exc:
        raise SystemExit(f"bench_train_step: {exc}") from None
    results = measure(args)
    check_comparable(results)
    text = report(results, args, melotts_commit(args.melotts))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
