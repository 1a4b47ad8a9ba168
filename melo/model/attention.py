"""The transformer of the text encoder and the flow: relative-position multi-head attention, conv FFN,
post-LayerNorm blocks, optional speaker conditioning before one layer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from melo.model.commons import ChannelLayerNorm

__all__ = [
    "ConvFeedForward",
    "Encoder",
    "EncoderShape",
    "RelativeMultiHeadAttention",
    "absolute_to_relative",
    "relative_to_absolute",
    "scaled_embedding_init",
]


def relative_to_absolute(rel: torch.Tensor, window: int) -> torch.Tensor:
    """(..., T, 2w+1) logits per relative offset -> (..., T, T) with ``out[i, j] = rel[i, j - i + w]``
    for ``|j - i| <= w`` and 0 elsewhere (a pad-and-reshape skew; no (T, 2T-1) intermediate)."""
    t = rel.shape[-2]
    width = t + 2 * window
    flat = F.pad(rel, (0, t)).flatten(-2)[..., : t * width]  # rows of length T+2w+1 re-read as rows of T+2w
    return flat.unflatten(-1, (t, width))[..., window : window + t]


def absolute_to_relative(weights: torch.Tensor, window: int) -> torch.Tensor:
    """(..., T, T) -> (..., T, 2w+1) with ``out[i, r] = weights[i, i + r - w]`` (0 outside the sequence)."""
    t = weights.shape[-1]
    padded = F.pad(weights, (window, window)).flatten(-2)  # rows of length T+2w
    padded = F.pad(padded, (0, t))  # re-read as rows of length T+2w+1: row i starts at column i
    return padded.unflatten(-1, (t, t + 2 * window + 1))[..., : 2 * window + 1]


class RelativeMultiHeadAttention(nn.Module):
    """Multi-head self-attention with learned relative-position keys and values within +-``window``
    (shared by all heads), as in VITS."""

    def __init__(self, channels: int, n_heads: int, p_dropout: float, window: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.head_channels = channels // n_heads
        self.window = window
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, channels, 1)
        self.drop = nn.Dropout(p_dropout)
        if window > 0:
            std = self.head_channels**-0.5
            self.emb_rel_k = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_channels) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(1, 2 * window + 1, self.head_channels) * std)
        for conv in (self.conv_q, self.conv_k, self.conv_v):
            nn.init.xavier_uniform_(conv.weight)

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        """x: (B, C, T); attn_mask: (B, 1, T, T) with 1 where both positions are valid."""
        b, c, t = x.shape
        h, d = self.n_heads, self.head_channels
        q = self.conv_q(x).view(b, h, d, t).transpose(2, 3) * d**-0.5  # (B, H, T, d)
        k = self.conv_k(x).view(b, h, d, t).transpose(2, 3)
        v = self.conv_v(x).view(b, h, d, t).transpose(2, 3)
        scores = q @ k.transpose(2, 3)  # (B, H, T, T)
        if self.window > 0:
            rel_logits = q @ self.emb_rel_k.transpose(1, 2)  # (B, H, T, 2w+1)
            scores = scores + relative_to_absolute(rel_logits, self.window)
        scores = scores.masked_fill(attn_mask == 0, -1e4)
        p_attn = self.drop(torch.softmax(scores, dim=-1))
        out = p_attn @ v  # (B, H, T, d)
        if self.window > 0:
            out = out + absolute_to_relative(p_attn, self.window) @ self.emb_rel_v.to(p_attn.dtype)
        return self.conv_o(out.transpose(2, 3).reshape(b, c, t))


class ConvFeedForward(nn.Module):
    """conv(k) -> ReLU -> dropout -> conv(k), masked, 'same' padding."""

    def __init__(self, channels: int, filter_channels: int, kernel_size: int, p_dropout: float) -> None:
        super().__init__()
        self.pad = ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv_1 = nn.Conv1d(channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
        x = self.conv_1(F.pad(x * x_mask, self.pad))
        x = self.drop(torch.relu(x))
        x = self.conv_2(F.pad(x * x_mask, self.pad))
        return x * x_mask


@dataclass(frozen=True)
class EncoderShape:
    """The size of an :class:`Encoder`: the text encoder's, and each flow coupling's."""

    hidden_channels: int
    filter_channels: int  # the feed-forward convolutions' width
    n_heads: int
    n_layers: int
    kernel_size: int  # the feed-forward convolutions' kernel
    p_dropout: float
    window: int  # relative-position attention window


class Encoder(nn.Module):
    """Post-LayerNorm transformer over (B, C, T). With ``gin_channels`` > 0 a projected speaker embedding
    is added to the hidden states before layer ``cond_layer`` (VITS2)."""

    def __init__(self, shape: EncoderShape, gin_channels: int = 0, cond_layer: int = 2) -> None:
        super().__init__()
        hidden_channels, n_layers, p_dropout = shape.hidden_channels, shape.n_layers, shape.p_dropout
        self.cond_layer = cond_layer if gin_channels > 0 else -1
        if gin_channels > 0:
            if not 0 <= cond_layer < n_layers:
                raise ValueError(f"cond_layer {cond_layer} must be in [0, n_layers={n_layers})")
            self.spk_proj = nn.Linear(gin_channels, hidden_channels)
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList(
            RelativeMultiHeadAttention(hidden_channels, shape.n_heads, p_dropout, shape.window) for _ in range(n_layers)
        )
        self.norm_1 = nn.ModuleList(ChannelLayerNorm(hidden_channels) for _ in range(n_layers))
        self.ffn_layers = nn.ModuleList(
            ConvFeedForward(hidden_channels, shape.filter_channels, shape.kernel_size, p_dropout) for _ in range(n_layers)
        )
        self.norm_2 = nn.ModuleList(ChannelLayerNorm(hidden_channels) for _ in range(n_layers))

    def forward(self, x: torch.Tensor, x_mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, C, T); x_mask: (B, 1, T); g: (B, gin, 1) speaker embedding or None."""
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)  # (B, 1, T, T)
        x = x * x_mask
        for i, (attn, norm_1, ffn, norm_2) in enumerate(zip(self.attn_layers, self.norm_1, self.ffn_layers, self.norm_2)):
            if i == self.cond_layer and g is not None:
                x = (x + self.spk_proj(g.transpose(1, 2)).transpose(1, 2)) * x_mask
            x = norm_1(x + self.drop(attn(x, attn_mask)))
            x = norm_2(x + self.drop(ffn(x, x_mask)))
        return x * x_mask


def scaled_embedding_init(embedding: nn.Embedding) -> None:
    """VITS initialises its embeddings with std ``dim ** -0.5``."""
    nn.init.normal_(embedding.weight, 0.0, embedding.embedding_dim**-0.5)


