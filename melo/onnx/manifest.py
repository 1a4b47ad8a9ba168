"""``melo-onnx.json``: what an exported folder holds and what synthesis needs besides the graphs.

Written by ``python -m melo.export`` and read by :class:`melo.onnx.OnnxTTS`; plain JSON, so any runtime (C++,
sherpa-onnx, a phone) can read it too. Fields:

* ``sample_rate``, ``hop_length`` (samples per latent frame), ``add_blank``, ``korean_coda_classes`` (the text
  frontend's switches), ``latent_channels`` (the prior noise's channels), ``speakers`` (name -> id),
  ``n_speakers``, ``symbols`` (:meth:`melo.text.SymbolTable.to_dict`);
* ``graphs``: per precision (``fp32``, ``int8``) the file of each graph: ``text`` (text encoder + both duration
  predictors), ``audio`` (length regulation + prior sample + reverse flow + decoder), ``encoder`` (the
  bge-m3-style encoder up to the layer the model uses);
* ``encoder``: its name, layer, hidden size, the most content tokens one pass takes, the special token ids and
  the tokenizer file (``tokenizer.json``, read with the ``tokenizers`` package);
* ``check``: the largest errors against PyTorch the export measured (informational).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AUDIO_INPUTS", "AUDIO_OUTPUTS", "ENCODER_INPUTS", "ENCODER_OUTPUTS", "FORMAT", "GRAPHS", "MANIFEST_NAME", "PRECISIONS", "EncoderInfo", "Manifest", "ManifestError", "TEXT_INPUTS",
           "TEXT_OUTPUTS", "read_manifest"]

MANIFEST_NAME = "melo-onnx.json"
FORMAT = "melo-onnx"
VERSION = 1
PRECISIONS = ("fp32", "int8")
GRAPHS = ("text", "audio", "encoder")

# The graphs' input and output names, in order (the exporter writes them, the runtime feeds them).
TEXT_INPUTS = ("phone_ids", "tone_ids", "language_ids", "bert", "speaker_id", "sdp_noise", "sdp_ratio", "length_scale")
"""The text graph's inputs; ``bert`` holds the bge-m3 features (``text_features`` in the code), named as in exports
written before the rename so those keep loading."""
TEXT_OUTPUTS = ("durations", "prior_mean", "prior_log_scale", "speaker_embedding")
AUDIO_INPUTS = ("durations", "prior_mean", "prior_log_scale", "speaker_embedding", "noise", "noise_scale")
AUDIO_OUTPUTS = ("audio",)
ENCODER_INPUTS = ("input_ids", "attention_mask")
ENCODER_OUTPUTS = ("hidden_states",)


class ManifestError(ValueError):
    """An exported folder that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class EncoderInfo:
    name: str
    layer: int
    hidden_size: int
    max_tokens: int  # content tokens per pass (<s> and </s> excluded)
    cls_id: int
    sep_id: int
    pad_id: int
    unk_id: int | None
    special_ids: tuple[int, ...]  # never pooled (everything special but <unk>)
    tokenizer: str  # file name inside the folder
    stand_in: str | None = None  # set when the encoder is the tiny smoke-test stand-in, not bge-m3


@dataclass(frozen=True)
class Manifest:
    sample_rate: int
    hop_length: int
    add_blank: bool
    korean_coda_classes: bool
    latent_channels: int
    n_speakers: int
    speakers: dict[str, int]
    symbols: dict[str, Any]
    graphs: dict[str, dict[str, str]]
    encoder: EncoderInfo
    check: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        payload = {"format": FORMAT, "version": VERSION, **asdict(self)}
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"

    def write(self, folder: Path) -> Path:
        path = Path(folder) / MANIFEST_NAME
        path.write_text(self.to_json(), encoding="utf-8")
        return path


def _field(raw: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in raw:
        raise ManifestError(f"{where}: missing field {name!r}")
    value = raw[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ManifestError(f"{where}: field {name!r} has the wrong type ({type(value).__name__})")
    return value


def read_manifest(folder: str | Path) -> Manifest:
    """Read and check ``folder/melo-onnx.json``; every graph and the tokenizer file it names must exist."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(f"{path}: not found; is {folder} a folder written by `python -m melo.export`?")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ManifestError(f"{path}: unreadable ({error})") from None
    where = str(path)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ManifestError(f"{where}: not a {FORMAT} manifest (field 'format' is {raw.get('format') if isinstance(raw, dict) else raw!r})")
    if raw.get("version") != VERSION:
        raise ManifestError(f"{where}: version {raw.get('version')!r} is not supported (this runtime reads {VERSION})")
    enc = _field(raw, "encoder", dict, where)
    encoder = EncoderInfo(
        name=_field(enc, "name", str, f"{where} encoder"),
        layer=_field(enc, "layer", int, f"{where} encoder"),
        hidden_size=_field(enc, "hidden_size", int, f"{where} encoder"),
        max_tokens=_field(enc, "max_tokens", int, f"{where} encoder"),
        cls_id=_field(enc, "cls_id", int, f"{where} encoder"),
        sep_id=_field(enc, "sep_id", int, f"{where} encoder"),
        pad_id=_field(enc, "pad_id", int, f"{where} encoder"),
        unk_id=enc.get("unk_id"),
        special_ids=tuple(_field(enc, "special_ids", list, f"{where} encoder")),
        tokenizer=_field(enc, "tokenizer", str, f"{where} encoder"),
        stand_in=enc.get("stand_in"),
    )
    graphs = _field(raw, "graphs", dict, where)
    for precision, files in graphs.items():
        if precision not in PRECISIONS or not isinstance(files, dict) or set(files) != set(GRAPHS):
            raise ManifestError(f"{where}: graphs.{precision} must name the graphs {', '.join(GRAPHS)}")
        for graph, name in files.items():
            if not (folder / name).is_file():
                raise ManifestError(f"{where}: graphs.{precision}.{graph}: {folder / name} does not exist")
    if not (folder / encoder.tokenizer).is_file():
        raise ManifestError(f"{where}: encoder.tokenizer: {folder / encoder.tokenizer} does not exist")
    speakers = _field(raw, "speakers", dict, where)
    return Manifest(
        sample_rate=_field(raw, "sample_rate", int, where),
        hop_length=_field(raw, "hop_length", int, where),
        add_blank=_field(raw, "add_blank", bool, where),
        korean_coda_classes=_field(raw, "korean_coda_classes", bool, where),
        latent_channels=_field(raw, "latent_channels", int, where),
        n_speakers=_field(raw, "n_speakers", int, where),
        speakers={str(k): int(v) for k, v in speakers.items()},
        symbols=_field(raw, "symbols", dict, where),
        graphs={p: dict(files) for p, files in graphs.items()},
        encoder=encoder,
        check=dict(raw.get("check") or {}),
    )
