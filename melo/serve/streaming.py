"""Waiting for a speech job's audio: the next chunk (within the request's deadline, unless the client leaves),
the body of a streamed answer, and the answer for an error raised while waiting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from fastapi import Request

from melo.serve.audio_formats import StreamEncoder
from melo.serve.errors import ApiError, internal_error, new_error_id, not_ready_error
from melo.serve.metrics import ServeMetrics
from melo.serve.scheduler import InternalFault, NotReady, SpeechJob
from melo.serve.settings import ServeSettings

__all__ = ["ClientGone", "RequestTimedOut", "StreamCut", "next_audio", "speech_error", "stream_audio",
           "wait_for_disconnect"]

logger = logging.getLogger(__name__)


class ClientGone(Exception):
    """The client closed the connection before its answer was ready."""


class RequestTimedOut(Exception):
    pass


class StreamCut(Exception):
    """A stream that started cannot finish (timeout, fault); the connection is closed without its last chunk."""



async def wait_for_disconnect(request: Request) -> None:
    """Returns when the client closes the connection (the body has been read, so nothing else arrives)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def next_audio(job: SpeechJob, deadline: float, disconnected: asyncio.Future[None] | None) -> np.ndarray | None:
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


async def stream_audio(job: SpeechJob, first: np.ndarray, encoder: StreamEncoder, deadline: float,
                        metrics: ServeMetrics, settings: ServeSettings) -> AsyncIterator[bytes]:
    """The body of a streamed answer. A client that leaves cancels this generator at its ``await``; the
    ``finally`` then stops the job before its next sentence."""
    try:
        yield encoder.encode(first)
        while (chunk := await next_audio(job, deadline, None)) is not None:
            yield encoder.encode(chunk)
    except asyncio.CancelledError:
        metrics.errors.inc(reason="client_disconnected")
        logger.info("client left mid-stream; synthesis stopped after %d sentence(s)", job.sentences)
        raise
    except Exception as e:
        error = speech_error(e, settings)
        metrics.errors.inc(reason=error.reason)
        raise StreamCut(f"stream cut after {job.sentences} sentence(s): {error.message}") from None
    finally:
        job.cancel()


def speech_error(e: Exception, settings: ServeSettings) -> ApiError:
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
        return not_ready_error(e)
    if isinstance(e, InternalFault):
        return internal_error(e.error_id)
    error_id = new_error_id()
    logger.error("internal error %s while answering a speech request", error_id, exc_info=e)
    return internal_error(error_id)

