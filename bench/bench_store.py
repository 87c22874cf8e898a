"""The store floor on both backends, each against its bare driver in the same run.

* create+get: p50/p99 of ``DownloadsTable.create`` + ``DownloadsTable.get`` (the table
  module, its row-to-object conversion and the store's unit of work), against the same two
  statements on a bare connection kept open: DuckDB (``duckdb.connect`` kept open, the store
  on a warm lease) and PostgreSQL (one ``psycopg`` connection kept open, the store pooled).
* secret retrieve: p50/p99 of ``SecretsTable.get`` against the same SELECT, bare.
* DuckDB hand-off: two processes alternate single writes on one BODHI_HOME; p50/p99 of a
  write that must wait for the other process to hand the file over, against a cold
  ``duckdb.connect`` + insert + close (what every write would pay without a lease).

The benchmark starts its own PostgreSQL server (Debian's binaries, as the tests do).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench._util import line, percentile

_SELECT_DOWNLOAD = (
    "SELECT id, repo, filename, revision, status, error, total_bytes, downloaded_bytes,"
    " started_at, archived_at, created_at, updated_at FROM download_requests WHERE id = ?")
_INSERT_DOWNLOAD = (
    "INSERT INTO download_requests (id, repo, filename, revision, status, error, total_bytes,"
    " downloaded_bytes, started_at, archived_at, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_SELECT_SECRET = "SELECT value, salt, nonce, key_id FROM secrets WHERE name = ?"

_HANDOFF_CHILD = r"""
import sys, time
from pathlib import Path
from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store.downloads import DownloadsTable
from bodhi_nb.store.duckdb import DuckDbStore
clock = DefaultTimeService()
store = DuckDbStore(Path(sys.argv[1]) / "bodhi.duckdb", clock, idle_close=0.0)
table = DownloadsTable(store)
lat = []
for i in range(int(sys.argv[2])):
    now = clock.utc_now()
    req = DownloadRequest(new_ulid(), "o/n", f"h{i}.gguf", DownloadStatus.PENDING, now, now)
    t0 = time.perf_counter()
    table.create(req)
    lat.append(time.perf_counter() - t0)
    time.sleep(0.002)
store.close()
print(" ".join(f"{x:.6f}" for x in lat))
"""


def _interleaved(n: int, *ops: Callable[[int], object]) -> list[list[float]]:
    """Samples of each op, run in turn (op A, op B, op A, ...) so that a machine busy with
    something else slows both sides alike."""
    for i in range(min(20, n)):  # warm-up: prepared statements, caches, imports
        for op in ops:
            op(-1 - i)
    samples: list[list[float]] = [[] for _ in ops]
    for i in range(n):
        for op, out in zip(ops, samples, strict=True):
            t0 = time.perf_counter()
            op(i)
            out.append(time.perf_counter() - t0)
    return samples


Op = Callable[[int], object]


def _store_ops(store: Any, tag: str) -> tuple[Op, Op]:
    """create+get and secret-get through the table modules on ``store``."""
    from bodhi_nb.objs import DownloadRequest, DownloadStatus, Envelope
    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.store.downloads import DownloadsTable
    from bodhi_nb.store.secrets import SecretsTable

    clock = DefaultTimeService()
    downloads, secrets = DownloadsTable(store), SecretsTable(store)
    now = clock.utc_now()
    secrets.upsert("BENCH_SECRET", Envelope("v2:" + "A" * 80, "s" * 44, "n" * 16, "k1"), now)

    def create_get(i: int) -> None:
        req = DownloadRequest(f"{tag}{i}", "o/n", f"f{i}.gguf", DownloadStatus.PENDING, now,
                              now)
        downloads.create(req)
        assert downloads.get(req.id) == req

    def retrieve(i: int) -> None:
        assert secrets.get("BENCH_SECRET") is not None

    return create_get, retrieve


def _bare_ops(execute: Callable[[str, list[object]], list[Any]], tag: str) -> tuple[Op, Op]:
    now = datetime.now().replace(microsecond=0)
    execute("INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'k1', ?, ?) ON CONFLICT (name) DO NOTHING",
            ["BENCH_SECRET", "v2:" + "A" * 80, "s" * 44, "n" * 16, now, now])

    def create_get(i: int) -> None:
        execute(_INSERT_DOWNLOAD, [f"{tag}{i}", "o/n", f"f{i}.gguf", "main", "pending", None,
                                   None, 0, None, None, now, now])
        assert execute(_SELECT_DOWNLOAD, [f"{tag}{i}"])

    def retrieve(i: int) -> None:
        assert execute(_SELECT_SECRET, ["BENCH_SECRET"])

    return create_get, retrieve


def _compare(store: Any, bare: Callable[[str, list[object]], list[Any]],
             n: int) -> dict[str, list[float]]:
    store_cg, store_secret = _store_ops(store, "s")
    bare_cg, bare_secret = _bare_ops(bare, "b")
    cg = _interleaved(n, store_cg, bare_cg)
    secret = _interleaved(n, store_secret, bare_secret)
    return {"store_cg": cg[0], "bare_cg": cg[1], "store_secret": secret[0],
            "bare_secret": secret[1]}


def _duckdb(root: Path, n: int) -> dict[str, list[float]]:
    """The store (warm lease) on one file, a bare connection kept open on another (DuckDB
    lets one process hold a file: both run in this process, in turn)."""
    import duckdb

    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.store.duckdb import DuckDbStore

    store = DuckDbStore(root / "store.duckdb", DefaultTimeService(), idle_close=60,
                        max_hold=3600)
    store.migrate()
    bare_path = root / "bare.duckdb"
    seed = DuckDbStore(bare_path, DefaultTimeService(), idle_close=0.0)
    seed.migrate()
    seed.close()
    conn = duckdb.connect(str(bare_path))

    def bare_execute(sql: str, params: list[object]) -> list[Any]:
        return list(conn.execute(sql, params).fetchall())

    out = _compare(store, bare_execute, n)
    store.close()
    conn.close()
    cold = []
    for i in range(50):
        t0 = time.perf_counter()
        c = duckdb.connect(str(bare_path))
        c.execute("INSERT INTO download_requests (id, repo, filename, status, created_at,"
                  " updated_at) VALUES (?, 'o/n', 'f', 'pending', now(), now())", [f"cold{i}"])
        c.close()
        cold.append(time.perf_counter() - t0)
    out["cold"] = cold
    return out


def _handoff(root: Path, each: int) -> list[float]:
    home = root / "handoff"
    home.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _HANDOFF_CHILD, str(home), str(each)],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    samples: list[float] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        samples += [float(x) for x in out.split()]
    return samples


def _postgres(n: int) -> dict[str, list[float]]:
    import psycopg

    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.store.base import qmark_to_format
    from bodhi_nb.store.postgres import PostgresStore
    from bodhi_nb.testing.postgres import PostgresServer

    with PostgresServer() as server:
        url = server.url(server.create_database("bench"))
        store = PostgresStore(url, DefaultTimeService())
        store.migrate()
        with psycopg.connect(url, autocommit=True) as conn:

            def bare_execute(sql: str, params: list[object]) -> list[Any]:
                cur = conn.execute(qmark_to_format(sql), params)
                return cur.fetchall() if cur.pgresult and cur.pgresult.ntuples else []

            out = _compare(store, bare_execute, n)
        store.close()
    return out


def _pair(name: str, samples: list[float], baseline: str,
          base: list[float]) -> list[dict[str, Any]]:
    ms = 1000
    return [line(f"{name}_p{p}_ms", percentile(samples, p) * ms, "ms", baseline=baseline,
                 baseline_value=percentile(base, p) * ms) for p in (50, 99)]


def run(n: int = 500) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        duck = _duckdb(root, n)
        handoff = _handoff(root, 100)
    pg = _postgres(n)
    return [
        *_pair("store_duckdb_create_get", duck["store_cg"],
               "bare duckdb insert+select (connection kept open)", duck["bare_cg"]),
        *_pair("store_duckdb_secret_get", duck["store_secret"],
               "bare duckdb select (connection kept open)", duck["bare_secret"]),
        *_pair("store_postgres_create_get", pg["store_cg"],
               "bare psycopg insert+select (connection kept open)", pg["bare_cg"]),
        *_pair("store_postgres_secret_get", pg["store_secret"],
               "bare psycopg select (connection kept open)", pg["bare_secret"]),
        *_pair("store_duckdb_handoff_write", handoff,
               "cold duckdb open+insert+close", duck["cold"]),
    ]
