"""The command line of ``python -m melo.train``: :class:`Args` and :func:`parse_args`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

__all__ = ["Args", "parse_args"]

DESCRIPTION = "Train the VITS2 generator against its discriminators."


@dataclass(frozen=True)
class Args:
    config: Path
    model: str
    resume: bool = False
    max_steps: int | None = None
    device: str = "auto"
    workers: int | None = None
    checkpoints_dir: Path = Path("checkpoints")
    logs_dir: Path = Path("logs")
    dry_run: bool = False

    @property
    def checkpoint_dir(self) -> Path:
        """``checkpoints/NAME``: this run's checkpoint folder."""
        return self.checkpoints_dir / self.model


def parse_args(argv: Sequence[str] | None = None) -> Args:
    p = argparse.ArgumentParser(prog="python -m melo.train", description=DESCRIPTION)
    p.add_argument("--config", "-c", type=Path, required=True, help="config JSON (e.g. configs/config_bge_m3.json)")
    p.add_argument("--model", "-m", required=True, help="run name: checkpoints/NAME, logs/NAME")
    p.add_argument("--resume", action="store_true", help="continue from the newest complete checkpoint")
    p.add_argument("--max-steps", type=int, default=None, help="stop when the global step reaches N")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--workers", type=int, default=None,
                   help="DataLoader workers per rank and preprocessing processes (default: train.num_workers)")
    p.add_argument("--checkpoints-dir", type=Path, default=Path("checkpoints"), help="parent of checkpoints/NAME")
    p.add_argument("--logs-dir", type=Path, default=Path("logs"), help="parent of logs/NAME and the log files")
    p.add_argument("--dry-run", action="store_true",
                   help="set up as training would, run one step on each of the heaviest batches, print the peak "
                        "memory and exit (writes no checkpoint or log)")
    ns = p.parse_args(argv)
    if not ns.model.strip() or ns.model.strip() in (".", "..") or "/" in ns.model or "\0" in ns.model:
        p.error(f"--model must be a run name (a folder name under --checkpoints-dir), got {ns.model!r}")
    if ns.max_steps is not None and ns.max_steps <= 0:
        p.error("--max-steps must be > 0")
    if ns.workers is not None and ns.workers < 0:
        p.error("--workers must be >= 0")
    return Args(config=ns.config, model=ns.model, resume=ns.resume, max_steps=ns.max_steps, device=ns.device,
                workers=ns.workers, checkpoints_dir=ns.checkpoints_dir, logs_dir=ns.logs_dir, dry_run=ns.dry_run)
