"""Inspect how a sentence's encoder features were made (what to run when a sentence sounds wrong).

    python -m melo.features [--model NAME_OR_PATH] [--layer N] [--language X] TEXT
    python -m melo.features [--model NAME_OR_PATH] --coverage [FILE ...]

prints the token pieces, the phones, which tokens each phone's feature came from, the feature matrix
shape and the unknown-token count; ``--coverage`` prints the unknown-token rate on a built-in
multilingual sample (and on each FILE). ``--config`` takes the model and layer from a training config.
Exit status 1 with a message when the model cannot be loaded, 2 for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m melo.features", description=__doc__.splitlines()[0])
    parser.add_argument("text", nargs="*", help="the sentence (several words are joined with spaces)")
    parser.add_argument("--config", type=Path, help="take --model and --layer from this config's data section")
    parser.add_argument("--model", help="hub id or local folder (default: BAAI/bge-m3, or the config's)")
    parser.add_argument("--layer", type=int, help="hidden layer, negative from the last (default: -3, or the config's)")
    parser.add_argument("--language", help="KR, EN, ZH or JP: breaks ties the script leaves open")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "fp16", "bf16", "int8"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--coverage", nargs="*", type=Path, metavar="FILE", help="report the unknown-token rate instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from melo.features.loading import ModelUnavailableError

    model, layer = "BAAI/bge-m3", -3
    if args.config is not None:
        from melo.config import load_config

        data = load_config(args.config).data
        model, layer = data.bert_model, data.bert_layer
    model = args.model or model
    layer = layer if args.layer is None else args.layer

    if args.coverage is not None:
        from melo.features.coverage import main as coverage_main

        return coverage_main(["--model", model, *map(str, args.coverage)])

    text = " ".join(args.text).strip()
    if not text:
        print("error: give a TEXT to inspect (or --coverage)", file=sys.stderr)
        return 2
    try:
        from melo.features.extractor import get_extractor

        extractor = get_extractor(model, layer=layer, device=args.device, precision=args.precision)
    except ModelUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        from melo.text import phonemize

        phonemes = phonemize(text, args.language)
    except (ValueError, ImportError) as error:  # unknown language code, nothing to pronounce, missing G2P
        print(f"error: cannot phonemize {text!r}: {error}", file=sys.stderr)
        return 2
    explanation = extractor.explain(phonemes)
    features = extractor(phonemes)
    if tuple(features.shape) != explanation.feature_shape:  # internal invariant, reported loudly
        print(f"error: feature shape {tuple(features.shape)} != expected {explanation.feature_shape}", file=sys.stderr)
        return 3
    print(f"text: {text!r}")
    if phonemes.dropped:
        print(f"dropped (unreadable) characters: {''.join(phonemes.dropped)!r}")
    print(explanation.format())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
