"""Posterior encoder: linear spectrogram -> WaveNet-style gated dilated conv stack -> z ~ N(mean, exp(log_scale))."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from melo.model.commons import sequence_mask, weight_norm

__all__ = ["PosteriorEncoder", "PosteriorOutput", "WaveNet"]


class WaveNet(nn.Module):
    """Non-causal WaveNet: gated (tanh * sigmoid) dilated convs with residual and skip 1x1s, speaker-conditioned."""

    def __init__(self, hidden_channels: int, kernel_size: int, dilation_rate: int, n_layers: int,
                 gin_channels: int = 0, p_dropout: float = 0.0) -> None:
        super().__init__()
        self.hidden_channels = hidden_channels
        self.n_layers = n_layers
        self.drop = nn.Dropout(p_dropout)
        if gin_channels > 0:
            self.cond_layer = weight_norm(nn.Conv1d(gin_channels, 2 * hidden_channels * n_layers, 1))
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        for i in range(n_layers):
            dilation = dilation_rate**i
            padding = (kernel_size * dilation - dilation) // 2
            self.in_layers.append(
                weight_norm(nn.Conv1d(hidden_channels, 2 * hidden_channels, kernel_size, dilation=dilation, padding=padding))
            )
            out = 2 * hidden_channels if i < n_layers - 1 else hidden_channels  # the last layer only has a skip
            self.res_skip_layers.append(weight_norm(nn.Conv1d(hidden_channels, out, 1)))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        h = self.hidden_channels
        output = None
        cond = self.cond_layer(g) if g is not None else None  # (B, 2*H*L, 1)
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            x_in = in_layer(x)
            if cond is not None:
                x_in = x_in + cond[:, 2 * h * i : 2 * h * (i + 1)]
            acts = self.drop(torch.tanh(x_in[:, :h]) * torch.sigmoid(x_in[:, h:]))
            res_skip_acts = res_skip(acts)
            if i < self.n_layers - 1:
                x = (x + res_skip_acts[:, :h]) * x_mask
                skip = res_skip_acts[:, h:]
            else:
                skip = res_skip_acts
            output = skip if output is None else output + skip
        return output * x_mask


@dataclass
class PosteriorOutput:
    z: torch.Tensor  # (B, C, T_spec) sample
    mean: torch.Tensor  # (B, C, T_spec)
    log_scale: torch.Tensor  # (B, C, T_spec)
    mask: torch.Tensor  # (B, 1, T_spec) float


class PosteriorEncoder(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int, kernel_size: int,
                 dilation_rate: int, n_layers: int, gin_channels: int = 0) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden_channels, 1)
        self.enc = WaveNet(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels=gin_channels)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(self, spec: torch.Tensor, lengths: torch.Tensor, g: torch.Tensor | None = None) -> PosteriorOutput:
        mask = sequence_mask(lengths, spec.shape[2]).unsqueeze(1).float()
        x = self.pre(spec) * mask
        x = self.enc(x, mask, g=g)
        stats = self.proj(x) * mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        z = (m + torch.randn_like(m) * torch.exp(logs)) * mask
        return PosteriorOutput(z=z, mean=m, log_scale=logs, mask=mask)
