"""Per-optimiser skips in the training step (GradScaler's rule, decided on the device) and the tracker that
stops a run after ``train.max_consecutive_skips`` skipped updates in a row."""

from __future__ import annotations

import pytest
import torch

from melo.config import load_config
from melo.model import build_discriminators, build_generator
from melo.text.symbols import DEFAULT_TABLE
from melo.train import TrainingError
from melo.train.skips import SkipTracker
from melo.train.step import make_optimizers, step_unless, train_step
from model_helpers import random_batch

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def config():
    return load_config("configs/tiny.json")


def _overflow_gradients(module: torch.nn.Module) -> None:
    """Every backward through ``module`` leaves an inf in one of its gradients (an fp16-style overflow)."""
    first = next(p for p in module.parameters() if p.requires_grad)
    first.register_hook(lambda grad: torch.full_like(grad, float("inf")))


def _snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def _unchanged(module: torch.nn.Module, before: list[torch.Tensor]) -> bool:
    return all(torch.equal(p.detach(), b) for p, b in zip(module.parameters(), before))


def _steps(optimizer: torch.optim.Optimizer) -> set[float]:
    return {float(s["step"]) for s in optimizer.state.values()}


@pytest.mark.parametrize("fp16_scaler", [False, True], ids=["fp32", "fp16-gradscaler"])
def test_overflow_in_one_optimiser_skips_only_that_update(config, fp16_scaler: bool) -> None:
    torch.manual_seed(0)
    gen, discs = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    opts = make_optimizers(gen, discs, config)
    b = random_batch(config, DEFAULT_TABLE, 2, 31, 40, torch.Generator().manual_seed(0))
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16, enabled=fp16_scaler)
    train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, 0, scaler=scaler)  # every optimiser has state
    assert _steps(opts.mpd) == _steps(opts.generator) == {1.0}

    _overflow_gradients(discs.mpd)
    mpd_before, gen_before = _snapshot(discs.mpd), _snapshot(gen)
    moments_before = [s["exp_avg"].clone() for s in opts.mpd.state.values()]
    result = train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, 1, scaler=scaler)

    assert {k: bool(v) for k, v in result.skipped_updates.items()} == {"D": True, "DUR": False, "G": False}
    assert result.skipped  # the any-update view the log uses
    assert _unchanged(discs.mpd, mpd_before)  # the overflowing update changed nothing ...
    assert all(torch.equal(s["exp_avg"], m) for s, m in zip(opts.mpd.state.values(), moments_before))
    assert _steps(opts.mpd) == {1.0}  # ... not even AdamW's step count
    assert not _unchanged(gen, gen_before) and _steps(opts.generator) == {2.0}  # the generator trained
    assert not bool(torch.isfinite(result.grad_norms["d"])) and bool(torch.isfinite(result.grad_norms["g"]))
    if fp16_scaler:
        assert scaler.get_scale() == 2.0**15  # backed off once for the step, as GradScaler does


def test_step_unless_decides_on_the_device_for_fused_and_plain_optimisers() -> None:
    for fused in (True, False):
        layer = torch.nn.Linear(2, 1)
        opt = torch.optim.AdamW(layer.parameters(), lr=0.1, fused=fused)
        layer(torch.ones(1, 2)).sum().backward()
        before = _snapshot(layer)
        step_unless(opt, torch.tensor(True))
        assert _unchanged(layer, before) and _steps(opt) <= {0.0}
        step_unless(opt, torch.tensor(False))
        assert not _unchanged(layer, before) and _steps(opt) == {1.0}
        assert not hasattr(opt, "found_inf")  # GradScaler's attributes are not left behind


def _flags(**skipped: bool) -> dict[str, torch.Tensor]:
    return {name: torch.tensor(value) for name, value in skipped.items()}


def test_tracker_counts_on_the_device_and_stops_after_k_in_a_row() -> None:
    tracker = SkipTracker(["G", "D"], torch.device("cpu"), limit=3)
    for d in (True, True, False, True, True):  # runs of 2: under the limit
        tracker.update(_flags(G=False, D=d))
    counts = tracker.check(step=5)
    assert counts.per_optimizer == {"G": 0, "D": 4} and counts.steps == 4 and counts.longest_run["D"] == 2
    tracker.stop_if_stuck(counts)
    tracker.update(_flags(G=True, D=True))  # D's run reaches 3 across the check
    counts = tracker.check(step=6)
    assert counts.longest_run == {"G": 1, "D": 3}
    with pytest.raises(TrainingError, match=r"D \(3 in a row\).*max_consecutive_skips=3"):
        tracker.stop_if_stuck(counts)


def test_tracker_resumes_from_checkpointed_totals() -> None:
    tracker = SkipTracker(["G", "D", "DUR"], torch.device("cpu"), limit=5, step=100, steps=7,
                          per_optimizer={"G": 2, "D": 6})
    tracker.update(_flags(G=False, D=True, DUR=False))
    before = tracker.reported
    counts = tracker.check(step=101)
    assert counts.steps == 8 and counts.per_optimizer == {"G": 2, "D": 7, "DUR": 0}
    assert counts.since(before) == {"D": 1} and tracker.reported_step == 101
    with pytest.raises(KeyError, match="DUR"):
        tracker.update(_flags(G=False, D=False))
