"""ONNX export vs PyTorch on CPU: text -> waveform through melo.onnx.OnnxTTS and melo.api.TTS, same run.

The voice is configs/cpu_base.json (the CPU-sized model: H = 96, a 128-channel 22.05 kHz HiFi-GAN) with random
weights (seed 0), exported by ``melo.export.export_voice`` together with its text encoder, the 64-d stand-in
that config names (the demo's; NOT bge-m3, whose ONNX speed this does not measure). A random duration predictor
gives about one frame per text position, so speech is slowed with ``speed=0.25`` (natural pace, as in
bench_e2e_infer.py).

Paths, each warmed up (``warmup()``) and then reading the same KR/EN/ZH/JP paragraphs through ``stream``:
PyTorch's fast CPU path (``TTS(precision="auto")``: int8 encoder, packed decoder and flow, checked traces) and
fp32 path, and the ONNX runtime at ``auto`` (int8 encoder graph, fp32 acoustic graphs), ``fp32`` and ``int8``.
The paths take turns paragraph by paragraph, so a slow spell of this shared machine falls on all alike.

Reports RTF (compute seconds / audio seconds) and time to first audio (the first sentence's chunk), medians over
the paragraphs; the waveform error of the ONNX fp32 graphs against PyTorch's fp32 synthesis under the same noise;
and the file sizes. Writes benchmarks/results/onnx.md and recomposes benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

PARAGRAPHS = (
    "반갑습니다. 이 모델은 네 가지 언어를 말합니다. Please call me back when you are free tomorrow. "
    "这个苹果三块五毛钱。明日の会議は午後からです。",
    "지금 몇 시예요? 저는 커피를 좋아해요. I would like a cup of green tea, please. 北京的冬天很冷。駅はどこですか。",
    "감사합니다. 이 문장은 조금 더 깁니다. The quick brown fox jumps over the lazy dog. 我想学习中文。"
    "今日はいい天気ですね。",
    "고양이가 창문 밖을 봅니다. The train was late again this morning. 我们下午三点见面。京都で写真を撮りました。",
)
SPEED = 0.25
PATHS = ("torch auto", "torch fp32", "onnx auto", "onnx fp32", "onnx int8")
LABELS = {
    "torch auto": "PyTorch fast path (auto)",
    "torch fp32": "PyTorch fp32",
    "onnx auto": "ONNX auto (int8 encoder, fp32 acoustic)",
    "onnx fp32": "ONNX fp32",
    "onnx int8": "ONNX int8 (every graph)",
}


def build(folder: Path, threads: int) -> tuple[dict, Path, Path]:
    """The five paths, the exported folder and the checkpoint-sized state dict file (for its size)."""
    from transformers import AutoModel, AutoTokenizer

    from melo.api import TTS
    from melo.config import load_config
    from melo.export import export_voice
    from melo.export.adapter import from_model
    from melo.features import FeatureExtractor
    from melo.model import build_generator
    from melo.onnx import OnnxTTS
    from melo.testing.tiny_encoder import build_tiny_encoder
    from melo.text import DEFAULT_TABLE

    config = load_config("configs/cpu_base.json")
    encoder_dir = build_tiny_encoder(folder / "encoder")
    config = config.replace(data={"bert_model": str(encoder_dir)})
    speakers = {"speaker": 0}

    def generator():
        torch.manual_seed(0)
        return build_generator(config, DEFAULT_TABLE)

    weights = folder / "G_weights.pth"
    torch.save(generator().state_dict(), weights)
    export_voice(from_model(generator(), config, DEFAULT_TABLE, speakers), AutoTokenizer.from_pretrained(encoder_dir),
                 AutoModel.from_pretrained(encoder_dir), str(encoder_dir), folder / "onnx")
    paths = {}
    for precision in ("auto", "fp32"):
        features = FeatureExtractor(str(encoder_dir), layer=config.data.bert_layer,
                                    precision="fp32" if precision == "fp32" else "int8")
        paths[f"torch {precision}"] = TTS.from_components(generator(), features, config, DEFAULT_TABLE, speakers,
                                                          device="cpu", precision=precision)
    for precision in ("auto", "fp32", "int8"):
        paths[f"onnx {precision}"] = OnnxTTS(folder / "onnx", precision=precision, threads=threads)
    return paths, folder / "onnx", weights


def read(tts, text: str) -> tuple[float, float, int]:
    """(total seconds, seconds to the first chunk, samples) of one paragraph through ``stream``."""
    started = time.perf_counter()
    first, samples = None, 0
    for chunk in tts.stream(text, speaker_id=0, speed=SPEED, seed=0):
        if first is None:
            first = time.perf_counter() - started
        samples += chunk.shape[0]
    total = time.perf_counter() - started
    return total, first if first is not None else total, samples


def waveform_error(paths: dict) -> tuple[float, float, float, int]:
    """ONNX fp32 vs PyTorch fp32 on every paragraph under PyTorch's noise: (max |error|, relative RMS error, peak,
    paragraphs whose durations agree)."""
    from melo.export.adapter import RecordedNoise
    from melo.onnx import ReplayedNoise

    worst, squared, reference, peak, agree = 0.0, 0.0, 0.0, 0.0, 0
    for text in PARAGRAPHS:
        with RecordedNoise() as noise:
            want = paths["torch fp32"].synthesize(text, speed=SPEED, seed=0)
        try:
            got = paths["onnx fp32"].synthesize(text, speed=SPEED, noise=ReplayedNoise([d.numpy() for d in noise.draws]))
        except ValueError:  # a duration differs, so the replayed frame noise does not fit
            continue
        agree += 1
        worst = max(worst, float(np.abs(got - want).max()))
        squared += float(np.sum((got - want) ** 2))
        reference += float(np.sum(want**2))
        peak = max(peak, float(np.abs(want).max()))
    return worst, (squared / reference) ** 0.5 if reference else float("nan"), peak, agree


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=1, help="times each path reads every paragraph")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        paths, folder, weights = build(Path(tmp), args.threads)
        build_seconds = time.perf_counter() - t0
        from melo.onnx import read_manifest

        manifest = read_manifest(folder)
        sizes = {name: (folder / name).stat().st_size for files in manifest.graphs.values() for name in files.values()}
        weights_size = weights.stat().st_size
        warm = {}
        for name, tts in paths.items():
            t0 = time.perf_counter()
            tts.warmup()
            warm[name] = time.perf_counter() - t0
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in PATHS}
        for _ in range(args.rounds):
            for text in PARAGRAPHS:
                for name in PATHS:
                    runs[name].append(read(paths[name], text))
        error, relative, peak, agree = waveform_error(paths)
        sr = paths["onnx fp32"].sample_rate
    load_after = os.getloadavg()

    def summary(name: str) -> dict:
        rtf = [r[0] / (r[2] / sr) for r in runs[name]]
        return {"rtf": statistics.median(rtf), "lo": min(rtf), "hi": max(rtf),
                "ttfa": statistics.median(r[1] for r in runs[name]), "audio": statistics.median(r[2] / sr for r in runs[name])}

    table = {name: summary(name) for name in PATHS}
    base = table["torch auto"]
    lines = [
        "## ONNX runtime vs PyTorch (`benchmarks/bench_onnx.py`)",
        "",
        f"`OnnxTTS.stream` and `TTS.stream` on {len(PARAGRAPHS)} KR/EN/ZH/JP paragraphs ({args.rounds} reads each, "
        f"the paths taking turns per paragraph), configs/cpu_base.json with random weights (seed 0) and its 64-d stand-in "
        f"text encoder (not bge-m3: the features stage here is tiny), speed {SPEED}, {args.threads} threads "
        f"(torch.set_num_threads; onnxruntime intra-op threads), CPU, each path warmed up first. Medians over the "
        f"reads. Load average {load_before[0]:.2f} before, {load_after[0]:.2f} after (a shared 2-core machine); "
        f"export with its self-check "
        f"{build_seconds:.0f} s, {time.perf_counter() - started:.0f} s in all.",
        "",
        "| path | audio s | RTF (range) | × vs PyTorch fast path | TTFA s | warm-up s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in PATHS:
        row = table[name]
        lines.append(f"| {LABELS[name]} | {row['audio']:.2f} | {row['rtf']:.3f} ({row['lo']:.3f}–{row['hi']:.3f}) | "
                     f"{base['rtf'] / row['rtf']:.2f} | {row['ttfa']:.3f} | {warm[name]:.2f} |")
    check = manifest.check
    lines += [
        "",
        f"- Waveform error, ONNX fp32 vs PyTorch fp32 from text under PyTorch's noise: durations agree in {agree}/"
        f"{len(PARAGRAPHS)} paragraphs; max |error| {error:.2e} (peak {peak:.3f}), relative RMS error {relative:.2e}.",
        f"- The export's own check (random inputs of {check['fp32']['acoustic']['lengths']} text positions): fp32 "
        f"waveform max |error| {check['fp32']['acoustic']['max_abs_error']:.2e}, encoder {check['fp32']['encoder']['max_abs_error']:.2e}; "
        f"int8 durations agree at {sum(check['int8']['acoustic']['durations_equal'])}/{len(check['int8']['acoustic']['lengths'])} "
        f"lengths, encoder max |error| {check['int8']['encoder']['max_abs_error']:.2e} (peak {check['int8']['encoder']['peak']:.2f}).",
        f"- Files: generator weights (PyTorch state dict) {weights_size / 1e6:.2f} MB; "
        + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in sizes.items()) + ".",
    ]
    lines.append(
        f"- Load: the PyTorch fast path's warm-up took {warm['torch auto']:.1f} s in this run (its kernels for every "
        f"length bucket; bench_e2e_infer.py reports ~3 s for the full-size model on a quieter machine). Where that is "
        f"far above ~3 s, the machine was oversubscribed and the PyTorch times above are dominated by waiting for "
        f"the CPU (likely because both torch threads must be scheduled for each parallel step), so the ratio to ONNX is not the "
        f"idle-machine ratio: rerun `benchmarks/bench_onnx.py` on an idle machine before quoting it.")
    int8_speedup = table["onnx auto"]["rtf"] / table["onnx int8"]["rtf"]
    lines.append(
        f"- int8 acoustic graphs (ConvInteger/MatMulInteger from onnxruntime's dynamic quantisation) vs fp32 ones: "
        f"{int8_speedup:.2f}x the speed of `auto` here; `auto` keeps the acoustic graphs fp32 and quantises only the "
        f"text encoder (for bge-m3, ~90% of the weights), so the int8 acoustic graphs are for size, not speed.")
    text = "\n".join(lines)
    print(text)
    here = Path(__file__).resolve().parent
    (here / "results" / "onnx.md").write_text(text + "\n", encoding="utf-8")
    import subprocess

    subprocess.run([sys.executable, str(here / "compose_results.py")], check=True)


if __name__ == "__main__":
    main()
