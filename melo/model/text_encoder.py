"""Text encoder: phone + tone + language embeddings + one projected bge-m3 feature, a relative-position
transformer with speaker conditioning, and a projection to the prior's means and log-scales."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from melo.model.attention import Encoder, EncoderShape, scaled_embedding_init
from melo.model.commons import sequence_mask

__all__ = ["TextEncoder", "TextEncoderOutput"]


@dataclass
class TextEncoderOutput:
    hidden: torch.Tensor  # (B, H, T_text) transformer output (feeds the duration predictors)
    prior_mean: torch.Tensor  # (B, C, T_text)
    prior_log_scale: torch.Tensor  # (B, C, T_text)
    x_mask: torch.Tensor  # (B, 1, T_text)


class TextEncoder(nn.Module):
    def __init__(
        self,
        n_symbols: int,
        n_tones: int,
        n_languages: int,
        feature_channels: int,
        out_channels: int,
        shape: EncoderShape,
        gin_channels: int = 0,
        cond_layer: int = 2,
    ) -> None:
        """``feature_channels``: the bge-m3 features' width (``model.bert_channels``); ``out_channels``: the
        prior's."""
        super().__init__()
        self.hidden_channels = hidden_channels = shape.hidden_channels
        self.out_channels = out_channels
        self.emb = nn.Embedding(n_symbols, hidden_channels)
        self.tone_emb = nn.Embedding(n_tones, hidden_channels)
        self.language_emb = nn.Embedding(n_languages, hidden_channels)
        for emb in (self.emb, self.tone_emb, self.language_emb):
            scaled_embedding_init(emb)
        self.feature_proj = nn.Conv1d(feature_channels, hidden_channels, 1)
        self.encoder = Encoder(shape, gin_channels=gin_channels, cond_layer=cond_layer)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self,
        phone_ids: torch.Tensor,  # (B, T)
        tone_ids: torch.Tensor,  # (B, T)
        language_ids: torch.Tensor,  # (B, T)
        text_lengths: torch.Tensor,  # (B,)
        text_features: torch.Tensor,  # (B, feature_channels, T)
        g: torch.Tensor | None = None,  # (B, gin, 1)
    ) -> TextEncoderOutput:
        x = self.emb(phone_ids) + self.tone_emb(tone_ids) + self.language_emb(language_ids)  # (B, T, H)
        x = (x.transpose(1, 2) + self.feature_proj(text_features)) * math.sqrt(self.hidden_channels)  # (B, H, T)
        x_mask = sequence_mask(text_lengths, x.shape[2]).unsqueeze(1).float()
        x = self.encoder(x * x_mask, x_mask, g=g)
        stats = self.proj(x) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return TextEncoderOutput(hidden=x, prior_mean=m, prior_log_scale=logs, x_mask=x_mask)
