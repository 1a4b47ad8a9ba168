"""Finding and reading what a run initialises from: our checkpoints, MeloTTS's, or a MeloTTS Hugging Face repo.

A source is named by ``train.init_from`` (generator), ``init_from_D`` and ``init_from_DUR``:

* one of our files -- a dict with ``generator`` (``G_*.pth``; ``G_latest.pth`` and generator-only exports also
  carry ``config``, ``symbols``, ``spk2id``; beside a ``G_*.pth`` the run's ``config.json`` and
  ``symbols.json`` name its rows) or ``discriminators`` (``D_*.pth``);
* one of MeloTTS's -- a dict with ``model`` (a released ``checkpoint.pth``, or ``G_*.pth`` / ``D_*.pth`` /
  ``DUR_*.pth`` of its trainer); its ``config.json`` beside it names the speakers;
* a folder holding ``G_latest.pth`` or ``checkpoint.pth``;
* a Hugging Face repo id (``myshell-ai/MeloTTS-Korean``): ``checkpoint.pth`` and ``config.json`` from the local
  Hugging Face cache, or downloaded when online. Offline and uncached is an immediate error saying how to
  provide the files (as for bge-m3, :mod:`melo.features.loading`).

Files load with ``torch.load(weights_only=True)`` on CPU.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from melo import checkpoint as ckpt
from melo.init.errors import InitError
from melo.init.layout import SPEAKER_TABLE, SYMBOL_TABLE, Network
from melo.init.melotts import melotts_row_names
from melo.init.rows import RowNames, table_row_names
from melo.model.legacy_names import current_generator_key
from melo.text.symbols import DEFAULT_TABLE, SymbolTable

__all__ = ["Source", "read_discriminators", "read_duration_discriminator", "read_generator", "resolve_file"]

logger = logging.getLogger(__name__)

Format = Literal["melo", "melotts"]
FOLDER_FILES = ("G_latest.pth", "checkpoint.pth")
"""What a folder given as a generator source is searched for, in this order."""
HUB_FILES = ("checkpoint.pth", "config.json")
"""What a MeloTTS voice's Hugging Face repo holds."""
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class Source:
    """One network's weights as read, in the source's own naming."""

    network: Network
    origin: str  # what the config named
    path: Path  # the file read
    format: Format
    state: dict[str, torch.Tensor]
    row_names: RowNames | None = None  # generator: the names of its embedding rows
    speakers_named: bool = True  # False: the source named no speakers; row_names.speakers are "0", "1", ...
    trained_config: dict[str, Any] | None = None  # ours: the resolved config it was trained with
    notes: list[str] = field(default_factory=list)  # what the report should say about the source itself

    @property
    def label(self) -> str:
        kind = "MeloTTS checkpoint" if self.format == "melotts" else "melo-bge-m3 checkpoint"
        where = self.origin if str(self.path) == self.origin else f"{self.origin} ({self.path})"
        return f"{where}, {kind}"


def read_generator(origin: str) -> Source:
    """The generator weights (and row names) that ``origin`` names."""
    path = resolve_file(origin, generator=True)
    payload = _load(path)
    if "generator" in payload:
        return _our_generator(origin, path, payload)
    state = _melotts_state(path, payload, origin)
    if not any(k.startswith(("enc_p.", "dec.")) for k in state):
        raise InitError(f"{path}: a MeloTTS checkpoint but not of a generator (it holds {_first_keys(state)}); "
                        f"train.init_from takes a generator, train.init_from_D / init_from_DUR the discriminators")
    config = _json_beside(path, "config.json")
    source = Source("generator", origin, path, "melotts", state, row_names=melotts_row_names(config))
    if config is None:
        source.notes.append(f"no config.json beside {path.name}: its speakers are named by id "
                            f"(train.init_speaker_map can pick one, e.g. {{\"myvoice\": \"0\"}})")
        _name_speakers_by_id(source)
    return source


def read_discriminators(origin: str, with_duration: bool) -> list[Source]:
    """The waveform discriminators (and, from one of our ``D_*.pth``, the duration discriminator) of ``origin``."""
    path = resolve_file(origin, generator=False)
    payload = _load(path)
    if "discriminators" in payload:
        parts = payload["discriminators"]
        sources = [Source("discriminators", origin, path, "melo", dict(parts["mpd"]))]
        if with_duration and "duration" in parts:
            sources.append(Source("duration_discriminator", origin, path, "melo", dict(parts["duration"])))
        elif with_duration:
            logger.warning("%s holds no duration discriminator: it starts fresh", path)
        return sources
    state = _melotts_state(path, payload, origin)
    if not any(k.startswith("discriminators.") for k in state):
        raise InitError(f"{path}: not a discriminator checkpoint (it holds {_first_keys(state)}); train.init_from_D "
                        f"takes our D_*.pth or MeloTTS's D_*.pth")
    return [Source("discriminators", origin, path, "melotts", state)]


def read_duration_discriminator(origin: str) -> Source:
    """MeloTTS's duration discriminator (``DUR_*.pth``)."""
    path = resolve_file(origin, generator=False)
    payload = _load(path)
    state = _melotts_state(path, payload, origin)
    if not any(k.startswith(("conv_1.", "dur_proj.")) for k in state):
        raise InitError(f"{path}: not a MeloTTS duration discriminator (it holds {_first_keys(state)}); "
                        f"train.init_from_DUR takes MeloTTS's DUR_*.pth")
    return Source("duration_discriminator", origin, path, "melotts", state)


def resolve_file(origin: str, generator: bool) -> Path:
    """The file ``origin`` names: itself, the checkpoint in a folder, or (generators) a hub repo's checkpoint."""
    path = Path(origin).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        for name in FOLDER_FILES if generator else ():
            if (path / name).is_file():
                return path / name
        wanted = " or ".join(FOLDER_FILES) if generator else "a file (D_<step>.pth or DUR_<step>.pth)"
        raise InitError(f"{origin}: a folder; expected {wanted}")
    if generator and _HUB_ID.match(origin) and not origin.endswith((".pth", ".pt")):
        return _hub_checkpoint(origin)
    raise InitError(f"{origin}: no such checkpoint file (relative to {Path.cwd()})"
                    + ("; a Hugging Face repo id looks like myshell-ai/MeloTTS-Korean" if generator else ""))


# -- our checkpoints -------------------------------------------------------------------------------

def _our_generator(origin: str, path: Path, payload: dict[str, Any]) -> Source:
    source = Source("generator", origin, path, "melo", dict(payload["generator"]))
    config = payload.get("config") or _json_beside(path, "config.json")
    symbols = payload.get("symbols") or _json_beside(path, "symbols.json")
    spk2id = payload.get("spk2id") or ((config or {}).get("data") or {}).get("spk2id")
    if symbols is None:
        rows = source.state.get(SYMBOL_TABLE)
        n = rows.shape[0] if rows is not None else DEFAULT_TABLE.n_symbols
        table = SymbolTable(DEFAULT_TABLE.symbols[:n], DEFAULT_TABLE.languages, dict(DEFAULT_TABLE.num_tones))
        source.notes.append(f"no symbol table in or beside {path.name}: read as the first {n} symbols of ours "
                            f"(the table is append-only)")
    else:
        try:
            table = SymbolTable.from_dict(symbols)
        except (KeyError, TypeError, ValueError) as e:
            raise InitError(f"{path}: its symbol table is unreadable ({e})") from None
    source.row_names = table_row_names(table, spk2id or {})
    if not spk2id:
        source.notes.append(f"no spk2id in or beside {path.name}: its speakers are named by id")
        _name_speakers_by_id(source)
    source.trained_config = config
    return source


# -- MeloTTS's checkpoints ---------------------------------------------------------------------------

def _melotts_state(path: Path, payload: dict[str, Any], origin: str) -> dict[str, torch.Tensor]:
    state = payload.get("model")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InitError(f"{path}: not a checkpoint this project reads (top-level keys: {_first_keys(payload)}); "
                        f"expected ours (G_*.pth / G_latest.pth / D_*.pth) or MeloTTS's ({{'model': state_dict}})")
    if not state:
        raise InitError(f"{path}: its 'model' holds no tensors")
    return dict(state)


def _hub_checkpoint(repo_id: str) -> Path:
    """``checkpoint.pth`` of a MeloTTS voice's repo (with ``config.json`` beside it), cached or downloaded."""
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache

    from melo.features.loading import hub_offline

    found: dict[str, Path] = {}
    for filename in HUB_FILES:
        try:
            cached = try_to_load_from_cache(repo_id=repo_id, filename=filename)
        except Exception as e:  # an invalid repo id
            raise InitError(f"{repo_id!r} is neither a checkpoint file nor a valid Hugging Face repo id ({e}). "
                            + _how_to_provide(repo_id)) from e
        if isinstance(cached, str):
            found[filename] = Path(cached)
            continue
        if hub_offline():
            raise InitError(
                f"{repo_id!r} is not a local file (none relative to {Path.cwd()}) and its {filename} is not in the "
                f"Hugging Face cache ({constants.HF_HUB_CACHE}), and HF_HUB_OFFLINE is set, so it cannot be "
                f"downloaded. " + _how_to_provide(repo_id))
        logger.info("downloading %s from the Hugging Face repo %s", filename, repo_id)
        try:
            found[filename] = Path(hf_hub_download(repo_id=repo_id, filename=filename))
        except Exception as e:  # network, authentication, missing file: all end the run the same way
            raise InitError(f"cannot download {filename} of {repo_id!r}: {e}. " + _how_to_provide(repo_id)) from e
    if found["config.json"].parent != found["checkpoint.pth"].parent:
        raise InitError(f"{repo_id!r}: checkpoint.pth and config.json come from different cached revisions "
                        f"({found['checkpoint.pth'].parent.name}, {found['config.json'].parent.name}); download "
                        f"the repo again")
    return found["checkpoint.pth"]


def _how_to_provide(repo_id: str) -> str:
    return (f"To provide {repo_id!r}: (1) name a local checkpoint.pth instead (train.init_from, or --from of "
            f"python -m melo.finetune; its config.json beside it names the speakers); or (2) on a machine with network run `huggingface-cli download {repo_id}` and "
            "copy its Hugging Face cache (HF_HOME, default ~/.cache/huggingface) here; or (3) allow downloads by "
            "unsetting HF_HUB_OFFLINE.")


# -- helpers ----------------------------------------------------------------------------------------

def _load(path: Path) -> dict[str, Any]:
    try:
        return ckpt.load_checkpoint_file(path)
    except ckpt.CheckpointError as e:
        raise InitError(str(e)) from None


def _json_beside(path: Path, name: str) -> dict[str, Any] | None:
    other = path.parent / name
    if not other.is_file():
        return None
    try:
        value = json.loads(other.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InitError(f"{other}: unreadable ({e})") from None
    if not isinstance(value, dict):
        raise InitError(f"{other}: expected a JSON object")
    return value


def _name_speakers_by_id(source: Source) -> None:
    assert source.row_names is not None
    table = next((v for k, v in source.state.items() if current_generator_key(k) == SPEAKER_TABLE), None)
    speakers = {str(i): i for i in range(table.shape[0])} if table is not None else {}
    names = source.row_names
    source.row_names = RowNames(symbols=names.symbols, tones=names.tones, languages=names.languages, speakers=speakers)
    source.speakers_named = False


def _first_keys(d: dict[str, Any], limit: int = 6) -> str:
    keys = list(d)
    return ", ".join(map(str, keys[:limit])) + (f", ... ({len(keys)} keys)" if len(keys) > limit else "")
