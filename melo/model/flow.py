"""The normalising flow between the posterior latent z and the prior: mean-only affine couplings whose
shift is predicted by a small relative-position transformer, each followed by a channel flip.
Mean-only couplings are volume preserving (log-determinant 0), so nothing here needs fp32."""

from __future__ import annotations

import torch
from torch import nn

from melo.model.attention import Encoder, EncoderShape

__all__ = ["TransformerCouplingBlock", "TransformerCouplingLayer"]


class TransformerCouplingLayer(nn.Module):
    def __init__(self, channels: int, shape: EncoderShape, gin_channels: int = 0, cond_layer: int = 2) -> None:
        super().__init__()
        self.half_channels = channels // 2
        self.pre = nn.Conv1d(self.half_channels, shape.hidden_channels, 1)
        self.enc = Encoder(shape, gin_channels=gin_channels, cond_layer=cond_layer)
        self.post = nn.Conv1d(shape.hidden_channels, self.half_channels, 1)
        self.post.weight.data.zero_()  # starts as the identity
        self.post.bias.data.zero_()

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False) -> torch.Tensor:
        x0, x1 = torch.split(x, [self.half_channels] * 2, dim=1)
        h = self.enc(self.pre(x0) * x_mask, x_mask, g=g)
        shift = self.post(h) * x_mask
        x1 = (x1 - shift) * x_mask if reverse else (x1 + shift) * x_mask
        return torch.cat([x0, x1], dim=1)


class TransformerCouplingBlock(nn.Module):
    """``n_flows`` couplings with flips. ``forward`` maps posterior z -> z_p; ``reverse=True`` maps back."""

    def __init__(self, channels: int, shape: EncoderShape, n_flows: int, gin_channels: int = 0,
                 cond_layer: int = 2) -> None:
        super().__init__()
        self.flows = nn.ModuleList(
            TransformerCouplingLayer(channels, shape, gin_channels=gin_channels, cond_layer=cond_layer)
            for _ in range(n_flows)
        )

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False) -> torch.Tensor:
        if not reverse:
            for flow in self.flows:
                x = torch.flip(flow(x, x_mask, g=g), [1])
        else:
            for flow in reversed(self.flows):
                x = flow(torch.flip(x, [1]), x_mask, g=g, reverse=True)
        return x
