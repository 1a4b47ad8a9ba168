"""bge-m3 text features aligned to phones by character offsets.

One multilingual encoder (``data.bert_model``, default ``BAAI/bge-m3``) reads the whole normalised
utterance; the hidden states of one layer (``data.bert_layer``, default -3) are averaged onto each
phone's word through the tokenizer's character offsets (rules in ``melo.features.align``).

    extractor = get_extractor("BAAI/bge-m3", layer=-3)   # loaded once per process
    features = extractor(phonemes)                         # (1024, n_positions) float32, CPU
    cache = features.half()                                # 2 KiB per position

Importing this package loads neither torch nor transformers.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ALIGNMENT_VERSION",
    "CoverageReport",
    "Explanation",
    "FeatureExtractor",
    "ModelUnavailableError",
    "PhoneSource",
    "TokenPiece",
    "feature_fingerprint",
    "get_extractor",
    "token_coverage",
]

_WHERE = {
    "ALIGNMENT_VERSION": "melo.features.extractor",
    "Explanation": "melo.features.extractor",
    "FeatureExtractor": "melo.features.extractor",
    "PhoneSource": "melo.features.extractor",
    "TokenPiece": "melo.features.extractor",
    "get_extractor": "melo.features.extractor",
    "feature_fingerprint": "melo.features.extractor",
    "ModelUnavailableError": "melo.features.loading",
    "CoverageReport": "melo.features.coverage",
    "token_coverage": "melo.features.coverage",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'melo.features' has no attribute {name!r}")
