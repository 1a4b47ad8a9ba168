"""Bit-exact synthesis check across a refactoring: record what every synthesis path outputs, compare later.

    python benchmarks/synthesis_golden.py record [--out FILE]      # on the commit before the change
    python benchmarks/synthesis_golden.py compare [--golden FILE]  # on the commit after it

Each case builds a generator from a fixed seed (the tiny config, the tiny config with a decoder wide enough
for the int8 stages, and the full config), makes its flow couplings and spline projections non-trivial, and
synthesises fixed id/feature inputs (two sentence lengths, each twice, so the second call runs on the built
caches; and one ragged batch of two) through every path ``melo.api.TTS`` can take:

* ``module`` -- the plain model's ``infer`` (weight norm live; what validation during training runs; since the
  CPU runtime moved out of the model it no longer pads to length buckets, and its output stayed bit-identical);
* ``fp32``, ``auto``, ``int8`` -- ``TTS(precision=...)``'s engine (weight norm folded, packed/traced runners);
* ``bf16`` -- every part asked for bf16 (on CPUs without bf16 units: the autocast fallbacks).

The record holds a SHA-256 of each output's bytes (audio and durations) and of the weights, so ``compare``
says bit-identical or names each path that changed (and exits 1). The text frontend and the feature extractor are not
involved (fixed ids and features), so the check covers the model and its inference runtime only.
Bit-identity holds on one machine (CPU kernels differ between instruction sets); record and compare on the
same one, with the same thread count (1 here).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from melo.config import Config, load_config  # noqa: E402
from melo.model import build_generator  # noqa: E402
from melo.text.symbols import DEFAULT_TABLE  # noqa: E402

DEFAULT_FILE = ROOT / "benchmarks" / "results" / "synthesis_golden.json"
TEXT_LENGTHS = (13, 37)
SPEAKER = 1
KNOBS = dict(noise_scale=0.6, noise_scale_w=0.8, length_scale=1.0, sdp_ratio=0.2)


def cases() -> dict[str, Config]:
    tiny = load_config(ROOT / "configs" / "tiny.json")
    return {
        "tiny": tiny,
        "tiny-wide": tiny.replace(model={"upsample_initial_channel": 128}),  # stages of 64+ channels: int8 ones
        "full": load_config(ROOT / "configs" / "config_bge_m3.json"),
    }


class _Features:
    """Stands in for the feature extractor: the engine only asks for its width."""

    def __init__(self, hidden_size: int) -> None:
        self.hidden_size = hidden_size


def _model(config: Config) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_generator(config, DEFAULT_TABLE).eval()
    with torch.no_grad():  # fresh couplings and spline projections are the identity: make them matter
        for coupling in model.flow.flows:
            coupling.post.weight.normal_(std=0.1)
        for spline_coupling in _sdp(model).flows[1::2]:
            spline_coupling.proj.weight.normal_(std=0.1)
    return model


def _sdp(model: torch.nn.Module) -> torch.nn.Module:
    return getattr(model, "stochastic_duration_predictor", None) or model.sdp


def _inputs(config: Config, lengths: tuple[int, ...], seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    b, t = len(lengths), max(lengths)
    phone_ids = torch.randint(1, DEFAULT_TABLE.n_symbols, (b, t), generator=g)
    phone_ids[:, ::2] = 0
    tone_ids = torch.randint(0, DEFAULT_TABLE.n_tones, (b, t), generator=g)
    language_ids = torch.randint(0, DEFAULT_TABLE.n_languages, (b, t), generator=g)
    features = torch.randn(b, config.model.bert_channels, t, generator=g)
    speakers = torch.full((b,), SPEAKER)
    return phone_ids, tone_ids, language_ids, features, speakers, torch.tensor(lengths)


def _digest(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def _weights_digest(model: torch.nn.Module) -> str:
    """Over the parameter values in registration order (names left out: a rename must not change it)."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().contiguous().numpy().tobytes())
    return h.hexdigest()


def _engine_infer(config: Config, precision: str | None):
    """A callable ``infer(*inputs)`` for one path: the plain model (None) or a TTS engine at ``precision``."""
    model = _model(config)
    if precision is None:
        return lambda *inputs: model.infer(*inputs, **KNOBS)
    from melo.api import TTS

    if precision != "bf16":
        tts = TTS.from_components(model, _Features(config.model.bert_channels), config, device="cpu",
                                  precision=precision)
    try:
        from melo.runtime.engine import InferenceEngine
        from melo.runtime.precision import PrecisionPolicy
    except ImportError:  # before the refactoring: the model took the dtypes per call
        if precision == "bf16":
            tts = TTS.from_components(model, _Features(config.model.bert_channels), config, device="cpu")
            dtypes = dict(decoder_dtype=torch.bfloat16, flow_dtype=torch.bfloat16, text_dtype=torch.bfloat16)
        else:
            dtypes = dict(decoder_dtype=tts._decoder_dtype, flow_dtype=tts._flow_dtype, text_dtype=tts._text_dtype)
        return lambda *inputs: tts.model.infer(*inputs, **KNOBS, **dtypes)
    if precision == "bf16":
        bf16 = PrecisionPolicy(decoder=torch.bfloat16, flow=torch.bfloat16, text=torch.bfloat16)
        engine = InferenceEngine(model, "cpu", bf16)
    else:
        engine = tts.engine
    return lambda *inputs: engine.infer(*inputs, **KNOBS)


def record_all() -> dict[str, Any]:
    torch.set_num_threads(1)
    out: dict[str, Any] = {}
    for name, config in cases().items():
        out[name] = {"weights": _weights_digest(_model(config))}
        for path in ("module", "fp32", "auto", "int8", "bf16"):
            infer = _engine_infer(config, None if path == "module" else path)
            runs = [(f"len{n}-call{call}", (n,), 10 + n) for n in TEXT_LENGTHS for call in (1, 2)]
            runs.append(("ragged-batch", (TEXT_LENGTHS[1], TEXT_LENGTHS[0]), 99))
            results = {}
            for label, lengths, seed in runs:
                inputs = _inputs(config, lengths, seed)
                torch.manual_seed(seed)
                with torch.inference_mode():
                    result = infer(*inputs)
                results[label] = {
                    "audio": _digest(result.audio), "durations": _digest(result.durations),
                    "samples": int(result.audio.shape[-1]), "l2": float(torch.linalg.vector_norm(result.audio)),
                }
            out[name][path] = results
            print(f"{name:>9} {path:>6}: " + ", ".join(f"{k} {v['samples']}" for k, v in results.items()), flush=True)
    return out


def compare(golden: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """Each output of ``now`` whose audio or durations are not bit-identical to ``golden``'s, in words."""
    differences = []
    for case, paths in golden.items():
        if now[case]["weights"] != paths["weights"]:
            differences.append(f"{case}: the weights differ (initialisation order or the symbol table changed?)")
        for path, runs in paths.items():
            if path == "weights":
                continue
            for label, want in runs.items():
                have = now[case][path][label]
                for key in ("audio", "durations"):
                    if have[key] != want[key]:
                        differences.append(f"{case} {path} {label}: {key} differ (L2 {want['l2']:.6f} -> "
                                           f"{have['l2']:.6f}, samples {want['samples']} -> {have['samples']})")
    return differences


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("record").add_argument("--out", type=Path, default=DEFAULT_FILE)
    sub.add_parser("compare").add_argument("--golden", type=Path, default=DEFAULT_FILE)
    args = p.parse_args(argv)
    now = record_all()
    if args.command == "record":
        args.out.write_text(json.dumps(now, indent=1) + "\n", encoding="utf-8")
        print(f"recorded {args.out}")
        return 0
    differences = compare(json.loads(args.golden.read_text(encoding="utf-8")), now)
    for line in differences:
        print("DIFFERENT", line)
    n = sum(len(runs) for paths in now.values() for k, runs in paths.items() if k != "weights")
    print(f"{n - len(differences)}/{n} outputs bit-identical to {args.golden}" if not differences
          else f"{len(differences)} differences against {args.golden}")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
