"""A time-major CPU runner for the reverse flow of a trained :class:`~melo.model.flow.TransformerCouplingBlock`.

Why: after the decoder, the reverse flow is the largest piece of CPU synthesis (~45 ms of a ~500 ms
sentence on 2 cores, bf16). As modules it works on (B, C, T) tensors: every LayerNorm transposes to (B, T, C)
and back; q, k and v are three 1x1 convolutions; every convolution re-lays out its weight on every call
(oneDNN reorders a plain weight into its blocked format; ~0.15 ms for one 192x768x5 feed-forward weight);
and under autocast every weight is also cast on every call.

What: the same network with the activations time-major, (B, T, C), for the whole pass. Every linear map runs
as a oneDNN inner product on a weight laid out once (:class:`PackedLinear`; a packed inner-product weight,
unlike a packed convolution weight, suits every input length). A feed-forward convolution is one such
product over a (T, k * C) window matrix (a view of the padded input), with its ReLU fused. LayerNorm runs on
the last axis; q, k and v are one product with the attention scale folded into q's weights. The channel
flips between couplings are folded into the ``pre``/``post`` weights (a flip of the channels is a reversal
of the columns that read them and of the rows that write them), so the latent is updated in place.

Same math as ``flow(z, mask, g, reverse=True)``: in fp32 the outputs agree to float rounding (tested); in
bf16 the weights and activations are bf16 and LayerNorm statistics, softmax and the latent fp32. Inference
only, CPU only; build it after :func:`melo.runtime.engine.prepare_model` and rebuild it if the weights change.
"""

from __future__ import annotations

import logging
import math

import torch
from torch import nn
from torch.nn import functional as F

from melo.model.attention import ConvFeedForward, Encoder, RelativeMultiHeadAttention, absolute_to_relative, relative_to_absolute
from melo.model.commons import ChannelLayerNorm, sequence_mask
from melo.model.flow import TransformerCouplingBlock, TransformerCouplingLayer
from melo.model.text_encoder import TextEncoder, TextEncoderOutput
from melo.runtime import cpu

__all__ = ["PackedFlow", "PackedLinear", "PackedTextEncoder", "packed_flow_supported"]

log = logging.getLogger(__name__)


def packed_flow_supported(device: torch.device | str, dtype: torch.dtype) -> bool:
    """Whether the runners here can run: CPU, fp32 or bf16 (bf16 needs a CPU with bf16 support in oneDNN)."""
    if torch.device(device).type != "cpu" or dtype not in (torch.float32, torch.bfloat16):
        return False
    if dtype == torch.bfloat16:
        return cpu.packed_linear_supported(dtype)  # oneDNN's bf16 inner product: only on CPUs with bf16 units
    return True  # fp32 runs everywhere (PackedLinear falls back to F.linear without oneDNN)


class PackedLinear:
    """``x @ W.T + b`` over the last axis (optionally followed by ReLU), the weight cast and laid out for
    oneDNN once. Without oneDNN's packed inner product it is ``F.linear`` on the cast weight."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, dtype: torch.dtype, relu: bool = False) -> None:
        self.weight = weight.detach().reshape(weight.shape[0], -1).to(dtype).contiguous()
        self.bias = None if bias is None else bias.detach().to(dtype).contiguous()
        self.relu = relu
        self.packed = None
        if cpu.packed_linear_supported(dtype):
            self.packed = torch.ops.mkldnn._reorder_linear_weight(self.weight, 1)  # the layout suits any length

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "relu" if self.relu else "none", [], "")
        y = F.linear(x, self.weight, self.bias)
        return torch.relu_(y) if self.relu else y


def _conv_as_linear(conv: nn.Conv1d, dtype: torch.dtype, relu: bool = False) -> PackedLinear:
    """A stride-1 convolution as a product with its weight laid out (out, k * in), tap-major: see ``_windows``."""
    if conv.groups != 1 or conv.dilation[0] != 1 or conv.stride[0] != 1:
        raise ValueError("the packed transformer supports plain stride-1 convolutions only")
    return PackedLinear(conv.weight.detach().transpose(1, 2), conv.bias, dtype, relu=relu)


def _windows(x: torch.Tensor, kernel: int, mask: torch.Tensor | None) -> torch.Tensor:
    """(B, T, C) -> (B, T, k * C): row t holds ``x[t - (k-1)/2 .. t + (k-1)/2]`` tap-major (the layout of a
    (out, in, k) convolution weight transposed to (out, k, in)), zero beyond the ends; ``x`` masked first.

    Tap-major, the k rows of a window are one contiguous run of the zero-padded (T + k - 1, C) signal, so the
    window matrix is a view of it with row stride C. The product still makes it dense, but as a copy of
    contiguous runs: the channel-major windows were a strided gather, and the flow ran ~6% slower with them
    (interleaved A/B, bf16, 160-240 frames)."""
    b, t, c = x.shape
    if kernel == 1:
        return x if mask is None else x * mask
    pad = (kernel - 1) // 2
    padded = x.new_empty(b, t + 2 * pad, c)
    padded[:, :pad].zero_()
    padded[:, pad + t :].zero_()
    if mask is None:
        padded[:, pad : pad + t] = x
    else:
        torch.mul(x, mask, out=padded[:, pad : pad + t])
    return padded.as_strided((b, t, kernel * c), ((t + 2 * pad) * c, c, 1))


class _FeedForward:
    """``ConvFeedForward``: conv(k) -> ReLU -> conv(k), inputs and output masked."""

    def __init__(self, ffn: ConvFeedForward, dtype: torch.dtype) -> None:
        self.kernel = ffn.conv_1.kernel_size[0]
        if ffn.pad != ((self.kernel - 1) // 2,) * 2:
            raise ValueError(f"the packed transformer needs an odd feed-forward kernel, got {self.kernel}")
        self.conv_1 = _conv_as_linear(ffn.conv_1, dtype, relu=True)
        self.conv_2 = _conv_as_linear(ffn.conv_2, dtype)

    def __call__(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        h = self.conv_1(_windows(x, self.kernel, mask))
        y = self.conv_2(_windows(h, self.kernel, mask))
        return y if mask is None else y * mask


class _Attention:
    """``RelativeMultiHeadAttention`` with q, k, v as one product and q's scale folded into its weights."""

    def __init__(self, attn: RelativeMultiHeadAttention, dtype: torch.dtype) -> None:
        self.heads, self.head_channels, self.window = attn.n_heads, attn.head_channels, attn.window
        scale = self.head_channels**-0.5
        weight = torch.cat([attn.conv_q.weight * scale, attn.conv_k.weight, attn.conv_v.weight])
        bias = torch.cat([attn.conv_q.bias * scale, attn.conv_k.bias, attn.conv_v.bias])
        self.qkv = PackedLinear(weight, bias, dtype)
        self.out = PackedLinear(attn.conv_o.weight, attn.conv_o.bias, dtype)
        if self.window > 0:
            self.rel_k = attn.emb_rel_k.detach()[0].t().to(dtype).contiguous()  # (d, 2w+1)
            self.rel_v = attn.emb_rel_v.detach()[0].to(dtype).contiguous()  # (2w+1, d)

    def __call__(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, self.head_channels).permute(2, 0, 3, 1, 4)  # (B, H, T, d)
        scores = q @ k.transpose(2, 3)
        if self.window > 0:
            scores = scores + relative_to_absolute(q @ self.rel_k, self.window)
        if bias is not None:
            scores = scores + bias
        p = torch.softmax(scores, dim=-1, dtype=torch.float32).to(x.dtype)
        out = p @ v
        if self.window > 0:
            out = out + absolute_to_relative(p, self.window) @ self.rel_v
        return self.out(out.transpose(1, 2).reshape(b, t, c))


def _norm(norm: ChannelLayerNorm) -> tuple[torch.Tensor, torch.Tensor, float]:
    return norm.gamma.detach(), norm.beta.detach(), norm.eps


class _Encoder:
    """``attention.Encoder`` on (B, T, C)."""

    def __init__(self, enc: Encoder, dtype: torch.dtype) -> None:
        self.cond_layer = enc.cond_layer
        self.speaker = PackedLinear(enc.spk_proj.weight, enc.spk_proj.bias, torch.float32) if enc.cond_layer >= 0 else None
        self.layers = [
            (_Attention(attn, dtype), _norm(norm_1), _FeedForward(ffn, dtype), _norm(norm_2))
            for attn, norm_1, ffn, norm_2 in zip(enc.attn_layers, enc.norm_1, enc.ffn_layers, enc.norm_2)
        ]

    def __call__(self, x: torch.Tensor, mask: torch.Tensor | None, bias: torch.Tensor | None,
                 g: torch.Tensor | None, depth: int | None = None) -> torch.Tensor:
        """x: (B, T, C) already masked; mask: (B, T, 1) or None (nothing padded); bias: (B, 1, T, T) additive
        attention mask or None; g: (B, gin) speaker embedding or None. ``depth``: run only the first layers."""
        for i, (attn, norm_1, ffn, norm_2) in enumerate(self.layers[:depth]):
            if i == self.cond_layer and g is not None:  # cond_layer >= 0 only with a speaker projection
                x = x + self.speaker(g).to(x.dtype).unsqueeze(1)
                if mask is not None:
                    x = x * mask
            x = F.layer_norm(x + attn(x, bias), (x.shape[-1],), *norm_1)
            x = F.layer_norm(x + ffn(x, mask), (x.shape[-1],), *norm_2)
        return x if mask is None else x * mask


def _masks(frame_mask: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(B, T, 1) 0/1 mask -> (the mask in ``dtype``, the additive attention mask), both None when nothing
    is padded (every mask multiplication would be by one)."""
    if bool(frame_mask.min() > 0):
        return None, None
    pair = frame_mask.transpose(1, 2) * frame_mask  # (B, T, T): 1 where both frames are real
    # the modules' masked_fill(-1e4) as an addition: the same softmax on every real frame's row
    return frame_mask.to(dtype), ((pair - 1) * 1e4).unsqueeze(1).to(dtype)


class _Coupling:
    """One reverse coupling step, updating the latent in place. ``flipped``: the layer sees the latent's
    channels in reverse order (the flips of ``TransformerCouplingBlock`` folded into its weights)."""

    def __init__(self, layer: TransformerCouplingLayer, dtype: torch.dtype, flipped: bool) -> None:
        half = layer.half_channels
        self.channels = 2 * half  # of the latent
        pre_w, pre_b = layer.pre.weight.detach()[:, :, 0], layer.pre.bias.detach()
        post_w, post_b = layer.post.weight.detach()[:, :, 0], layer.post.bias.detach()
        if flipped:  # reads channels (C-1 .. half) as its first half, writes (half-1 .. 0) as its second
            pre_w, post_w, post_b = pre_w.flip(1), post_w.flip(0), post_b.flip(0)
            self.reads, self.writes = slice(half, 2 * half), slice(0, half)
        else:
            self.reads, self.writes = slice(0, half), slice(half, 2 * half)
        self.dtype = dtype
        self.pre = PackedLinear(pre_w, pre_b, dtype)
        self.enc = _Encoder(layer.enc, dtype)
        self.post = PackedLinear(post_w, post_b, dtype)

    def __call__(self, z: torch.Tensor, mask: torch.Tensor | None, bias: torch.Tensor | None,
                 g: torch.Tensor | None, depth: int | None = None) -> None:
        h = self.pre(z[..., self.reads].to(self.dtype))
        if mask is not None:
            h = h * mask
        shift = self.post(self.enc(h, mask, bias, g, depth)).float()
        part = z[..., self.writes]
        if mask is None:
            part -= shift
        else:  # (x1 - shift * mask) * mask, as the module
            part -= shift * mask
            part *= mask


class PackedFlow:
    """``PackedFlow(flow, dtype)(z, mask, g)`` == ``flow(z, mask, g=g, reverse=True)`` computed the fast way
    (see module doc). ``dtype``: ``torch.float32`` (exact to rounding) or ``torch.bfloat16``."""

    def __init__(self, flow: TransformerCouplingBlock, dtype: torch.dtype = torch.bfloat16) -> None:
        if not packed_flow_supported("cpu", dtype):
            raise RuntimeError(f"PackedFlow needs a CPU PyTorch build with oneDNN bf16 support for {dtype}")
        device = next(flow.parameters()).device
        if device.type != "cpu":
            raise ValueError(f"PackedFlow runs on CPU only; the flow is on {device}")
        self.dtype = dtype
        with torch.no_grad():
            # processing order is reversed(flows); layer i sees flip^(i+1) of the latent as stored
            self.layers = [_Coupling(layer, dtype, flipped=i % 2 == 0) for i, layer in enumerate(reversed(flow.flows))]
        self.flip_out = len(self.layers) % 2 == 1  # the stored latent is flip^n of the result
        log.debug("packed reverse flow for %s (%d couplings)", dtype, len(self.layers))

    @torch.inference_mode()
    def warmup(self, max_frames: int, bucket: int) -> None:
        """Make oneDNN's kernels for every multiple of ``bucket`` frames up to ``max_frames`` now, instead of
        on a request's first use of that length (~5 ms per new length in the full flow on 2 cores). The kernels
        depend on the shapes only, so one coupling's first layer per length makes all of them: ~0.65 s for 512
        frames in 8-frame buckets (the whole flow per length would take ~3 s)."""
        with torch.autocast("cpu", enabled=False):
            coupling = self.layers[0]
            for frames in range(bucket, max_frames + 1, bucket):
                frame_mask = torch.ones(1, frames, 1)
                frame_mask[:, -1] = 0  # one padded frame, as most requests have
                latent = torch.zeros(1, frames, coupling.channels)
                coupling(latent, *_masks(frame_mask, self.dtype), None, depth=1)

    @torch.inference_mode()
    def __call__(self, z: torch.Tensor, mask: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:
        """z: (B, C, T) prior sample, mask: (B, 1, T), g: (B, gin, 1) -> (B, C, T) float32 latent."""
        with torch.autocast("cpu", enabled=False):  # precisions are explicit here
            latent = z.float().transpose(1, 2).contiguous()  # (B, T, C), updated in place by every coupling
            frame_mask, bias = _masks(mask.float().transpose(1, 2), self.dtype)
            speaker = None if g is None else g.float()[:, :, 0]
            for layer in self.layers:
                layer(latent, frame_mask, bias, speaker)
            if self.flip_out:
                latent = latent.flip(2)
            return latent.transpose(1, 2)


class PackedTextEncoder:
    """``PackedTextEncoder(text_encoder, dtype)(...)`` == ``text_encoder(...)`` (a :class:`~melo.model.text_encoder.TextEncoder`)
    with its transformer run time-major like the flow's (see module doc).

    Its use is bf16: at 50-90 text positions the fp32 trace spends most of its time between kernels, and bf16
    halves the kernels' time too (measured 5.0 ms against 8.1 ms traced fp32 at 52 positions, 7.1 against
    12.2 at 90). In bf16 the hidden states differ from fp32 by ~2% (relative), so the durations the predictors
    read off them can differ by a frame here and there, as the int8 features already make them. In fp32 the
    outputs agree with the module to float rounding (tested). Embedding sums, the speaker projection and
    every output are fp32."""

    def __init__(self, text_encoder: TextEncoder, dtype: torch.dtype = torch.bfloat16) -> None:
        if not packed_flow_supported("cpu", dtype):
            raise RuntimeError(f"PackedTextEncoder needs a CPU PyTorch build with oneDNN bf16 support for {dtype}")
        if text_encoder.emb.weight.device.type != "cpu":
            raise ValueError(f"PackedTextEncoder runs on CPU only; the text encoder is on {text_encoder.emb.weight.device}")
        self.dtype = dtype
        self.out_channels = text_encoder.out_channels
        self.scale = math.sqrt(text_encoder.hidden_channels)
        with torch.no_grad():
            self.embeddings = [e.weight.detach().float() for e in (text_encoder.emb, text_encoder.tone_emb, text_encoder.language_emb)]
            self.feature_proj = PackedLinear(text_encoder.feature_proj.weight, text_encoder.feature_proj.bias, dtype)
            self.encoder = _Encoder(text_encoder.encoder, dtype)
            self.proj = PackedLinear(text_encoder.proj.weight, text_encoder.proj.bias, dtype)
        log.debug("packed text encoder for %s", dtype)

    @torch.inference_mode()
    def __call__(self, phone_ids: torch.Tensor, tone_ids: torch.Tensor, language_ids: torch.Tensor,
                 text_lengths: torch.Tensor, text_features: torch.Tensor, g: torch.Tensor | None = None) -> TextEncoderOutput:
        """Ids: (B, T); text_lengths: (B,); text_features: (B, bert_channels, T); g: (B, gin, 1) or None."""
        with torch.autocast("cpu", enabled=False):  # precisions are explicit here
            phones, tones, languages = self.embeddings
            x = phones[phone_ids] + tones[tone_ids] + languages[language_ids]  # (B, T, H)
            x = (x + self.feature_proj(text_features.transpose(1, 2).to(self.dtype))) * self.scale
            frame_mask = sequence_mask(text_lengths, x.shape[1]).unsqueeze(2).float()  # (B, T, 1)
            mask, bias = _masks(frame_mask, self.dtype)
            x = x.to(self.dtype)
            if mask is not None:
                x = x * mask
            hidden = self.encoder(x, mask, bias, None if g is None else g.float()[:, :, 0])
            stats = self.proj(hidden).float() * frame_mask
            m, logs = torch.split(stats.transpose(1, 2), self.out_channels, dim=1)
            return TextEncoderOutput(hidden=hidden.float().transpose(1, 2), prior_mean=m, prior_log_scale=logs,
                                     x_mask=frame_mask.transpose(1, 2))
