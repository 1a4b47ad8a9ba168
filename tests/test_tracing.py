"""Checked TorchScript traces of the CPU inference hot paths: accepted only when bit-identical to eager."""

from __future__ import annotations

import copy

import pytest
import torch

from melo.config import load_config
from melo.model import build_generator
from melo.model.inference import optimize_for_inference
from melo.text.symbols import DEFAULT_TABLE
from melo.tracing import checked_trace
from model_helpers import random_batch


pytestmark = pytest.mark.usefixtures("one_thread")


class ShapeBaking(torch.nn.Module):
    """Python control flow on a shape: a trace keeps the branch it saw."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 if x.shape[-1] == 4 else x * 3


def test_checked_trace_accepts_a_faithful_trace_and_refuses_a_shape_baked_one():
    lin = torch.nn.Linear(4, 3).eval()
    assert checked_trace(lin, (torch.randn(2, 4),), [(torch.randn(5, 4),), (torch.randn(1, 7, 4),)], "linear") is not None
    assert checked_trace(ShapeBaking(), (torch.randn(4),), [(torch.randn(5),)], "shape-baking") is None


def test_checked_trace_refuses_what_cannot_be_traced():
    class DictOut(torch.nn.Module):
        def forward(self, x: torch.Tensor):
            return {"y": x, "n": int(x.sum() > 0)}  # a non-tensor output

    assert checked_trace(DictOut(), (torch.randn(3),), [], "dict output") is None


def _prepared_tiny_generator():
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    gen = optimize_for_inference(build_generator(config, DEFAULT_TABLE))
    for coupling in gen.flow.flows:  # a fresh flow is the identity
        torch.nn.init.normal_(coupling.post.weight, std=0.1)
    eager = copy.deepcopy(gen)
    eager._text_encoder = lambda device, dtype=None: eager.enc_p
    eager._reverse_flow = lambda device, dtype: (lambda z, mask, g: eager.flow(z, mask, g=g, reverse=True))
    eager._duration_sampler = lambda device: (lambda x, mask, noise, g: eager.sdp.sample(x, mask, noise, g=g))
    b = random_batch(config, DEFAULT_TABLE, 2, 21, 30, torch.Generator().manual_seed(2))
    return gen, eager, (b.phone_ids, b.tone_ids, b.language_ids, b.bert, b.speaker_ids, b.text_lengths)


def _infer_both(gen, eager, args, flow_dtype):
    outs = []
    for model in (gen, eager):
        torch.manual_seed(11)
        with torch.inference_mode():
            outs.append(model.infer(*args, flow_dtype=flow_dtype, noise_scale=0.5))
    return outs


@pytest.mark.parametrize("flow_dtype", [None, torch.bfloat16])
def test_prepared_cpu_model_runs_the_traced_encoder_and_the_traced_flow_with_eager_results(flow_dtype, monkeypatch):
    import melo.model.synthesizer as synthesizer

    monkeypatch.setattr(synthesizer, "packed_flow_supported", lambda device, dtype: False)  # the trace's turn
    gen, eager, args = _prepared_tiny_generator()
    fast, reference = _infer_both(gen, eager, args, flow_dtype)
    assert gen._runners["enc_p"] is not None and gen._runners[f"flow:{flow_dtype}"] is not None
    assert gen._runners["sdp"] is not None
    assert not isinstance(gen._runners[f"flow:{flow_dtype}"], synthesizer.PackedFlow)
    assert torch.equal(fast.durations, reference.durations)
    assert torch.equal(fast.audio, reference.audio)
    gen.train()
    assert not gen._runners  # training changes the weights: traces are dropped


def test_prepared_cpu_model_runs_the_packed_flow_where_it_can():
    from melo.model.fast_flow import PackedFlow

    gen, eager, args = _prepared_tiny_generator()
    fast, reference = _infer_both(gen, eager, args, None)
    assert isinstance(gen._runners["flow:None"], PackedFlow)
    assert torch.equal(fast.durations, reference.durations)  # the text encoder is still the exact trace
    err = float(torch.linalg.vector_norm(fast.audio - reference.audio) / torch.linalg.vector_norm(reference.audio))
    assert err < 1e-5  # fp32: the same sums in another order
    copied = copy.deepcopy(gen)  # oneDNN's packed weights cannot be copied: the copy rebuilds its own
    assert not copied._runners and not copied._packed_decoders


def test_prepared_cpu_model_samples_durations_through_a_checked_trace():
    gen, _, _ = _prepared_tiny_generator()
    for p in gen.sdp.parameters():  # a fresh predictor's spline projections are zero: make every op matter
        p.add_(torch.randn_like(p) * 0.1)
    gen._drop_inference_copies()
    sampler = gen._duration_sampler(torch.device("cpu"))
    assert isinstance(sampler, torch.jit.ScriptModule)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, gen.enc_p.hidden_channels, 23, generator=g)
    mask = (torch.arange(23) < torch.tensor([[23], [17]])).unsqueeze(1).float()
    speaker = torch.randn(2, gen.emb_g.embedding_dim, 1, generator=g)
    torch.manual_seed(5)
    with torch.inference_mode():
        noise = gen.sdp.prior_noise(x, 0.8)
        traced = sampler(x * mask, mask, noise, speaker)
        torch.manual_seed(5)
        sampled = gen.sdp.infer(x * mask, mask, g=speaker, noise_scale=0.8)  # eager, the same draw
    assert torch.equal(traced, sampled)
    assert traced.abs().max() > 0


def test_text_dtype_bf16_runs_the_packed_text_encoder_and_falls_back_to_the_exact_trace(monkeypatch):
    import melo.model.synthesizer as synthesizer
    from melo.model.fast_flow import PackedTextEncoder

    gen, eager, args = _prepared_tiny_generator()
    if synthesizer.packed_flow_supported("cpu", torch.bfloat16):
        with torch.inference_mode():
            out = gen.infer(*args, text_dtype=torch.bfloat16, noise_scale=0.5)
        assert isinstance(gen._runners["enc_p:torch.bfloat16"], PackedTextEncoder)
        assert torch.isfinite(out.audio).all() and out.audio.abs().max() > 0
    gen._drop_inference_copies()
    monkeypatch.setattr(synthesizer, "packed_flow_supported", lambda device, dtype: dtype == torch.float32)
    outs = []
    for model, dtype in ((gen, torch.bfloat16), (eager, None)):  # no bf16 runner: the fp32 trace, exact
        torch.manual_seed(11)
        with torch.inference_mode():
            outs.append(model.infer(*args, text_dtype=dtype, noise_scale=0.5))
    assert gen._runners["enc_p:torch.bfloat16"] is None
    assert torch.equal(outs[0].durations, outs[1].durations)  # the text encoder is the exact trace
    err = float(torch.linalg.vector_norm(outs[0].audio - outs[1].audio) / torch.linalg.vector_norm(outs[1].audio))
    assert err < 1e-5  # the packed fp32 flow: the same sums in another order


def test_warm_build_runs_the_text_side_per_text_bucket_and_warms_the_packed_flow(monkeypatch):
    import melo.model.synthesizer as synthesizer
    from melo.model.fast_flow import PackedFlow

    gen, _, _ = _prepared_tiny_generator()
    monkeypatch.setattr(synthesizer, "WARM_TEXT_POSITIONS", 24)
    monkeypatch.setattr(synthesizer, "WARM_FRAMES", 32)
    flows, texts = [], []
    monkeypatch.setattr(PackedFlow, "warmup", lambda self, frames, bucket: flows.append((frames, bucket)))
    real_dp = gen.dp.forward

    def dp(x, mask, g=None):
        texts.append((x.shape[-1], int(mask.sum())))
        return real_dp(x, mask, g)

    monkeypatch.setattr(gen.dp, "forward", dp)
    gen.build_fast_paths("cpu", torch.float32, None, warm=True)
    assert texts == [(8, 7), (16, 15), (24, 23)]  # every text bucket, one padded position each
    assert flows == [(32, synthesizer.FRAME_BUCKET)]
    assert gen._runners["sdp"] is not None and gen._runners["enc_p"] is not None
