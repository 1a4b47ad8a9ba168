"""The generator's earlier module names (MeloTTS's abbreviations) and the one translation to the current ones.

Until checkpoint format version 2, :class:`~melo.model.SynthesizerTrn` kept MeloTTS's attribute names
(``enc_p``, ``emb_g``, ...), so every ``G_*.pth``, ``G_latest.pth`` and ``G_base.pth`` written before holds
state-dict keys under those names; MeloTTS's own checkpoints hold them too. :func:`current_generator_state`
renames such keys by their top-level prefix and leaves every other key alone, so a state dict in either
naming (or a mix) loads into the current model. The modules were renamed in place: their registration
order, and so the parameter order that optimizer state is indexed by, is unchanged.
"""

from __future__ import annotations

from typing import Mapping, TypeVar

__all__ = ["LEGACY_GENERATOR_PREFIXES", "current_generator_key", "current_generator_state", "has_legacy_names"]

LEGACY_GENERATOR_PREFIXES: tuple[tuple[str, str], ...] = (
    # (earlier prefix, current prefix); the first matching prefix wins, so the longer one comes first
    ("enc_p.bert_proj.", "text_encoder.feature_proj."),
    ("enc_p.", "text_encoder."),
    ("emb_g.", "speaker_embedding."),
    ("enc_q.", "posterior_encoder."),
    ("dec.", "decoder."),
    ("sdp.", "stochastic_duration_predictor."),
    ("dp.", "duration_predictor."),
)
"""Every top-level generator module MeloTTS named with an abbreviation (``flow`` kept its name)."""

Value = TypeVar("Value")


def current_generator_key(key: str) -> str:
    """``key`` under the current module names (unchanged when it already is, or names no renamed module)."""
    for earlier, current in LEGACY_GENERATOR_PREFIXES:
        if key.startswith(earlier):
            return current + key[len(earlier):]
    return key


def has_legacy_names(state: Mapping[str, object]) -> bool:
    """True when some key of ``state`` uses an earlier module name."""
    return any(current_generator_key(k) != k for k in state)


def current_generator_state(state: Mapping[str, Value]) -> dict[str, Value]:
    """``state`` with every key under the current module names, in the same order.

    Raises ``ValueError`` when two keys land on the same name (a state dict holding both namings of a tensor).
    """
    renamed: dict[str, Value] = {}
    for key, value in state.items():
        new = current_generator_key(key)
        if new in renamed:
            raise ValueError(f"generator state holds {new!r} under both its earlier and its current name")
        renamed[new] = value
    return renamed
