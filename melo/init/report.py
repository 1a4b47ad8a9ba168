"""The load report: for every tensor of a network, whether it came from the source and why not.

Kinds, per tensor of ours (and per source tensor nothing took):

``loaded``   every element from the source (rows of an embedding table possibly reordered by name)
``resized``  an embedding table partly from the source: rows moved by name, the others fresh
``fresh``    the model's own initialisation (not in the source, a shape that differs, or a rule's choice)
``dropped``  a source tensor with no place in this model

:meth:`LoadReport.table` counts tensors and parameters per group; :meth:`LoadReport.details` says why, one
line per reason. The share of parameters that came from the source is what ``train.init_min_fraction``
is checked against (:meth:`LoadReport.check`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from melo.init.errors import InitError
from melo.init.layout import Network

__all__ = ["KINDS", "LoadReport", "Outcome"]

Kind = Literal["loaded", "resized", "fresh", "dropped"]
KINDS: tuple[Kind, ...] = ("loaded", "resized", "fresh", "dropped")


@dataclass(frozen=True)
class Outcome:
    name: str  # our key; a dropped tensor: the source's key
    group: str
    kind: Kind
    parameters: int  # elements of our tensor (dropped: of the source's)
    copied: int = 0  # elements taken from the source
    reason: str = ""  # the cause, shared by the tensors it applies to
    detail: str = ""  # this tensor's specifics (shapes, rows)


@dataclass
class LoadReport:
    """What initialising one network from one source did."""

    network: Network
    source: str
    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def parameters(self) -> int:
        """Parameters of the network (dropped source tensors are not ours)."""
        return sum(o.parameters for o in self.outcomes if o.kind != "dropped")

    @property
    def copied(self) -> int:
        return sum(o.copied for o in self.outcomes)

    @property
    def fraction(self) -> float:
        return self.copied / self.parameters if self.parameters else 0.0

    def count(self, kind: Kind, group: str | None = None) -> int:
        """Tensors of ``kind`` (in ``group``)."""
        return sum(1 for o in self.outcomes if o.kind == kind and (group is None or o.group == group))

    def groups(self) -> list[str]:
        return list(dict.fromkeys(o.group for o in self.outcomes))

    def table(self) -> str:
        """Per group: tensors loaded/resized/fresh/dropped, and parameters from the source, fresh, dropped."""
        head = (f"{'group':<22}{'loaded':>8}{'resized':>8}{'fresh':>7}{'dropped':>8}  |"
                f"{'params loaded':>15}{'fresh':>12}{'dropped':>12}")
        lines = [f"initialised the {self.network.replace('_', ' ')} from {self.source}", head, "-" * len(head)]
        for group in [*self.groups(), None]:
            rows = [o for o in self.outcomes if group is None or o.group == group]
            counts = "".join(f"{sum(1 for o in rows if o.kind == k):>{w}}" for k, w in zip(KINDS, (8, 8, 7, 8)))
            ours = [o for o in rows if o.kind != "dropped"]
            copied = sum(o.copied for o in rows)
            fresh = sum(o.parameters for o in ours) - copied
            dropped = sum(o.parameters for o in rows if o.kind == "dropped")
            if group is None:
                lines.append("-" * len(head))
            lines.append(f"{group or 'total':<22}{counts}  |{copied:>15,}{fresh:>12,}{dropped:>12,}")
        lines.append(f"{self.copied:,} of {self.parameters:,} parameters ({100 * self.fraction:.1f}%) came from the "
                     f"source")
        return "\n".join(lines)

    def details(self, limit: int | None = 8) -> str:
        """Every tensor that did not simply load, one line per (kind, reason); ``limit`` names per line."""
        by_reason: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            if o.kind != "loaded" or o.detail:
                by_reason[(o.kind, o.reason)].append(o)
        lines = [f"note: {n}" for n in self.notes]
        for (kind, reason), items in by_reason.items():
            shown = items if limit is None else items[:limit]
            names = "; ".join(f"{o.name} ({o.detail})" if o.detail else o.name for o in shown)
            more = f"; ... and {len(items) - len(shown)} more" if len(items) > len(shown) else ""
            lines.append(f"{kind} {len(items)}{f' [{reason}]' if reason else ''}: {names}{more}")
        return "\n".join(lines)

    def text(self, limit: int | None = 8) -> str:
        details = self.details(limit)
        return self.table() + ("\n" + details if details else "")

    def check(self, min_fraction: float) -> None:
        """Refuse a source that gave nothing, or less than ``min_fraction`` of the network's parameters."""
        if self.copied == 0:
            raise InitError(f"nothing of the {self.network.replace('_', ' ')} was initialised from {self.source}: "
                            f"no tensor name and shape fit this model (see the load report above); training it "
                            f"would train a random model under a pretrained name")
        if self.fraction < min_fraction:
            raise InitError(f"only {100 * self.fraction:.1f}% of the {self.network.replace('_', ' ')}'s parameters came "
                            f"from {self.source}, below train.init_min_fraction = {min_fraction:g} (see the load "
                            f"report above); lower it to train anyway")
