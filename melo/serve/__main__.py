"""``python -m melo.serve``: load a checkpoint, warm it up in the background, serve it over HTTP."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any
from pathlib import Path

from melo.serve.settings import API_KEY_ENV, ServeSettings, is_loopback, keys_from_env

logger = logging.getLogger("melo.serve")

INSTALL_HINT = "pip install -r requirements-serve.txt   (or: pip install '.[serve]')"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    from melo.api import PRECISIONS

    defaults = ServeSettings()
    p = argparse.ArgumentParser(prog="python -m melo.serve",
                                description="Serve a trained melo-bge-m3 checkpoint over HTTP (OpenAI-compatible).")
    p.add_argument("--model", required=True,
                   help="generator checkpoint, e.g. checkpoints/NAME/G_latest.pth, or a folder written by "
                        "python -m melo.export (served with onnxruntime, CPU)")
    p.add_argument("--config", help="config file (optional: G_latest.pth carries its own)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    p.add_argument("--precision", default="auto", choices=PRECISIONS, help="as for python -m melo.infer (default auto)")
    p.add_argument("--host", default=defaults.host, help=f"address to listen on (default {defaults.host})")
    p.add_argument("--port", type=int, default=defaults.port, help=f"port (default {defaults.port})")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY",
                   help=f"require 'Authorization: Bearer KEY' (repeat for several keys; or set {API_KEY_ENV}, "
                        "comma-separated). Default: no key")
    p.add_argument("--concurrency", type=int, default=defaults.concurrency,
                   help="requests synthesised at once, sharing the model sentence by sentence "
                        f"(default {defaults.concurrency})")
    p.add_argument("--queue-size", type=int, default=defaults.queue_size,
                   help=f"requests that may wait beyond those; more are answered 429 (default {defaults.queue_size})")
    p.add_argument("--max-chars", type=int, default=defaults.max_chars,
                   help=f"longest input in characters; longer is answered 413 (default {defaults.max_chars})")
    p.add_argument("--timeout", type=float, default=defaults.timeout_seconds,
                   help=f"seconds per request, queue wait included (default {defaults.timeout_seconds:g})")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> ServeSettings:
    """``--api-key`` wins over the environment variable."""
    keys = tuple(args.api_key) or keys_from_env(environ)
    name = Path(args.model).parent.name or Path(args.model).stem
    return ServeSettings(host=args.host, port=args.port, api_keys=keys, concurrency=args.concurrency,
                         queue_size=args.queue_size, max_chars=args.max_chars, timeout_seconds=args.timeout,
                         model_name=name)


def exposure_warning(settings: ServeSettings) -> str | None:
    """What to tell the operator who listens beyond this machine without a key."""
    if is_loopback(settings.host) or settings.api_keys:
        return None
    return (f"warning: listening on {settings.host}, beyond this machine, without an API key: anyone who reaches "
            f"port {settings.port} can use the model. Pass --api-key KEY or set {API_KEY_ENV}.")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = settings_from_args(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as e:
        print(f"error: the server needs the 'serve' extra ({e.name} is missing): {INSTALL_HINT}", file=sys.stderr)
        return 2
    warning = exposure_warning(settings)
    if warning:
        print(warning, file=sys.stderr)
    from melo.serve.app import create_app

    try:
        tts = _load(args)
    except (ValueError, FileNotFoundError, RuntimeError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    app = create_app(tts, settings)
    logger.info("serving %s on http://%s:%d (warming up; GET /health says when ready)", args.model,
                settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level, timeout_graceful_shutdown=10)
    return 0


def _load(args: argparse.Namespace) -> Any:
    """``melo.onnx.OnnxTTS`` for a folder written by ``python -m melo.export``, else ``melo.api.TTS``."""
    from melo.onnx.manifest import MANIFEST_NAME

    folder = Path(args.model)
    if folder.is_dir() and (folder / MANIFEST_NAME).is_file():
        from melo.onnx import OnnxTTS

        if args.config or args.device not in ("auto", "cpu"):
            raise ValueError(f"{folder} is an ONNX export: it carries its own config and runs on CPU "
                             "(drop --config and --device)")
        return OnnxTTS(folder, precision=args.precision)
    from melo.api import TTS

    return TTS(args.model, config_path=args.config, device=args.device, precision=args.precision)


if __name__ == "__main__":
    sys.exit(main())
