"""The embedded store: one DuckDB file under BODHI_HOME, shared by several kernels through a
lease.

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
work, so that other kernels never wait for it. Waiting kernels queue (a ticket each in
``bodhi.duckdb.queue/``, a named pipe that the kernel handing the lease back rings) and get
the lease in turn.

A hand-off costs little: the process's DuckDB instance (an in-memory database) outlives its
leases and only attaches and detaches the file, and while a kernel waits a short write-ahead
log is left for it to replay rather than checkpointed (an idle close checkpoints).

The database, its write-ahead log and the lock files are private to their owner (0600), and
a BODHI_HOME this service creates is 0700, whatever the umask. An unusable BODHI_HOME (a
file in its place, no write permission) or a damaged database file is a coded error naming
the path, never a raw ``OSError``.

The first lease of a process applies pending migrations (:mod:`bodhi_nb.store.migrate`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import threading
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from time import time_ns
from typing import TYPE_CHECKING, Any, TypeVar

from bodhi_nb._fs import FlockFile, atomic_write_text, make_private_dir
from bodhi_nb.errors import (
    BodhiError,
    BusyError,
    ConstraintError,
    CorruptError,
    HomeNotADirectoryError,
    HomeNotWritableError,
    QueryFailedError,
)
from bodhi_nb.objs import new_ulid
from bodhi_nb.store.base import Clock, MigrationInfo, Row, StoreInfo, Tx, first_line

if TYPE_CHECKING:
    from bodhi_nb.store.migrate import Migration, Runner

__all__ = ["DuckDbStore", "prepare_home"]

T = TypeVar("T")
_PID = re.compile(r"PID (\d+)")
_DUCKDB_CONFIG = {
    # No network at run time: never try to fetch an extension.
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


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
        raise HomeNotWritableError(path=home, reason=first_line(exc)) from exc


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


#: Seconds without a lease after which a store frees its DuckDB instance (it is made again,
#: ~30 ms, on next use): kernels handing the file back and forth keep theirs warm, an idle
#: one does not keep its threads and memory.
_INSTANCE_IDLE = 2.0
#: The longest write-ahead log a kernel hands over without a checkpoint (the next holder
#: replays it: about 4 small transactions; 2 KiB and 4 KiB did alike, 8 KiB worse).
_WAL_HANDOFF_MAX = 2048
#: How long a queued kernel waits between two tries when nobody rings its ticket (a
#: holder that hands the lease back rings the head ticket: this is the fallback, for a
#: holder that died, or one whose tickets are plain files).
_POLL = 0.05
#: The same for a ticket that cannot ring (a file system without named pipes).
_POLL_UNRUNG = 0.005


class _Ticket:
    """A waiting kernel's place in the lease queue: a named pipe (0600) it listens on, or a
    plain file where named pipes cannot be made."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self._fd = -1
        try:
            os.mkfifo(path, 0o600)
            # Opened before the first try, so a ring after a failed try is never lost; and
            # read-write, so the pipe never reads as closed between two rings (Linux and
            # the BSDs allow it on a named pipe).
            self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(path)
            path.touch(mode=0o600)

    @property
    def rings(self) -> bool:
        return self._fd >= 0

    def wait(self, seconds: float) -> None:
        """Until the ticket is rung or ``seconds`` pass."""
        import select
        import time

        if self._fd < 0:
            time.sleep(seconds)
            return
        ready, _, _ = select.select([self._fd], [], [], seconds)
        if ready:
            with contextlib.suppress(OSError):
                os.read(self._fd, 512)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self.path.unlink(missing_ok=True)


def _ring_head(queue: Path) -> None:
    """Tell the kernel at the head of the queue that the lease is free (never raises)."""
    import stat

    tickets = _live_tickets(queue)
    if not tickets:
        return
    try:
        fd = os.open(queue / tickets[0], os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # a plain file of an older kernel, gone, or no one listening
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"!")
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_private(path: Path | str) -> None:
    """chmod 0600 a file that exists and is readable by others; never raises."""
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except OSError:
        pass


_LIVE: weakref.WeakSet[DuckDbStore] = weakref.WeakSet()
# The name the database file is attached under on the store's DuckDB instance.
_CATALOG = "bodhi_store"
# DuckDB instances a forked child inherited from its parent: kept, never used or closed
# (their threads did not survive the fork).
_FORKED: list[Any] = []


@atexit.register
def _close_all() -> None:
    for db in list(_LIVE):
        db.close()


class _LeaseClock:
    """The real clock the lease runs on (``monotonic`` and ``sleep``)."""

    def utc_now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def monotonic(self) -> float:
        import time

        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(seconds)


class _DuckTx:
    """A transaction on a DuckDB connection (the lease is held)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return _run(self._conn, sql, params)

    def script(self, sql: str) -> None:
        import duckdb

        try:
            self._conn.execute(sql)
        except duckdb.Error as exc:
            raise _translate(exc) from exc

    def lock(self, name: str) -> None:
        """Nothing to do: the lease makes every unit of work exclusive."""


def _run(conn: Any, sql: str, params: Sequence[object]) -> list[Row]:
    """One statement on ``conn``, every row (DuckDB errors translated)."""
    import duckdb

    if not isinstance(params, (list, tuple)):
        params = list(params)
    try:
        rows: list[Row] = conn.execute(sql, params).fetchall()
    except duckdb.Error as exc:
        raise _translate(exc) from exc
    return rows


def _no_lock(tx: Tx) -> None:
    """The lease already makes a DuckDB unit of work exclusive."""


class DuckDbStore:
    """The lease-holding DuckDB store. Construct once per BODHI_HOME per process."""

    backend = "duckdb"

    def __init__(
        self,
        path: Path,
        time: Clock,
        *,
        lease_clock: Clock | None = None,
        busy_timeout: float = 30.0,
        idle_close: float = 0.1,
        max_hold: float = 0.2,
        migrations: Sequence[Migration] | None = None,
    ) -> None:
        self.path = Path(path)
        self._wal_path = f"{self.path}.wal"  # (a str: made private after every unit of work)
        self.time = time
        # The lease runs on a real clock even when a test freezes ``time``: a frozen clock
        # would never hand the file back to other processes.
        self.clock = lease_clock or _LeaseClock()
        self.busy_timeout = busy_timeout
        self.idle_close = idle_close
        # 0.2 s: with four kernels storing a secret every 20 ms, p99 of a store was ~1.1 s
        # (1.9 s at 0.5 s); a turn shorter still pays a close and an open too often.
        self.max_hold = max_hold
        # The runner (and the migration files) are read on first use, not when a kernel's
        # registry is built: `status` never needs them.
        self._migrations = migrations
        self._runner_made: Runner | None = None
        self._now = time.utc_now
        self._mutex = threading.RLock()
        self._idle = threading.Condition(self._mutex)
        self._conn: Any = None
        self._instance: Any = None
        self._instance_pid = 0
        self._flock: Any = None
        self._depth = 0
        self._held_since = 0.0
        self._last_used = 0.0
        self._migrated = False
        self._reaper: threading.Thread | None = None
        self._reaping = 0
        self.stats = {"leases": 0, "opens": 0, "waits": 0}
        self._read_cache: dict[Hashable, tuple[Any, Any]] = {}
        _LIVE.add(self)

    # -- public API -------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def _runner(self) -> Runner:
        if self._runner_made is None:
            from bodhi_nb.store.migrate import Runner, load_migrations

            found = self._migrations
            self._runner_made = Runner(found if found is not None else load_migrations(),
                                       self._now)
        return self._runner_made

    @property
    def migrations(self) -> list[Migration]:
        return self._runner.migrations

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
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
                yield _DuckTx(self._conn)
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._end("ROLLBACK")
                raise
            self._depth -= 1
            if self._depth == 0:
                self._end("COMMIT")

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement in its own unit of work and return all rows.

        Outside a unit of work the statement runs on its own (DuckDB's autocommit: one
        statement, one transaction), without ``BEGIN``/``COMMIT`` round trips."""
        with self._mutex:
            if self._depth:
                return _run(self._conn, sql, params)  # joins the caller's transaction
            if self._conn is None or not self._migrated:
                self._acquire_lease()
            self._depth = 1
            try:
                rows = _run(self._conn, sql, params)
            finally:
                self._depth = 0
                self._after_unit()
            return rows

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
        """Hand the lease back now and free the DuckDB instance (idempotent); the store
        reopens on next use."""
        with self._mutex:
            if self._depth == 0:
                try:
                    self._release_lease()
                finally:
                    self._drop_instance()

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

    def info(self) -> StoreInfo:
        """Schema version and pending migrations, read without migrating."""
        with self._mutex:
            self._acquire_lease(migrate=False)
            try:
                version, applied, pending = self._runner.status(_DuckTx(self._conn))
            finally:
                self._after_admin()
        return StoreInfo(self.backend, self.location, version, self._runner.code_version,
                         applied, pending)

    def migrate(self) -> list[MigrationInfo]:
        """Apply pending migrations; what was applied."""
        with self._mutex:
            self._acquire_lease(migrate=False)
            try:
                done = self._runner.upgrade(self._raw, _no_lock)
                self._migrated = True
                return done
            finally:
                self._after_admin()

    def migrate_down(self, steps: int) -> list[MigrationInfo]:
        """Undo the newest ``steps`` migrations (newest first); what was undone."""
        with self._mutex:
            self._acquire_lease(migrate=False)
            try:
                # This store stays at the lower version (no silent re-migration on its next
                # lease); a new store migrates up again.
                self._migrated = True
                return self._runner.downgrade(self._raw, _no_lock, steps)
            finally:
                self._release_lease()

    def _after_admin(self) -> None:
        self._last_used = self.clock.monotonic()
        if self.idle_close <= 0:
            self._release_lease()
        self._idle.notify_all()

    @contextmanager
    def _raw(self) -> Iterator[Tx]:
        """A transaction on the held connection for the migration runner."""
        import duckdb

        self._conn.execute("BEGIN TRANSACTION")
        try:
            yield _DuckTx(self._conn)
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except duckdb.Error as exc:
            raise _translate(exc) from exc

    # -- the lease --------------------------------------------------------------------------

    def _acquire_lease(self, *, migrate: bool = True) -> None:
        """Caller holds ``_mutex``. Afterwards ``_conn`` is open (and migrated, unless
        ``migrate`` is False)."""
        if self._conn is not None:
            if migrate and not self._migrated:
                self._runner.upgrade(self._raw, _no_lock)
                self._migrated = True
            return
        import duckdb

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
            raise HomeNotWritableError(path=self.path.parent, reason=first_line(exc)) from exc
        if self.clock.monotonic() - started > 0.001:
            self.stats["waits"] += 1
        try:
            self._write_owner()
            while True:
                try:
                    self._conn = self._attach()
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
            if migrate and not self._migrated:
                self._runner.upgrade(self._raw, _no_lock)
                self._migrated = True
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
        whichever waiter polls first). A ticket is a named pipe: the kernel that hands the
        lease back rings the head ticket, so it tries again at once rather than at its next
        poll. False when ``deadline`` passes first."""
        queue = self._queue_dir
        if not _live_tickets(queue) and self._flock.try_acquire():
            return True
        queue.mkdir(mode=0o700, exist_ok=True)
        ticket = _Ticket(queue / f"{time_ns():020d}-{os.getpid()}-{id(self):x}")
        try:
            while True:
                tickets = _live_tickets(queue)
                if (not tickets or tickets[0] == ticket.name) and self._flock.try_acquire():
                    return True
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    return False
                ticket.wait(min(left, _POLL if ticket.rings else _POLL_UNRUNG))
        finally:
            ticket.close()

    def _write_owner(self) -> None:
        # Overwritten in place, padded to a fixed width (readers strip it): truncating
        # costs ~0.5 ms a lease on ext4, which flushes a file truncated then rewritten.
        try:
            fd = os.open(self._owner_file, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.pwrite(fd, f"{os.getpid():<20}\n".encode("ascii"), 0)
            finally:
                os.close(fd)
        except OSError as exc:
            raise HomeNotWritableError(path=self.path.parent, reason=first_line(exc)) from exc

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
        self._after_unit()

    def _after_unit(self) -> None:
        """After a unit of work (caller holds ``_mutex``, depth is 0): the write-ahead log
        made private, and the lease handed back if it was held long enough."""
        if self._conn is None:
            return  # (a failed statement released it)
        _make_private(self._wal_path)
        now = self.clock.monotonic()
        self._last_used = now
        if self.idle_close <= 0 or now - self._held_since >= self.max_hold:
            # (a kernel waiting meanwhile has queued: if we want the lease again at once,
            # we queue behind it, so no head start is needed)
            self._release_lease()
        else:
            self._idle.notify_all()

    def _attach(self) -> Any:
        """The database file attached (and in use) on this process's DuckDB instance.

        The instance (an in-memory database, made once per process) outlives the leases:
        making one costs tens of milliseconds of setup (functions, catalog, threads) that a
        hand-off would otherwise pay twice, closing and opening. Attaching opens the file
        and takes DuckDB's lock on it; :meth:`_detach` checkpoints, closes and unlocks it.
        """
        import duckdb

        instance = self._instance
        if instance is None or self._instance_pid != os.getpid():
            if instance is not None:
                _FORKED.append(instance)  # a parent's: never touched (nor closed) here
            instance = duckdb.connect(":memory:", config=dict(_DUCKDB_CONFIG))
            # Detaching does not checkpoint: _detach decides (see _wants_checkpoint).
            instance.execute("PRAGMA disable_checkpoint_on_shutdown")
            self._instance, self._instance_pid = instance, os.getpid()
        literal = str(self.path).replace("'", "''")
        instance.execute(f"ATTACH '{literal}' AS {_CATALOG}")
        try:
            instance.execute(f"USE {_CATALOG}")
        except BaseException:
            self._drop_instance()  # (closes the file again)
            raise
        return instance

    def _wants_checkpoint(self) -> bool:
        """Whether to fold the write-ahead log into the file before handing it back.

        A checkpoint costs about half of a hand-off; replaying a short log costs the next
        holder far less (about 0.5 ms a small transaction). So the log is left for the next
        holder while a kernel waits and the log is short, and folded in otherwise: when
        nobody waits (an idle close, ``close()`` at exit), or past ``_WAL_HANDOFF_MAX``."""
        try:
            size = os.stat(self._wal_path).st_size
        except OSError:
            return False  # no log: nothing written since the last checkpoint
        return size >= _WAL_HANDOFF_MAX or not _live_tickets(self._queue_dir)

    def _detach(self, conn: Any) -> None:
        """Close the file (DuckDB unlocks it), keeping the instance, after a checkpoint
        when :meth:`_wants_checkpoint`. Never raises: on any failure (a transaction left
        open after a failed COMMIT) the instance is closed, which closes the file too; what
        was committed is in the write-ahead log either way."""
        import duckdb

        try:
            if self._wants_checkpoint():
                with contextlib.suppress(duckdb.Error):
                    conn.execute(f"CHECKPOINT {_CATALOG}")
            conn.execute("USE memory")
            conn.execute(f"DETACH {_CATALOG}")
        except Exception:
            self._drop_instance()

    def _drop_instance(self) -> None:
        instance, self._instance = self._instance, None
        if instance is not None and self._instance_pid == os.getpid():
            with contextlib.suppress(Exception):
                instance.close()

    def _release_lease(self) -> None:
        if self._conn is not None:
            try:
                self._detach(self._conn)
            finally:
                self._conn = None
        if self._flock is not None and self._flock.is_locked:
            self._flock.release()
            _ring_head(self._queue_dir)

    def _start_reaper(self) -> None:
        """Caller holds ``_mutex``. (``_reaping``, the process a reaper runs in, not
        ``is_alive()``: a reaper that has decided to stop may still be alive for a moment;
        a forked child has none.)"""
        if self._reaping == os.getpid():
            return
        self._reaping = os.getpid()
        self._reaper = threading.Thread(target=self._reap, name="bodhi-db-lease", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        """Hand the lease back after ``idle_close`` seconds without a unit of work, and
        free the DuckDB instance (its threads and memory) after ``_INSTANCE_IDLE``."""
        with self._idle:
            try:
                self._reap_locked()
            finally:
                self._reaping = 0

    def _reap_locked(self) -> None:
        """Caller holds ``_mutex``."""
        while self._conn is not None or self._instance is not None:
            now = self.clock.monotonic()
            if self._conn is None:
                remaining = self._last_used + _INSTANCE_IDLE - now
                if remaining <= 0:
                    self._drop_instance()
                    return
            elif self.idle_close > 0:
                remaining = self._last_used + self.idle_close - now
                if self._depth == 0 and remaining <= 0:
                    self._release_lease()
                    continue
            else:
                remaining = _INSTANCE_IDLE  # (handed back after each unit of work)
            self._idle.wait(timeout=max(remaining, 0.005))


def _translate_open(exc: Exception, path: Path) -> BodhiError:
    """An error opening the database file: damaged, not writable, or something else."""
    text = str(exc)
    lowered = text.lower()
    if "permission denied" in lowered or "read-only file system" in lowered:
        return HomeNotWritableError(path=path.parent, reason=first_line(exc))
    if "not a directory" in lowered or "is a directory" in lowered:
        return HomeNotADirectoryError(path=path)
    if any(m in lowered for m in ("not a valid duckdb database", "invalid database",
                                  "corrupt", "serialization", "checksum",
                                  "unable to read", "failed to read",
                                  "could not read enough bytes")):
        return CorruptError(path=path, reason=first_line(exc))
    return _translate(exc)


def _translate(exc: Exception) -> BodhiError:
    import duckdb

    if isinstance(exc, duckdb.ConstraintException):
        return ConstraintError(reason=first_line(exc))
    return QueryFailedError(reason=first_line(exc))
