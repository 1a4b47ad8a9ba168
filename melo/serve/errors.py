"""Errors a client sees: OpenAI's JSON shape ``{"error": {"message", "type", "param", "code"}}``, never a traceback.

An :class:`ApiError` is a client's mistake or a limit (4xx, or 503/504) with a message that says what is
allowed. Anything else is a server fault: the client gets a 500 naming an error id, and the server log
holds the same id with the traceback (:func:`new_error_id`).
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["ApiError", "error_body", "internal_error", "new_error_id", "not_ready_error"]


class ApiError(Exception):
    """An answer other than 2xx. ``code`` is a stable machine-readable name; ``reason`` the metrics label."""

    def __init__(self, status: int, message: str, *, code: str, param: str | None = None,
                 headers: dict[str, str] | None = None, reason: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}
        self.reason = reason

    @property
    def type(self) -> str:
        if self.status == 401:
            return "authentication_error"
        if self.status == 429:
            return "rate_limit_error"
        return "invalid_request_error" if self.status < 500 else "server_error"

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.code, self.param)


def error_body(message: str, type_: str, code: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def new_error_id() -> str:
    return uuid.uuid4().hex[:12]


def not_ready_error(e: Exception) -> ApiError:
    """503 while the model warms up or the server stops."""
    return ApiError(503, f"{e}; retry shortly (GET /health says when it is ready)", code="not_ready",
                    headers={"Retry-After": "5"}, reason="not_ready")


def internal_error(error_id: str) -> ApiError:
    """500 naming the id under which the server log holds the traceback."""
    return ApiError(500, f"internal error {error_id}: the server log has the details under this id",
                    code="internal_error", reason="internal")
