"""One precision policy per engine, resolved once from the device and the user's word for it.

``TTS(precision=...)`` takes one of :data:`PRECISIONS`; :meth:`PrecisionPolicy.resolve` turns it into the
precision of each part for the device at hand:

========  ===================================================  ==========================================
word      CPU                                                  CUDA
========  ===================================================  ==========================================
auto      int8 bge-m3; bf16 text encoder, flow and packed      fp16 bge-m3; decoder and flow under bf16
          decoder on CPUs with bf16 units (else fp32, packed)  autocast (fp16 on GPUs without bf16)
int8      ``auto`` with an int8 decoder (CPUs with VNNI)       ``auto``
fp32      fp32 everywhere (the decoder and flow still packed)  fp32
========  ===================================================  ==========================================
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from melo.precision import cuda_has_native_bf16
from melo.runtime import cpu
from melo.runtime.packed_decoder import packed_decoder_supported

__all__ = ["PRECISIONS", "PrecisionPolicy", "fast_decoder_dtype", "fast_flow_dtype", "fast_text_dtype",
           "int8_decoder_supported"]

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "int8", "fp32")


@dataclass(frozen=True)
class PrecisionPolicy:
    """The precision of each part of synthesis (None: fp32)."""

    decoder: torch.dtype | None = None  # HiFi-GAN: bf16/fp16, torch.int8 (packed CPU decoder only), or fp32
    flow: torch.dtype | None = None  # the reverse flow's transformers
    text: torch.dtype | None = None  # the text encoder (bf16: the packed CPU runner)
    features: str = "fp32"  # the bge-m3 feature extractor's precision ("int8", "fp16", "bf16", "fp32")

    @classmethod
    def resolve(cls, device: torch.device | str, precision: str = "auto") -> "PrecisionPolicy":
        """The policy ``precision`` (one of :data:`PRECISIONS`) means on ``device`` (see the module's table)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r}")
        device = torch.device(device)
        if precision == "fp32":
            return cls()
        decoder = fast_decoder_dtype(device)
        if precision == "int8":
            if int8_decoder_supported(device):
                decoder = torch.int8
            else:
                logger.info("precision int8: no int8 decoder on %s; the decoder runs in %s", device, decoder)
        return cls(decoder=decoder, flow=fast_flow_dtype(device), text=fast_text_dtype(device),
                   features="int8" if device.type == "cpu" else "fp16")


def fast_decoder_dtype(device: torch.device | str) -> torch.dtype:
    """The precision of the HiFi-GAN decoder on the fast path for ``device``: bf16 on CPUs with bf16 units
    (AVX512-BF16 / AMX) and on CUDA GPUs that compute it natively (compute capability 8.0+), fp16 on older GPUs
    (which would emulate bf16), else fp32 (on such CPUs bf16 would be emulated and slower; the packed fp32 decoder
    is still faster than the plain module)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.bfloat16 if cuda_has_native_bf16(device) else torch.float16
    if device.type == "cpu":
        return torch.bfloat16 if cpu.has_bf16() else torch.float32
    return torch.float32


def int8_decoder_supported(device: torch.device | str) -> bool:
    """Whether an int8 decoder can run on ``device``: CPUs with VNNI (AVX512-VNNI; AMX CPUs have it too) whose
    PyTorch has oneDNN's quantized convolutions."""
    return packed_decoder_supported(device, torch.int8)


def fast_flow_dtype(device: torch.device | str) -> torch.dtype:
    """The autocast precision of the flow's transformers on the fast path (same rule as the decoder)."""
    return fast_decoder_dtype(device)


def fast_text_dtype(device: torch.device | str) -> torch.dtype | None:
    """The precision of the text encoder on the fast path: bf16 on CPUs with bf16 units (a packed runner; at
    50-90 text positions the fp32 trace is mostly time between kernels), else None (fp32: on GPUs the text
    encoder is a small share of synthesis and stays exact)."""
    device = torch.device(device)
    return torch.bfloat16 if device.type == "cpu" and cpu.has_bf16() else None
