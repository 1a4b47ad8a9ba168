"""The inference engine: a generator prepared for synthesis, its precision policy, and its fast runners.

    engine = InferenceEngine(model, "cpu", "auto")   # folds weight norm, freezes, resolves the precision once
    engine.build(warm=True)                          # optional: no request waits for a kernel or a trace
    out = engine.infer(phone_ids, tone_ids, language_ids, features, speaker_ids)

On CPU, synthesis runs :meth:`SynthesizerTrn.infer` with :class:`~melo.model.synthesizer.InferenceParts`
made of the runners of :mod:`melo.runtime.runners` (the packed decoder in the policy's precision, the packed
flow or a checked trace of it under the flow's autocast, the packed bf16 text encoder or a checked trace, a
checked trace of the duration sampler), each built on first use, and pads the text side to a multiple of
:data:`TEXT_BUCKET` positions and the frames to a multiple of :data:`FRAME_BUCKET`: the extra positions are
masked everywhere, so they change nothing, and nearby lengths reuse the kernels oneDNN made for a length (on
2 cores a new length costs ~7 ms of kernel generation on the text side and ~5 ms in the flow). On CUDA it runs
the model's own modules, the decoder and flow under the policy's autocast, unpadded.

The runners hold copies of the weights. The engine notices when the weights change (an optimizer step, a
``load_state_dict``: every in-place write bumps a tensor's version) and rebuilds them on the next call.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import torch

from melo.model.commons import remove_weight_norm
from melo.model.synthesizer import InferenceOutput, InferenceParts, SynthesizerTrn, module_parts
from melo.runtime import runners
from melo.runtime.packed_decoder import PackedDecoder, packed_decoder_supported
from melo.runtime.packed_flow import PackedFlow, PackedTextEncoder, packed_flow_supported
from melo.runtime.precision import PrecisionPolicy

__all__ = ["FRAME_BUCKET", "InferenceEngine", "TEXT_BUCKET", "prepare_model"]

log = logging.getLogger(__name__)

FRAME_BUCKET = 8
"""On CPU the flow (and the packed decoder its frames) runs over a multiple of this many frames."""
TEXT_BUCKET = 8
"""On CPU the text encoder and the duration predictors run over a multiple of this many text positions."""
WARM_TEXT_POSITIONS, WARM_FRAMES = 160, 512
"""``build(warm=True)`` makes the CPU kernels for every bucket up to these lengths (~6 s of speech)."""


def prepare_model(model: SynthesizerTrn) -> SynthesizerTrn:
    """Fold every weight norm into plain weights, switch to eval mode and freeze the parameters. Outputs are
    unchanged (to float rounding). Returns ``model``."""
    remove_weight_norm(model)
    model.eval()
    model.requires_grad_(False)
    return model


class InferenceEngine:
    """Synthesis with a trained generator on one device, in one precision policy (see the module doc)."""

    def __init__(self, model: SynthesizerTrn, device: torch.device | str = "cpu",
                 precision: PrecisionPolicy | str = "auto") -> None:
        self.device = torch.device(device)
        self.precision = (precision if isinstance(precision, PrecisionPolicy)
                          else PrecisionPolicy.resolve(self.device, precision))
        if self.precision.decoder == torch.int8 and not packed_decoder_supported(self.device, torch.int8):
            raise ValueError(f"an int8 decoder runs only as the packed CPU decoder, on CPUs with VNNI "
                             f"(here: {self.device.type})")
        self.model = prepare_model(model.to(self.device))
        self._packed_decoders: dict[torch.dtype, PackedDecoder | None] = _InferenceCopies()
        # CPU runners: checked TorchScript traces, packed flows and text encoders (None: the module runs eagerly)
        self._runners: dict[str, Any] = _InferenceCopies()
        self._weights_version = self._version()

    # -- synthesis ------------------------------------------------------------------------------
    def infer(self, phone_ids: torch.Tensor, tone_ids: torch.Tensor, language_ids: torch.Tensor, text_features: torch.Tensor,
              speaker_ids: torch.Tensor, text_lengths: torch.Tensor | None = None, **knobs: Any) -> InferenceOutput:
        """:meth:`SynthesizerTrn.infer` (same arguments and knobs) through this engine's parts."""
        return self.model.infer(phone_ids, tone_ids, language_ids, text_features, speaker_ids, text_lengths,
                                parts=self.parts(), **knobs)

    def decode(self, z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
        """The HiFi-GAN decoder on latent frames ``z`` (B, C, T) -> (B, 1, T * hop), in the policy's precision."""
        return self.parts().decoder(z, g)

    def parts(self) -> InferenceParts:
        """What ``infer`` runs on this device (see the module doc)."""
        self._check_weights()
        policy, model = self.precision, self.model
        plain = module_parts(model)
        if self.device.type != "cpu":
            def flow(z: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
                with runners.autocast(z.device, policy.flow):
                    return plain.reverse_flow(z, mask, g)

            def decode(z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
                with runners.autocast(z.device, policy.decoder):
                    return plain.decoder(z, g)

            return dataclasses.replace(plain, reverse_flow=flow, decoder=decode)
        reverse_flow = self._reverse_flow(policy.flow)

        def cpu_flow(z: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            with runners.autocast(z.device, policy.flow):
                return reverse_flow(z, mask, g)

        return InferenceParts(text_encoder=self._text_encoder(policy.text),
                              sample_log_durations=self._duration_sampler(), reverse_flow=cpu_flow,
                              decoder=self._cpu_decoder(policy.decoder), text_bucket=TEXT_BUCKET,
                              frame_bucket=FRAME_BUCKET)

    # -- building ahead of the first request ------------------------------------------------------
    def build(self, warm: bool = False) -> None:
        """Build now what the first ``infer`` would (the packed decoder, the traces; ~1-2 s for the full model
        on CPU). ``warm``: also make the CPU kernels every sentence up to ~6 s of speech needs, so that no
        request waits for them: the packed decoder runs once over every tile width (~1.3 s for the full model
        on 2 cores), and the text side and the flow once per length bucket (~1 s)."""
        if self.device.type != "cpu":
            return
        self.parts()
        packed = self._packed_decoder(self.precision.decoder or torch.float32)
        if warm:
            if packed is not None:
                packed.warmup()
            self._warm_lengths()

    @torch.inference_mode()
    def _warm_lengths(self) -> None:
        """Run the text encoder and both duration predictors once per bucket of text positions up to
        WARM_TEXT_POSITIONS, and the packed flow's layer shapes once per bucket of frames up to WARM_FRAMES.
        oneDNN makes its kernels per input length; unmade, they cost a request ~7 ms (text side) plus ~5 ms
        (flow) for each new bucket on 2 cores."""
        model, device = self.model, self.device
        encode, sample = self._text_encoder(self.precision.text), self._duration_sampler()
        g = torch.zeros(1, model.speaker_embedding.embedding_dim, 1, device=device)
        for n in range(TEXT_BUCKET, WARM_TEXT_POSITIONS + 1, TEXT_BUCKET):
            ids = torch.zeros(1, n, dtype=torch.long, device=device)
            lengths = torch.tensor([n - 1], device=device)  # one padded position, as most requests have
            text_features = torch.zeros(1, model.text_encoder.feature_proj.in_channels, n, device=device)
            g_text = g if model.cfg.use_spk_conditioned_encoder else None
            enc = encode(ids, ids, ids, lengths, text_features, g=g_text)
            sample(enc.hidden, enc.x_mask, torch.zeros(1, 2, n, device=device), g)
            model.duration_predictor(enc.hidden, enc.x_mask, g=g)
        flow = self._reverse_flow(self.precision.flow)
        if isinstance(flow, PackedFlow):
            flow.warmup(WARM_FRAMES, FRAME_BUCKET)

    # -- the CPU runners, built on first use ---------------------------------------------------------
    def _text_encoder(self, dtype: torch.dtype | None) -> Any:
        """A checked trace of the text encoder, or for a reduced ``dtype`` (bf16) a :class:`PackedTextEncoder` where
        the CPU runs it (else the fp32 trace); the module where neither can run."""
        if dtype is not None and dtype != torch.float32:
            key = f"text_encoder:{dtype}"
            if key not in self._runners:
                supported = packed_flow_supported("cpu", dtype)
                self._runners[key] = PackedTextEncoder(self.model.text_encoder, dtype) if supported else None
            if self._runners[key] is not None:
                return self._runners[key]
        if "text_encoder" not in self._runners:
            self._runners["text_encoder"] = runners.trace_text_encoder(self.model)
        return self._runners["text_encoder"] or self.model.text_encoder

    def _duration_sampler(self) -> Any:
        if "duration_sampler" not in self._runners:
            self._runners["duration_sampler"] = runners.trace_duration_sampler(self.model)
        return self._runners["duration_sampler"] or module_parts(self.model).sample_log_durations

    def _reverse_flow(self, dtype: torch.dtype | None) -> Any:
        """A :class:`PackedFlow` in ``dtype`` (fp32 for None), or where that cannot run a checked trace (per
        autocast dtype), or the module."""
        key = f"flow:{dtype}"
        if key not in self._runners:
            packed_dtype = dtype or torch.float32
            packed = runners.packed_flow(self.model, packed_dtype) if packed_flow_supported("cpu", packed_dtype) else None
            self._runners[key] = packed or runners.trace_reverse_flow(self.model, dtype)
        return self._runners[key] or module_parts(self.model).reverse_flow

    def _cpu_decoder(self, dtype: torch.dtype | None) -> Any:
        dtype = dtype or torch.float32
        packed = self._packed_decoder(dtype)
        if packed is not None:
            return packed
        if dtype == torch.int8:
            raise ValueError("an int8 decoder runs only as the packed CPU decoder, and this decoder's geometry "
                             "has no packed form")
        decoder = self.model.decoder

        def decode(z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
            with runners.autocast(z.device, dtype):
                return decoder(z, g=g)

        return decode

    def _packed_decoder(self, dtype: torch.dtype) -> PackedDecoder | None:
        """The fused CPU decoder for ``dtype``, built on first use; None where it does not apply (CPUs without
        bf16 units for bf16, geometries it does not cover)."""
        if not packed_decoder_supported(self.device, dtype):
            return None
        if dtype not in self._packed_decoders:
            self._packed_decoders[dtype] = runners.packed_decoder(self.model, dtype, FRAME_BUCKET)
        return self._packed_decoders[dtype]

    # -- keeping the runners in step with the weights ------------------------------------------------
    def _version(self) -> int:
        """Grows with every in-place write to a parameter or buffer (tensor versions only increase). Tensors made
        under ``torch.inference_mode()`` keep no version and are left out."""
        return sum(t._version for t in (*self.model.parameters(), *self.model.buffers()) if not t.is_inference())

    def _check_weights(self) -> None:
        version = self._version()
        if version != self._weights_version:
            log.debug("the weights changed: rebuilding the inference runners on use")
            self._packed_decoders.clear()
            self._runners.clear()
            self._weights_version = version


class _InferenceCopies(dict):
    """A cache of inference-only copies of the weights (packed decoders, packed flows, traces). Copying or
    pickling the engine leaves it behind (it is rebuilt on first use; oneDNN's packed weights cannot be copied)."""

    def __deepcopy__(self, memo: dict) -> "_InferenceCopies":
        return type(self)()

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return type(self), ()

