"""Server settings: limits, keys and where to listen, resolved once from the command line and the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

__all__ = ["API_KEY_ENV", "ServeSettings", "is_loopback", "keys_from_env"]

API_KEY_ENV = "MELO_SERVE_API_KEY"
"""Environment variable with the accepted API key (several: comma-separated)."""


@dataclass(frozen=True)
class ServeSettings:
    """How the server listens and what it accepts. Every limit is checked when the server starts."""

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    """Accepted ``Authorization: Bearer`` keys; empty: no key needed."""
    concurrency: int = 1
    """Requests synthesised at once. They share the one model sentence by sentence (round robin), so a new
    request's first sentence waits for at most one sentence of each other request, not for whole requests."""
    queue_size: int = 8
    """Requests that may wait for a synthesis slot; one more is answered 429 with Retry-After."""
    max_chars: int = 4096
    """Longest ``input`` accepted (OpenAI's limit); longer is answered 413."""
    timeout_seconds: float = 60.0
    """Per request, from arrival to the last byte of audio (queue wait included); past it: 504, or a cut stream."""
    model_name: str = "melo-bge-m3"
    """What ``GET /v1/models`` reports; the ``model`` field of a request may be anything."""

    def __post_init__(self) -> None:
        checks = {
            "port": 0 <= self.port <= 65535,
            "concurrency": self.concurrency >= 1,
            "queue_size": self.queue_size >= 0,
            "max_chars": self.max_chars >= 1,
            "timeout_seconds": self.timeout_seconds > 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"{name} is out of range: {getattr(self, name)!r}")
        if any(not key or key != key.strip() for key in self.api_keys):
            raise ValueError("an API key is empty or has surrounding whitespace")

    @property
    def max_body_bytes(self) -> int:
        """The largest request body read: ``max_chars`` characters JSON-escaped (up to 12 bytes each as a
        ``\\uXXXX`` surrogate pair) plus room for the other fields."""
        return self.max_chars * 12 + 16384


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); ``0.0.0.0`` and names are not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def keys_from_env(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    raw = (os.environ if environ is None else environ).get(API_KEY_ENV, "")
    return tuple(key.strip() for key in raw.split(",") if key.strip())
