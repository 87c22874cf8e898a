"""``bodhi pull`` vs ``hf_hub_download`` vs ``curl -o``: one 512 MiB file, same local hub.

Each client runs in its own process against the same :class:`HubServer` (loopback, bodies
sent with ``os.sendfile``), into its own empty cache. Python clients time the download call
itself and read their own CPU time and peak RSS; curl is timed around the process. Ratios
are against ``hf_hub_download`` (throughput) and curl. Ours verifies SHA-256 as it goes;
hf_hub_download does not; curl does not.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

SIZE = int(os.environ.get("BENCH_PULL_MIB", "512")) << 20
RUNS = int(os.environ.get("BENCH_PULL_RUNS", "3"))

_OURS = r"""
import json, resource, sys, time
def hwm():
    # VmHWM: this process's own peak RSS (ru_maxrss would count the parent's fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

from pathlib import Path
from bodhi_nb.objs import Repo
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.hub import HubService
from bodhi_nb.services.time import DefaultTimeService
endpoint, cache = sys.argv[1], Path(sys.argv[2])
hub = HubService(HfCache(cache), DefaultTimeService(), endpoint=endpoint)
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
f = hub.download(Repo.parse("bench/big"), "big-Q4_K_M.gguf")
t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF)
hub.close()
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print(json.dumps({"seconds": t1 - t0, "cpu": cpu,
                  "rss_mb": hwm(), "size": f.size}))
"""

_HF = r"""
import json, resource, sys, time
def hwm():
    # VmHWM: this process's own peak RSS (ru_maxrss would count the parent's fork)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

from huggingface_hub import hf_hub_download
endpoint, cache = sys.argv[1], sys.argv[2]
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.perf_counter()
p = hf_hub_download("bench/big", "big-Q4_K_M.gguf", endpoint=endpoint, cache_dir=cache)
t1 = time.perf_counter(); r1 = resource.getrusage(resource.RUSAGE_SELF)
import os
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
print(json.dumps({"seconds": t1 - t0, "cpu": cpu,
                  "rss_mb": hwm(), "size": os.path.getsize(p)}))
"""


def _python(code: str, endpoint: str, cache: Path) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    env.pop("HF_TOKEN", None)
    out = subprocess.run([sys.executable, "-c", code, endpoint, str(cache)], env=env,
                         capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    assert result["size"] == SIZE
    return result


def _curl(url: str, dest: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sSfL", "-o", str(dest), url], check=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert dest.stat().st_size == SIZE
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"seconds": seconds, "cpu": cpu, "rss_mb": float("nan")}


def run() -> list[dict[str, Any]]:
    from bodhi_nb.offline_hub import HubServer

    with tempfile.TemporaryDirectory(prefix="bodhi-bench-") as tmp:
        root = Path(tmp)
        src = root / "big-Q4_K_M.gguf"
        with open(src, "wb") as fh:
            for _ in range(SIZE >> 20):
                fh.write(os.urandom(1 << 20))
        results: dict[str, list[dict[str, float]]] = {"ours": [], "hf": [], "curl": []}
        with HubServer(root / "hub") as hub:
            hub.add_repo("bench/big", {"big-Q4_K_M.gguf": src})
            hub.warm()
            url = hub.url("bench/big", "big-Q4_K_M.gguf")
            for i in range(RUNS):
                for name in ("curl", "hf", "ours"):  # interleaved: fair to a noisy machine
                    cache = root / f"cache-{name}-{i}"
                    if name == "ours":
                        results[name].append(_python(_OURS, hub.endpoint, cache))
                    elif name == "hf":
                        results[name].append(_python(_HF, hub.endpoint, cache))
                    else:
                        cache.mkdir()
                        results[name].append(_curl(url, cache / "out"))
                    shutil.rmtree(cache, ignore_errors=True)
    gib = SIZE / (1 << 30)

    def mbps(name: str) -> float:
        return median([SIZE / r["seconds"] / 1e6 for r in results[name]])

    def cpu_per_gib(name: str) -> float:
        return median([r["cpu"] / gib for r in results[name]])

    ours, hf, curl = mbps("ours"), mbps("hf"), mbps("curl")
    size_mib = SIZE >> 20
    return [
        line("pull_throughput_vs_hf_hub_download", ours, "MB/s", baseline="hf_hub_download",
             baseline_value=hf, file_mib=size_mib, runs=RUNS, sha256_verified=True),
        line("pull_throughput_vs_curl", ours, "MB/s", baseline="curl -o", baseline_value=curl,
             file_mib=size_mib, runs=RUNS),
        line("pull_cpu_seconds_per_gib", cpu_per_gib("ours"), "CPU-s/GiB",
             baseline="hf_hub_download", baseline_value=cpu_per_gib("hf"),
             curl=round(cpu_per_gib("curl"), 3)),
        line("pull_peak_rss", max(r["rss_mb"] for r in results["ours"]), "MB",
             baseline="hf_hub_download", baseline_value=max(r["rss_mb"] for r in results["hf"]),
             target_mb=150),
    ]
