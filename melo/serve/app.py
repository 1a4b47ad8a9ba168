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

This module holds the routes; the request body and its checks are in :mod:`melo.serve.speech_request`, waiting
for audio and streaming it in :mod:`melo.serve.streaming`, the error answers in :mod:`melo.serve.error_handlers`
and the ASGI middleware in :mod:`melo.serve.middleware`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse

from melo.serve.audio_formats import FORMATS, STREAM_FORMATS, StreamEncoder, encode_whole
from melo.serve.error_handlers import add_error_handlers
from melo.serve.errors import ApiError, not_ready_error
from melo.serve.metrics import ServeMetrics
from melo.serve.middleware import CountRequests, LimitBody, RequireKey, StopCutStreams
from melo.serve.scheduler import NotReady, ServerBusy, SynthesisScheduler
from melo.serve.settings import ServeSettings
from melo.serve.speech_request import MAX_SPEED, MIN_SPEED, RequestChecks, SpeechBody
from melo.serve.streaming import ClientGone, next_audio, speech_error, stream_audio, wait_for_disconnect

__all__ = ["MAX_SPEED", "MIN_SPEED", "SpeechBody", "create_app"]

logger = logging.getLogger(__name__)

ROUTES = ("/", "/health", "/metrics", "/v1/voices", "/v1/models", "/v1/audio/speech")


def create_app(tts: Any, settings: ServeSettings, *, warm: bool = True) -> FastAPI:
    """The server for a loaded ``melo.api.TTS`` or ``melo.onnx.OnnxTTS`` (or anything with their public API). The model is warmed up in
    the background when the app starts (``warm=False``: the caller already did; /health is then ready at
    once); ``/health`` says 503 until then."""
    metrics = ServeMetrics()
    scheduler = SynthesisScheduler(_AlreadyWarm(tts) if not warm else tts, concurrency=settings.concurrency,
                                   queue_size=settings.queue_size, metrics=metrics)
    check = RequestChecks(tts, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler.start()
        yield
        await asyncio.to_thread(scheduler.stop)

    app = FastAPI(title="melo-bge-m3 speech server", version="1", lifespan=lifespan)
    add_error_handlers(app, metrics, ROUTES)
    app.add_middleware(StopCutStreams)
    app.add_middleware(LimitBody, limit=settings.max_body_bytes, metrics=metrics)
    if settings.api_keys:
        app.add_middleware(RequireKey, keys=settings.api_keys, metrics=metrics)
    app.add_middleware(CountRequests, metrics=metrics, routes=ROUTES)

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
            raise not_ready_error(e) from None
        headers = {"X-Sample-Rate": str(tts.sample_rate), "Cache-Control": "no-store"}
        disconnected = asyncio.ensure_future(wait_for_disconnect(request))
        try:
            first = await next_audio(job, deadline, disconnected)
            assert first is not None  # TTS.stream yields at least one sentence or raises
            if not body.stream:
                chunks = [first]
                while (chunk := await next_audio(job, deadline, disconnected)) is not None:
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
            raise speech_error(e, settings) from None
        except BaseException:  # cancelled: the server is stopping
            job.cancel()
            raise
        finally:
            disconnected.cancel()
        encoder = StreamEncoder(fmt, tts.sample_rate)
        return StreamingResponse(stream_audio(job, first, encoder, deadline, metrics, settings),
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



@functools.cache
def _page_html() -> str:
    return resources.files("melo.serve").joinpath("page.html").read_text(encoding="utf-8")

