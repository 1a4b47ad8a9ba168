"""onnxruntime sessions for the exported graphs: one place that imports onnxruntime and sets its threads."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

__all__ = ["INSTALL_HINT", "open_session"]

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install -r requirements-export.txt  (or: pip install 'melo-bge-m3[export]')"


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise ImportError(f"the ONNX runtime needs onnxruntime, which is not installed: {INSTALL_HINT}") from None
    return onnxruntime


def open_session(path: str | Path, threads: int | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on the CPU for ``path``; ``threads`` caps its intra-op threads
    (None: onnxruntime's default, one per physical core). Errors name the file."""
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: the exported graphs trigger harmless shape-merge warnings
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own (Fail, InvalidGraph, NoSuchFile, ...) classes
        raise RuntimeError(f"{path}: onnxruntime cannot load this graph ({error})") from None
