"""The training batch: what the data pipeline hands the trainer.

Every tensor is zero-padded to the longest item in the batch; ``*_lengths`` give the true lengths.

Spectrogram/waveform alignment: for every item, ``wav_lengths[i] == spec_lengths[i] * hop_length``.
Preprocessing trims each clip's waveform to a whole number of hops *before* computing its spectrogram
(``melo.audio.spectrogram`` with ``data.filter_length``/``hop_length``/``win_length`` then yields exactly
``len(wav) // hop_length`` frames), so a random spectrogram slice ``[s, s + n)`` always matches the
waveform slice ``[s * hop, (s + n) * hop)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

__all__ = ["Batch"]


@dataclass(frozen=True)
class Batch:
    """One padded batch of B utterances."""

    phone_ids: torch.Tensor  # (B, T_text) long, blank-interleaved when data.add_blank
    tone_ids: torch.Tensor  # (B, T_text) long, global tone ids (per-language offsets applied)
    language_ids: torch.Tensor  # (B, T_text) long
    text_lengths: torch.Tensor  # (B,) long
    text_features: torch.Tensor  # (B, bert_channels, T_text) float32, one bge-m3 vector per phone position
    spec: torch.Tensor  # (B, spec_channels, T_spec) float32, linear magnitude
    spec_lengths: torch.Tensor  # (B,) long
    wav: torch.Tensor  # (B, 1, T_wav) float32 in [-1, 1]; T_wav == T_spec * hop_length
    wav_lengths: torch.Tensor  # (B,) long; wav_lengths == spec_lengths * hop_length
    speaker_ids: torch.Tensor  # (B,) long
    keys: list[str]  # row ids ("train_list.txt:12") for debugging

    def __len__(self) -> int:
        return int(self.phone_ids.shape[0])

    def _map(self, fn) -> "Batch":  # type: ignore[no-untyped-def]
        changes = {
            f.name: fn(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), torch.Tensor)
        }
        return dataclasses.replace(self, **changes)

    def to(self, device: torch.device | str, non_blocking: bool = True) -> "Batch":
        """A copy with every tensor on ``device``."""
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> "Batch":
        """Page-locked copy (DataLoader calls this when ``pin_memory=True``)."""
        return self._map(lambda t: t.pin_memory())
