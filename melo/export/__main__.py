"""python -m melo.export --model checkpoints/NAME/G_latest.pth --out exported/NAME [--config CONFIG] [--no-int8]"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from melo.onnx.sessions import INSTALL_HINT


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m melo.export",
                                description="Export a trained voice and its text encoder to ONNX (see melo.export).")
    p.add_argument("--model", required=True, type=Path, help="generator checkpoint, e.g. checkpoints/NAME/G_latest.pth")
    p.add_argument("--out", required=True, type=Path, help="folder to write the graphs and melo-onnx.json into")
    p.add_argument("--config", type=Path, help="config file (optional: G_latest.pth carries its own); its "
                   "data.bert_model may point at a local copy of the encoder")
    p.add_argument("--no-int8", action="store_true", help="write the fp32 graphs only")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as e:
        print(f"error: the export needs the 'export' extra ({e.name} is missing): {INSTALL_HINT}", file=sys.stderr)
        return 2
    from melo.export import export_checkpoint
    from melo.export.verify import ExportCheckError

    try:
        report = export_checkpoint(args.model, args.out, config_path=args.config, int8=not args.no_int8)
    except ExportCheckError as e:
        print(f"error: the exported graphs do not match PyTorch: {e}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError, RuntimeError) as e:  # bad checkpoint/config, encoder unavailable
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(report.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
