"""Token -> phone alignment through character offsets. Pure functions: no model, no tokenizer.

Importing it loads no torch: the pooling and blank rules are numpy (``*_array``), and the torch forms the
extractor uses wrap them, so the torch-free ONNX runtime (:mod:`melo.onnx`) shares the very same rules.

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
from typing import TYPE_CHECKING, Any, Collection, Sequence

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "PhoneTokens",
    "Tokenized",
    "WINDOW_OVERLAP_FRACTION",
    "encoder_windows",
    "expand_to_sequence",
    "expand_to_sequence_array",
    "phone_token_indices",
    "pool_phone_features",
    "pool_phone_features_array",
    "pooling_weights",
    "token_char_spans",
    "tokenize",
    "window_starts",
    "pick_windows",
]

WORD_MARKER = "▁"

WINDOW_OVERLAP_FRACTION = 4
"""Consecutive windows of a too-long input share ``window // WINDOW_OVERLAP_FRACTION`` tokens."""


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
class Tokenized:
    """One utterance's content tokens (no ``<s>``/``</s>``) with the characters each owns."""

    text: str
    ids: tuple[int, ...]
    pieces: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    unknown: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.ids)


def tokenize(backend: Any, text: str, special_ids: Collection[int], unk_id: int | None) -> Tokenized:
    """``text``'s content tokens from a fast tokenizer's backend (``tokenizers.Tokenizer``; no special tokens
    added) with the characters each owns (:func:`token_char_spans`)."""
    encoding = backend.encode(text, add_special_tokens=False)
    ids = tuple(int(i) for i in encoding.ids)
    pieces = tuple(encoding.tokens)
    spans = token_char_spans(text, encoding.offsets, pieces, [i in special_ids for i in ids])
    return Tokenized(text=text, ids=ids, pieces=pieces, spans=tuple(spans), unknown=tuple(i == unk_id for i in ids))


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


def pooling_weights(phone_tokens: PhoneTokens, n_tokens: int) -> np.ndarray:
    """The ``(n_phones, n_tokens)`` float32 averaging matrix: row ``i`` holds ``1 / k`` at phone ``i``'s ``k`` tokens.
    One matmul with it pools however many tokens a phone has."""
    weights = np.zeros((len(phone_tokens.indices), n_tokens), dtype=np.float32)
    for i, hits in enumerate(phone_tokens.indices):
        if hits:
            weights[i, list(hits)] = 1.0 / len(hits)
    return weights


def pool_phone_features_array(token_states: np.ndarray, phone_tokens: PhoneTokens) -> np.ndarray:
    """:func:`pool_phone_features` on a numpy ``(T, H)`` array (the torch-free runtime's path)."""
    return pooling_weights(phone_tokens, token_states.shape[0]).astype(token_states.dtype, copy=False) @ token_states


def pool_phone_features(token_states: "torch.Tensor", phone_tokens: PhoneTokens) -> "torch.Tensor":
    """``(T, H)`` token hidden states -> ``(n_phones, H)``: the mean over each phone's tokens."""
    import torch

    weights = torch.from_numpy(pooling_weights(phone_tokens, token_states.shape[0]))
    return weights.to(token_states.dtype) @ token_states  # (n_phones, H)


def expand_to_sequence_array(phone_features: np.ndarray, phone_index: np.ndarray) -> np.ndarray:
    """``(n_phones, H)`` -> ``(H, n)`` over the model's sequence (``PhoneSequence.phone_index``), in numpy.

    Real phones take their own feature; blanks (index -1) the mean of their neighbours' (module doc).
    """
    index = np.asarray(phone_index, dtype=np.int64)
    n = len(index)
    out = np.zeros((n, phone_features.shape[1]), dtype=phone_features.dtype)
    real = index >= 0
    out[real] = phone_features[index[real]]
    for k in np.flatnonzero(~real).tolist():
        neighbours = [j for j in (k - 1, k + 1) if 0 <= j < n and index[j] >= 0]
        if neighbours:
            out[k] = out[neighbours].mean(axis=0)
    return np.ascontiguousarray(out.T)  # (H, n)


def expand_to_sequence(phone_features: "torch.Tensor", phone_index: np.ndarray) -> "torch.Tensor":
    """:func:`expand_to_sequence_array` on a torch ``(n_phones, H)`` tensor; the result is on its device."""
    import torch

    expanded = expand_to_sequence_array(phone_features.detach().cpu().numpy(), phone_index)
    return torch.from_numpy(expanded).to(phone_features.device)


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


def encoder_windows(n_tokens: int, max_tokens: int) -> list[int]:
    """The windows an utterance of ``n_tokens`` is encoded in by an encoder taking ``max_tokens`` content tokens."""
    return window_starts(n_tokens, max_tokens, max_tokens // WINDOW_OVERLAP_FRACTION)


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
