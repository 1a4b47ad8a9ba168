"""Duration predictors: the deterministic one (log-durations by regression) and VITS's stochastic one
(a normalising flow over log-durations with spline couplings and a variational dequantiser).

Both read the text encoder's hidden states and the speaker embedding *detached*: their losses train only
themselves, as in VITS/MeloTTS. The stochastic predictor always runs in fp32 (log-determinants, splines).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from melo.model.commons import ChannelLayerNorm
from melo.model.splines import rational_quadratic_spline

__all__ = ["ConvFlow", "DilatedDepthSeparableConv", "DurationPredictor", "StochasticDurationPredictor"]


class DurationPredictor(nn.Module):
    """Two conv -> ReLU -> LayerNorm -> dropout blocks and a 1x1 projection to one log-duration per position."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, p_dropout: float, gin_channels: int = 0) -> None:
        super().__init__()
        self.drop = nn.Dropout(p_dropout)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.norm_1 = ChannelLayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(filter_channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.norm_2 = ChannelLayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        if gin_channels > 0:
            self.cond = nn.Conv1d(gin_channels, in_channels, 1)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, H, T) -> log-durations (B, 1, T)."""
        x = x.detach()
        if g is not None:
            x = x + self.cond(g.detach())
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * x_mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * x_mask))))
        return self.proj(x * x_mask) * x_mask


class DilatedDepthSeparableConv(nn.Module):
    """Residual stack of depthwise convs with dilation ``kernel_size ** i``, each followed by LN-GELU-1x1-LN-GELU."""

    def __init__(self, channels: int, kernel_size: int, n_layers: int, p_dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(p_dropout)
        self.convs_sep = nn.ModuleList()
        self.convs_1x1 = nn.ModuleList()
        self.norms_1 = nn.ModuleList()
        self.norms_2 = nn.ModuleList()
        for i in range(n_layers):
            dilation = kernel_size**i
            padding = (kernel_size * dilation - dilation) // 2
            self.convs_sep.append(
                nn.Conv1d(channels, channels, kernel_size, groups=channels, dilation=dilation, padding=padding)
            )
            self.convs_1x1.append(nn.Conv1d(channels, channels, 1))
            self.norms_1.append(ChannelLayerNorm(channels))
            self.norms_2.append(ChannelLayerNorm(channels))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        if g is not None:
            x = x + g
        for sep, pointwise, norm_1, norm_2 in zip(self.convs_sep, self.convs_1x1, self.norms_1, self.norms_2):
            y = F.gelu(norm_1(sep(x * x_mask)))
            y = F.gelu(norm_2(pointwise(y)))
            x = x + self.drop(y)
        return x * x_mask


class ElementwiseAffine(nn.Module):
    """y = m + exp(logs) * x per channel."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.m = nn.Parameter(torch.zeros(channels, 1))
        self.logs = nn.Parameter(torch.zeros(channels, 1))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False):
        if reverse:
            return (x - self.m) * torch.exp(-self.logs) * x_mask
        y = (self.m + torch.exp(self.logs) * x) * x_mask
        return y, torch.sum(self.logs * x_mask, dim=[1, 2])


class Flip(nn.Module):
    """Reverse the channel order (so the next coupling transforms the other half)."""

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False):
        x = torch.flip(x, [1])
        if reverse:
            return x
        return x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)


class ConvFlow(nn.Module):
    """Spline coupling: the second half of the channels goes through a rational-quadratic spline whose
    knots are predicted from the first half (and the conditioning ``g``)."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, n_layers: int,
                 num_bins: int = 10, tail_bound: float = 5.0) -> None:
        super().__init__()
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.half_channels = in_channels // 2
        self.pre = nn.Conv1d(self.half_channels, filter_channels, 1)
        self.convs = DilatedDepthSeparableConv(filter_channels, kernel_size, n_layers, p_dropout=0.0)
        self.proj = nn.Conv1d(filter_channels, self.half_channels * (num_bins * 3 - 1), 1)
        self.proj.weight.data.zero_()  # starts as the identity
        self.proj.bias.data.zero_()

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, reverse: bool = False):
        x0, x1 = torch.split(x, [self.half_channels] * 2, dim=1)
        h = self.proj(self.convs(self.pre(x0), x_mask, g=g)) * x_mask
        b, c, t = x0.shape
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)  # (B, c, T, 3K-1)
        k, scale = self.num_bins, math.sqrt(self.filter_channels)
        x1, logabsdet = rational_quadratic_spline(
            x1, h[..., :k] / scale, h[..., k : 2 * k] / scale, h[..., 2 * k :],
            inverse=reverse, tail_bound=self.tail_bound,
        )
        x = torch.cat([x0, x1], dim=1) * x_mask
        if reverse:
            return x
        return x, torch.sum(logabsdet * x_mask, dim=[1, 2])


def _log_flow(x: torch.Tensor, x_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.log(torch.clamp_min(x, 1e-5)) * x_mask
    return y, torch.sum(-y, dim=[1, 2])


class StochasticDurationPredictor(nn.Module):
    """VITS's flow-based duration model. ``forward`` gives the per-item negative log-likelihood bound of the
    aligned durations; ``infer`` samples log-durations."""

    def __init__(self, in_channels: int, filter_channels: int, kernel_size: int, p_dropout: float, n_flows: int = 4,
                 gin_channels: int = 0, conv_layers: int = 3, num_bins: int = 10, tail_bound: float = 5.0) -> None:
        super().__init__()

        def flow_stack() -> nn.ModuleList:
            flows: list[nn.Module] = [ElementwiseAffine(2)]
            for _ in range(n_flows):
                flows += [ConvFlow(2, filter_channels, kernel_size, conv_layers, num_bins, tail_bound), Flip()]
            return nn.ModuleList(flows)

        self.flows = flow_stack()
        self.post_pre = nn.Conv1d(1, filter_channels, 1)
        self.post_proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.post_convs = DilatedDepthSeparableConv(filter_channels, kernel_size, conv_layers, p_dropout=p_dropout)
        self.post_flows = flow_stack()
        self.pre = nn.Conv1d(in_channels, filter_channels, 1)
        self.proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.convs = DilatedDepthSeparableConv(filter_channels, kernel_size, conv_layers, p_dropout=p_dropout)
        if gin_channels > 0:
            self.cond = nn.Conv1d(gin_channels, filter_channels, 1)

    def _condition(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        x = self.pre(x.detach().float())
        if g is not None:
            x = x + self.cond(g.detach().float())
        return self.proj(self.convs(x, x_mask)) * x_mask

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, durations: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, H, T) hidden states; durations: (B, 1, T) aligned frame counts. Returns (B,) NLL bound (nats)."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x_mask = x_mask.float()
            w = durations.float()
            x = self._condition(x, x_mask, g)
            # variational dequantisation: q(u, z1 | w, x)
            h_w = self.post_proj(self.post_convs(self.post_pre(w), x_mask)) * x_mask
            e_q = torch.randn(w.shape[0], 2, w.shape[2], device=w.device, dtype=w.dtype) * x_mask
            z_q = e_q
            logdet_q = torch.zeros(w.shape[0], device=w.device, dtype=w.dtype)
            for flow in self.post_flows:
                z_q, logdet = flow(z_q, x_mask, g=x + h_w)
                logdet_q = logdet_q + logdet
            z_u, z1 = torch.split(z_q, [1, 1], dim=1)
            u = torch.sigmoid(z_u) * x_mask
            z0 = (w - u) * x_mask
            logdet_q = logdet_q + torch.sum((F.logsigmoid(z_u) + F.logsigmoid(-z_u)) * x_mask, dim=[1, 2])
            log_q = torch.sum(-0.5 * (math.log(2 * math.pi) + e_q.pow(2)) * x_mask, dim=[1, 2]) - logdet_q
            # p(log(w - u), z1 | x)
            z0, logdet_tot = _log_flow(z0, x_mask)
            z = torch.cat([z0, z1], dim=1)
            for flow in self.flows:
                z, logdet = flow(z, x_mask, g=x)
                logdet_tot = logdet_tot + logdet
            nll = torch.sum(0.5 * (math.log(2 * math.pi) + z.pow(2)) * x_mask, dim=[1, 2]) - logdet_tot
            return nll + log_q

    def infer(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None, noise_scale: float = 0.8) -> torch.Tensor:
        """Sample log-durations (B, 1, T)."""
        return self.sample(x, x_mask, self.prior_noise(x, noise_scale), g=g)

    @staticmethod
    def prior_noise(x: torch.Tensor, noise_scale: float) -> torch.Tensor:
        """The prior draw ``infer`` inverts: (B, 2, T) fp32 normal noise times ``noise_scale``."""
        return torch.randn(x.shape[0], 2, x.shape[2], device=x.device, dtype=torch.float32) * noise_scale

    def sample(self, x: torch.Tensor, x_mask: torch.Tensor, noise: torch.Tensor,
               g: torch.Tensor | None = None) -> torch.Tensor:
        """Log-durations (B, 1, T) for the prior draw ``noise`` (see ``prior_noise``): ``infer`` without its
        randomness, so that it can be traced."""
        with torch.autocast(device_type=x.device.type, enabled=False):
            x_mask = x_mask.float()
            x = self._condition(x, x_mask, g)
            # Inverse order. The first spline coupling only changes z1, which is discarded, so it is skipped.
            flows = list(reversed(self.flows))
            flows = flows[:-2] + [flows[-1]]
            z = noise
            for flow in flows:
                z = flow(z, x_mask, g=x, reverse=True)
            return z[:, :1]
