"""``python -m melo.preprocess --config configs/config_bge_m3.json [--workers N] [--strict]``

Validates the filelists named in the config, fills the preprocessing caches and writes the manifests
the trainer reads. Each bad row is printed as ``LIST:LINE: reason`` on stderr (and kept in
``<cache>/report.txt``); a summary table follows. Exit status: 0 when at least one good training row
remains, 1 otherwise, 2 for fatal errors (bad config, too many speakers, ``--strict`` with bad rows).
"""

from __future__ import annotations

import argparse
import logging
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m melo.preprocess", description=__doc__.split("\n\n")[1])
    parser.add_argument("--config", required=True, help="config JSON (data.training_files, data.validation_files, ...)")
    parser.add_argument("--workers", type=int, default=1, help="processes for audio + text (default 1; fewer than 100 pending items stay in-process)")
    parser.add_argument("--strict", action="store_true", help="any bad or suspicious row is fatal (routine resampling and stereo mixing are not)")
    parser.add_argument("--device", default="cpu", help="device for the text encoder (default cpu)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from melo.config import ConfigError, load_config
    from melo.data.preprocess import DataError, prepare

    try:
        config = load_config(args.config)
        prepared = prepare(config, workers=args.workers, strict=args.strict, device=args.device, progress=not args.no_progress)
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    report = prepared.report
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary_table())
    print(f"cache: {prepared.cache_dir}  (report: {prepared.cache_dir / 'report.txt'}, config: {prepared.config_path})")
    if report.good["train"] == 0:
        print(f"error: no usable training rows in {config.data.training_files}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
