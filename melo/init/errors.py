"""The one error of initialisation: a source that cannot be read, does not fit, or gives too little."""

from __future__ import annotations

__all__ = ["InitError"]


class InitError(RuntimeError):
    """Initialisation cannot go ahead; the message names the source and the reason (the trainer exits with it)."""
