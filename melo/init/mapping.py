"""Mapping one source's tensors onto one network: the state dict to load and the report of what it holds.

Source keys are first put in our naming (MeloTTS's through :data:`melo.init.layout.MELOTTS_KEYS`; ours are
already) and both sides in one weight-norm view (:mod:`melo.init.weightnorm`). Then, per tensor of ours:

* an embedding table of :data:`~melo.init.layout.ROW_TABLES`: rows by name (:mod:`melo.init.rows`);
* a tensor a :data:`~melo.init.layout.ZERO` rule names: zeros;
* a tensor the source has in a fitting shape: the source's values, in our form, dtype and device;
* a shape that differs: an error listing every such tensor, or fresh with ``train.allow_shape_mismatch``;
* a tensor the source lacks: fresh (the model's own initialisation).

Source tensors nothing took are reported as dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import torch
from torch import nn

from melo.init import weightnorm as wn
from melo.init.errors import InitError
from melo.init.layout import ROW_TABLES, KeyRule, Network, group_of, map_key
from melo.init.melotts import melotts_symbol
from melo.init.report import LoadReport, Outcome
from melo.init.rows import RowNames, apply_rows, plan_rows
from melo.init.sources import Source

__all__ = ["MappedState", "map_source"]

SHOWN_MISMATCHES = 20
SHAPE_DIFFERS = "shape differs (train.allow_shape_mismatch)"


@dataclass
class MappedState:
    state: dict[str, torch.Tensor]  # the network's full state dict, ready for ``load_state_dict``
    report: LoadReport


def map_source(module: nn.Module, source: Source, rows: RowNames | None = None,
               speaker_map: Mapping[str, str] | None = None, allow_shape_mismatch: bool = False) -> MappedState:
    """Map ``source`` onto ``module`` (``rows``: the names of the module's embedding rows, for a generator)."""
    network = source.network
    renamed = _in_our_naming(source)
    report = LoadReport(network=network, source=source.label, notes=list(source.notes))
    mapped: dict[str, wn.Entry] = {}
    renamers = _row_renamers(source, rows, speaker_map)
    for key, ours in wn.canonical(module.state_dict()).items():
        group, size = group_of(network, key), wn.numel(ours)
        theirs = renamed.kept.get(key)
        zero_rule = renamed.zeroed.get(key)
        row_kind = ROW_TABLES.get(key) if network == "generator" else None
        if zero_rule is not None:
            mapped[key] = _zeros_like(ours)
            outcome = Outcome(key, group, "fresh", size, reason=zero_rule.note)
        elif theirs is None:
            mapped[key] = ours
            outcome = Outcome(key, group, "fresh", size, reason="not in the source")
        elif row_kind is not None and rows is not None and source.row_names is not None and _same_rows(theirs, ours):
            plan = plan_rows(row_kind, rows.of(row_kind), source.row_names.of(row_kind), renamers[row_kind])
            mapped[key] = apply_rows(ours, theirs, plan)  # type: ignore[arg-type]
            filled = len({ours_row for ours_row, _ in plan.pairs})
            outcome = Outcome(key, group, "loaded" if filled == wn.entry_shape(ours)[0] else "resized", size,
                              filled * size // wn.entry_shape(ours)[0], reason=f"{row_kind[:-1]} rows by name",
                              detail=plan.describe())
        elif wn.fits(wn.entry_shape(theirs), wn.entry_shape(ours)):
            mapped[key] = wn.convert(theirs, ours)
            outcome = Outcome(key, group, "loaded", size, size)
        else:
            mapped[key] = ours
            outcome = Outcome(key, group, "fresh", size, reason=SHAPE_DIFFERS,
                              detail=f"source {wn.entry_shape(theirs)} vs model {wn.entry_shape(ours)}")
        report.outcomes.append(outcome)

    for key, entry in renamed.kept.items():
        if key not in mapped:
            report.outcomes.append(Outcome(key, _source_group(network, key), "dropped", wn.numel(entry),
                                           reason="not in this model"))
    for key, (entry, rule) in renamed.dropped.items():
        report.outcomes.append(Outcome(key, rule.group or _source_group(network, key), "dropped", wn.numel(entry),
                                       reason=rule.note))
    mismatches = [f"{o.name}: {o.detail}" for o in report.outcomes if o.reason == SHAPE_DIFFERS]
    if mismatches and not allow_shape_mismatch:
        shown = "\n  ".join(mismatches[:SHOWN_MISMATCHES])
        more = f"\n  ... and {len(mismatches) - SHOWN_MISMATCHES} more" if len(mismatches) > SHOWN_MISMATCHES else ""
        raise InitError(
            f"{len(mismatches)} tensors of the {network.replace('_', ' ')} differ in shape from {source.label} (is the "
            f"model section of the config the one the source was trained with?):\n  {shown}{more}\n"
            f"set train.allow_shape_mismatch to start those tensors fresh instead")
    return MappedState(state=wn.flatten(mapped), report=report)


def _same_rows(theirs: wn.Entry, ours: wn.Entry) -> bool:
    """Two plain tables whose rows have the same shape (any number of rows)."""
    return (isinstance(theirs, torch.Tensor) and isinstance(ours, torch.Tensor) and theirs.dim() == ours.dim()
            and theirs.shape[1:] == ours.shape[1:])


@dataclass
class _Renamed:
    """A source's tensors in our naming."""

    kept: dict[str, wn.Entry]  # our key -> entry
    zeroed: dict[str, KeyRule]  # our key -> the ZERO rule naming it
    dropped: dict[str, tuple[wn.Entry, KeyRule]]  # the source's key -> entry and the rule dropping it


def _in_our_naming(source: Source) -> _Renamed:
    entries = wn.canonical(source.state)
    if source.format != "melotts":
        return _Renamed(entries, {}, {})
    out = _Renamed({}, {}, {})
    for key, entry in entries.items():
        ours, rule = map_key(source.network, key)
        if ours is None:
            assert rule is not None
            out.dropped[key] = (entry, rule)
        elif rule is not None:
            out.zeroed[ours] = rule
        else:
            out.kept[ours] = entry
    return out


def _row_renamers(source: Source, rows: RowNames | None, speaker_map: Mapping[str, str] | None
                  ) -> dict[str, Callable[[str], str | None]]:
    """Per table: our row name -> the source's name for it."""
    speaker_map = dict(speaker_map or {})
    if speaker_map and rows is not None and source.row_names is not None:
        unknown_ours = sorted(set(speaker_map) - set(rows.speakers))
        if unknown_ours:
            raise InitError(f"train.init_speaker_map names {', '.join(unknown_ours)}, not a speaker of this run "
                            f"(its speakers: {', '.join(rows.speakers) or 'none'})")
        unknown_theirs = sorted(set(speaker_map.values()) - set(source.row_names.speakers))
        if unknown_theirs:
            known = list(source.row_names.speakers)
            shown = ", ".join(known[:20]) + (" ..." if len(known) > 20 else "")
            raise InitError(f"train.init_speaker_map: {', '.join(unknown_theirs)} is not a speaker of {source.label} "
                            f"(its speakers: {shown or 'none'})")
    same: Callable[[str], str | None] = lambda name: name  # noqa: E731
    return {
        "symbols": melotts_symbol if source.format == "melotts" else same,
        "tones": same,
        "languages": same,
        "speakers": lambda name: speaker_map.get(name, name),
    }


def _zeros_like(entry: wn.Entry) -> wn.Entry:
    if isinstance(entry, wn.WeightNorm):
        raise InitError("internal: a ZERO rule names a weight-normalised tensor")  # no rule does
    return torch.zeros_like(entry)


def _source_group(network: Network, key: str) -> str:
    """The group of a source tensor that has no counterpart here (by its name, when it reads as ours)."""
    try:
        return group_of(network, key)
    except ValueError:
        return "(not in this model)"
