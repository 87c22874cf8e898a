from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from _fs_support import read_only

from bodhi_nb.errors import (
    BusyError,
    ConstraintError,
    CorruptError,
    HomeNotADirectoryError,
    HomeNotWritableError,
    MigrationTamperedError,
    QueryFailedError,
)
from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
from bodhi_nb.services.time import DefaultTimeService, FrozenTimeService
from bodhi_nb.store.downloads import DownloadsTable
from bodhi_nb.store.duckdb import DuckDbStore
from bodhi_nb.store.migrate import load_migrations

WORKER = str(Path(__file__).with_name("db_worker.py"))
TABLES = {"download_requests", "user_access_requests", "api_model_aliases", "api_tokens",
          "sessions", "secrets", "chat_messages", "schema_migrations", "store_versions"}


def _db(path: Path, **kw: object) -> DuckDbStore:
    return DuckDbStore(path / "bodhi.duckdb", FrozenTimeService(), **kw)  # type: ignore[arg-type]


def test_first_lease_migrates_to_head(tmp_path: Path) -> None:
    db = _db(tmp_path)
    assert set(db.tables()) == TABLES
    assert db.schema_version() == max(m.version for m in load_migrations())
    db.close()


def test_every_migration_up_down_up(tmp_path: Path) -> None:
    db = _db(tmp_path)
    head = db.schema_version()
    assert len(db.migrate_down(head)) == head
    assert set(db.tables()) == {"schema_migrations"}
    assert db.schema_version() == 0
    db2 = _db(tmp_path)  # a fresh service re-applies everything
    assert len(db2.migrate()) == head
    assert set(db2.tables()) == TABLES
    db2.close()
    db.close()


def test_each_migration_step_down_and_up(tmp_path: Path) -> None:
    migrations = load_migrations()
    for m in migrations:
        db = _db(tmp_path, migrations=migrations[: m.version])
        assert db.schema_version() == m.version
        assert [x.version for x in db.migrate_down(1)] == [m.version]
        assert [x.version for x in db.migrate()] == [m.version]
        db.close()


def test_tampered_applied_migration_is_refused(tmp_path: Path) -> None:
    _db(tmp_path).migrate()
    original = load_migrations()
    changed = [dataclasses.replace(original[0], up=original[0].up + "\n-- edited\n"),
               *original[1:]]
    with pytest.raises(MigrationTamperedError) as info:
        _db(tmp_path, migrations=changed).schema_version()
    assert info.value.params["version"] == "1"


def test_tampered_checksum_in_database_is_refused(tmp_path: Path) -> None:
    db = _db(tmp_path)
    db.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")
    db.close()
    assert db.execute("SELECT checksum FROM schema_migrations WHERE version = 1") == [("x",)]
    with pytest.raises(MigrationTamperedError):
        _db(tmp_path).tables()


def test_check_constraints_and_rollback(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(ConstraintError):
        db.execute("INSERT INTO download_requests (id, repo, filename, status, created_at, "
                   "updated_at) VALUES ('a', 'o/n', 'f', 'downloading', now(), now())")
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO sessions (id, expires_at, created_at, updated_at) "
                     "VALUES ('s1', now(), now(), now())")
        raise RuntimeError("abort the unit of work")
    assert db.execute("SELECT count(*) FROM sessions") == [(0,)]
    with pytest.raises(QueryFailedError):
        db.execute("SELECT * FROM no_such_table")
    db.close()


def test_download_request_crud(tmp_path: Path) -> None:
    clock = FrozenTimeService()
    db = DuckDbStore(tmp_path / "bodhi.duckdb", clock)
    rows = DownloadsTable(db)
    now = clock.utc_now()
    req = DownloadRequest(new_ulid(now), "o/n", "f.gguf", DownloadStatus.PENDING, now, now)
    rows.create(req)
    assert rows.get(req.id) == req
    done = dataclasses.replace(req, status=DownloadStatus.COMPLETED, total_bytes=10,
                               downloaded_bytes=10, started_at=now)
    rows.update(done)
    assert rows.get(req.id) == done
    assert rows.list() == [done]
    assert rows.get("missing") is None
    db.close()


def test_lease_is_released_after_idle(tmp_path: Path) -> None:
    db = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(), idle_close=0.05)
    db.execute("SELECT 1")
    assert db.lease_held
    deadline = threading.Event()
    for _ in range(200):
        if not db.lease_held:
            break
        deadline.wait(0.01)
    assert not db.lease_held
    # and another service (standing in for another kernel) can now open the file at once
    other = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(), busy_timeout=0.2)
    assert other.execute("SELECT 42") == [(42,)]
    other.close()


def test_threads_share_one_service(tmp_path: Path) -> None:
    db = _db(tmp_path)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                db.execute("INSERT INTO sessions (id, expires_at, created_at, updated_at) "
                           "VALUES (?, now(), now(), now())", [f"t{n}-{i}"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert db.execute("SELECT count(*) FROM sessions") == [(80,)]
    db.close()


@pytest.mark.slow
def test_two_processes_600_mixed_writes(tmp_path: Path, subprocess_env: dict[str, str],
                                        python: str) -> None:
    _db(tmp_path).migrate()  # migrate first so both children start on the same schema
    procs = [subprocess.Popen([python, WORKER, "writes", str(tmp_path), tag, "300"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=subprocess_env) for tag in ("a", "b")]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, (out, err)
        assert "ERR" not in out and out.strip().endswith("OK 300")
    db = _db(tmp_path)
    counts = [db.execute(f"SELECT count(*) FROM {t}")[0][0]
              for t in ("download_requests", "user_access_requests", "chat_messages")]
    assert sum(counts) == 600
    assert db.execute("SELECT sum(downloaded_bytes) FROM download_requests") == [(200,)]
    db.close()


@pytest.mark.slow
def test_sigkilled_holder_does_not_block_the_next_process(
        tmp_path: Path, subprocess_env: dict[str, str], python: str) -> None:
    _db(tmp_path).migrate()
    holder = subprocess.Popen([python, WORKER, "hold", str(tmp_path)], stdout=subprocess.PIPE,
                              text=True, env=subprocess_env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HOLDING"
        waiting = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(), busy_timeout=0.3)
        with pytest.raises(BusyError) as info:
            waiting.execute("SELECT 1")
        assert info.value.params["pid"] == str(holder.pid)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    after = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(), busy_timeout=5)
    after.execute("INSERT INTO sessions (id, expires_at, created_at, updated_at) "
                  "VALUES ('after-kill', now(), now(), now())")
    assert after.execute("SELECT id FROM sessions") == [("after-kill",)]
    after.close()


def test_cached_reads_reload_only_after_a_bump_by_any_service(tmp_path: Path) -> None:
    first, other = _db(tmp_path), _db(tmp_path)  # two kernels on one BODHI_HOME
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert first.cached("topic", "k", load) == 1
    assert first.cached("topic", "k", load) == 1, "no reload without a change"
    other.bump("topic")
    assert first.cached("topic", "k", load) == 2, "another service's bump reloads"
    assert first.cached("other-topic", "k", load) == 3
    assert first.cached("topic", "k", load) == 2
    assert not first.lease_held, "a cache hit never takes the lease"


@pytest.mark.slow
def test_eight_processes_setting_25_secrets_each_on_one_home(
        tmp_path: Path, subprocess_env: dict[str, str], python: str) -> None:
    """Eight kernels store secrets at once through full registries (the real 600,000-round
    key derivation included): no lease wait runs out, nothing is lost."""
    home = tmp_path / "home"
    env = dict(subprocess_env, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    procs = [subprocess.Popen([python, WORKER, "secrets", str(home), f"p{n}", "25"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for n in range(8)]
    errors: list[str] = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert out.strip(), err
        errors += json.loads(out.strip().splitlines()[-1])["errors"]
    assert errors == [], f"{len(errors)} of 200 writes failed: {sorted(set(errors))}"
    assert all(p.returncode == 0 for p in procs)
    db = _db(home)
    assert db.execute("SELECT count(*) FROM secrets WHERE name NOT LIKE 'bodhi:%'") == [(200,)]
    assert db.execute("SELECT count(DISTINCT key_id) FROM secrets") == [(1,)]
    db.close()


def test_home_and_database_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "a" / "home"
    old = os.umask(0)
    try:
        db = DuckDbStore(home / "bodhi.duckdb", DefaultTimeService(), idle_close=60)
        db.execute("INSERT INTO sessions (id, expires_at, created_at, updated_at) "
                   "VALUES ('s', now(), now(), now())")
        files = [home / n for n in ("bodhi.duckdb", "bodhi.duckdb.wal", "bodhi.duckdb.lock",
                                    "bodhi.duckdb.lease")]
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files if f.exists()}
        db.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert "bodhi.duckdb" in modes and "bodhi.duckdb.lock" in modes
    assert {name: mode & 0o077 for name, mode in modes.items()} == dict.fromkeys(modes, 0)
    # after the checkpoint of close(), still private
    assert stat.S_IMODE((home / "bodhi.duckdb").stat().st_mode) == 0o600


def test_a_file_where_bodhi_home_should_be_is_a_coded_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    with pytest.raises(HomeNotADirectoryError) as info:
        DuckDbStore(home / "bodhi.duckdb", DefaultTimeService()).execute("SELECT 1")
    assert info.value.params["path"] == str(home)
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    with pytest.raises(HomeNotADirectoryError):
        build_app_service(SettingService(env={"BODHI_HOME": str(home)}))


@pytest.mark.parametrize("fresh", [True, False])
def test_a_read_only_home_is_a_coded_error(tmp_path: Path, fresh: bool) -> None:
    home = tmp_path / "home"
    if not fresh:
        db = _db(home)
        db.migrate()
        db.close()
    home.mkdir(exist_ok=True)
    with read_only(home), pytest.raises(HomeNotWritableError) as info:
        DuckDbStore(home / "bodhi.duckdb", DefaultTimeService(), busy_timeout=1).execute(
            "SELECT 1")
    assert info.value.params["path"] == str(home)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_database_is_a_coded_error_naming_the_file(tmp_path: Path,
                                                             damage: str) -> None:
    db = _db(tmp_path)
    db.execute("INSERT INTO sessions (id, expires_at, created_at, updated_at) "
               "VALUES ('s', now(), now(), now())")
    db.close()
    path = tmp_path / "bodhi.duckdb"
    data = path.read_bytes()
    path.write_bytes(data[:100] if damage == "truncated" else b"\x00garbage" * 1000)
    with pytest.raises(CorruptError) as info:
        _db(tmp_path).execute("SELECT 1")
    assert info.value.params["path"] == str(path)


def test_hand_back_releases_an_idle_lease_at_once(tmp_path: Path) -> None:
    db = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(), idle_close=60)
    db.execute("SELECT 1")
    assert db.lease_held
    db.hand_back()
    assert not db.lease_held
    with db.transaction():
        db.hand_back()  # inside a unit of work: kept
        assert db.lease_held
    db.close()


def test_waiting_kernels_get_the_lease_in_the_order_they_came(tmp_path: Path) -> None:
    """A plain file lock goes to whichever waiter polls first; the queue serves them in
    turn, so no kernel waits through many turns of the others."""
    path = tmp_path / "bodhi.duckdb"
    holder = DuckDbStore(path, DefaultTimeService(), idle_close=3600, max_hold=3600)
    holder.migrate()
    assert holder.lease_held
    order: list[str] = []
    lock = threading.Lock()

    def wait_then_write(name: str) -> None:
        db = DuckDbStore(path, DefaultTimeService(), idle_close=0, busy_timeout=30)
        with db.transaction():
            with lock:
                order.append(name)
        db.close()

    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=wait_then_write, args=(name,))
        thread.start()
        threads.append(thread)
        deadline = time.monotonic() + 10
        queue = Path(f"{path}.queue")
        while time.monotonic() < deadline and not (
                queue.is_dir() and len(os.listdir(queue)) == len(threads)):
            time.sleep(0.005)  # this waiter has queued before the next one starts
    holder.close()
    for thread in threads:
        thread.join(timeout=60)
    assert order == ["first", "second", "third"]


def test_kernels_creating_bodhi_home_at_once_all_succeed(tmp_path: Path) -> None:
    """Several kernels started together each find no BODHI_HOME and create it: none may
    take the folder another just made for "a file where BODHI_HOME should be"."""
    from bodhi_nb.store.duckdb import prepare_home

    failures: list[BaseException] = []
    for round_ in range(30):
        home = tmp_path / f"round{round_}" / "home"
        barrier = threading.Barrier(8)

        def create(home: Path = home, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                prepare_home(home)
            except BaseException as exc:  # reported below
                failures.append(exc)

        threads = [threading.Thread(target=create) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
