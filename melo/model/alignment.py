"""Monotonic alignment search (Glow-TTS / VITS), vectorised in torch on the scores' own device.

Three phases, none of which reads anything back to the host (so on a GPU the step never waits here):

1. the dynamic programme, one spectrogram frame at a time (a Python loop over T_spec of two kernels on all
   batch items and text positions at once: the row recurrence is inherently sequential; a blocked version
   with fewer, larger kernels was measured and not adopted, see the benchmark);
2. the decision table, in one shot: at each cell, whether the best path arrived from the previous text
   position;
3. the backtrack. On CPU, one gather per frame (cheap there). Elsewhere (CUDA), by pointer doubling:
   each frame's decisions are a map from a text position to the previous frame's position, and
   ``log2(T_spec)`` rounds of composing maps (``maps[y] <- maps[y] o maps[y + span]``, one gather over all
   frames) give every frame's position at once, so the backtrack costs ~2 log2(T_spec) kernel launches
   instead of ~2 T_spec.

It reproduces the classic per-item double loop (VITS's Cython/numba ``maximum_path``) exactly -- the same
float32 additions and the same tie-breaking (on a tie the path stays on the same text position) -- for
any scores above -1e8 (log-likelihood scores are many orders of magnitude above that). Both backtracks
compose the same integer decisions, so they agree exactly too. ``benchmarks/bench_mas.py`` measures the
phases against the previous implementation and MeloTTS's numba kernel.
"""

from __future__ import annotations

from typing import Callable

import torch

__all__ = ["maximum_path"]

Backtrack = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""(step_back (B, T_spec, T_text), last text position (B,)) -> every frame's text position (B, T_spec)."""

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
    backtrack = _backtrack_by_frames if scores.device.type == "cpu" else _backtrack_by_doubling
    return _maximum_path(scores, mask, backtrack)


def _maximum_path(scores: torch.Tensor, mask: torch.Tensor, backtrack: Backtrack) -> torch.Tensor:
    """:func:`maximum_path` with a given backtrack (the benchmark times both on one device)."""
    b, t_spec, t_text = scores.shape
    spec_lengths = mask[:, :, 0].sum(1).long()  # (B,)
    text_lengths = mask[:, 0, :].sum(1).long()  # (B,)
    frames = torch.arange(t_spec, device=scores.device).view(1, t_spec, 1)
    step_back = _decisions(_best_path_scores(scores), spec_lengths)
    path_index = backtrack(step_back, text_lengths - 1)  # (B, T_spec)
    path = torch.zeros(b, t_spec, t_text, device=scores.device, dtype=torch.float32)
    path.scatter_(2, path_index.unsqueeze(-1), 1.0)
    return path * (frames < spec_lengths.view(b, 1, 1))


def _best_path_scores(scores: torch.Tensor) -> torch.Tensor:
    """value[b, y, x]: the best cumulative score of a monotonic path from (0, 0) ending at (y, x)."""
    b, t_spec, t_text = scores.shape
    device = scores.device
    frames = torch.arange(t_spec, device=device).view(t_spec, 1)
    positions = torch.arange(t_text, device=device).view(1, t_text)
    # Column 0 is a constant "impossible" so that x = 0 cannot be reached by advancing. Text positions ahead
    # of the frame (x > y) are impossible as well, which makes "stay" at x == y impossible as in the reference.
    value = torch.full((b, t_spec, t_text + 1), _NEG, device=device, dtype=torch.float32)
    value[:, :, 1:] = torch.where(positions > frames, _NEG, scores.float())
    for y in range(1, t_spec):
        prev = value[:, y - 1]
        # max(advance from x-1, stay at x), added in place: two kernels per frame (``value[...] += ...`` would
        # add a third, the write-back)
        value[:, y, 1:].add_(torch.maximum(prev[:, :-1], prev[:, 1:]))
    return value[:, :, 1:]


def _decisions(value: torch.Tensor, spec_lengths: torch.Tensor) -> torch.Tensor:
    """step_back[b, y, x] (int64 0/1): coming from frame y-1, the path at (y, x) was on x-1 (strictly better,
    or forced because x == y). Frames past an item's end do not move (its path starts at its last text
    position on the padded last frame and stays there down to its real last frame)."""
    b, t_spec, t_text = value.shape
    device = value.device
    frames = torch.arange(t_spec, device=device).view(t_spec, 1)
    positions = torch.arange(t_text, device=device).view(1, t_text)
    step_back = torch.zeros(b, t_spec, t_text, dtype=torch.long, device=device)
    forced = (positions == frames)[1:]  # (T_spec-1, T_text)
    step_back[:, 1:, 1:] = ((value[:, :-1, 1:] < value[:, :-1, :-1]) | forced[:, 1:]).long()
    return step_back.masked_fill_(frames.view(1, t_spec, 1) >= spec_lengths.view(b, 1, 1), 0)


def _backtrack_by_frames(step_back: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """The text position of every frame, from the last frame back: one gather per frame."""
    b, t_spec, _ = step_back.shape
    index = start.view(b, 1)
    path_index = []
    for y in range(t_spec - 1, -1, -1):
        path_index.append(index)
        index = index - step_back[:, y].gather(1, index)
    return torch.cat(path_index[::-1], dim=1)


def _backtrack_by_doubling(step_back: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
    """The text position of every frame by composing the frames' maps in ``ceil(log2(T_spec))`` rounds.

    ``maps[:, y, x]`` first sends a position at frame y+1 to its position at frame y (the last frame's map is
    the identity); after the rounds it sends the last frame's position to frame y's."""
    b, t_spec, t_text = step_back.shape
    identity = torch.arange(t_text, device=step_back.device).view(1, 1, t_text)
    maps = torch.cat([identity - step_back[:, 1:], identity.expand(b, 1, t_text)], dim=1)
    span = 1
    while span < t_spec:
        later = torch.cat([maps[:, span:], identity.expand(b, span, t_text)], dim=1)  # identity past the end
        maps = torch.gather(maps, 2, later)  # maps[y] o maps[y + span]
        span *= 2
    return maps.gather(2, start.view(b, 1, 1).expand(b, t_spec, 1)).squeeze(2)
