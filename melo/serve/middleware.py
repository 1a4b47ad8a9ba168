"""The app's ASGI middleware: request counting, API keys, the body-size limit, and quiet ends of cut streams."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse

from melo.serve.errors import ApiError, error_body
from melo.serve.metrics import ServeMetrics
from melo.serve.streaming import StreamCut

__all__ = ["CountRequests", "LimitBody", "RequireKey", "StopCutStreams"]

logger = logging.getLogger(__name__)

_Scope = dict[str, Any]
_Receive = Callable[[], Awaitable[dict[str, Any]]]
_Send = Callable[[dict[str, Any]], Awaitable[None]]


class CountRequests:
    """Counts every HTTP answer by route and status code (unknown paths are one ``other`` route)."""

    def __init__(self, app: Any, metrics: ServeMetrics, routes: tuple[str, ...]) -> None:
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500

        async def send_counting(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = scope["path"] if scope["path"] in self.routes else "other"
            self.metrics.requests.inc(route=route, code=str(status))


class RequireKey:
    """With API keys set: ``/v1/...`` and ``/metrics`` need ``Authorization: Bearer <key>``, checked before
    anything else (the body is not read for a client without a key)."""

    def __init__(self, app: Any, keys: tuple[str, ...], metrics: ServeMetrics) -> None:
        self.app, self.metrics = app, metrics
        self.keys = tuple(key.encode() for key in keys)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path.startswith("/v1/") or path == "/metrics"):
            return await self.app(scope, receive, send)
        scheme, _, token = dict(scope.get("headers") or []).get(b"authorization", b"").partition(b" ")
        # compare with every key, in constant time per key, so the answer's timing says nothing about them
        matches = [hmac.compare_digest(token.strip(), key) for key in self.keys]
        if scheme.lower() == b"bearer" and any(matches):
            return await self.app(scope, receive, send)
        self.metrics.errors.inc(reason="unauthorized")
        error = ApiError(401, "missing or wrong API key: send the header 'Authorization: Bearer <key>'",
                         code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"}, reason="unauthorized")
        await JSONResponse(error.body(), status_code=401, headers=error.headers)(scope, receive, send)


class LimitBody:
    """Reads at most ``limit`` bytes of a request body; a larger body is answered 413 without reading on."""

    def __init__(self, app: Any, limit: int, metrics: ServeMetrics) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(scope, receive, send)
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await self._too_large(scope, receive, send)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        self.metrics.errors.inc(reason="invalid_request")
        body = error_body(f"the request body is larger than {self.limit} bytes", "invalid_request_error",
                          "body_too_large")
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(scope, receive, send)


class StopCutStreams:
    """A :class:`StreamCut` ends the app's call quietly: the server then closes the connection without the
    final chunk (what the client should see), and the log has our one-line reason instead of a traceback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        try:
            await self.app(scope, receive, send)
        except StreamCut as e:
            logger.warning("%s", e)
