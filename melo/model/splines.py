"""Rational-quadratic spline transform with linear (identity) tails, as used by VITS's stochastic duration
predictor (Durkan et al., 2019, "Neural Spline Flows"). Computed in the dtype it is given; callers pass fp32."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

__all__ = ["rational_quadratic_spline"]


def _knots(unnormalized: torch.Tensor, minimum: float, left: float, right: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Bin sizes (..., K) from unnormalised logits and their knot positions (..., K+1) spanning [left, right]."""
    num_bins = unnormalized.shape[-1]
    sizes = minimum + (1 - minimum * num_bins) * torch.softmax(unnormalized, dim=-1)
    inner = torch.cumsum(sizes, dim=-1)[..., :-1] * (right - left) + left
    knots = torch.cat([torch.full_like(inner[..., :1], left), inner, torch.full_like(inner[..., :1], right)], dim=-1)
    return knots[..., 1:] - knots[..., :-1], knots


def rational_quadratic_spline(
    inputs: torch.Tensor,
    unnormalized_widths: torch.Tensor,
    unnormalized_heights: torch.Tensor,
    unnormalized_derivatives: torch.Tensor,
    inverse: bool = False,
    tail_bound: float = 5.0,
    min_bin_width: float = 1e-3,
    min_bin_height: float = 1e-3,
    min_derivative: float = 1e-3,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monotonic spline on [-tail_bound, tail_bound], identity outside (derivative 1 at both ends).

    inputs: (...); widths/heights: (..., K); derivatives: (..., K-1) for the inner knots.
    Returns (outputs, log |d outputs / d inputs|), both shaped like ``inputs``.
    """
    num_bins = unnormalized_widths.shape[-1]
    if min_bin_width * num_bins > 1.0 or min_bin_height * num_bins > 1.0:
        raise ValueError(f"minimal bin size too large for {num_bins} bins")
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    x = inputs.clamp(-tail_bound, tail_bound)  # keeps the unused branch finite (no NaN gradients)

    boundary = math.log(math.expm1(1 - min_derivative))  # softplus(boundary) + min_derivative == 1
    derivatives = min_derivative + F.softplus(F.pad(unnormalized_derivatives, (1, 1), value=boundary))
    widths, cumwidths = _knots(unnormalized_widths, min_bin_width, -tail_bound, tail_bound)
    heights, cumheights = _knots(unnormalized_heights, min_bin_height, -tail_bound, tail_bound)

    locations = cumheights if inverse else cumwidths
    locations = torch.cat([locations[..., :-1], locations[..., -1:] + 1e-6], dim=-1)
    bin_idx = (torch.sum(x.unsqueeze(-1) >= locations, dim=-1) - 1).clamp(0, num_bins - 1).unsqueeze(-1)

    def pick(t: torch.Tensor) -> torch.Tensor:
        return t.gather(-1, bin_idx).squeeze(-1)

    in_cumwidths, in_widths = pick(cumwidths), pick(widths)
    in_cumheights, in_heights = pick(cumheights), pick(heights)
    in_delta = in_heights / in_widths
    in_d0, in_d1 = pick(derivatives), pick(derivatives[..., 1:])
    curvature = in_d0 + in_d1 - 2 * in_delta

    if inverse:
        dy = x - in_cumheights
        a = dy * curvature + in_heights * (in_delta - in_d0)
        b = in_heights * in_d0 - dy * curvature
        c = -in_delta * dy
        discriminant = (b.pow(2) - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - torch.sqrt(discriminant))
        out = theta * in_widths + in_cumwidths
    else:
        theta = (x - in_cumwidths) / in_widths
        tt = theta * (1 - theta)
        out = in_cumheights + in_heights * (in_delta * theta.pow(2) + in_d0 * tt) / (in_delta + curvature * tt)

    tt = theta * (1 - theta)
    denominator = in_delta + curvature * tt
    derivative_numerator = in_delta.pow(2) * (in_d1 * theta.pow(2) + 2 * in_delta * tt + in_d0 * (1 - theta).pow(2))
    logabsdet = torch.log(derivative_numerator) - 2 * torch.log(denominator)
    if inverse:
        logabsdet = -logabsdet
    outputs = torch.where(inside, out, inputs)
    logabsdet = torch.where(inside, logabsdet, torch.zeros_like(logabsdet))
    return outputs, logabsdet
