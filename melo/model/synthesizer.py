"""SynthesizerTrn: the VITS2 generator of MeloTTS with one bge-m3 feature projection.

Training (``forward``): text -> prior (text encoder); linear spectrogram -> posterior z (posterior encoder)
-> z_p (flow); monotonic alignment search between z_p and the prior gives durations, which train both
duration predictors and expand the prior over frames (KL term); a random window of z is decoded to audio.
Synthesis (``infer``): text -> prior and durations -> expanded prior sample -> inverse flow -> decoder.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, replace
from typing import Callable

import torch
from torch import nn

from melo.config import ModelConfig
from melo.model.alignment import maximum_path
from melo.model.attention import EncoderShape
from melo.model.commons import duration_path, rand_slice_segments, sequence_mask
from melo.model.decoder import Generator
from melo.model.duration import DurationPredictor, StochasticDurationPredictor
from melo.model.flow import TransformerCouplingBlock
from melo.model.posterior import PosteriorEncoder
from melo.model.text_encoder import TextEncoder, TextEncoderOutput

__all__ = ["DurationDiscriminatorInputs", "GeneratorOutput", "InferenceOutput", "InferenceParts", "SynthesizerTrn",
           "module_parts"]


@dataclass
class DurationDiscriminatorInputs:
    """What the duration discriminator judges. Detach ``logw_predicted`` for the discriminator step;
    keep its graph for the generator's adversarial duration loss."""

    hidden: torch.Tensor  # (B, H, T_text) text-encoder output, detached
    x_mask: torch.Tensor  # (B, 1, T_text)
    logw_aligned: torch.Tensor  # (B, 1, T_text) log(aligned durations + 1e-6), detached ("real")
    logw_predicted: torch.Tensor  # (B, 1, T_text) deterministic predictor's output ("fake"), with graph
    speaker: torch.Tensor  # (B, gin, 1) speaker embedding, detached


@dataclass
class GeneratorOutput:
    """Everything a VITS2 training step needs from the generator."""

    audio: torch.Tensor  # (B, 1, segment_size) decoded window
    ids_slice: torch.Tensor  # (B,) first spectrogram frame of each window (audio starts at ids_slice * hop)
    x_mask: torch.Tensor  # (B, 1, T_text) float
    z_mask: torch.Tensor  # (B, 1, T_spec) float
    z: torch.Tensor  # (B, C, T_spec) posterior sample
    z_p: torch.Tensor  # (B, C, T_spec) flow(z)
    prior_mean: torch.Tensor  # (B, C, T_spec) the text prior's means expanded over frames (fp32)
    prior_log_scale: torch.Tensor  # (B, C, T_spec) the text prior's log-scales expanded over frames (fp32)
    posterior_mean: torch.Tensor  # (B, C, T_spec) posterior means
    posterior_log_scale: torch.Tensor  # (B, C, T_spec) posterior log-scales
    duration_loss_dp: torch.Tensor  # scalar: sum_b sum_t (logw - logw_aligned)^2 / sum(x_mask)
    duration_loss_sdp: torch.Tensor  # scalar: sum_b NLL_b / sum(x_mask)
    attention: torch.Tensor  # (B, 1, T_spec, T_text) hard alignment (for TensorBoard)
    duration_discriminator: DurationDiscriminatorInputs
    mas_noise_scale: float  # the alignment noise used in this step

    @property
    def duration_loss(self) -> torch.Tensor:
        """MeloTTS's ``loss_dur``: ``sum(l_length)`` with l_length = dp term + sdp term per item."""
        return self.duration_loss_dp + self.duration_loss_sdp


@dataclass
class InferenceOutput:
    audio: torch.Tensor  # (B, 1, T_samples) float32 in [-1, 1]; items are valid up to audio_lengths
    audio_lengths: torch.Tensor  # (B,) valid samples per item
    durations: torch.Tensor  # (B, T_text) frames per text position (long)
    attention: torch.Tensor  # (B, 1, T_spec, T_text)
    x_mask: torch.Tensor  # (B, 1, T_text)
    y_mask: torch.Tensor  # (B, 1, T_spec)
    decoder_seconds: float = 0.0  # wall time of the HiFi-GAN decoder in this call


@dataclass(frozen=True)
class InferenceParts:
    """The pieces of :meth:`SynthesizerTrn.infer` a runtime may replace by equivalents (the same function of the
    same inputs, computed faster), and the length granules it pads to. The padded positions are masked
    everywhere (attention, convolutions, durations, couplings), so padding changes nothing but the shapes the
    parts see. :func:`module_parts` gives the model's own modules, unpadded."""

    text_encoder: Callable[..., TextEncoderOutput]  # (phone_ids, tone_ids, language_ids, lengths, features, g=None)
    sample_log_durations: Callable[..., torch.Tensor]  # (x, x_mask, noise, g) -> (B, 1, T_text), as stochastic_duration_predictor.sample
    reverse_flow: Callable[..., torch.Tensor]  # (z_p, y_mask, g) -> z, as flow(..., reverse=True)
    decoder: Callable[..., torch.Tensor]  # (z, g) -> (B, 1, T * hop) audio
    text_bucket: int = 1  # the text side runs over a multiple of this many positions
    frame_bucket: int = 1  # the flow and decoder run over a multiple of this many frames


def module_parts(model: "SynthesizerTrn") -> InferenceParts:
    """The model's own modules as :class:`InferenceParts` (fp32, no padding)."""
    return InferenceParts(
        text_encoder=model.text_encoder,
        sample_log_durations=lambda x, x_mask, noise, g: (
            model.stochastic_duration_predictor.sample(x, x_mask, noise, g=g)),
        reverse_flow=lambda z, mask, g: model.flow(z, mask, g=g, reverse=True),
        decoder=lambda z, g: model.decoder(z, g=g),
    )


class SynthesizerTrn(nn.Module):
    def __init__(self, n_symbols: int, n_tones: int, n_languages: int, spec_channels: int, segment_frames: int,
                 n_speakers: int, hop_length: int, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.segment_frames = segment_frames
        self.hop_length = hop_length
        gin = cfg.gin_channels
        self.speaker_embedding = nn.Embedding(n_speakers, gin)
        text_shape = EncoderShape(cfg.hidden_channels, cfg.filter_channels, cfg.n_heads, cfg.n_layers, cfg.kernel_size,
                                  cfg.p_dropout, cfg.attention_window_size)
        self.text_encoder = TextEncoder(
            n_symbols, n_tones, n_languages, cfg.bert_channels, cfg.inter_channels, text_shape,
            gin_channels=gin if cfg.use_spk_conditioned_encoder else 0, cond_layer=cfg.speaker_cond_layer,
        )
        self.decoder = Generator(
            cfg.inter_channels, cfg.resblock, cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes,
            cfg.upsample_rates, cfg.upsample_initial_channel, cfg.upsample_kernel_sizes, gin_channels=gin,
        )
        self.posterior_encoder = PosteriorEncoder(
            spec_channels, cfg.inter_channels, cfg.hidden_channels, cfg.posterior_kernel_size,
            cfg.posterior_dilation_rate, cfg.posterior_n_layers, gin_channels=gin,
        )
        self.flow = TransformerCouplingBlock(
            cfg.inter_channels, replace(text_shape, n_layers=cfg.n_layers_trans_flow, kernel_size=cfg.flow_kernel_size),
            cfg.n_flow_layer, gin_channels=gin, cond_layer=cfg.flow_speaker_cond_layer,
        )
        self.stochastic_duration_predictor = StochasticDurationPredictor(
            cfg.hidden_channels, cfg.sdp_filter_channels, cfg.sdp_kernel_size, cfg.sdp_dropout, cfg.sdp_n_flows,
            gin_channels=gin, conv_layers=cfg.sdp_conv_layers, num_bins=cfg.sdp_num_bins, tail_bound=cfg.sdp_tail_bound,
        )
        self.duration_predictor = DurationPredictor(
            cfg.hidden_channels, cfg.duration_predictor_filter_channels, cfg.duration_predictor_kernel_size,
            cfg.duration_predictor_dropout, gin_channels=gin,
        )

    # -- training -------------------------------------------------------------------------------
    def mas_noise_scale(self, step: int) -> float:
        """The VITS2 alignment noise at global training ``step`` (stateless, so resuming is exact)."""
        return self.cfg.mas_noise_scale_at(step)

    def forward(
        self,
        phone_ids: torch.Tensor,  # (B, T_text) long
        tone_ids: torch.Tensor,  # (B, T_text) long
        language_ids: torch.Tensor,  # (B, T_text) long
        text_lengths: torch.Tensor,  # (B,)
        text_features: torch.Tensor,  # (B, bert_channels, T_text)
        spec: torch.Tensor,  # (B, spec_channels, T_spec)
        spec_lengths: torch.Tensor,  # (B,)
        speaker_ids: torch.Tensor,  # (B,) long
        step: int = 0,
        mas_noise_scale: float | None = None,
    ) -> GeneratorOutput:
        """One training forward. The alignment noise is ``mas_noise_scale`` if given, else the value at ``step``."""
        noise = self.mas_noise_scale(step) if mas_noise_scale is None else mas_noise_scale
        g = self.speaker_embedding(speaker_ids).unsqueeze(-1)  # (B, gin, 1)
        enc = self.text_encoder(phone_ids, tone_ids, language_ids, text_lengths, text_features,
                         g=g if self.cfg.use_spk_conditioned_encoder else None)
        x, x_mask = enc.hidden, enc.x_mask
        post = self.posterior_encoder(spec, spec_lengths, g=g)
        z_mask = post.mask
        z_p = self.flow(post.z, z_mask, g=g)
        logw = self.duration_predictor(x, x_mask, g=g)  # (B, 1, T_text) predicted log-durations

        with _fp32(x):
            prior_mean, prior_log_scale = enc.prior_mean.float(), enc.prior_log_scale.float()
            attn = self._align(z_p.detach().float(), prior_mean.detach(), prior_log_scale.detach(), x_mask, z_mask,
                               noise)
            w = attn.sum(2)  # (B, 1, T_text) frames per text position
            n_text = torch.sum(x_mask)
            duration_loss_sdp = torch.sum(self.stochastic_duration_predictor(x, x_mask, w, g=g)) / n_text
            logw_aligned = torch.log(w + 1e-6) * x_mask
            logw = logw.float()
            duration_loss_dp = torch.sum((logw - logw_aligned) ** 2) / n_text
            path = attn.squeeze(1)  # (B, T_spec, T_text)
            prior_mean = torch.bmm(path, prior_mean.transpose(1, 2)).transpose(1, 2)  # (B, C, T_spec)
            prior_log_scale = torch.bmm(path, prior_log_scale.transpose(1, 2)).transpose(1, 2)

        z_slice, ids_slice = rand_slice_segments(post.z, spec_lengths, self.segment_frames)
        audio = self.decoder(z_slice, g=g)
        return GeneratorOutput(
            audio=audio, ids_slice=ids_slice, x_mask=x_mask, z_mask=z_mask, z=post.z, z_p=z_p, prior_mean=prior_mean,
            prior_log_scale=prior_log_scale, posterior_mean=post.mean, posterior_log_scale=post.log_scale,
            duration_loss_dp=duration_loss_dp, duration_loss_sdp=duration_loss_sdp, attention=attn,
            duration_discriminator=DurationDiscriminatorInputs(
                hidden=x.detach(), x_mask=x_mask, logw_aligned=logw_aligned.detach(), logw_predicted=logw,
                speaker=g.detach(),
            ),
            mas_noise_scale=noise,
        )

    @staticmethod
    @torch.no_grad()
    def _align(z_p: torch.Tensor, prior_mean: torch.Tensor, prior_log_scale: torch.Tensor, x_mask: torch.Tensor,
               z_mask: torch.Tensor, noise_scale: float) -> torch.Tensor:
        """Hard alignment (B, 1, T_spec, T_text) maximising
        sum_j log N(z_p[:, j] | prior_mean[:, i], exp(prior_log_scale[:, i]))."""
        inv_var = torch.exp(-2 * prior_log_scale)  # (B, C, T_text)
        # log N summed over channels, expanded: a per-text term + two matmuls (no (B, C, T_spec, T_text) tensor)
        per_text = torch.sum(-0.5 * math.log(2 * math.pi) - prior_log_scale - 0.5 * prior_mean.pow(2) * inv_var,
                             dim=1, keepdim=True)
        scores = torch.bmm(-0.5 * z_p.pow(2).transpose(1, 2), inv_var)  # (B, T_spec, T_text)
        scores = scores + torch.bmm(z_p.transpose(1, 2), prior_mean * inv_var) + per_text
        if noise_scale > 0:
            scores = scores + torch.std(scores) * torch.randn_like(scores) * noise_scale
        mask = z_mask.transpose(1, 2) * x_mask  # (B, T_spec, T_text)
        return maximum_path(scores, mask).unsqueeze(1)

    # -- synthesis ------------------------------------------------------------------------------
    @torch.no_grad()
    def infer(
        self,
        phone_ids: torch.Tensor,  # (B, T_text) long
        tone_ids: torch.Tensor,  # (B, T_text) long
        language_ids: torch.Tensor,  # (B, T_text) long
        text_features: torch.Tensor,  # (B, bert_channels, T_text)
        speaker_ids: torch.Tensor,  # (B,) long
        text_lengths: torch.Tensor | None = None,  # (B,); None: every item is T_text long
        noise_scale: float = 0.667,
        noise_scale_w: float = 0.8,
        length_scale: float = 1.0,
        sdp_ratio: float = 0.2,
        max_len: int | None = None,
        parts: InferenceParts | None = None,
    ) -> InferenceOutput:
        """Synthesise audio. ``sdp_ratio`` blends stochastic (1) and deterministic (0) log-durations;
        ``length_scale`` > 1 speaks slower; ``max_len`` caps the decoded frames. ``parts``: faster equivalents
        of the modules (see :class:`InferenceParts`; :class:`melo.runtime.engine.InferenceEngine` passes them)."""
        if not 0.0 <= sdp_ratio <= 1.0:
            raise ValueError(f"sdp_ratio must be in [0, 1], got {sdp_ratio}")
        if length_scale <= 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale}")
        parts = parts or module_parts(self)
        if text_lengths is None:
            text_lengths = torch.full((phone_ids.shape[0],), phone_ids.shape[1], dtype=torch.long, device=phone_ids.device)
        n_text = phone_ids.shape[1]
        extra = -(-n_text // parts.text_bucket) * parts.text_bucket - n_text
        if extra:
            phone_ids, tone_ids, language_ids, text_features = (
                nn.functional.pad(t, (0, extra)) for t in (phone_ids, tone_ids, language_ids, text_features))
        g = self.speaker_embedding(speaker_ids).unsqueeze(-1)  # (B, gin, 1)
        enc = parts.text_encoder(phone_ids, tone_ids, language_ids, text_lengths, text_features,
                                 g=g if self.cfg.use_spk_conditioned_encoder else None)
        x, x_mask = enc.hidden, enc.x_mask
        logw = torch.zeros_like(x_mask)
        if sdp_ratio > 0:
            noise = self.stochastic_duration_predictor.prior_noise(x[:, :, :n_text], noise_scale_w)
            noise = nn.functional.pad(noise, (0, extra))  # the same draws as without the padding
            logw = logw + sdp_ratio * parts.sample_log_durations(x, x_mask, noise, g)
        if sdp_ratio < 1:
            logw = logw + (1 - sdp_ratio) * self.duration_predictor(x, x_mask, g=g).float()
        w_ceil = torch.ceil(torch.exp(logw) * x_mask * length_scale)
        y_lengths = torch.clamp_min(torch.sum(w_ceil, dim=[1, 2]), 1).long()
        frames = int(y_lengths.max())
        padded = -(-frames // parts.frame_bucket) * parts.frame_bucket
        y_mask = sequence_mask(y_lengths, padded).unsqueeze(1).float()
        attn = duration_path(w_ceil, x_mask.unsqueeze(2) * y_mask.unsqueeze(-1))  # (B, 1, T_spec, T_text)
        path = attn.squeeze(1)
        prior_mean = torch.bmm(path, enc.prior_mean.float().transpose(1, 2)).transpose(1, 2)  # (B, C, T_spec)
        prior_log_scale = torch.bmm(path, enc.prior_log_scale.float().transpose(1, 2)).transpose(1, 2)
        noise = torch.randn_like(prior_mean[:, :, :frames])  # the same draws as without the padding
        z_p = prior_mean + nn.functional.pad(noise, (0, padded - frames)) * torch.exp(prior_log_scale) * noise_scale
        z = parts.reverse_flow(z_p, y_mask, g).float()
        attn, y_mask = attn[:, :, :frames], y_mask[:, :, :frames]
        z = (z[:, :, :frames] * y_mask)[:, :, :max_len]
        started = time.perf_counter()
        audio = parts.decoder(z, g)
        if audio.device.type == "cuda":
            torch.cuda.synchronize(audio.device)
        decoder_seconds = time.perf_counter() - started
        frames = torch.clamp_max(y_lengths, z.shape[2])
        return InferenceOutput(
            audio=audio.float(), audio_lengths=frames * self.hop_length, durations=w_ceil.squeeze(1).long()[:, :n_text],
            attention=attn[..., :n_text], x_mask=x_mask[..., :n_text], y_mask=y_mask, decoder_seconds=decoder_seconds,
        )


def _fp32(x: torch.Tensor) -> contextlib.AbstractContextManager:
    """Autocast off (numerically sensitive section: alignment scores, duration NLL, KL inputs)."""
    return torch.autocast(device_type=x.device.type, enabled=False)
