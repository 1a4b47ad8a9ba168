"""TEMPORARY stand-ins for melo.text.phonemize and melo.features until those branches land on main."""

from __future__ import annotations

import hashlib
import sys
import types

import torch

from melo.text.types import Phonemes, Segment


try:
    from melo.text import NothingToPronounceError
except ImportError:

    class NothingToPronounceError(ValueError):  # type: ignore[no-redef]
        pass


def _lang_of(ch: str) -> str | None:
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3:
        return "KR"
    if 0x3040 <= o <= 0x30FF:
        return "JP"
    if 0x4E00 <= o <= 0x9FFF:
        return "ZH"
    if ch.isascii() and ch.isalpha():
        return "EN"
    return None


PHONE = {"KR": "ᄀ", "EN": "AH", "ZH": "a", "JP": "a"}


def phonemize(text: str, language: str | None = None) -> Phonemes:
    if language is not None and language not in PHONE:
        raise ValueError(f"unknown language code {language!r}")
    phones, tones, langs, spans, dropped = [], [], [], [], []
    for i, ch in enumerate(text):
        lang = _lang_of(ch)
        if lang is None:
            if not ch.isspace() and not ch in ".,!?":
                dropped.append(ch)
            continue
        phones.append(PHONE[lang]); tones.append(0); langs.append(lang); spans.append((i, i + 1))
    if not phones:
        raise NothingToPronounceError(f"nothing to pronounce in {text!r}")
    return Phonemes(text=text, normalized=text, segments=(Segment(langs[0], 0, len(text), text),),
                    phones=tuple(phones), tones=tuple(tones), languages=tuple(langs), word_spans=tuple(spans),
                    dropped=tuple(dropped))


class ModelUnavailableError(RuntimeError):
    pass


class FeatureExtractor:
    calls = 0
    hidden_size = 8

    def __init__(self, data_cfg):
        self.model, self.layer = data_cfg.bert_model, data_cfg.bert_layer

    @classmethod
    def from_config(cls, data_cfg, device="cpu", precision="fp32"):
        return cls(data_cfg)

    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.model}/{self.layer}".encode()).hexdigest()[:16]

    def extract_batch(self, phonemes, add_blank=True, batch_size=16):
        FeatureExtractor.calls += 1
        out = []
        for p in phonemes:
            n = 2 * len(p) + 1 if add_blank else len(p)
            g = torch.Generator().manual_seed(len(p.text))
            out.append(torch.randn(self.hidden_size, n, generator=g))
        return out


def install(monkeypatch) -> None:
    import melo.text

    try:
        import melo.text.english  # noqa: F401
        import melo.text.korean  # noqa: F401
        real_frontend = hasattr(melo.text, "phonemize")
    except ImportError:
        real_frontend = False
    if not real_frontend:
        monkeypatch.setattr(melo.text, "phonemize", phonemize, raising=False)
        monkeypatch.setattr(melo.text, "NothingToPronounceError", NothingToPronounceError, raising=False)
    try:
        import melo.features  # noqa: F401
    except ImportError:
        mod = types.ModuleType("melo.features")
        mod.FeatureExtractor = FeatureExtractor
        mod.ModelUnavailableError = ModelUnavailableError
        monkeypatch.setitem(sys.modules, "melo.features", mod)
