"""The packed (time-major, pre-packed weights) CPU reverse flow and text encoder compute the same functions as
the modules."""

from __future__ import annotations

import pytest
import torch

from melo.model.attention import EncoderShape
from melo.model.commons import sequence_mask
from melo.model.flow import TransformerCouplingBlock
from melo.model.text_encoder import TextEncoder
from melo.runtime import cpu
from melo.runtime.packed_flow import PackedFlow, PackedTextEncoder, packed_flow_supported

pytestmark = pytest.mark.usefixtures("one_thread")
HAS_BF16 = packed_flow_supported("cpu", torch.bfloat16)


def small_flow(n_flows: int = 4, gin: int = 6, kernel: int = 5, seed: int = 0) -> TransformerCouplingBlock:
    torch.manual_seed(seed)
    shape = EncoderShape(hidden_channels=16, filter_channels=32, n_heads=2, n_layers=3, kernel_size=kernel,
                         p_dropout=0.0, window=4)
    flow = TransformerCouplingBlock(channels=8, shape=shape, n_flows=n_flows, gin_channels=gin, cond_layer=1).eval()
    with torch.no_grad():  # a fresh flow is the identity (zero post convs): make every coupling act
        for p in flow.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return flow


def ragged_inputs(lengths: list[int], gin: int = 6, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    mask = sequence_mask(torch.tensor(lengths), max(lengths)).unsqueeze(1).float()
    z = torch.randn(len(lengths), 8, max(lengths), generator=gen) * mask
    g = torch.randn(len(lengths), gin, 1, generator=gen) if gin else None
    return z, mask, g


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


@pytest.mark.parametrize("n_flows", [4, 3])  # even and odd: the folded flips must leave the channels in order
@pytest.mark.parametrize("lengths", [[17], [23, 9]])  # nothing padded / a ragged batch
def test_packed_fp32_flow_equals_the_module(n_flows, lengths):
    flow = small_flow(n_flows)
    z, mask, g = ragged_inputs(lengths)
    with torch.inference_mode():
        reference = flow(z, mask, g=g, reverse=True)
    packed = PackedFlow(flow, torch.float32)(z, mask, g)
    assert packed.shape == reference.shape and packed.dtype == torch.float32
    assert rel_error(packed * mask, reference * mask) < 1e-5
    assert rel_error(packed * mask, z) > 0.1  # the flow really changed the latent


def test_packed_flow_without_speaker_conditioning():
    flow = small_flow(gin=0)
    z, mask, _ = ragged_inputs([12, 20], gin=0)
    with torch.inference_mode():
        reference = flow(z, mask, g=None, reverse=True)
    assert rel_error(PackedFlow(flow, torch.float32)(z, mask, None) * mask, reference * mask) < 1e-5


def test_packed_flow_without_onednn_inner_products_runs_plain_linear_maps(monkeypatch):
    monkeypatch.setattr(cpu, "packed_linear_supported", lambda dtype: False)
    flow = small_flow()
    packed = PackedFlow(flow, torch.float32)
    assert all(layer.pre.packed is None for layer in packed.layers)
    z, mask, g = ragged_inputs([15, 11])
    with torch.inference_mode():
        reference = flow(z, mask, g=g, reverse=True)
    assert rel_error(packed(z, mask, g) * mask, reference * mask) < 1e-5


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no bf16 support in oneDNN")
def test_packed_bf16_flow_is_close_to_fp32():
    flow = small_flow()
    z, mask, g = ragged_inputs([30, 21])
    with torch.inference_mode():
        reference = flow(z, mask, g=g, reverse=True)
    err = rel_error(PackedFlow(flow, torch.bfloat16)(z, mask, g) * mask, reference * mask)
    assert 0 < err < 0.02, err


def test_padding_frames_do_not_change_the_real_frames():
    flow = small_flow()
    z, mask, g = ragged_inputs([19])
    padded_z = torch.nn.functional.pad(z, (0, 5))
    padded_mask = torch.nn.functional.pad(mask, (0, 5))
    packed = PackedFlow(flow, torch.float32)
    exact, padded = packed(z, mask, g), packed(padded_z, padded_mask, g)
    assert rel_error(padded[..., :19], exact) < 1e-6


def test_even_feed_forward_kernel_is_refused():
    with pytest.raises(ValueError, match="odd feed-forward kernel"):
        PackedFlow(small_flow(kernel=4), torch.float32)


def small_text_encoder(gin: int = 6) -> TextEncoder:
    torch.manual_seed(2)
    shape = EncoderShape(hidden_channels=16, filter_channels=32, n_heads=2, n_layers=3, kernel_size=3, p_dropout=0.0,
                         window=4)
    enc = TextEncoder(n_symbols=20, n_tones=5, n_languages=4, feature_channels=12, out_channels=8, shape=shape,
                      gin_channels=gin, cond_layer=1).eval()
    with torch.no_grad():  # the fresh projection to the prior is zero: make every weight matter
        for p in enc.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    return enc


def text_inputs(lengths: list[int], gin: int = 6, seed: int = 3):
    gen = torch.Generator().manual_seed(seed)
    b, t = len(lengths), max(lengths)
    ids = [torch.randint(0, n, (b, t), generator=gen) for n in (20, 5, 4)]
    text_features = torch.randn(b, 12, t, generator=gen)
    g = torch.randn(b, gin, 1, generator=gen) if gin else None
    return (*ids, torch.tensor(lengths), text_features), g


def assert_same_text_encoding(packed, reference, tolerance: float) -> float:
    mask = reference.x_mask
    assert torch.equal(packed.x_mask, mask)
    worst = 0.0
    for name in ("hidden", "prior_mean", "prior_log_scale"):
        a, b = getattr(packed, name), getattr(reference, name)
        assert a.shape == b.shape and a.dtype == torch.float32, name
        assert torch.equal(a * mask, a), f"{name}: padding positions must be zero"
        worst = max(worst, rel_error(a, b))
    assert worst < tolerance, worst
    return worst


@pytest.mark.parametrize("gin", [6, 0])  # with and without the speaker projection
@pytest.mark.parametrize("lengths", [[17], [23, 9]])  # nothing padded / a ragged batch
def test_packed_fp32_text_encoder_equals_the_module(lengths, gin):
    enc = small_text_encoder(gin)
    args, g = text_inputs(lengths, gin)
    with torch.inference_mode():
        reference = enc(*args, g=g)
    assert_same_text_encoding(PackedTextEncoder(enc, torch.float32)(*args, g=g), reference, 1e-5)


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no bf16 support in oneDNN")
def test_packed_bf16_text_encoder_is_close_to_fp32():
    enc = small_text_encoder()
    args, g = text_inputs([30, 21])
    with torch.inference_mode():
        reference = enc(*args, g=g)
    assert assert_same_text_encoding(PackedTextEncoder(enc, torch.bfloat16)(*args, g=g), reference, 0.03) > 0


def test_flow_warmup_runs_one_layer_per_frame_bucket_and_changes_nothing(monkeypatch):
    flow = small_flow()
    z, mask, g = ragged_inputs([19])
    packed = PackedFlow(flow, torch.float32)
    before = packed(z, mask, g)
    seen = []
    attention = packed.layers[0].enc.layers[0][0]
    real_call = type(attention).__call__

    def spy(self, x, bias):
        seen.append((self, x.shape[1], bias is not None))
        return real_call(self, x, bias)

    monkeypatch.setattr(type(attention), "__call__", spy)
    packed.warmup(40, 8)
    assert [(n, masked) for _, n, masked in seen] == [(n, True) for n in (8, 16, 24, 32, 40)]  # one padded frame each
    assert all(layer is attention for layer, _, _ in seen)  # the first layer only: the others share its kernels
    monkeypatch.undo()
    assert torch.equal(packed(z, mask, g), before)
