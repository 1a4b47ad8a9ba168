"""Synthesis speed of the full generator (configs/config_bge_m3.json, random weights) on CPU, 2 threads:
101 text positions at length_scale 4 (~9.4 s of audio). fp32 as trained (weight norm live, no_grad) versus
the fast path (weight norm folded, inference_mode, HiFi-GAN decoder under bf16 autocast), with the fast
path's relative error on the waveform.

Run: python benchmarks/bench_infer.py  -> benchmarks/results/model_infer.md
"""

from __future__ import annotations

import copy
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from melo.config import load_config  # noqa: E402
from melo.model import build_generator  # noqa: E402
from melo.model.inference import optimize_for_inference  # noqa: E402
from melo.text.symbols import DEFAULT_TABLE  # noqa: E402

THREADS = int(os.environ.get("MELO_BENCH_THREADS", "2"))
T_TEXT, LENGTH_SCALE, REPEATS = 101, 4.0, 3
FRAMES_PER_POSITION = 1.95  # set on the duration predictor: ceil(1.95 * 4) = 8 frames per position
MELO_RTF = (0.29, 0.31)  # MeloTTS's code, same text length, fp32 (reference numbers from the issue)


def main() -> None:
    torch.set_num_threads(THREADS)
    config = load_config(ROOT / "configs" / "config_bge_m3.json")
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE).eval()
    with torch.no_grad():
        # random weights predict ~1 frame per position; fix the deterministic durations so the audio length is known
        gen.dp.proj.weight.zero_()
        gen.dp.proj.bias.fill_(math.log(FRAMES_PER_POSITION))
    g = torch.Generator().manual_seed(0)
    inputs = (
        torch.randint(1, DEFAULT_TABLE.n_symbols, (1, T_TEXT), generator=g),
        torch.randint(0, DEFAULT_TABLE.n_tones, (1, T_TEXT), generator=g),
        torch.zeros(1, T_TEXT, dtype=torch.long),
        torch.randn(1, config.model.bert_channels, T_TEXT, generator=g),
        torch.zeros(1, dtype=torch.long),
    )
    sr = config.data.sampling_rate

    def run(model, grad_mode, **kw):
        times, out = [], None
        for _ in range(REPEATS + 1):  # first is warm-up
            torch.manual_seed(1)
            start = time.perf_counter()
            with grad_mode():
                out = model.infer(*inputs, length_scale=LENGTH_SCALE, sdp_ratio=0.0, **kw)
            times.append(time.perf_counter() - start)
        return statistics.median(times[1:]), out.audio

    fp32_s, fp32_audio = run(gen, torch.no_grad)
    fast = optimize_for_inference(copy.deepcopy(gen))
    folded_s, folded_audio = run(fast, torch.inference_mode)
    bf16_s, bf16_audio = run(fast, torch.inference_mode, decoder_dtype=torch.bfloat16)
    seconds = fp32_audio.shape[-1] / sr

    def rel(a: torch.Tensor) -> float:
        return float(torch.linalg.vector_norm(a - fp32_audio) / torch.linalg.vector_norm(fp32_audio))

    load = os.getloadavg()
    rows = [
        ("fp32, weight norm live, no_grad", fp32_s, 0.0),
        ("fp32, weight norm folded, inference_mode", folded_s, rel(folded_audio)),
        ("fast path: folded, inference_mode, bf16-autocast decoder", bf16_s, rel(bf16_audio)),
    ]
    lines = [
        f"## Synthesis speed (full config, random weights, CPU, {THREADS} thread{'s' if THREADS > 1 else ''})",
        "",
        f"{T_TEXT} text positions, length_scale {LENGTH_SCALE:g}, deterministic durations (sdp_ratio 0) -> "
        f"{seconds:.2f} s of audio; median of {REPEATS} runs after one warm-up. Load average at the end: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
        "| path | time (s) | RTF | speed-up vs fp32 | relative L2 error vs fp32 |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {t:.2f} | {t / seconds:.3f} | {fp32_s / t:.2f}x | {err:.2e} |" for name, t, err in rows]
    lines += [
        "",
        f"MeloTTS's code measured RTF {MELO_RTF[0]}-{MELO_RTF[1]} in fp32 for this length (reference numbers, not "
        "rerun here); goal for the fast path: RTF <= 0.15.",
    ]
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "model_infer.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
