"""An HTTP speech server for a trained checkpoint: OpenAI-compatible, streaming, bounded under load.

    python -m melo.serve --model checkpoints/NAME/G_latest.pth [--host 127.0.0.1] [--port 8000]

Why FastAPI + uvicorn (the ``serve`` extra: ``pip install -r requirements-serve.txt``): the server is a
thin JSON API in front of one model thread, and needs an ASGI server that streams chunked responses and
tells the app when a client leaves (uvicorn sends ``http.disconnect``; Starlette's streaming response
cancels the body iterator on it, which is how a stream stops its synthesis). FastAPI adds typed request
bodies (pydantic, which the OpenAI request shape maps onto directly) on top of Starlette. Both are widely
used and actively kept; nothing heavier (a worker pool, a message broker) fits one model that runs one
synthesis at a time.

Layout: ``settings`` (limits, keys, loopback check), ``scheduler`` (bounded queue, one model thread,
sentence-by-sentence round robin, cancellation), ``audio_formats`` (what is encoded and streamed),
``metrics`` (Prometheus text), ``errors`` (JSON errors), ``app`` (routes), ``page.html`` (the web page),
``__main__`` (the command).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ServeSettings", "create_app"]


def __getattr__(name: str) -> Any:  # lazy: importing melo.serve needs neither FastAPI nor torch
    if name == "create_app":
        from melo.serve.app import create_app

        return create_app
    if name == "ServeSettings":
        from melo.serve.settings import ServeSettings

        return ServeSettings
    raise AttributeError(f"module 'melo.serve' has no attribute {name!r}")
