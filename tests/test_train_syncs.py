"""The training step reads nothing back from the device: on a GPU each such read (``.item()``, ``bool()``,
``.tolist()``, ``nonzero``, boolean-mask indexing) makes the host wait for the whole queue. Counted on CPU at
the dispatcher, where the same calls show up."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from melo.config import load_config
from melo.model import build_discriminators, build_generator
from melo.text.symbols import DEFAULT_TABLE
from melo.train.skips import SkipTracker
from melo.train.step import make_optimizers, train_step
from model_helpers import random_batch

pytestmark = pytest.mark.usefixtures("one_thread")

READS = {"aten._local_scalar_dense.default", "aten.nonzero.default", "aten.masked_select.default",
         "aten.unique_consecutive.default", "aten._unique2.default"}


class HostReads(TorchDispatchMode):
    """Records every op that would make the host wait for a GPU."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        name = str(func)
        if name.startswith(("aten.index.Tensor", "aten.index_put")):
            if any(t is not None and t.dtype == torch.bool for t in args[1]):
                self.seen.append(f"{name} with a boolean mask")
        elif name in READS:
            self.seen.append(name)
        return func(*args, **(kwargs or {}))


@pytest.fixture()
def host_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostReads]:
    mode = HostReads()
    for method in ("tolist", "numpy", "cpu"):  # Python-level reads that do not reach the dispatcher on CPU
        real = getattr(torch.Tensor, method)

        def counted(self: torch.Tensor, *args: Any, _real: Any = real, _name: str = method, **kwargs: Any) -> Any:
            mode.seen.append(f"Tensor.{_name}")
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, method, counted)
    yield mode


def test_the_counter_sees_reads_in_forward_and_backward(host_reads: HostReads) -> None:
    x = torch.ones(3, requires_grad=True)
    x.register_hook(lambda grad: grad if bool(grad.sum() > 0) else grad)
    with host_reads:
        y = (x * 2).sum()
        y.item()
        y.backward()
        x[x > 0].sum().tolist()
    assert host_reads.seen == ["aten._local_scalar_dense.default", "aten._local_scalar_dense.default",
                               "aten.index.Tensor with a boolean mask", "Tensor.tolist"]


@pytest.mark.parametrize("fp16_scaler", [False, True], ids=["fp32", "fp16-gradscaler"])
def test_training_step_and_skip_counting_read_nothing_back(host_reads: HostReads, fp16_scaler: bool) -> None:
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    gen, discs = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    opts = make_optimizers(gen, discs, config)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, enabled=fp16_scaler)
    tracker = SkipTracker(list(opts.by_name()), torch.device("cpu"), limit=5)
    b = random_batch(config, DEFAULT_TABLE, 2, 31, 40, torch.Generator().manual_seed(0))
    for step in range(2):  # the second step runs with every optimiser's state in place
        with host_reads:
            result = train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, step, scaler=scaler)
            tracker.update(result.skipped_updates)
            result.scalars(config)
    assert host_reads.seen == []
    assert tracker.check(step=2).steps == 0  # the one read, when the loop logs
