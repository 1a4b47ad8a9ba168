"""Moving embedding rows by name: which row of a source table each row of ours starts from.

Every table has named rows on both sides: symbols (``"ᄀ"``, ``"AA"``), tones (``"EN:2"``: language and local
tone), languages (``"KR"``) and speakers (``"alice"``). :class:`RowNames` holds the names of one side;
:func:`plan_rows` pairs them up, through a renaming of our names into the source's (MeloTTS spells some
phones differently) and, for speakers, the user's explicit choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch

from melo.init.layout import RowKind
from melo.text.symbols import SymbolTable

__all__ = ["RowNames", "RowPlan", "apply_rows", "plan_rows", "table_row_names"]


@dataclass(frozen=True)
class RowNames:
    """Row names of the four tables of one model (name -> row)."""

    symbols: dict[str, int]
    tones: dict[str, int]
    languages: dict[str, int]
    speakers: dict[str, int]

    def of(self, kind: RowKind) -> dict[str, int]:
        return getattr(self, kind)


def table_row_names(table: SymbolTable, spk2id: Mapping[str, int]) -> RowNames:
    """The row names of a model trained with ``table`` and ``spk2id`` (ours, or one in our format)."""
    tones = {f"{lang}:{t}": table.tone_id(lang, t) for lang in table.languages for t in range(table.num_tones[lang])}
    return RowNames(symbols={s: i for i, s in enumerate(table.symbols)}, tones=tones,
                    languages={lang: i for i, lang in enumerate(table.languages)}, speakers=dict(spk2id))


@dataclass
class RowPlan:
    """Our rows and the source rows they copy; the rest of ours start fresh, the rest of the source's are dropped."""

    kind: RowKind
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (our row, source row)
    fresh: list[str] = field(default_factory=list)  # our names without a source row
    dropped: list[str] = field(default_factory=list)  # source names no row of ours takes
    renamed: list[str] = field(default_factory=list)  # "ours <- source" where the names differ

    def describe(self) -> str:
        text = f"{len(self.pairs)} rows by {self.kind[:-1]} name"
        if self.renamed:
            text += f" ({_listing(self.renamed)})"
        if self.fresh:
            text += f"; fresh: {_listing(self.fresh)}"
        if self.dropped:
            text += f"; source rows unused: {_listing(self.dropped)}"
        return text


def plan_rows(kind: RowKind, ours: Mapping[str, int], source: Mapping[str, int],
              source_name: Callable[[str], str | None] = lambda name: name) -> RowPlan:
    """Pair each of ``ours`` with the source row named ``source_name(name)`` (None: no counterpart). Rows no
    name reaches (speaker ids not in use) keep their fresh values and are not listed."""
    plan = RowPlan(kind)
    used: set[str] = set()
    for name, row in ours.items():
        wanted = source_name(name)
        if wanted is not None and wanted in source:
            plan.pairs.append((row, source[wanted]))
            used.add(wanted)
            if wanted != name:
                plan.renamed.append(f"{name} <- {wanted}")
        else:
            plan.fresh.append(name)
    plan.dropped = [name for name in source if name not in used]
    return plan


def apply_rows(target: torch.Tensor, source: torch.Tensor, plan: RowPlan) -> torch.Tensor:
    """A copy of ``target`` with the planned rows taken from ``source``."""
    out = target.detach().clone()
    if plan.pairs:
        ours, theirs = (torch.tensor(side, dtype=torch.long) for side in zip(*plan.pairs))
        out[ours.to(out.device)] = source.detach()[theirs.to(source.device)].to(dtype=out.dtype, device=out.device)
    return out


def _listing(names: list[str], limit: int = 12) -> str:
    shown = " ".join(names[:limit])
    return shown + (f" ... (+{len(names) - limit} more)" if len(names) > limit else "")
