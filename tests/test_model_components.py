"""Model building blocks against straightforward reference implementations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from melo.config import ConfigError, load_config
from melo.model.alignment import maximum_path
from melo.model.attention import absolute_to_relative, relative_to_absolute
from melo.model.commons import duration_path, slice_segments
from melo.model.splines import rational_quadratic_spline
from melo.testing.reference_alignment import reference_maximum_path


@pytest.mark.parametrize("seed", range(6))
def test_maximum_path_equals_reference_on_random_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    batch = 5
    spec_lengths = torch.randint(1, 70, (batch,), generator=g)
    text_lengths = torch.minimum(torch.randint(1, 35, (batch,), generator=g), spec_lengths)
    t_spec, t_text = int(spec_lengths.max()) + 3, int(text_lengths.max()) + 2
    scores = torch.randn(batch, t_spec, t_text, generator=g) * 10 - 50
    if seed % 2:
        scores = scores.round() / 4  # many ties
    mask = ((torch.arange(t_spec).view(1, -1, 1) < spec_lengths.view(-1, 1, 1))
            & (torch.arange(t_text).view(1, 1, -1) < text_lengths.view(-1, 1, 1))).float()
    path = maximum_path(scores, mask)
    expected = reference_maximum_path(scores.numpy(), spec_lengths.tolist(), text_lengths.tolist())
    np.testing.assert_array_equal(path.numpy(), expected)


@pytest.mark.parametrize("seed", range(4))
def test_maximum_path_backtrack_by_doubling_equals_reference(seed):
    """The backtrack maximum_path runs on CUDA (pointer doubling), checked on CPU against the double loop."""
    from melo.model import alignment

    g = torch.Generator().manual_seed(100 + seed)
    spec_lengths = torch.randint(1, 90, (4,), generator=g)
    text_lengths = torch.minimum(torch.randint(1, 40, (4,), generator=g), spec_lengths)
    t_spec, t_text = int(spec_lengths.max()) + 5, int(text_lengths.max()) + 1
    scores = torch.randn(4, t_spec, t_text, generator=g) * 10 - 50
    if seed % 2:
        scores = scores.round() / 4  # many ties
    mask = ((torch.arange(t_spec).view(1, -1, 1) < spec_lengths.view(-1, 1, 1))
            & (torch.arange(t_text).view(1, 1, -1) < text_lengths.view(-1, 1, 1))).float()
    path = alignment._maximum_path(scores, mask, alignment._backtrack_by_doubling)
    expected = reference_maximum_path(scores.numpy(), spec_lengths.tolist(), text_lengths.tolist())
    np.testing.assert_array_equal(path.numpy(), expected)


def test_maximum_path_all_ties_and_equal_lengths():
    scores = torch.zeros(2, 12, 12)
    mask = torch.ones_like(scores)
    path = maximum_path(scores, mask)
    np.testing.assert_array_equal(path.numpy(), reference_maximum_path(scores.numpy(), [12, 12], [12, 12]))
    assert torch.equal(path[0], torch.eye(12))  # equal lengths force the diagonal


def test_relative_position_helpers_match_explicit_loops():
    g = torch.Generator().manual_seed(0)
    for t, w in ((7, 3), (3, 4), (1, 4), (12, 4)):
        rel = torch.randn(2, t, 2 * w + 1, generator=g)
        absolute = torch.zeros(2, t, t)
        for i in range(t):
            for j in range(t):
                if abs(j - i) <= w:
                    absolute[:, i, j] = rel[:, i, j - i + w]
        assert torch.equal(relative_to_absolute(rel, w), absolute)
        weights = torch.randn(2, t, t, generator=g)
        relative = torch.zeros(2, t, 2 * w + 1)
        for i in range(t):
            for r in range(2 * w + 1):
                if 0 <= i + r - w < t:
                    relative[:, i, r] = weights[:, i, i + r - w]
        assert torch.equal(absolute_to_relative(weights, w), relative)


def test_spline_inverts_and_its_log_determinant_is_the_derivative():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 2, 50, generator=g, dtype=torch.float64) * 3  # some inputs in the linear tails
    widths, heights = (torch.randn(3, 2, 50, 10, generator=g, dtype=torch.float64) for _ in range(2))
    derivs = torch.randn(3, 2, 50, 9, generator=g, dtype=torch.float64)
    y, logdet = rational_quadratic_spline(x, widths, heights, derivs, tail_bound=5.0)
    x_back, logdet_inv = rational_quadratic_spline(y, widths, heights, derivs, inverse=True, tail_bound=5.0)
    torch.testing.assert_close(x_back, x, rtol=0, atol=1e-9)
    torch.testing.assert_close(logdet_inv, -logdet, rtol=0, atol=1e-9)
    eps = 1e-7
    y_eps, _ = rational_quadratic_spline(x + eps, widths, heights, derivs, tail_bound=5.0)
    torch.testing.assert_close(torch.log((y_eps - y) / eps), logdet, rtol=0, atol=1e-5)
    outside = x.abs() > 5
    assert bool(outside.any()) and torch.equal(y[outside], x[outside])


def test_slice_segments_and_zero_padding():
    x = torch.arange(2 * 3 * 10, dtype=torch.float32).view(2, 3, 10)
    out = slice_segments(x, torch.tensor([2, 7]), 5)
    assert torch.equal(out[0], x[0, :, 2:7])
    assert torch.equal(out[1, :, :3], x[1, :, 7:10]) and float(out[1, :, 3:].abs().sum()) == 0


def test_duration_path_assigns_consecutive_frames():
    durations = torch.tensor([[[2.0, 0.0, 3.0, 1.0]]])
    mask = torch.ones(1, 1, 6, 4)
    path = duration_path(durations, mask)[0, 0]
    expected = torch.tensor([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    assert torch.equal(path, expected.float())


def test_model_config_rejects_bad_values(tmp_path):
    import json

    raw = json.loads(open("configs/tiny.json", encoding="utf-8").read())
    raw["model"]["speaker_cond_layer"] = 5
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="speaker_cond_layer"):
        load_config(bad)
    raw["model"]["speaker_cond_layer"] = 1
    raw["model"]["scale_discriminator_groups"] = [1, 3, 4, 8, 8, 1]
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="scale_discriminator_groups"):
        load_config(bad)
    raw["model"]["scale_discriminator_groups"] = [1, 2, 4, 8, 8, 1]
    raw["model"]["sdp_n_flow"] = 4
    bad.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match="sdp_n_flows"):
        load_config(bad)


def test_full_config_has_meloTTS_defaults():
    m = load_config("configs/config_bge_m3.json").model
    assert (m.attention_window_size, m.speaker_cond_layer, m.n_flow_layer, m.flow_kernel_size) == (4, 2, 4, 5)
    assert (m.duration_predictor_filter_channels, m.duration_predictor_kernel_size, m.duration_predictor_dropout) == (256, 3, 0.5)
    assert (m.sdp_filter_channels, m.sdp_n_flows, m.sdp_dropout) == (192, 4, 0.5)
    assert (m.posterior_kernel_size, m.posterior_n_layers, m.posterior_dilation_rate) == (5, 16, 1)
    assert (m.mas_noise_scale, m.mas_noise_scale_delta) == (0.01, 2e-6)
    assert m.discriminator_periods == (2, 3, 5, 7, 11)


def test_matmul_conv1d_equals_conv1d_with_and_without_weight_norm():
    from torch.nn.utils.parametrizations import weight_norm

    from melo.model.commons import MatmulConv1d

    torch.manual_seed(0)
    for c_in, c_out, k, stride, pad in ((16, 24, 5, 3, 2), (32, 1, 3, 1, 1), (8, 8, 5, 1, 2)):
        conv = torch.nn.Conv1d(c_in, c_out, k, stride, padding=pad)
        fast = MatmulConv1d(c_in, c_out, k, stride, padding=pad)
        fast.load_state_dict(conv.state_dict())
        x = torch.randn(3, c_in, 41, requires_grad=True)
        torch.testing.assert_close(fast(x), conv(x), rtol=1e-5, atol=1e-5)
        grad_fast = torch.autograd.grad(fast(x).square().sum(), [x, fast.weight])
        grad_ref = torch.autograd.grad(conv(x).square().sum(), [x, conv.weight])
        for a, b in zip(grad_fast, grad_ref):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
        wn = weight_norm(MatmulConv1d(c_in, c_out, k, stride, padding=pad))
        torch.testing.assert_close(wn(x), torch.nn.functional.conv1d(x, wn.weight, wn.bias, stride, pad), rtol=1e-5, atol=1e-5)
