"""End-to-end CPU synthesis with full-size shapes: text -> waveform through melo.api.TTS.

Random weights in the real shapes: bge-m3 (XLM-RoBERTa large: 24 layers, 1024 hidden, 16 heads, 4096 FFN,
250,002 vocab; layer -3) and the default generator of configs/config_bge_m3.json. The tokenizer is the
project's small stand-in tokenizer (its ids fall inside bge-m3's vocabulary, and a sentence gets a similar
token count). A random duration predictor gives about one frame per text position, so speech is slowed
with ``speed=0.25`` (length_scale 4): about 4 frames, 46 ms, per position -- the pace of natural speech
(the model benchmarks use the same length_scale).

Reports time per sentence split into text frontend / features / acoustic model / vocoder, the real-time
factor (RTF = compute seconds / audio seconds), and time to first audio (TTFA) for 6-sentence paragraphs
through ``TTS.stream``, for the fast CPU path (``precision="auto"``: int8 bge-m3; bf16 text encoder, flow and vocoder)
and the int8 path (``precision="int8"``: the same with the vocoder's wide stages in int8, where the CPU has oneDNN's
quantized convolutions) against exact fp32 measured in the same run, in two regimes:

- *new text*: five paragraphs the process has not read (new sentence lengths). ``TTS.warmup()`` has made the
  decoder's kernels (fixed tile widths) and those of the text side and the flow for every length bucket up
  to ~6 s of speech; without that, a new length bucket costs the text side ~7 ms and the flow ~5 ms.
- *repeated text*: each paragraph read again right after its first read (every length seen): the
  like-for-like comparison with MeloTTS's model-code figure (repeated runs).

Writes benchmarks/results/e2e_infer.md.
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

PARAGRAPH = (
    "안녕하세요. 오늘은 날씨가 정말 좋네요. "
    "The meeting starts at three o'clock this afternoon. "
    "我们明天一起去看电影吧。"
    "東京タワーに行きました。"
    "오늘 meeting은 3시에 시작해요."
)
PARAGRAPHS_TIMED = (
    "반갑습니다. 이 모델은 네 가지 언어를 말합니다. "
    "Please call me back when you are free tomorrow. "
    "这个苹果三块五毛钱。"
    "明日の会議は午後からです。"
    "이번 project는 다음 주에 끝나요.",
    "지금 몇 시예요? 저는 커피를 좋아해요. "
    "I would like a cup of green tea, please. "
    "北京的冬天很冷。"
    "駅はどこですか。"
    "내일 seminar에 같이 가요.",
    "감사합니다. 이 문장은 조금 더 깁니다. "
    "The quick brown fox jumps over the lazy dog. "
    "我想学习中文。"
    "今日はいい天気ですね。"
    "이 file을 내일까지 보내 주세요.",
    "고양이가 창문 밖을 봅니다. 비가 많이 오네요. "
    "The train was late again this morning. "
    "我们下午三点见面。"
    "京都で写真を撮りました。"
    "내일 report를 보낼게요.",
    "어제 영화를 봤어요. 정말 재미있었어요. "
    "She bought a new bicycle last week. "
    "今天的天气非常好。"
    "新しい本を買いました。"
    "다음 주 meeting은 취소됐어요.",
)
SPEED = 0.25
PATHS = ("auto", "int8", "fp32")  # the order the paths read their paragraphs in
LABELS = {"fp32": "fp32 (exact)", "auto": "fast CPU path", "int8": "int8 path"}


def build(threads: int):
    from transformers import AutoTokenizer, XLMRobertaConfig, XLMRobertaModel

    from melo.api import TTS
    from melo.config import load_config
    from melo.features import FeatureExtractor
    from melo.model import build_generator
    from melo.testing.tiny_encoder import build_tiny_encoder
    from melo.text import DEFAULT_TABLE

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = AutoTokenizer.from_pretrained(build_tiny_encoder(Path(tmp) / "tok"))
    def bge_m3_shapes() -> XLMRobertaConfig:
        # a new config per encoder: preparing an encoder drops its unused top layers and sets its config's
        # num_hidden_layers to match, so a shared config would give the next encoder fewer layers
        return XLMRobertaConfig(
            vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
            max_position_embeddings=8194, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
        )
    config = load_config("configs/config_bge_m3.json")
    tts, features = {}, {}
    for precision in PATHS:
        feature_precision = "fp32" if precision == "fp32" else "int8"
        if feature_precision not in features:  # one encoder per precision (it keeps no state between calls)
            torch.manual_seed(0)
            encoder = XLMRobertaModel(bge_m3_shapes()).eval()
            features[feature_precision] = FeatureExtractor.from_components(
                tokenizer, encoder, name="bge-m3 shapes (random)", layer=-3, device="cpu", precision=feature_precision
            )
        torch.manual_seed(0)
        model = build_generator(config, DEFAULT_TABLE)
        tts[precision] = TTS.from_components(model, features[feature_precision], config, DEFAULT_TABLE, device="cpu",
                                             precision=precision)
    return tts


def run(tts, text: str) -> tuple[float, float, dict[str, float], int]:
    """(total seconds, time to first chunk, per-stage seconds, samples)"""
    t0 = time.perf_counter()
    first = None
    samples = 0
    for chunk in tts.stream(text, speaker_id=0, speed=SPEED, seed=0):
        if first is None:
            first = time.perf_counter() - t0
        samples += chunk.shape[0]
    total = time.perf_counter() - t0
    t = tts.last_timings
    return total, first or total, {"frontend": t.frontend, "features": t.features, "acoustic": t.acoustic, "vocoder": t.vocoder}, samples


def bf16_matmul_gflops(repeats: int = 25) -> float:
    """This machine's speed right now: a 2048^3 bf16 matmul (what the vocoder's convolutions are made of), the
    median of ``repeats`` (~1 s). On a shared machine it moves by 10% or more over minutes, and the RTFs with it."""
    a = torch.randn(2048, 2048).to(torch.bfloat16)
    b = torch.randn(2048, 2048).to(torch.bfloat16)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    load_before = os.getloadavg()
    torch.set_num_threads(args.threads)
    speed_before = bf16_matmul_gflops()
    started = time.perf_counter()
    tts = build(args.threads)
    from melo.text.split import split_sentences

    n_sentences = [len(split_sentences(text)) for text in PARAGRAPHS_TIMED]
    # regime -> path -> one (total s, TTFA s, stages, samples) per paragraph. Each path is warmed up and then
    # reads its paragraphs back to back, as a process serving one of them would: not right after the other path
    # has flushed the CPU caches (taking turns paragraph by paragraph made the fast path ~5% slower: 0.182-0.188
    # against 0.166-0.178 alone). Each paragraph is read twice in a row, first as new text, then as repeated
    # text, so the regimes alternate and a slow or fast spell of this shared machine (±10% over minutes) falls
    # on both alike.
    results: dict[str, dict[str, list]] = {regime: {name: [] for name in PATHS} for regime in ("new", "repeated")}
    for name in PATHS:
        first = run(tts[name], PARAGRAPH)  # first call: loads the language backends (jieba, OpenJTalk, ...)
        t0 = time.perf_counter()
        tts[name].warmup()
        if name == "auto":
            cold, warm_seconds = first, time.perf_counter() - t0
        for text in PARAGRAPHS_TIMED:
            for regime in ("new", "repeated"):
                results[regime][name].append(run(tts[name], text))
    sr = tts["auto"].sample_rate
    text = PARAGRAPHS_TIMED[0]
    a = tts["auto"].synthesize(text, speed=SPEED, seed=0, noise_scale=0.0, noise_scale_w=0.0, sdp_ratio=0.0)
    b = tts["fp32"].synthesize(text, speed=SPEED, seed=0, noise_scale=0.0, noise_scale_w=0.0, sdp_ratio=0.0)
    c = tts["int8"].synthesize(text, speed=SPEED, seed=0, noise_scale=0.0, noise_scale_w=0.0, sdp_ratio=0.0)
    n = min(a.shape[0], b.shape[0])
    rel_err = float(np.linalg.norm(a[:n] - b[:n]) / max(np.linalg.norm(b[:n]), 1e-12))
    int8_diff = float(np.linalg.norm(c - a) / max(np.linalg.norm(a), 1e-12)) if c.shape == a.shape else float("nan")
    load_after = os.getloadavg()
    speed_after = bf16_matmul_gflops()

    def summary(runs: list) -> dict:
        """Medians over the paragraphs of RTF, TTFA and per-sentence stage times."""
        rtf = [r[0] / (r[3] / sr) for r in runs]
        per_sentence = {k: statistics.median(r[2][k] / m for r, m in zip(runs, n_sentences))
                        for k in ("frontend", "features", "acoustic", "vocoder")}
        return {"rtf": statistics.median(rtf), "rtf_range": (min(rtf), max(rtf)), "ttfa": statistics.median(r[1] for r in runs),
                "audio": statistics.median(r[3] / sr for r in runs), "total": statistics.median(r[0] for r in runs), **per_sentence}

    table = {(regime, name): summary(results[regime][name]) for regime in results for name in PATHS}
    lines = [
        "## End-to-end synthesis, full-size shapes (`benchmarks/bench_e2e_infer.py`)",
        "",
        f"`melo.api.TTS.stream` on {len(PARAGRAPHS_TIMED)} 6-sentence KR/EN/ZH/JP paragraphs, random weights in "
        f"bge-m3's and the default model's shapes, speed {SPEED} (≈4 frames per text position, natural pace for an "
        f"untrained duration predictor), {args.threads} threads, after `TTS.warmup()` ({warm_seconds:.2f} s on the "
        f"fast path, after a first synthesis had loaded the language backends; it makes the decoder's kernels and "
        f"those of the text side and the flow for every length bucket up to ~6 s of speech). *New text*: a "
        f"paragraph's first read (sentence lengths this process has not synthesised). *Repeated text*: the same "
        f"paragraph read again right after (the like-for-like comparison with MeloTTS's repeated-run figure), so "
        f"the regimes alternate; each path reads all its paragraphs in one block. Medians over the paragraphs. "
        f"bf16 matmul speed (median) {speed_before:.0f} GFLOP/s before, {speed_after:.0f} after. "
        f"Load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after; {time.perf_counter() - started:.0f} s in all.",
        "",
        "| text | path | audio s | total s | RTF (range) | × vs fp32 | TTFA s | frontend ms/sent | features ms/sent | acoustic ms/sent | vocoder ms/sent |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for regime in ("repeated", "new"):
        base = table[(regime, "fp32")]
        for name in ("fp32", "auto", "int8"):
            row, label = table[(regime, name)], LABELS[name]
            if name == "int8" and tts["int8"].engine.precision.decoder != torch.int8:
                label += " (no int8 decoder on this CPU: bf16)"
            lo, hi = row["rtf_range"]
            lines.append(
                f"| {regime} | {label} | {row['audio']:.2f} | {row['total']:.2f} | {row['rtf']:.3f} ({lo:.3f}–{hi:.3f}) | "
                f"{base['rtf'] / row['rtf']:.2f} | {row['ttfa']:.2f} | {row['frontend'] * 1e3:.1f} | {row['features'] * 1e3:.1f} | "
                f"{row['acoustic'] * 1e3:.1f} | {row['vocoder'] * 1e3:.1f} |"
            )
    def verdict(value: float, goal: float) -> str:
        return f"{'met' if value <= goal else 'MISSED'} ({value:.3f})"

    lines.append("")
    for name in ("auto", "int8"):
        rep, new = table[("repeated", name)], table[("new", name)]
        lines += [
            f"- {LABELS[name]}: goal RTF ≤ 0.18: repeated text {verdict(rep['rtf'], 0.18)}; new text "
            f"{verdict(new['rtf'], 0.18)}. Goal time to first audio ≤ 0.5 s: repeated text {verdict(rep['ttfa'], 0.5)}; "
            f"new text {verdict(new['ttfa'], 0.5)}.",
        ]
    lines += [
        f"- Fast path vs fp32 on the same input with noise off: relative waveform error {rel_err * 100:.2f}% (random weights).",
        f"- int8 path vs fast path on the same input with noise off (same features and durations, so this is the "
        f"vocoder's int8 error against bf16): {int8_diff * 100:.3f}%. Random weights leave HiFi-GAN's residual blocks "
        f"near-silent, so this understates it; `benchmarks/bench_infer.py` measures it at a trained net's weight scale.",
        f"- First call of a fresh process without `TTS.warmup()` (language backends and CPU kernels load): total "
        f"{cold[0]:.2f} s, TTFA {cold[1]:.2f} s (fast path).",
        "- Error note: the int8 encoder changes the features, so the predicted durations and the audio length differ from "
        "fp32; the waveform error above is therefore not a vocoder error (see the model inference table for that).",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).resolve().parent / "results" / "e2e_infer.md"
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
