"""What this CPU and PyTorch build can run: oneDNN convolutions and inner products, bf16 units, VNNI.

Each probe runs once per process (and per dtype); the runners ask on every call. Tests replace a probe with
``monkeypatch.setattr(cpu, "has_bf16", ...)`` and clear the cached answers that depend on it.
"""

from __future__ import annotations

import functools

import torch

__all__ = ["convolutions_supported", "has_bf16", "has_quantized_convolutions", "has_vnni", "packed_linear_supported"]


@functools.lru_cache(maxsize=None)
def has_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX512-BF16 / AMX); elsewhere it would be emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=None)
def has_vnni() -> bool:
    """Whether the CPU has int8 dot-product units (AVX512-VNNI, which AMX CPUs also have). Without them oneDNN's
    int8 convolutions are no faster than bf16 and sum u8 x s8 pairs in 16 bits, which can saturate."""
    probe = getattr(torch.cpu, "_is_vnni_supported", None)
    try:
        return bool(probe()) if probe is not None else False
    except RuntimeError:
        return False


def has_quantized_convolutions() -> bool:
    """oneDNN's int8 convolutions (prepacked weights, fused binary add) in this PyTorch build."""
    ops = getattr(torch.ops, "onednn", None)
    try:
        return bool(ops.qconv_prepack and ops.qconv2d_pointwise and ops.qconv2d_pointwise.binary)
    except (AttributeError, RuntimeError):
        return False


@functools.lru_cache(maxsize=None)
def convolutions_supported(dtype: torch.dtype) -> bool:
    """oneDNN's fused pointwise convolutions in ``dtype``: fp32, bf16 (needs bf16 units) or int8 (needs the
    quantized convolutions and VNNI)."""
    if dtype == torch.int8:
        return convolutions_supported(torch.float32) and has_quantized_convolutions() and has_vnni()
    if dtype not in (torch.float32, torch.bfloat16):
        return False
    if not torch.backends.mkldnn.is_available():
        return False
    ops = getattr(torch.ops, "mkldnn", None)
    try:
        needed = (ops._convolution_pointwise, ops._convolution_pointwise_)
    except (AttributeError, RuntimeError):
        return False
    if not all(needed):
        return False
    return dtype != torch.bfloat16 or has_bf16()


@functools.lru_cache(maxsize=None)
def packed_linear_supported(dtype: torch.dtype) -> bool:
    """oneDNN's inner product with a pre-packed weight in ``dtype`` (x86 builds; bf16 needs bf16 units)."""
    if not torch.backends.mkldnn.is_available():
        return False
    if dtype == torch.bfloat16 and not has_bf16():
        return False
    try:
        weight, x = torch.ones(4, 8, dtype=dtype), torch.ones(2, 8, dtype=dtype)
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, 2)
        y = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
        return bool(torch.equal(y.float(), torch.full((2, 4), 8.0)))
    except (AttributeError, RuntimeError):
        return False
