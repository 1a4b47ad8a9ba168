"""Discriminators: HiFi-GAN's multi-period discriminator plus one scale discriminator, and VITS2's
duration discriminator.

A period discriminator folds the waveform into ``period`` interleaved sub-sequences and runs (k x 1)
convolutions along them. MeloTTS writes those as Conv2d with (k, 1) kernels; here they are the identical
Conv1d over the folded batch ``(B * period, C, T / period)`` (same weights, same maths).
For the discriminator step, real and generated audio go through each discriminator as one batch; for the
generator step the real audio runs without a graph (``real_graph=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.parametrizations import spectral_norm

from melo.model.commons import LRELU_SLOPE, ChannelLayerNorm, MatmulConv1d, get_padding, weight_norm

__all__ = [
    "DiscriminatorOutput",
    "DurationDiscriminator",
    "DurationDiscriminatorOutput",
    "MultiPeriodDiscriminator",
    "PeriodDiscriminator",
    "ScaleDiscriminator",
]


def _norm(use_spectral_norm: bool):
    return spectral_norm if use_spectral_norm else weight_norm


def _conv(c_in: int, c_out: int, kernel_size: int, stride: int, padding: int) -> nn.Conv1d:
    """Wide layers (>= 256 input channels) over few positions run as one matmul (same maths, faster on CPU)."""
    conv = MatmulConv1d if c_in >= 256 else nn.Conv1d
    return conv(c_in, c_out, kernel_size, stride, padding=padding)


def _conv_stack(convs: nn.ModuleList, conv_post: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``convs`` with leaky ReLUs, then ``conv_post``: the logits and every layer's output (the feature maps)."""
    fmap = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE, inplace=True)  # conv backward does not need its output
        fmap.append(x)
    x = conv_post(x)
    fmap.append(x)
    return x, fmap


class PeriodDiscriminator(nn.Module):
    def __init__(self, period: int, channels: tuple[int, ...], kernel_size: int = 5, stride: int = 3,
                 use_spectral_norm: bool = False) -> None:
        super().__init__()
        self.period = period
        norm = _norm(use_spectral_norm)
        pad = get_padding(kernel_size)
        c_in = 1
        self.convs = nn.ModuleList()
        for i, c in enumerate(channels):
            last = i == len(channels) - 1
            self.convs.append(norm(_conv(c_in, c, kernel_size, 1 if last else stride, pad)))
            c_in = c
        self.conv_post = norm(_conv(c_in, 1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x: (B, 1, T) -> logits (B, N) and feature maps."""
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), mode="reflect")
        # (B, 1, T/p, p) -> (B*p, 1, T/p): the p interleaved sub-sequences as separate batch items
        x = x.view(b, c, -1, self.period).permute(0, 3, 1, 2).reshape(b * self.period, c, -1)
        x, fmap = _conv_stack(self.convs, self.conv_post, x)
        # back to MeloTTS's (B, 1, T', p) order before flattening, so logits line up position by position
        x = x.view(b, self.period, 1, -1).permute(0, 2, 3, 1).reshape(b, -1)
        return x, fmap


class ScaleDiscriminator(nn.Module):
    def __init__(self, channels: tuple[int, ...], groups: tuple[int, ...], use_spectral_norm: bool = False) -> None:
        super().__init__()
        norm = _norm(use_spectral_norm)
        shapes = [(15, 1, 7)] + [(41, 4, 20)] * (len(channels) - 2) + [(5, 1, 2)]  # (kernel, stride, padding)
        c_in = 1
        self.convs = nn.ModuleList()
        for c, g, (k, s, p) in zip(channels, groups, shapes):
            self.convs.append(norm(nn.Conv1d(c_in, c, k, s, groups=g, padding=p)))
            c_in = c
        self.conv_post = norm(nn.Conv1d(c_in, 1, 3, 1, padding=1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        x, fmap = _conv_stack(self.convs, self.conv_post, x)
        return torch.flatten(x, 1, -1), fmap


@dataclass
class DiscriminatorOutput:
    """Per sub-discriminator: logits for real and generated audio, and their feature maps."""

    real_logits: list[torch.Tensor]
    fake_logits: list[torch.Tensor]
    real_features: list[list[torch.Tensor]]
    fake_features: list[list[torch.Tensor]]


class MultiPeriodDiscriminator(nn.Module):
    """One scale discriminator + one period discriminator per period (MeloTTS: 2, 3, 5, 7, 11)."""

    def __init__(self, periods: tuple[int, ...] = (2, 3, 5, 7, 11),
                 period_channels: tuple[int, ...] = (32, 128, 512, 1024, 1024), period_kernel_size: int = 5,
                 period_stride: int = 3, scale_channels: tuple[int, ...] = (16, 64, 256, 1024, 1024, 1024),
                 scale_groups: tuple[int, ...] = (1, 4, 16, 64, 256, 1), use_spectral_norm: bool = False) -> None:
        super().__init__()
        self.discriminators = nn.ModuleList(
            [ScaleDiscriminator(scale_channels, scale_groups, use_spectral_norm)]
            + [PeriodDiscriminator(p, period_channels, period_kernel_size, period_stride, use_spectral_norm) for p in periods]
        )

    def forward(self, real: torch.Tensor, fake: torch.Tensor, real_graph: bool = True) -> DiscriminatorOutput:
        """real, fake: (B, 1, T) waveforms (pass ``fake.detach()`` for the discriminator step).

        ``real_graph=False`` (generator step, discriminator frozen) runs the real audio under ``no_grad``:
        its feature maps are targets only, so building their graph (and back-propagating through it) is waste.
        """
        if not real_graph:
            with torch.no_grad():
                real_out = [d(real) for d in self.discriminators]
            fake_out = [d(fake) for d in self.discriminators]
            return DiscriminatorOutput(
                real_logits=[r[0] for r in real_out], fake_logits=[f[0] for f in fake_out],
                real_features=[r[1] for r in real_out], fake_features=[f[1] for f in fake_out],
            )
        b = real.shape[0]
        both = torch.cat([real, fake], dim=0)
        out = DiscriminatorOutput([], [], [], [])
        for d in self.discriminators:
            logits, fmap = d(both)
            out.real_logits.append(logits[:b])
            out.fake_logits.append(logits[b:])
            # period discriminators fold the batch: item i owns rows [i*p, (i+1)*p)
            split = fmap[0].shape[0] // (2 * b) * b
            out.real_features.append([f[:split] for f in fmap])
            out.fake_features.append([f[split:] for f in fmap])
        return out


@dataclass
class DurationDiscriminatorOutput:
    real: torch.Tensor  # (B, 1, T_text) probability that the aligned log-durations are real
    fake: torch.Tensor  # (B, 1, T_text) same for the predicted log-durations


class DurationDiscriminator(nn.Module):
    """VITS2's duration discriminator: judges log-durations given the (detached) text hidden states."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, p_dropout: float,
                 gin_channels: int = 0) -> None:
        super().__init__()
        pad = kernel_size // 2
        self.drop = nn.Dropout(p_dropout)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=pad)
        self.norm_1 = ChannelLayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad)
        self.norm_2 = ChannelLayerNorm(filter_channels)
        self.dur_proj = nn.Conv1d(1, filter_channels, 1)
        self.pre_out_conv_1 = nn.Conv1d(2 * filter_channels, filter_channels, kernel_size, padding=pad)
        self.pre_out_norm_1 = ChannelLayerNorm(filter_channels)
        self.pre_out_conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=pad)
        self.pre_out_norm_2 = ChannelLayerNorm(filter_channels)
        if gin_channels > 0:
            self.cond = nn.Conv1d(gin_channels, in_channels, 1)
        self.output_layer = nn.Linear(filter_channels, 1)

    def _probability(self, h: torch.Tensor, x_mask: torch.Tensor, log_durations: torch.Tensor) -> torch.Tensor:
        x = torch.cat([h, self.dur_proj(log_durations)], dim=1)
        x = self.drop(self.pre_out_norm_1(torch.relu(self.pre_out_conv_1(x * x_mask))))
        x = self.drop(self.pre_out_norm_2(torch.relu(self.pre_out_conv_2(x * x_mask))))
        x = (x * x_mask).transpose(1, 2)  # (B, T, F)
        return torch.sigmoid(self.output_layer(x)).transpose(1, 2)  # (B, 1, T)

    def forward(self, hidden: torch.Tensor, x_mask: torch.Tensor, logw_real: torch.Tensor, logw_fake: torch.Tensor,
                g: torch.Tensor | None = None) -> DurationDiscriminatorOutput:
        """hidden: (B, H, T) text hidden states; logw_*: (B, 1, T); g: (B, gin, 1) if speaker-conditioned."""
        x = hidden.detach()
        if g is not None and hasattr(self, "cond"):
            x = x + self.cond(g.detach())
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * x_mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * x_mask))))
        return DurationDiscriminatorOutput(
            real=self._probability(x, x_mask, logw_real), fake=self._probability(x, x_mask, logw_fake)
        )
