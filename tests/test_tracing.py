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
    eager._text_encoder = lambda device: eager.enc_p
    eager._reverse_flow = lambda device, dtype: (lambda z, mask, g: eager.flow(z, mask, g=g, reverse=True))
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
