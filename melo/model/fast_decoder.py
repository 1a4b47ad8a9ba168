"""A fused, channels-last CPU runner for a trained HiFi-GAN :class:`~melo.model.decoder.Generator`.

Why: on CPU the decoder is ~90% of synthesis time, and PyTorch's eager ``Conv1d`` spends much of it outside
the arithmetic. Every call reorders its input from the plain (N, C, L) layout into oneDNN's blocked layout
and its output back; for the 16-64 channel stages at 44.1 kHz those copies cost more than the convolution.
Autocast adds a weight cast per call, and each leaky ReLU / residual add is its own pass over memory.

What: the same network, computed as 2-D convolutions over (N, C, 1, L) tensors in channels-last layout
(oneDNN's native "nhwc" for bf16 and fp32, so no reorders), with the weights cast and laid out once, the
leaky ReLU between the two convolutions of a residual pair fused into the first one, and the residual add
fused into the second (in place). The average over resblocks is folded into the next layer's weights
(leaky ReLU is positively homogeneous, so ``conv(lrelu(s / n)) == (conv / n)(lrelu(s))``).

Same math as ``Generator.forward``: in fp32 the outputs agree to float rounding (tested); in bf16 the
activations and weights are bf16 and the relative waveform error against fp32 is measured in
``benchmarks/bench_infer.py``. Inference only (no autograd), CPU only; built from folded weights, so build
it after ``SynthesizerTrn.prepare_for_inference`` and rebuild it if the weights change.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import torch
from torch import nn

from melo.model.commons import LRELU_SLOPE
from melo.model.decoder import Generator, ResBlock1, ResBlock2

__all__ = ["PackedDecoder", "cpu_has_bf16", "packed_decoder_supported"]

log = logging.getLogger(__name__)

_CL = torch.channels_last
_FINAL_SLOPE = 0.01  # HiFi-GAN's last activation uses F.leaky_relu's default slope


def packed_decoder_supported(device: torch.device | str, dtype: torch.dtype) -> bool:
    """Whether :class:`PackedDecoder` can run here: CPU with oneDNN, fp32 or bf16 (bf16 needs CPU support)."""
    return torch.device(device).type == "cpu" and _cpu_supports(dtype)


@functools.lru_cache(maxsize=None)
def _cpu_supports(dtype: torch.dtype) -> bool:  # asked on every synthesis call: probe once per dtype
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
    return dtype != torch.bfloat16 or cpu_has_bf16()


@functools.lru_cache(maxsize=None)
def cpu_has_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX512-BF16 / AMX); elsewhere it would be emulated."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@dataclass(frozen=True)
class _Conv:
    """One convolution's weight in (out, in, 1, k) channels-last layout and its 2-D geometry."""

    weight: torch.Tensor
    bias: torch.Tensor | None
    padding: list[int]
    stride: list[int]
    dilation: list[int]
    phases: int = 1  # > 1: polyphase form of a transposed convolution (see ``polyphase``)
    lead: int = 0  # phases computed one output row late (the shifted form of ``polyphase``)

    @classmethod
    def of(cls, conv: nn.Conv1d, dtype: torch.dtype, scale: float = 1.0) -> "_Conv":
        if conv.groups != 1:
            raise ValueError("PackedDecoder supports groups=1 convolutions only")
        weight = conv.weight.detach().float()
        if scale != 1.0:
            weight = weight * scale
        bias = None if conv.bias is None else conv.bias.detach().to(dtype).contiguous()
        return cls(
            weight=weight.unsqueeze(2).to(dtype).contiguous(memory_format=_CL),
            bias=bias,
            padding=[0, int(conv.padding[0])],
            stride=[1, int(conv.stride[0])],
            dilation=[1, int(conv.dilation[0])],
        )

    def __call__(self, x: torch.Tensor, slope: float | None = None) -> torch.Tensor:
        """conv(x), then leaky ReLU with ``slope`` fused as a post-op when given."""
        attr, scalars = ("leaky_relu", [slope]) if slope is not None else ("none", [])
        y = torch.ops.mkldnn._convolution_pointwise(
            x, self.weight, self.bias, self.padding, self.stride, self.dilation, 1, attr, scalars, ""
        )
        if self.phases > 1:  # (N, s*C, 1, M) channels-last is (N, M, s, C) in memory = (N, C, 1, M*s) channels-last
            n, sc, _, m = y.shape
            c = sc // self.phases
            if self.lead:  # M + 1 rows; sample j of the signal sits at row-major offset (j + lead) * C
                y = y.as_strided((n, c, 1, (m - 1) * self.phases), (sc * m, 1, sc * m, c), y.storage_offset() + self.lead * c)
                if n > 1:  # items are (M + 1) rows apart: make the batch dense for the next layers
                    y = y.contiguous(memory_format=_CL)
            else:
                y = y.as_strided((n, c, 1, m * self.phases), (sc * m, 1, sc * m, c))
        return y

    @classmethod
    def polyphase(cls, up: nn.ConvTranspose1d, dtype: torch.dtype, scale: float = 1.0) -> "_Conv":
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
                weight=weight.reshape(s * c_out, c_in, 1, width).to(dtype).contiguous(memory_format=_CL),
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
            weight=weight.reshape(s * c_out, c_in, 1, hi - lo + 1).to(dtype).contiguous(memory_format=_CL),
            bias=None if bias is None else bias.repeat(s).to(dtype).contiguous(),
            padding=[0, hi], stride=[1, 1], dilation=[1, 1], phases=s,
        )

    def add_to(self, other: torch.Tensor, x: torch.Tensor, inplace: bool) -> torch.Tensor:
        """``other + conv(x)``; written into ``other`` when ``inplace``."""
        if inplace:
            return torch.ops.mkldnn._convolution_pointwise_.binary(
                other, x, self.weight, self.bias, self.padding, self.stride, self.dilation, 1, "add", 1.0, None, [], None
            )
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, other, self.weight, self.bias, self.padding, self.stride, self.dilation, 1, "add", 1.0, None, [], None
        )


class PackedDecoder:
    """``PackedDecoder(generator, dtype)(z, g)`` == ``generator(z, g)`` computed the fast way (see module doc).

    ``dtype``: ``torch.float32`` (exact to rounding) or ``torch.bfloat16`` (CPUs with bf16 support).
    ``bucket``: input lengths are padded to a multiple of this many frames (see ``__call__``)."""

    def __init__(self, generator: Generator, dtype: torch.dtype = torch.bfloat16, bucket: int = 32) -> None:
        if not packed_decoder_supported("cpu", dtype):
            raise RuntimeError(f"PackedDecoder needs a CPU PyTorch build with oneDNN{' and bf16 support' if dtype == torch.bfloat16 else ''}")
        device = next(generator.parameters()).device
        if device.type != "cpu":
            raise ValueError(f"PackedDecoder runs on CPU only; the generator is on {device}")
        if any(hasattr(m, "parametrizations") for m in generator.modules()):
            raise ValueError("fold weight norm first (SynthesizerTrn.prepare_for_inference / remove_weight_norm)")
        if bucket < 1:
            raise ValueError(f"bucket must be >= 1 frame, got {bucket}")
        self.dtype = dtype
        self.bucket = bucket
        self.rates = [int(up.stride[0]) for up in generator.ups]
        n = generator.num_kernels
        self.num_kernels = n
        self.pre = _Conv.of(generator.conv_pre, dtype)
        self.cond = _Conv.of(generator.cond, dtype) if hasattr(generator, "cond") else None
        # the resblock average (sum / n) feeds the next upsampling layer and conv_post: fold 1/n into them
        # raises ValueError for upsampling geometries other than HiFi-GAN's (kernel - 2 * padding == stride)
        self.ups = [_Conv.polyphase(up, dtype, 1.0 if i == 0 else 1.0 / n) for i, up in enumerate(generator.ups)]
        self.post = _Conv.of(generator.conv_post, dtype, 1.0 / n)
        self.stages: list[list[list[tuple[_Conv, _Conv | None]]]] = []
        for i in range(len(generator.ups)):
            blocks = []
            for block in generator.resblocks[i * n : (i + 1) * n]:
                if isinstance(block, ResBlock1):
                    blocks.append([(_Conv.of(c1, dtype), _Conv.of(c2, dtype)) for c1, c2 in zip(block.convs1, block.convs2)])
                elif isinstance(block, ResBlock2):
                    blocks.append([(_Conv.of(c, dtype), None) for c in block.convs])
                else:
                    raise TypeError(f"unsupported resblock {type(block).__name__}")
            self.stages.append(blocks)
        log.debug("packed HiFi-GAN decoder for %s (%d stages)", dtype, len(self.stages))

    @torch.inference_mode()
    def __call__(self, z: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, C, T) latent frames, g: (B, gin, 1) speaker embedding -> (B, 1, T * hop) float32 waveform.

        The frames are zero-padded up to a multiple of ``bucket`` so that nearby lengths share oneDNN's
        compiled kernels (a new input length costs ~0.1 s of kernel generation and first-run overhead on
        2 cores). The padding does not change the result: after every layer the positions past the real
        length are set back to zero, which is exactly the zero padding the unpadded convolutions see."""
        frames = z.shape[-1]
        padded = -(-frames // self.bucket) * self.bucket
        x = z.unsqueeze(2).to(self.dtype)
        if padded != frames:
            x = torch.nn.functional.pad(x, (0, padded - frames))
        x = x.contiguous(memory_format=_CL)
        valid = frames  # real positions at the current rate

        def clip(t: torch.Tensor) -> torch.Tensor:  # zero the padding (in place; channels-last keeps it contiguous)
            if t.shape[-1] > valid:
                t[..., valid:] = 0
            return t

        lrelu = torch.nn.functional.leaky_relu
        x = self.pre(x)
        if g is not None and self.cond is not None:
            x += self.cond(g.unsqueeze(2).to(self.dtype).contiguous(memory_format=_CL))
        clip(x)
        for up, blocks, rate in zip(self.ups, self.stages, self.rates):
            valid *= rate
            x = clip(up(lrelu(x, LRELU_SLOPE, inplace=True)))  # x is a fresh sum: activate in place
            x_act = lrelu(x, LRELU_SLOPE)  # every block's first layer reads lrelu(x)
            total = None
            for pairs in blocks:
                y = x  # each block's residual stream starts at x; the first add allocates, later ones are in place
                for c1, c2 in pairs:
                    a = x_act if y is x else lrelu(y, LRELU_SLOPE)
                    if c2 is None:  # ResBlock2: y + conv(lrelu(y))
                        y = clip(c1.add_to(y, a, inplace=y is not x))
                    else:  # ResBlock1: y + conv2(lrelu(conv1(lrelu(y))))
                        y = clip(c2.add_to(y, clip(c1(a, slope=LRELU_SLOPE)), inplace=y is not x))
                if total is None:
                    total = y if y is not x else x.clone()
                else:
                    total += y
            x = total  # the sum; 1/n is folded into the next layer
        x = self.post(lrelu(x, _FINAL_SLOPE, inplace=True))
        return torch.tanh(x[..., :valid].squeeze(2).float())
