"""Tracing the three stages to ONNX with dynamic lengths (``torch.onnx.export``, TorchScript exporter).

Each stage is traced once on example inputs; its lengths (text positions, frames, tokens) are dynamic axes, so
one graph serves every length. The traced branches do not depend on the length: the graphs are checked on
other lengths afterwards (:mod:`melo.export.verify`).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from melo.export.adapter import AudioStage, EncoderStage, LoadedGenerator, TextStage
from melo.onnx.manifest import AUDIO_INPUTS, AUDIO_OUTPUTS, ENCODER_INPUTS, ENCODER_OUTPUTS, TEXT_INPUTS, TEXT_OUTPUTS

__all__ = ["OPSET", "TWO_GIB", "export_audio_graph", "export_encoder_graph", "export_text_graph"]

log = logging.getLogger(__name__)

OPSET = 17
"""onnxruntime 1.17 (the oldest the export extra allows) runs opset 17 graphs; 17 has LayerNormalization."""
TWO_GIB = 2**31
"""A single ONNX protobuf file holds at most 2 GiB; bigger graphs keep their weights in a side file."""
_EXAMPLE_POSITIONS = 17  # the tracing example's length (any will do: the lengths are dynamic)


def _export(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, inputs: tuple[str, ...],
            outputs: tuple[str, ...], dynamic_axes: dict[str, dict[int, str]]) -> Path:
    """Trace ``module`` into ``path``. The tracer writes a graph over 2 GiB (bge-m3 is ~2.1 GB in fp32) as one
    file per weight; the graph is therefore traced into a scratch folder and saved again here, its weights in one
    side file ``<name>.data`` when it is that large."""
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        traced = Path(scratch) / path.name
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            # the tracer warns about every Python int it records (shape arithmetic); the graphs are checked instead
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, str(traced), input_names=list(inputs), output_names=list(outputs),
                              dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False, do_constant_folding=True)
        graph = onnx.load(str(traced))
    weights = sum(len(w.raw_data) for w in graph.graph.initializer)
    large = weights > TWO_GIB - 2**26  # headroom for the graph itself
    onnx.save(graph, str(path), save_as_external_data=large, all_tensors_to_one_file=True, location=path.name + ".data")
    log.info("wrote %s (%.1f MB of weights%s)", path, weights / 1e6, f", in {path.name}.data" if large else "")
    return path


def text_example(loaded: LoadedGenerator, positions: int = _EXAMPLE_POSITIONS,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, ...]:
    """Inputs of the text stage for one utterance of ``positions`` text positions (random ids and features)."""
    generator = generator or torch.Generator().manual_seed(0)
    symbols = loaded.symbols
    ids = torch.randint(1, symbols.n_symbols, (1, positions), generator=generator)
    ids[:, ::2] = 0  # blanks between phones
    tones = torch.randint(0, symbols.n_tones, (1, positions), generator=generator)
    languages = torch.randint(0, symbols.n_languages, (1, positions), generator=generator)
    text_features = torch.randn(1, loaded.bert_channels, positions, generator=generator)
    speaker = torch.tensor([max(loaded.speakers.values(), default=0)])
    sdp_noise = torch.randn(1, 2, positions, generator=generator) * 0.8
    return ids, tones, languages, text_features, speaker, sdp_noise, torch.tensor(0.2), torch.tensor(1.0)


def export_text_graph(loaded: LoadedGenerator, path: Path) -> Path:
    positions = {1: "positions"}
    axes = {"phone_ids": positions, "tone_ids": positions, "language_ids": positions, "bert": {2: "positions"},
            "sdp_noise": {2: "positions"}, "durations": {2: "positions"}, "prior_mean": {2: "positions"},
            "prior_log_scale": {2: "positions"}}
    return _export(TextStage(loaded.model), text_example(loaded), path, TEXT_INPUTS, TEXT_OUTPUTS, axes)


def export_audio_graph(loaded: LoadedGenerator, path: Path) -> Path:
    stage = TextStage(loaded.model)
    with torch.no_grad():
        durations, prior_mean, prior_log_scale, speaker = stage(*text_example(loaded))
    frames = max(1, int(durations.sum()))
    noise = torch.randn(1, loaded.latent_channels, frames, generator=torch.Generator().manual_seed(1))
    args = (durations, prior_mean, prior_log_scale, speaker, noise, torch.tensor(0.6))
    axes = {"durations": {2: "positions"}, "prior_mean": {2: "positions"}, "prior_log_scale": {2: "positions"},
            "noise": {2: "frames"}, "audio": {2: "samples"}}
    return _export(AudioStage(loaded.model), args, path, AUDIO_INPUTS, AUDIO_OUTPUTS, axes)


def export_encoder_graph(encoder: nn.Module, cls_id: int, sep_id: int, path: Path) -> Path:
    """``encoder``: already cut at the model's layer and in fp32 (``prepare_encoder(..., "fp32")``)."""
    ids = torch.tensor([[cls_id, *range(5, 5 + _EXAMPLE_POSITIONS), sep_id]])
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "hidden_states": {0: "batch", 1: "tokens"}}
    return _export(EncoderStage(encoder), (ids, torch.ones_like(ids)), path, ENCODER_INPUTS, ENCODER_OUTPUTS, axes)
