"""The trainer's one error type: a run that cannot start or continue, said in one line (exit status 2)."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(RuntimeError):
    """Training cannot start or continue (bad arguments, missing/conflicting checkpoints, no data)."""
