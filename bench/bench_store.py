"""The store floor on both backends, each against its bare driver in the same run.

* create+get: p50/p99 of ``DownloadsTable.create`` + ``DownloadsTable.get`` (the table
  module, its row-to-object conversion and the store's unit of work), against the same two
  statements on a bare connection kept open: DuckDB (``duckdb.connect`` kept open, the store
  on a warm lease) and PostgreSQL (one ``psycopg`` connection kept open, the store pooled).
  Both sides build and validate the same ``DownloadRequest`` and rebuild one from the row
  they read back, so the difference is the store's own work.
* secret retrieve: p50/p99 of ``SecretsTable.get`` against the same SELECT, bare, both
  making an ``Envelope`` of the row.
* DuckDB hand-off: two processes alternate single writes on one BODHI_HOME; p50/p99 of a
  write that must wait for the other process to hand the file over, against a cold
  ``duckdb.connect`` + insert + close on the same file (what every write would pay without
  a lease), measured between the bursts of hand-off writes.

Store and bare samples alternate (one of each in turn), so load from elsewhere on the
machine slows both sides alike.

The benchmark starts its own PostgreSQL server (Debian's binaries, as the tests do).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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

def write(i):
    now = clock.utc_now()
    req = DownloadRequest(new_ulid(), "o/n", f"h{i}.gguf", DownloadStatus.PENDING, now, now)
    t0 = time.perf_counter()
    table.create(req)
    return time.perf_counter() - t0

for i in range(3):  # warm-up (first lease, migrations), not measured
    write(-1 - i)
print("ready", flush=True)
for burst in sys.stdin:
    if burst.strip() != "go":
        break
    lat = []
    for i in range(int(sys.argv[2])):
        lat.append(write(i))
        time.sleep(0.002)
    print(" ".join(f"{x:.6f}" for x in lat), flush=True)
store.close()
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
    """The same statements as :func:`_store_ops`, and the same objects: the request is built
    (and validated) the same way, its values are written by hand, the row read back becomes
    a ``DownloadRequest`` compared with the original, the secret row an ``Envelope``."""
    from bodhi_nb.objs import DownloadRequest, DownloadStatus, Envelope
    from bodhi_nb.services.time import DefaultTimeService

    now = DefaultTimeService().utc_now()
    stamp = now.replace(tzinfo=None)
    execute("INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, 'k1', ?, ?) ON CONFLICT (name) DO NOTHING",
            ["BENCH_SECRET", "v2:" + "A" * 80, "s" * 44, "n" * 16, stamp, stamp])

    def create_get(i: int) -> None:
        req = DownloadRequest(f"{tag}{i}", "o/n", f"f{i}.gguf", DownloadStatus.PENDING, now,
                              now)
        execute(_INSERT_DOWNLOAD, [req.id, req.repo, req.filename, req.revision,
                                   req.status.value, req.error, req.total_bytes,
                                   req.downloaded_bytes, None, None, stamp, stamp])
        row = execute(_SELECT_DOWNLOAD, [req.id])[0]
        assert DownloadRequest(row[0], row[1], row[2], row[4], row[10], row[11], row[3],
                               row[5], row[6], row[7], row[8], row[9]) == req

    def retrieve(i: int) -> None:
        rows = execute(_SELECT_SECRET, ["BENCH_SECRET"])
        assert Envelope(*(str(v) for v in rows[0])) is not None

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
    return out


def _cold(path: Path, i: int) -> float:
    import duckdb

    t0 = time.perf_counter()
    c = duckdb.connect(str(path))
    c.execute("INSERT INTO download_requests (id, repo, filename, status, created_at,"
              " updated_at) VALUES (?, 'o/n', 'f', 'pending', now(), now())", [f"cold{i}"])
    c.close()
    return time.perf_counter() - t0


def _handoff(root: Path, bursts: int, each: int) -> tuple[list[float], list[float]]:
    """Hand-off writes of two processes, in bursts, and cold writes by this process on the
    same file between the bursts (the children idle then), so that load from elsewhere on
    the machine falls on both alike."""
    home = root / "handoff"
    home.mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", _HANDOFF_CHILD, str(home), str(each)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    handoff: list[float] = []
    cold: list[float] = []
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for burst in range(bursts):
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write("go\n")
                proc.stdin.flush()
            for proc in procs:
                assert proc.stdout is not None
                handoff += [float(x) for x in proc.stdout.readline().split()]
            for i in range(each):  # (every child handed the lease back after its burst)
                cold.append(_cold(home / "bodhi.duckdb", burst * each + i))
    finally:
        for proc in procs:
            proc.communicate("quit\n", timeout=600)
    return handoff, cold


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

            formatted: dict[str, str] = {}  # (as if written with %s by hand)

            def bare_execute(sql: str, params: list[object]) -> list[Any]:
                query = formatted.get(sql)
                if query is None:
                    query = formatted[sql] = qmark_to_format(sql)
                cur = conn.execute(query, params)
                return cur.fetchall() if cur.pgresult and cur.pgresult.ntuples else []

            out = _compare(store, bare_execute, n)
        store.close()
    return out


def _pair(name: str, samples: list[float], baseline: str,
          base: list[float]) -> list[dict[str, Any]]:
    ms = 1000
    return [line(f"{name}_p{p}_ms", percentile(samples, p) * ms, "ms", baseline=baseline,
                 baseline_value=percentile(base, p) * ms) for p in (50, 99)]


def run(n: int = 1000) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        duck = _duckdb(root, n)
        handoff, cold = _handoff(root, 20, 20)  # 800 hand-offs, 400 cold writes
    pg = _postgres(4 * n)  # (fast ops: more samples, a p99 less at the mercy of noise)
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
               "cold duckdb open+insert+close", cold),
    ]
