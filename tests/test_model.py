"""Acoustic model on the tiny config: shapes, a full optimisation step with gradient reach, synthesis length,
weight-norm folding and the bf16 fast path."""

from __future__ import annotations

import math

import pytest
import torch

from melo.config import load_config
from melo.model import build_discriminators, build_generator
from melo.runtime.engine import InferenceEngine, prepare_model
from melo.runtime.precision import PrecisionPolicy
from melo.train.step import make_optimizers, train_step
from melo.text.symbols import DEFAULT_TABLE
from model_helpers import random_batch

TINY = "configs/tiny.json"
B, T_TEXT, T_SPEC = 4, 61, 60  # ~30 phones with blanks; 60 frames = 0.7 s


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def config():
    return load_config(TINY)


def build(config, seed: int = 0):
    torch.manual_seed(seed)
    return build_generator(config, DEFAULT_TABLE), build_discriminators(config)


def batch(config, seed: int = 0, **kw):
    return random_batch(config, DEFAULT_TABLE, B, T_TEXT, T_SPEC, torch.Generator().manual_seed(seed), **kw)


def test_forward_shapes(config):
    gen, _ = build(config)
    b = batch(config)
    out = gen(**b.generator_inputs(), step=10)
    c, seg = config.model.inter_channels, config.train.segment_size
    assert out.audio.shape == (B, 1, seg)
    assert out.ids_slice.shape == (B,) and out.ids_slice.dtype == torch.long
    assert bool(((out.ids_slice + seg // config.data.hop_length) <= torch.clamp_min(b.spec_lengths, seg // 512)).all())
    assert out.x_mask.shape == (B, 1, T_TEXT) and out.z_mask.shape == (B, 1, T_SPEC)
    for t in (out.z, out.z_p, out.prior_mean, out.prior_log_scale, out.posterior_mean, out.posterior_log_scale):
        assert t.shape == (B, c, T_SPEC)
    assert out.prior_mean.dtype == torch.float32 and out.prior_log_scale.dtype == torch.float32
    assert out.duration_loss_dp.shape == () and out.duration_loss_sdp.shape == ()
    assert out.attention.shape == (B, 1, T_SPEC, T_TEXT)
    # the hard alignment gives each valid frame exactly one text position, and none to padding
    per_frame = out.attention.sum(-1).squeeze(1)
    assert torch.equal(per_frame, out.z_mask.squeeze(1))
    durations = out.attention.sum(2).squeeze(1)
    assert torch.equal(durations.sum(1), b.spec_lengths.float())
    assert float((durations * (1 - out.x_mask.squeeze(1))).abs().sum()) == 0.0
    dd = out.duration_discriminator
    assert dd.hidden.shape == (B, config.model.hidden_channels, T_TEXT) and not dd.hidden.requires_grad
    assert dd.logw_aligned.shape == dd.logw_predicted.shape == (B, 1, T_TEXT)
    assert dd.logw_predicted.requires_grad and not dd.logw_aligned.requires_grad
    assert out.mas_noise_scale == pytest.approx(config.model.mas_noise_scale - 10 * config.model.mas_noise_scale_delta)


def test_mas_noise_schedule_is_a_function_of_the_step(config):
    gen, _ = build(config)
    assert gen.mas_noise_scale(0) == pytest.approx(0.01)
    assert gen.mas_noise_scale(1000) == pytest.approx(0.01 - 2e-6 * 1000)
    assert gen.mas_noise_scale(10**6) == 0.0


def test_infer_shapes_every_speaker_with_every_language(config):
    gen, _ = build(config)
    gen.eval()
    n_spk, n_lang = config.data.n_speakers, DEFAULT_TABLE.n_languages
    speakers = torch.arange(n_spk).repeat_interleave(n_lang)
    languages = torch.arange(n_lang).repeat(n_spk)
    n = speakers.shape[0]
    g = torch.Generator().manual_seed(3)
    phones = torch.randint(1, DEFAULT_TABLE.n_symbols, (n, 9), generator=g)
    out = gen.infer(phones, torch.zeros_like(phones), languages.unsqueeze(1).expand(n, 9).contiguous(),
                    torch.randn(n, config.model.bert_channels, 9, generator=g), speakers)
    frames = out.durations.sum(1)
    assert out.audio.shape == (n, 1, int(frames.max()) * config.data.hop_length)
    assert torch.equal(out.audio_lengths, frames * config.data.hop_length)
    assert out.attention.shape == (n, 1, int(frames.max()), 9)
    assert bool(torch.isfinite(out.audio).all()) and float(out.audio.abs().max()) <= 1.0


def test_infer_max_len_caps_the_decoded_frames(config):
    gen, _ = build(config)
    gen.eval()
    b = batch(config)
    out = gen.infer(b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths, max_len=7)
    assert out.audio.shape[-1] == 7 * config.data.hop_length
    assert int(out.audio_lengths.max()) <= 7 * config.data.hop_length


def test_infer_length_follows_length_scale(config):
    gen, _ = build(config)
    gen.eval()
    with torch.no_grad():
        gen.duration_predictor.proj.bias.fill_(math.log(20.0))  # ~20 frames per position so rounding up is a small effect
    b = random_batch(config, DEFAULT_TABLE, 2, 15, T_SPEC, torch.Generator().manual_seed(0), ragged=False)
    args = (b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths)
    one = gen.infer(*args, sdp_ratio=0.0, length_scale=1.0)
    two = gen.infer(*args, sdp_ratio=0.0, length_scale=2.0)
    ratio = two.audio_lengths.float() / one.audio_lengths.float()
    assert bool(((ratio > 1.9) & (ratio < 2.1)).all()), ratio
    assert two.audio.shape[-1] == int(two.audio_lengths.max())


def _all_have_gradients(module: torch.nn.Module, what: str) -> None:
    missing, zero, bad = [], [], []
    for name, p in module.named_parameters():
        if not p.requires_grad:
            continue
        if p.grad is None:
            missing.append(name)
        elif not bool(torch.isfinite(p.grad).all()):
            bad.append(name)
        elif float(p.grad.abs().max()) == 0.0:
            zero.append(name)
    assert not missing, f"{what}: no gradient for {missing}"
    assert not bad, f"{what}: non-finite gradient for {bad}"
    assert not zero, f"{what}: all-zero gradient for {zero}"


def test_training_step_is_finite_and_reaches_every_parameter(config):
    gen, discs = build(config)
    opts = make_optimizers(gen, discs, config)
    b = batch(config)
    # Zero-initialised coupling outputs block gradients to the layers before them on the very first step
    # (as in MeloTTS); from the second step on every parameter must receive a gradient.
    for step in range(2):
        result = train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, step, release_grads=False)
        for name in ("discriminator", "duration_discriminator", "generator_total", "adversarial", "feature_matching",
                     "mel", "kl", "duration", "duration_adversarial"):
            value = getattr(result, name)
            assert value is not None and bool(torch.isfinite(value)), f"{name} = {value}"
    _all_have_gradients(gen, "generator")
    _all_have_gradients(discs.mpd, "waveform discriminators")
    _all_have_gradients(discs.duration, "duration discriminator")


def test_training_step_changes_the_weights_it_trains(config):
    gen, discs = build(config)
    opts = make_optimizers(gen, discs, config)
    watched = [gen.decoder.conv_pre.weight, gen.text_encoder.feature_proj.weight, gen.speaker_embedding.weight,
               discs.mpd.discriminators[0].convs[0].parametrizations.weight.original1, discs.duration.conv_1.weight]
    before = [p.detach().clone() for p in watched]
    b = batch(config)
    train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, 0)
    for p, old in zip(watched, before):
        assert not torch.equal(p.detach(), old)


def test_bf16_autocast_training_forward_is_finite(config):
    gen, discs = build(config)
    opts = make_optimizers(gen, discs, config)
    b = batch(config)
    result = train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, 0, autocast_dtype=torch.bfloat16)
    assert bool(torch.isfinite(result.generator_total)) and bool(torch.isfinite(result.discriminator))
    assert result.output.prior_mean.dtype == torch.float32  # KL inputs stay fp32


def _infer(gen, b, **kw):
    torch.manual_seed(123)
    return gen.infer(b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths, **kw)


def test_folding_weight_norm_leaves_outputs_unchanged(config):
    gen, _ = build(config)
    gen.eval()
    b = batch(config)
    reference = _infer(gen, b)
    n_parametrized = sum(1 for m in gen.modules() if hasattr(m, "parametrizations"))
    assert n_parametrized > 0
    prepare_model(gen)
    assert not any(hasattr(m, "parametrizations") for m in gen.modules())
    assert not any(p.requires_grad for p in gen.parameters()) and not gen.training
    with torch.inference_mode():
        folded = _infer(gen, b)
    assert torch.equal(folded.durations, reference.durations)
    assert float((folded.audio - reference.audio).abs().max()) < 1e-5


BF16_MAX_RELATIVE_ERROR = 0.05
"""Relative L2 error of the bf16-autocast decoder on the tiny random model (measured 0.33%; the full model's
error is reported by benchmarks/bench_infer.py)."""


def test_bf16_decoder_fast_path_is_close_to_fp32(config):
    gen, _ = build(config)
    exact, bf16 = (InferenceEngine(gen, "cpu", PrecisionPolicy(decoder=dtype)) for dtype in (None, torch.bfloat16))
    b = batch(config)
    with torch.inference_mode():
        fp32 = _infer(exact, b)
        fast = _infer(bf16, b)
    assert fast.audio.dtype == torch.float32 and fast.audio.shape == fp32.audio.shape
    rel = float(torch.linalg.vector_norm(fast.audio - fp32.audio) / torch.linalg.vector_norm(fp32.audio))
    assert 0 < rel < BF16_MAX_RELATIVE_ERROR


@pytest.mark.parametrize(
    "changes",
    [
        {"use_duration_discriminator": False, "use_spk_conditioned_encoder": False, "use_noise_scaled_mas": False},
        {"resblock": "2", "use_mel_posterior_encoder": True, "duration_discriminator_speaker_conditioned": True},
    ],
    ids=["switches-off", "variants-on"],
)
def test_config_switches_build_and_train(config, changes):
    variant = config.replace(model=changes)
    gen, discs = build(variant)
    assert (discs.duration is None) == (not variant.model.use_duration_discriminator)
    if variant.model.use_mel_posterior_encoder:
        assert gen.posterior_encoder.pre.in_channels == variant.data.n_mel_channels
    opts = make_optimizers(gen, discs, variant)
    b = batch(variant)
    inputs = b.generator_inputs()
    if variant.model.use_mel_posterior_encoder:
        from melo.audio import spec_to_mel

        d = variant.data
        inputs["spec"] = spec_to_mel(b.spec, d.sampling_rate, d.filter_length, d.n_mel_channels, d.mel_fmin, d.resolved_mel_fmax)
    for step in range(2):
        result = train_step(gen, discs, opts, inputs, b.wav, variant, step, release_grads=False)
    assert bool(torch.isfinite(result.generator_total))
    assert (result.duration_discriminator is None) == (discs.duration is None)
    _all_have_gradients(gen, "generator")
    if discs.duration is not None:
        _all_have_gradients(discs.duration, "duration discriminator")
