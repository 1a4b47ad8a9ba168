"""bf16 only where the device in use computes it natively (checked on CPU with a stand-in for two GPUs)."""

from __future__ import annotations

import pytest
import torch

from melo.config import load_config
from melo.distributed import Distributed
from melo.runtime.precision import fast_decoder_dtype
from melo.precision import cuda_has_native_bf16
from melo.train import TrainingError
from melo.train.run import resolve_precision

GPUS = {0: ("NVIDIA A100", (8, 0)), 1: ("Tesla V100", (7, 0))}
"""cuda:0 computes bf16 natively; cuda:1, the device in use below, only emulates it."""


@pytest.fixture()
def two_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    def index(device: torch.device | str | int | None) -> int:
        return device if isinstance(device, int) else torch.device(device).index or 0

    def counts_emulation(*_args, **_kwargs) -> bool:
        raise AssertionError("torch.cuda.is_bf16_supported counts emulation and reads the current device")

    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: GPUS[index(device)][1])
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: GPUS[index(device)][0])
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", counts_emulation)


def test_native_bf16_is_asked_of_the_device_in_use(two_gpus: None) -> None:
    assert cuda_has_native_bf16("cuda:0") and cuda_has_native_bf16(torch.device("cuda", 0))
    assert not cuda_has_native_bf16("cuda:1")
    assert not cuda_has_native_bf16("cpu")


def test_inference_uses_fp16_on_a_gpu_that_would_emulate_bf16(two_gpus: None) -> None:
    assert fast_decoder_dtype("cuda:0") == torch.bfloat16
    assert fast_decoder_dtype("cuda:1") == torch.float16


def test_bf16_run_on_a_gpu_without_native_bf16_is_an_error(two_gpus: None) -> None:
    config = load_config("configs/tiny.json")
    config = config.replace(train={"bf16_run": True})
    on = {i: Distributed(rank=0, world_size=1, local_rank=i, device=torch.device("cuda", i), backend=None)
          for i in GPUS}
    assert resolve_precision(config, on[0]).dtype == torch.bfloat16
    with pytest.raises(TrainingError, match=r"Tesla V100 \(cuda:1, compute capability 7\.0\) has no native bf16"):
        resolve_precision(config, on[1])
