"""The server as users start it (``python -m melo.serve``), and its web page in headless Chromium.

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` installs it), driven by Playwright's Python
package with ``executable_path`` (Playwright's own browser download is not used). Everything listens on
127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serve_helpers import HOST, REPO, build_tiny_checkpoint, request, wait_healthy

pytestmark = pytest.mark.slow  # a server process (model load + warm-up) and a browser: ~20-30 s together

CHROMIUM_NAMES = ("chromium", "chromium-browser")
TEXT = "Hello there. 안녕하세요. 我们明天见。"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path):
    """``python -m melo.serve`` on a tiny checkpoint; yields (process, port, log file)."""
    root = tmp_path_factory.mktemp("serve_cli")
    checkpoint = build_tiny_checkpoint(root / "checkpoints" / "tiny", tiny_encoder_dir)
    port = free_port()
    log = root / "server.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO), "MELO_SERVE_API_KEY": ""}
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "melo.serve", "--model", str(checkpoint), "--host", HOST, "--port", str(port),
             "--device", "cpu"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, timeout=240)
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def chromium_path() -> str:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError("Debian's chromium is needed for the page test: apt-get install chromium")


def test_page_streams_a_sentence_into_a_playable_audio_element(served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _, port, _ = served
    sent: list[dict] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        try:
            page = browser.new_page(viewport={"width": 900, "height": 720})
            page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.method == "POST" else None)
            page.goto(f"http://{HOST}:{port}/")
            page.wait_for_function("document.querySelectorAll('#voice option').length === 2")
            page.fill("#text", TEXT)
            page.select_option("#voice", "1")
            page.eval_on_selector("#speed", "el => { el.value = '0.5'; el.dispatchEvent(new Event('input')); }")
            page.click("#speak")
            page.wait_for_function("window.melo.done || window.melo.error !== null", timeout=60_000)
            state = page.evaluate("window.melo")
            assert state["error"] is None, state
            assert state["chunks"] >= 1 and state["samples"] > 0.5 * 44100 and state["firstAudioMs"] > 0
            # the audio element holds the whole WAV and plays it
            page.wait_for_function("document.getElementById('player').readyState >= 3", timeout=30_000)
            duration = page.evaluate("document.getElementById('player').duration")
            assert duration == pytest.approx(state["samples"] / 44100, abs=0.01)
            page.evaluate("document.getElementById('player').play()")
            page.wait_for_function("document.getElementById('player').currentTime > 0", timeout=30_000)
            assert page.evaluate("document.getElementById('player').error") is None
            download = page.evaluate(
                "fetch(document.getElementById('download').href).then(r => r.arrayBuffer()).then(b => b.byteLength)")
            assert download == 44 + 2 * state["samples"]
            assert "first audio after" in page.inner_text("#status")
            page.screenshot(path=str(tmp_path / "serve_page.png"), full_page=True)
        finally:
            browser.close()
    assert sent == [{"input": TEXT, "voice": 1, "speed": 0.5, "response_format": "pcm", "stream": True}]
    assert (tmp_path / "serve_page.png").stat().st_size > 10_000


def test_the_command_warms_up_serves_and_stops_cleanly_on_sigterm(served) -> None:
    process, port, log = served
    status, _, body = request(port, "POST", "/v1/audio/speech", {"input": "Hello.", "response_format": "flac"})
    assert status == 200 and body[:4] == b"fLaC"
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught, so the exit status says SIGTERM
    assert process.wait(60) in (0, -signal.SIGTERM)
    text = log.read_text()
    assert "warm-up done" in text and "Application shutdown complete" in text
    assert "beyond this machine" not in text  # loopback without a key: no warning
    assert "Traceback" not in text
