"""The HTTP API around the scheduler: routes, request checks, keys, errors and metrics.

    app = create_app(tts, ServeSettings(...))      # any ASGI server runs it; python -m melo.serve uses uvicorn

Routes: ``POST /v1/audio/speech`` (OpenAI's request body, plus ``stream`` and ``language``), ``GET /v1/voices``,
``GET /v1/models``, ``GET /health``, ``GET /metrics`` and the web page at ``/``. With API keys set, every
``/v1/`` route and ``/metrics`` need ``Authorization: Bearer <key>``; ``/health``, ``/docs`` and the page do
not (the page asks for the key and sends it).

A speech request is checked completely before it takes a queue place. Its response starts once its first
sentence exists: a bad text found only by the model (nothing pronounceable) is still a 400, and a streamed
response's first bytes carry the first sentence's audio. After that, a stream cannot change its status: a
timeout or a fault cuts the connection (the client sees an incomplete chunked body), and the log says why.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from melo.serve.audio_formats import FORMATS, STREAM_FORMATS, StreamEncoder, encode_whole, refusal
from melo.serve.errors import ApiError, error_body, new_error_id
from melo.serve.metrics import ServeMetrics
from melo.serve.scheduler import InternalFault, NotReady, ServerBusy, SpeechInput, SpeechJob, SynthesisScheduler
from melo.serve.settings import ServeSettings

__all__ = ["MAX_SPEED", "MIN_SPEED", "SpeechBody", "create_app"]

logger = logging.getLogger(__name__)

MIN_SPEED, MAX_SPEED = 0.25, 4.0  # OpenAI's range
ROUTES = ("/", "/health", "/metrics", "/v1/voices", "/v1/models", "/v1/audio/speech")
_Scope = dict[str, Any]
_Receive = Callable[[], Awaitable[dict[str, Any]]]
_Send = Callable[[dict[str, Any]], Awaitable[None]]


class SpeechBody(BaseModel):
    """``POST /v1/audio/speech``: OpenAI's fields (``instructions`` is accepted and not used) plus ``stream``
    (per-sentence chunks, wav or pcm) and ``language`` (breaks ties, as in ``TTS.stream``). Unknown fields are
    errors, so a misspelt one is not silently ignored, and types are strict (``"stream": "yes"`` is an error)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str | None = None
    input: str
    voice: int | str | None = None
    instructions: str | None = None
    response_format: str = "mp3"
    speed: float = 1.0
    stream_format: str | None = None
    stream: bool = False
    language: str | None = None


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


class RequestTimedOut(Exception):
    pass


class StreamCut(Exception):
    """A stream that started cannot finish (timeout, fault); the connection is closed without its last chunk."""


def create_app(tts: Any, settings: ServeSettings, *, warm: bool = True) -> FastAPI:
    """The server for a loaded ``melo.api.TTS`` or ``melo.onnx.OnnxTTS`` (or anything with their public API). The model is warmed up in
    the background when the app starts (``warm=False``: the caller already did; /health is then ready at
    once); ``/health`` says 503 until then."""
    metrics = ServeMetrics()
    scheduler = SynthesisScheduler(_AlreadyWarm(tts) if not warm else tts, concurrency=settings.concurrency,
                                   queue_size=settings.queue_size, metrics=metrics)
    check = _RequestChecks(tts, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        yield
        await asyncio.to_thread(scheduler.stop)

    app = FastAPI(title="melo-bge-m3 speech server", version="1", lifespan=lifespan)
    _add_error_handlers(app, metrics)
    app.add_middleware(_StopCutStreams)
    app.add_middleware(_LimitBody, limit=settings.max_body_bytes, metrics=metrics)
    if settings.api_keys:
        app.add_middleware(_RequireKey, keys=settings.api_keys, metrics=metrics)
    app.add_middleware(_CountRequests, metrics=metrics)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(_page_html(), headers={"Cache-Control": "no-store"})

    @app.get("/health")
    async def health() -> JSONResponse:
        body = {"status": "ok" if scheduler.state == "ready" else scheduler.state,
                "queue_depth": scheduler.queue_depth(), "active": scheduler.active_count}
        return JSONResponse(body, status_code=200 if scheduler.state == "ready" else 503)

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics_text() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/v1/voices")
    async def voices() -> dict[str, Any]:
        return {
            "voices": [{"id": i, "name": name} for name, i in sorted(tts.speakers.items(), key=lambda kv: kv[1])],
            "default_voice": check.default_voice,
            "languages": list(tts.languages),
            "sample_rate": tts.sample_rate,
            "formats": list(FORMATS),
            "stream_formats": list(STREAM_FORMATS),
            "max_chars": settings.max_chars,
            "speed": {"min": MIN_SPEED, "max": MAX_SPEED},
        }

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": settings.model_name, "object": "model", "owned_by": "melo-bge-m3"}]}

    @app.post("/v1/audio/speech")
    async def speech(body: SpeechBody, request: Request) -> Response:
        spec, fmt = check(body)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + settings.timeout_seconds
        try:
            job = scheduler.submit(spec, loop)
        except ServerBusy as e:
            raise ApiError(429, f"{e} (at most {settings.concurrency} request(s) synthesising and "
                           f"{settings.queue_size} waiting)", code="queue_full",
                           headers={"Retry-After": str(e.retry_after)}, reason="queue_full") from None
        except NotReady as e:
            raise _not_ready(e) from None
        headers = {"X-Sample-Rate": str(tts.sample_rate), "Cache-Control": "no-store"}
        disconnected = asyncio.ensure_future(_wait_for_disconnect(request))
        try:
            first = await _next_audio(job, deadline, disconnected)
            assert first is not None  # TTS.stream yields at least one sentence or raises
            if not body.stream:
                chunks = [first]
                while (chunk := await _next_audio(job, deadline, disconnected)) is not None:
                    chunks.append(chunk)
                data = await asyncio.to_thread(encode_whole, np.concatenate(chunks), tts.sample_rate, fmt)
                return Response(data, media_type=FORMATS[fmt].media_type, headers=headers)
        except ClientGone:
            metrics.errors.inc(reason="client_disconnected")
            logger.info("client left before its answer was ready; synthesis stopped after %d sentence(s)",
                        job.sentences)
            return Response(status_code=499)  # nginx's "client closed request": nobody reads it, metrics do
        except Exception as e:
            job.cancel()
            raise _speech_error(e, settings) from None
        except BaseException:  # cancelled: the server is stopping
            job.cancel()
            raise
        finally:
            disconnected.cancel()
        encoder = StreamEncoder(fmt, tts.sample_rate)
        return StreamingResponse(_stream_audio(job, first, encoder, deadline, metrics, settings),
                                 media_type=FORMATS[fmt].media_type, headers=headers)

    return app


class _AlreadyWarm:
    """A TTS whose warm-up the caller has done: the scheduler's warm-up is then a no-op."""

    def __init__(self, tts: Any) -> None:
        self._tts = tts

    def warmup(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tts, name)


class _RequestChecks:
    """Turns a :class:`SpeechBody` into a :class:`SpeechInput` and a format, or raises a 4xx ApiError that
    says what is allowed. Everything here is checked before the request takes a queue place."""

    def __init__(self, tts: Any, settings: ServeSettings) -> None:
        self.speakers: dict[str, int] = tts.speakers
        self.languages: tuple[str, ...] = tuple(tts.languages)
        self.settings = settings
        self.default_voice: int = min(self.speakers.values()) if self.speakers else 0

    def __call__(self, body: SpeechBody) -> tuple[SpeechInput, str]:
        fmt = body.response_format
        why = refusal(fmt, body.stream)
        if why is not None:
            raise ApiError(400, why, code="unsupported_response_format", param="response_format")
        if body.stream_format not in (None, "audio"):
            raise ApiError(400, f"stream_format {body.stream_format!r} is not supported: audio is sent as raw bytes "
                           "('audio'); for sentence-by-sentence chunks send stream=true",
                           code="unsupported_stream_format", param="stream_format")
        if not body.input.strip():
            raise ApiError(400, "input is empty; give at least one word to read", code="empty_input", param="input")
        if len(body.input) > self.settings.max_chars:
            raise ApiError(413, f"input is {len(body.input)} characters; the limit is {self.settings.max_chars} "
                           "(split the text into several requests)", code="input_too_long", param="input")
        if not (math.isfinite(body.speed) and MIN_SPEED <= body.speed <= MAX_SPEED):
            raise ApiError(400, f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {body.speed}",
                           code="invalid_speed", param="speed")
        language = None if body.language is None else body.language.upper()
        if language is not None and language not in self.languages:
            raise ApiError(400, f"unknown language {body.language!r}; use one of {', '.join(self.languages)}, or leave "
                           "it out to detect each stretch of text", code="unknown_language", param="language")
        return SpeechInput(body.input, self._voice(body.voice), body.speed, language), fmt

    def _voice(self, voice: int | str | None) -> int | str:
        if voice is None:
            return self.default_voice
        if isinstance(voice, str) and voice in self.speakers:
            return voice
        number = int(voice) if isinstance(voice, str) and voice.strip().isdigit() else voice
        if isinstance(number, int) and (number in self.speakers.values() if self.speakers else number >= 0):
            return number
        known = ", ".join(f"{name} ({i})" for name, i in sorted(self.speakers.items(), key=lambda kv: kv[1]))
        raise ApiError(400, f"unknown voice {voice!r}; known: {known or 'integer speaker ids'}", code="unknown_voice",
                       param="voice")


async def _wait_for_disconnect(request: Request) -> None:
    """Returns when the client closes the connection (the body has been read, so nothing else arrives)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _next_audio(job: SpeechJob, deadline: float, disconnected: asyncio.Future[None] | None) -> np.ndarray | None:
    """The job's next chunk (None at the end); raises ClientGone or RequestTimedOut (and cancels the job)."""
    loop = asyncio.get_running_loop()
    getter = asyncio.ensure_future(job.next_chunk())
    waiting: set[asyncio.Future[Any]] = {getter} if disconnected is None else {getter, disconnected}
    try:
        done, _ = await asyncio.wait(waiting, timeout=max(0.0, deadline - loop.time()),
                                     return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not getter.done():
            getter.cancel()
    if getter in done:
        return getter.result()
    job.cancel()
    if disconnected is not None and disconnected in done:
        raise ClientGone()
    raise RequestTimedOut()


async def _stream_audio(job: SpeechJob, first: np.ndarray, encoder: StreamEncoder, deadline: float,
                        metrics: ServeMetrics, settings: ServeSettings) -> AsyncIterator[bytes]:
    """The body of a streamed answer. A client that leaves cancels this generator at its ``await``; the
    ``finally`` then stops the job before its next sentence."""
    try:
        yield encoder.encode(first)
        while (chunk := await _next_audio(job, deadline, None)) is not None:
            yield encoder.encode(chunk)
    except asyncio.CancelledError:
        metrics.errors.inc(reason="client_disconnected")
        logger.info("client left mid-stream; synthesis stopped after %d sentence(s)", job.sentences)
        raise
    except Exception as e:
        error = _speech_error(e, settings)
        metrics.errors.inc(reason=error.reason)
        raise StreamCut(f"stream cut after {job.sentences} sentence(s): {error.message}") from None
    finally:
        job.cancel()


def _speech_error(e: Exception, settings: ServeSettings) -> ApiError:
    """The answer for an error raised while a speech request waits for its audio."""
    from melo.synthesis_input import SynthesisError  # raised by melo.api.TTS and melo.onnx.OnnxTTS alike

    if isinstance(e, ApiError):
        return e
    if isinstance(e, SynthesisError):
        return ApiError(400, str(e), code="invalid_input", param="input")
    if isinstance(e, RequestTimedOut):
        return ApiError(504, f"the request took longer than the server's limit of {settings.timeout_seconds:g} s "
                        "(queue wait included); send shorter text or retry later", code="timeout", reason="timeout")
    if isinstance(e, NotReady):
        return _not_ready(e)
    if isinstance(e, InternalFault):
        return _internal(e.error_id)
    error_id = new_error_id()
    logger.error("internal error %s while answering a speech request", error_id, exc_info=e)
    return _internal(error_id)


def _not_ready(e: Exception) -> ApiError:
    return ApiError(503, f"{e}; retry shortly (GET /health says when it is ready)", code="not_ready",
                    headers={"Retry-After": "5"}, reason="not_ready")


def _internal(error_id: str) -> ApiError:
    return ApiError(500, f"internal error {error_id}: the server log has the details under this id",
                    code="internal_error", reason="internal")


# -- errors as JSON -------------------------------------------------------------------------------


def _add_error_handlers(app: FastAPI, metrics: ServeMetrics) -> None:
    def answer(error: ApiError) -> JSONResponse:
        metrics.errors.inc(reason=error.reason)
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return answer(e)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, e: RequestValidationError) -> JSONResponse:
        return answer(_validation_error(e))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        if e.status_code == 404:
            message = f"no route {request.method} {request.url.path}; the routes are {', '.join(ROUTES)} (and /docs)"
        elif e.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(e.detail)
        return answer(ApiError(e.status_code, message, code=f"http_{e.status_code}", headers=dict(e.headers or {})))

    @app.exception_handler(Exception)
    async def internal(request: Request, e: Exception) -> JSONResponse:
        error_id = new_error_id()
        logger.error("internal error %s on %s %s", error_id, request.method, request.url.path, exc_info=e)
        return answer(_internal(error_id))


def _validation_error(e: RequestValidationError) -> ApiError:
    """pydantic's first complaint about the body, as one sentence naming the field."""
    first = e.errors()[0]
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    field = loc[0] if loc else None  # a union's errors name the member type after the field: not the client's concern
    kind = first.get("type", "")
    if kind == "json_invalid":
        return ApiError(400, f"the request body is not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})",
                        code="invalid_json")
    if kind == "missing" and field is None:
        return ApiError(400, "the request body is empty; send a JSON object with at least 'input'", code="empty_body")
    if kind == "missing":
        return ApiError(400, f"missing field {field!r}", code="missing_field", param=field)
    if kind == "extra_forbidden":
        known = ", ".join(SpeechBody.model_fields)
        return ApiError(400, f"unknown field {field!r}; known: {known}", code="unknown_field", param=field)
    if field == "voice":
        return ApiError(400, "voice must be a speaker name or an integer speaker id (GET /v1/voices lists them)",
                        code="invalid_field", param="voice")
    if kind == "model_attributes_type" or field is None:
        return ApiError(400, "the request body must be a JSON object", code="invalid_body")
    return ApiError(400, f"{field}: {first.get('msg', 'invalid value')}", code="invalid_field", param=field)


# -- ASGI middleware ------------------------------------------------------------------------------


class _CountRequests:
    """Counts every HTTP answer by route and status code (unknown paths are one ``other`` route)."""

    def __init__(self, app: Any, metrics: ServeMetrics) -> None:
        self.app, self.metrics = app, metrics

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
            route = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.requests.inc(route=route, code=str(status))


class _RequireKey:
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


class _LimitBody:
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


class _StopCutStreams:
    """A :class:`StreamCut` ends the app's call quietly: the server then closes the connection without the
    final chunk (what the client should see), and the log has our one-line reason instead of a traceback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        try:
            await self.app(scope, receive, send)
        except StreamCut as e:
            logger.warning("%s", e)


@functools.cache
def _page_html() -> str:
    return resources.files("melo.serve").joinpath("page.html").read_text(encoding="utf-8")

