"""The exporter's one window onto the generator: every access to ``SynthesizerTrn``'s attributes is here.

When the model's internals move or are renamed, this file is the one to change. It gives:

* :func:`load_generator`: a ``G_*.pth`` checkpoint -> the plain (eager) generator with weight norm folded,
  its config, symbol table and speakers;
* :class:`TextStage` and :class:`AudioStage`: the two halves of ``SynthesizerTrn.infer`` as modules with
  positional tensor inputs (what ``torch.onnx.export`` traces), made of the eager sub-modules (never the CPU
  fast paths), with their layer norms in a form the tracer exports (:func:`traceable`);
* :class:`EncoderStage`: the text encoder with positional inputs;
* :func:`reference_synthesis`: PyTorch's own synthesis (the fp32 ``InferenceEngine``) on the same inputs, with the noise it drew
  (:class:`RecordedNoise`), so the exported graphs can be checked against it under the same noise.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from melo.config import Config
from melo.model.commons import ChannelLayerNorm, duration_path
from melo.text import SymbolTable

__all__ = ["AudioStage", "EncoderStage", "LoadedGenerator", "RecordedNoise", "ReferenceOutput", "TextStage",
           "from_model", "load_generator", "reference_synthesis", "traceable"]

log = logging.getLogger(__name__)


@dataclass
class LoadedGenerator:
    model: nn.Module  # SynthesizerTrn, eval mode, weight norm folded
    config: Config
    symbols: SymbolTable
    speakers: dict[str, int]
    engine: Any  # melo.runtime.engine.InferenceEngine over ``model``, fp32: what TTS(precision="fp32") runs

    @property
    def latent_channels(self) -> int:
        """Channels of the prior / flow latent (the decoder's input)."""
        return self.config.model.inter_channels

    @property
    def bert_channels(self) -> int:
        return self.config.model.bert_channels


def load_generator(model_path: str | Path, config_path: str | Path | None = None) -> LoadedGenerator:
    """Load ``G_latest.pth`` (or any generator checkpoint with a stored or given config) as ``melo.api.TTS`` does,
    and fold weight norm (``melo.runtime.engine.prepare_model``). Errors name the file."""
    from melo.api import load_generator_checkpoint

    model, config, symbols, speakers = load_generator_checkpoint(model_path, config_path)
    return from_model(model, config, symbols, speakers)


def from_model(model: nn.Module, config: Config, symbols: SymbolTable, speakers: dict[str, int]) -> LoadedGenerator:
    """An in-memory generator (tests, benchmarks), prepared for inference (weight norm folded, eval, frozen)."""
    from melo.runtime.engine import InferenceEngine

    engine = InferenceEngine(model.cpu(), "cpu", "fp32")  # folds weight norm; PyTorch's own CPU path, in fp32
    return LoadedGenerator(model=engine.model, config=config, symbols=symbols, speakers=dict(speakers), engine=engine)


class _TraceableLayerNorm(nn.Module):
    """``ChannelLayerNorm`` with its channel count as a Python int: the original reads it from the input's
    shape, which the ONNX tracer records as a computed value and then cannot use as ``normalized_shape``."""

    def __init__(self, norm: ChannelLayerNorm) -> None:
        super().__init__()
        self.channels, self.eps = int(norm.gamma.shape[0]), norm.eps
        self.gamma, self.beta = norm.gamma, norm.beta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = nn.functional.layer_norm(x.transpose(1, -1), (self.channels,), self.gamma, self.beta, self.eps)
        return x.transpose(1, -1)


def traceable(module: nn.Module) -> nn.Module:
    """A copy of ``module`` (sharing its weights) whose layer norms the ONNX tracer can export."""
    module = copy.copy(module)
    module._modules = dict(module._modules)
    for name, child in module._modules.items():
        if child is not None:
            module._modules[name] = _TraceableLayerNorm(child) if isinstance(child, ChannelLayerNorm) else traceable(child)
    return module


class TextStage(nn.Module):
    """Text -> frames per position and the prior's statistics: ``infer`` up to the length regulation.

    Inputs (one utterance): phone, tone and language ids (1, T) int64; text_features (1, bert_channels, T); speaker id
    (1,) int64; ``sdp_noise`` (1, 2, T), the stochastic duration predictor's prior draw already times
    ``noise_scale_w``; ``sdp_ratio`` and ``length_scale``, scalars. Outputs: durations (1, 1, T) whole frames
    (float), prior means and log-scales (1, C, T), the speaker embedding (1, gin, 1).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.speaker_embedding = model.speaker_embedding
        self.text_encoder = traceable(model.text_encoder)
        self.stochastic_durations = traceable(model.stochastic_duration_predictor)
        self.durations = traceable(model.duration_predictor)
        self.speaker_conditioned_encoder = bool(model.cfg.use_spk_conditioned_encoder)
        self.eval()  # torch.onnx.export restores the mode it found: a stage left in training mode runs dropout

    def forward(self, phone_ids: torch.Tensor, tone_ids: torch.Tensor, language_ids: torch.Tensor, text_features: torch.Tensor,
                speaker_id: torch.Tensor, sdp_noise: torch.Tensor, sdp_ratio: torch.Tensor,
                length_scale: torch.Tensor) -> tuple[torch.Tensor, ...]:
        g = self.speaker_embedding(speaker_id).unsqueeze(-1)  # (1, gin, 1)
        text_lengths = torch.ones_like(phone_ids).sum(dim=1)  # (1,) = T: one unpadded utterance
        enc = self.text_encoder(phone_ids, tone_ids, language_ids, text_lengths, text_features,
                                g=g if self.speaker_conditioned_encoder else None)
        x, x_mask = enc.hidden, enc.x_mask
        # infer's blend: sdp_ratio * stochastic + (1 - sdp_ratio) * deterministic (both always run here; at a
        # ratio of 0 or 1 the unused one is multiplied by 0, which leaves the other's value exactly)
        logw = torch.zeros_like(x_mask) + sdp_ratio * self.stochastic_durations.sample(x, x_mask, sdp_noise, g=g)
        logw = logw + (1 - sdp_ratio) * self.durations(x, x_mask, g=g).float()
        durations = torch.ceil(torch.exp(logw) * x_mask * length_scale)
        return durations, enc.prior_mean.float(), enc.prior_log_scale.float(), g


class AudioStage(nn.Module):
    """Frames per position + prior statistics + noise -> waveform: length regulation, the prior sample, the
    reverse flow and the HiFi-GAN decoder. The number of frames is the noise's length (the runtime draws
    ``max(1, sum(durations))`` frames of standard normal noise, as ``infer`` does)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.flow = traceable(model.flow)
        self.decoder = traceable(model.decoder)
        self.eval()

    def forward(self, durations: torch.Tensor, prior_mean: torch.Tensor, prior_log_scale: torch.Tensor,
                g: torch.Tensor, noise: torch.Tensor, noise_scale: torch.Tensor) -> torch.Tensor:
        x_mask = torch.ones_like(durations)  # (1, 1, T)
        y_mask = torch.ones_like(noise[:, :1])  # (1, 1, F)
        path = duration_path(durations, x_mask.unsqueeze(2) * y_mask.unsqueeze(-1)).squeeze(1)  # (1, F, T)
        mean = torch.bmm(path, prior_mean.transpose(1, 2)).transpose(1, 2)  # (1, C, F)
        log_scale = torch.bmm(path, prior_log_scale.transpose(1, 2)).transpose(1, 2)
        z_p = mean + noise * torch.exp(log_scale) * noise_scale
        z = self.flow(z_p, y_mask, g=g, reverse=True) * y_mask
        return self.decoder(z, g=g)  # (1, 1, F * hop)


class RecordedNoise(TorchFunctionMode):
    """Inside ``with RecordedNoise() as noise:``, every ``torch.randn``/``torch.randn_like`` result is kept, in
    call order, in ``noise.draws`` (as contiguous copies), so the exported graphs can be fed the very noise a
    PyTorch synthesis drew (``infer`` draws the duration noise, when ``sdp_ratio`` > 0, then the frames')."""

    def __init__(self) -> None:
        super().__init__()
        self.draws: list[torch.Tensor] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func in (torch.randn, torch.randn_like):
            self.draws.append(out.detach().contiguous().clone())
        return out


@dataclass
class ReferenceOutput:
    audio: torch.Tensor  # (n_samples,) float32
    durations: torch.Tensor  # (T,) frames per text position
    draws: list[torch.Tensor]  # the standard normal draws ``infer`` made, in order


def reference_synthesis(loaded: LoadedGenerator, phone_ids: torch.Tensor, tone_ids: torch.Tensor,
                        language_ids: torch.Tensor, text_features: torch.Tensor, speaker_id: int, *, seed: int,
                        sdp_ratio: float, noise_scale: float, noise_scale_w: float,
                        length_scale: float) -> ReferenceOutput:
    """PyTorch's own synthesis (``InferenceEngine.infer``: its CPU runners, in fp32, as ``TTS(precision="fp32")``)
    on one utterance ((1, T) ids, (1, bert_channels, T) text_features), and the noise it drew."""
    loaded.engine.build()  # builds its checked traces now (they draw their own, seeded, inputs)
    with torch.inference_mode(), RecordedNoise() as noise:
        torch.manual_seed(seed)
        out = loaded.engine.infer(phone_ids, tone_ids, language_ids, text_features, torch.tensor([speaker_id]), noise_scale=noise_scale,
                          noise_scale_w=noise_scale_w, length_scale=length_scale, sdp_ratio=sdp_ratio)
    return ReferenceOutput(audio=out.audio[0, 0, : int(out.audio_lengths[0])].clone(), durations=out.durations[0].clone(),
                           draws=noise.draws)


class EncoderStage(nn.Module):
    """The text encoder (bge-m3 or the stand-in), already cut at the layer the model uses
    (``melo.features.loading.prepare_encoder``): ``input_ids``, ``attention_mask`` (B, T) int64 -> the
    layer's hidden states (B, T, H) float32."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
