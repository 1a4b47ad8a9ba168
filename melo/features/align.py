"""Token -> phone alignment through character offsets. Pure functions: no model, no tokenizer.

The rules, in one place:

* **Token spans.** A token owns the characters of its offset span in the normalised text, minus
  leading and trailing whitespace (XLM-R's "▁word" pieces include the space before the word). A piece
  that is only the word-boundary marker "▁" owns no character (its offsets point at a space or at
  the next character, which another piece also covers). Special tokens (``<s>``, ``</s>``, padding)
  own nothing and are never pooled; ``<unk>`` pieces are ordinary tokens here (they are counted
  separately as unknown).
* **Phone features.** Phone ``i`` gets the mean of the hidden states of every token whose span
  overlaps ``word_spans[i]`` by at least one character. Pieces that cross a word boundary therefore
  feed both words, and a word split into several pieces averages them all.
* **No overlap** (the word's characters were dropped by the tokenizer's normaliser, or the span is
  whitespace): the mean of the tokens nearest to the word by character gap (all tokens tied at the
  smallest gap). With no tokens at all (empty text), zeros.
* **Blanks** (``to_sequence(...).phone_index == -1``): the mean of the features of the phones on
  either side (the one neighbour at either end; zeros if there are no phones). A blank is the
  transition between two phones, so it takes the context of both; it stays inside the range of the
  real features (unlike zeros, which would be a point the encoder never produces) and, within a word,
  equals that word's feature exactly. MeloTTS similarly gives blanks a neighbouring token's vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "PhoneTokens",
    "expand_to_sequence",
    "phone_token_indices",
    "pool_phone_features",
    "token_char_spans",
    "window_starts",
    "pick_windows",
]

WORD_MARKER = "▁"


def token_char_spans(
    text: str, offsets: Sequence[tuple[int, int]], pieces: Sequence[str], is_special: Sequence[bool]
) -> list[tuple[int, int]]:
    """The characters each token owns, as ``(start, end)``; ``start == end`` means none (see module doc)."""
    spans: list[tuple[int, int]] = []
    for (start, end), piece, special in zip(offsets, pieces, is_special):
        if special or not piece.replace(WORD_MARKER, ""):
            spans.append((start, start))
            continue
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class PhoneTokens:
    """For each phone, the indices (into the content tokens) whose hidden states are averaged.

    ``nearest[i]`` is True where no token overlapped the word and the nearest ones were used.
    """

    indices: tuple[tuple[int, ...], ...]
    nearest: tuple[bool, ...]


def phone_token_indices(word_spans: Sequence[tuple[int, int]], token_spans: Sequence[tuple[int, int]]) -> PhoneTokens:
    """Which tokens each phone's feature comes from (overlap rule, nearest-token fallback)."""
    owned = [(k, s, e) for k, (s, e) in enumerate(token_spans) if e > s]
    by_word: dict[tuple[int, int], tuple[tuple[int, ...], bool]] = {}
    indices: list[tuple[int, ...]] = []
    nearest: list[bool] = []
    for span in word_spans:
        if span not in by_word:
            w_start, w_end = span
            hits = tuple(k for k, s, e in owned if s < w_end and w_start < e)
            fallback = False
            if not hits and owned:
                gaps = [max(0, s - w_end, w_start - e) for _, s, e in owned]
                smallest = min(gaps)
                hits = tuple(k for (k, _, _), gap in zip(owned, gaps) if gap == smallest)
                fallback = True
            by_word[span] = (hits, fallback)
        hits, fallback = by_word[span]
        indices.append(hits)
        nearest.append(fallback)
    return PhoneTokens(indices=tuple(indices), nearest=tuple(nearest))


def pool_phone_features(token_states: "torch.Tensor", phone_tokens: PhoneTokens) -> "torch.Tensor":
    """``(T, H)`` token hidden states -> ``(n_phones, H)``: the mean over each phone's tokens."""
    import torch

    n_phones = len(phone_tokens.indices)
    hidden = token_states.shape[1]
    if n_phones == 0:
        return token_states.new_zeros(0, hidden)
    # A (n_phones, T) averaging matrix keeps this one matmul however many tokens a phone has.
    weights = torch.zeros(n_phones, token_states.shape[0], dtype=token_states.dtype)
    for i, hits in enumerate(phone_tokens.indices):
        if hits:
            weights[i, list(hits)] = 1.0 / len(hits)
    return weights @ token_states  # (n_phones, H)


def expand_to_sequence(phone_features: "torch.Tensor", phone_index: np.ndarray) -> "torch.Tensor":
    """``(n_phones, H)`` -> ``(H, n)`` over the model's sequence (``PhoneSequence.phone_index``).

    Real phones take their own feature; blanks (index -1) the mean of their neighbours' (module doc).
    """
    import torch

    n = len(phone_index)
    hidden = phone_features.shape[1]
    out = phone_features.new_zeros(n, hidden)
    index = torch.as_tensor(np.asarray(phone_index), dtype=torch.long)
    real = index >= 0
    out[real] = phone_features[index[real]]
    for k in torch.nonzero(~real).flatten().tolist():
        neighbours = [j for j in (k - 1, k + 1) if 0 <= j < n and index[j] >= 0]
        if neighbours:
            out[k] = out[neighbours].mean(dim=0)
    return out.T.contiguous()  # (H, n)


def window_starts(n_tokens: int, window: int, overlap: int) -> list[int]:
    """Start offsets of windows of ``window`` tokens covering ``n_tokens``, consecutive ones sharing
    at least ``overlap`` tokens; the last window ends exactly at ``n_tokens``."""
    if n_tokens <= window:
        return [0]
    if not 0 <= overlap < window:
        raise ValueError(f"overlap {overlap} must be in [0, window={window})")
    stride = window - overlap
    starts = list(range(0, n_tokens - window, stride))
    starts.append(n_tokens - window)
    return starts


def pick_windows(n_tokens: int, starts: Sequence[int], window: int) -> np.ndarray:
    """For each token, the window whose edges are farthest from it (most context on both sides)."""
    best = np.zeros(n_tokens, dtype=np.int64)
    best_margin = np.full(n_tokens, -1, dtype=np.int64)
    positions = np.arange(n_tokens)
    for w, start in enumerate(starts):
        end = min(start + window, n_tokens)
        inside = (positions >= start) & (positions < end)
        margin = np.minimum(positions - start, end - 1 - positions)
        better = inside & (margin > best_margin)
        best[better] = w
        best_margin[better] = margin[better]
    return best
