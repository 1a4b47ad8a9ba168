"""Training losses of VITS2 / MeloTTS. All are computed in fp32 (inputs are cast), whatever the autocast.

The trainer combines them as MeloTTS does:
generator: ``adv + feature_matching + c_mel * mel_l1 + duration + c_kl * kl (+ duration adversarial)``;
discriminators: ``discriminator_loss`` and ``duration_discriminator_loss``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

__all__ = [
    "AdversarialLoss",
    "discriminator_loss",
    "duration_discriminator_loss",
    "duration_generator_loss",
    "feature_matching_loss",
    "generator_adversarial_loss",
    "kl_loss",
    "mel_l1_loss",
]


@dataclass
class AdversarialLoss:
    total: torch.Tensor  # scalar, summed over sub-discriminators
    per_discriminator: list[torch.Tensor]  # detached scalars, for logging


def discriminator_loss(real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor]) -> AdversarialLoss:
    """LSGAN: sum over sub-discriminators of mean((1 - D(real))^2) + mean(D(fake)^2)."""
    total = torch.zeros((), device=real_logits[0].device)
    parts = []
    for dr, dg in zip(real_logits, fake_logits):
        loss = torch.mean((1 - dr.float()) ** 2) + torch.mean(dg.float() ** 2)
        parts.append(loss.detach())
        total = total + loss
    return AdversarialLoss(total, parts)


def generator_adversarial_loss(fake_logits: list[torch.Tensor]) -> AdversarialLoss:
    """LSGAN: sum over sub-discriminators of mean((1 - D(fake))^2)."""
    total = torch.zeros((), device=fake_logits[0].device)
    parts = []
    for dg in fake_logits:
        loss = torch.mean((1 - dg.float()) ** 2)
        parts.append(loss.detach())
        total = total + loss
    return AdversarialLoss(total, parts)


def feature_matching_loss(real_features: list[list[torch.Tensor]], fake_features: list[list[torch.Tensor]]) -> torch.Tensor:
    """2 x sum over every feature map of mean |real - fake| (real maps detached)."""
    loss = torch.zeros((), device=real_features[0][0].device)
    for dr, dg in zip(real_features, fake_features):
        for rl, gl in zip(dr, dg):
            loss = loss + torch.mean(torch.abs(rl.float().detach() - gl.float()))
    return loss * 2


def kl_loss(z_p: torch.Tensor, posterior_log_scale: torch.Tensor, prior_mean: torch.Tensor,
            prior_log_scale: torch.Tensor, z_mask: torch.Tensor) -> torch.Tensor:
    """KL(q || p) estimated at the posterior sample, per valid frame and channel-summed, as in VITS.

    z_p, posterior_log_scale: (B, C, T_spec) flow output and posterior log-scales; prior_mean, prior_log_scale: the
    text prior expanded over frames; z_mask: (B, 1, T_spec).
    """
    z_p, posterior_log_scale, prior_mean, prior_log_scale, z_mask = (
        t.float() for t in (z_p, posterior_log_scale, prior_mean, prior_log_scale, z_mask))
    kl = (prior_log_scale - posterior_log_scale - 0.5
          + 0.5 * (z_p - prior_mean) ** 2 * torch.exp(-2.0 * prior_log_scale))
    return torch.sum(kl * z_mask) / torch.sum(z_mask)


def mel_l1_loss(mel_real: torch.Tensor, mel_fake: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of log-mel spectrograms (weight with ``train.c_mel``)."""
    return F.l1_loss(mel_fake.float(), mel_real.float())


def _masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return torch.sum(x * mask) / torch.sum(mask).clamp_min(1)


def duration_discriminator_loss(real_prob: torch.Tensor, fake_prob: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
    """LSGAN for the duration discriminator over valid text positions: mean (1 - D(real))^2 + mean D(fake)^2.

    (MeloTTS averages over padded positions too and sums over the batch; masking keeps padding, where the
    discriminator's output is a constant, out of the loss.)
    """
    x_mask = x_mask.float()
    return _masked_mean((1 - real_prob.float()) ** 2, x_mask) + _masked_mean(fake_prob.float() ** 2, x_mask)


def duration_generator_loss(fake_prob: torch.Tensor, x_mask: torch.Tensor) -> torch.Tensor:
    """LSGAN generator side of the duration discriminator: mean (1 - D(predicted))^2 over valid positions."""
    return _masked_mean((1 - fake_prob.float()) ** 2, x_mask.float())
