"""TorchScript traces for the CPU inference hot paths, accepted only when they provably match eager.

On 2 CPU cores the Python between PyTorch ops is a real cost for modules made of many small layers (bge-m3's
int8 forward for one sentence: ~33 ms of kernels and ~7 ms of Python; the flow: ~15% of its time). A trace
runs the same kernels without it. A trace records one input's path, so :func:`checked_trace` compares it with
eager on other shapes and batch layouts and returns None (run eagerly) unless every output is bit-identical,
or if tracing fails.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Any, Callable, Sequence

import torch

__all__ = ["as_module", "checked_trace"]

log = logging.getLogger(__name__)


def as_module(forward: Callable[..., Any], **modules: torch.nn.Module) -> torch.nn.Module:
    """An eval-mode module whose ``forward`` is ``forward(*inputs)`` and which owns ``modules`` (so a trace
    sees their parameters): how a function over positional tensors becomes traceable."""

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            for name, module in modules.items():
                self.add_module(name, module)

        def forward(self, *inputs: Any) -> Any:
            return forward(*inputs)

    return Wrapped().eval()


def checked_trace(
    module: torch.nn.Module,
    example: tuple[torch.Tensor, ...],
    probes: Sequence[tuple[torch.Tensor, ...]],
    what: str,
    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> torch.jit.ScriptModule | None:
    """Trace ``module`` on ``example`` under ``torch.inference_mode()`` and ``context()`` (e.g. an autocast,
    whose casts the trace then records: use it under the same precision only). Returns the trace if it gives
    exactly eager's outputs on every input of ``probes``, else None. ``module`` must be deterministic."""
    try:
        with torch.inference_mode(), context(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(module, example, check_trace=False)
            for probe in probes:
                if not _same(traced(*probe), module(*probe)):
                    log.info("%s: the trace disagrees with eager on other shapes; running eagerly", what)
                    return None
    except Exception as err:  # noqa: BLE001 - any tracing failure means: run eagerly
        log.info("%s: not traceable (%s); running eagerly", what, err)
        return None
    log.debug("%s: running as a checked trace", what)
    return traced


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return False
