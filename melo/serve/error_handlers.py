"""Every error the app raises, answered as OpenAI's JSON error body (and counted): our :class:`ApiError`, an
invalid body, an unknown route or method, and any fault (a 500 naming the error id the log holds)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from melo.serve.errors import ApiError, internal_error, new_error_id
from melo.serve.metrics import ServeMetrics
from melo.serve.speech_request import validation_error

__all__ = ["add_error_handlers"]

logger = logging.getLogger(__name__)


def add_error_handlers(app: FastAPI, metrics: ServeMetrics, routes: tuple[str, ...]) -> None:
    """Install the handlers on ``app``; a 404 lists ``routes``."""
    def answer(error: ApiError) -> JSONResponse:
        metrics.errors.inc(reason=error.reason)
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return answer(e)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, e: RequestValidationError) -> JSONResponse:
        return answer(validation_error(e))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        if e.status_code == 404:
            message = f"no route {request.method} {request.url.path}; the routes are {', '.join(routes)} (and /docs)"
        elif e.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(e.detail)
        return answer(ApiError(e.status_code, message, code=f"http_{e.status_code}", headers=dict(e.headers or {})))

    @app.exception_handler(Exception)
    async def internal(request: Request, e: Exception) -> JSONResponse:
        error_id = new_error_id()
        logger.error("internal error %s on %s %s", error_id, request.method, request.url.path, exc_info=e)
        return answer(internal_error(error_id))

