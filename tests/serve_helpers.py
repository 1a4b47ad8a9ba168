"""Helpers for the server tests: a tiny checkpoint, a server in a thread, plain HTTP on 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SPEAKERS = {"alice": 0, "bruno": 1}
HOST = "127.0.0.1"


def build_tiny_checkpoint(out_dir: Path, encoder_dir: Path) -> Path:
    """``G_latest.pth`` of configs/tiny.json with random weights (seed 0) and two speakers, in the format a
    training run writes; its encoder is the tiny stand-in. Its audio is noise: these tests check plumbing."""
    import torch

    from melo.checkpoint import save_latest
    from melo.config import load_config
    from melo.model import build_generator
    from melo.text import DEFAULT_TABLE

    config = load_config(REPO / "configs" / "tiny.json")
    config = config.replace(data={"bert_model": str(encoder_dir), "spk2id": SPEAKERS})
    torch.manual_seed(0)
    generator = build_generator(config, DEFAULT_TABLE)
    return save_latest(out_dir, 0, generator.state_dict(), config.to_dict(), DEFAULT_TABLE.to_dict(), SPEAKERS)


class ServerThread:
    """An app served by uvicorn on 127.0.0.1 (a free port) in a daemon thread, until ``stop()``."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
            raw: bytes | None = None, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """(status, lower-cased headers, body) of one request; ``body`` is sent as JSON, ``raw`` as is."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def wait_healthy(port: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            status, _, body = request(port, "GET", "/health", timeout=5)
            if status == 200:
                return json.loads(body)
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise RuntimeError(f"127.0.0.1:{port} did not become healthy within {timeout} s")
        time.sleep(0.2)


def metric(port: int, name: str, headers: dict[str, str] | None = None) -> float:
    """The value of an unlabelled sample ``name`` in GET /metrics, or the sum of its labelled samples."""
    status, _, body = request(port, "GET", "/metrics", headers=headers)
    assert status == 200, body
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", re.MULTILINE)
    return sum(float(value) for _, value in pattern.findall(body.decode()))


def wait_idle(port: int, timeout: float = 30) -> None:
    """Until the server synthesises nothing and queues nothing."""
    deadline = time.monotonic() + timeout
    while metric(port, "melo_active_requests") or metric(port, "melo_queue_depth"):
        if time.monotonic() > deadline:
            raise RuntimeError("the server stayed busy")
        time.sleep(0.05)
