"""Closed-set sentence identification by DTW: is a synthesis nearest to a reference of its own sentence?

Every synthesised utterance is compared with the references of the evaluated set (all of them, or only
those of its language): DTW over mean-normalised mel cepstra (:mod:`melo.eval.dtw`, path-length-normalised
cost). It is identified correctly when the nearest reference reads the same text (its own reference is
always a candidate). Chance level is the fraction of candidates that read its text (``1 / candidates``
when every sentence is read once). Nothing here depends on the language: it works for all four.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from melo.eval.dtw import CandidateBank

__all__ = ["ClosedSet", "Identification"]


@dataclass(frozen=True)
class Identification:
    correct: bool  # the nearest candidate reads the utterance's text
    rank: int  # 1 + candidates of other texts nearer than the nearest of its own text
    chance: float  # probability of a correct guess at random
    candidates: int
    nearest_text: str


class ClosedSet:
    """The candidate references, grouped into pools (by language, or one pool for all)."""

    def __init__(self, texts: Sequence[str], features: Sequence[np.ndarray], pools: Sequence[str]) -> None:
        if not (len(texts) == len(features) == len(pools)):
            raise ValueError("texts, features and pools must have one entry per reference")
        self._members: dict[str, np.ndarray] = {}
        self._banks: dict[str, CandidateBank] = {}
        self._texts = np.asarray(texts, dtype=object)
        for pool in dict.fromkeys(pools):
            members = np.flatnonzero(np.asarray(pools, dtype=object) == pool)
            self._members[pool] = members
            self._banks[pool] = CandidateBank([features[i] for i in members])

    def identify(self, features: np.ndarray, text: str, pool: str) -> Identification:
        """Identify one query (frames, D) whose true text is ``text`` among the candidates of ``pool``."""
        if pool not in self._banks:
            raise KeyError(f"no candidates in pool {pool!r}; pools: {', '.join(self._banks)}")
        costs = self._banks[pool].normalised_costs(features)
        texts = self._texts[self._members[pool]]
        same = texts == text
        if not same.any():
            raise ValueError(f"no candidate of pool {pool!r} reads {text!r}")
        best_own = costs[same].min()
        rank = 1 + int(np.count_nonzero(costs[~same] < best_own))
        return Identification(
            correct=rank == 1,
            rank=rank,
            chance=float(same.mean()),
            candidates=int(costs.shape[0]),
            nearest_text=str(texts[int(np.argmin(costs))]),
        )
