"""Builders of the CPU runners that stand in for the generator's modules during synthesis.

Each returns a callable with the module's signature and outputs (exact, or to the rounding of its precision),
or None where it cannot run here (the engine then runs the module): checked TorchScript traces of the text
encoder, the stochastic duration sampler and the reverse flow, the packed flow, the packed decoder.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from typing import Any, Callable

import torch
from torch import nn

from melo.model.commons import sequence_mask
from melo.model.synthesizer import SynthesizerTrn
from melo.model.text_encoder import TextEncoderOutput
from melo.runtime.packed_decoder import PackedDecoder
from melo.runtime.packed_flow import PackedFlow
from melo.runtime.tracing import as_module, checked_trace

__all__ = ["autocast", "packed_decoder", "packed_flow", "trace_duration_sampler", "trace_reverse_flow",
           "trace_text_encoder"]

log = logging.getLogger(__name__)


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """Autocast to ``dtype`` on ``device``; a no-op for None/fp32."""
    if dtype is None or dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def trace_text_encoder(model: SynthesizerTrn) -> Callable[..., TextEncoderOutput] | None:
    """The text encoder as a checked trace, called like the module (``g`` by keyword)."""
    encoder, with_g = model.text_encoder, model.cfg.use_spk_conditioned_encoder
    gin = model.speaker_embedding.embedding_dim

    def as_tuple(*args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = encoder(*args[:5], g=args[5] if with_g else None)
        return out.hidden, out.prior_mean, out.prior_log_scale, out.x_mask

    gen = torch.Generator().manual_seed(0)

    def inputs(lengths: list[int]) -> tuple[torch.Tensor, ...]:
        b, t = len(lengths), max(lengths)
        ids = [torch.randint(0, e.num_embeddings, (b, t), generator=gen)
               for e in (encoder.emb, encoder.tone_emb, encoder.language_emb)]
        text_features = torch.randn(b, encoder.feature_proj.in_channels, t, generator=gen)
        extra = (torch.randn(b, gin, 1, generator=gen),) if with_g else ()
        return (*ids, torch.tensor(lengths), text_features, *extra)

    traced = checked_trace(as_module(as_tuple, encoder=encoder), inputs([9]), [inputs([15]), inputs([12, 7])],
                           "text encoder")
    if traced is None:
        return None

    def run(phone_ids, tone_ids, language_ids, text_lengths, features, g=None) -> TextEncoderOutput:  # type: ignore[no-untyped-def]
        args = (phone_ids, tone_ids, language_ids, text_lengths, features) + ((g,) if g is not None else ())
        return TextEncoderOutput(*traced(*args))

    return run


def trace_duration_sampler(model: SynthesizerTrn) -> Any:
    """``stochastic_duration_predictor.sample(x, x_mask, noise, g)`` as a checked trace (the stochastic duration predictor is ~100 small
    ops: 4.5 ms eager, 3.1 ms traced at 52 positions on 2 cores)."""
    predictor = model.stochastic_duration_predictor
    hidden, gin = model.text_encoder.hidden_channels, model.speaker_embedding.embedding_dim
    gen = torch.Generator().manual_seed(0)

    def inputs(lengths: list[int]) -> tuple[torch.Tensor, ...]:
        b, t = len(lengths), max(lengths)
        mask = sequence_mask(torch.tensor(lengths), t).unsqueeze(1).float()
        return (torch.randn(b, hidden, t, generator=gen) * mask, mask, torch.randn(b, 2, t, generator=gen),
                torch.randn(b, gin, 1, generator=gen))

    return checked_trace(as_module(lambda x, mask, noise, g: predictor.sample(x, mask, noise, g=g),
                                   predictor=predictor),
                         inputs([9]), [inputs([15]), inputs([12, 7])], "stochastic duration predictor")


def trace_reverse_flow(model: SynthesizerTrn, dtype: torch.dtype | None) -> Any:
    """``flow(z, mask, g, reverse=True)`` as a checked trace under autocast to ``dtype`` (run it under the same)."""
    flow, gin = model.flow, model.speaker_embedding.embedding_dim
    channels = model.decoder.conv_pre.in_channels
    if dtype is not None and dtype != torch.float32:
        # Autocast casts every conv/linear weight to ``dtype`` on every call (~100 MB of traffic for the
        # full flow); a copy holding those weights already cast gives bit-identical results without it.
        # Everything else (layer norms, relative-position tables) stays fp32, as autocast expects.
        flow = copy.deepcopy(flow)
        for module in flow.modules():
            if isinstance(module, (nn.Conv1d, nn.Linear)):
                module.to(dtype)

    gen = torch.Generator().manual_seed(0)

    def inputs(lengths: list[int]) -> tuple[torch.Tensor, ...]:
        b, t = len(lengths), max(lengths)
        mask = sequence_mask(torch.tensor(lengths), t).unsqueeze(1).float()
        return torch.randn(b, channels, t, generator=gen) * mask, mask, torch.randn(b, gin, 1, generator=gen)

    reverse = as_module(lambda z, mask, g: flow(z, mask, g=g, reverse=True), flow=flow)
    return checked_trace(reverse, inputs([24]), [inputs([40]), inputs([32, 20])],
                         f"reverse flow ({dtype or torch.float32})",
                         context=lambda: autocast(torch.device("cpu"), dtype))


def packed_flow(model: SynthesizerTrn, dtype: torch.dtype) -> PackedFlow | None:
    try:
        return PackedFlow(model.flow, dtype)
    except ValueError as err:  # a flow geometry it does not cover (an even feed-forward kernel)
        log.info("reverse flow runs unpacked: %s", err)
        return None


def packed_decoder(model: SynthesizerTrn, dtype: torch.dtype, bucket: int) -> PackedDecoder | None:
    try:
        return PackedDecoder(model.decoder, dtype, bucket=bucket)
    except (ValueError, TypeError) as err:  # a decoder geometry it does not cover: the module decodes
        log.info("decoder runs unpacked: %s", err)
        return None
