"""HiFi-GAN generator: latent frames (B, C, T) -> waveform (B, 1, T * prod(upsample_rates))."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from melo.model.commons import LRELU_SLOPE, get_padding, init_conv_weights, weight_norm

__all__ = ["Generator", "ResBlock1", "ResBlock2"]


class ResBlock1(nn.Module):
    """Three (dilated conv, conv) pairs with leaky ReLUs and residual connections."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=get_padding(kernel_size, d)))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, padding=get_padding(kernel_size)))
            for _ in dilations
        )
        self.apply(init_conv_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = c1(F.leaky_relu(x, LRELU_SLOPE))
            xt = c2(F.leaky_relu(xt, LRELU_SLOPE, inplace=True))  # xt is a conv output: safe in place
            x = x + xt.float()  # under autocast: convs in low precision, the residual stream in fp32
        return x


class ResBlock2(nn.Module):
    """The lighter HiFi-GAN V3 block: one dilated conv per dilation."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            weight_norm(nn.Conv1d(channels, channels, kernel_size, dilation=d, padding=get_padding(kernel_size, d)))
            for d in dilations
        )
        self.apply(init_conv_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE)).float()
        return x


class Generator(nn.Module):
    def __init__(
        self,
        in_channels: int,
        resblock: str,
        resblock_kernel_sizes: tuple[int, ...],
        resblock_dilation_sizes: tuple[tuple[int, ...], ...],
        upsample_rates: tuple[int, ...],
        upsample_initial_channel: int,
        upsample_kernel_sizes: tuple[int, ...],
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.num_kernels = len(resblock_kernel_sizes)
        self.conv_pre = nn.Conv1d(in_channels, upsample_initial_channel, 7, padding=3)
        block = ResBlock1 if resblock == "1" else ResBlock2
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for rate, kernel in zip(upsample_rates, upsample_kernel_sizes):
            self.ups.append(weight_norm(nn.ConvTranspose1d(ch, ch // 2, kernel, rate, padding=(kernel - rate) // 2)))
            ch //= 2
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(ch, k, tuple(d)))
        self.ups.apply(init_conv_weights)
        self.conv_post = nn.Conv1d(ch, 1, 7, padding=3, bias=False)
        if gin_channels > 0:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, C, T) -> (B, 1, T * hop) in [-1, 1].

        Under autocast the convolutions run in bf16/fp16 while the residual streams and the averages over
        resblocks stay fp32 (the ``.float()`` calls; no-ops in fp32), which keeps the bf16 error small.
        """
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i, up in enumerate(self.ups):
            # x is a fresh sum/average whose backward does not need it: activate in place
            x = up(F.leaky_relu(x, LRELU_SLOPE, inplace=True)).float()
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs = xs + block(x)
            x = xs / self.num_kernels
        x = self.conv_post(F.leaky_relu(x))  # default slope 0.01 here, as in HiFi-GAN
        return torch.tanh(x)
