"""PostgreSQL backend: connection errors, recovery after a server restart, concurrency.

Every test runs against a real server (``postgres`` fixture, Debian's binaries); the restart
tests start a server of their own so the session's server is never stopped under others.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from bodhi_nb.commands import render_error
from bodhi_nb.errors import (
    AuthFailedError,
    BadUrlError,
    BodhiError,
    DatabaseMissingError,
    DriverMissingError,
    UnreachableError,
)
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store import redact_password
from bodhi_nb.store.postgres import PostgresStore
from bodhi_nb.testing.postgres import PostgresServer, free_port

INSERT_SECRET = ("INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
                 " VALUES (?, 'v', 's', 'n', 'k', ?, ?)")


def _store(url: str, **kwargs: float) -> PostgresStore:
    return PostgresStore(url, DefaultTimeService(), **kwargs)  # type: ignore[arg-type]


def _count(store: PostgresStore, table: str) -> int:
    return int(store.execute(f"SELECT count(*) FROM {table}")[0][0])


def _no_password(exc: BodhiError, password: str, store: PostgresStore | None = None) -> None:
    shown = [str(exc), repr(exc), render_error(exc), repr(exc.params)]
    if store is not None:
        shown += [repr(store), store.location]
    for text in shown:
        assert password not in text, text


# -- connection errors: one code each, never the password ------------------------------------


def test_wrong_password_is_auth_failed(postgres: PostgresServer, pg_url: str) -> None:
    wrong = "not-the-Password-42"
    store = _store(pg_url.replace(postgres.password, wrong))
    with pytest.raises(AuthFailedError) as caught:
        store.execute("SELECT 1")
    assert caught.value.code == "db_error-auth_failed"
    assert caught.value.params["user"] == postgres.user
    _no_password(caught.value, wrong, store)
    _no_password(caught.value, postgres.password, store)


def test_missing_database_is_its_own_error(postgres: PostgresServer) -> None:
    store = _store(postgres.url("no_such_db"))
    with pytest.raises(DatabaseMissingError) as caught:
        store.migrate()
    assert caught.value.code == "db_error-database_missing"
    assert caught.value.params["database"] == "no_such_db"
    assert "createdb no_such_db" in render_error(caught.value)
    _no_password(caught.value, postgres.password, store)


def test_unreachable_port_is_unreachable(postgres: PostgresServer) -> None:
    url = f"postgresql://{postgres.user}:{postgres.password}@127.0.0.1:{free_port()}/x"
    store = _store(url)
    with pytest.raises(UnreachableError) as caught:
        with store.transaction() as tx:
            tx.execute("SELECT 1")
    assert caught.value.code == "db_error-unreachable"
    assert caught.value.params["reason"] == "Connection refused"
    assert "\n" not in render_error(caught.value)
    _no_password(caught.value, postgres.password, store)


@pytest.mark.parametrize("url", [
    "postgresql://me:S3cret-pw-value@db.example:notaport/bodhi",
    "postgresql://me:S3cret-pw-value@db.example/bodhi?colour=blue",
    "postgresql://me:S3cret-pw-value@db.example/bodhi?password=S3cret-pw-value&x=%zz",
    "mysql://me:S3cret-pw-value@db.example/bodhi",
])
def test_bad_url_is_bad_url_and_redacted(url: str) -> None:
    with pytest.raises(BadUrlError) as caught:
        _store(url)
    assert caught.value.code == "db_error-bad_url"
    assert "db.example" in caught.value.params["url"]
    _no_password(caught.value, "S3cret-pw-value")


def test_an_unsupported_url_never_shows_its_password() -> None:
    """The scheme check (before any driver) masked only user:password@, not ?password=."""
    from bodhi_nb.errors import BadUrlError
    from bodhi_nb.store import backend_of

    for url in ("mysql://me:pw-98765@h/db", "mysql://me@h/db?password=pw-98765",
                "mysql://me@h:notaport/db?PASSWORD=pw-98765"):
        with pytest.raises(BadUrlError) as caught:
            backend_of(url)
        assert "pw-98765" not in str(caught.value.params), url


def test_redact_password_masks_the_password_in_both_places() -> None:
    shown = redact_password("postgresql://me:pw-12345@h:5/db?password=pw-12345&sslmode=require")
    assert "pw-12345" not in shown
    assert shown.startswith("postgresql://") and "h:5/db" in shown and "sslmode=require" in shown


def test_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(DriverMissingError) as caught:
        _store("postgresql://me:pw@127.0.0.1:5432/bodhi")
    assert caught.value.params == {"backend": "postgresql", "extra": "postgres"}
    assert "bodhi_nb[postgres]" in render_error(caught.value)


# -- a server that goes away and comes back -------------------------------------------------


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A server of this test's own, free to stop and start."""
    with PostgresServer() as server:
        server.create_database("app")
        yield server


def test_server_stopped_mid_run_then_back(own_server: PostgresServer) -> None:
    store = _store(own_server.url("app"))
    now = DefaultTimeService().utc_now()
    store.execute(INSERT_SECRET, ["BEFORE", now, now])
    own_server.stop()
    # The pooled connection is dead, then the server refuses: both the coded one-liner.
    for _ in range(3):
        with pytest.raises(UnreachableError) as caught:
            store.execute(INSERT_SECRET, ["DOWN", now, now])
        assert caught.value.code == "db_error-unreachable"
        assert "\n" not in render_error(caught.value)
        _no_password(caught.value, own_server.password, store)
    own_server.start()
    # The same store object (the same kernel) works again, nothing lost, nothing half done.
    store.execute(INSERT_SECRET, ["AFTER", now, now])
    names = [r[0] for r in store.execute("SELECT name FROM secrets ORDER BY name")]
    assert names == ["AFTER", "BEFORE"]
    # Stopped in the middle of a unit of work: coded, and the unit is not half applied.
    with pytest.raises(UnreachableError):
        with store.transaction() as tx:
            tx.execute(INSERT_SECRET, ["HALF", now, now])
            own_server.stop()
            tx.execute(INSERT_SECRET, ["DONE", now, now])
    own_server.start()
    names = [r[0] for r in store.execute("SELECT name FROM secrets ORDER BY name")]
    assert names == ["AFTER", "BEFORE"]
    store.close()


def test_restart_while_idle_is_invisible(own_server: PostgresServer) -> None:
    """Connections left in the pool die with the server; one idle long enough is pinged
    when taken, and the unit of work runs on a fresh one."""
    ticks = [0.0]
    store = PostgresStore(own_server.url("app"), DefaultTimeService(),
                          monotonic=lambda: ticks[0])
    assert store.execute("SELECT 1") == [(1,)]
    own_server.stop()
    own_server.start()
    ticks[0] += 5.0  # the connection has been idle for longer than stale_after
    with store.transaction() as tx:
        assert tx.execute("SELECT 2") == [(2,)]
    assert store.stats["stale"] == 1
    store.close()


def test_close_then_use_reopens(pg_url: str) -> None:
    store = _store(pg_url)
    assert store.execute("SELECT 1") == [(1,)]
    store.close()
    store.close()
    assert store.execute("SELECT 2") == [(2,)]
    store.close()


# -- concurrency ------------------------------------------------------------------------------


def test_threads_share_the_pool(pg_url: str) -> None:
    store = _store(pg_url)
    now = DefaultTimeService().utc_now()
    errors: list[BaseException] = []

    def work(tag: int) -> None:
        try:
            for i in range(25):
                with store.transaction() as tx:
                    tx.execute(INSERT_SECRET, [f"T{tag}_{i}", now, now])
                    with store.transaction() as inner:  # joins, on the same connection
                        assert inner is tx
                        inner.execute("UPDATE secrets SET value = 'w' WHERE name = ?",
                                      [f"T{tag}_{i}"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(store, "secrets") == 200
    assert store.execute("SELECT DISTINCT value FROM secrets") == [("w",)]
    store.close()


_MIGRATE = r"""
import sys
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store.postgres import PostgresStore
store = PostgresStore(sys.argv[1], DefaultTimeService())
print(len(store.migrate()))
store.close()
"""


def test_processes_migrating_at_once_apply_each_migration_once(
        pg_url: str, subprocess_env: dict[str, str]) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", _MIGRATE, pg_url], env=subprocess_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    applied = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert err == ""
        applied.append(int(out))
    store = _store(pg_url)
    assert sum(applied) == store.runner.code_version
    assert store.info().pending == ()
    store.close()
