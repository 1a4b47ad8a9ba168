"""One view of a state dict whatever weight-norm form wrote it.

A weight-normalised weight ``w = g * v / ||v||`` (norm over every dimension but the first) is stored as

* ``X.weight_g`` / ``X.weight_v`` (``torch.nn.utils.weight_norm``: MeloTTS's checkpoints),
* ``X.parametrizations.weight.original0`` / ``original1`` (``torch.nn.utils.parametrizations``: ours), or
* ``X.weight`` once folded (e.g. a model prepared for inference).

:func:`canonical` names every one of them ``X.weight`` (a :class:`WeightNorm` for the first two);
:func:`convert` turns a source entry into the form and shape a target entry has, and :func:`flatten` writes
canonical entries back under a module's own state-dict keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Union

import torch

__all__ = ["Entry", "WeightNorm", "canonical", "convert", "entry_shape", "flatten", "fits", "folded", "numel"]

_FORMS = ((".weight_g", ".weight_v"),
          (".parametrizations.weight.original0", ".parametrizations.weight.original1"))


@dataclass(frozen=True)
class WeightNorm:
    """A weight-normalised weight: magnitude ``g`` (out, 1, ...) and direction ``v``, stored under ``keys``."""

    g: torch.Tensor
    v: torch.Tensor
    keys: tuple[str, str]

    def fold(self) -> torch.Tensor:
        return self.v * (self.g / _norm_except_first(self.v))

    @classmethod
    def of_weight(cls, weight: torch.Tensor, like: "WeightNorm") -> "WeightNorm":
        """The weight-norm pair (in ``like``'s keys and g shape) whose folded weight is ``weight``."""
        g = _norm_except_first(weight).reshape(like.g.shape)
        return cls(g=g, v=weight.clone(), keys=like.keys)


Entry = Union[torch.Tensor, WeightNorm]


def canonical(state: Mapping[str, torch.Tensor]) -> dict[str, Entry]:
    """``state`` with each weight-norm pair as one :class:`WeightNorm` under ``X.weight`` (order kept)."""
    out: dict[str, Entry] = {}
    pairs: dict[str, dict[int, tuple[str, torch.Tensor]]] = {}
    for key, value in state.items():
        for form in _FORMS:
            part = next((i for i, suffix in enumerate(form) if key.endswith(suffix)), None)
            if part is not None:
                base = key[: -len(form[part])] + ".weight"
                pairs.setdefault(base, {})[part] = (key, value)
                out.setdefault(base, value)  # placeholder, keeps the order
                break
        else:
            out[key] = value
    for base, parts in pairs.items():
        if len(parts) != 2:  # half a pair: keep the tensor under its own name (it matches nothing)
            del out[base]
            for key, value in parts.values():
                out[key] = value
            continue
        (g_key, g), (v_key, v) = parts[0], parts[1]
        out[base] = WeightNorm(g=g, v=v, keys=(g_key, v_key))
    return out


def entry_shape(entry: Entry) -> tuple[int, ...]:
    """The shape of the (folded) weight."""
    return tuple((entry.v if isinstance(entry, WeightNorm) else entry).shape)


def numel(entry: Entry) -> int:
    """Stored elements (a weight-norm pair counts both tensors, as ``parameters()`` does)."""
    return entry.g.numel() + entry.v.numel() if isinstance(entry, WeightNorm) else entry.numel()


def folded(entry: Entry) -> torch.Tensor:
    return entry.fold() if isinstance(entry, WeightNorm) else entry


def fits(source: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Equal shapes, or equal but for trailing 1s (a Conv2d (k, 1) kernel and the Conv1d (k,) one)."""
    return source == target or (_strip_trailing_ones(source) == _strip_trailing_ones(target)
                                and math.prod(source) == math.prod(target))


def convert(source: Entry, target: Entry) -> Entry:
    """``source``'s values in ``target``'s form, shape, dtype and device (the shapes must :func:`fit`)."""
    if isinstance(target, WeightNorm):
        if isinstance(source, WeightNorm):
            return WeightNorm(g=_like(source.g, target.g), v=_like(source.v, target.v), keys=target.keys)
        return WeightNorm.of_weight(_like(source, target.v), target)
    return _like(folded(source), target)


def flatten(entries: Mapping[str, Entry]) -> dict[str, torch.Tensor]:
    """Canonical entries back under their state-dict keys (a :class:`WeightNorm` under its own two keys)."""
    out: dict[str, torch.Tensor] = {}
    for key, entry in entries.items():
        if isinstance(entry, WeightNorm):
            out[entry.keys[0]], out[entry.keys[1]] = entry.g, entry.v
        else:
            out[key] = entry
    return out


def _norm_except_first(w: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(w.float(), dim=tuple(range(1, w.dim())), keepdim=True).to(w.dtype)


def _like(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return value.detach().reshape(target.shape).to(dtype=target.dtype, device=target.device)  # load_state_dict copies


def _strip_trailing_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    while len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    return shape
