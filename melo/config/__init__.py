"""Typed, validated configuration.

A config file is JSON with three sections, named as in MeloTTS so existing configs read the same:
``train`` (optimisation and loop), ``data`` (files, audio and text features) and ``model`` (shapes).
Every field is declared here with its type, default and meaning; unknown keys are errors with a
suggestion, wrong types are errors naming the key. ``//`` line comments are allowed in the file
(the user guide shows them), although plain JSON is what we write back.

The resolved config (with ``data.spk2id`` filled in) is stored inside every checkpoint, so a
checkpoint alone is enough to synthesise from.

This module holds the whole :class:`Config` (the checks across sections, JSON in and out) and
:func:`load_config`; each section is a module of its own (``train_section``, ``data_section``,
``model_section``), and ``typed_json`` turns JSON into them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from melo.config.data_section import DataConfig
from melo.config.errors import ConfigError, check
from melo.config.model_section import ModelConfig
from melo.config.train_section import BEST_METRICS, EVAL_METRIC_GROUPS, GeneratorGroup, TrainConfig
from melo.config.typed_json import build, parse_json_with_comments, to_jsonable

__all__ = [
    "BEST_METRICS",
    "EVAL_METRIC_GROUPS",
    "Config",
    "ConfigError",
    "DataConfig",
    "GeneratorGroup",
    "ModelConfig",
    "TrainConfig",
    "load_config",
]


@dataclass(frozen=True)
class Config:
    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        upsample = 1
        for r in self.model.upsample_rates:
            upsample *= r
        check(
            upsample == self.data.hop_length,
            "model.upsample_rates",
            f"multiply to {upsample} but data.hop_length is {self.data.hop_length}; they must be equal",
        )
        check(
            self.train.segment_size % self.data.hop_length == 0,
            "train.segment_size",
            f"must be a multiple of data.hop_length ({self.data.hop_length})",
        )
        budget, d = self.train.max_frames_per_batch, self.data
        longest = int(d.max_audio_seconds * d.sampling_rate) // d.hop_length
        check(
            budget is None or budget >= longest,
            "train.max_frames_per_batch",
            f"is {budget} frames, less than the longest clip data.max_audio_seconds allows ({d.max_audio_seconds:g} s "
            f"= {longest} frames); lower data.max_audio_seconds to at most "
            f"{(budget or 0) * d.hop_length / d.sampling_rate:.2f} s or raise the budget",
        )

    # -- conversion -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        from melo.files import write_bytes_atomic

        write_bytes_atomic(path, (self.to_json() + "\n").encode("utf-8"))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "<config>") -> "Config":
        return build(cls, raw, "", source)

    def replace(self, **sections: dict[str, Any]) -> "Config":
        """A copy with fields replaced per section: ``cfg.replace(data={"spk2id": {...}})``."""
        raw = self.to_dict()
        for name, updates in sections.items():
            if name not in raw:
                raise ConfigError(f"unknown config section {name!r}; known: {', '.join(raw)}")
            raw[name].update(updates)
        return Config.from_dict(raw)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Errors name the file and the key."""
    from melo.path_kind import NOT_FOUND, not_a_file

    path = Path(path)
    kind = not_a_file(path)
    if kind not in (None, NOT_FOUND):  # a directory, or a FIFO that would block the read
        raise ConfigError(f"{path}: cannot read the config: it {kind}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text ({e})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file ({e.strerror or e})") from None
    raw = parse_json_with_comments(text, str(path))
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be an object with train/data/model sections")
    return build(Config, raw, "", str(path))
