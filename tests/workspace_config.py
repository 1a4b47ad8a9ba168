"""Variants of a test workspace's ``tiny.json``: the same run with a few fields of some sections replaced."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def config_variant(workspace: Path, name: str, **sections: dict[str, Any]) -> Path:
    """Write ``workspace/NAME.json``: ``workspace/tiny.json`` with ``sections[section]``'s fields replaced in each
    named section (``train={"eval_interval": 1}``); returns its path."""
    raw = json.loads((workspace / "tiny.json").read_text(encoding="utf-8"))
    for section, fields in sections.items():
        raw[section].update(fields)
    path = workspace / f"{name}.json"
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return path
