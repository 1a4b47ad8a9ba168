"""Preparing a trained generator for fast synthesis."""

from __future__ import annotations

import logging

import torch

from melo.model.synthesizer import SynthesizerTrn

__all__ = ["fast_decoder_dtype", "optimize_for_inference"]

log = logging.getLogger(__name__)


def fast_decoder_dtype(device: torch.device | str) -> torch.dtype:
    """The reduced precision for the HiFi-GAN decoder on ``device``: bf16 (CPU with AMX/AVX512-BF16, or CUDA
    with bf16 support), else fp16 on older CUDA GPUs."""
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def optimize_for_inference(model: SynthesizerTrn) -> SynthesizerTrn:
    """Fold weight norm, eval mode, no gradients. Use with ``torch.inference_mode()`` and
    ``model.infer(..., decoder_dtype=fast_decoder_dtype(device))`` for the fast path (the decoder then runs
    under bf16 autocast; the relative error on the waveform is measured in benchmarks/bench_infer.py)."""
    model.prepare_for_inference()
    log.debug("prepared generator for inference (weight norm folded)")
    return model
