"""Clips shorter than one training window (``train.segment_size``) train on it zero-padded, in the real audio
as in the latent; the same in validation, whose last batch may hold a single short clip."""

from __future__ import annotations

import pytest
import torch

from melo.config import load_config
from melo.model import build_discriminators, build_generator
from melo.text.symbols import DEFAULT_TABLE
from melo.train.step import make_optimizers, posterior_input, train_step, windows
from model_helpers import random_batch

pytestmark = pytest.mark.usefixtures("one_thread")

SEGMENT = 16384  # the full config's window: 0.37 s at 44.1 kHz
SHORT_FRAMES = int(0.33 * 44100) // 512  # a 0.33 s clip: 28 frames, 14336 samples


@pytest.fixture(scope="module")
def config():
    return load_config("configs/tiny.json").replace(train={"segment_size": SEGMENT})


def test_a_batch_of_033s_clips_trains_at_the_full_segment_size(config) -> None:
    torch.manual_seed(0)
    gen, discs = build_generator(config, DEFAULT_TABLE), build_discriminators(config)
    opts = make_optimizers(gen, discs, config)
    b = random_batch(config, DEFAULT_TABLE, 3, 25, SHORT_FRAMES, torch.Generator().manual_seed(0), ragged=False)
    assert b.wav.shape[-1] == SHORT_FRAMES * 512 < SEGMENT
    result = train_step(gen, discs, opts, b.generator_inputs(), b.wav, config, 0)
    assert not any(bool(flag) for flag in result.skipped_updates.values())
    for name in ("discriminator", "duration_discriminator", "generator_total", "mel"):
        assert bool(torch.isfinite(getattr(result, name))), name
    assert result.output.audio.shape == (3, 1, SEGMENT)


def test_validation_window_of_a_single_short_clip_is_zero_padded(config) -> None:
    b = random_batch(config, DEFAULT_TABLE, 1, 25, SHORT_FRAMES, torch.Generator().manual_seed(1), ragged=False)
    fake = torch.randn(1, 1, SEGMENT)
    w = windows(fake, torch.zeros(1, dtype=torch.long), posterior_input(b.spec, config), b.wav, config)
    n = SHORT_FRAMES * 512
    assert w.real.shape == (1, 1, SEGMENT) and torch.equal(w.real[..., :n], b.wav)
    assert torch.count_nonzero(w.real[..., n:]) == 0  # past the clip: silence, not another clip's audio
    assert w.mel_real.shape == w.mel_fake.shape == (1, config.data.n_mel_channels, SEGMENT // 512)
