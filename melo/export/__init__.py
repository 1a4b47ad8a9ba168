"""ONNX export of a trained voice, text encoder included: ``python -m melo.export --model G_latest.pth --out DIR``.

Writes into ``DIR``:

* ``text.onnx``: phone/tone/language ids + bge-m3 features -> durations and the prior (text encoder, stochastic
  and deterministic duration predictors with their noise input, ``sdp_ratio`` and ``length_scale``);
* ``audio.onnx``: durations + prior + noise -> waveform (length regulation, reverse flow, HiFi-GAN decoder);
* ``encoder.onnx``: the text encoder (bge-m3) cut at the layer the model uses;
* the same three as ``*.int8.onnx`` (onnxruntime's dynamic quantisation);
* ``tokenizer.json`` and ``melo-onnx.json`` (symbol table, speakers, sample rate, ...; :mod:`melo.onnx.manifest`).

All lengths are dynamic; weight norm is folded before tracing. The export then checks the graphs against
PyTorch on several lengths under the same noise (:mod:`melo.export.verify`) and stores the errors in the
manifest. :class:`melo.onnx.OnnxTTS` synthesises from the folder without torch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ExportReport", "export_checkpoint", "export_voice"]

log = logging.getLogger(__name__)

FILES = {"fp32": {"text": "text.onnx", "audio": "audio.onnx", "encoder": "encoder.onnx"},
         "int8": {"text": "text.int8.onnx", "audio": "audio.int8.onnx", "encoder": "encoder.int8.onnx"}}
TOKENIZER_FILE = "tokenizer.json"


@dataclass
class ExportReport:
    folder: Path
    manifest: Any  # melo.onnx.manifest.Manifest
    sizes: dict[str, int]  # file name -> bytes (weights kept beside a graph included)

    def format(self) -> str:
        lines = [f"exported to {self.folder}"]
        for name, size in self.sizes.items():
            lines.append(f"  {name:22} {size / 1e6:9.2f} MB")
        for precision, checks in self.manifest.check.items():
            acoustic, encoder = checks["acoustic"], checks["encoder"]
            equal = sum(acoustic["durations_equal"])
            err = acoustic["max_abs_error"]
            lines.append(
                f"  {precision} vs PyTorch: durations equal at {equal}/{len(acoustic['lengths'])} lengths "
                f"{acoustic['lengths']}; waveform max |error| {'n/a' if err is None else f'{err:.2e}'} "
                f"(peak {acoustic['peak']:.3f}); encoder max |error| {encoder['max_abs_error']:.2e} "
                f"(peak {encoder['peak']:.2f}) at {encoder['tokens']} tokens")
        return "\n".join(lines)


def _size(path: Path) -> int:
    return path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + ".data"))


def export_voice(loaded: Any, tokenizer: Any, encoder: Any, encoder_name: str, out: str | Path, *,
                 int8: bool = True, check_lengths: tuple[int, ...] | None = None) -> ExportReport:
    """Export ``loaded`` (:class:`melo.export.adapter.LoadedGenerator`) with the fast ``tokenizer`` and fp32
    ``encoder`` (transformers objects; ``encoder`` is cut at the model's layer in place) into ``out``."""
    from melo.export.graphs import export_audio_graph, export_encoder_graph, export_text_graph
    from melo.export.quantize import ACOUSTIC_INT8_OPS, ENCODER_INT8_OPS, quantize_graph
    from melo.export.verify import CHECK_LENGTHS, check_acoustic, check_encoder
    from melo.features.loading import max_content_tokens, prepare_encoder
    from melo.onnx.acoustic import AcousticGraphs
    from melo.onnx.manifest import EncoderInfo, Manifest
    from melo.onnx.sessions import open_session

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    config = loaded.config
    layer = config.data.bert_layer
    stand_in = getattr(encoder.config, "melo_stand_in", None)
    hidden_size = int(encoder.config.hidden_size)
    if hidden_size != loaded.bert_channels:
        raise ValueError(f"text encoder {encoder_name} has hidden size {hidden_size} but the model expects "
                         f"model.bert_channels={loaded.bert_channels}")
    max_tokens = max_content_tokens(encoder.config, tokenizer)
    encoder = prepare_encoder(encoder, layer, "fp32")
    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if cls_id is None or sep_id is None or tokenizer.pad_token_id is None:
        raise ValueError(f"tokenizer of {encoder_name!r} lacks a cls/bos, sep/eos or pad token")
    lengths = check_lengths or CHECK_LENGTHS

    fp32, int8_files = FILES["fp32"], FILES["int8"]
    export_text_graph(loaded, out / fp32["text"])
    export_audio_graph(loaded, out / fp32["audio"])
    export_encoder_graph(encoder, int(cls_id), int(sep_id), out / fp32["encoder"])
    graphs = {"fp32": dict(fp32)}
    if int8:
        quantize_graph(out / fp32["text"], out / int8_files["text"], ACOUSTIC_INT8_OPS, per_channel=False)
        quantize_graph(out / fp32["audio"], out / int8_files["audio"], ACOUSTIC_INT8_OPS, per_channel=False)
        quantize_graph(out / fp32["encoder"], out / int8_files["encoder"], ENCODER_INT8_OPS)
        graphs["int8"] = dict(int8_files)

    backend = tokenizer.backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    backend.save(str(out / TOKENIZER_FILE))

    check: dict[str, Any] = {}
    for precision, files in graphs.items():
        exact = precision == "fp32"
        acoustic = AcousticGraphs(out / files["text"], out / files["audio"], loaded.latent_channels)
        encoder_session = open_session(out / files["encoder"])
        check[precision] = {
            "acoustic": check_acoustic(loaded, acoustic, lengths=lengths, require=exact, label=precision).as_dict(),
            "encoder": check_encoder(encoder, encoder_session, int(cls_id), int(sep_id), len(tokenizer), max_tokens,
                                     lengths=lengths, require=exact, label=precision).as_dict(),
        }
    manifest = Manifest(
        sample_rate=config.data.sampling_rate,
        hop_length=config.data.hop_length,
        add_blank=config.data.add_blank,
        korean_coda_classes=config.data.korean_coda_classes,
        latent_channels=loaded.latent_channels,
        n_speakers=config.data.n_speakers,
        speakers=dict(loaded.speakers),
        symbols=loaded.symbols.to_dict(),
        graphs=graphs,
        encoder=EncoderInfo(
            name=encoder_name, layer=layer, hidden_size=hidden_size, max_tokens=max_tokens, cls_id=int(cls_id),
            sep_id=int(sep_id), pad_id=int(tokenizer.pad_token_id),
            unk_id=None if tokenizer.unk_token_id is None else int(tokenizer.unk_token_id),
            special_ids=tuple(sorted(set(tokenizer.all_special_ids) - {tokenizer.unk_token_id})),
            tokenizer=TOKENIZER_FILE, stand_in=stand_in,
        ),
        check=check,
    )
    manifest.write(out)
    sizes = {name: _size(out / name) for files in graphs.values() for name in files.values()}
    return ExportReport(folder=out, manifest=manifest, sizes=sizes)


def export_checkpoint(model_path: str | Path, out: str | Path, *, config_path: str | Path | None = None,
                      int8: bool = True, check_lengths: tuple[int, ...] | None = None) -> ExportReport:
    """``G_latest.pth`` (and the text encoder its config names, ``data.bert_model``) -> ``out``."""
    from melo.export.adapter import load_generator
    from melo.features.loading import load_encoder, load_tokenizer, resolve_source

    loaded = load_generator(model_path, config_path)
    name = loaded.config.data.bert_model
    source = resolve_source(name)  # raises ModelUnavailableError (with what to do) when it cannot be found
    tokenizer, encoder = load_tokenizer(name, source), load_encoder(name, source)
    return export_voice(loaded, tokenizer, encoder, name, out, int8=int8, check_lengths=check_lengths)
