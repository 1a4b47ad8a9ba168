"""The packages depend on each other one way (docs/architecture.md): read every import in melo/ and check it."""

from __future__ import annotations

import ast
from pathlib import Path

MELO = Path(__file__).resolve().parents[1] / "melo"

LAYERS = [
    {"files", "precision", "path_kind"}, {"config"}, {"audio"}, {"text"}, {"synthesis_input", "synthesis_args"}, {"features"}, {"onnx"},
    {"data"}, {"model"}, {"runtime"}, {"checksum", "checkpoint"}, {"init"}, {"api"},
    {"monitor", "distributed", "testing"}, {"eval"}, {"train"}, {"finetune", "preprocess", "infer", "serve", "demo", "export"},
]
"""Lowest first: a package may import those in its own or an earlier layer only."""

ALLOWED_UPWARD = {("features", "runtime"), ("synthesis_args", "serve")}
"""bge-m3's checked traces use melo.runtime.tracing; importing melo.runtime is cheap and pulls in no model. A
synthesised file is written in the formats the server sends (melo.serve.audio_formats: numpy and soundfile only,
no server)."""


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "melo" and len(parts) > 1 else None


def _imports(path: Path) -> set[str]:
    """The melo packages ``path`` imports (at module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(p for p in map(_package, names) if p is not None)
    return found


def _layer(package: str) -> int:
    for i, layer in enumerate(LAYERS):
        if package in layer:
            return i
    raise AssertionError(f"melo.{package} is in no layer of tests/test_layering.py: add it (and to docs/architecture.md)")


def test_every_import_points_down_the_layers():
    wrong = []
    for path in sorted(MELO.rglob("*.py")):
        relative = path.relative_to(MELO)
        if len(relative.parts) == 1 and relative.name == "__init__.py":
            continue
        own = relative.parts[0].removesuffix(".py")
        for imported in _imports(path) - {own}:
            if _layer(imported) > _layer(own) and (own, imported) not in ALLOWED_UPWARD:
                wrong.append(f"{relative} imports melo.{imported}")
    assert wrong == []


def test_the_reference_model_does_not_import_the_runtime():
    assert [p.name for p in sorted((MELO / "model").rglob("*.py")) if "runtime" in _imports(p)] == []
