"""The one VITS2 GAN training step: waveform discriminators, duration discriminator, generator.

``python -m melo.train``, the model tests and ``benchmarks/bench_train_step.py`` all run :func:`train_step`.
It computes MeloTTS's losses (LSGAN on the multi-period + scale discriminator, the duration discriminator's
LSGAN, and for the generator: adversarial + 2x feature matching + ``c_mel`` * mel L1 + ``c_kl`` * KL +
``c_dur`` * duration losses + the duration discriminator's adversarial term) in the same order of updates,
without MeloTTS's waste, none of which changes the maths:

* the discriminators' parameters are frozen during the generator's backward (MeloTTS computes their
  gradients there and throws them away), and the real audio's feature maps (targets only) are computed
  without a graph;
* AdamW is PyTorch's fused implementation (one pass over the parameters; the same update rule);
* the real mel comes from the already-sliced linear spectrogram (a mel is per frame);
* gradients are freed right after each update.

Skips (GradScaler's rule, per optimiser): each update is skipped when its own gradients are non-finite
(their total norm is not finite), and only that update: an fp16 overflow in the waveform discriminators
leaves the generator's update alone. With fp16 the GradScaler unscales, skips and backs its scale off as
it does for any multi-optimiser loop (one ``update()`` per step). The decision stays on the device: the
fused AdamW reads the skip flag (``found_inf``) and leaves weights, moments and step count untouched, so the
step has no host synchronisation; :attr:`StepResult.skipped_updates` holds the flags for the loop to count
(:class:`melo.train.skips.SkipTracker`). Under DDP the gradients are all-reduced before the test, so every
rank takes the same decision without another collective (a NaN on one rank reaches every rank's gradients).
A poisoned batch (NaN inputs) makes the generator's and the waveform discriminators' gradients non-finite,
so both skip.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import torch
from torch import nn

from melo.audio import SpectrogramParams
from melo.config import Config
from melo.model import Discriminators, GeneratorOutput, losses
from melo.model.commons import slice_segments

__all__ = [
    "Optimizers",
    "StepResult",
    "Windows",
    "clip_gradients",
    "make_optimizers",
    "posterior_input",
    "step_unless",
    "train_step",
    "unwrap",
    "windows",
]


@dataclass
class Optimizers:
    """One AdamW per network."""

    generator: torch.optim.Optimizer
    mpd: torch.optim.Optimizer
    duration: torch.optim.Optimizer | None = None

    def by_name(self) -> dict[str, torch.optim.Optimizer]:
        """The names checkpoints store them under: ``G``, ``D`` and (when the duration discriminator is on) ``DUR``."""
        named = {"G": self.generator, "D": self.mpd}
        if self.duration is not None:
            named["DUR"] = self.duration
        return named


def make_optimizers(generator: nn.Module, discriminators: Discriminators, config: Config,
                    fused: bool | None = None) -> Optimizers:
    """AdamW with the config's lr, betas and eps over each network's trainable parameters (MeloTTS's choice).
    ``fused`` defaults to True for CPU and CUDA parameters (the same update rule, one kernel for all of them)."""
    t = config.train
    if fused is None:
        fused = next(generator.parameters()).device.type in ("cpu", "cuda")

    def adamw(module: nn.Module) -> torch.optim.Optimizer:
        params = [p for p in module.parameters() if p.requires_grad]
        return torch.optim.AdamW(params, t.learning_rate, betas=t.betas, eps=t.eps, fused=fused)

    return Optimizers(
        generator=adamw(generator),
        mpd=adamw(discriminators.mpd),
        duration=adamw(discriminators.duration) if discriminators.duration is not None else None,
    )


@dataclass
class StepResult:
    """What one step measured (detached scalar tensors, still on the device) and the generator's output.

    A loss is None when the step did not compute it (no duration discriminator).
    ``mel``, ``kl`` and ``duration`` are unweighted; the total weighs them with ``c_mel``, ``c_kl``, ``c_dur``.
    """

    output: GeneratorOutput
    skipped_updates: dict[str, torch.Tensor] = field(default_factory=dict)
    """Per optimiser (``G``/``D``/``DUR``, as :meth:`Optimizers.by_name`): a bool tensor on the device, true
    when that update was skipped (non-finite gradients)."""
    discriminator: torch.Tensor | None = None
    discriminator_parts: list[torch.Tensor] = field(default_factory=list)  # one per sub-discriminator
    duration_discriminator: torch.Tensor | None = None
    generator_total: torch.Tensor | None = None
    adversarial: torch.Tensor | None = None
    feature_matching: torch.Tensor | None = None
    mel: torch.Tensor | None = None
    kl: torch.Tensor | None = None
    duration: torch.Tensor | None = None
    duration_adversarial: torch.Tensor | None = None
    grad_norms: dict[str, torch.Tensor] = field(default_factory=dict)  # "d", "dur_d", "g": before clipping

    @property
    def skipped(self) -> bool:
        """Whether any update of this step was skipped. Reads the device flags: one host synchronisation (the
        loop counts skips on the device and asks only when it logs)."""
        if not self.skipped_updates:
            return False
        return bool(torch.stack(list(self.skipped_updates.values())).any())

    def scalars(self, config: Config) -> dict[str, torch.Tensor]:
        """The TensorBoard scalars of this step (weighted generator terms under ``loss/g/<term>``)."""
        t = config.train
        out: dict[str, torch.Tensor] = {}
        if self.discriminator is not None:
            out["loss/d/total"] = self.discriminator
            out.update({f"loss/d/sub_{i}": part for i, part in enumerate(self.discriminator_parts)})
        if self.duration_discriminator is not None:
            out["loss/dur_d/total"] = self.duration_discriminator
        if self.generator_total is not None:
            assert self.adversarial is not None and self.feature_matching is not None
            assert self.mel is not None and self.kl is not None and self.duration is not None
            out.update({"loss/g/adv": self.adversarial, "loss/g/fm": self.feature_matching,
                        "loss/g/mel": t.c_mel * self.mel, "loss/g/kl": t.c_kl * self.kl,
                        "loss/g/dur": t.c_dur * self.duration})
            if self.duration_adversarial is not None:
                out["loss/g/dur_adv"] = self.duration_adversarial
            out["loss/g/mel_l1"] = self.mel
            out["loss/g/dur_dp"] = self.output.duration_loss_dp.detach()
            out["loss/g/dur_sdp"] = self.output.duration_loss_sdp.detach()
            out["loss/g/total"] = self.generator_total
        out.update({f"grad_norm/{name}": norm for name, norm in self.grad_norms.items()})
        return out


def train_step(
    generator: nn.Module,
    discriminators: Discriminators,
    optimizers: Optimizers,
    inputs: Mapping[str, torch.Tensor],
    wav: torch.Tensor,
    config: Config,
    step: int,
    *,
    autocast_dtype: torch.dtype | None = None,
    scaler: torch.amp.GradScaler | None = None,
    release_grads: bool = True,
) -> StepResult:
    """One full step: forward, waveform-discriminator update, duration-discriminator update, generator update.

    ``generator``/``discriminators`` may be DDP-wrapped (the forwards and the discriminator updates then
    all-reduce); the generator update runs the discriminators unwrapped, with frozen weights. ``inputs``: the
    generator's forward arguments, ``spec`` being the posterior encoder's input (:func:`posterior_input`);
    ``wav``: (B, 1, T) real audio aligned with it (frame j starts at sample j * hop); ``step``: the global
    step (the alignment-noise schedule). ``autocast_dtype``/``scaler``: mixed precision and the fp16
    GradScaler. ``release_grads=False`` keeps each network's gradients after its update, for inspection.
    Each update is skipped on its own when its gradients are non-finite (see the module's notes).
    """
    t = config.train
    amp = _autocast(wav.device, autocast_dtype)
    scaler = scaler or torch.amp.GradScaler(wav.device.type, enabled=False)
    mpd, duration = discriminators.mpd, discriminators.duration
    raw_mpd, raw_duration = unwrap(mpd), unwrap(duration) if duration is not None else None

    def update(name: str, optimizer: torch.optim.Optimizer, loss: torch.Tensor, module: nn.Module,
               norm_name: str) -> None:
        result.skipped_updates[name], result.grad_norms[norm_name] = _update(
            optimizer, loss, module, scaler, t.grad_clip_norm, release_grads)

    with amp:
        out = generator(**inputs, step=step)
    result = StepResult(output=out)
    w = windows(out.audio, out.ids_slice, inputs["spec"], wav, config)

    # -- waveform discriminators (LSGAN, multi-period + scale) -----------------------------------------
    with amp:
        d_out = mpd(w.real, w.fake.detach())
    loss_d = losses.discriminator_loss(d_out.real_logits, d_out.fake_logits)
    del d_out
    result.discriminator = loss_d.total.detach()
    result.discriminator_parts = [part.detach() for part in loss_d.per_discriminator]
    update("D", optimizers.mpd, loss_d.total, raw_mpd, "d")
    del loss_d

    # -- duration discriminator --------------------------------------------------------------------
    dd = out.duration_discriminator
    if duration is not None and optimizers.duration is not None:
        with amp:
            probs = duration(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted.detach(), g=dd.speaker)
        loss_dur_d = losses.duration_discriminator_loss(probs.real, probs.fake, dd.x_mask)
        result.duration_discriminator = loss_dur_d.detach()
        update("DUR", optimizers.duration, loss_dur_d, raw_duration, "dur_d")
        del probs, loss_dur_d

    # -- generator (discriminator weights frozen: their gradients would be thrown away) ---------------
    with _frozen([m for m in (raw_mpd, raw_duration) if m is not None]):
        with amp:
            g_out = raw_mpd(w.real, w.fake, real_graph=False)
            dur_probs = (raw_duration(dd.hidden, dd.x_mask, dd.logw_aligned, dd.logw_predicted, g=dd.speaker)
                         if raw_duration is not None else None)
        terms = {
            "adv": losses.generator_adversarial_loss(g_out.fake_logits).total,
            "fm": losses.feature_matching_loss(g_out.real_features, g_out.fake_features),
            "mel": losses.mel_l1_loss(w.mel_real, w.mel_fake),
            "kl": losses.kl_loss(out.z_p, out.posterior_log_scale, out.prior_mean, out.prior_log_scale, out.z_mask),
            "dur": out.duration_loss,
        }
        if dur_probs is not None:
            terms["dur_adv"] = losses.duration_generator_loss(dur_probs.fake, dd.x_mask)
        weights = {"mel": t.c_mel, "kl": t.c_kl, "dur": t.c_dur}
        loss_g = torch.stack([weights.get(k, 1.0) * v.float() for k, v in terms.items()]).sum()
        update("G", optimizers.generator, loss_g, unwrap(generator), "g")
    result.adversarial, result.feature_matching = terms["adv"].detach(), terms["fm"].detach()
    result.mel, result.kl, result.duration = terms["mel"].detach(), terms["kl"].detach(), terms["dur"].detach()
    result.duration_adversarial = terms["dur_adv"].detach() if "dur_adv" in terms else None
    result.generator_total = loss_g.detach()

    if scaler.is_enabled():
        scaler.update()  # once per step: backs off when any update overflowed, grows after a clean stretch
    return result


def _update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, module: nn.Module, scaler: torch.amp.GradScaler,
            max_norm: float | None, release_grads: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward, unscale, measure (and clip) the gradient norm, then step unless the gradients are non-finite.

    Returns ``(skipped, gradient norm before clipping)``, both tensors on the device: nothing here waits for
    the device. With fp16 the GradScaler's ``step`` decides from its own inf/NaN check (the same test)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if scaler.is_enabled():
        scaler.unscale_(optimizer)
    norm = _gradient_norm(module)
    skipped = ~torch.isfinite(norm)
    if max_norm is not None:
        _clip_to_norm(module, max_norm, norm)  # non-finite gradients become NaN; that update is skipped anyway
    if scaler.is_enabled():
        scaler.step(optimizer)
    else:
        step_unless(optimizer, skipped)
    if release_grads:
        optimizer.zero_grad(set_to_none=True)  # not needed until this network's next backward
    return skipped, norm


def step_unless(optimizer: torch.optim.Optimizer, skip: torch.Tensor) -> None:
    """``optimizer.step()`` unless ``skip`` (a bool tensor) is true, decided on the device where the optimiser
    can: a fused optimiser (``_step_supports_amp_scaling``) reads ``found_inf`` as under GradScaler and leaves
    weights, moments and its step count unchanged; any other waits for the flag (one host sync)."""
    if getattr(optimizer, "_step_supports_amp_scaling", False):
        optimizer.found_inf = skip.float().reshape(())  # type: ignore[attr-defined]  # GradScaler's protocol
        optimizer.grad_scale = None  # type: ignore[attr-defined]
        try:
            optimizer.step()
        finally:
            del optimizer.found_inf, optimizer.grad_scale  # type: ignore[attr-defined]
    elif not bool(skip):
        optimizer.step()


def _gradient_norm(module: nn.Module) -> torch.Tensor:
    """Total L2 norm of ``module``'s gradients (a 0-d tensor on their device; zero without gradients)."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.nn.utils.get_total_norm(grads).detach()


def _clip_to_norm(module: nn.Module, max_norm: float, norm: torch.Tensor) -> None:
    """Scale ``module``'s gradients down so their total norm (``norm``, measured) is at most ``max_norm``."""
    params = [p for p in module.parameters() if p.grad is not None]
    if params:
        torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm)  # takes the parameters, reads .grad


def clip_gradients(module: nn.Module, max_norm: float | None) -> tuple[bool, torch.Tensor]:
    """Total L2 norm of ``module``'s gradients and whether it is finite; when it is and ``max_norm`` is
    set, scale the gradients down to that norm. Returns ``(finite, norm before clipping)`` (one host sync)."""
    norm = _gradient_norm(module)
    finite = bool(torch.isfinite(norm))
    if finite and max_norm is not None:
        _clip_to_norm(module, max_norm, norm)
    return finite, norm


@dataclass
class Windows:
    """The training window of every item: waveforms (B, 1, segment_size) and log mels (B, n_mels, frames)."""

    real: torch.Tensor
    fake: torch.Tensor  # the generator's output, fp32
    mel_real: torch.Tensor
    mel_fake: torch.Tensor


def windows(audio: torch.Tensor, ids_slice: torch.Tensor, posterior_spec: torch.Tensor, wav: torch.Tensor,
            config: Config) -> Windows:
    """The generator's ``audio`` windows (B, 1, segment_size) beside the real audio and the posterior input cut
    at ``ids_slice`` (their first frames), and both windows' log mels."""
    stft = SpectrogramParams.from_config(config.data)
    size = config.train.segment_size
    real = slice_segments(wav, ids_slice * stft.hop_length, size)
    fake = audio.float()
    spec_slice = slice_segments(posterior_spec, ids_slice, size // stft.hop_length)
    mel_real = spec_slice if config.model.use_mel_posterior_encoder else stft.spec_to_mel(spec_slice.float())
    return Windows(real=real, fake=fake, mel_real=mel_real, mel_fake=stft.mel(fake.squeeze(1)))


def posterior_input(spec: torch.Tensor, config: Config) -> torch.Tensor:
    """What the posterior encoder reads: the linear spectrogram, or its mel (``use_mel_posterior_encoder``)."""
    if not config.model.use_mel_posterior_encoder:
        return spec
    return SpectrogramParams.from_config(config.data).spec_to_mel(spec)


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (or the module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


@contextlib.contextmanager
def _frozen(modules: list[nn.Module]) -> Iterator[None]:
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    return torch.autocast(device_type=device.type, dtype=dtype) if dtype is not None else contextlib.nullcontext()
