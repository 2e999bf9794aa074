"""Serving latency and throughput on loopback: generate (a 62-glyph sheet) and encode.

Starts ``glyphflow serve`` as its own process (one uvicorn worker, ``--threads`` torch
threads) on 127.0.0.1 with a style model on 64-pixel alphanumeric glyphs: ``--arch
quickstart`` (the CPU quick start's: channels 16-32-64, hidden 128, 16-dim style; the
default) or ``default`` (the model section's defaults: 32-64-128, hidden 256, 32-dim);
weights from a fixed seed unless ``--model`` names a bundle (latency does not depend on
training). Then it sends
requests from client threads at concurrency 1 and 8 and prints p50/p99 latency and
requests per second. Every generate request carries a new style vector, so nothing is
served from a cache.

Goal: p99 < 50 ms for a 62-glyph sheet at concurrency 1 on one CPU worker.

    PYTHONPATH=src python bench/serve.py [--requests 200] [--model model.pt]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

GOAL_P99_MS = 50.0
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ARCHITECTURES: dict[str, dict[str, Any]] = {
    "quickstart": {
        "class": "font_style",
        "latent_dim": 16,
        "hidden_dim": 128,
        "channels": [16, 32, 64],
    },
    "default": {"class": "font_style"},
}


def _default_model(folder: Path, arch: str) -> str:
    import torch

    from glyphflow import models
    from glyphflow.glyphs import RenderConfig

    torch.manual_seed(0)
    render = RenderConfig()
    size = render.glyph_size
    model = models.build(ARCHITECTURES[arch], render.chars, (size, size), render.model_dump())
    path = folder / "model.pt"
    models.save(model, str(path))
    return str(path)


def _font_bytes() -> tuple[str, bytes]:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate).name, Path(candidate).read_bytes()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.fonts import make_font

    return "Synthetic.ttf", make_font()


def _start_server(model: str, folder: Path, port: int, threads: int) -> subprocess.Popen[bytes]:
    config = folder / "serve.yaml"
    config.write_text(
        "version: 1\nserving:\n"
        f"  model: {model}\n  host: 127.0.0.1\n  port: {port}\n"
        f"  workers: 1\n  torch_threads: {threads}\n  log_level: warning\n"
        "  limits: {max_concurrency: 8}\n"
    )
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "glyphflow", "-q", "serve", "-c", str(config)],
        env=env,
        start_new_session=True,
    )


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited before answering")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not answer within 120 s")


def _run(url: str, send: Any, total: int, concurrency: int) -> tuple[list[float], float, int]:
    """``total`` requests from ``concurrency`` threads: latencies (s), wall time, failures."""
    import httpx

    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                start = time.perf_counter()
                response = send(client, index)
                elapsed = time.perf_counter() - start
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        failures[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, failures[0]


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and concurrency")
    parser.add_argument("--model", default=None, help="a bundle to serve (default: fresh)")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="quickstart")
    parser.add_argument("--threads", type=int, default=1, help="torch threads in the server")
    args = parser.parse_args()

    import httpx

    name, font = _font_bytes()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="glyphflow-bench-") as tmp:
        folder = Path(tmp)
        model = args.model or _default_model(folder, args.arch)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = _start_server(model, folder, port, args.threads)
        try:
            _wait_ready(url, server)
            info = httpx.get(f"{url}/v1/model").json()
            charset, dim = info["charset"], info["latent_dim"]
            rng = np.random.default_rng(0)
            styles = rng.standard_normal((args.requests * 2 + 64, dim)).round(4).tolist()

            def generate(client: httpx.Client, index: int) -> httpx.Response:
                body = {"styles": [styles[index % len(styles)]], "chars": charset}
                return client.post("/v1/generate", json=body)

            def encode(client: httpx.Client, index: int) -> httpx.Response:
                return client.post("/v1/encode", files={"file": (name, font)})

            for label, send in (
                (f"generate ({len(charset)} glyphs, PNG)", generate),
                ("encode (font upload)", encode),
            ):
                _run(url, send, 20, 2)  # warm up
                for concurrency in (1, 8):
                    latencies, wall, failed = _run(url, send, args.requests, concurrency)
                    rows.append(
                        {
                            "endpoint": label,
                            "concurrency": concurrency,
                            "requests": len(latencies),
                            "failed": failed,
                            "p50_ms": _percentile(latencies, 50) * 1000,
                            "p99_ms": _percentile(latencies, 99) * 1000,
                            "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
                            "rps": len(latencies) / wall,
                        }
                    )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    print(
        f"model: {info['model']} ({info['kind']}, {dim}-dim style, "
        f"{info['glyph_shape'][0]}px glyphs); one uvicorn worker, {args.threads} torch "
        "thread(s); "
        f"{os.cpu_count()} CPUs"
    )
    print("| endpoint | concurrency | requests | failed | p50 ms | p99 ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['endpoint']} | {row['concurrency']} | {row['requests']} | {row['failed']} "
            f"| {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['rps']:.1f} |"
        )
    single = next(r for r in rows if r["endpoint"].startswith("generate") and r["concurrency"] == 1)
    verdict = "met" if single["p99_ms"] < GOAL_P99_MS else "NOT met"
    print(
        f"goal p99 < {GOAL_P99_MS:.0f} ms for a 62-glyph sheet at concurrency 1: {verdict} "
        f"({single['p99_ms']:.1f} ms)"
    )
    return rows


if __name__ == "__main__":
    main()
