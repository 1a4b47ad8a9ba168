"""The export's self-check: the onnxruntime graphs against PyTorch on several lengths, under the same noise.

* acoustic: random model inputs of each length go through PyTorch's ``SynthesizerTrn.infer`` (its CPU paths, in
  fp32), which records the noise it draws; the ``text`` and ``audio`` graphs get the same inputs and noise. The
  durations must agree exactly (else the frame counts differ) and the waveforms within :data:`ACOUSTIC_TOLERANCE`.
* encoder: random token ids of each length, hidden states against the PyTorch encoder within
  :data:`ENCODER_TOLERANCE`.

The fp32 graphs must pass (:class:`ExportCheckError` otherwise). The int8 graphs are measured, not judged:
quantisation moves the durations, so their waveform error is reported only for the lengths whose durations
still agree.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from melo.export.adapter import EncoderStage, LoadedGenerator, reference_synthesis
from melo.export.graphs import text_example
from melo.onnx.acoustic import AcousticGraphs, ReplayedNoise
from melo.onnx.manifest import ENCODER_INPUTS

__all__ = ["ACOUSTIC_TOLERANCE", "CHECK_LENGTHS", "ENCODER_TOLERANCE", "AcousticCheck", "EncoderCheck",
           "ExportCheckError", "check_acoustic", "check_encoder"]

log = logging.getLogger(__name__)

CHECK_LENGTHS = (5, 23, 88)
"""Text positions (acoustic) and content tokens (encoder, capped at its maximum) the check runs."""
ACOUSTIC_TOLERANCE = 1e-3
"""Largest absolute waveform difference (audio in [-1, 1]) allowed between the fp32 graphs and PyTorch."""
ENCODER_TOLERANCE = 1e-3
"""Largest absolute hidden-state difference allowed between the fp32 encoder graph and PyTorch."""


class ExportCheckError(RuntimeError):
    """An exported fp32 graph disagrees with PyTorch beyond the tolerance."""


@dataclass
class AcousticCheck:
    lengths: list[int]
    durations_equal: list[bool]
    max_abs_error: float | None  # over the lengths whose durations agree; None if none did
    peak: float  # largest |sample| PyTorch produced (the scale of the error)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EncoderCheck:
    tokens: list[int]
    max_abs_error: float
    peak: float  # largest |hidden state| PyTorch produced

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_acoustic(loaded: LoadedGenerator, graphs: AcousticGraphs, *, lengths: tuple[int, ...] = CHECK_LENGTHS,
                   require: bool = True, label: str = "fp32") -> AcousticCheck:
    """Both duration predictors at work (``sdp_ratio`` 0.5), the usual noise scales."""
    generator = torch.Generator().manual_seed(1234)
    equal, errors, peak = [], [], 0.0
    speaker = max(loaded.speakers.values(), default=0)
    for n in lengths:
        ids, tones, languages, text_features, *_ = text_example(loaded, n, generator)
        settings = dict(sdp_ratio=0.5, noise_scale=0.6, noise_scale_w=0.8, length_scale=1.0)
        ref = reference_synthesis(loaded, ids, tones, languages, text_features, speaker, seed=n, **settings)
        peak = max(peak, float(ref.audio.abs().max()))
        try:
            out = graphs.infer(ids[0].numpy(), tones[0].numpy(), languages[0].numpy(), text_features[0].numpy(), speaker,
                               ReplayedNoise([d.numpy() for d in ref.draws]), **settings)
        except ValueError:  # the replayed frames' noise does not fit: the durations differ
            out = None
        same = out is not None and np.array_equal(out.durations, ref.durations.numpy())
        equal.append(same)
        if same:
            errors.append(float(np.abs(out.audio - ref.audio.numpy()).max()))
        if not require:
            continue
        if not same:
            raise ExportCheckError(f"{label} acoustic graphs: the durations differ from PyTorch's at {n} text positions")
        if errors[-1] > ACOUSTIC_TOLERANCE:
            raise ExportCheckError(f"{label} acoustic graphs: waveform error {errors[-1]:.2e} at {n} text positions "
                                   f"exceeds {ACOUSTIC_TOLERANCE:g}")
    result = AcousticCheck(list(lengths), equal, max(errors) if errors else None, peak)
    log.info("%s acoustic graphs vs PyTorch: %s", label, result)
    return result


def check_encoder(encoder: nn.Module, session: Any, cls_id: int, sep_id: int, vocab_size: int, max_tokens: int, *,
                  lengths: tuple[int, ...] = CHECK_LENGTHS, require: bool = True, label: str = "fp32") -> EncoderCheck:
    """``encoder``: the fp32 PyTorch encoder cut at the model's layer; ``session``: the exported graph's."""
    generator = torch.Generator().manual_seed(4321)
    stage = EncoderStage(encoder)
    tokens = sorted({min(n, max_tokens) for n in lengths})
    error, peak = 0.0, 0.0
    for n in tokens:
        content = torch.randint(5, vocab_size, (n,), generator=generator)
        ids = torch.cat([torch.tensor([cls_id]), content, torch.tensor([sep_id])])[None]
        with torch.inference_mode():
            want = stage(ids, torch.ones_like(ids)).numpy()
        (got,) = session.run(None, dict(zip(ENCODER_INPUTS, (ids.numpy(), np.ones_like(ids.numpy())))))
        step = float(np.abs(got - want).max())
        error, peak = max(error, step), max(peak, float(np.abs(want).max()))
        if require and step > ENCODER_TOLERANCE:
            raise ExportCheckError(f"{label} encoder graph: hidden-state error {step:.2e} at {n} tokens exceeds "
                                   f"{ENCODER_TOLERANCE:g}")
    result = EncoderCheck(tokens, error, peak)
    log.info("%s encoder graph vs PyTorch: %s", label, result)
    return result
