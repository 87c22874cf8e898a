"""Parallel ranged pulls (issue 15): ``bodhi pull`` over 1, 4, 8 and 16 connections vs
``hf_hub_download`` and ``curl -o`` (one stream each), same run, same offline Hub.

Two links: the cdn origin throttled to 25 MB/s per connection (a stand-in for a CDN's
per-stream cap; the throttle applies to each response body, and a connection carries one at a
time), and loopback unthrottled. Before each client the page cache is synced, so that none is
slowed by the writeback of the previous one's file. Every client runs in its own process into
its own empty cache; Python clients time the download call and read their own peak RSS (VmHWM);
curl is timed around the process. Ours verifies SHA-256 before publishing (a mismatch
raises); the others do not.

A pull ramps its connections up (two, then doubling while the speed grows), which costs about
half a second on the throttled link: the file there is 512 MiB by default, still small for a
GGUF (1-50 GB), where that half second vanishes.

``BENCH_PULL_PARALLEL_MIB`` (default 512) sizes the throttled file, ``..._LOOP_MIB`` (512) the
loopback one; ``..._RUNS`` (1 throttled, 3 loopback, interleaved) repeats them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

THROTTLED = int(os.environ.get("BENCH_PULL_PARALLEL_MIB", "512")) << 20
LOOPBACK = int(os.environ.get("BENCH_PULL_PARALLEL_LOOP_MIB", "512")) << 20
RUNS = int(os.environ.get("BENCH_PULL_PARALLEL_RUNS", "0"))
RATE = 25_000_000  # bytes per second per connection
CONNECTIONS = (1, 4, 8, 16)
FILE = "big-Q4_K_M.gguf"

_OURS = r"""
import json, resource, sys, time
from pathlib import Path
from bodhi_nb.objs import Repo
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.hub import HubService
from bodhi_nb.services.time import DefaultTimeService
endpoint, cache, repo, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
hub = HubService(HfCache(cache), DefaultTimeService(), endpoint=endpoint)
import filelock, httpx  # imported before the clock starts, as hf_hub_download's are
t0 = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
f = hub.download(Repo.parse(repo), "big-Q4_K_M.gguf", connections=n)
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_SELF)
hub.close()
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": t1 - t0, "cpu": cpu, "rss_mb": hwm / 1024, "size": f.size}))
"""

_HF = r"""
import json, os, sys, time
from huggingface_hub import hf_hub_download
endpoint, cache, repo = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
p = hf_hub_download(repo, "big-Q4_K_M.gguf", endpoint=endpoint, cache_dir=cache)
t1 = time.perf_counter()
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": t1 - t0, "rss_mb": hwm / 1024, "size": os.path.getsize(p)}))
"""


def _python(code: str, size: int, *args: str) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    env.pop("HF_TOKEN", None)
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                         text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    assert result["size"] == size
    return result


def _curl(url: str, dest: Path, size: int) -> dict[str, float]:
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sSfL", "-o", str(dest), url], check=True)
    seconds = time.perf_counter() - t0
    assert dest.stat().st_size == size
    return {"seconds": seconds, "rss_mb": float("nan")}


def _measure(root: Path, hub: Any, repo: str, size: int, runs: int,
             ) -> dict[str, list[dict[str, float]]]:
    clients = ["curl", "hf", *(f"ours-{n}" for n in CONNECTIONS)]
    results: dict[str, list[dict[str, float]]] = {name: [] for name in clients}
    for i in range(runs):
        for name in clients:  # interleaved: fair to a noisy machine
            cache = root / f"cache-{name}-{i}"
            os.sync()  # no client pays for the dirty pages of the one before
            if name == "curl":
                cache.mkdir()
                results[name].append(_curl(hub.url(repo, FILE), cache / "out", size))
            elif name == "hf":
                results[name].append(_python(_HF, size, hub.endpoint, str(cache), repo))
            else:
                results[name].append(_python(_OURS, size, hub.endpoint, str(cache), repo,
                                             name.removeprefix("ours-")))
            shutil.rmtree(cache, ignore_errors=True)
    return results


def _source(path: Path, size: int) -> None:
    with open(path, "wb") as fh:
        for _ in range(size >> 20):
            fh.write(os.urandom(1 << 20))


def run() -> list[dict[str, Any]]:
    from bodhi_nb.testing.hub_faults import FaultyHubServer

    measured: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="bodhi-bench-") as tmp:
        root = Path(tmp)
        _source(root / "throttled.gguf", THROTTLED)
        _source(root / "loopback.gguf", LOOPBACK)
        with FaultyHubServer(root / "hub") as hub:
            hub.add_repo("bench/throttled", {FILE: root / "throttled.gguf"})
            hub.add_repo("bench/loopback", {FILE: root / "loopback.gguf"})
            hub.warm()
            hub.throttle(RATE, origin="cdn")
            measured["throttled"] = _measure(root, hub, "bench/throttled", THROTTLED, RUNS or 1)
            hub.throttle(None)
            measured["loopback"] = _measure(root, hub, "bench/loopback", LOOPBACK, RUNS or 3)
            assert hub.server_errors == []

    def mbps(link: str, name: str) -> float:
        size = THROTTLED if link == "throttled" else LOOPBACK
        return median([size / r["seconds"] / 1e6 for r in measured[link][name]])

    out = []
    for link, size in (("throttled", THROTTLED), ("loopback", LOOPBACK)):
        extra = {"file_mib": size >> 20, "runs": len(measured[link]["curl"]),
                 "per_connection_mb_s": RATE / 1e6 if link == "throttled" else None,
                 "sha256_verified": True}
        ours8 = mbps(link, "ours-8")
        out.append(line(f"pull_8_connections_{link}_vs_hf_hub_download", ours8, "MB/s",
                        baseline="hf_hub_download", baseline_value=mbps(link, "hf"),
                        goal=">= 6" if link == "throttled" else None, **extra))
        out.append(line(f"pull_8_connections_{link}_vs_curl", ours8, "MB/s",
                        baseline="curl -o", baseline_value=mbps(link, "curl"),
                        goal=">= 0.85" if link == "loopback" else None, **extra))
        out.append(line(f"pull_8_connections_{link}_vs_1_connection", ours8, "MB/s",
                        baseline="bodhi pull, 1 connection",
                        baseline_value=mbps(link, "ours-1"), **extra))
        out.append(line(f"pull_connections_sweep_{link}", ours8, "MB/s",
                        **{f"connections_{n}": round(mbps(link, f"ours-{n}"), 1)
                           for n in CONNECTIONS},
                        **{f"cpu_s_per_gib_{n}": round(median(
                            [r["cpu"] / (size / (1 << 30)) for r in measured[link][f"ours-{n}"]]),
                            2) for n in CONNECTIONS}, **extra))
        rss = [r["rss_mb"] for name in measured[link] if name.startswith("ours-")
               for r in measured[link][name]]
        out.append(line(f"pull_parallel_peak_rss_{link}", max(rss), "MB",
                        baseline="hf_hub_download",
                        baseline_value=max(r["rss_mb"] for r in measured[link]["hf"]),
                        target_mb=150, **extra))
    return out

