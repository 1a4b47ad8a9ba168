"""Synthesis speed of the full generator (configs/config_bge_m3.json, random weights) on CPU, 2 threads:
101 text positions at length_scale 4 (~9.4 s of audio). The baseline is fp32 as trained (weight norm live,
no_grad, the plain decoder module); then the folded model with the packed fp32 decoder and flow (exact
path), the previous fast path (plain decoder module under bf16 autocast), the fast path (packed bf16
decoder, packed bf16 flow) and the int8 path (``TTS(precision="int8")``: the fast path with the decoder's wide
stages in int8), each with its relative error on the waveform against the baseline.

Random weights understate the decoder's reduced-precision error: HiFi-GAN's N(0, 0.01) init makes its residual
blocks near-silent. So the decoder alone is also compared with its fp32 module after the residual blocks get
weights of a trained net's scale (std = gain / sqrt(fan-in)), for bf16 and int8.

The flow's output layers are zero-initialised (the identity) in a fresh model; they get small random
weights here so that the flow's bf16 error shows up in the measured error as it would in a trained model.

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
from melo.model.decoder import ResBlock1  # noqa: E402
from melo.runtime.engine import InferenceEngine  # noqa: E402
from melo.runtime.packed_decoder import PackedDecoder, packed_decoder_supported  # noqa: E402
from melo.runtime.precision import PrecisionPolicy  # noqa: E402
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
        gen.duration_predictor.proj.weight.zero_()
        gen.duration_predictor.proj.bias.fill_(math.log(FRAMES_PER_POSITION))
        for coupling in gen.flow.flows:  # a trained flow is not the identity
            coupling.post.weight.normal_(0.0, 0.05)
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
        times, decoder, out = [], [], None
        for _ in range(REPEATS + 1):  # first is warm-up
            torch.manual_seed(1)
            start = time.perf_counter()
            with grad_mode():
                out = model.infer(*inputs, length_scale=LENGTH_SCALE, sdp_ratio=0.0, **kw)
            times.append(time.perf_counter() - start)
            decoder.append(out.decoder_seconds)
        return statistics.median(times[1:]), statistics.median(decoder[1:]), out.audio

    load_before = os.getloadavg()
    fp32_s, fp32_dec, fp32_audio = run(gen, torch.no_grad)
    def engine(**dtypes: torch.dtype) -> InferenceEngine:
        return InferenceEngine(copy.deepcopy(gen), "cpu", PrecisionPolicy(**dtypes))

    folded_s, folded_dec, folded_audio = run(engine(), torch.inference_mode)
    module_only = engine(decoder=torch.bfloat16)
    module_only._packed_decoder = lambda *_: None  # the plain decoder module, as before the packed decoder
    autocast_s, autocast_dec, autocast_audio = run(module_only, torch.inference_mode)
    bf16 = dict(flow=torch.bfloat16, text=torch.bfloat16)
    bf16_s, bf16_dec, bf16_audio = run(engine(decoder=torch.bfloat16, **bf16), torch.inference_mode)
    has_int8 = packed_decoder_supported("cpu", torch.int8)
    if has_int8:
        int8_s, int8_dec, int8_audio = run(engine(decoder=torch.int8, **bf16), torch.inference_mode)
    seconds = fp32_audio.shape[-1] / sr

    def rel(a: torch.Tensor) -> float:
        if a.shape != fp32_audio.shape:  # reduced-precision text features moved a duration by a frame
            return float("nan")
        return float(torch.linalg.vector_norm(a - fp32_audio) / torch.linalg.vector_norm(fp32_audio))

    load = os.getloadavg()
    rows = [
        ("fp32, weight norm live, no_grad, decoder module (baseline)", fp32_s, fp32_dec, 0.0),
        ("fp32, folded, inference_mode, packed fp32 decoder and flow (exact path)", folded_s, folded_dec, rel(folded_audio)),
        ("folded, decoder module under bf16 autocast (previous fast path)", autocast_s, autocast_dec,
         rel(autocast_audio)),
        ("**fast path**: folded, packed bf16 text encoder, flow and decoder", bf16_s, bf16_dec, rel(bf16_audio)),
    ]
    if has_int8:
        rows.append(("**int8 path**: the fast path, decoder stages of >= 64 channels in int8", int8_s, int8_dec,
                     rel(int8_audio)))
    lines = [
        f"## Synthesis speed (full config, random weights, CPU, {THREADS} thread{'s' if THREADS > 1 else ''})",
        "",
        f"{T_TEXT} text positions, length_scale {LENGTH_SCALE:g}, deterministic durations (sdp_ratio 0) -> "
        f"{seconds:.2f} s of audio; median of {REPEATS} runs after one warm-up. Load average before: "
        f"{load_before[0]:.2f} / {load_before[1]:.2f} / {load_before[2]:.2f}; at the end: "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.",
        "",
        "| path | time (s) | RTF | decoder s per s of audio | speed-up vs baseline | relative L2 error vs baseline |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {t:.2f} | {t / seconds:.3f} | {dec / seconds:.3f} | {fp32_s / t:.2f}x | "
              f"{'n/a (other durations)' if err != err else f'{err:.2e}'} |" for name, t, dec, err in rows]
    rtf = bf16_s / seconds
    lines += [
        "",
        f"MeloTTS's code measured RTF {MELO_RTF[0]}-{MELO_RTF[1]} in fp32 for this length (reference numbers, not "
        f"rerun here). Goal: RTF <= 0.15 -> fast path {'met' if rtf <= 0.15 else 'MISSED'} ({rtf:.3f})"
        + (f"; int8 path {'met' if int8_s / seconds <= 0.15 else 'MISSED'} ({int8_s / seconds:.3f})." if has_int8 else "."),
        "",
        "The decoder's convolutions need ~56 GFLOP per second of 44.1 kHz audio (54 in the residual blocks, 2 in "
        "the upsampling layers); this CPU's bf16 peak on 2 cores is ~430 GFLOP/s (AVX512-BF16, no AMX), so ~0.13 s "
        "per second of audio is the floor for any bf16 decoder here. The packed decoder's large bf16 convolutions "
        "run at 410-440 GFLOP/s (profiled); see melo/runtime/packed_decoder.py. The int8 path's wide stages (~85% of "
        "the arithmetic) run oneDNN's int8 convolutions, ~1.9x bf16's rate alone on this CPU (AVX512-VNNI), less "
        "the per-call quantization of their inputs.",
    ]
    lines += decoder_error_at_trained_scale(engine().model.decoder, config) if has_int8 else []
    text = "\n".join(lines) + "\n"
    out = ROOT / "benchmarks" / "results" / "model_infer.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)


def decoder_error_at_trained_scale(folded, config) -> list[str]:
    """The decoder (``folded``: weight norm folded) alone against its fp32 module, residual blocks at a trained
    net's weight scale."""
    lines = [
        "",
        "Decoder alone against its fp32 module, 203 frames (2.36 s), residual-block weights drawn with "
        "std = gain / sqrt(fan-in) (random init: N(0, 0.01)). *Outlier channels*: 2% of each upsampling layer's "
        "output channels (the residual streams' channels) scaled up 10x, the case per-tensor int8 quantization "
        "handles worst (the other channels get fewer of its 255 levels):",
        "",
        "| gain | outlier channels | bf16 decoder error | int8 decoder error | int8 / bf16 |",
        "|---:|---|---:|---:|---:|",
    ]
    z = torch.randn(1, config.model.inter_channels, 203, generator=torch.Generator().manual_seed(3))
    g = torch.randn(1, config.model.gin_channels, 1, generator=torch.Generator().manual_seed(1))
    for gain, boost in ((0.5, 1.0), (1.0, 1.0), (1.5, 1.0), (1.0, 10.0)):
        dec = copy.deepcopy(folded)
        with torch.no_grad():
            for block in dec.resblocks:
                if isinstance(block, ResBlock1):
                    for conv in (*block.convs1, *block.convs2):
                        conv.weight.normal_(0.0, gain / (conv.in_channels * conv.kernel_size[0]) ** 0.5)
            pick = torch.Generator().manual_seed(7)
            for up in dec.ups if boost != 1.0 else ():
                channels = torch.randperm(up.out_channels, generator=pick)[: max(1, up.out_channels // 50)]
                up.weight[:, channels] *= boost
                up.bias[channels] *= boost
        with torch.inference_mode():
            ref = dec(z, g)
            errs = [float(torch.linalg.vector_norm(PackedDecoder(dec, dtype)(z, g) - ref) / torch.linalg.vector_norm(ref))
                    for dtype in (torch.bfloat16, torch.int8)]
        lines.append(f"| {gain:g} | {'2% x10' if boost != 1.0 else 'none'} | {errs[0]:.2e} | {errs[1]:.2e} | "
                     f"{errs[1] / errs[0]:.1f} |")
    return lines


if __name__ == "__main__":
    main()
