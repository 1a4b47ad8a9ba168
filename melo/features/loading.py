"""Finding and loading the text encoder (bge-m3 or a local folder) without ever stalling offline.

``transformers.from_pretrained`` on a hub id that is not cached retries the network for 20-45 s before
failing when there is no internet. So before calling it we look for the model ourselves: a local
folder, or the Hugging Face cache (``huggingface_hub.try_to_load_from_cache``); when offline
(``HF_HUB_OFFLINE=1``) and it is in neither, :class:`ModelUnavailableError` is raised at once. Online,
``from_pretrained`` may download as usual.

:func:`prepare_encoder` turns a loaded model into the one that runs: layers above the chosen hidden
layer removed (their output is never used), then cast or quantised to the requested precision.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    import torch

__all__ = [
    "ModelSource",
    "ModelUnavailableError",
    "hub_offline",
    "Precision",
    "load_encoder",
    "load_tokenizer",
    "max_content_tokens",
    "prepare_encoder",
    "resolve_layer",
    "resolve_source",
    "source_fingerprint",
]

logger = logging.getLogger(__name__)

Precision = Literal["fp32", "fp16", "bf16", "int8"]
PRECISIONS: tuple[str, ...] = get_args(Precision)

_TRUE = {"1", "true", "yes", "on"}
# Files hashed in full when fingerprinting a local folder; bigger ones contribute size + mtime only.
_FULL_HASH_LIMIT = 16 * 1024 * 1024


class ModelUnavailableError(RuntimeError):
    """The text encoder cannot be loaded (not a folder, not cached, and offline - or broken)."""


def _how_to_provide(name: str) -> str:
    return (
        f"To provide {name!r}: (1) set data.bert_model (or --model) to a local folder holding its "
        "config.json, tokenizer and weights; or (2) on a machine with network run "
        f"`huggingface-cli download {name}` and copy its Hugging Face cache (HF_HOME, default "
        "~/.cache/huggingface) here; or (3) allow downloads by unsetting HF_HUB_OFFLINE."
    )


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be reached (``HF_HUB_OFFLINE``)."""
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE) or os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


@dataclass(frozen=True)
class ModelSource:
    """Where the encoder comes from. ``path`` is a local folder (given directly or the cached snapshot);
    ``revision`` is the cached snapshot's commit hash for hub ids, when known."""

    name: str
    path: Path | None
    is_local_folder: bool
    revision: str | None
    offline: bool

    @property
    def load_from(self) -> str:
        return str(self.path) if self.path is not None else self.name


def resolve_source(name: str) -> ModelSource:
    """Find ``name`` (a local folder or a hub id) without touching the network.

    Raises :class:`ModelUnavailableError` when it is not a folder, not in the cache, and we are
    offline; online, an uncached hub id resolves with ``path=None`` (``from_pretrained`` downloads it).
    """
    offline = hub_offline()
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ModelUnavailableError(
                f"text encoder folder {str(folder.resolve())!r} has no config.json. " + _how_to_provide(name)
            )
        return ModelSource(name=name, path=folder.resolve(), is_local_folder=True, revision=None, offline=offline)
    looks_like_path = name.startswith((".", "/", "~")) or os.sep + os.sep in name or name.count("/") > 1
    if looks_like_path:
        raise ModelUnavailableError(
            f"text encoder folder {name!r} does not exist (cwd {os.getcwd()!r}). " + _how_to_provide(name)
        )
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(repo_id=name, filename="config.json")
    except Exception as error:  # an invalid repo id: report it as unavailable, naming it
        raise ModelUnavailableError(
            f"text encoder {name!r} is neither a local folder nor a valid hub id ({error}). " + _how_to_provide(name)
        ) from error
    if isinstance(cached, str):
        snapshot = Path(cached).parent
        return ModelSource(name=name, path=snapshot, is_local_folder=False, revision=snapshot.name, offline=offline)
    if offline:
        from huggingface_hub import constants

        raise ModelUnavailableError(
            f"text encoder {name!r} is not a local folder (none relative to {os.getcwd()!r}) and is not in the Hugging Face cache "
            f"({constants.HF_HUB_CACHE}), and HF_HUB_OFFLINE is set, so it cannot be downloaded. "
            + _how_to_provide(name)
        )
    logger.info("text encoder %r is not cached; transformers will download it", name)
    return ModelSource(name=name, path=None, is_local_folder=False, revision=None, offline=offline)


def _from_pretrained(loader: Any, source: ModelSource, what: str, **kwargs: Any) -> Any:
    try:
        return loader.from_pretrained(source.load_from, local_files_only=source.path is not None or source.offline, **kwargs)
    except (OSError, ValueError) as error:
        raise ModelUnavailableError(
            f"cannot load the {what} of text encoder {source.name!r} from {source.load_from!r}: {error}. "
            + _how_to_provide(source.name)
        ) from error


def load_tokenizer(name: str, source: ModelSource | None = None) -> Any:
    """The fast (offset-giving) tokenizer of ``name``; raises :class:`ModelUnavailableError`."""
    from transformers import AutoTokenizer

    source = source or resolve_source(name)
    tokenizer = _from_pretrained(AutoTokenizer, source, "tokenizer")
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ModelUnavailableError(
            f"text encoder {name!r} has no fast tokenizer (tokenizer.json); character offsets need one"
        )
    return tokenizer


def load_encoder(name: str, source: ModelSource | None = None) -> Any:
    """The encoder model of ``name`` in fp32, eval mode; raises :class:`ModelUnavailableError`."""
    from transformers import AutoModel

    source = source or resolve_source(name)
    model = _from_pretrained(AutoModel, source, "model")
    return model.eval()


def _encoder_layers(model: Any) -> Any:
    try:
        return model.encoder.layer
    except AttributeError as error:
        raise ValueError(
            f"{type(model).__name__} has no encoder.layer list; only BERT/XLM-R-style encoders are supported"
        ) from error


def resolve_layer(layer: int, num_layers: int) -> int:
    """Hidden-state index in ``0..num_layers`` (0 = embeddings, ``num_layers`` = last layer's output)."""
    index = layer if layer >= 0 else num_layers + 1 + layer
    if not 0 <= index <= num_layers:
        raise ValueError(f"bert_layer {layer} is out of range for an encoder with {num_layers} layers")
    return index


def prepare_encoder(model: Any, layer: int, precision: Precision, device: "torch.device | str" = "cpu") -> Any:
    """Make ``model`` (modified in place and returned) output the chosen hidden layer, fast.

    * The transformer layers above ``layer`` are removed, so ``last_hidden_state`` *is* that layer
      (for bge-m3 and layer -3, 2 of 24 layers of dead compute saved).
    * ``fp32``/``fp16``/``bf16`` cast the weights. ``int8`` is dynamic quantisation of every
      ``nn.Linear`` (int8 weights, activations quantised per call; CPU only) - the fast CPU path,
      with ``bf16`` as the more accurate alternative on CPUs with bf16 units (see
      ``benchmarks/results/features.md`` for the measured speed and error of each).
    """
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")
    device = torch.device(device)
    layers = _encoder_layers(model)
    keep = resolve_layer(layer, len(layers))
    del layers[keep:]
    model.config.num_hidden_layers = keep
    if getattr(model, "pooler", None) is not None:
        model.pooler = None  # pooled output is never used
    model.eval()
    if precision == "int8":
        if device.type != "cpu":
            raise ValueError(f"precision 'int8' (dynamic quantisation) runs on CPU only, not on {device}")
        model = model.float()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*torchao.*")
            warnings.filterwarnings("ignore", message=".*quantiz.*")
            from torch.ao.quantization import per_channel_dynamic_qconfig

            # Per-output-channel weight scales: lower error than one scale per tensor, same kernels.
            model = torch.ao.quantization.quantize_dynamic(
                model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True
            )
        return model
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    if precision == "fp16" and device.type == "cpu":
        logger.warning("fp16 on CPU is slow; use 'bf16' or 'int8' for fast CPU inference")
    return model.to(device=device, dtype=dtype)


def max_content_tokens(model_config: Any, tokenizer: Any) -> int:
    """How many non-special tokens fit in one forward pass (``<s>`` and ``</s>`` take two positions).

    XLM-R-style models number positions from ``pad_token_id + 1``, so bge-m3's 8194 position
    embeddings hold 8192 tokens.
    """
    positions = int(model_config.max_position_embeddings)
    if getattr(model_config, "model_type", "") in {"xlm-roberta", "roberta", "camembert", "xlm-roberta-xl"}:
        positions -= int(model_config.pad_token_id or 0) + 1
    tokenizer_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tokenizer_limit, int) and 0 < tokenizer_limit < 10**7:
        positions = min(positions, tokenizer_limit)
    if positions < 3:
        raise ValueError(f"the encoder accepts only {positions} positions")
    return positions - 2


def _hash_folder(folder: Path, digest: "hashlib._Hash") -> None:
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(path.name.encode())
        if stat.st_size <= _FULL_HASH_LIMIT:
            digest.update(path.read_bytes())
        else:  # multi-GB weights: size and modification time stand in for the bytes
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())


def source_fingerprint(source: ModelSource, extra: str) -> str:
    """A stable id of the model files plus ``extra`` (layer, precision, alignment rule).

    A local folder is hashed (small files by content, weight files by size and mtime); a cached hub
    snapshot is identified by its commit hash; an uncached hub id by its name only.
    """
    digest = hashlib.sha256()
    digest.update(extra.encode())
    if source.is_local_folder and source.path is not None:
        _hash_folder(source.path, digest)
        label = source.path.name
    else:
        digest.update(f"{source.name}@{source.revision}".encode())
        label = f"{source.name.split('/')[-1]}@{(source.revision or 'unresolved')[:12]}"
    return f"{label}:{extra}:{digest.hexdigest()[:16]}"
