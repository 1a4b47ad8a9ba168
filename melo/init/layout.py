"""Where things are in our networks, and where MeloTTS keeps the same things: the ONE place that names our
modules for initialisation.

* :data:`GENERATOR_GROUPS`: which generator parameters form which group (the load report's rows and
  ``train.freeze``'s units), by state-dict prefix.
* :data:`ROW_TABLES`: the embedding tables whose rows are moved by name (symbols, tones, languages, speakers).
* :data:`MELOTTS_KEYS`: how a MeloTTS state-dict key becomes ours, per network.

When a module of :class:`melo.model.SynthesizerTrn` is renamed, update the right-hand names here and the
earlier name in :mod:`melo.model.legacy_names` (MeloTTS's top-level names are our earlier ones, so its rules below
end with that one translation); :func:`melo.init.weightnorm.canonical` handles both weight-norm forms, so no rule
names them.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Callable, Literal

from melo.config import GeneratorGroup
from melo.model.legacy_names import LEGACY_GENERATOR_PREFIXES, current_generator_key

__all__ = ["DISCRIMINATOR_GROUPS", "GENERATOR_GROUPS", "KeyRule", "MELOTTS_KEYS", "Network", "ROW_TABLES", "RowKind",
           "SPEAKER_TABLE", "SYMBOL_TABLE", "group_of", "map_key"]

Network = Literal["generator", "discriminators", "duration_discriminator"]
RowKind = Literal["symbols", "tones", "languages", "speakers"]

GENERATOR_GROUPS: tuple[tuple[str, GeneratorGroup], ...] = (
    # (state-dict prefix, group); the first matching prefix wins
    ("text_encoder.emb.", "text_embeddings"),
    ("text_encoder.tone_emb.", "text_embeddings"),
    ("text_encoder.language_emb.", "text_embeddings"),
    ("text_encoder.feature_proj.", "text_embeddings"),
    ("text_encoder.", "text_encoder"),
    ("stochastic_duration_predictor.", "duration_predictors"),
    ("duration_predictor.", "duration_predictors"),
    ("flow.", "flow"),
    ("posterior_encoder.", "posterior_encoder"),
    ("decoder.", "decoder"),
    ("speaker_embedding.", "speakers"),
)
DISCRIMINATOR_GROUPS: dict[Network, str] = {"discriminators": "discriminators",
                                            "duration_discriminator": "duration_discriminator"}
"""Each discriminator network is one group of its own."""

SPEAKER_TABLE = "speaker_embedding.weight"
SYMBOL_TABLE = "text_encoder.emb.weight"
ROW_TABLES: dict[str, RowKind] = {
    SYMBOL_TABLE: "symbols",
    "text_encoder.tone_emb.weight": "tones",
    "text_encoder.language_emb.weight": "languages",
    SPEAKER_TABLE: "speakers",
}
"""Generator tables whose rows are moved by name rather than by position."""

assert {g for _, g in GENERATOR_GROUPS} == set(typing.get_args(GeneratorGroup)), "a group without parameters"


@dataclass(frozen=True)
class KeyRule:
    """Rewrite the part of a key that ``pattern`` matches; ``replacement`` None drops the tensor, ``ZERO`` keeps
    the model's tensor but sets it to zeros. ``note`` says why, in the load report; ``group`` is the report
    group of a tensor the rule drops."""

    pattern: str
    replacement: str | Callable[[re.Match[str]], str | None] | None
    note: str = ""
    group: str | None = None


ZERO = "<zero>"

MELOTTS_KEYS: dict[Network, tuple[KeyRule, ...]] = {
    "generator": (
        KeyRule(r"^enc_p\.ja_bert_proj\.", None,
                "MeloTTS's 768-d second BERT projection has no counterpart (one bge-m3 projection here)",
                group="text_embeddings"),
        KeyRule(r"^enc_p\.bert_proj\.weight$", ZERO,
                "zeroed: MeloTTS's 1024-d projection saw zeros (or Chinese-BERT features), never bge-m3; at zero "
                "the encoder starts from what MeloTTS computed and learns the bge-m3 weights (its bias is kept)"),
        KeyRule(r"^(enc_p\.encoder|flow\.flows\.\d+\.enc)\.spk_emb_linear\.", r"\1.spk_proj."),
        KeyRule(r"^(enc_p\.encoder|flow\.flows\.\d+\.enc)\.norm_layers_([12])\.", r"\1.norm_\2."),
        # MeloTTS interleaves parameterless Flip modules: its couplings are flows 0, 2, 4, 6, ours 0, 1, 2, 3
        KeyRule(r"^flow\.flows\.(\d+)\.",
                lambda m: f"flow.flows.{int(m[1]) // 2}." if int(m[1]) % 2 == 0 else None,
                "an odd MeloTTS flow index is a Flip, which has no parameters"),
        # last: MeloTTS's top-level module names (enc_p, emb_g, ...) are our earlier ones
        KeyRule("^(" + "|".join(re.escape(earlier) for earlier, _ in LEGACY_GENERATOR_PREFIXES) + ")",
                lambda m: current_generator_key(m[1])),
    ),
    "discriminators": (),  # same names; its (k, 1) Conv2d kernels load into our Conv1d as (k,)
    "duration_discriminator": (
        KeyRule(r"^output_layer\.0\.", "output_layer."),  # MeloTTS: Sequential(Linear, Sigmoid)
    ),
}


def map_key(network: Network, key: str) -> tuple[str | None, KeyRule | None]:
    """MeloTTS's ``key`` in our naming, the rules applied in order: ``(our key, None)``; ``(None, rule)`` for a
    dropped tensor; ``(our key, rule)`` for a tensor whose rule is :data:`ZERO`."""
    zero_rule = None
    for rule in MELOTTS_KEYS[network]:
        match = re.search(rule.pattern, key)
        if match is None:
            continue
        if rule.replacement is None:
            return None, rule
        if rule.replacement == ZERO:
            zero_rule = rule
            continue
        head = rule.replacement(match) if callable(rule.replacement) else match.expand(rule.replacement)
        if head is None:
            return None, rule
        key = key[:match.start()] + head + key[match.end():]
    return key, zero_rule


def group_of(network: Network, key: str) -> str:
    """The report group of parameter ``key`` (our naming) of ``network``."""
    if network != "generator":
        return DISCRIMINATOR_GROUPS[network]
    for prefix, group in GENERATOR_GROUPS:
        if key.startswith(prefix):
            return group
    raise ValueError(f"generator parameter {key!r} belongs to no group; add its module to melo/init/layout.py")
