"""DbService: one DuckDB file under BODHI_HOME, shared by several kernels through a lease.

DuckDB lets one process at a time hold a file read-write and makes every other open fail at
once. So a kernel *leases* the file: a cross-process file lock next to the database
serialises processes, a unit of work (``with db.transaction() as conn:``) acquires the lease
with a bounded wait, opens or reuses the connection and runs in one transaction. The lease
(and the connection, which holds DuckDB's own lock) is handed back after a short idle time,
or straight after a unit of work once the lease has been held for ``max_hold`` seconds, so a
busy kernel cannot starve the others. Within one process a re-entrant mutex serialises
threads, so every method is usable from any thread.

Only the unit of work runs under the lease: callers do slow work (key derivation, network,
imports) before it, and :meth:`DbService.hand_back` returns an idle lease at once before such
work, so that other kernels never wait for it. Waiting kernels queue (a ticket file each in
``bodhi.duckdb.queue/``) and get the lease in turn.

The database, its write-ahead log and the lock files are private to their owner (0600), and
a BODHI_HOME this service creates is 0700, whatever the umask. An unusable BODHI_HOME (a
file in its place, no write permission) or a damaged database file is a coded error naming
the path, never a raw ``OSError``.

Migrations are numbered SQL files in ``migrations/`` (``NNNN_name.up.sql`` and
``NNNN_name.down.sql``), applied in order, each in its own transaction, and recorded in
``schema_migrations`` with the SHA-256 of their up part; a changed applied migration is
refused.
"""

from __future__ import annotations

import atexit
import contextlib
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
from time import time_ns
from typing import Any, TypeVar

from bodhi_nb.errors import (
    BodhiError,
    BusyError,
    ConstraintError,
    CorruptError,
    HomeNotADirectoryError,
    HomeNotWritableError,
    MigrationFailedError,
    MigrationTamperedError,
    NotFoundError,
    QueryFailedError,
)
from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid
from bodhi_nb.services._fs import atomic_write_text, make_private_dir
from bodhi_nb.services.time import DefaultTimeService, TimeService

__all__ = ["DbService", "FlockFile", "Migration", "load_migrations", "prepare_home",
           "to_db_ts"]

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


def prepare_home(home: Path) -> None:
    """Create BODHI_HOME (0700 whatever the umask) or check it is a writable folder;
    HomeNotADirectoryError / HomeNotWritableError name the path otherwise."""
    home = Path(home)
    try:
        if not home.is_dir():
            # (another kernel may create it meanwhile: only a non-folder is an error)
            if (home.exists() or home.is_symlink()) and not home.is_dir():
                raise HomeNotADirectoryError(path=home)
            for parent in home.parents:
                if parent.exists() and not parent.is_dir():
                    raise HomeNotADirectoryError(path=parent)
                if parent.is_dir():
                    break
            try:
                make_private_dir(home)
            except FileExistsError:
                raise HomeNotADirectoryError(path=home) from None
        if not os.access(home, os.W_OK | os.X_OK):
            raise HomeNotWritableError(path=home, reason="permission denied")
    except OSError as exc:
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            raise HomeNotADirectoryError(path=home) from exc
        raise HomeNotWritableError(path=home, reason=_first_line(exc)) from exc


class FlockFile:
    """An exclusive lock between processes on a file (``flock(2)``, as the ``filelock``
    package takes it, without its import cost): the kernel drops it when the process dies,
    so a killed holder never blocks anyone. Any thread may release what another took."""

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = Path(path)
        self.mode = mode
        self._fd: int | None = None
        self._guard = threading.Lock()

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits. OSError if the file cannot be made."""
        import fcntl

        with self._guard:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
            return True

    def acquire(self, timeout: float, poll: float = 0.005) -> bool:
        """Wait up to ``timeout`` seconds for the lock; False if it stayed taken."""
        import time

        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def release(self) -> None:
        import fcntl

        with self._guard:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def _live_tickets(queue: Path) -> list[str]:
    """The waiting tickets of a lease queue, oldest first; tickets of processes that died
    while waiting are removed."""
    try:
        names = sorted(os.listdir(queue))
    except OSError:
        return []
    live = []
    for name in names:
        parts = name.split("-")
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(queue / name)
            continue
        except OSError:
            pass  # another user's process: alive
        live.append(name)
    return live


def _make_private(path: Path) -> None:
    """chmod 0600 a file that exists and is readable by others; never raises."""
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except OSError:
        pass


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
        max_hold: float = 0.2,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self.path = Path(path)
        self.time = time
        # The lease runs on a real clock even when a test freezes ``time``: a frozen clock
        # would never hand the file back to other processes.
        self.clock = lease_clock or DefaultTimeService()
        self.busy_timeout = busy_timeout
        self.idle_close = idle_close
        # 0.2 s: with four kernels storing a secret every 20 ms, p99 of a store was ~1.1 s
        # (1.9 s at 0.5 s); a turn shorter still pays a close and an open too often.
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

    def hand_back(self) -> None:
        """Hand an idle lease back now, before slow work that needs no database (deriving a
        key, a network call), so other kernels do not wait for it. A unit of work running
        in another thread keeps its lease (this waits only for the idle reaper, which holds
        the mutex for a moment)."""
        if not self._mutex.acquire(timeout=0.05):
            return
        try:
            if self._depth == 0 and self._conn is not None:
                self._release_lease()
                self._idle.notify_all()
        finally:
            self._mutex.release()

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

    def set_download_owner(self, request_id: str, owner: str | None) -> None:
        """Record which process runs the request (see DownloadService); None clears it."""
        self.execute("UPDATE download_requests SET owner = ? WHERE id = ?", [owner, request_id])

    def download_owners(self, request_ids: Sequence[str]) -> dict[str, str | None]:
        if not request_ids:
            return {}
        marks = ", ".join("?" for _ in request_ids)
        rows = self.execute(f"SELECT id, owner FROM download_requests WHERE id IN ({marks})",
                            list(request_ids))
        return {str(i): (None if o is None else str(o)) for i, o in rows}

    def _download(self, row: Sequence[Any]) -> DownloadRequest:
        return DownloadRequest.from_dict(dict(zip(self._DOWNLOAD_COLUMNS, row, strict=True)))

    # -- the lease --------------------------------------------------------------------------

    def _acquire_lease(self) -> None:
        """Caller holds ``_mutex``. Afterwards ``_conn`` is open and migrated."""
        if self._conn is not None:
            return
        import duckdb

        wait = self._yield_until - self.clock.monotonic()
        if wait > 0:
            self.clock.sleep(wait)
        prepare_home(self.path.parent)
        if self._flock is None:
            # thread_local=False: the idle reaper thread releases what a caller acquired.
            self._flock = FlockFile(Path(f"{self.path}.lock"))
        started = self.clock.monotonic()
        deadline = started + self.busy_timeout
        try:
            if not self._take_lock(deadline):
                raise BusyError(path=self.path, pid=self._lease_owner(),
                                seconds=f"{self.busy_timeout:g}")
        except OSError as exc:
            raise HomeNotWritableError(path=self.path.parent, reason=_first_line(exc)) from exc
        if self.clock.monotonic() - started > 0.001:
            self.stats["waits"] += 1
        try:
            self._write_owner()
            while True:
                try:
                    self._conn = duckdb.connect(str(self.path), config=dict(_DUCKDB_CONFIG))
                    break
                except duckdb.IOException as exc:
                    # Someone outside the lease protocol (an old kernel, a DuckDB CLI) holds
                    # the file: wait for them within the same bound.
                    if "lock" not in str(exc).lower():
                        raise _translate_open(exc, self.path) from exc
                    if self.clock.monotonic() >= deadline:
                        pid = _PID.search(str(exc))
                        raise BusyError(path=self.path, pid=pid[1] if pid else "?",
                                        seconds=f"{self.busy_timeout:g}") from None
                    self.clock.sleep(0.02)
                except duckdb.Error as exc:
                    raise _translate_open(exc, self.path) from exc
            _make_private(self.path)
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
    def _queue_dir(self) -> Path:
        return Path(f"{self.path}.queue")

    def _take_lock(self, deadline: float) -> bool:
        """Take the file lock, first come first served: a kernel that finds it taken (or
        finds others already waiting) queues a ticket and tries only at the head of the
        queue, so no kernel waits for many turns of the others (a plain lock goes to
        whichever waiter polls first). False when ``deadline`` passes first."""
        queue = self._queue_dir
        if not _live_tickets(queue) and self._flock.try_acquire():
            return True
        queue.mkdir(mode=0o700, exist_ok=True)
        ticket = queue / f"{time_ns():020d}-{os.getpid()}-{id(self):x}"
        ticket.touch(mode=0o600)
        try:
            while True:
                tickets = _live_tickets(queue)
                if (not tickets or tickets[0] == ticket.name) and self._flock.try_acquire():
                    return True
                if self.clock.monotonic() >= deadline:
                    return False
                self.clock.sleep(0.005)
        finally:
            ticket.unlink(missing_ok=True)

    def _write_owner(self) -> None:
        try:
            fd = os.open(self._owner_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(str(os.getpid()))
        except OSError as exc:
            raise HomeNotWritableError(path=self.path.parent, reason=_first_line(exc)) from exc

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
        if verb == "COMMIT":
            _make_private(self._wal_file)
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
        if self._flock is not None:
            self._flock.release()

    def _start_reaper(self) -> None:
        if self.idle_close <= 0 or (self._reaper is not None and self._reaper.is_alive()):
            return
        self._reaper = threading.Thread(target=self._reap, name="bodhi-db-lease", daemon=True)
        self._reaper.start()

    @property
    def _wal_file(self) -> Path:
        return Path(f"{self.path}.wal")

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


def _translate_open(exc: Exception, path: Path) -> BodhiError:
    """An error opening the database file: damaged, not writable, or something else."""
    text = str(exc)
    lowered = text.lower()
    if "permission denied" in lowered or "read-only file system" in lowered:
        return HomeNotWritableError(path=path.parent, reason=_first_line(exc))
    if "not a directory" in lowered or "is a directory" in lowered:
        return HomeNotADirectoryError(path=path)
    if any(m in lowered for m in ("not a valid duckdb database", "invalid database",
                                  "corrupt", "serialization", "checksum",
                                  "unable to read", "failed to read",
                                  "could not read enough bytes")):
        return CorruptError(path=path, reason=_first_line(exc))
    return _translate(exc)


def _translate(exc: Exception) -> BodhiError:
    import duckdb

    if isinstance(exc, duckdb.ConstraintException):
        return ConstraintError(reason=_first_line(exc))
    return QueryFailedError(reason=_first_line(exc))
