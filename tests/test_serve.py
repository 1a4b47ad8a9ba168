"""The HTTP speech server (melo.serve) on a tiny random model, over real sockets on 127.0.0.1.

The model's audio is noise (random weights, stand-in encoder): these tests check the server's plumbing,
formats, streaming, limits, errors and keys, not voice quality.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
import soundfile as sf

from melo.api import TTS
from melo.serve.app import create_app
from melo.serve.settings import ServeSettings
from tests.serve_helpers import HOST, ServerThread, build_tiny_checkpoint, metric, request, wait_healthy, wait_idle

SETTINGS = ServeSettings(concurrency=1, queue_size=1, max_chars=3000, timeout_seconds=60)


def sentences(n: int) -> str:
    return " ".join(f"Sentence number {i + 1} is here." for i in range(n))


class GatedWarmup:
    """The TTS, whose warm-up waits for ``release`` (so a test sees the server before it is warm)."""

    def __init__(self, tts: TTS) -> None:
        self._tts = tts
        self.release = threading.Event()
        self.warmups = 0

    def warmup(self) -> None:
        assert self.release.wait(60)
        self.warmups += 1
        self._tts.warmup()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tts, name)


@pytest.fixture(scope="module")
def tts(tmp_path_factory: pytest.TempPathFactory, tiny_encoder_dir: Path) -> TTS:
    checkpoint = build_tiny_checkpoint(tmp_path_factory.mktemp("serve_ckpt"), tiny_encoder_dir)
    return TTS(checkpoint, device="cpu")


@pytest.fixture(scope="module")
def server(tts: TTS):
    """The server under test, and what it answered before its warm-up was allowed to finish."""
    gated = GatedWarmup(tts)
    running = ServerThread(create_app(gated, SETTINGS))
    before = {
        "health": request(running.port, "GET", "/health"),
        "speech": request(running.port, "POST", "/v1/audio/speech", {"input": "Hello."}),
    }
    gated.release.set()
    wait_healthy(running.port)
    running.before_warm, running.gated = before, gated
    yield running
    running.stop()


@pytest.fixture()
def port(server: ServerThread) -> int:
    wait_idle(server.port)
    return server.port


def openai_client(port: int, key: str = "no-key") -> Any:
    return openai.OpenAI(base_url=f"http://{HOST}:{port}/v1", api_key=key, max_retries=0, timeout=60)


def read_first_chunk(conn: http.client.HTTPConnection) -> tuple[http.client.HTTPResponse, bytes]:
    response = conn.getresponse()
    assert response.status == 200, response.read()
    return response, response.read1(1 << 20)


def stream_request(port: int, body: dict[str, Any]) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("POST", "/v1/audio/speech", body=json.dumps(body), headers={"Content-Type": "application/json"})
    return conn


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def error_of(body: bytes) -> dict[str, Any]:
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


# -- start-up -----------------------------------------------------------------------------------


def test_health_and_requests_wait_for_warm_up(server: ServerThread) -> None:
    status, _, body = server.before_warm["health"]
    assert status == 503 and json.loads(body)["status"] == "warming up"
    status, headers, body = server.before_warm["speech"]
    assert status == 503 and headers["retry-after"] == "5"
    assert "not ready (warming up)" in error_of(body)["message"]
    assert server.gated.warmups == 1
    status, _, body = request(server.port, "GET", "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert metric(server.port, "melo_ready") == 1


def test_voices_models_and_page(port: int) -> None:
    status, _, body = request(port, "GET", "/v1/voices")
    info = json.loads(body)
    assert status == 200
    assert info["voices"] == [{"id": 0, "name": "alice"}, {"id": 1, "name": "bruno"}]
    assert info["languages"] == ["KR", "EN", "ZH", "JP"] and info["sample_rate"] == 44100
    assert info["formats"] == ["wav", "flac", "pcm", "mp3", "opus"] and info["stream_formats"] == ["wav", "pcm"]
    assert info["max_chars"] == 3000
    assert json.loads(request(port, "GET", "/v1/models")[2])["data"][0]["id"] == "melo-bge-m3"
    status, headers, page = request(port, "GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"<audio" in page and b"/v1/audio/speech" in page


# -- audio --------------------------------------------------------------------------------------


def test_openai_client_gets_valid_audio_in_every_format(port: int) -> None:
    client = openai_client(port)
    text = "Hello there. 안녕하세요."
    for fmt in ("wav", "flac", "mp3", "opus"):
        data = client.audio.speech.create(model="melo", voice="bruno", input=text, response_format=fmt).content
        audio, rate = sf.read(io.BytesIO(data), dtype="float32")
        assert rate == (48000 if fmt == "opus" else 44100), fmt
        assert audio.ndim == 1 and audio.shape[0] > 0.2 * rate and np.isfinite(audio).all(), fmt
        assert np.abs(audio).max() > 0.0, fmt
    pcm = client.audio.speech.create(model="melo", voice="1", input=text, response_format="pcm", speed=0.5).content
    assert len(pcm) % 2 == 0 and len(pcm) > 2 * 44100 * 0.2
    with pytest.raises(openai.BadRequestError, match="unknown voice 'alloy'; known: alice \\(0\\), bruno \\(1\\)"):
        client.audio.speech.create(model="tts-1", voice="alloy", input=text)


def test_whole_wav_has_exact_sizes_and_headers(port: int) -> None:
    status, headers, body = request(port, "POST", "/v1/audio/speech",
                                    {"input": "Hello.", "voice": 0, "response_format": "wav"})
    assert status == 200 and headers["content-type"] == "audio/wav" and headers["x-sample-rate"] == "44100"
    riff_size, data_size = struct.unpack_from("<I", body, 4)[0], struct.unpack_from("<I", body, 40)[0]
    assert body[:4] == b"RIFF" and riff_size == len(body) - 8 and data_size == len(body) - 44
    assert int(headers["content-length"]) == len(body)


def test_stream_sends_the_first_sentence_before_the_text_is_synthesised(port: int) -> None:
    n = 20
    before = metric(port, "melo_sentences_synthesized_total")
    conn = stream_request(port, {"input": sentences(n), "response_format": "wav", "stream": True})
    response, first = read_first_chunk(conn)
    done_at_first_chunk = metric(port, "melo_sentences_synthesized_total") - before
    active_at_first_chunk = metric(port, "melo_active_requests")
    rest = response.read()
    conn.close()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert done_at_first_chunk < n and active_at_first_chunk == 1
    assert metric(port, "melo_sentences_synthesized_total") - before == n
    body = first + rest
    # a streaming WAV header: sizes unknown (0xFFFFFFFF), 16-bit mono at the model's rate, then samples
    riff, riff_size, wave, fmt, _, pcm, channels, rate, _, _, bits, data, data_size = struct.unpack_from(
        "<4sI4s4sIHHIIHH4sI", body)
    assert (riff, wave, fmt, data) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (riff_size, data_size, pcm, channels, rate, bits) == (0xFFFFFFFF, 0xFFFFFFFF, 1, 1, 44100, 16)
    assert len(first) > 44 and (len(body) - 44) % 2 == 0 and len(body) - 44 > n * 0.1 * 44100 * 2


def test_streams_share_the_model_sentence_by_sentence(tts: TTS) -> None:
    """With two slots, a short request that arrives while a long one streams is answered before the long one ends."""
    running = ServerThread(create_app(tts, ServeSettings(concurrency=2, queue_size=0), warm=False))
    try:
        wait_healthy(running.port)
        n = 40
        conn = stream_request(running.port, {"input": sentences(n), "response_format": "pcm", "stream": True,
                                             "speed": 0.25})
        response, _ = read_first_chunk(conn)
        short = {"input": "Short.", "response_format": "pcm"}
        status, _, body = request(running.port, "POST", "/v1/audio/speech", short)
        long_done = metric(running.port, "melo_sentences_synthesized_total") - 1  # the short one's sentence
        assert status == 200 and len(body) > 0
        assert long_done < n
        conn.close()
        wait_idle(running.port)
    finally:
        running.stop()


# -- cancellation, limits, time-outs ------------------------------------------------------------


def test_client_leaving_mid_stream_stops_the_synthesis(port: int) -> None:
    n = 60
    before = metric(port, "melo_sentences_synthesized_total")
    left_before = metric(port, "melo_errors_total")
    conn = stream_request(port, {"input": sentences(n), "response_format": "pcm", "stream": True, "speed": 0.25})
    read_first_chunk(conn)
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    wait_idle(port)
    time.sleep(0.3)  # anything still running would add sentences now
    synthesised = metric(port, "melo_sentences_synthesized_total") - before
    assert 1 <= synthesised <= 10, f"{synthesised} of {n} sentences synthesised after the client left"
    assert metric(port, "melo_errors_total") - left_before == 1


def test_client_leaving_before_a_whole_file_stops_the_synthesis(port: int) -> None:
    n = 60
    before = metric(port, "melo_sentences_synthesized_total")
    conn = stream_request(port, {"input": sentences(n), "response_format": "wav", "speed": 0.25})
    wait_for(lambda: metric(port, "melo_sentences_synthesized_total") > before)
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()
    wait_idle(port)
    time.sleep(0.3)
    synthesised = metric(port, "melo_sentences_synthesized_total") - before
    assert 1 <= synthesised <= 10, f"{synthesised} of {n} sentences synthesised after the client left"


def test_a_full_queue_answers_429_with_retry_after(port: int) -> None:
    """One slot and one queue place (SETTINGS): the third request at once is refused, not queued."""
    long = {"input": sentences(60), "response_format": "pcm", "stream": True, "speed": 0.25}
    first = stream_request(port, long)
    wait_for(lambda: metric(port, "melo_active_requests") == 1)
    second = stream_request(port, long)
    wait_for(lambda: metric(port, "melo_queue_depth") == 1)
    status, headers, body = request(port, "POST", "/v1/audio/speech", {"input": "Hello."})
    assert status == 429 and int(headers["retry-after"]) >= 1
    error = error_of(body)
    assert error["code"] == "queue_full" and error["type"] == "rate_limit_error"
    assert "at most 1 request(s) synthesising and 1 waiting" in error["message"]
    for conn in (first, second):
        conn.close()
    wait_idle(port)
    assert request(port, "POST", "/v1/audio/speech", {"input": "Hello."})[0] == 200


def test_requests_past_the_timeout_are_504_or_cut(tts: TTS) -> None:
    n = 200  # ~6 s of synthesis on an idle machine: well past the limit
    running = ServerThread(create_app(tts, ServeSettings(timeout_seconds=2.0, max_chars=10000), warm=False))
    try:
        wait_healthy(running.port)
        long = {"input": sentences(n), "response_format": "wav", "speed": 0.25}
        status, _, body = request(running.port, "POST", "/v1/audio/speech", long)
        assert status == 504
        assert "longer than the server's limit of 2 s" in error_of(body)["message"]
        conn = stream_request(running.port, {**long, "stream": True})
        response, _ = read_first_chunk(conn)
        with pytest.raises(http.client.IncompleteRead):  # the stream is cut: no final chunk
            response.read()
        conn.close()
        wait_idle(running.port)
        assert metric(running.port, "melo_errors_total") == 2
        assert metric(running.port, "melo_sentences_synthesized_total") < 2 * n
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("body", "status", "code", "message"),
    [
        ({"input": ""}, 400, "empty_input", "input is empty; give at least one word to read"),
        ({"input": " \n\t"}, 400, "empty_input", "input is empty"),
        ({"input": "x" * 3001}, 413, "input_too_long", "input is 3001 characters; the limit is 3000"),
        ({"input": "hi", "voice": "bob"}, 400, "unknown_voice", "unknown voice 'bob'; known: alice (0), bruno (1)"),
        ({"input": "hi", "voice": 7}, 400, "unknown_voice", "unknown voice 7; known: alice (0), bruno (1)"),
        ({"input": "👍 🎉"}, 400, "invalid_input", "nothing pronounceable in '👍 🎉'"),
        ({"input": "hi", "speed": 0}, 400, "invalid_speed", "speed must be between 0.25 and 4.0, got 0.0"),
        ({"input": "hi", "speed": 9.5}, 400, "invalid_speed", "speed must be between 0.25 and 4.0, got 9.5"),
        ({"input": "hi", "speed": "fast"}, 400, "invalid_field", "speed: Input should be a valid number"),
        ({"input": "hi", "response_format": "aac"}, 400, "unsupported_response_format",
         "response_format 'aac' is not available: no library this project keeps encodes AAC"),
        ({"input": "hi", "response_format": "ogg"}, 400, "unsupported_response_format",
         "response_format 'ogg' is not available: unknown format; use one of wav, flac, pcm, mp3, opus"),
        ({"input": "hi", "response_format": "mp3", "stream": True}, 400, "unsupported_response_format",
         "response_format 'mp3' cannot be streamed"),
        ({"input": "hi", "stream_format": "sse"}, 400, "unsupported_stream_format",
         "stream_format 'sse' is not supported"),
        ({"input": "hi", "language": "FR"}, 400, "unknown_language",
         "unknown language 'FR'; use one of KR, EN, ZH, JP"),
        ({"input": "hi", "sped": 1.0}, 400, "unknown_field", "unknown field 'sped'; known: model, input, voice"),
        ({"voice": "alice"}, 400, "missing_field", "missing field 'input'"),
        ({"input": 42}, 400, "invalid_field", "input: Input should be a valid string"),
        ({"input": "hi", "voice": True}, 400, "invalid_field", "voice must be a speaker name or an integer speaker id"),
        ({"input": "hi", "stream": "yes"}, 400, "invalid_field", "stream: Input should be a valid boolean"),
        ([1, 2], 400, "invalid_body", "the request body must be a JSON object"),
    ],
    ids=["empty", "blank", "too-long", "unknown-voice", "unknown-voice-id", "unpronounceable", "speed-zero",
         "speed-high", "speed-text", "aac", "unknown-format", "stream-mp3", "sse", "language", "unknown-field",
         "no-input", "input-number", "voice-bool", "stream-text", "not-an-object"],
)
def test_bad_requests_get_a_clear_json_error(port: int, body: Any, status: int, code: str, message: str) -> None:
    got_status, headers, got = request(port, "POST", "/v1/audio/speech", body)
    error = error_of(got)
    assert (got_status, error["code"]) == (status, code), error
    assert message in error["message"]
    assert headers["content-type"] == "application/json"


def test_malformed_and_oversized_bodies_and_unknown_routes(port: int) -> None:
    status, _, body = request(port, "POST", "/v1/audio/speech", raw=b'{"input": "hi",')
    assert status == 400 and error_of(body)["code"] == "invalid_json"
    status, _, body = request(port, "POST", "/v1/audio/speech", raw=b"")
    assert status == 400 and "request body is empty" in error_of(body)["message"]
    huge = json.dumps({"input": "a" * (SETTINGS.max_body_bytes + 1)}).encode()
    status, _, body = request(port, "POST", "/v1/audio/speech", raw=huge)
    assert status == 413 and error_of(body)["code"] == "body_too_large"
    status, _, body = request(port, "GET", "/v2/speech")
    assert status == 404 and "no route GET /v2/speech; the routes are /, /health" in error_of(body)["message"]
    status, _, body = request(port, "GET", "/v1/audio/speech")
    assert status == 405 and error_of(body)["message"] == "GET is not allowed on /v1/audio/speech"


def test_a_server_fault_says_an_error_id_the_log_carries(port: int, tts: TTS, monkeypatch, caplog) -> None:
    def broken_stream(*args: Any, **kwargs: Any):
        raise RuntimeError("secret internal detail")
        yield  # a generator, like TTS.stream

    monkeypatch.setattr(tts, "stream", broken_stream)
    with caplog.at_level(logging.ERROR, logger="melo.serve"):
        status, _, body = request(port, "POST", "/v1/audio/speech", {"input": "Hello."})
    error = error_of(body)
    assert status == 500 and error["code"] == "internal_error" and error["type"] == "server_error"
    error_id = error["message"].split()[2].rstrip(":")
    assert error["message"] == f"internal error {error_id}: the server log has the details under this id"
    assert b"secret" not in body and b"Traceback" not in body
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None and "secret internal detail" in str(logged[0].exc_info[1])


def test_metrics_report_requests_errors_queue_first_audio_and_rtf(port: int) -> None:
    request(port, "POST", "/v1/audio/speech", {"input": "Hello.", "response_format": "pcm"})
    status, headers, body = request(port, "GET", "/metrics")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain; version=0.0.4")
    for name, kind in [("melo_http_requests_total", "counter"), ("melo_errors_total", "counter"),
                       ("melo_queue_depth", "gauge"), ("melo_active_requests", "gauge"),
                       ("melo_time_to_first_audio_seconds", "histogram"), ("melo_real_time_factor", "histogram")]:
        assert f"# TYPE {name} {kind}\n" in text
    assert 'melo_http_requests_total{route="/v1/audio/speech",code="200"}' in text
    assert 'melo_errors_total{reason="invalid_request"}' in text
    assert metric(port, "melo_time_to_first_audio_seconds_count") >= 1
    assert metric(port, "melo_real_time_factor_count") >= 1
    assert 0 < metric(port, "melo_real_time_factor_sum") / metric(port, "melo_real_time_factor_count") < 5


# -- keys ---------------------------------------------------------------------------------------


def test_api_keys_are_enforced(tts: TTS) -> None:
    running = ServerThread(create_app(tts, ServeSettings(api_keys=("key-one", "key-two")), warm=False))
    try:
        p = running.port
        assert request(p, "GET", "/health")[0] == 200 and request(p, "GET", "/")[0] == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic key-one"},
                        {"Authorization": "key-one"}):
            for method, path in (("GET", "/v1/voices"), ("GET", "/metrics"), ("POST", "/v1/audio/speech")):
                status, got_headers, body = request(p, method, path, {"input": "hi"}, headers=headers)
                assert status == 401 and got_headers["www-authenticate"] == "Bearer", (headers, path)
                assert error_of(body)["code"] == "invalid_api_key"
        assert request(p, "GET", "/v1/voices", headers={"Authorization": "Bearer key-two"})[0] == 200
        with pytest.raises(openai.AuthenticationError, match="missing or wrong API key"):
            openai_client(p, "wrong").audio.speech.create(model="melo", voice="alice", input="Hello.")
        data = openai_client(p, "key-one").audio.speech.create(model="melo", voice="alice", input="Hello.",
                                                               response_format="wav").content
        assert sf.info(io.BytesIO(data)).frames > 0
    finally:
        running.stop()


# -- the command line ---------------------------------------------------------------------------


def test_command_line_settings_keys_and_exposure_warning() -> None:
    from melo.serve.__main__ import _parse, exposure_warning, settings_from_args
    from melo.serve.settings import is_loopback

    args = _parse(["--model", "checkpoints/demo/G_latest.pth", "--concurrency", "2", "--queue-size", "3"])
    settings = settings_from_args(args, environ={"MELO_SERVE_API_KEY": "a, b"})
    assert (settings.host, settings.port, settings.concurrency, settings.queue_size) == ("127.0.0.1", 8000, 2, 3)
    assert settings.api_keys == ("a", "b") and settings.model_name == "demo"
    with_flag = settings_from_args(_parse(["--model", "G.pth", "--api-key", "c"]), environ={"MELO_SERVE_API_KEY": "a"})
    assert with_flag.api_keys == ("c",)
    assert all(map(is_loopback, ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org"]))
    wide = ServeSettings(host="0.0.0.0", port=9000)
    assert "listening on 0.0.0.0, beyond this machine, without an API key" in exposure_warning(wide)
    assert exposure_warning(ServeSettings(host="0.0.0.0", api_keys=("k",))) is None
    assert exposure_warning(ServeSettings()) is None
    with pytest.raises(ValueError, match="concurrency is out of range: 0"):
        ServeSettings(concurrency=0)

