"""What a run reports (rank 0): training scalars and images, and validation (losses, images, audio).

:func:`evaluate` runs at every ``train.eval_interval`` and returns the validation mel L1, the metric a
"keep the best generator" rule would compare.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import torch
from torch import nn

from melo.audio import SpectrogramParams
from melo.model import GeneratorOutput, losses
from melo.monitor import alignment_image, format_scalars, spectrogram_image
from melo.train.step import StepResult, posterior_input, windows

if TYPE_CHECKING:
    from melo.data.batch import Batch
    from melo.train.run import Run

__all__ = ["VALIDATION_AUDIO_ITEMS", "evaluate", "log_train"]

logger = logging.getLogger(__name__)

VALIDATION_AUDIO_ITEMS = 2
"""How many validation utterances are synthesised into TensorBoard at each evaluation."""


def log_train(run: "Run", window: list[dict[str, torch.Tensor]], seconds_per_step: float, last: StepResult,
              batch: "Batch") -> None:
    """Means over the steps since the last log; non-finite values (of skipped steps) are left out, and a
    term with no finite value in the window is reported as NaN."""
    if not run.dist.is_main:
        return
    keys = sorted({k for s in window for k in s})
    means = []
    for k in keys:
        vals = torch.stack([s[k].float() for s in window if k in s])
        finite = torch.isfinite(vals)
        n_finite = finite.sum()
        mean = torch.where(finite, vals, 0).sum() / n_finite.clamp(min=1)
        means.append(torch.where(n_finite > 0, mean, torch.full_like(mean, float("nan"))))
    values = dict(zip(keys, torch.stack(means).tolist())) if keys else {}  # one device->host copy
    values["train/skipped_steps"] = float(run.progress.skipped_steps)
    values["train/lr"] = run.optimizers.generator.param_groups[0]["lr"]
    values["train/step_seconds"] = seconds_per_step
    values["train/epoch"] = float(run.progress.epoch)
    if run.precision.scaler.is_enabled():
        values["train/grad_scale"] = float(run.precision.scaler.get_scale())
    run.monitor.scalars(run.progress.step, values)
    logger.info("step %d epoch %d | %s", run.progress.step, run.progress.epoch, format_scalars(values))
    if not last.skipped:
        _log_images(run, "train", last.output, batch)


def _log_images(run: "Run", prefix: str, out: GeneratorOutput, batch: "Batch") -> None:
    """Target and generated mel of the first item's training window, and its alignment."""
    step = run.progress.step
    with torch.no_grad():
        w = windows(out.audio[:1], out.ids_slice[:1], posterior_input(batch.spec[:1], run.config), batch.wav[:1],
                    run.config)
    run.monitor.image(f"{prefix}/mel_target", step, spectrogram_image(w.mel_real[0]))
    run.monitor.image(f"{prefix}/mel_generated", step, spectrogram_image(w.mel_fake[0]))
    t_spec, t_text = int(batch.spec_lengths[0]), int(batch.text_lengths[0])
    run.monitor.image(f"{prefix}/alignment", step, alignment_image(out.attention[0, 0, :t_spec, :t_text]))


@torch.no_grad()
def evaluate(run: "Run") -> float | None:
    """Validation (rank 0): mean mel L1 of the generator's training forward (no dropout, no alignment
    noise, the same random windows every time), mel/alignment images, and synthesised audio.

    Runs under its own random stream, so evaluating does not change what training draws next.
    Returns the validation mel L1 (``None`` on other ranks or without validation data)."""
    if not run.dist.is_main or run.loaders.validation is None:
        return None
    g = run.networks.raw_generator
    g.eval()
    started = time.perf_counter()
    devices = [run.dist.device] if run.dist.device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(run.config.train.seed)
            total, count, first = 0.0, 0, None
            for batch in run.loaders.validation:
                batch = batch.to(run.dist.device)
                spec = posterior_input(batch.spec, run.config)
                with run.precision.autocast():
                    out = g(phone_ids=batch.phone_ids, tone_ids=batch.tone_ids, language_ids=batch.language_ids,
                            text_lengths=batch.text_lengths, text_features=batch.text_features, spec=spec,
                            spec_lengths=batch.spec_lengths, speaker_ids=batch.speaker_ids, mas_noise_scale=0.0)
                w = windows(out.audio, out.ids_slice, spec, batch.wav, run.config)
                total += float(losses.mel_l1_loss(w.mel_real, w.mel_fake)) * len(batch)
                count += len(batch)
                if first is None:
                    first = (batch, out)
            val_mel = total / count
            assert first is not None
            batch, out = first
            _log_images(run, "val", out, batch)
            _log_synthesis(run, g, batch)
    finally:
        g.train()
    run.monitor.scalars(run.progress.step, {"val/mel_l1": val_mel})
    logger.info("step %d | validation mel L1 %.4f (%d utterances, %.1f s)", run.progress.step, val_mel, count,
                time.perf_counter() - started)
    return val_mel


def _log_synthesis(run: "Run", g: nn.Module, batch: "Batch") -> None:
    """Synthesise the first validation utterances from text (no reference audio) into TensorBoard."""
    step, sr = run.progress.step, run.config.data.sampling_rate
    stft = SpectrogramParams.from_config(run.config.data)
    for i in range(min(VALIDATION_AUDIO_ITEMS, len(batch))):
        n = int(batch.text_lengths[i])
        result = g.infer(batch.phone_ids[i:i + 1, :n], batch.tone_ids[i:i + 1, :n], batch.language_ids[i:i + 1, :n],
                         batch.text_features[i:i + 1, :, :n], batch.speaker_ids[i:i + 1],
                         max_len=int(batch.spec_lengths[i]) * 2)
        audio = result.audio[0, :, : int(result.audio_lengths[0])]
        run.monitor.audio(f"val/generated_{i}", step, audio, sr)
        run.monitor.image(f"val/mel_generated_{i}", step, spectrogram_image(stft.mel(audio)[0]))
        if not run.logged_ground_truth:
            real = batch.wav[i, :, : int(batch.wav_lengths[i])]
            run.monitor.audio(f"val/ground_truth_{i}", step, real, sr)
            run.monitor.image(f"val/mel_ground_truth_{i}", step, spectrogram_image(stft.mel(real)[0]))
    run.logged_ground_truth = True
