"""Preparing a trained generator for fast synthesis, and choosing the reduced precisions per device."""

from __future__ import annotations

import logging

import torch

from melo.model.fast_decoder import cpu_has_bf16, packed_decoder_supported
from melo.model.synthesizer import SynthesizerTrn
from melo.precision import cuda_has_native_bf16

__all__ = ["fast_decoder_dtype", "fast_flow_dtype", "fast_text_dtype", "int8_decoder_supported", "optimize_for_inference"]

log = logging.getLogger(__name__)


def fast_decoder_dtype(device: torch.device | str) -> torch.dtype:
    """The precision of the HiFi-GAN decoder on the fast path for ``device``: bf16 on CPUs with bf16 units
    (AVX512-BF16 / AMX) and on CUDA GPUs that compute it natively (compute capability 8.0+), fp16 on older GPUs
    (which would emulate bf16), else fp32 (on such CPUs bf16
    would be emulated and slower; the packed fp32 decoder is still faster than the plain module)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if cuda_has_native_bf16(device) else torch.float16
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_bf16() else torch.float32
    return torch.float32


def int8_decoder_supported(device: torch.device | str) -> bool:
    """Whether ``decoder_dtype=torch.int8`` can run on ``device``: CPUs with VNNI (AVX512-VNNI; AMX CPUs have it
    too) whose PyTorch has oneDNN's quantized convolutions."""
    return packed_decoder_supported(device, torch.int8)


def fast_flow_dtype(device: torch.device | str) -> torch.dtype:
    """The autocast precision of the flow's transformers on the fast path (same rule as the decoder)."""
    return fast_decoder_dtype(device)


def fast_text_dtype(device: torch.device | str) -> torch.dtype | None:
    """The precision of the text encoder on the fast path: bf16 on CPUs with bf16 units (a packed runner; at
    50-90 text positions the fp32 trace is mostly time between kernels), else None (fp32: on GPUs the text
    encoder is a small share of synthesis and stays exact)."""
    device = torch.device(device)
    return torch.bfloat16 if device.type == "cpu" and cpu_has_bf16() else None


def optimize_for_inference(model: SynthesizerTrn) -> SynthesizerTrn:
    """Fold weight norm, eval mode, no gradients. Use with ``torch.inference_mode()`` and
    ``model.infer(..., decoder_dtype=fast_decoder_dtype(device), flow_dtype=fast_flow_dtype(device),
    text_dtype=fast_text_dtype(device))`` for the fast path; on CPU the decoder then runs as a fused channels-last
    :class:`~melo.model.fast_decoder.PackedDecoder`
    (the error against fp32 is measured in benchmarks/bench_infer.py). ``decoder_dtype=torch.int8`` (CPU; see
    ``int8_decoder_supported``) runs its wide stages in int8: faster still, opt-in (``TTS(precision="int8")``)."""
    model.prepare_for_inference()
    log.debug("prepared generator for inference (weight norm folded)")
    return model
