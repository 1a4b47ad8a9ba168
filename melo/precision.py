"""Which reduced precisions a device computes natively.

``torch.cuda.is_bf16_supported()`` also counts emulation (V100s and T4s then report bf16 and run it slowly)
and looks at the *current* device, not necessarily the one in use; :func:`cuda_has_native_bf16` asks the
device itself.
"""

from __future__ import annotations

import torch

__all__ = ["cuda_has_native_bf16", "describe_cuda_device"]

NATIVE_BF16_CAPABILITY = (8, 0)
"""Compute capability from which NVIDIA GPUs have bf16 tensor cores and arithmetic (Ampere)."""


def cuda_has_native_bf16(device: torch.device | str) -> bool:
    """Whether the CUDA ``device`` computes bf16 natively (compute capability 8.0 or newer; ROCm GPUs count as
    native, as PyTorch's own check does). False for non-CUDA devices."""
    device = torch.device(device)
    if device.type != "cuda":
        return False
    if torch.version.hip:
        return True
    return tuple(torch.cuda.get_device_capability(device)) >= NATIVE_BF16_CAPABILITY


def describe_cuda_device(device: torch.device | str) -> str:
    """``"NVIDIA T4 (cuda:1, compute capability 7.5)"``: a GPU named for messages."""
    device = torch.device(device)
    major, minor = torch.cuda.get_device_capability(device)
    return f"{torch.cuda.get_device_name(device)} ({device}, compute capability {major}.{minor})"
