"""Initialising a run's networks from ``train.init_from`` / ``init_from_D`` / ``init_from_DUR``.

Each source is read (:mod:`melo.init.sources`), mapped onto its network (:mod:`melo.init.mapping`) and loaded;
the load reports are logged (the trainer's log goes to the console and the log file) and, on request, written
to a file. Then each report is checked against ``train.init_min_fraction``: a source that gave nothing, or
too little, stops the run.
"""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from melo.config import Config
from melo.files import write_bytes_atomic
from melo.init.errors import InitError
from melo.init.mapping import map_source
from melo.init.report import LoadReport
from melo.init.rows import table_row_names
from melo.init.sources import Source, read_discriminators, read_duration_discriminator, read_generator
from melo.model import Discriminators
from melo.text.symbols import SymbolTable

__all__ = ["initialise"]

logger = logging.getLogger(__name__)

REPORT_NAME = "init_report.txt"


def initialise(config: Config, generator: nn.Module, discriminators: Discriminators, symbols: SymbolTable,
               report_dir: Path | None = None) -> list[LoadReport]:
    """Load the configured sources into the (unwrapped) networks; returns their load reports (none configured:
    ``[]``). ``report_dir``: where to write ``init_report.txt`` (every tensor listed)."""
    t = config.train
    reports: list[LoadReport] = []
    if t.generator_init:
        source = read_generator(t.generator_init)
        rows = table_row_names(symbols, config.data.spk2id)
        mapped = map_source(generator, source, rows, t.init_speaker_map, t.allow_shape_mismatch)
        mapped.report.notes += _model_differences(source, config)
        generator.load_state_dict(mapped.state)
        reports.append(mapped.report)
    for source in _discriminator_sources(config, discriminators):
        module = discriminators.mpd if source.network == "discriminators" else discriminators.duration
        assert module is not None
        mapped = map_source(module, source, allow_shape_mismatch=t.allow_shape_mismatch)
        module.load_state_dict(mapped.state)
        reports.append(mapped.report)

    for report in reports:
        logger.info("load report\n%s", report.text())
    if reports and report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        text = "\n\n".join(r.text(limit=None) for r in reports) + "\n"
        write_bytes_atomic(report_dir / REPORT_NAME, text.encode("utf-8"))
    for report in reports:
        report.check(t.init_min_fraction)
    _warn_frozen_fresh(config, reports)
    return reports


def _discriminator_sources(config: Config, discriminators: Discriminators) -> list[Source]:
    t = config.train
    with_duration = discriminators.duration is not None
    sources = read_discriminators(t.discriminator_init, with_duration) if t.discriminator_init else []
    if t.init_from_DUR:
        if not with_duration:
            raise InitError("train.init_from_DUR is set but model.use_duration_discriminator is false")
        if any(s.network == "duration_discriminator" for s in sources):
            raise InitError(f"both train.init_from_D ({t.discriminator_init}) and train.init_from_DUR hold a duration "
                            f"discriminator; set only one")
        sources.append(read_duration_discriminator(t.init_from_DUR))
    return sources


def _model_differences(source: Source, config: Config) -> list[str]:
    """Model settings of ours that differ from the source's (same shapes may still compute differently)."""
    theirs = (source.trained_config or {}).get("model") or {}
    ours = config.to_dict()["model"]
    return [f"model.{k}: {theirs[k]!r} in the source, {ours[k]!r} here" for k in ours if k in theirs and theirs[k] != ours[k]]


def _warn_frozen_fresh(config: Config, reports: list[LoadReport]) -> None:
    generator = next((r for r in reports if r.network == "generator"), None)
    if generator is None:
        return
    for group in config.train.freeze:
        fresh = [o.name for o in generator.outcomes if o.group == group and o.kind in ("fresh", "resized")]
        if fresh:
            logger.warning("train.freeze keeps %s frozen, but %d of its tensors start (partly) fresh: %s", group,
                           len(fresh), ", ".join(fresh[:8]))
