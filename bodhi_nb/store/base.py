"""The store's contract: what a database backend gives the tables above it.

A :class:`Store` runs units of work (``with store.transaction() as tx:``), each one
transaction on one connection; nested uses in the same thread join the outer one, so a
service can wrap several table calls (even of several tables) in one transaction. SQL is
written once, in the portable subset DuckDB and PostgreSQL share, with ``?`` placeholders;
each backend adapts the placeholders and maps its driver's errors to the codes of
:mod:`bodhi_nb.errors` (a constraint violation is ``db_error-constraint`` on both).

Values cross the floor as plain Python: ``str``, ``int``, ``float``, ``bool``, ``None`` and
naive-UTC ``datetime`` (:func:`db_value` converts what a caller hands in).

``cached(topic, key, load)`` and ``bump(topic)`` let hot read paths (resolving an alias before
each chat request) skip the database while nothing changed: ``bump`` after a commit makes
every process's cached values for the topic reload, on every host that shares the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import lru_cache
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["BACKENDS", "BY_CODE_POINT", "Clock", "MigrationInfo", "Row", "Store", "StoreInfo",
           "Tx", "db_value", "first_line", "to_db_ts"]

T = TypeVar("T")

#: A result row. Values are driver values (see the module docstring); the table modules
#: turn rows into typed objects, so nothing above the store sees a row.
Row = tuple[Any, ...]

#: The backends a ``BODHI_DATABASE_URL`` can select.
BACKENDS = ("duckdb", "postgresql")

#: ``ORDER BY name BY_CODE_POINT``: text in code point order on every backend. DuckDB sorts
#: so by default; a PostgreSQL database sorts by its collation, usually a language's rules
#: (``a < B < b`` under en-US), so a listing would change order with the backend.
BY_CODE_POINT = 'COLLATE "C"'


class Clock(Protocol):
    """What the store needs of a clock (TimeService is one)."""

    def utc_now(self) -> datetime: ...
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class Tx(Protocol):
    """A transaction in progress."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """Run one statement with ``?`` placeholders; every row it returns (none for most
        writes without ``RETURNING``)."""
        ...

    def script(self, sql: str) -> None:
        """Run several statements (a migration) without parameters."""
        ...

    def lock(self, name: str) -> None:
        """Serialise with every other unit of work that locks ``name`` (in any process, on
        any host) until this one ends: a check-then-write on rows no constraint covers."""
        ...


@dataclass(frozen=True)
class MigrationInfo:
    version: int
    name: str
    applied_at: datetime | None = None


@dataclass(frozen=True)
class StoreInfo:
    """What ``status`` and ``db status`` show about the store."""

    backend: str
    #: the database's location: a file path, or the URL with its password redacted.
    location: str
    schema_version: int
    #: the newest migration this code knows.
    code_version: int
    applied: tuple[MigrationInfo, ...]
    pending: tuple[MigrationInfo, ...]


@runtime_checkable
class Store(Protocol):
    """A database backend (DuckDB under BODHI_HOME, or PostgreSQL)."""

    #: one of :data:`BACKENDS`.
    backend: str

    @property
    def location(self) -> str:
        """Where the data lives, safe to show (no password)."""
        ...

    def transaction(self) -> AbstractContextManager[Tx]:
        """One unit of work; nested uses in the same thread join the outer one."""
        ...

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """One statement in its own unit of work."""
        ...

    def cached(self, topic: str, key: Hashable, load: Callable[[], T]) -> T:
        """``load()``'s result, reused until someone (any process) calls ``bump(topic)``."""
        ...

    def bump(self, topic: str) -> None:
        """Say that data under ``topic`` changed (call after the commit)."""
        ...

    def hand_back(self) -> None:
        """Give back what other processes may be waiting for (DuckDB's lease) before slow
        work that needs no database; a no-op where nothing is held between units of work."""
        ...

    def info(self) -> StoreInfo:
        """Backend, location, schema version and pending migrations."""
        ...

    def migrate(self) -> list[MigrationInfo]:
        """Apply pending migrations (each in its own transaction); what was applied."""
        ...

    def migrate_down(self, steps: int) -> list[MigrationInfo]:
        """Undo the newest ``steps`` applied migrations, newest first; what was undone."""
        ...

    def tables(self) -> list[str]:
        """The names of the tables in the schema, sorted."""
        ...

    def close(self) -> None:
        """Release connections (idempotent); the store reopens on next use."""
        ...


def to_db_ts(value: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC (portable ``TIMESTAMP``)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


#: Types :func:`db_value` passes through as they are (a plain ``type(v) in`` test is the
#: cheap path for a driver's hot loop).
PLAIN_TYPES = frozenset({str, int, float, bool, type(None), bytes})


def db_value(value: object) -> object:
    """A Python value as the store keeps it: aware datetimes to naive UTC, enums to their
    value."""
    if isinstance(value, datetime):
        return to_db_ts(value)
    if isinstance(value, Enum):
        return value.value
    return value


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_QMARK = re.compile(r"\?")


@lru_cache(maxsize=1024)
def qmark_to_format(sql: str) -> str:
    """``?`` placeholders as ``%s`` (psycopg's style), literal ``%`` doubled. (Cached: the
    tables run the same few statements over and over.)"""
    return _QMARK.sub("%s", sql.replace("%", "%%"))
