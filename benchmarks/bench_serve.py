"""Serving under load: concurrent clients on loopback against ``python -m melo.serve``, for a bounded time.

The server is the users' command, ``python -m melo.serve --model .../G_latest.pth``, in its own process, on a
checkpoint written here: the default generator of configs/config_bge_m3.json and a text encoder in bge-m3's
shapes (XLM-RoBERTa large: 24 layers, 1024 hidden, 250,002 vocab; the project's small stand-in tokenizer),
both with random weights (``--tiny``: configs/tiny.json and the tiny stand-in encoder, a quick plumbing run).
As in ``bench_e2e_infer.py``, requests ask for ``speed=0.25``: a random duration predictor gives ~1 frame per
text position, and 0.25 makes that the pace of natural speech.

Every client sends streamed requests (``response_format=pcm, stream=true``) back to back over one keep-alive
connection, each a two-sentence KR/EN/ZH/JP text, until the round's time is up (requests in flight then
finish). Time to first audio is measured to the first body byte, latency to the last. A 429 is counted and the
client waits the Retry-After it was given, then reconnects. Rounds, each repeated ``--rounds`` times in turn:

- *1 client*: the baseline (no queueing: latency is synthesis plus HTTP);
- *at the limit*: concurrency + queue size clients: every request is admitted, so errors must be 0;
- *over the limit*: twice that plus two: the extra requests must be answered 429 and nothing else.

The server's resident memory (VmRSS) is read after warm-up and after every round: repeated rounds must not
grow it. Writes benchmarks/results/serve.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

HOST = "127.0.0.1"
SPEED = 0.25
TEXTS = (
    "안녕하세요. 오늘은 날씨가 정말 좋네요.",
    "The meeting starts at three. Please call me back.",
    "我们明天一起去看电影吧。这个苹果三块五毛钱。",
    "東京タワーに行きました。明日の会議は午後からです。",
    "오늘 meeting은 3시에 시작해요. I will send the report tomorrow.",
    "지금 몇 시예요? 저는 커피를 좋아해요.",
    "The quick brown fox jumps over the lazy dog. She bought a new bicycle.",
    "北京的冬天很冷。駅はどこですか。",
)


def write_checkpoint(root: Path, tiny: bool) -> Path:
    """G_latest.pth (random weights) whose config points at a text encoder folder written beside it."""
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    from melo.checkpoint import save_latest
    from melo.config import load_config
    from melo.model import build_generator
    from melo.testing.tiny_encoder import build_tiny_encoder
    from melo.text import DEFAULT_TABLE

    encoder_dir = build_tiny_encoder(root / "encoder")
    if not tiny:  # the same tokenizer files, with an encoder in bge-m3's shapes
        torch.manual_seed(0)
        shapes = XLMRobertaConfig(
            vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16, intermediate_size=4096,
            max_position_embeddings=8194, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)
        XLMRobertaModel(shapes).eval().save_pretrained(encoder_dir)
    config_file = REPO / "configs" / ("tiny.json" if tiny else "config_bge_m3.json")
    speakers = {"speaker_a": 0, "speaker_b": 1}
    config = load_config(config_file).replace(data={"bert_model": str(encoder_dir), "spk2id": speakers})
    torch.manual_seed(0)
    generator = build_generator(config, DEFAULT_TABLE)
    return save_latest(root / "checkpoints" / "bench", 0, generator.state_dict(), config.to_dict(),
                       DEFAULT_TABLE.to_dict(), speakers)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def metric(port: int, name: str) -> float:
    _, body = get(port, "/metrics")
    return sum(float(line.split()[-1]) for line in body.decode().splitlines()
               if line.startswith(name + " ") or line.startswith(name + "{"))


@dataclass
class RoundResult:
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_audio: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    rejected: int = 0  # 429
    errors: list[str] = field(default_factory=list)  # anything else
    rss_after_mib: float = 0.0
    model_seconds: float = 0.0

    @property
    def ok(self) -> int:
        return len(self.latencies)


def client(port: int, index: int, clients: int, stop_at: float, sample_rate: int, result: RoundResult,
           lock: threading.Lock) -> None:
    conn = http.client.HTTPConnection(HOST, port, timeout=300)
    i = index
    while time.monotonic() < stop_at:
        body = json.dumps({"input": TEXTS[i % len(TEXTS)], "voice": i % 2, "speed": SPEED, "response_format": "pcm",
                           "stream": True})
        i += clients
        started = time.perf_counter()
        try:
            conn.request("POST", "/v1/audio/speech", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            if response.status != 200:
                detail = response.read()[:200].decode(errors="replace")
                retry_after = float(response.getheader("Retry-After") or 1)
                with lock:
                    if response.status == 429:
                        result.rejected += 1
                    else:
                        result.errors.append(f"{response.status}: {detail}")
                time.sleep(max(0.0, min(retry_after, stop_at - time.monotonic())))
                conn.close()  # the server closes keep-alive connections idle for 5 s (uvicorn's default)
                conn = http.client.HTTPConnection(HOST, port, timeout=300)
                continue
            first = response.read1(1 << 16)
            first_audio = time.perf_counter() - started
            size = len(first) + len(response.read())
            latency = time.perf_counter() - started
        except (OSError, http.client.HTTPException) as e:
            with lock:
                result.errors.append(f"connection: {e!r}")
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=300)
            continue
        with lock:
            result.latencies.append(latency)
            result.first_audio.append(first_audio)
            result.audio_seconds += size / 2 / sample_rate
    conn.close()


def run_round(port: int, pid: int, clients: int, seconds: float, sample_rate: int) -> RoundResult:
    result = RoundResult(clients)
    lock = threading.Lock()
    model_before = metric(port, "melo_synthesis_seconds_total")
    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(port, k, clients, started + seconds, sample_rate, result, lock))
               for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - started
    result.model_seconds = metric(port, "melo_synthesis_seconds_total") - model_before
    result.rss_after_mib = rss_mib(pid)
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="tiny config and stand-in encoder (a quick plumbing run)")
    p.add_argument("--seconds", type=float, default=30.0, help="length of each round (default 30)")
    p.add_argument("--rounds", type=int, default=3, help="repetitions of each load (default 3)")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--queue-size", type=int, default=3)
    p.add_argument("--timeout", type=float, default=600.0,
                   help="the server's per-request limit (default 600 s: this benchmark measures the queue, not the "
                        "time-outs, and a shared machine can be several times slower than usual)")
    p.add_argument("--output", help="default benchmarks/results/serve.md (--tiny: serve_tiny.md)")
    args = p.parse_args()
    output = Path(args.output or REPO / "benchmarks" / "results" / ("serve_tiny.md" if args.tiny else "serve.md"))
    load_before = os.getloadavg()
    started = time.perf_counter()
    limit = args.concurrency + args.queue_size
    loads = {"1 client": 1, "at the limit": limit, "over the limit": 2 * limit + 2}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        checkpoint = write_checkpoint(Path(tmp), args.tiny)
        build_seconds = time.perf_counter() - t0
        port = free_port()
        log_path = Path(tmp) / "server.log"
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
        env.pop("MELO_SERVE_API_KEY", None)
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "melo.serve", "--model", str(checkpoint), "--host", HOST, "--port", str(port),
                 "--device", "cpu", "--concurrency", str(args.concurrency), "--queue-size", str(args.queue_size),
                 "--timeout", str(args.timeout), "--log-level", "warning"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            t0 = time.perf_counter()
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
                try:
                    if get(port, "/health")[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.5)
            ready_seconds = time.perf_counter() - t0
            sample_rate = json.loads(get(port, "/v1/voices")[1])["sample_rate"]
            rss_ready = rss_mib(server.pid)
            results: dict[str, list[RoundResult]] = {name: [] for name in loads}
            for r in range(args.rounds):
                for name, clients in loads.items():
                    result = run_round(port, server.pid, clients, args.seconds, sample_rate)
                    results[name].append(result)
                    print(f"round {r + 1} {name:>14} ({clients} clients): {result.ok} ok, {result.rejected} x 429, "
                          f"{len(result.errors)} other errors{': ' + result.errors[0] if result.errors else ''}, "
                          f"RSS {result.rss_after_mib:.0f} MiB", flush=True)
        finally:
            server.terminate()
            server.wait(60)
    load_after = os.getloadavg()

    def row(name: str) -> dict[str, float]:
        rounds = results[name]
        latencies = [x for r in rounds for x in r.latencies]
        first_audio = [x for r in rounds for x in r.first_audio]
        seconds = sum(r.seconds for r in rounds)
        return {
            "clients": rounds[0].clients, "ok": sum(r.ok for r in rounds), "rejected": sum(r.rejected for r in rounds),
            "errors": sum(len(r.errors) for r in rounds), "rps": sum(r.ok for r in rounds) / seconds,
            "audio_per_s": sum(r.audio_seconds for r in rounds) / seconds,
            "busy": sum(r.model_seconds for r in rounds) / seconds,
            "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "ttfa50": percentile(first_audio, 0.5), "ttfa95": percentile(first_audio, 0.95),
            "audio_per_request": sum(r.audio_seconds for r in rounds) / max(1, sum(r.ok for r in rounds)),
        }

    table = {name: row(name) for name in loads}
    base = table["1 client"]
    model = "configs/tiny.json + tiny stand-in encoder" if args.tiny else "bge-m3 shapes + configs/config_bge_m3.json"
    lines = [
        "## Serving under load, tiny model (`benchmarks/bench_serve.py --tiny`)" if args.tiny
        else "## Serving under load (`benchmarks/bench_serve.py`)",
        "",
        f"`python -m melo.serve` in its own process ({model}, random weights, CPU, `--concurrency {args.concurrency} "
        f"--queue-size {args.queue_size} --timeout {args.timeout:g}`), clients on 127.0.0.1 sending streamed two-sentence KR/EN/ZH/JP requests "
        f"(pcm, speed {SPEED}) back to back for {args.seconds:g} s per round; each load ran {args.rounds} times, "
        f"in turn. Latency to the last byte, time to first audio (TTFA) to the first body byte. *Model busy*: the "
        f"server's synthesis seconds per wall second. Checkpoint and encoder written in {build_seconds:.0f} s; the "
        f"server was healthy (model loaded and warmed up) {ready_seconds:.1f} s after it started. "
        f"Load average {load_before[0]:.2f} before, {load_after[0]:.2f} after; {time.perf_counter() - started:.0f} s "
        "in all.",
        "",
        "| load | clients | requests ok | 429 | other errors | req/s | × 1 client | audio s per s | model busy | "
        "p50 latency s | p95 latency s | p50 TTFA s | p95 TTFA s | TTFA × 1 client |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in table.items():
        lines.append(
            f"| {name} | {r['clients']} | {r['ok']} | {r['rejected']} | {r['errors']} | {r['rps']:.2f} | "
            f"{r['rps'] / base['rps']:.2f} | {r['audio_per_s']:.2f} | {r['busy']:.2f} | {r['p50']:.2f} | "
            f"{r['p95']:.2f} | {r['ttfa50']:.2f} | {r['ttfa95']:.2f} | {r['ttfa50'] / base['ttfa50']:.2f} |")
    rss_rounds = [max(results[name][k].rss_after_mib for name in loads) for k in range(args.rounds)]
    growth = rss_rounds[-1] - rss_rounds[0]
    other = sorted({e for name in loads for r in results[name] for e in r.errors})
    lines += [
        "",
        f"- Errors: {table['at the limit']['errors']} at the limit (goal 0) and "
        f"{table['over the limit']['errors']} other than 429 over the limit (goal 0; "
        f"{table['over the limit']['rejected']} requests answered 429)."
        + (f" Seen: {'; '.join(other[:3])}" if other else ""),
        f"- Server memory (VmRSS): {rss_ready:.0f} MiB after warm-up; highest after each repetition of the three "
        f"loads: {', '.join(f'{m:.0f}' for m in rss_rounds)} MiB (last - first repetition: {growth:+.0f} MiB).",
        f"- One request carries {base['audio_per_request']:.2f} s of audio; alone it takes {base['p50']:.2f} s "
        f"(p50; RTF {base['p50'] / base['audio_per_request']:.3f}) with its first audio after {base['ttfa50']:.2f} s.",
    ]
    text = "\n".join(lines)
    print(text)
    output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
