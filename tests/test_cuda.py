"""Checks that need a CUDA GPU: the training step in fp16/bf16 without host synchronisation, the alignment
search on the GPU, native-bf16 detection. Deselected unless ``pytest --cuda`` (``scripts/gpu_check.sh`` runs
them); with ``--cuda`` and no GPU they fail, saying so."""

from __future__ import annotations

import contextlib
from typing import Iterator

import pytest
import torch

from melo.config import load_config
from melo.distributed import Distributed
from melo.model import build_discriminators, build_generator
from melo.model.alignment import maximum_path
from melo.precision import cuda_has_native_bf16
from melo.text.symbols import DEFAULT_TABLE
from melo.train import TrainingError
from melo.train.run import resolve_precision
from melo.train.step import make_optimizers, train_step
from model_helpers import random_batch

pytestmark = pytest.mark.cuda


@pytest.fixture(scope="module")
def device() -> torch.device:
    assert torch.cuda.is_available(), "the cuda tests need a CUDA GPU: torch.cuda.is_available() is False"
    return torch.device("cuda", 0)


@contextlib.contextmanager
def no_host_sync() -> Iterator[None]:
    """Any synchronising CUDA call inside raises (PyTorch's sync debug mode), naming the operation."""
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_maximum_path_on_the_gpu_equals_the_cpu(device: torch.device) -> None:
    g = torch.Generator().manual_seed(0)
    b, t_spec, t_text = 6, 400, 101
    spec_lengths = torch.tensor([t_spec] + torch.randint(200, t_spec + 1, (b - 1,), generator=g).tolist())
    text_lengths = torch.minimum(torch.tensor([t_text] + [n // 4 for n in spec_lengths[1:].tolist()]), spec_lengths)
    scores = torch.randn(b, t_spec, t_text, generator=g) * 10 - 100
    mask = ((torch.arange(t_spec).view(1, -1, 1) < spec_lengths.view(-1, 1, 1))
            & (torch.arange(t_text).view(1, 1, -1) < text_lengths.view(-1, 1, 1))).float()
    on_cpu = maximum_path(scores, mask)
    with no_host_sync():
        on_gpu = maximum_path(scores.to(device), mask.to(device))
    assert torch.equal(on_gpu.cpu(), on_cpu)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_training_step_runs_without_host_sync(device: torch.device, precision: str) -> None:
    config = load_config("configs/tiny.json").replace(train={f"{precision}_run": True})
    ctx = Distributed(rank=0, world_size=1, local_rank=0, device=device, backend=None)
    if precision == "bf16" and not cuda_has_native_bf16(device):
        with pytest.raises(TrainingError, match="has no native bf16"):
            resolve_precision(config, ctx)
        return
    chosen = resolve_precision(config, ctx)
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE).to(device)
    d = build_discriminators(config)
    d.mpd.to(device)
    d.duration.to(device)
    opts = make_optimizers(gen, d, config)
    batch = random_batch(config, DEFAULT_TABLE, 4, 41, 60, torch.Generator().manual_seed(0))
    inputs = {k: v.to(device) for k, v in batch.generator_inputs().items()}
    wav = batch.wav.to(device)
    kwargs = dict(autocast_dtype=chosen.dtype, scaler=chosen.scaler)
    train_step(gen, d, opts, inputs, wav, config, 0, **kwargs)  # first step: lazy state, allocator warm-up
    with no_host_sync():
        result = train_step(gen, d, opts, inputs, wav, config, 1, **kwargs)
    assert bool(torch.isfinite(result.generator_total)) and bool(torch.isfinite(result.discriminator))
    assert result.output.prior_mean.dtype == torch.float32  # the KL's inputs stay fp32 under autocast


def test_native_bf16_detection_matches_pytorchs_without_emulation(device: torch.device) -> None:
    for index in range(torch.cuda.device_count()):
        with torch.cuda.device(index):
            expected = torch.cuda.is_bf16_supported(including_emulation=False)
        assert cuda_has_native_bf16(torch.device("cuda", index)) == expected, torch.cuda.get_device_name(index)
