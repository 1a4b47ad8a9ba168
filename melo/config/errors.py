"""The error every config mistake raises, and the one-line check the sections' validations are written with."""

from __future__ import annotations

__all__ = ["ConfigError", "check"]


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the key and the file."""



def check(ok: bool, key: str, message: str) -> None:
    """Raise :class:`ConfigError` ``"<key>: <message>"`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}: {message}")
