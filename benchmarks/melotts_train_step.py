"""MeloTTS's own training step, timed: the baseline that ``bench_train_step.py`` runs beside ours.

Runs in its own process with only a MeloTTS checkout on ``sys.path`` (its package is also called ``melo``):
``python benchmarks/melotts_train_step.py --melotts DIR --batch B ...`` prints one JSON line. It builds
MeloTTS's ``SynthesizerTrn``, ``MultiPeriodDiscriminator`` and ``DurationDiscriminator`` from MeloTTS's own
modules with the hyper-parameters of its ``melo/configs/config.json`` and the choices its ``train.py`` makes
(noise-scaled alignment 0.01 - 2e-6 * step, duration discriminator with the speaker channels, AdamW with the
config's betas/eps, GradScaler disabled = fp32), then runs its ``train.py`` loop body with MeloTTS's losses
(``losses.py``) and mels (``mel_processing.py``), in its order: generator forward, waveform-discriminator
forward, duration-discriminator update, waveform-discriminator update, generator update, each update after
its ``commons.clip_grad_value_(..., None)`` (the per-parameter gradient norm it logs). MeloTTS's ``train.py``
writes the step inline in its data loop and imports things that need the network, so the loop body is driven
here, calling MeloTTS's functions; none of its code is copied. Not run: DDP (one CPU process), the
data loader, logging and checkpoints. ``bert`` (1024 channels) and ``ja_bert`` (768) are random tensors of the
shapes MeloTTS feeds.

Needs: a clone of https://github.com/myshell-ai/MeloTTS, numba (its alignment search) and librosa (its mel
filters). These are benchmark-only and not in this project's requirements.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--melotts", type=Path, required=True, help="a MeloTTS checkout (holds melo/models.py)")
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True, help="timed steps after one warm-up step")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--text-len", type=int, required=True)
    parser.add_argument("--spec-len", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sys.path.insert(0, str(args.melotts.resolve()))
    import torch
    from torch.nn import functional as F

    torch.set_num_threads(args.threads)
    from melo import commons, monotonic_align
    from melo.losses import discriminator_loss, feature_loss, generator_loss, kl_loss
    from melo.mel_processing import mel_spectrogram_torch, spec_to_mel_torch, spectrogram_torch
    from melo.models import DurationDiscriminator, MultiPeriodDiscriminator, SynthesizerTrn
    from melo.text.symbols import num_languages, num_tones, symbols

    loaded_from = Path(commons.__file__).resolve()
    if args.melotts.resolve() not in loaded_from.parents:
        raise SystemExit(f"imported melo from {loaded_from}, not from the MeloTTS checkout {args.melotts}")
    hps = json.loads((args.melotts / "melo" / "configs" / "config.json").read_text(encoding="utf-8"))
    train, data, model = hps["train"], hps["data"], hps["model"]
    hop, segment = data["hop_length"], train["segment_size"]

    torch.manual_seed(0)
    # as MeloTTS's train.py builds them (num_languages/num_tones: what its TextEncoder imports when not given)
    net_dur_disc = DurationDiscriminator(model["hidden_channels"], model["hidden_channels"], 3, 0.1,
                                         gin_channels=model["gin_channels"] if data["n_speakers"] != 0 else 0)
    net_g = SynthesizerTrn(len(symbols), data["filter_length"] // 2 + 1, segment // hop,
                           n_speakers=data["n_speakers"], mas_noise_scale_initial=0.01, noise_scale_delta=2e-6,
                           num_languages=num_languages, num_tones=num_tones, **model)
    net_d = MultiPeriodDiscriminator(model["use_spectral_norm"])

    def adamw(params) -> torch.optim.Optimizer:
        return torch.optim.AdamW(params, train["learning_rate"], betas=train["betas"], eps=train["eps"])

    optim_g = adamw(filter(lambda p: p.requires_grad, net_g.parameters()))
    optim_d, optim_dur_disc = adamw(net_d.parameters()), adamw(net_dur_disc.parameters())
    scaler = torch.amp.GradScaler("cpu", enabled=train["fp16_run"])
    for net in (net_g, net_d, net_dur_disc):
        net.train()

    b, t_text, t_spec = args.batch, args.text_len, args.spec_len
    g = torch.Generator().manual_seed(0)
    y = (0.3 * torch.randn(b, 1, t_spec * hop, generator=g)).clamp(-1.0, 1.0)  # the same audio as ours
    spec = spectrogram_torch(y.squeeze(1), data["filter_length"], data["sampling_rate"], hop, data["win_length"])
    x = torch.randint(1, len(symbols), (b, t_text), generator=g)
    tone = torch.randint(0, num_tones, (b, t_text), generator=g)
    language = torch.randint(0, num_languages, (b, t_text), generator=g)
    bert = torch.randn(b, 1024, t_text, generator=g)
    ja_bert = torch.randn(b, 768, t_text, generator=g)
    x_lengths, spec_lengths = torch.full((b,), t_text), torch.full((b,), spec.size(2))
    speakers = torch.randint(0, data["n_speakers"], (b,), generator=g)

    times = []
    for global_step in range(1 + args.steps):  # train.py's loop body; its variables live on to the next step
        start = time.perf_counter()
        net_g.current_mas_noise_scale = max(net_g.mas_noise_scale_initial - net_g.noise_scale_delta * global_step, 0.0)
        (y_hat, l_length, attn, ids_slice, x_mask, z_mask, (z, z_p, m_p, logs_p, m_q, logs_q),
         (hidden_x, logw, logw_)) = net_g(x, x_lengths, spec, spec_lengths, speakers, tone, language, bert, ja_bert)
        mel = spec_to_mel_torch(spec, data["filter_length"], data["n_mel_channels"], data["sampling_rate"],
                                data["mel_fmin"], data["mel_fmax"])
        y_mel = commons.slice_segments(mel, ids_slice, segment // hop)
        y_hat_mel = mel_spectrogram_torch(y_hat.squeeze(1), data["filter_length"], data["n_mel_channels"],
                                          data["sampling_rate"], hop, data["win_length"], data["mel_fmin"],
                                          data["mel_fmax"])
        y_sliced = commons.slice_segments(y, ids_slice * hop, segment)

        y_d_hat_r, y_d_hat_g, _, _ = net_d(y_sliced, y_hat.detach())
        loss_disc, losses_disc_r, losses_disc_g = discriminator_loss(y_d_hat_r, y_d_hat_g)
        y_dur_hat_r, y_dur_hat_g = net_dur_disc(hidden_x.detach(), x_mask.detach(), logw.detach(), logw_.detach())
        loss_dur_disc, losses_dur_disc_r, losses_dur_disc_g = discriminator_loss(y_dur_hat_r, y_dur_hat_g)
        optim_dur_disc.zero_grad()
        scaler.scale(loss_dur_disc).backward()
        scaler.unscale_(optim_dur_disc)
        commons.clip_grad_value_(net_dur_disc.parameters(), None)
        scaler.step(optim_dur_disc)

        optim_d.zero_grad()
        scaler.scale(loss_disc).backward()
        scaler.unscale_(optim_d)
        grad_norm_d = commons.clip_grad_value_(net_d.parameters(), None)
        scaler.step(optim_d)

        y_d_hat_r, y_d_hat_g, fmap_r, fmap_g = net_d(y_sliced, y_hat)
        y_dur_hat_r, y_dur_hat_g = net_dur_disc(hidden_x, x_mask, logw, logw_)
        loss_dur = torch.sum(l_length.float())
        loss_mel = F.l1_loss(y_mel, y_hat_mel) * train["c_mel"]
        loss_kl = kl_loss(z_p, logs_q, m_p, logs_p, z_mask) * train["c_kl"]
        loss_fm = feature_loss(fmap_r, fmap_g)
        loss_gen, losses_gen = generator_loss(y_d_hat_g)
        loss_gen_all = loss_gen + loss_fm + loss_mel + loss_dur + loss_kl
        loss_dur_gen, losses_dur_gen = generator_loss(y_dur_hat_g)
        loss_gen_all += loss_dur_gen
        optim_g.zero_grad()
        scaler.scale(loss_gen_all).backward()
        scaler.unscale_(optim_g)
        grad_norm_g = commons.clip_grad_value_(net_g.parameters(), None)
        scaler.step(optim_g)
        scaler.update()
        elapsed = time.perf_counter() - start
        if global_step >= 1:
            times.append(elapsed)

    scores = torch.randn(b, t_spec, t_text, generator=g)  # MeloTTS's alignment search alone, [b, t_t, t_s]
    mask = torch.ones_like(scores)
    mas = []
    for _ in range(5):
        start = time.perf_counter()
        monotonic_align.maximum_path(scores, mask)
        mas.append(time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "implementation": "MeloTTS", "batch": b, "steps": len(times),
        "median_s": statistics.median(times), "min_s": min(times), "times_s": times, "peak_gib": peak_kib / 2**20,
        "mas_ms": statistics.median(mas) * 1e3, "segment": segment, "hop": hop, "frames": spec.size(2),
        "losses": {"d": float(loss_disc), "dur_d": float(loss_dur_disc), "g": float(loss_gen_all)},
        "params": {name: sum(p.numel() for p in net.parameters())
                   for name, net in (("generator", net_g), ("mpd", net_d), ("duration", net_dur_disc))},
    }))


if __name__ == "__main__":
    main()
