"""The packed (fused, channels-last) CPU decoder computes the same network as ``Generator.forward``."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from melo.config import load_config
from melo.model import build_generator
from melo.model.commons import remove_weight_norm
from melo.model.decoder import Generator
import melo.runtime.engine as engine_module
from melo.runtime import cpu, packed_conv
from melo.runtime.engine import InferenceEngine
from melo.runtime.packed_decoder import PackedDecoder, packed_decoder_supported
from melo.runtime.precision import PrecisionPolicy, fast_decoder_dtype
from melo.text.symbols import DEFAULT_TABLE
from model_helpers import random_batch

pytestmark = [
    pytest.mark.skipif(not packed_decoder_supported("cpu", torch.float32), reason="this PyTorch build has no oneDNN"),
    pytest.mark.usefixtures("one_thread"),
]
HAS_BF16 = packed_decoder_supported("cpu", torch.bfloat16)




def small_generator(resblock: str = "1", gin: int = 8, seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    gen = Generator(in_channels=12, resblock=resblock, resblock_kernel_sizes=(3, 7, 11),
                    resblock_dilation_sizes=((1, 3, 5),) * 3, upsample_rates=(4, 2, 2),
                    upsample_initial_channel=32, upsample_kernel_sizes=(8, 4, 4), gin_channels=gin).eval()
    with torch.no_grad():  # HiFi-GAN's N(0, 0.01) init makes a near-silent net; larger weights test more
        for p in gen.parameters():
            p.normal_(0.0, 0.2)
    remove_weight_norm(gen)
    return gen


def module_output(gen: Generator, z: torch.Tensor, g: torch.Tensor | None) -> torch.Tensor:
    """The plain module's waveform: what every packed form is compared with."""
    with torch.inference_mode():
        return gen(z, g)


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


@pytest.mark.parametrize("resblock", ["1", "2"])
@pytest.mark.parametrize("with_speaker", [True, False])
def test_packed_fp32_decoder_equals_the_module(resblock, with_speaker):
    gen = small_generator(resblock, gin=8 if with_speaker else 0)
    z = torch.randn(2, 12, 23)
    g = torch.randn(2, 8, 1) if with_speaker else None
    reference = module_output(gen, z, g)
    packed = PackedDecoder(gen, torch.float32)(z, g)
    assert packed.shape == reference.shape == (2, 1, 23 * 16) and packed.dtype == torch.float32
    assert float(reference.abs().max()) > 0.03  # a live signal, not a saturated or silent one
    assert rel_error(packed, reference) < 1e-5


@pytest.mark.skipif(not HAS_BF16, reason="this CPU has no bf16 support in oneDNN")
def test_packed_bf16_decoder_is_close_to_fp32():
    gen = small_generator()
    z, g = torch.randn(1, 12, 40), torch.randn(1, 8, 1)
    reference = module_output(gen, z, g)
    err = rel_error(PackedDecoder(gen, torch.bfloat16)(z, g), reference)
    assert 0 < err < 0.03, err


def test_packed_decoder_refuses_live_weight_norm():
    config = load_config("configs/tiny.json")
    gen = build_generator(config, DEFAULT_TABLE)
    with pytest.raises(ValueError, match="fold weight norm"):
        PackedDecoder(gen.decoder, torch.float32)


def test_prepared_model_decodes_with_the_packed_decoder_and_matches_the_module():
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE).eval()
    b = random_batch(config, DEFAULT_TABLE, 2, 21, 30, torch.Generator().manual_seed(0))
    args = (b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths)
    torch.manual_seed(5)
    with torch.no_grad():
        reference = gen.infer(*args)
    assert not hasattr(gen, "_packed_decoders")  # weight norm live: the module decodes (the model keeps no runners)
    engine = InferenceEngine(gen, "cpu", PrecisionPolicy())
    torch.manual_seed(5)
    with torch.inference_mode():
        fast = engine.infer(*args)
    assert torch.float32 in engine._packed_decoders
    assert fast.decoder_seconds > 0
    assert rel_error(fast.audio, reference.audio) < 1e-4
    with torch.no_grad():  # the weights change (as a training step would): the packed copy is dropped
        gen.decoder.conv_pre.weight.mul_(1.5)
    engine._check_weights()
    assert not engine._packed_decoders


def test_packed_copy_is_rebuilt_after_loading_new_weights():
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    engine = InferenceEngine(build_generator(config, DEFAULT_TABLE), "cpu", PrecisionPolicy())
    gen = engine.model
    z, g = torch.randn(1, config.model.inter_channels, 9), torch.randn(1, config.model.gin_channels, 1)
    first = engine.decode(z, g)
    state = {k: v + 0.01 * torch.randn_like(v) if k.startswith("decoder.") else v for k, v in gen.state_dict().items()}
    gen.load_state_dict(state)
    with torch.inference_mode():
        expected = gen.decoder(z, g=g)
    second = engine.decode(z, g)
    assert not torch.allclose(first, second)
    assert rel_error(second, expected) < 1e-5


def test_fast_decoder_dtype_on_cpu_follows_bf16_support():
    assert fast_decoder_dtype("cpu") == (torch.bfloat16 if HAS_BF16 else torch.float32)


@pytest.mark.parametrize("frames", [1, 15, 16, 17, 40])
def test_length_buckets_do_not_change_the_output(frames):
    gen = small_generator()
    z, g = torch.randn(1, 12, frames), torch.randn(1, 8, 1)
    exact = PackedDecoder(gen, torch.float32, bucket=1)(z, g)
    bucketed = PackedDecoder(gen, torch.float32, bucket=16)(z, g)
    assert bucketed.shape == exact.shape == (1, 1, frames * 16)
    assert rel_error(bucketed, exact) < 1e-5


@pytest.mark.parametrize(
    "kernels, lead",
    [((8, 4, 4), 2), ((16, 8, 8), 2)],  # k = 2s (HiFi-GAN's): two windows, computed in the shifted form
)
def test_two_window_upsampling_uses_the_shifted_polyphase_form(kernels, lead):
    torch.manual_seed(0)
    gen = Generator(in_channels=6, resblock="1", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),),
                    upsample_rates=(4, 2, 2), upsample_initial_channel=16, upsample_kernel_sizes=kernels).eval()
    with torch.no_grad():
        for p in gen.parameters():
            p.normal_(0.0, 0.3)
    remove_weight_norm(gen)
    packed = PackedDecoder(gen, torch.float32, bucket=1)
    assert packed.ups[0].lead == lead and packed.ups[0].weight.shape[-1] == kernels[0] // 4  # no zero taps
    z = torch.randn(3, 6, 11)  # a batch: the rows of the shifted form are made dense per item
    with torch.inference_mode():
        reference = gen(z)
    assert rel_error(packed(z), reference) < 1e-5


def test_one_window_upsampling_shares_one_convolution():
    torch.manual_seed(0)
    # kernel 3s (padding s): every phase reads x[m-1..m+1]
    gen = Generator(in_channels=6, resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),),
                    upsample_rates=(2, 2), upsample_initial_channel=16, upsample_kernel_sizes=(6, 6)).eval()
    with torch.no_grad():
        for p in gen.parameters():
            p.normal_(0.0, 0.3)
    remove_weight_norm(gen)
    packed = PackedDecoder(gen, torch.float32, bucket=1)
    assert packed.ups[0].lead == 0 and packed.ups[0].weight.shape[-1] == 3
    z = torch.randn(2, 6, 10)
    with torch.inference_mode():
        reference = gen(z)
    assert rel_error(packed(z), reference) < 1e-5


def test_unusual_upsampling_geometry_is_refused_and_the_model_falls_back_to_the_module():
    config = load_config("configs/tiny.json")
    m = config.model
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE)
    # kernel 5 at rate 2 (padding 1): not HiFi-GAN's kernel - 2 * padding == stride (the config refuses it)
    gen.decoder = Generator(m.inter_channels, m.resblock, tuple(m.resblock_kernel_sizes),
                        tuple(tuple(d) for d in m.resblock_dilation_sizes), (2,) * len(m.upsample_rates),
                        m.upsample_initial_channel, (5,) * len(m.upsample_rates), m.gin_channels)
    engine = InferenceEngine(gen, "cpu", PrecisionPolicy())
    with pytest.raises(ValueError, match="polyphase"):
        PackedDecoder(gen.decoder, torch.float32)
    z, g = torch.randn(1, m.inter_channels, 9), torch.randn(1, m.gin_channels, 1)
    with torch.inference_mode():
        expected = gen.decoder(z, g=g)
    assert torch.equal(engine.decode(z, g), expected)
    assert engine._packed_decoders == {torch.float32: None}


def test_frame_buckets_in_infer_change_nothing(monkeypatch):
    """infer pads frames to a multiple of FRAME_BUCKET for the flow (masked) and the decoder (clipped)."""
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    engine = InferenceEngine(build_generator(config, DEFAULT_TABLE), "cpu", PrecisionPolicy())
    gen = engine.model
    for coupling in gen.flow.flows:  # a fresh flow is the identity; make the masking matter
        torch.nn.init.normal_(coupling.post.weight, std=0.1)
    b = random_batch(config, DEFAULT_TABLE, 2, 21, 30, torch.Generator().manual_seed(1))  # ragged: 2 lengths
    args = (b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths)
    outs = {}
    for bucket in (1, 16):
        monkeypatch.setattr(engine_module, "FRAME_BUCKET", bucket)
        engine._packed_decoders.clear()
        torch.manual_seed(7)
        with torch.inference_mode():
            outs[bucket] = engine.infer(*args, noise_scale=0.5)
    a, c = outs[1], outs[16]
    assert a.audio.shape == c.audio.shape and torch.equal(a.audio_lengths, c.audio_lengths)
    assert a.audio.shape[-1] % (16 * config.data.hop_length) != 0  # the bucket really padded
    assert torch.equal(a.attention, c.attention) and torch.equal(a.y_mask, c.y_mask)
    assert rel_error(c.audio, a.audio) < 1e-5


def test_text_buckets_in_infer_change_nothing(monkeypatch):
    """infer pads the text side to a multiple of TEXT_BUCKET positions (masked) and returns the real ones."""
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    engine = InferenceEngine(build_generator(config, DEFAULT_TABLE), "cpu", PrecisionPolicy())
    gen = engine.model
    with torch.no_grad():  # fresh couplings and spline projections are the identity: make the masking matter
        for coupling in gen.flow.flows:
            coupling.post.weight.normal_(std=0.1)
        for spline_coupling in gen.stochastic_duration_predictor.flows[1::2]:
            spline_coupling.proj.weight.normal_(std=0.1)
    b = random_batch(config, DEFAULT_TABLE, 2, 21, 30, torch.Generator().manual_seed(1))  # ragged: 2 lengths
    args = (b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths)
    assert b.phone_ids.shape[1] % 16 != 0  # the bucket will really pad
    outs = {}
    for bucket in (1, 16):
        monkeypatch.setattr(engine_module, "TEXT_BUCKET", bucket)
        torch.manual_seed(7)
        with torch.inference_mode():
            outs[bucket] = engine.infer(*args, noise_scale=0.5, sdp_ratio=0.5)
    a, c = outs[1], outs[16]
    n_text = b.phone_ids.shape[1]
    assert c.durations.shape == b.phone_ids.shape and c.x_mask.shape[-1] == c.attention.shape[-1] == n_text
    assert torch.equal(a.durations, c.durations) and torch.equal(a.attention, c.attention)
    assert torch.equal(a.x_mask, c.x_mask) and a.audio.shape == c.audio.shape
    assert rel_error(c.audio, a.audio) < 1e-5


@pytest.mark.parametrize("per_tile", [1, 2, 8])
def test_tiles_cover_the_signal_exactly_with_few_widths(per_tile):
    from melo.runtime.packed_decoder import _tiles

    widths = {per_tile >> i for i in range(per_tile.bit_length())}
    for granules in range(0, 70):
        tiles = _tiles(granules, 3, per_tile)
        assert [t.start for t in tiles] == [sum(u.width for u in tiles[:i]) for i in range(len(tiles))]
        assert sum(t.width for t in tiles) == granules * 3
        assert {t.width // 3 for t in tiles} <= widths and all(t.width % 3 == 0 for t in tiles)
        assert len(tiles) == granules // per_tile + bin(granules % per_tile).count("1")


@pytest.mark.parametrize("frames", [1, 2, 7, 8, 9, 23, 31])
def test_tiled_decoder_equals_the_module_across_tile_boundaries(frames):
    gen = small_generator()
    z, g = torch.randn(2, 12, frames), torch.randn(2, 8, 1)
    reference = module_output(gen, z, g)
    packed = PackedDecoder(gen, torch.float32, bucket=2, tile_granules=4)  # tiles of 8, 4 and 2 frames
    out = packed(z, g)
    assert out.shape == reference.shape
    assert rel_error(out, reference) < 1e-5


def test_after_warmup_no_length_adds_a_kernel_shape():
    """oneDNN compiles a kernel per input shape; the tiles keep the set of shapes fixed (and warmup sees them all)."""
    gen = small_generator()
    packed = PackedDecoder(gen, torch.float32, bucket=2, tile_granules=4)
    convs = packed._convs()
    packed.warmup()
    widths = [sorted(conv.packed) for conv in convs]
    assert all(len(w) == 3 for w in widths)  # 4, 2 and 1 granules, each plus the layer's halo
    g = torch.randn(1, 8, 1)
    for frames in range(1, 41):
        packed(torch.randn(1, 12, frames), g)
    assert [sorted(conv.packed) for conv in convs] == widths


def test_tile_size_must_be_a_power_of_two():
    with pytest.raises(ValueError, match="power of 2"):
        PackedDecoder(small_generator(), torch.float32, tile_granules=6)


def test_untiled_baseline_equals_the_module_and_keeps_no_reordered_weights():
    gen = small_generator()
    z, g = torch.randn(2, 12, 19), torch.randn(2, 8, 1)
    reference = module_output(gen, z, g)
    packed = PackedDecoder(gen, torch.float32, bucket=4, tile_granules=0)
    assert rel_error(packed(z, g), reference) < 1e-5
    assert all(conv.packed is None for conv in packed._convs())


def test_signal_memory_kept_between_calls_changes_no_output():
    """The signals live in memory kept between calls: a short sentence after a long one (stale rows beyond its
    length), or after ``release()``, decodes exactly as on a fresh decoder."""
    gen = small_generator()
    g = torch.randn(1, 8, 1)
    long, short = torch.randn(1, 12, 37), torch.randn(1, 12, 9)
    fresh = PackedDecoder(gen, torch.float32, bucket=2, tile_granules=4)(short, g)
    packed = PackedDecoder(gen, torch.float32, bucket=2, tile_granules=4)
    first_long = packed(long, g)
    kept = {role: buffer.data_ptr() for role, buffer in packed._buffers.items()}
    assert torch.equal(packed(short, g), fresh)
    assert {role: buffer.data_ptr() for role, buffer in packed._buffers.items()} == kept  # reused, not reallocated
    assert torch.equal(packed(long, g), first_long)
    packed.release()
    assert not packed._buffers
    assert torch.equal(packed(short, g), fresh)


# -- int8 ------------------------------------------------------------------------------------------------------
HAS_INT8 = packed_decoder_supported("cpu", torch.int8)
needs_int8 = pytest.mark.skipif(not HAS_INT8, reason="this PyTorch build has no oneDNN quantized convolutions")


def int8_generator(resblock: str = "1", seed: int = 0) -> Generator:
    """Stages of 128, 64 and 32 channels (the first two run int8), with weights of the scale a trained net has
    (std 1 / sqrt(fan-in)), so that every residual block changes the signal."""
    torch.manual_seed(seed)
    gen = Generator(in_channels=12, resblock=resblock, resblock_kernel_sizes=(3, 7, 11),
                    resblock_dilation_sizes=((1, 3, 5),) * 3, upsample_rates=(4, 2, 2),
                    upsample_initial_channel=256, upsample_kernel_sizes=(8, 4, 4), gin_channels=8).eval()
    with torch.no_grad():
        for name, p in gen.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            p.normal_(0.0, 1.0 / fan_in**0.5 if p.dim() > 1 else 0.05)
    remove_weight_norm(gen)
    return gen


@needs_int8
@pytest.mark.parametrize("resblock", ["1", "2"])
@pytest.mark.parametrize("float_dtype", [torch.float32, torch.bfloat16])
def test_int8_decoder_is_close_to_fp32_and_quantizes_only_the_wide_stages(resblock, float_dtype, monkeypatch):
    if float_dtype == torch.bfloat16 and not HAS_BF16:
        pytest.skip("this CPU has no bf16 support in oneDNN")
    monkeypatch.setattr(cpu, "has_bf16", lambda: float_dtype == torch.bfloat16)
    gen = int8_generator(resblock)
    z, g = torch.randn(2, 12, 37), torch.randn(2, 8, 1)
    reference = module_output(gen, z, g)
    packed = PackedDecoder(gen, torch.int8, bucket=2, tile_granules=4)
    assert packed.dtype == float_dtype and packed.signal_dtypes == [torch.float32, torch.float32, float_dtype]
    kinds = [isinstance(up, packed_conv.QConv) for up in packed.ups]
    kinds += [all(isinstance(c, packed_conv.QConv) for pairs in blocks for pair in pairs for c in pair if c)
              for blocks in packed.stages]
    assert kinds == [True, True, False, True, True, False]
    assert not isinstance(packed.pre, packed_conv.QConv) and not isinstance(packed.post, packed_conv.QConv)
    out = packed(z, g)
    assert out.shape == reference.shape and out.dtype == torch.float32
    assert float(reference.abs().max()) > 0.1 and float(reference.abs().max()) < 0.999  # live, not saturated
    # measured: 2.2% (ResBlock1) and 1.7% (ResBlock2); the bf16 decoder's is 0.8% and 0.6% on this net
    assert 1e-4 < rel_error(out, reference) < 0.04


@needs_int8
def test_int8_decoder_tiled_and_untiled_agree_and_survive_warmup():
    gen = int8_generator()
    z, g = torch.randn(1, 12, 29), torch.randn(1, 8, 1)
    reference = module_output(gen, z, g)
    tiled = PackedDecoder(gen, torch.int8, bucket=2, tile_granules=4)
    tiled.warmup()
    untiled = PackedDecoder(gen, torch.int8, bucket=2, tile_granules=0)
    assert all(conv.packed is None for conv in untiled._convs())
    a, b = tiled(z, g), untiled(z, g)
    assert rel_error(a, reference) < 0.04 and rel_error(b, reference) < 0.04
    assert torch.equal(tiled(z, g), a)  # deterministic: the quantization depends only on the input


def test_quantize_keeps_zero_exact_and_rounds_within_half_a_step():
    x = torch.randn(1, 16, 1, 50).contiguous(memory_format=torch.channels_last) * 3
    x[..., :5] = 0  # padding rows
    q, scale, zero = packed_conv.quantize(x)
    assert q.dtype == torch.uint8 and not q.is_quantized and q.shape == x.shape
    assert q.is_contiguous(memory_format=torch.channels_last)
    back = (q.float() - zero) * scale
    assert torch.equal(back[..., :5], torch.zeros_like(back[..., :5]))
    assert float((back - x).abs().max()) <= scale / 2 * (1 + 1e-4)
    assert scale == pytest.approx((float(x.max()) - float(x.min())) / 255)
    positive = x.abs().to(torch.bfloat16)  # bf16 input, range [0, max]: zero point 0
    assert packed_conv.quantize(positive)[2] == 0
    assert packed_conv.quantize(torch.zeros(1, 4, 1, 3))[1:] == (1.0, 0)
    with pytest.raises(RuntimeError, match="not finite"):
        packed_conv.quantize(torch.tensor([1.0, float("nan")]).view(1, 2, 1, 1))


@needs_int8
@pytest.mark.parametrize("width", [9, 40])
def test_int8_convolution_equals_the_float_convolution_of_its_quantized_operands(width):
    """Packed once (at scale 1, zero point 0), the int8 weight serves inputs of any scale and zero point: the
    output is the exact convolution of the dequantized input and weight (to fp32 rounding), plain and in-place."""
    torch.manual_seed(3)
    conv = nn.Conv1d(24, 16, 5, dilation=2, padding=4)
    q = packed_conv.QConv.quantized(packed_conv.Conv.of(conv, torch.float32))
    weight = q.weight.float() * q.scales.view(-1, 1, 1, 1)
    assert float((weight - conv.weight.detach().unsqueeze(2)).abs().max()) <= float(q.scales.max()) / 2 * (1 + 1e-4)
    for shift in (0.0, 2.5):  # zero points of ~half and of 0
        x = (torch.randn(1, 24, 1, width) + shift).contiguous(memory_format=torch.channels_last)
        qx, scale, zero = packed_conv.quantize(x)
        expected = nn.functional.conv2d((qx.float() - zero) * scale, weight, conv.bias.detach(), dilation=(1, 2))
        assert rel_error(q.valid(x), expected) < 1e-5
        assert rel_error(q.valid(x, slope=0.1), nn.functional.leaky_relu(expected, 0.1)) < 1e-5
        acc = torch.randn_like(expected).contiguous(memory_format=torch.channels_last)
        start = acc.clone()
        q.add_valid_(acc, x)
        assert rel_error(acc, start + expected) < 1e-5


@needs_int8
def test_model_decodes_int8_only_when_prepared_on_cpu():
    config = load_config("configs/tiny.json")
    config = config.replace(model={"upsample_initial_channel": 128})  # stages of 64, 32, 16 channels: one int8
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE).eval()
    z, g = torch.randn(1, config.model.inter_channels, 11), torch.randn(1, config.model.gin_channels, 1)
    with pytest.raises(ValueError, match="int8 decoder runs only as the packed CPU decoder"):
        InferenceEngine(gen, "cuda", PrecisionPolicy(decoder=torch.int8))
    exact, quantized = (InferenceEngine(gen, "cpu", PrecisionPolicy(decoder=dtype)) for dtype in (None, torch.int8))
    with torch.inference_mode():
        reference, int8 = exact.decode(z, g), quantized.decode(z, g)
    assert quantized._packed_decoders[torch.int8].signal_dtypes[0] == torch.float32  # the 64-channel stage is int8
    assert 0 < rel_error(int8, reference) < 0.04


def test_int8_decoder_needs_vnni(monkeypatch):
    """Without VNNI, oneDNN's int8 convolutions are no faster and can saturate: int8 is not offered there."""
    monkeypatch.setattr(cpu, "has_vnni", lambda: False)
    cpu.convolutions_supported.cache_clear()
    try:
        assert not packed_decoder_supported("cpu", torch.int8)
        assert packed_decoder_supported("cpu", torch.float32)
        with pytest.raises(RuntimeError, match="quantized convolutions"):
            PackedDecoder(small_generator(), torch.int8)
    finally:
        cpu.convolutions_supported.cache_clear()


@needs_int8
def test_int8_decoder_shares_kept_memory_between_fp32_and_float_stages_without_changing_output():
    """The int8 form's wide stages keep fp32 signals and its narrow ones bf16/fp32: one role's bytes serve both
    (different stages), and what a long sentence left there changes nothing for the next one."""
    gen = int8_generator()
    g = torch.randn(1, 8, 1)
    long, short = torch.randn(1, 12, 37), torch.randn(1, 12, 9)
    fresh = PackedDecoder(gen, torch.int8, bucket=2, tile_granules=4)(short, g)
    packed = PackedDecoder(gen, torch.int8, bucket=2, tile_granules=4)
    first_long = packed(long, g)
    roles = set(packed._buffers)
    assert all(buffer.dtype == torch.uint8 for buffer in packed._buffers.values())
    assert torch.equal(packed(short, g), fresh)
    assert torch.equal(packed(long, g), first_long)
    floating = PackedDecoder(gen, packed.dtype, bucket=2, tile_granules=4)
    floating(long, g)
    assert set(packed._buffers) == roles == set(floating._buffers)  # the float decoder's roles: one buffer each
