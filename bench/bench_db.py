"""DuckDB store: create+get of a download request on a warm lease, and a hand-off.

* warm: p50/p99 of one create + one get while this process holds the lease, against a
  baseline of the same two statements on a bare DuckDB connection (no lease, no objects).
* hand-off: two processes alternate single writes on one BODHI_HOME; p50/p99 latency of a
  write that must wait for the other process to hand the file over, against a cold open of
  a bare DuckDB connection (what every write would pay without a lease).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, percentile

_CHILD = r"""
import sys, time
from pathlib import Path
from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
from bodhi_nb.store.duckdb import DuckDbStore
from bodhi_nb.services.time import DefaultTimeService
clock = DefaultTimeService()
db = DuckDbStore(Path(sys.argv[1]) / "bodhi.duckdb", clock, idle_close=0.0)
lat = []
for i in range(int(sys.argv[2])):
    now = clock.utc_now()
    t0 = time.perf_counter()
    req = DownloadRequest(new_ulid(), "o/n", f"f{i}", DownloadStatus.PENDING, now, now)
    db.create_download_request(req)
    lat.append(time.perf_counter() - t0)
    time.sleep(0.002)
print(" ".join(f"{x:.6f}" for x in lat))
"""


def _warm(root: Path, n: int) -> list[float]:
    from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.store.duckdb import DuckDbStore

    clock = DefaultTimeService()
    db = DuckDbStore(root / "bodhi.duckdb", clock, idle_close=60, max_hold=3600)
    db.migrate()
    samples = []
    for i in range(n):
        now = clock.utc_now()
        req = DownloadRequest(new_ulid(), "o/n", f"f{i}.gguf", DownloadStatus.PENDING, now, now)
        t0 = time.perf_counter()
        db.create_download_request(req)
        got = db.get_download_request(req.id)
        samples.append(time.perf_counter() - t0)
        assert got == req
    db.close()
    return samples


def _bare(root: Path, n: int) -> tuple[list[float], list[float]]:
    import duckdb

    path = root / "bodhi.duckdb"
    conn = duckdb.connect(str(path))
    warm = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("INSERT INTO download_requests (id, repo, filename, status, created_at,"
                     " updated_at) VALUES (?, 'o/n', 'f', 'pending', now(), now())",
                     [f"bare{i}"])
        conn.execute("SELECT * FROM download_requests WHERE id = ?", [f"bare{i}"]).fetchall()
        warm.append(time.perf_counter() - t0)
    conn.close()
    cold = []
    for i in range(min(n, 50)):
        t0 = time.perf_counter()
        c = duckdb.connect(str(path))
        c.execute("INSERT INTO download_requests (id, repo, filename, status, created_at,"
                  " updated_at) VALUES (?, 'o/n', 'f', 'pending', now(), now())", [f"cold{i}"])
        c.close()
        cold.append(time.perf_counter() - t0)
    return warm, cold


def run(n: int = 300) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = _warm(root, n)
        bare_warm, bare_cold = _bare(root, n)
        procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(root), "100"],
                                  stdout=subprocess.PIPE, text=True) for _ in range(2)]
        handoff = []
        for p in procs:
            out, _ = p.communicate(timeout=600)
            handoff += [float(x) for x in out.split()]
    ms = 1000
    bare, cold = "bare duckdb insert+select", "cold duckdb open+insert+close"
    return [
        line("db_create_get_warm_p50_ms", percentile(warm, 50) * ms, "ms",
             baseline=bare, baseline_value=percentile(bare_warm, 50) * ms),
        line("db_create_get_warm_p99_ms", percentile(warm, 99) * ms, "ms",
             baseline=bare, baseline_value=percentile(bare_warm, 99) * ms),
        line("db_handoff_write_p50_ms", percentile(handoff, 50) * ms, "ms",
             baseline=cold, baseline_value=percentile(bare_cold, 50) * ms),
        line("db_handoff_write_p99_ms", percentile(handoff, 99) * ms, "ms",
             baseline=cold, baseline_value=percentile(bare_cold, 99) * ms),
    ]
