"""Checked TorchScript traces of the CPU inference hot paths: accepted only when bit-identical to eager."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

import melo.runtime.engine as engine_module
from melo.config import load_config
from melo.model import build_generator
from melo.model.synthesizer import module_parts
from melo.runtime import runners
from melo.runtime.engine import InferenceEngine
from melo.runtime.precision import PrecisionPolicy
from melo.runtime.tracing import checked_trace
from melo.text.symbols import DEFAULT_TABLE
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


def _tiny_generator():
    config = load_config("configs/tiny.json")
    torch.manual_seed(0)
    gen = build_generator(config, DEFAULT_TABLE)
    for coupling in gen.flow.flows:  # a fresh flow is the identity
        torch.nn.init.normal_(coupling.post.weight, std=0.1)
    b = random_batch(config, DEFAULT_TABLE, 2, 21, 30, torch.Generator().manual_seed(2))
    return gen, (b.phone_ids, b.tone_ids, b.language_ids, b.text_features, b.speaker_ids, b.text_lengths)


def _engine_and_eager(gen, flow_dtype=None, text_dtype=None):
    """A CPU engine, and the parts it would run with every trace and packed flow/text runner replaced by the
    module (the decoder and the length buckets kept): the eager reference."""
    engine = InferenceEngine(gen, "cpu", PrecisionPolicy(flow=flow_dtype, text=text_dtype))
    plain = module_parts(engine.model)

    def flow(z, mask, g):
        with runners.autocast(z.device, flow_dtype):
            return plain.reverse_flow(z, mask, g)

    eager = dataclasses.replace(plain, reverse_flow=flow, decoder=engine._cpu_decoder(None),
                                text_bucket=engine_module.TEXT_BUCKET, frame_bucket=engine_module.FRAME_BUCKET)
    return engine, eager


def _infer_both(engine, eager, args):
    outs = []
    for run in (engine.infer, lambda *a, **kw: engine.model.infer(*a, parts=eager, **kw)):
        torch.manual_seed(11)
        with torch.inference_mode():
            outs.append(run(*args, noise_scale=0.5))
    return outs


@pytest.mark.parametrize("flow_dtype", [None, torch.bfloat16])
def test_prepared_cpu_model_runs_the_traced_encoder_and_the_traced_flow_with_eager_results(flow_dtype, monkeypatch):
    monkeypatch.setattr(engine_module, "packed_flow_supported", lambda device, dtype: False)  # the trace's turn
    gen, args = _tiny_generator()
    engine, eager = _engine_and_eager(gen, flow_dtype)
    fast, reference = _infer_both(engine, eager, args)
    assert engine._runners["text_encoder"] is not None and engine._runners[f"flow:{flow_dtype}"] is not None
    assert engine._runners["duration_sampler"] is not None
    assert not isinstance(engine._runners[f"flow:{flow_dtype}"], engine_module.PackedFlow)
    assert torch.equal(fast.durations, reference.durations)
    assert torch.equal(fast.audio, reference.audio)
    with torch.no_grad():
        engine.model.flow.flows[0].post.weight.mul_(1.5)  # the weights change (as a training step would) ...
    engine._check_weights()
    assert not engine._runners  # ... the traces are dropped


def test_prepared_cpu_model_runs_the_packed_flow_where_it_can():
    from melo.runtime.packed_flow import PackedFlow

    gen, args = _tiny_generator()
    engine, eager = _engine_and_eager(gen)
    fast, reference = _infer_both(engine, eager, args)
    assert isinstance(engine._runners["flow:None"], PackedFlow)
    assert torch.equal(fast.durations, reference.durations)  # the text encoder is still the exact trace
    err = float(torch.linalg.vector_norm(fast.audio - reference.audio) / torch.linalg.vector_norm(reference.audio))
    assert err < 1e-5  # fp32: the same sums in another order
    copied = copy.deepcopy(engine)  # oneDNN's packed weights cannot be copied: the copy rebuilds its own
    assert not copied._runners and not copied._packed_decoders


def test_prepared_cpu_model_samples_durations_through_a_checked_trace():
    gen, _ = _tiny_generator()
    engine = InferenceEngine(gen, "cpu", PrecisionPolicy())
    gen = engine.model
    with torch.no_grad():
        for p in gen.stochastic_duration_predictor.parameters():  # a fresh predictor's spline projections are zero: make every op matter
            p.add_(torch.randn_like(p) * 0.1)
    sampler = engine.parts().sample_log_durations
    assert isinstance(sampler, torch.jit.ScriptModule)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, gen.text_encoder.hidden_channels, 23, generator=g)
    mask = (torch.arange(23) < torch.tensor([[23], [17]])).unsqueeze(1).float()
    speaker = torch.randn(2, gen.speaker_embedding.embedding_dim, 1, generator=g)
    torch.manual_seed(5)
    with torch.inference_mode():
        noise = gen.stochastic_duration_predictor.prior_noise(x, 0.8)
        traced = sampler(x * mask, mask, noise, speaker)
        torch.manual_seed(5)
        sampled = gen.stochastic_duration_predictor.infer(x * mask, mask, g=speaker, noise_scale=0.8)  # eager, the same draw
    assert torch.equal(traced, sampled)
    assert traced.abs().max() > 0


def test_text_dtype_bf16_runs_the_packed_text_encoder_and_falls_back_to_the_exact_trace(monkeypatch):
    from melo.runtime.packed_flow import PackedTextEncoder

    gen, args = _tiny_generator()
    if engine_module.packed_flow_supported("cpu", torch.bfloat16):
        engine, _ = _engine_and_eager(gen, text_dtype=torch.bfloat16)
        with torch.inference_mode():
            out = engine.infer(*args, noise_scale=0.5)
        assert isinstance(engine._runners["text_encoder:torch.bfloat16"], PackedTextEncoder)
        assert torch.isfinite(out.audio).all() and out.audio.abs().max() > 0
    monkeypatch.setattr(engine_module, "packed_flow_supported", lambda device, dtype: dtype == torch.float32)
    engine, eager = _engine_and_eager(gen, text_dtype=torch.bfloat16)  # no bf16 runner: the fp32 trace, exact
    outs = _infer_both(engine, eager, args)
    assert engine._runners["text_encoder:torch.bfloat16"] is None
    assert torch.equal(outs[0].durations, outs[1].durations)  # the text encoder is the exact trace
    err = float(torch.linalg.vector_norm(outs[0].audio - outs[1].audio) / torch.linalg.vector_norm(outs[1].audio))
    assert err < 1e-5  # the packed fp32 flow: the same sums in another order


def test_warm_build_runs_the_text_side_per_text_bucket_and_warms_the_packed_flow(monkeypatch):
    from melo.runtime.packed_flow import PackedFlow

    gen, _ = _tiny_generator()
    engine = InferenceEngine(gen, "cpu", PrecisionPolicy(decoder=torch.float32))
    monkeypatch.setattr(engine_module, "WARM_TEXT_POSITIONS", 24)
    monkeypatch.setattr(engine_module, "WARM_FRAMES", 32)
    flows, texts = [], []
    monkeypatch.setattr(PackedFlow, "warmup", lambda self, frames, bucket: flows.append((frames, bucket)))
    real_forward = engine.model.duration_predictor.forward

    def counting_forward(x, mask, g=None):
        texts.append((x.shape[-1], int(mask.sum())))
        return real_forward(x, mask, g)

    monkeypatch.setattr(engine.model.duration_predictor, "forward", counting_forward)
    engine.build(warm=True)
    assert texts == [(8, 7), (16, 15), (24, 23)]  # every text bucket, one padded position each
    assert flows == [(32, engine_module.FRAME_BUCKET)]
    assert engine._runners["duration_sampler"] is not None and engine._runners["text_encoder"] is not None
