"""Small helpers shared by the model components: masks, segment slicing, layer norm, weight norm."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

__all__ = [
    "ChannelLayerNorm",
    "MatmulConv1d",
    "LRELU_SLOPE",
    "duration_path",
    "get_padding",
    "init_conv_weights",
    "rand_slice_segments",
    "remove_weight_norm",
    "sequence_mask",
    "slice_segments",
    "weight_norm",
]

LRELU_SLOPE = 0.1
"""Leaky-ReLU slope of HiFi-GAN (decoder and discriminators)."""


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """'Same' padding of an odd kernel."""
    return (kernel_size * dilation - dilation) // 2


def init_conv_weights(module: nn.Module, std: float = 0.01) -> None:
    """HiFi-GAN's initialisation: conv weights ~ N(0, std)."""
    if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d, nn.Conv2d)):
        module.weight.data.normal_(0.0, std)


def sequence_mask(lengths: torch.Tensor, max_length: int | None = None) -> torch.Tensor:
    """(B,) lengths -> (B, max_length) bool, True inside each sequence."""
    if max_length is None:
        max_length = int(lengths.max())
    positions = torch.arange(max_length, dtype=lengths.dtype, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def slice_segments(x: torch.Tensor, starts: torch.Tensor, segment_size: int) -> torch.Tensor:
    """Cut ``x[b, :, starts[b] : starts[b] + segment_size]`` for every item; (B, C, T) -> (B, C, segment_size).

    Positions past the end of ``x`` read as zeros (a clip shorter than a segment is zero-padded). Nothing is
    read back to the host: the gather reads clamped positions and the ones past the end are zeroed after.
    """
    b, c, t = x.shape
    index = starts.view(b, 1, 1) + torch.arange(segment_size, device=x.device).view(1, 1, segment_size)
    window = torch.gather(x, 2, index.clamp(max=t - 1).expand(b, c, segment_size))
    return torch.where(index < t, window, 0.0)


def rand_slice_segments(
    x: torch.Tensor, lengths: torch.Tensor, segment_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random window of ``segment_size`` frames inside each item's valid length.

    Returns (segments (B, C, segment_size), starts (B,) long).
    """
    max_start = torch.clamp(lengths - segment_size + 1, min=1)
    u = torch.rand(lengths.shape[0], device=x.device, generator=generator)
    starts = (u * max_start).long()
    return slice_segments(x, starts, segment_size), starts


def duration_path(durations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Hard monotonic alignment from integer durations.

    durations: (B, 1, T_text) (whole frames); mask: (B, 1, T_spec, T_text).
    Returns (B, 1, T_spec, T_text) with ``path[b, 0, j, i] = 1`` when frame ``j`` belongs to text position ``i``.
    """
    t_spec = mask.shape[2]
    end = torch.cumsum(durations, dim=-1)  # (B, 1, T_text)
    start = end - durations
    frames = torch.arange(t_spec, device=durations.device, dtype=durations.dtype).view(1, 1, t_spec, 1)
    path = (frames >= start.unsqueeze(2)) & (frames < end.unsqueeze(2))
    return path.to(mask.dtype) * mask


class ChannelLayerNorm(nn.Module):
    """LayerNorm over the channel axis of a (B, C, T) tensor."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x.transpose(1, -1), (x.shape[1],), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


def remove_weight_norm(module: nn.Module) -> int:
    """Fold every weight-norm parametrization under ``module`` into a plain weight; returns how many."""
    folded = 0
    for sub in module.modules():
        if parametrize.is_parametrized(sub, "weight"):
            parametrize.remove_parametrizations(sub, "weight", leave_parametrized=True)
            folded += 1
    return folded


class MatmulConv1d(nn.Conv1d):
    """A plain Conv1d (groups 1, dilation 1) computed as one matrix multiply over unfolded windows.

    Same parameters and the same sums as ``nn.Conv1d``. On CPU it is ~1.3-1.9x faster (forward + backward)
    for the wide, short inputs of the period discriminators' deep layers (e.g. 1024 -> 1024 channels over
    ~20 positions), where oneDNN's direct convolution is inefficient; use ``nn.Conv1d`` elsewhere.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.groups != 1 or self.dilation != (1,) or self.padding_mode != "zeros" or isinstance(self.padding, str):
            raise ValueError("MatmulConv1d supports groups=1, dilation=1, numeric zero padding only")

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        n, c, _ = x.shape
        k, stride, pad = self.kernel_size[0], self.stride[0], self.padding[0]
        cols = F.pad(x, (pad, pad)).unfold(2, k, stride)  # (N, C, T_out, k)
        t_out = cols.shape[2]
        cols = cols.permute(0, 2, 1, 3).reshape(n * t_out, c * k)
        w = weight.reshape(weight.shape[0], c * k)
        out = torch.addmm(bias, cols, w.t()) if bias is not None else cols @ w.t()  # (N*T_out, out)
        return out.view(n, t_out, -1).transpose(1, 2)
