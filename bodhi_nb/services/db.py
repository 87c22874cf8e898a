"""DbService: one DuckDB file under BODHI_HOME, shared by several kernels through a lease.

DuckDB lets one process at a time hold a file read-write and makes every other open fail at
once. So a kernel *leases* the file: a cross-process file lock next to the database
serialises processes, a unit of work (``with db.transaction() as conn:``) acquires the lease
with a bounded wait, opens or reuses the connection and runs in one transaction. The lease
(and the connection, which holds DuckDB's own lock) is handed back after a short idle time,
or straight after a unit of work once the lease has been held for ``max_hold`` seconds, so a
busy kernel cannot starve the others. Within one process a re-entrant mutex serialises
threads, so every method is usable from any thread.

Migrations are numbered SQL files in ``migrations/`` (``NNNN_name.up.sql`` and
``NNNN_name.down.sql``), applied in order, each in its own transaction, and recorded in
``schema_migrations`` with the SHA-256 of their up part; a changed applied migration is
refused.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bodhi_nb.errors import (
    BodhiError,
    BusyError,
    ConstraintError,
    MigrationFailedError,
    MigrationTamperedError,
    NotFoundError,
    QueryFailedError,
)
from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
from bodhi_nb.services._fs import atomic_write_text
from bodhi_nb.services.time import DefaultTimeService, TimeService

__all__ = ["DbService", "Migration", "load_migrations", "to_db_ts"]

T = TypeVar("T")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")
_PID = re.compile(r"PID (\d+)")
_DUCKDB_CONFIG = {
    # No network at run time: never try to fetch an extension.
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: str
    down: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.encode("utf-8")).hexdigest()


def load_migrations(folder: Path | None = None) -> list[Migration]:
    """The migrations shipped with the package (or found in ``folder``), in order."""
    root = folder if folder is not None else Path(__file__).resolve().parent / "migrations"
    parts: dict[tuple[int, str], dict[str, str]] = {}
    for entry in root.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            key = (int(match[1]), match[2])
            parts.setdefault(key, {})[match[3]] = entry.read_text(encoding="utf-8")
    migrations = []
    for (version, name), sql in sorted(parts.items()):
        if set(sql) != {"up", "down"}:
            raise MigrationFailedError(version=version, name=name,
                                       reason="needs both an up and a down file")
        migrations.append(Migration(version, name, sql["up"], sql["down"]))
    return migrations


def to_db_ts(value: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC (portable ``TIMESTAMP``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


_LIVE: weakref.WeakSet[DbService] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for db in list(_LIVE):
        db.close()


class DbService:
    """The lease-holding DuckDB store. Construct once per BODHI_HOME per process."""

    def __init__(
        self,
        path: Path,
        time: TimeService,
        *,
        lease_clock: TimeService | None = None,
        busy_timeout: float = 30.0,
        idle_close: float = 0.1,
        max_hold: float = 0.5,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self.path = Path(path)
        self.time = time
        # The lease runs on a real clock even when a test freezes ``time``: a frozen clock
        # would never hand the file back to other processes.
        self.clock = lease_clock or DefaultTimeService()
        self.busy_timeout = busy_timeout
        self.idle_close = idle_close
        self.max_hold = max_hold
        self.migrations = list(migrations if migrations is not None else load_migrations())
        self._mutex = threading.RLock()
        self._idle = threading.Condition(self._mutex)
        self._conn: Any = None
        self._flock: Any = None
        self._depth = 0
        self._held_since = 0.0
        self._last_used = 0.0
        self._yield_until = 0.0
        self._migrated = False
        self._applied_now = 0
        self._reaper: threading.Thread | None = None
        self.stats = {"leases": 0, "opens": 0, "waits": 0}
        self._read_cache: dict[Hashable, tuple[Any, Any]] = {}
        _LIVE.add(self)

    # -- public API -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One unit of work: the lease, the connection and a transaction around the block.

        Nested uses in the same thread join the outer transaction.
        """
        import duckdb

        with self._mutex:
            if self._depth == 0:
                self._acquire_lease()
                try:
                    self._conn.execute("BEGIN TRANSACTION")
                except duckdb.Error as exc:
                    self._release_lease()
                    raise _translate(exc) from exc
            self._depth += 1
            try:
                yield self._conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._end("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._end("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in its own unit of work and return all rows."""
        import duckdb

        with self.transaction() as conn:
            try:
                return list(conn.execute(sql, params or []).fetchall())
            except duckdb.Error as exc:
                raise _translate(exc) from exc

    def _topic_file(self, topic: str) -> Path:
        return Path(f"{self.path}.{topic}.version")

    def bump(self, topic: str) -> None:
        """Say that data under ``topic`` changed (call after the commit). Every process's
        :meth:`cached` values for the topic are then reloaded."""
        atomic_write_text(self._topic_file(topic), new_ulid())

    def cached(self, topic: str, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s result, reused until someone calls ``bump(topic)``.

        For hot read paths (resolving an alias before each chat request) that would
        otherwise take the lease, and so open the file, on every call. The check is one
        small file read, in any process.
        """
        try:
            version = self._topic_file(topic).read_text(encoding="ascii")
        except FileNotFoundError:
            version = ""
        with self._mutex:
            hit = self._read_cache.get((topic, key))
            if hit is not None and hit[0] == version:
                return hit[1]  # type: ignore[no-any-return]
        value = load()
        with self._mutex:
            # Recorded with the version seen *before* loading: a concurrent change makes the
            # next call load again rather than trust a stale value.
            self._read_cache[(topic, key)] = (version, value)
        return value

    def close(self) -> None:
        """Hand the lease back now (idempotent)."""
        with self._mutex:
            if self._depth == 0:
                self._release_lease()

    @property
    def lease_held(self) -> bool:
        return self._conn is not None

    def schema_version(self) -> int:
        rows = self.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
        return int(rows[0][0])

    def tables(self) -> list[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' ORDER BY table_name")
        return [r[0] for r in rows]

    # -- migrations -------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations; returns how many were applied."""
        with self._mutex:
            fresh_lease = self._conn is None and not self._migrated
            self._acquire_lease()  # a first lease migrates on its own
            try:
                if not fresh_lease:
                    self._migrate_locked()
                return self._applied_now
            finally:
                self._last_used = self.clock.monotonic()
                if self.idle_close <= 0:
                    self._release_lease()
                self._idle.notify_all()

    def migrate_down(self, target: int = 0) -> int:
        """Undo migrations above ``target`` (newest first); returns how many were undone."""
        import duckdb

        undone = 0
        with self._mutex:
            self._acquire_lease()
            self._migrated = True
            try:
                applied = self._applied_versions()
                for migration in reversed(self.migrations):
                    if migration.version <= target or migration.version not in applied:
                        continue
                    try:
                        self._conn.execute("BEGIN TRANSACTION")
                        self._conn.execute(migration.down)
                        self._conn.execute("DELETE FROM schema_migrations WHERE version = ?",
                                           [migration.version])
                        self._conn.execute("COMMIT")
                    except duckdb.Error as exc:
                        self._conn.execute("ROLLBACK")
                        raise MigrationFailedError(version=migration.version,
                                                   name=migration.name,
                                                   reason=_first_line(exc)) from exc
                    undone += 1
            finally:
                # This service stays at the lower version (no silent re-migration on its next
                # lease); a new DbService migrates up again.
                self._release_lease()
        return undone

    def _applied_versions(self) -> dict[int, str]:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
            " applied_at TIMESTAMP NOT NULL)")
        rows = self._conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()
        return {int(v): str(c) for v, c in rows}

    def _migrate_locked(self) -> None:
        import duckdb

        applied = self._applied_versions()
        self._applied_now = 0
        for migration in self.migrations:
            recorded = applied.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise MigrationTamperedError(version=migration.version, name=migration.name)
                continue
            try:
                self._conn.execute("BEGIN TRANSACTION")
                self._conn.execute(migration.up)
                self._conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                    "VALUES (?, ?, ?, ?)",
                    [migration.version, migration.name, migration.checksum,
                     to_db_ts(self.time.utc_now())])
                self._conn.execute("COMMIT")
            except duckdb.Error as exc:
                self._conn.execute("ROLLBACK")
                raise MigrationFailedError(version=migration.version, name=migration.name,
                                           reason=_first_line(exc)) from exc
            self._applied_now += 1
        self._migrated = True

    # -- download requests ------------------------------------------------------------------

    _DOWNLOAD_COLUMNS = ("id", "repo", "filename", "revision", "status", "error", "total_bytes",
                         "downloaded_bytes", "started_at", "archived_at", "created_at",
                         "updated_at")

    def create_download_request(self, request: DownloadRequest) -> None:
        values = [_db_value(getattr(request, c)) for c in self._DOWNLOAD_COLUMNS]
        marks = ", ".join("?" for _ in values)
        self.execute(f"INSERT INTO download_requests ({', '.join(self._DOWNLOAD_COLUMNS)}) "
                     f"VALUES ({marks})", values)

    def update_download_request(self, request: DownloadRequest) -> None:
        columns = [c for c in self._DOWNLOAD_COLUMNS if c not in ("id", "created_at")]
        sets = ", ".join(f"{c} = ?" for c in columns)
        values = [_db_value(getattr(request, c)) for c in columns]
        with self.transaction() as conn:
            found = conn.execute(f"UPDATE download_requests SET {sets} WHERE id = ? RETURNING id",
                                 [*values, request.id]).fetchall()
        if not found:
            raise NotFoundError(table="download_requests", id=request.id)

    def get_download_request(self, request_id: str) -> DownloadRequest | None:
        rows = self.execute(
            f"SELECT {', '.join(self._DOWNLOAD_COLUMNS)} FROM download_requests WHERE id = ?",
            [request_id])
        return self._download(rows[0]) if rows else None

    def list_download_requests(self, *, include_archived: bool = False,
                               limit: int = 100) -> list[DownloadRequest]:
        where = "" if include_archived else "WHERE archived_at IS NULL"
        rows = self.execute(
            f"SELECT {', '.join(self._DOWNLOAD_COLUMNS)} FROM download_requests {where} "
            "ORDER BY updated_at DESC, id DESC LIMIT ?", [limit])
        return [self._download(r) for r in rows]

    def _download(self, row: Sequence[Any]) -> DownloadRequest:
        return DownloadRequest.from_dict(dict(zip(self._DOWNLOAD_COLUMNS, row, strict=True)))

    # -- the lease --------------------------------------------------------------------------

    def _acquire_lease(self) -> None:
        """Caller holds ``_mutex``. Afterwards ``_conn`` is open and migrated."""
        if self._conn is not None:
            return
        import duckdb
        from filelock import FileLock, Timeout

        wait = self._yield_until - self.clock.monotonic()
        if wait > 0:
            self.clock.sleep(wait)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._flock is None:
            # thread_local=False: the idle reaper thread releases what a caller acquired.
            self._flock = FileLock(f"{self.path}.lock", thread_local=False)
        started = self.clock.monotonic()
        try:
            self._flock.acquire(timeout=self.busy_timeout, poll_interval=0.005)
        except Timeout:
            raise BusyError(path=self.path, pid=self._lease_owner(),
                            seconds=f"{self.busy_timeout:g}") from None
        if self.clock.monotonic() - started > 0.001:
            self.stats["waits"] += 1
        try:
            self._owner_file.write_text(str(os.getpid()), encoding="ascii")
            deadline = started + self.busy_timeout
            while True:
                try:
                    self._conn = duckdb.connect(str(self.path), config=dict(_DUCKDB_CONFIG))
                    break
                except duckdb.IOException as exc:
                    # Someone outside the lease protocol (an old kernel, a DuckDB CLI) holds
                    # the file: wait for them within the same bound.
                    if "lock" not in str(exc).lower():
                        raise _translate(exc) from exc
                    if self.clock.monotonic() >= deadline:
                        pid = _PID.search(str(exc))
                        raise BusyError(path=self.path, pid=pid[1] if pid else "?",
                                        seconds=f"{self.busy_timeout:g}") from None
                    self.clock.sleep(0.02)
            self.stats["opens"] += 1
            if not self._migrated:
                self._migrate_locked()
        except BaseException:
            self._release_lease()
            raise
        self.stats["leases"] += 1
        self._held_since = self.clock.monotonic()
        self._start_reaper()

    @property
    def _owner_file(self) -> Path:
        return Path(f"{self.path}.lease")

    def _lease_owner(self) -> str:
        try:
            return self._owner_file.read_text(encoding="ascii").strip() or "?"
        except OSError:
            return "?"

    def _end(self, verb: str) -> None:
        """Finish the unit of work's transaction; caller holds ``_mutex``, depth is 0."""
        import duckdb

        try:
            self._conn.execute(verb)
        except duckdb.Error as exc:
            self._release_lease()
            raise _translate(exc) from exc
        now = self.clock.monotonic()
        self._last_used = now
        if self.idle_close <= 0 or now - self._held_since >= self.max_hold:
            self._release_lease()
            # Give a kernel that is waiting a head start before we take the lease again.
            self._yield_until = now + 0.02
        else:
            self._idle.notify_all()

    def _release_lease(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        if self._flock is not None and self._flock.is_locked:
            self._flock.release(force=True)

    def _start_reaper(self) -> None:
        if self.idle_close <= 0 or (self._reaper is not None and self._reaper.is_alive()):
            return
        self._reaper = threading.Thread(target=self._reap, name="bodhi-db-lease", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        with self._idle:
            while self._conn is not None:
                remaining = self._last_used + self.idle_close - self.clock.monotonic()
                if self._depth == 0 and remaining <= 0:
                    self._release_lease()
                    return
                self._idle.wait(timeout=max(remaining, 0.005))


def _db_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_db_ts(value)
    if isinstance(value, DownloadStatus):
        return value.value
    return value


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _translate(exc: Exception) -> BodhiError:
    import duckdb

    if isinstance(exc, duckdb.ConstraintException):
        return ConstraintError(reason=_first_line(exc))
    return QueryFailedError(reason=_first_line(exc))
