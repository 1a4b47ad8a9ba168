"""A reference VITS2 training step (generator, waveform discriminators, duration discriminator), as in
MeloTTS's trainer but without its waste. The tests and benchmarks use it; the trainer may too.

Differences from MeloTTS's loop that do not change the maths:
* the discriminators' parameters are frozen during the generator's backward (MeloTTS computes their
  gradients there and then throws them away);
* in the discriminator step real and generated audio go through each discriminator as one batch; in the
  generator step the real audio's features (targets only) are computed without a graph;
* AdamW uses PyTorch's fused implementation (one pass over the parameters instead of a dozen);
* the real mel is computed from the already-sliced linear spectrogram (mel is per frame);
* no per-parameter gradient-norm bookkeeping;
* gradients are freed right after each optimiser step, and in-place leaky ReLUs where autograd allows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from melo.audio import mel_spectrogram, spec_to_mel
from melo.config import Config
from melo.model import losses
from melo.model.commons import slice_segments
from melo.model.synthesizer import GeneratorOutput, SynthesizerTrn

__all__ = ["Optimizers", "StepResult", "make_optimizers", "train_step"]


@dataclass
class Optimizers:
    generator: torch.optim.Optimizer
    mpd: torch.optim.Optimizer
    duration: torch.optim.Optimizer | None = None


@dataclass
class StepResult:
    """Detached scalar losses of one step, and the generator output (for images/audio logging)."""

    discriminator: torch.Tensor
    duration_discriminator: torch.Tensor | None
    generator_total: torch.Tensor
    adversarial: torch.Tensor
    feature_matching: torch.Tensor
    mel: torch.Tensor  # unweighted L1
    kl: torch.Tensor  # unweighted
    duration: torch.Tensor
    duration_adversarial: torch.Tensor | None
    output: GeneratorOutput


def make_optimizers(generator: torch.nn.Module, discriminators, config: Config, fused: bool | None = None) -> Optimizers:
    """AdamW with the config's lr, betas and eps for each network (MeloTTS's choice). ``fused`` defaults to
    True for CPU and CUDA parameters (same update rule, one kernel over all parameters)."""
    t = config.train
    if fused is None:
        fused = next(generator.parameters()).device.type in ("cpu", "cuda")

    def adamw(module: torch.nn.Module) -> torch.optim.Optimizer:
        params = [p for p in module.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, t.learning_rate, betas=t.betas, eps=t.eps, fused=fused)

    return Optimizers(
        generator=adamw(generator),
        mpd=adamw(discriminators.mpd),
        duration=adamw(discriminators.duration) if discriminators.duration is not None else None,
    )


def train_step(generator: SynthesizerTrn, discriminators, optimizers: Optimizers, inputs: dict[str, torch.Tensor],
               wav: torch.Tensor, config: Config, step: int, autocast_dtype: torch.dtype | None = None,
               release_grads: bool = True) -> StepResult:
    """One full step. ``inputs``: the generator's forward arguments; ``wav``: (B, 1, T) real audio aligned with
    ``inputs['spec']`` (frame j starts at sample j * hop). ``release_grads`` frees each network's gradients
    right after its optimiser step (they are not needed until its next backward); pass False to inspect them."""
    d, t = config.data, config.train
    hop = d.hop_length
    device_type = wav.device.type
    amp = (torch.autocast(device_type=device_type, dtype=autocast_dtype) if autocast_dtype is not None
           else contextlib.nullcontext())
    mpd, dur_disc = discriminators.mpd, discriminators.duration

    with amp:
        out = generator(**inputs, step=step)
    fake = out.audio.float()
    real = slice_segments(wav, out.ids_slice * hop, t.segment_size)
    frames = t.segment_size // hop
    spec_slice = slice_segments(inputs["spec"], out.ids_slice, frames)
    mel_real = (spec_slice if config.model.use_mel_posterior_encoder
                else spec_to_mel(spec_slice, d.sampling_rate, d.filter_length, d.n_mel_channels, d.mel_fmin, d.resolved_mel_fmax))
    mel_fake = mel_spectrogram(fake.squeeze(1), d.sampling_rate, d.filter_length, hop, d.win_length,
                               d.n_mel_channels, d.mel_fmin, d.resolved_mel_fmax)

    # -- discriminators ----------------------------------------------------------------------------
    dd = out.duration_discriminator
    loss_dur_disc = None
    if dur_disc is not None and optimizers.duration is not None:
        with amp:
            probs = dur_disc(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted.detach(), g=dd.speaker)
        loss_dur_disc = losses.duration_discriminator_loss(probs.real, probs.fake, dd.x_mask)
        optimizers.duration.zero_grad(set_to_none=True)
        loss_dur_disc.backward()
        optimizers.duration.step()
        if release_grads:
            optimizers.duration.zero_grad(set_to_none=True)
    with amp:
        d_out = mpd(real, fake.detach())
    loss_disc_graph = losses.discriminator_loss(d_out.real_logits, d_out.fake_logits).total
    loss_disc = loss_disc_graph.detach()
    optimizers.mpd.zero_grad(set_to_none=True)
    loss_disc_graph.backward()
    optimizers.mpd.step()
    if release_grads:
        optimizers.mpd.zero_grad(set_to_none=True)
    del d_out, loss_disc_graph

    # -- generator (discriminator weights frozen: their gradients would be thrown away) -------------
    frozen = [p for m in (mpd, dur_disc) if m is not None for p in m.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        with amp:
            g_out = mpd(real, fake, real_graph=False)
            loss_dur_gen = None
            if dur_disc is not None:
                probs = dur_disc(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted, g=dd.speaker)
                loss_dur_gen = losses.duration_generator_loss(probs.fake, dd.x_mask)
        loss_adv = losses.generator_adversarial_loss(g_out.fake_logits).total
        loss_fm = losses.feature_matching_loss(g_out.real_features, g_out.fake_features)
        loss_mel = losses.mel_l1_loss(mel_real, mel_fake)
        loss_kl = losses.kl_loss(out.z_p, out.logs_q, out.m_p, out.logs_p, out.z_mask)
        loss_dur = out.duration_loss
        total = loss_adv + loss_fm + t.c_mel * loss_mel + t.c_dur * loss_dur + t.c_kl * loss_kl
        if loss_dur_gen is not None:
            total = total + loss_dur_gen
        optimizers.generator.zero_grad(set_to_none=True)
        total.backward()
        optimizers.generator.step()
        if release_grads:
            optimizers.generator.zero_grad(set_to_none=True)
    finally:
        for p in frozen:
            p.requires_grad_(True)

    def det(x: torch.Tensor | None) -> torch.Tensor | None:
        return None if x is None else x.detach()

    return StepResult(
        discriminator=loss_disc.detach(), duration_discriminator=det(loss_dur_disc), generator_total=total.detach(),
        adversarial=loss_adv.detach(), feature_matching=loss_fm.detach(), mel=loss_mel.detach(), kl=loss_kl.detach(),
        duration=loss_dur.detach(), duration_adversarial=det(loss_dur_gen), output=out,
    )
