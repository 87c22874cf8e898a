"""The store floor's contract, on both backends (DuckDB under BODHI_HOME, PostgreSQL).

Each test runs twice through ``db_url``: a DuckDB file in the test's temp folder, then a
fresh database on the session's PostgreSQL server. Same SQL, same results, same error codes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bodhi_nb.errors import (
    ConstraintError,
    MigrationTamperedError,
    QueryFailedError,
    SchemaTooNewError,
)
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store.base import Store
from bodhi_nb.store.migrate import Migration, load_migrations

MakeStore = Callable[..., Store]

INSERT_SECRET = ("INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
                 " VALUES (?, ?, 's', 'n', 'k', ?, ?)")
NOW = datetime(2025, 1, 2, 3, 4, 5)
WAVE_ONE = {"api_model_aliases", "api_tokens", "chat_messages", "download_requests",
            "secrets", "sessions", "user_access_requests"}


@pytest.fixture
def make_store(db_url: str | None, tmp_path: Path) -> Iterator[MakeStore]:
    """Builds stores on the test's database (several may share it, as several processes
    would); all are closed at the end."""
    made: list[Store] = []

    def make(migrations: Sequence[Migration] | None = None) -> Store:
        store: Store
        if db_url is None:
            from bodhi_nb.store.duckdb import DuckDbStore

            store = DuckDbStore(tmp_path / "bodhi.duckdb", DefaultTimeService(),
                                migrations=migrations)
        else:
            from bodhi_nb.store.postgres import PostgresStore

            store = PostgresStore(db_url, DefaultTimeService(), migrations)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


def _secret_names(store: Store) -> list[str]:
    return [str(r[0]) for r in store.execute("SELECT name FROM secrets ORDER BY name")]


def _add_secret(store: Store, name: str, value: str = "v") -> None:
    store.execute(INSERT_SECRET, [name, value, NOW, NOW])


# -- migrations -------------------------------------------------------------------------------


def test_a_new_store_reports_pending_then_migrates_on_first_use(make_store: MakeStore,
                                                                 db_url: str | None) -> None:
    store = make_store()
    before = store.info()
    assert before.schema_version == 0 and before.applied == ()
    assert [m.version for m in before.pending] == [m.version for m in load_migrations()]
    assert before.backend == ("duckdb" if db_url is None else "postgresql")
    _add_secret(store, "FIRST")  # the first unit of work migrates
    after = store.info()
    assert after.schema_version == after.code_version == load_migrations()[-1].version
    assert after.pending == ()
    assert WAVE_ONE <= set(store.tables())
    if db_url is not None:
        password = db_url.split(":")[2].split("@")[0]
        assert password not in after.location and password not in repr(store)


def test_migrations_up_down_up(make_store: MakeStore) -> None:
    store = make_store()
    applied = store.migrate()
    newest = load_migrations()[-1]
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    assert store.migrate() == []  # nothing left to do
    undone = store.migrate_down(1)
    assert [(m.version, m.name) for m in undone] == [(newest.version, newest.name)]
    assert store.info().schema_version == newest.version - 1
    assert [m.version for m in store.info().pending] == [newest.version]
    everything = store.migrate_down(99)
    assert [m.version for m in everything] == sorted(
        (m.version for m in load_migrations()[:-1]), reverse=True)
    assert store.info().schema_version == 0
    assert not WAVE_ONE & set(store.tables())
    again = store.migrate()
    assert len(again) == len(load_migrations())
    assert WAVE_ONE <= set(store.tables())
    _add_secret(store, "AFTER_ROUND_TRIP")
    assert _secret_names(store) == ["AFTER_ROUND_TRIP"]


def test_a_changed_applied_migration_is_refused(make_store: MakeStore) -> None:
    make_store().migrate()
    shipped = load_migrations()
    tampered = [replace(shipped[0], up=shipped[0].up + "\n-- edited after release\n"),
                *shipped[1:]]
    store = make_store(tampered)
    with pytest.raises(MigrationTamperedError) as caught:
        store.execute("SELECT 1")
    assert caught.value.code == "db_error-migration_tampered"
    assert caught.value.params["version"] == str(shipped[0].version)
    with pytest.raises(MigrationTamperedError):
        store.migrate()


def test_a_database_newer_than_the_code_is_refused(make_store: MakeStore) -> None:
    old = make_store()
    old.migrate()
    old.execute("INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                "VALUES (?, 'from_the_future', 'abc', ?)", [9999, NOW])
    old.close()
    store = make_store()
    with pytest.raises(SchemaTooNewError) as caught:
        _add_secret(store, "NEVER")
    assert caught.value.code == "db_error-schema_too_new"
    assert caught.value.params["version"] == "9999"
    assert caught.value.params["supported"] == str(load_migrations()[-1].version)
    with pytest.raises(SchemaTooNewError):
        store.migrate()
    assert store.info().schema_version == 9999


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sql, params", [
    # a duplicate primary key
    (INSERT_SECRET, ["DUP", "v", NOW, NOW]),
    # NOT NULL
    ("INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
     " VALUES (?, NULL, 's', 'n', 'k', ?, ?)", ["NULLED", NOW, NOW]),
    # CHECK
    ("INSERT INTO download_requests (id, repo, filename, status, created_at, updated_at)"
     " VALUES (?, 'o/n', 'f.gguf', 'exploded', ?, ?)", ["d1", NOW, NOW]),
])
def test_constraint_violations_have_one_code_on_both(make_store: MakeStore, sql: str,
                                                      params: list[object]) -> None:
    store = make_store()
    _add_secret(store, "DUP")
    with pytest.raises(ConstraintError) as caught:
        store.execute(sql, params)
    assert caught.value.code == "db_error-constraint"
    assert _secret_names(store) == ["DUP"]


def test_bad_sql_is_query_failed(make_store: MakeStore) -> None:
    store = make_store()
    with pytest.raises(QueryFailedError) as caught:
        store.execute("SELECT no_such_column FROM secrets")
    assert caught.value.code == "db_error-query_failed"
    # the store is still usable afterwards
    _add_secret(store, "STILL_FINE")
    assert _secret_names(store) == ["STILL_FINE"]


# -- units of work ----------------------------------------------------------------------------


def test_nested_transactions_join_the_outer_one(make_store: MakeStore) -> None:
    store = make_store()
    with store.transaction() as outer:
        outer.execute(INSERT_SECRET, ["OUTER", "v", NOW, NOW])
        with store.transaction() as inner:
            inner.execute(INSERT_SECRET, ["INNER", "v", NOW, NOW])
            # the inner unit sees the outer's uncommitted row: one transaction
            assert [r[0] for r in inner.execute("SELECT name FROM secrets ORDER BY name")] \
                == ["INNER", "OUTER"]
        _add_secret(store, "VIA_STORE")  # store.execute joins too
    assert _secret_names(store) == ["INNER", "OUTER", "VIA_STORE"]


def test_a_failed_unit_rolls_back_entirely(make_store: MakeStore) -> None:
    store = make_store()
    _add_secret(store, "KEPT")
    with pytest.raises(ConstraintError):
        with store.transaction() as tx:
            tx.execute(INSERT_SECRET, ["NEW", "v", NOW, NOW])
            with store.transaction() as inner:
                inner.execute("UPDATE secrets SET value = 'changed' WHERE name = 'KEPT'")
            tx.execute(INSERT_SECRET, ["KEPT", "v", NOW, NOW])  # duplicate: fails
    assert _secret_names(store) == ["KEPT"]
    assert store.execute("SELECT value FROM secrets") == [("v",)]


def test_an_exception_in_the_block_rolls_back(make_store: MakeStore) -> None:
    store = make_store()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with store.transaction() as tx:
            tx.execute(INSERT_SECRET, ["GONE", "v", NOW, NOW])
            raise Boom
    assert _secret_names(store) == []


def test_values_cross_the_floor_the_same_way(make_store: MakeStore) -> None:
    store = make_store()
    store.execute(
        "INSERT INTO api_model_aliases (id, name, base_url, forward_all_with_prefix, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        ["a1", "gpt", "https://api.example/v1", True, NOW, NOW])
    store.execute("INSERT INTO download_requests (id, repo, filename, status, total_bytes,"
                  " created_at, updated_at) VALUES (?, 'o/n', ?, 'pending', ?, ?, ?)",
                  ["d1", "100% sure.gguf", 2**40, NOW, NOW])
    rows = store.execute("SELECT forward_all_with_prefix, prefix, created_at FROM "
                         "api_model_aliases WHERE id = ?", ["a1"])
    assert rows == [(True, None, NOW)]
    assert store.execute("SELECT filename, total_bytes FROM download_requests") == [
        ("100% sure.gguf", 2**40)]
    # a literal % without params is left alone
    assert store.execute("SELECT count(*) FROM download_requests WHERE filename "
                         "LIKE '100%'") == [(1,)]


# -- cached reads -----------------------------------------------------------------------------


def test_cached_values_are_reloaded_after_a_bump_by_another_store(
        make_store: MakeStore) -> None:
    """Two store objects on one database stand for two processes (or two hosts)."""
    reader, writer = make_store(), make_store()
    _add_secret(writer, "A")
    writer.hand_back()
    loads: list[list[str]] = []

    def load() -> list[str]:
        loads.append(_secret_names(reader))
        return loads[-1]

    assert reader.cached("secrets", "names", load) == ["A"]
    assert reader.cached("secrets", "names", load) == ["A"]
    assert len(loads) == 1  # reused while nothing was bumped
    reader.hand_back()
    _add_secret(writer, "B")
    writer.bump("secrets")
    writer.hand_back()
    assert reader.cached("secrets", "names", load) == ["A", "B"]
    assert len(loads) == 2
    # another topic's bump leaves this one cached
    writer.bump("api_aliases")
    writer.hand_back()
    assert reader.cached("secrets", "names", load) == ["A", "B"]
    assert len(loads) == 2


# -- the registry on either backend ---------------------------------------------------------


def test_the_registry_uses_the_backend_the_setting_names(db_url: str | None, app: Any) -> None:
    """``db_url`` before ``app``: the registry is built with BODHI_DATABASE_URL set (or not)."""
    db = app.db_service()
    assert db.backend == ("duckdb" if db_url is None else "postgresql")
    secrets = app.secret_service()
    secrets.store_secret("HF_TOKEN", "hf_value_0123456789abcdef")
    assert [s.name for s in secrets.list_secrets()] == ["HF_TOKEN"]
    assert secrets.retrieve_secret("HF_TOKEN") == "hf_value_0123456789abcdef"
    info = db.info()
    assert info.pending == () and info.schema_version == info.code_version
    if db_url is not None:
        assert db.location == db_url.replace(db_url.split(":")[2].split("@")[0], "***")
