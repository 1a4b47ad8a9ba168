"""Random model inputs shaped like a real batch, for the model tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from melo.config import Config
from melo.text.symbols import SymbolTable


@dataclass
class ModelBatch:
    phone_ids: torch.Tensor
    tone_ids: torch.Tensor
    language_ids: torch.Tensor
    text_lengths: torch.Tensor
    text_features: torch.Tensor
    spec: torch.Tensor
    spec_lengths: torch.Tensor
    speaker_ids: torch.Tensor
    wav: torch.Tensor  # (B, 1, T_spec * hop)

    def generator_inputs(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k) for k in ("phone_ids", "tone_ids", "language_ids", "text_lengths", "text_features", "spec",
                                              "spec_lengths", "speaker_ids")}


def random_batch(config: Config, symbols: SymbolTable, batch: int, text_len: int, spec_len: int,
                 generator: torch.Generator, ragged: bool = True) -> ModelBatch:
    """Text lengths and spectrogram lengths vary per item when ``ragged`` (the first item is full length)."""
    d, m = config.data, config.model
    text_lengths = torch.full((batch,), text_len, dtype=torch.long)
    spec_lengths = torch.full((batch,), spec_len, dtype=torch.long)
    if ragged and batch > 1:
        text_lengths[1:] = torch.randint(text_len // 2, text_len + 1, (batch - 1,), generator=generator)
        spec_lengths[1:] = torch.randint(max(spec_len // 2, config.train.segment_size // d.hop_length), spec_len + 1,
                                         (batch - 1,), generator=generator)
    phone_ids = torch.randint(1, symbols.n_symbols, (batch, text_len), generator=generator)
    phone_ids[:, ::2] = 0  # interleaved blanks
    tone_ids = torch.randint(0, symbols.n_tones, (batch, text_len), generator=generator)
    language_ids = torch.randint(0, symbols.n_languages, (batch, text_len), generator=generator)
    text_features = torch.randn(batch, m.bert_channels, text_len, generator=generator)
    wav = 0.3 * torch.randn(batch, 1, spec_len * d.hop_length, generator=generator)
    from melo.audio import spectrogram

    spec = spectrogram(wav.squeeze(1), d.filter_length, d.hop_length, d.win_length)[:, :, :spec_len]
    speaker_ids = torch.randint(0, d.n_speakers, (batch,), generator=generator)
    return ModelBatch(phone_ids, tone_ids, language_ids, text_lengths, text_features, spec, spec_lengths, speaker_ids, wav)
