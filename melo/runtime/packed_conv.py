"""The convolutions of the packed CPU decoder: oneDNN's fused pointwise convolutions over (N, C, 1, L)
channels-last signals, with the weight laid out once per input width, the polyphase form of a transposed
convolution, and the int8 form (per-channel int8 weights, inputs quantized per call).

Each layer reads a window of rows of a signal and writes rows (``valid``) or adds into them (``add_valid_``);
see :mod:`melo.runtime.packed_decoder` for how the decoder tiles a sentence into such windows.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["CHANNELS_LAST", "Conv", "QConv", "quantize"]

CHANNELS_LAST = torch.channels_last


@dataclass(frozen=True)
class Conv:
    """One convolution's weight in (out, in, 1, k) channels-last layout and its 2-D geometry."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    padding: list[int]
    stride: list[int]
    dilation: list[int]
    phases: int = 1  # > 1: polyphase form of a transposed convolution (see ``polyphase``)
    lead: int = 0  # phases computed one output row late (the shifted form of ``polyphase``)
    packed: dict[int, torch.Tensor] | None = field(default_factory=dict, compare=False, repr=False)  # width -> weight

    @classmethod
    def of(cls, conv: nn.Conv1d, dtype: torch.dtype, scale: float = 1.0) -> "Conv":
        if conv.groups != 1:
            raise ValueError("the packed decoder supports groups=1 convolutions only")
        weight = conv.weight.detach().float()
        if scale != 1.0:
            weight = weight * scale
        bias = None if conv.bias is None else conv.bias.detach().to(dtype).contiguous()
        return cls(
            weight=weight.unsqueeze(2).to(dtype).contiguous(memory_format=CHANNELS_LAST),
            bias=bias,
            padding=[0, int(conv.padding[0])],
            stride=[1, int(conv.stride[0])],
            dilation=[1, int(conv.dilation[0])],
        )

    def valid(self, x: torch.Tensor, slope: float | None = None) -> torch.Tensor:
        """conv(x) over the rows of ``x`` only (no padding: ``halo`` fewer rows on each side), then leaky ReLU
        with ``slope`` fused as a post-op when given."""
        attr, scalars = ("leaky_relu", [slope]) if slope is not None else ("none", [])
        x = self._input(x)
        return torch.ops.mkldnn._convolution_pointwise(
            x, self._weight(x), self.bias, [0, 0], self.stride, self.dilation, 1, attr, scalars, ""
        )

    def add_valid_(self, other: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``other += conv(x)`` in place, with ``x`` as in ``valid``."""
        x = self._input(x)
        return torch.ops.mkldnn._convolution_pointwise_.binary(
            other, x, self._weight(x), self.bias, [0, 0], self.stride, self.dilation, 1, "add", 1.0, None, [], None
        )

    def _input(self, x: torch.Tensor) -> torch.Tensor:
        # a bf16 layer reading an fp32 signal: the first layer after the int8 stages (see PackedDecoder(int8))
        return x if x.dtype == self.weight.dtype else x.to(self.weight.dtype)

    @property
    def halo(self) -> int:
        """Input rows each side of an output row's window."""
        return self.padding[1]

    def _weight(self, x: torch.Tensor) -> torch.Tensor:
        # oneDNN's preferred weight layout depends on the input width. The plain weight is reordered on every
        # call (~10 us for a small weight, more than the convolution itself for a 256-channel layer on a short
        # tile), and a weight reordered for another width is far slower still. Tiles have a few fixed widths:
        # the weight reordered for each is made on first use and kept.
        if self.packed is None:  # untiled: widths vary with the sentence, keep nothing
            return self._plain(x)
        width = x.shape[-1]
        weight = self.packed.get(width)
        if weight is None:
            weight = self.packed[width] = self._pack(x)
        return weight

    def _plain(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight

    def _pack(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._reorder_convolution_weight(self.weight, [0, 0], self.stride, self.dilation, 1, list(x.shape))

    @classmethod
    def polyphase(cls, up: nn.ConvTranspose1d, dtype: torch.dtype, scale: float = 1.0) -> "Conv":
        """A transposed convolution (stride s, kernel k, padding (k - s) / 2) as a plain convolution with
        ``s * out`` output channels, one group of ``out`` per output phase r (positions ``m * s + r``).

        ``y[m*s + r] = sum_u x[m + q_r - u] W[:, :, j_r + s*u]`` with ``r + pad = q_r*s + j_r``. In
        channels-last memory the (position m, phase r, channel c) output *is* the upsampled signal at
        position ``m*s + r``, so interleaving the phases is a free view. Same sums as the transposed
        convolution; it avoids oneDNN's deconvolution, which is slower here and costs ~10 ms of kernel
        generation per new input length.

        Phases whose input windows are all the same share one convolution over that window. HiFi-GAN's
        k = 2s layers have two windows, the second one input to the right of the first (phases r < s/2 read
        x[m-1], x[m]; the others x[m], x[m+1]): a convolution over the first window computes the late phases
        for position m - 1 on row m. Ordering each row's channels as [late phases, early phases] keeps the
        signal one contiguous run in memory (it starts ``lead`` phases into row 0), so the free view still
        holds, with no zero taps (a shared window would spend 3 taps for 2 used: ~1/3 of those layers)."""
        s, k, pad = int(up.stride[0]), int(up.kernel_size[0]), int(up.padding[0])
        if k - 2 * pad != s or up.output_padding[0] != 0 or up.dilation[0] != 1 or up.groups != 1:
            raise ValueError("polyphase form needs kernel - 2 * padding == stride, no output padding/dilation/groups")
        w = up.weight.detach().float() * scale  # (in, out, k)
        c_in, c_out, _ = w.shape
        taps: list[dict[int, int]] = []  # per phase r: input offset -> kernel index
        for r in range(s):
            q, j0 = divmod(r + pad, s)
            taps.append({q - u: j0 + s * u for u in range((k - j0 + s - 1) // s)})
        starts = [min(t) for t in taps]
        widths = {max(t) - min(t) + 1 for t in taps}
        late = [r for r in range(s) if starts[r] != starts[0]]  # phases one input to the right
        width = widths.pop() if len(widths) == 1 else 0
        shifted = (bool(late) and width % 2 == 0 and starts[0] == -width // 2
                   and all(starts[r] == starts[0] + 1 for r in late) and late == list(range(late[0], s)))
        bias = None if up.bias is None else up.bias.detach().float()
        if shifted:
            order = late + [r for r in range(s) if r not in late]  # row m: late phases (position m - 1), then early
            weight = w.new_zeros(s, c_out, c_in, width)
            for slot, r in enumerate(order):
                shift = starts[r] - starts[0]
                for o, j in taps[r].items():
                    weight[slot, :, :, o - shift - starts[0]] = w[:, :, j].t()
            return cls(
                weight=weight.reshape(s * c_out, c_in, 1, width).to(dtype).contiguous(memory_format=CHANNELS_LAST),
                bias=None if bias is None else bias.repeat(s).to(dtype).contiguous(),
                padding=[0, width // 2], stride=[1, 1], dilation=[1, 1], phases=s, lead=len(late),
            )
        lo, hi = min(starts), max(max(t) for t in taps)
        if lo != -hi:
            raise ValueError("polyphase form needs a symmetric input window")
        weight = w.new_zeros(s, c_out, c_in, hi - lo + 1)
        for r, phase_taps in enumerate(taps):
            for o, j in phase_taps.items():
                weight[r, :, :, o - lo] = w[:, :, j].t()
        return cls(
            weight=weight.reshape(s * c_out, c_in, 1, hi - lo + 1).to(dtype).contiguous(memory_format=CHANNELS_LAST),
            bias=None if bias is None else bias.repeat(s).to(dtype).contiguous(),
            padding=[0, hi], stride=[1, 1], dilation=[1, 1], phases=s,
        )


@dataclass(frozen=True)
class QConv(Conv):
    """The int8 form of a :class:`Conv`: int8 weights with one scale per output channel, and the input quantized
    on every call to uint8 with one scale and zero point over its own range (dynamic quantization: nothing is
    calibrated, so it fits any voice). oneDNN accumulates in int32 and writes fp32."""

    scales: torch.Tensor | None = None  # (out,) fp32: weight[o] ~ int8 weight[o] * scales[o]
    zeros: torch.Tensor | None = None  # (out,) int64 zeros: the weights are symmetric

    @classmethod
    def quantized(cls, conv: Conv) -> "QConv":
        w = conv.weight.float()
        scales = (w.abs().amax(dim=(1, 2, 3)) / 127).clamp_min(torch.finfo(torch.float32).tiny)
        q = torch.round(w / scales.view(-1, 1, 1, 1)).clamp_(-127, 127).to(torch.int8).contiguous(memory_format=CHANNELS_LAST)
        return cls(
            weight=q, bias=None if conv.bias is None else conv.bias.float().contiguous(), padding=conv.padding,
            stride=conv.stride, dilation=conv.dilation, phases=conv.phases, lead=conv.lead, scales=scales.contiguous(),
            zeros=torch.zeros(len(scales), dtype=torch.long),
        )

    def valid(self, x: torch.Tensor, slope: float | None = None) -> torch.Tensor:
        q, scale, zero = quantize(x)
        y = torch.ops.onednn.qconv2d_pointwise(
            q, scale, zero, self._weight(q), self.scales, self.zeros, self.bias, self.stride, [0, 0], self.dilation, 1,
            1.0, 0, torch.float32, "none", [], "",
        )
        # oneDNN's int8 convolution has no leaky-ReLU post-op: one pass over the (cache-warm) output instead
        return y if slope is None else torch.nn.functional.leaky_relu_(y, slope)

    def add_valid_(self, other: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        q, scale, zero = quantize(x)
        torch.ops.onednn.qconv2d_pointwise.binary(
            q, scale, zero, self._weight(q), self.scales, self.zeros, other, self.bias, self.stride, [0, 0],
            self.dilation, 1, 1.0, 0, torch.float32, 1.0, 0, "sum", 1.0, "none", [], "",
        )
        return other

    def _plain(self, x: torch.Tensor) -> torch.Tensor:
        return self._pack(x)  # oneDNN's int8 convolution takes packed weights only

    def _pack(self, x: torch.Tensor) -> torch.Tensor:
        # the packed layout does not depend on the input's scale and zero point (checked in the tests)
        return torch.ops.onednn.qconv_prepack(self.weight, self.scales, 1.0, 0, self.stride, [0, 0], self.dilation, 1,
                                              list(x.shape))


@functools.lru_cache(maxsize=None)
def _silence_quantize_notice() -> None:
    """torch.quantize_per_tensor is the one fused fp32 -> uint8 pass here (~0.15 ms per 2 M values on 2 cores; the
    decomposed ops take ~10x longer). Its deprecation notice (about the quantized dtypes, which ``_quantize`` only
    passes through) is issued once per process: issue it here, unseen."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.quantize_per_tensor(torch.zeros(1), 1.0, 0, torch.quint8)


def quantize(x: torch.Tensor) -> tuple[torch.Tensor, float, int]:
    """``x`` as uint8 ``q`` with ``x ~ (q - zero) * scale``, one scale over x's range with 0 in it (so zeros, the
    padding, stay exact)."""
    _silence_quantize_notice()
    if x.dtype != torch.float32:
        x = x.float()
    lo, hi = min(float(x.amin()), 0.0), max(float(x.amax()), 0.0)
    scale = (hi - lo) / 255 or 1.0
    if not math.isfinite(scale):
        raise RuntimeError("int8 decoder: the activations are not finite (NaN or inf in the weights or the latent)")
    zero = min(255, max(0, round(-lo / scale)))
    q = torch.quantize_per_tensor(x, scale, zero, torch.quint8)
    # the same bytes as a plain uint8 tensor (what oneDNN's ops take); Tensor.view(torch.uint8) stays "quantized"
    plain = torch.empty(0, dtype=torch.uint8).set_(q.untyped_storage(), q.storage_offset(), q.size(), q.stride())
    return plain, scale, zero
