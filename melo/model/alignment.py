"""Monotonic alignment search (Glow-TTS / VITS), vectorised in torch on the scores' own device.

The dynamic programme runs one spectrogram frame at a time (a Python loop over T_spec) and updates all
batch items and text positions of that frame at once (two tensor ops per frame); the backtrack reads a
decision table computed in one shot and is then one gather per frame.

It reproduces the classic per-item double loop (VITS's Cython/numba ``maximum_path``) exactly -- the same
float32 additions and the same tie-breaking (on a tie the path stays on the same text position) -- for
any scores above -1e8 (log-likelihood scores are many orders of magnitude above that).
"""

from __future__ import annotations

import torch

__all__ = ["maximum_path"]

_NEG = -1e9  # "impossible" in the reference implementation


@torch.no_grad()
def maximum_path(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Most likely monotonic alignment.

    scores: (B, T_spec, T_text) log-likelihood of frame j under text position i (computed in fp32).
    mask: (B, T_spec, T_text), 1 inside (valid frame) x (valid text position).
    Returns the hard path (B, T_spec, T_text) as float32: every valid frame maps to exactly one text
    position, positions never decrease, and every valid text position gets at least one frame
    (when there are at least as many frames as text positions).
    """
    b, t_spec, t_text = scores.shape
    device = scores.device
    spec_lengths = mask[:, :, 0].sum(1).long()  # (B,)
    text_lengths = mask[:, 0, :].sum(1).long()  # (B,)
    frames = torch.arange(t_spec, device=device).view(t_spec, 1)
    positions = torch.arange(t_text, device=device).view(1, t_text)

    # value[:, y, 1 + x] is the best cumulative score of a path ending at (y, x); column 0 is a constant
    # "impossible" so that x = 0 cannot be reached by advancing. Text positions ahead of the frame
    # (x > y) are impossible as well, which makes "stay" at x == y impossible as in the reference.
    value = torch.full((b, t_spec, t_text + 1), _NEG, device=device, dtype=torch.float32)
    value[:, :, 1:] = torch.where(positions > frames, _NEG, scores.float())
    for y in range(1, t_spec):
        prev = value[:, y - 1]
        value[:, y, 1:] += torch.maximum(prev[:, :-1], prev[:, 1:])  # max(advance from x-1, stay at x)
    value = value[:, :, 1:]

    # step_back[b, y, x]: coming from frame y-1, the path at (y, x) was on x-1 (strictly better, or forced).
    step_back = torch.zeros(b, t_spec, t_text, dtype=torch.long, device=device)
    forced = (positions == frames)[1:]  # (T_spec-1, T_text)
    step_back[:, 1:, 1:] = ((value[:, :-1, 1:] < value[:, :-1, :-1]) | forced[:, 1:]).long()
    step_back[frames.view(1, t_spec) >= spec_lengths.view(b, 1)] = 0  # frames past the end do not move

    index = (text_lengths - 1).view(b, 1)
    path_index = []
    for y in range(t_spec - 1, -1, -1):
        path_index.append(index)
        index = index - step_back[:, y].gather(1, index)
    path_index = torch.cat(path_index[::-1], dim=1)  # (B, T_spec)
    path = torch.zeros(b, t_spec, t_text, device=device, dtype=torch.float32)
    path.scatter_(2, path_index.unsqueeze(-1), 1.0)
    return path * (frames.view(1, t_spec, 1) < spec_lengths.view(b, 1, 1))
