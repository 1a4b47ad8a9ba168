"""bge-m3 feature extraction speed on CPU: fp32 vs the fast paths, single sentence and batched.

    python benchmarks/bench_features.py [--threads 2] [--reps 5]

Full-size bge-m3 shapes with RANDOM weights (XLM-RoBERTa-large: 24 layers, hidden 1024, 16 heads,
FFN 4096, vocab 250,002, 8,194 positions; about 2.3 GB in fp32), so the speeds are real and the
feature errors are those of random weights, not of the trained model. Layer -3 (the default) is
extracted through ``FeatureExtractor.token_states`` - the batching code preprocessing and inference use
- with ``prepare_encoder`` dropping the two unused top layers and casting or quantising. The tokenizer
is the tiny stand-in's (only its special-token ids are used; token ids are random).

Writes benchmarks/results/features.md. Goals (issue 3): fast path <= 40 ms per 32-token sentence on
2 cores; >= 20 sentences/s batched (preprocessing).
"""

from __future__ import annotations

import argparse
import copy
import gc
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch  # noqa: E402

from melo.features.extractor import FeatureExtractor, Tokenized  # noqa: E402
from melo.testing.tiny_encoder import build_tiny_encoder  # noqa: E402

LAYER = -3
SENTENCE_TOKENS = 32  # including <s> and </s>
BATCH = 16
GOAL_SINGLE_MS = 40.0
GOAL_BATCH_PER_S = 20.0


@dataclass
class Row:
    name: str
    single_ms: float
    batch_per_s: float
    rel_error: float | None
    cosine: float | None


def full_size_model():
    from transformers import XLMRobertaConfig, XLMRobertaModel

    config = XLMRobertaConfig(
        vocab_size=250_002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
        intermediate_size=4096, max_position_embeddings=8194, pad_token_id=1, type_vocab_size=1,
    )
    torch.manual_seed(0)
    return XLMRobertaModel(config).eval()


def sentences(n: int, rng: torch.Generator, lengths: tuple[int, int]) -> list[Tokenized]:
    items = []
    for _ in range(n):
        length = int(torch.randint(lengths[0], lengths[1] + 1, (1,), generator=rng))
        ids = tuple(int(i) for i in torch.randint(5, 250_000, (length,), generator=rng))
        items.append(Tokenized(text="", ids=ids, pieces=("x",) * length, spans=((0, 0),) * length, unknown=(False,) * length))
    return items


def median_seconds(fn, reps: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def errors(states: list[torch.Tensor], reference: list[torch.Tensor]) -> tuple[float, float]:
    a, b = torch.cat(states), torch.cat(reference)
    rel = ((a - b).norm() / b.norm()).item()
    cosine = torch.nn.functional.cosine_similarity(a, b, dim=1).mean().item()
    return rel, cosine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    began = time.perf_counter()

    with tempfile.TemporaryDirectory() as tmp:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(build_tiny_encoder(Path(tmp) / "tok", vocab=300))
    rng = torch.Generator().manual_seed(0)
    single = sentences(1, rng, (SENTENCE_TOKENS - 2, SENTENCE_TOKENS - 2))
    batch = sentences(BATCH, rng, (SENTENCE_TOKENS - 2 - 8, SENTENCE_TOKENS - 2 + 8))  # mean 32 tokens, padded

    base = full_size_model()
    print(f"built full-size model ({sum(p.numel() for p in base.parameters()) / 1e6:.0f} M parameters) "
          f"in {time.perf_counter() - began:.1f} s", flush=True)

    # Naive baseline: all 24 layers, every hidden state kept, layer -3 picked afterwards.
    naive_model = copy.deepcopy(base)
    ids = torch.tensor([[0, *single[0].ids, 2]])
    batch_ids = torch.full((BATCH, SENTENCE_TOKENS + 8), 1)
    batch_mask = torch.zeros_like(batch_ids)
    for r, item in enumerate(batch):
        batch_ids[r, : len(item) + 2] = torch.tensor([0, *item.ids, 2])
        batch_mask[r, : len(item) + 2] = 1

    def naive(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            out = naive_model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            return out.hidden_states[LAYER]

    extractors = {
        precision: FeatureExtractor.from_components(
            tokenizer, base if precision == "fp32" else copy.deepcopy(base), name="bge-m3 shapes", layer=LAYER,
            precision=precision,  # type: ignore[arg-type]
        )
        for precision in ("int8", "bf16", "fp32")  # fp32 last: it takes `base` itself
    }
    del base
    gc.collect()
    names = {
        "naive": "fp32, 24 layers, all hidden states (naive)",
        "fp32": "fp32, 22 layers (top 2 dropped)",
        "bf16": "bf16 weights, 22 layers",
        "int8": "int8 dynamic (Linear, per-channel), 22 layers",
    }
    single_runs: dict[str, list[float]] = {k: [] for k in names}
    batch_runs: dict[str, list[float]] = {k: [] for k in names}

    def run_single(key: str) -> None:
        if key == "naive":
            naive(ids, torch.ones_like(ids))
        else:
            extractors[key].token_states(single, batch_size=1)

    def run_batch(key: str) -> None:
        if key == "naive":
            naive(batch_ids, batch_mask)
        else:
            extractors[key].token_states(batch, batch_size=BATCH)

    # Round-robin over the paths, so changes in machine load hit all of them alike.
    for key in names:
        run_single(key)  # warm-up
    for _ in range(args.reps):
        for key in names:
            single_runs[key].append(median_seconds(lambda: run_single(key), 1, warmup=0))
    for _ in range(max(2, args.reps // 2)):
        for key in names:
            batch_runs[key].append(median_seconds(lambda: run_batch(key), 1, warmup=0))

    reference = extractors["fp32"].token_states(batch, batch_size=BATCH)
    rows: list[Row] = []
    for key, name in names.items():
        rel = cosine = None
        if key != "naive":
            rel, cosine = errors(extractors[key].token_states(batch, batch_size=BATCH), reference)
        rows.append(Row(name, statistics.median(single_runs[key]) * 1000, BATCH / statistics.median(batch_runs[key]), rel, cosine))
        print(rows[-1], flush=True)

    load_after = os.getloadavg()
    write_table(rows, args.threads, load_before, load_after, time.perf_counter() - began)


def write_table(rows: list[Row], threads: int, load_before, load_after, seconds: float) -> None:
    baseline = rows[1]
    best = min(rows[2:], key=lambda r: r.single_ms)
    best_batch = max(rows, key=lambda r: r.batch_per_s)
    lines = [
        "## features: bge-m3 feature extraction on CPU",
        "",
        f"`python benchmarks/bench_features.py` - full-size bge-m3 shapes, RANDOM weights; layer {LAYER}; "
        f"{threads} threads; single = one {SENTENCE_TOKENS}-token sentence; batched = {BATCH} sentences of "
        f"{SENTENCE_TOKENS - 8}-{SENTENCE_TOKENS + 8} tokens per forward pass. Medians. Errors are relative "
        "(Frobenius) to fp32 on the same 16 sentences, and mean per-token cosine similarity.",
        "",
        "| path | ms / sentence (single) | x vs fp32 | sentences/s (batch 16) | rel. error | cosine |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        err = "-" if r.rel_error is None else f"{r.rel_error:.2%}"
        cos = "-" if r.cosine is None else f"{r.cosine:.4f}"
        lines.append(
            f"| {r.name} | {r.single_ms:.1f} | {baseline.single_ms / r.single_ms:.2f} | {r.batch_per_s:.1f} | {err} | {cos} |"
        )
    met_single = best.single_ms <= GOAL_SINGLE_MS
    met_batch = best_batch.batch_per_s >= GOAL_BATCH_PER_S
    lines += [
        "",
        f"- Fastest single-sentence path: **{best.name}**, {best.single_ms:.1f} ms "
        f"(goal <= {GOAL_SINGLE_MS:.0f} ms: {'met' if met_single else 'MISSED'} in this run).",
        f"- Best batched throughput: **{best_batch.name}**, {best_batch.batch_per_s:.1f} sentences/s "
        f"(goal >= {GOAL_BATCH_PER_S:.0f}/s: {'met' if met_batch else 'MISSED'} in this run).",
        f"- Load average (1/5/15 min) before: {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after: {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} on {os.cpu_count()} CPUs; "
        f"run took {seconds:.0f} s. On a busy machine absolute times are worse; compare the ratios.",
        "- Select a path with `FeatureExtractor(..., precision=\"int8\" | \"bf16\" | \"fp32\")` "
        "(`get_extractor(...)` for a shared instance).",
        "",
    ]
    out = ROOT / "benchmarks" / "results" / "features.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
