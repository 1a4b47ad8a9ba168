"""SynthesizerTrn: the VITS2 generator of MeloTTS with one bge-m3 feature projection.

Training (``forward``): text -> prior (text encoder); linear spectrogram -> posterior z (posterior encoder)
-> z_p (flow); monotonic alignment search between z_p and the prior gives durations, which train both
duration predictors and expand the prior over frames (KL term); a random window of z is decoded to audio.
Synthesis (``infer``): text -> prior and durations -> expanded prior sample -> inverse flow -> decoder.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from melo.config import ModelConfig
from melo.model.alignment import maximum_path
from melo.model.commons import duration_path, rand_slice_segments, remove_weight_norm, sequence_mask
from melo.model.decoder import Generator
from melo.model.fast_decoder import PackedDecoder, packed_decoder_supported
from melo.model.fast_flow import PackedFlow, PackedTextEncoder, packed_flow_supported
from melo.model.duration import DurationPredictor, StochasticDurationPredictor
from melo.model.flow import TransformerCouplingBlock
from melo.model.posterior import PosteriorEncoder
from melo.model.text_encoder import TextEncoder, TextEncoderOutput

__all__ = ["DurationDiscriminatorInputs", "FRAME_BUCKET", "GeneratorOutput", "InferenceOutput", "SynthesizerTrn",
           "TEXT_BUCKET"]

log = logging.getLogger(__name__)

FRAME_BUCKET = 8
"""``infer`` runs the flow (and the packed CPU decoder its frames) over a multiple of this many frames."""
TEXT_BUCKET = 8
"""``infer`` runs the text encoder and the duration predictors over a multiple of this many text positions."""
WARM_TEXT_POSITIONS, WARM_FRAMES = 160, 512
"""``build_fast_paths(warm=True)`` makes the CPU kernels for every bucket up to these lengths (~6 s of speech)."""


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
    m_p: torch.Tensor  # (B, C, T_spec) prior means expanded over frames (fp32)
    logs_p: torch.Tensor  # (B, C, T_spec) prior log-scales expanded over frames (fp32)
    m_q: torch.Tensor  # (B, C, T_spec) posterior means
    logs_q: torch.Tensor  # (B, C, T_spec) posterior log-scales
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


class SynthesizerTrn(nn.Module):
    def __init__(self, n_symbols: int, n_tones: int, n_languages: int, spec_channels: int, segment_frames: int,
                 n_speakers: int, hop_length: int, cfg: ModelConfig) -> None:
        super().__init__()
        self._inference_ready = False  # set by prepare_for_inference (weight norm folded, frozen)
        self._packed_decoders: dict[torch.dtype, PackedDecoder | None] = _InferenceCopies()
        # CPU inference runners: checked TorchScript traces, packed flows (None: the module runs eagerly)
        self._runners: dict[str, Any] = _InferenceCopies()
        self.register_load_state_dict_post_hook(lambda module, _keys: module._drop_inference_copies())
        self.cfg = cfg
        self.segment_frames = segment_frames
        self.hop_length = hop_length
        gin = cfg.gin_channels
        self.emb_g = nn.Embedding(n_speakers, gin)
        self.enc_p = TextEncoder(
            n_symbols, n_tones, n_languages, cfg.bert_channels, cfg.inter_channels, cfg.hidden_channels,
            cfg.filter_channels, cfg.n_heads, cfg.n_layers, cfg.kernel_size, cfg.p_dropout, cfg.attention_window_size,
            gin_channels=gin if cfg.use_spk_conditioned_encoder else 0, cond_layer=cfg.speaker_cond_layer,
        )
        self.dec = Generator(
            cfg.inter_channels, cfg.resblock, cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes,
            cfg.upsample_rates, cfg.upsample_initial_channel, cfg.upsample_kernel_sizes, gin_channels=gin,
        )
        self.enc_q = PosteriorEncoder(
            spec_channels, cfg.inter_channels, cfg.hidden_channels, cfg.posterior_kernel_size,
            cfg.posterior_dilation_rate, cfg.posterior_n_layers, gin_channels=gin,
        )
        self.flow = TransformerCouplingBlock(
            cfg.inter_channels, cfg.hidden_channels, cfg.filter_channels, cfg.n_heads, cfg.n_layers_trans_flow,
            cfg.flow_kernel_size, cfg.p_dropout, cfg.n_flow_layer, cfg.attention_window_size, gin_channels=gin,
            cond_layer=cfg.flow_speaker_cond_layer,
        )
        self.sdp = StochasticDurationPredictor(
            cfg.hidden_channels, cfg.sdp_filter_channels, cfg.sdp_kernel_size, cfg.sdp_dropout, cfg.sdp_n_flows,
            gin_channels=gin, conv_layers=cfg.sdp_conv_layers, num_bins=cfg.sdp_num_bins, tail_bound=cfg.sdp_tail_bound,
        )
        self.dp = DurationPredictor(
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
        bert: torch.Tensor,  # (B, bert_channels, T_text)
        spec: torch.Tensor,  # (B, spec_channels, T_spec)
        spec_lengths: torch.Tensor,  # (B,)
        speaker_ids: torch.Tensor,  # (B,) long
        step: int = 0,
        mas_noise_scale: float | None = None,
    ) -> GeneratorOutput:
        """One training forward. The alignment noise is ``mas_noise_scale`` if given, else the value at ``step``."""
        noise = self.mas_noise_scale(step) if mas_noise_scale is None else mas_noise_scale
        g = self.emb_g(speaker_ids).unsqueeze(-1)  # (B, gin, 1)
        enc = self.enc_p(phone_ids, tone_ids, language_ids, text_lengths, bert,
                         g=g if self.cfg.use_spk_conditioned_encoder else None)
        x, x_mask = enc.hidden, enc.x_mask
        post = self.enc_q(spec, spec_lengths, g=g)
        z_mask = post.mask
        z_p = self.flow(post.z, z_mask, g=g)
        logw = self.dp(x, x_mask, g=g)  # (B, 1, T_text) predicted log-durations

        with _fp32(x):
            m_p, logs_p = enc.prior_mean.float(), enc.prior_log_scale.float()
            attn = self._align(z_p.detach().float(), m_p.detach(), logs_p.detach(), x_mask, z_mask, noise)
            w = attn.sum(2)  # (B, 1, T_text) frames per text position
            n_text = torch.sum(x_mask)
            duration_loss_sdp = torch.sum(self.sdp(x, x_mask, w, g=g)) / n_text
            logw_aligned = torch.log(w + 1e-6) * x_mask
            logw = logw.float()
            duration_loss_dp = torch.sum((logw - logw_aligned) ** 2) / n_text
            path = attn.squeeze(1)  # (B, T_spec, T_text)
            m_p = torch.bmm(path, m_p.transpose(1, 2)).transpose(1, 2)  # (B, C, T_spec)
            logs_p = torch.bmm(path, logs_p.transpose(1, 2)).transpose(1, 2)

        z_slice, ids_slice = rand_slice_segments(post.z, spec_lengths, self.segment_frames)
        audio = self.dec(z_slice, g=g)
        return GeneratorOutput(
            audio=audio, ids_slice=ids_slice, x_mask=x_mask, z_mask=z_mask, z=post.z, z_p=z_p, m_p=m_p,
            logs_p=logs_p, m_q=post.mean, logs_q=post.log_scale, duration_loss_dp=duration_loss_dp,
            duration_loss_sdp=duration_loss_sdp, attention=attn,
            duration_discriminator=DurationDiscriminatorInputs(
                hidden=x.detach(), x_mask=x_mask, logw_aligned=logw_aligned.detach(), logw_predicted=logw,
                speaker=g.detach(),
            ),
            mas_noise_scale=noise,
        )

    @staticmethod
    @torch.no_grad()
    def _align(z_p: torch.Tensor, m_p: torch.Tensor, logs_p: torch.Tensor, x_mask: torch.Tensor,
               z_mask: torch.Tensor, noise_scale: float) -> torch.Tensor:
        """Hard alignment (B, 1, T_spec, T_text) maximising sum_j log N(z_p[:, j] | m_p[:, i], exp(logs_p[:, i]))."""
        inv_var = torch.exp(-2 * logs_p)  # (B, C, T_text)
        # log N summed over channels, expanded: a per-text term + two matmuls (no (B, C, T_spec, T_text) tensor)
        per_text = torch.sum(-0.5 * math.log(2 * math.pi) - logs_p - 0.5 * m_p.pow(2) * inv_var, dim=1, keepdim=True)
        scores = torch.bmm(-0.5 * z_p.pow(2).transpose(1, 2), inv_var)  # (B, T_spec, T_text)
        scores = scores + torch.bmm(z_p.transpose(1, 2), m_p * inv_var) + per_text
        if noise_scale > 0:
            scores = scores + torch.std(scores) * torch.randn_like(scores) * noise_scale
        mask = z_mask.transpose(1, 2) * x_mask  # (B, T_spec, T_text)
        return maximum_path(scores, mask).unsqueeze(1)

    # -- synthesis ------------------------------------------------------------------------------
    @torch.no_grad()
    def infer(
        self,
        phone_ids: torch.Tensor,
        tone_ids: torch.Tensor,
        language_ids: torch.Tensor,
        bert: torch.Tensor,
        speaker_ids: torch.Tensor,
        text_lengths: torch.Tensor | None = None,
        noise_scale: float = 0.667,
        noise_scale_w: float = 0.8,
        length_scale: float = 1.0,
        sdp_ratio: float = 0.2,
        max_len: int | None = None,
        decoder_dtype: torch.dtype | None = None,
        flow_dtype: torch.dtype | None = None,
        text_dtype: torch.dtype | None = None,
    ) -> InferenceOutput:
        """Synthesise audio. ``sdp_ratio`` blends stochastic (1) and deterministic (0) log-durations;
        ``length_scale`` > 1 speaks slower; ``max_len`` caps the decoded frames.

        ``decoder_dtype`` (e.g. ``torch.bfloat16``; ``torch.int8`` on CPU) runs the HiFi-GAN decoder in that precision and
        ``flow_dtype`` the flow's transformers (autocast); see :mod:`melo.model.inference`. On a CPU model
        prepared with :meth:`prepare_for_inference` the decoder runs as a :class:`PackedDecoder` (fused,
        channels-last; fp32 or bf16), elsewhere as the module under autocast. ``text_dtype`` (bf16) runs the
        text encoder as a :class:`PackedTextEncoder` on such a CPU model; elsewhere it runs in fp32."""
        if not 0.0 <= sdp_ratio <= 1.0:
            raise ValueError(f"sdp_ratio must be in [0, 1], got {sdp_ratio}")
        if length_scale <= 0:
            raise ValueError(f"length_scale must be > 0, got {length_scale}")
        if text_lengths is None:
            text_lengths = torch.full((phone_ids.shape[0],), phone_ids.shape[1], dtype=torch.long, device=phone_ids.device)
        # The text side runs over a multiple of TEXT_BUCKET positions, and the flow over a multiple of FRAME_BUCKET
        # frames. The extra ones are masked everywhere (attention, convolutions, durations, couplings), so they change
        # nothing, and nearby lengths reuse the CPU kernels oneDNN made for a length: on 2 cores a new length costs
        # ~7 ms of kernel generation on the text side and ~5 ms in the flow (see ``build_fast_paths(warm=True)``).
        n_text = phone_ids.shape[1]
        extra = -(-n_text // TEXT_BUCKET) * TEXT_BUCKET - n_text
        if extra:
            phone_ids, tone_ids, language_ids, bert = (
                nn.functional.pad(t, (0, extra)) for t in (phone_ids, tone_ids, language_ids, bert))
        g = self.emb_g(speaker_ids).unsqueeze(-1)
        enc = self._text_encoder(phone_ids.device, text_dtype)(phone_ids, tone_ids, language_ids, text_lengths, bert,
                                                   g=g if self.cfg.use_spk_conditioned_encoder else None)
        x, x_mask = enc.hidden, enc.x_mask
        logw = torch.zeros_like(x_mask)
        if sdp_ratio > 0:
            noise = nn.functional.pad(self.sdp.prior_noise(x[:, :, :n_text], noise_scale_w), (0, extra))  # same draws
            logw = logw + sdp_ratio * self._duration_sampler(x.device)(x, x_mask, noise, g)
        if sdp_ratio < 1:
            logw = logw + (1 - sdp_ratio) * self.dp(x, x_mask, g=g).float()
        w_ceil = torch.ceil(torch.exp(logw) * x_mask * length_scale)
        y_lengths = torch.clamp_min(torch.sum(w_ceil, dim=[1, 2]), 1).long()
        frames = int(y_lengths.max())
        padded = -(-frames // FRAME_BUCKET) * FRAME_BUCKET
        y_mask = sequence_mask(y_lengths, padded).unsqueeze(1).float()
        attn = duration_path(w_ceil, x_mask.unsqueeze(2) * y_mask.unsqueeze(-1))  # (B, 1, T_spec, T_text)
        path = attn.squeeze(1)
        m_p = torch.bmm(path, enc.prior_mean.float().transpose(1, 2)).transpose(1, 2)
        logs_p = torch.bmm(path, enc.prior_log_scale.float().transpose(1, 2)).transpose(1, 2)
        noise = torch.randn_like(m_p[:, :, :frames])  # the same draws as without the padding
        z_p = m_p + nn.functional.pad(noise, (0, padded - frames)) * torch.exp(logs_p) * noise_scale
        with _autocast(z_p, flow_dtype):
            z = self._reverse_flow(z_p.device, flow_dtype)(z_p, y_mask, g).float()
        attn, y_mask = attn[:, :, :frames], y_mask[:, :, :frames]
        z = (z[:, :, :frames] * y_mask)[:, :, :max_len]
        started = time.perf_counter()
        audio = self.decode(z, g, decoder_dtype)
        if audio.device.type == "cuda":
            torch.cuda.synchronize(audio.device)
        decoder_seconds = time.perf_counter() - started
        frames = torch.clamp_max(y_lengths, z.shape[2])
        return InferenceOutput(
            audio=audio.float(), audio_lengths=frames * self.hop_length, durations=w_ceil.squeeze(1).long()[:, :n_text],
            attention=attn[..., :n_text], x_mask=x_mask[..., :n_text], y_mask=y_mask, decoder_seconds=decoder_seconds,
        )

    def build_fast_paths(self, device: torch.device | str, decoder_dtype: torch.dtype | None = None,
                         flow_dtype: torch.dtype | None = None, warm: bool = False,
                         text_dtype: torch.dtype | None = None) -> None:
        """Build now what ``infer`` would build on its first call on a prepared CPU model (the packed decoder,
        the checked traces; ~1-2 s for the full model), so that first call is not slow. ``warm``: also make the
        CPU kernels every sentence up to ~6 s of speech needs, so that no request waits for them: the packed
        decoder runs once over every tile width (~1.3 s for the full model on 2 cores), and the text side and the
        flow once per length bucket (~1 s; see ``_warm_lengths``)."""
        device = torch.device(device)
        if self._inference_ready:
            packed = self._packed_decoder(device, decoder_dtype or torch.float32)
            self._text_encoder(device, text_dtype)
            self._duration_sampler(device)
            self._reverse_flow(device, flow_dtype)
            if warm and device.type == "cpu":
                if packed is not None:
                    packed.warmup()
                self._warm_lengths(device, flow_dtype, text_dtype)

    @torch.inference_mode()
    def _warm_lengths(self, device: torch.device, flow_dtype: torch.dtype | None,
                      text_dtype: torch.dtype | None) -> None:
        """Run the text encoder and both duration predictors once per bucket of text positions up to
        WARM_TEXT_POSITIONS, and the packed flow's layer shapes once per bucket of frames up to WARM_FRAMES.
        oneDNN makes its kernels per input length; unmade, they cost a request ~7 ms (text side) plus ~5 ms
        (flow) for each new bucket on 2 cores."""
        encode, sample = self._text_encoder(device, text_dtype), self._duration_sampler(device)
        g = torch.zeros(1, self.emb_g.embedding_dim, 1, device=device)
        for n in range(TEXT_BUCKET, WARM_TEXT_POSITIONS + 1, TEXT_BUCKET):
            ids = torch.zeros(1, n, dtype=torch.long, device=device)
            lengths = torch.tensor([n - 1], device=device)  # one padded position, as most requests have
            bert = torch.zeros(1, self.enc_p.bert_proj.in_channels, n, device=device)
            enc = encode(ids, ids, ids, lengths, bert, g=g if self.cfg.use_spk_conditioned_encoder else None)
            sample(enc.hidden, enc.x_mask, torch.zeros(1, 2, n, device=device), g)
            self.dp(enc.hidden, enc.x_mask, g=g)
        flow = self._reverse_flow(device, flow_dtype)
        if isinstance(flow, PackedFlow):
            flow.warmup(WARM_FRAMES, FRAME_BUCKET)

    # -- CPU inference: checked traces and packed runners of the text encoder, duration predictor and flow --
    def _text_encoder(self, device: torch.device, dtype: torch.dtype | None = None) -> Any:
        """``enc_p`` as a callable; on a prepared CPU model a checked trace, or for a reduced ``dtype`` (bf16)
        a :class:`PackedTextEncoder` where the CPU runs it (else the fp32 trace). Elsewhere: the module, in fp32."""
        if not self._inference_ready or device.type != "cpu":
            return self.enc_p
        if dtype is not None and dtype != torch.float32:
            key = f"enc_p:{dtype}"
            if key not in self._runners:
                supported = packed_flow_supported("cpu", dtype)
                self._runners[key] = PackedTextEncoder(self.enc_p, dtype) if supported else None
            if self._runners[key] is not None:
                return self._runners[key]
        if "enc_p" not in self._runners:
            self._runners["enc_p"] = self._trace_text_encoder()
        traced = self._runners["enc_p"]
        if traced is None:
            return self.enc_p

        def run(phone_ids, tone_ids, language_ids, text_lengths, bert, g=None) -> TextEncoderOutput:
            args = (phone_ids, tone_ids, language_ids, text_lengths, bert) + ((g,) if g is not None else ())
            return TextEncoderOutput(*traced(*args))

        return run

    def _trace_text_encoder(self) -> Any:
        from melo.tracing import as_module, checked_trace

        enc_p, with_g = self.enc_p, self.cfg.use_spk_conditioned_encoder
        gin = self.emb_g.embedding_dim

        def as_tuple(*args: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = enc_p(*args[:5], g=args[5] if with_g else None)
            return out.hidden, out.prior_mean, out.prior_log_scale, out.x_mask

        gen = torch.Generator().manual_seed(0)

        def inputs(lengths: list[int]) -> tuple[torch.Tensor, ...]:
            b, t = len(lengths), max(lengths)
            ids = [torch.randint(0, e.num_embeddings, (b, t), generator=gen)
                   for e in (enc_p.emb, enc_p.tone_emb, enc_p.language_emb)]
            bert = torch.randn(b, enc_p.bert_proj.in_channels, t, generator=gen)
            extra = (torch.randn(b, gin, 1, generator=gen),) if with_g else ()
            return (*ids, torch.tensor(lengths), bert, *extra)

        return checked_trace(as_module(as_tuple, enc_p=enc_p), inputs([9]), [inputs([15]), inputs([12, 7])], "text encoder (enc_p)")

    def _duration_sampler(self, device: torch.device) -> Any:
        """``sdp.sample(x, x_mask, noise, g)`` as a callable; a checked trace on a prepared CPU model (the
        stochastic duration predictor is ~100 small ops: 4.5 ms eager, 3.1 ms traced at 52 positions)."""
        def eager(x: torch.Tensor, x_mask: torch.Tensor, noise: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            return self.sdp.sample(x, x_mask, noise, g=g)

        if not self._inference_ready or device.type != "cpu":
            return eager
        if "sdp" not in self._runners:
            self._runners["sdp"] = self._trace_duration_sampler(eager)
        return self._runners["sdp"] or eager

    def _trace_duration_sampler(self, sample: Any) -> Any:
        from melo.tracing import as_module, checked_trace

        hidden, gin = self.enc_p.hidden_channels, self.emb_g.embedding_dim
        gen = torch.Generator().manual_seed(0)

        def inputs(lengths: list[int]) -> tuple[torch.Tensor, ...]:
            b, t = len(lengths), max(lengths)
            mask = sequence_mask(torch.tensor(lengths), t).unsqueeze(1).float()
            return (torch.randn(b, hidden, t, generator=gen) * mask, mask, torch.randn(b, 2, t, generator=gen),
                    torch.randn(b, gin, 1, generator=gen))

        return checked_trace(as_module(sample, sdp=self.sdp), inputs([9]), [inputs([15]), inputs([12, 7])],
                             "stochastic duration predictor (sdp)")

    def _reverse_flow(self, device: torch.device, dtype: torch.dtype | None) -> Any:
        """``flow(z, mask, g, reverse=True)`` as a callable; on a prepared CPU model a :class:`PackedFlow`
        (in ``dtype``, fp32 for None), or where that cannot run a checked trace (per autocast dtype)."""
        def eager(z: torch.Tensor, mask: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
            return self.flow(z, mask, g=g, reverse=True)

        if not self._inference_ready or device.type != "cpu":
            return eager
        key = f"flow:{dtype}"
        if key not in self._runners:
            self._runners[key] = self._packed_flow(dtype) or self._trace_reverse_flow(dtype)
        return self._runners[key] or eager

    def _packed_flow(self, dtype: torch.dtype | None) -> PackedFlow | None:
        dtype = dtype or torch.float32
        if not packed_flow_supported("cpu", dtype):
            return None
        try:
            return PackedFlow(self.flow, dtype)
        except ValueError as err:  # a flow geometry it does not cover (an even feed-forward kernel)
            log.info("reverse flow runs unpacked: %s", err)
            return None

    def _trace_reverse_flow(self, dtype: torch.dtype | None) -> Any:
        from melo.tracing import as_module, checked_trace

        flow, gin = self.flow, self.emb_g.embedding_dim
        channels = self.dec.conv_pre.in_channels
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
                             f"reverse flow ({dtype or torch.float32})", context=lambda: _autocast(torch.empty(0), dtype))

    def decode(self, z: torch.Tensor, g: torch.Tensor | None, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The HiFi-GAN decoder on latent frames ``z`` (B, C, T) -> (B, 1, T * hop), in ``dtype`` (None: fp32;
        ``torch.int8``: the packed CPU decoder's int8 form, see :class:`PackedDecoder`)."""
        dtype = dtype or torch.float32
        packed = self._packed_decoder(z.device, dtype)
        if packed is not None:
            return packed(z, g)
        if dtype == torch.int8:
            raise ValueError(f"an int8 decoder runs only as the packed CPU decoder of a model prepared for inference "
                             f"(here: {z.device.type}{'' if self._inference_ready else ', not prepared'})")
        with _autocast(z, dtype):
            return self.dec(z, g=g)

    def _drop_inference_copies(self) -> None:
        """Forget the packed decoders and traces (they hold or mirror weights that are about to change)."""
        self._packed_decoders.clear()
        self._runners.clear()

    def _packed_decoder(self, device: torch.device, dtype: torch.dtype) -> PackedDecoder | None:
        """The fused CPU decoder for ``dtype``, built on first use; None where it does not apply (training
        modules with live weight norm, non-CPU devices, CPUs without bf16)."""
        if not self._inference_ready or not packed_decoder_supported(device, dtype):
            return None
        if dtype not in self._packed_decoders:
            try:
                self._packed_decoders[dtype] = PackedDecoder(self.dec, dtype, bucket=FRAME_BUCKET)
            except (ValueError, TypeError) as err:  # a decoder geometry it does not cover: the module decodes
                log.info("decoder runs unpacked: %s", err)
                self._packed_decoders[dtype] = None
        return self._packed_decoders[dtype]

    # -- inference preparation ----------------------------------------------------------------
    def prepare_for_inference(self) -> "SynthesizerTrn":
        """Fold every weight norm into plain weights, switch to eval mode and freeze parameters.
        Outputs are unchanged (to float rounding). Returns ``self``."""
        remove_weight_norm(self)
        self.eval()
        self.requires_grad_(False)
        self._inference_ready = True
        self._drop_inference_copies()  # built from the weights as they are now, on first use
        return self

    def _apply(self, fn, recurse: bool = True):  # .to()/.cuda()/.half(): packed copies would be stale
        self._drop_inference_copies()
        return super()._apply(fn, recurse)

    def train(self, mode: bool = True) -> "SynthesizerTrn":
        if mode:  # back to training: weights will change, packed copies would be stale
            self._inference_ready = False
            self._drop_inference_copies()
        return super().train(mode)

    def inference_modules(self) -> list[nn.Module]:
        """The sub-modules ``infer`` uses (the posterior encoder is training-only)."""
        return [self.emb_g, self.enc_p, self.dec, self.flow, self.sdp, self.dp]


class _InferenceCopies(dict):
    """A cache of inference-only copies of the weights (packed decoders, packed flows, traces). Copying or
    pickling the model leaves it behind (it is rebuilt on first use; oneDNN's packed weights cannot be copied)."""

    def __deepcopy__(self, memo: dict) -> "_InferenceCopies":
        return type(self)()

    def __reduce__(self):
        return type(self), ()


def _autocast(x: torch.Tensor, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """Autocast to ``dtype`` on ``x``'s device; a no-op for None/fp32."""
    if dtype is None or dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=x.device.type, dtype=dtype)


def _fp32(x: torch.Tensor) -> contextlib.AbstractContextManager:
    """Autocast off (numerically sensitive section: alignment scores, duration NLL, KL inputs)."""
    return torch.autocast(device_type=x.device.type, enabled=False)
