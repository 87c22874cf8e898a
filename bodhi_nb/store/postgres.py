"""PostgresStore: every table on a PostgreSQL server, for teams on several hosts.

psycopg 3 with a small ``psycopg_pool`` pool (1 to 4 connections) shared by the threads of
one process; no lease: the server serialises writers itself. A unit of work
(``with store.transaction() as tx:``) runs on one pooled connection in one transaction;
nested uses in the same thread join it. :meth:`PostgresStore.execute` outside a unit of work
runs its one statement on its own (autocommit, no ``BEGIN``/``COMMIT`` round trips), so a
single read or write costs what it costs on a bare connection.

Connections go stale when the server restarts. A connection that was idle for more than
``stale_after`` seconds is pinged when it leaves the pool (the hot path pays nothing); a dead
one marks the server as *suspect*: the next unit of work first connects directly, which either
raises the coded reason (``db_error-unreachable``, ``-auth_failed``, ``-database_missing``)
at once, rather than a pool timeout, or finds the server back and starts a fresh pool, so a
kernel recovers without a restart. The first use in a process is a probe too, so a wrong URL
or password is reported before any pool exists.

``cached``/``bump`` use the ``store_versions`` table (migration 0003): ``bump`` increments
the topic's version, ``cached`` reads it (one pooled round trip) and reuses the value loaded
at that version, so a change made on another host is seen by the next read.

The password never leaves this module: :attr:`PostgresStore.location`, reprs and every error
message show the URL redacted, and server messages are scrubbed of it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import threading
import time as _time
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlsplit

from bodhi_nb.errors import (
    AuthFailedError,
    BadUrlError,
    BodhiError,
    ConstraintError,
    DatabaseMissingError,
    DriverMissingError,
    QueryFailedError,
    UnreachableError,
)
from bodhi_nb.redact import MASK
from bodhi_nb.store import redact_password
from bodhi_nb.store.base import (
    PLAIN_TYPES,
    MigrationInfo,
    Row,
    StoreInfo,
    Tx,
    db_value,
    first_line,
    qmark_to_format,
)
from bodhi_nb.store.migrate import Migration, Runner, load_migrations

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

    from bodhi_nb.store.base import Clock

__all__ = ["MIGRATION_LOCK", "PostgresStore"]

T = TypeVar("T")

#: The advisory lock key that serialises migrations across hosts ("bodhi" in ASCII).
MIGRATION_LOCK = 0x626F646869

_SCHEMES = ("postgresql", "postgres")
# libpq's words for a server that is not there (the rest of a connect error's first line
# names the host and port, which the message shows already).
_DISCONNECT_STATES = ("08", "57P01", "57P02", "57P03")
# libpq's PGRES_TUPLES_OK (psycopg.pq.ExecStatus.TUPLES_OK, without importing the driver
# before it is needed): a statement that returned rows.
_TUPLES_OK = 2
# libpq's PQTRANS_IDLE: a connection outside any transaction.
_IDLE = 0


class _Parts:
    """What the messages need from the URL (parsed without the driver)."""

    def __init__(self, url: str) -> None:
        shown = redact_password(url)
        try:
            split = urlsplit(url)
            port = split.port  # ValueError when not a number in 0..65535
        except ValueError as exc:
            raise BadUrlError(url=shown, reason=_scrub_any(first_line(exc), url)) from None
        if split.scheme not in _SCHEMES:
            raise BadUrlError(url=shown, reason="the scheme must be postgresql://")
        query = dict(parse_qsl(split.query))
        self.user = unquote(split.username or "") or query.get("user", "")
        self.password = unquote(split.password or "") or query.get("password", "")
        self.host = split.hostname or query.get("host", "") or "localhost"
        self.port = port or int(query.get("port", "5432") or 5432)
        self.database = unquote(split.path.lstrip("/")) or query.get("dbname", "") or self.user
        self.location = shown


def _scrub_any(text: str, secret: str) -> str:
    return text.replace(secret, MASK) if secret else text


# psycopg_pool reports reconnection attempts as warnings; with no handler configured Python
# would print them on stderr, under the one coded line the user gets. An application that
# configures logging still receives them.
logging.getLogger("psycopg").addHandler(logging.NullHandler())

_LIVE: weakref.WeakSet[PostgresStore] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for store in list(_LIVE):
        with contextlib.suppress(Exception):
            store.close()


def _cursor(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """The connection's cursor for the store's statements, made once and reused: making
    one per statement (``conn.execute``) costs more than a short SELECT's own Python work.
    (It keeps the last result until the next statement on the connection.)"""
    cur: psycopg.Cursor[Any] | None = getattr(conn, "_bodhi_cursor", None)
    if cur is None or cur.closed:
        cur = conn.cursor()
        conn._bodhi_cursor = cur  # type: ignore[attr-defined]
    return cur


def _run(store: PostgresStore, conn: psycopg.Connection[Any], sql: str,
         params: Sequence[object]) -> list[Row]:
    """One statement on ``conn``, every row it returned (none for most writes)."""
    import psycopg

    if params:
        query = qmark_to_format(sql)
        args: list[object] | None = [p if type(p) in PLAIN_TYPES else db_value(p)
                                     for p in params]
    else:
        query, args = sql, None
    try:
        cur = _cursor(conn)
        cur.execute(query, args)
        # (not ``cur.description``: it builds a column object per column, per call)
        result = cur.pgresult
        if result is None or result.status != _TUPLES_OK:
            return []
        return cur.fetchall()
    except psycopg.Error as exc:
        raise store._translate(exc, conn) from exc


class _PgTx:
    """Statements on one connection (in a transaction, or one in autocommit)."""

    __slots__ = ("conn", "store")

    def __init__(self, store: PostgresStore, conn: psycopg.Connection[Any]) -> None:
        self.store = store
        self.conn = conn

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        return _run(self.store, self.conn, sql, params)

    def script(self, sql: str) -> None:
        import psycopg

        try:
            # No parameters: the simple protocol, which runs several statements.
            self.conn.execute(sql.encode("utf-8"))
        except psycopg.Error as exc:
            raise self.store._translate(exc, self.conn) from exc

    def lock(self, name: str) -> None:
        # A transaction-scoped advisory lock: released by COMMIT or ROLLBACK.
        key = int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(),
                             "big", signed=True)
        self.execute("SELECT pg_advisory_xact_lock(?)", [key])


class PostgresStore:
    """The PostgreSQL backend of the store floor (see the module docstring)."""

    backend = "postgresql"

    def __init__(
        self,
        url: str,
        time: Clock,
        migrations: Sequence[Migration] | None = None,
        *,
        monotonic: Callable[[], float] | None = None,
        max_size: int = 4,
        connect_timeout: float = 5.0,
        pool_timeout: float = 30.0,
        stale_after: float = 1.0,
    ) -> None:
        self._parts = _Parts(url)
        try:
            import psycopg
            import psycopg_pool  # noqa: F401
        except ImportError as exc:
            raise DriverMissingError(backend="postgresql", extra="postgres") from exc
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as exc:
            raise BadUrlError(url=self.location, reason=self._scrub(first_line(exc))) from None
        self.__url = url
        self.time = time
        # Staleness runs on a real clock even when a test freezes ``time``.
        self.monotonic = monotonic or _time.monotonic
        self.max_size = max_size
        self.connect_timeout = connect_timeout
        self.pool_timeout = pool_timeout
        self.stale_after = stale_after
        self.runner = Runner(migrations if migrations is not None else load_migrations(),
                             now=time.utc_now)
        self._pool: ConnectionPool[Any] | None = None
        self._pool_lock = threading.Lock()
        # True until a direct connection has proved the server answers (first use, and
        # again after a connection was found dead).
        self._suspect = True
        self._returned: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        # Connections out of the pool, kept for the next unit of work, with the pool they
        # came from and when they were handed back; ``_getting`` counts the threads that
        # found none and wait on the pool (a connection then goes back to the pool).
        self._spares: list[tuple[ConnectionPool[Any], psycopg.Connection[Any], float]] = []
        self._spare_lock = threading.Lock()
        self._getting = 0
        self._local = threading.local()
        self._migrated = False
        self._migrate_lock = threading.Lock()
        self._cache: dict[tuple[str, Hashable], tuple[int, Any]] = {}
        self._cache_lock = threading.Lock()
        self.stats = {"pools": 0, "probes": 0, "stale": 0}
        _LIVE.add(self)

    # -- what may be shown -------------------------------------------------------------------

    @property
    def location(self) -> str:
        return self._parts.location

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def _scrub(self, text: str) -> str:
        return _scrub_any(text, self._parts.password)

    # -- units of work -----------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        current: _PgTx | None = getattr(self._local, "tx", None)
        if current is not None:
            yield current
            return
        self._ensure_migrated()
        with self._begin() as tx:
            self._local.tx = tx
            try:
                yield tx
            finally:
                self._local.tx = None

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        current: _PgTx | None = getattr(self._local, "tx", None)
        if current is not None:
            return current.execute(sql, params)
        if not self._migrated:
            self._ensure_migrated()
        pool, conn = self._acquire()
        try:
            return _run(self, conn, sql, params)
        finally:
            self._release(pool, conn)

    @contextmanager
    def _begin(self) -> Iterator[_PgTx]:
        """A fresh transaction on a pooled connection, never joined to an outer one."""
        import psycopg
        from psycopg.pq import TransactionStatus

        pool, conn = self._acquire()
        try:
            try:
                with conn.transaction():
                    yield _PgTx(self, conn)
                    if conn.info.transaction_status == TransactionStatus.INERROR:
                        # A statement failed and the caller went on: PostgreSQL would turn
                        # COMMIT into a silent ROLLBACK. Say so (the exit rolls back).
                        raise QueryFailedError(reason="a statement of this unit of work "
                                                      "failed; nothing was saved")
            except psycopg.Error as exc:
                # BEGIN, COMMIT or ROLLBACK failed (statements translate their own errors).
                raise self._translate(exc, conn) from exc
        finally:
            self._release(pool, conn)

    # -- cached reads ------------------------------------------------------------------------

    def bump(self, topic: str) -> None:
        self.execute("INSERT INTO store_versions (topic, version) VALUES (?, 1) "
                     "ON CONFLICT (topic) DO UPDATE SET version = store_versions.version + 1",
                     [topic])

    def cached(self, topic: str, key: Hashable, load: Callable[[], T]) -> T:
        rows = self.execute("SELECT version FROM store_versions WHERE topic = ?", [topic])
        version = int(rows[0][0]) if rows else 0
        with self._cache_lock:
            hit = self._cache.get((topic, key))
            if hit is not None and hit[0] == version:
                return hit[1]  # type: ignore[no-any-return]
        value = load()
        with self._cache_lock:
            # Recorded with the version read *before* loading: a concurrent change makes
            # the next call load again rather than trust a stale value.
            self._cache[(topic, key)] = (version, value)
        return value

    def hand_back(self) -> None:
        """Nothing is held between units of work."""

    # -- schema ------------------------------------------------------------------------------

    def _lock(self, tx: Tx) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])

    def _ensure_migrated(self) -> None:
        if self._migrated:
            return
        with self._migrate_lock:
            if not self._migrated:
                self.runner.upgrade(self._begin, self._lock)
                self._migrated = True

    def migrate(self) -> list[MigrationInfo]:
        with self._migrate_lock:
            done = self.runner.upgrade(self._begin, self._lock)
            self._migrated = True
            return done

    def migrate_down(self, steps: int) -> list[MigrationInfo]:
        with self._migrate_lock:
            undone = self.runner.downgrade(self._begin, self._lock, steps)
            # This store stays at the lower version (no silent re-migration on next use).
            self._migrated = True
            return undone

    def info(self) -> StoreInfo:
        with self._begin() as tx:
            exists = tx.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_name = 'schema_migrations'")
            if int(exists[0][0]):
                version, applied, pending = self.runner.status(tx)
            else:
                version, applied = 0, ()
                pending = tuple(m.info() for m in self.runner.migrations)
        return StoreInfo(self.backend, self.location, version, self.runner.code_version,
                         applied, pending)

    def tables(self) -> list[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' "
            "ORDER BY table_name")
        return [str(r[0]) for r in rows]

    # -- connections -------------------------------------------------------------------------

    def _acquire(self) -> tuple[ConnectionPool[Any], psycopg.Connection[Any]]:
        import psycopg
        from psycopg_pool import PoolClosed, PoolTimeout

        for _ in range(self.max_size + 2):
            spare = self._take_spare()
            returned: float | None
            if spare is not None:
                pool, conn, returned = spare
                if pool is not self._pool or self._suspect:
                    self._give_back(pool, conn)  # an old pool's: closed with it
                    continue
            else:
                try:
                    current = self._pool
                    pool = (current if current is not None and not self._suspect
                            else self._ready_pool())
                    try:
                        conn = pool.getconn()
                    except PoolClosed:
                        continue  # another thread replaced the pool meanwhile
                    except PoolTimeout as exc:
                        self._suspect = True
                        self._ready_pool()  # raises the real reason if the server is gone
                        raise UnreachableError(
                            location=self.location,
                            reason=f"no free connection within {self.pool_timeout:g} s",
                        ) from exc
                finally:
                    with self._spare_lock:
                        self._getting -= 1
                returned = self._returned.get(conn)
            if returned is not None and self.monotonic() - returned > self.stale_after:
                try:
                    conn.execute("")
                except psycopg.Error:
                    self.stats["stale"] += 1
                    self._suspect = True
                    self._give_back(pool, conn)  # broken: the pool discards it
                    continue
            return pool, conn
        raise UnreachableError(location=self.location, reason="every connection was lost")

    def _take_spare(self) -> tuple[ConnectionPool[Any], psycopg.Connection[Any], float] | None:
        """The connection the last unit of work handed back, if no other thread took it;
        otherwise None, and the caller counts among those waiting on the pool."""
        with self._spare_lock:
            if self._spares:
                return self._spares.pop()
            self._getting += 1
            return None

    def _release(self, pool: ConnectionPool[Any], conn: psycopg.Connection[Any]) -> None:
        """Keep ``conn`` aside for the next unit of work (the pool's ``putconn`` and
        ``getconn`` cost more than a simple statement's own Python work) unless a thread is
        waiting on the pool, or the connection is not clean: then the pool has it back."""
        now = self.monotonic()
        if (pool is self._pool and not self._suspect and not conn.broken
                and conn.pgconn.transaction_status == _IDLE):
            with self._spare_lock:
                # (a thread that found no spare counted itself first: it then waits on the
                # pool, and gets this connection from there)
                if not self._getting:
                    self._spares.append((pool, conn, now))
                    return
        self._returned[conn] = now
        self._give_back(pool, conn)

    def _give_back(self, pool: ConnectionPool[Any], conn: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(Exception):
            pool.putconn(conn)

    def _drop_spares(self) -> None:
        with self._spare_lock:
            spares, self._spares = self._spares, []
        for pool, conn, _ in spares:
            self._give_back(pool, conn)

    def _ready_pool(self) -> ConnectionPool[Any]:
        with self._pool_lock:
            if self._suspect or self._pool is None:
                self._probe()
                old, self._pool = self._pool, self._new_pool()
                self._suspect = False
                if old is not None:
                    self._drop_spares()
                    old.close(timeout=0.1)
            return self._pool

    def _connect_kwargs(self) -> dict[str, Any]:
        return {"autocommit": True, "connect_timeout": max(2, round(self.connect_timeout))}

    def _probe(self) -> None:
        """Connect once, directly: the coded reason when the server cannot be used."""
        import psycopg

        self.stats["probes"] += 1
        try:
            with psycopg.connect(self.__url, **self._connect_kwargs()):
                pass
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None

    def _new_pool(self) -> ConnectionPool[Any]:
        from psycopg_pool import ConnectionPool

        self.stats["pools"] += 1
        pool: ConnectionPool[Any] = ConnectionPool(
            self.__url, kwargs=self._connect_kwargs(), min_size=1, max_size=self.max_size,
            open=False, timeout=self.pool_timeout, name="bodhi-store", num_workers=1,
            max_idle=300.0)
        pool.open(wait=False)
        return pool

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
            self._suspect = True
        self._drop_spares()
        if pool is not None:
            pool.close(timeout=1.0)

    # -- errors ------------------------------------------------------------------------------

    def _connect_error(self, exc: Exception) -> BodhiError:
        import psycopg

        text = self._scrub(str(exc))
        lowered = text.lower()
        parts = self._parts
        if 'database "' in lowered and "does not exist" in lowered:
            return DatabaseMissingError(location=self.location, database=parts.database)
        if ("password authentication failed" in lowered or "no password supplied" in lowered
                or ('role "' in lowered and "does not exist" in lowered)
                or "authentication failed" in lowered):
            return AuthFailedError(location=self.location, user=parts.user)
        if isinstance(exc, psycopg.ProgrammingError):
            return BadUrlError(url=self.location, reason=first_line(exc))
        return UnreachableError(location=self.location, reason=_short_reason(text))

    def _translate(self, exc: Exception, conn: psycopg.Connection[Any]) -> BodhiError:
        import psycopg

        reason = self._scrub(first_line(exc))
        if isinstance(exc, psycopg.errors.IntegrityError):
            return ConstraintError(reason=reason)
        state = getattr(exc, "sqlstate", None) or ""
        if (conn.closed or conn.broken or isinstance(exc, psycopg.InterfaceError)
                or state.startswith(_DISCONNECT_STATES)):
            self._suspect = True
            return UnreachableError(location=self.location, reason=_short_reason(reason))
        return QueryFailedError(reason=reason)


def _short_reason(text: str) -> str:
    """libpq's first line without the host and port the message names already:
    'connection failed: connection to server at "h", port 1 failed: Connection refused'
    -> 'Connection refused'."""
    line = first_line(ValueError(text))
    tail = line.rsplit("failed: ", 1)[-1].strip()
    return tail.removeprefix("FATAL:").strip() or line
