"""One migration runner for every backend.

Migrations are numbered SQL files in ``migrations/`` (``NNNN_name.up.sql`` and
``NNNN_name.down.sql``) in the portable subset of SQL both backends run. Each is applied (or
undone) in its own transaction, under the backend's exclusive migration lock, and recorded
in ``schema_migrations`` with the SHA-256 of its up part. A changed applied migration is
refused (``db_error-migration_tampered``), and so is a database migrated by newer code
(``db_error-schema_too_new``): this code would not know its tables.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bodhi_nb.errors import (
    BodhiError,
    MigrationFailedError,
    MigrationTamperedError,
    SchemaTooNewError,
)
from bodhi_nb.store.base import MigrationInfo, Tx, first_line, to_db_ts

__all__ = ["Migration", "Runner", "load_migrations"]

_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")

_CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
    " applied_at TIMESTAMP NOT NULL)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    up: str
    down: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.encode("utf-8")).hexdigest()

    def info(self, applied_at: datetime | None = None) -> MigrationInfo:
        return MigrationInfo(self.version, self.name, applied_at)


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


@dataclass(frozen=True)
class _Applied:
    version: int
    name: str
    checksum: str
    applied_at: datetime | None


#: Opens a fresh transaction (never joined to an outer one) for the runner.
Begin = Callable[[], AbstractContextManager[Tx]]
#: Takes the backend's exclusive migration lock inside a transaction (until it ends).
Lock = Callable[[Tx], None]


class Runner:
    """Applies, undoes and reports ``migrations`` through a backend's transactions."""

    def __init__(self, migrations: Sequence[Migration], now: Callable[[], datetime]) -> None:
        self.migrations = list(migrations)
        self.now = now
        self._by_version = {m.version: m for m in self.migrations}

    @property
    def code_version(self) -> int:
        return max((m.version for m in self.migrations), default=0)

    def applied(self, tx: Tx) -> dict[int, _Applied]:
        rows = tx.execute("SELECT version, name, checksum, applied_at FROM schema_migrations")
        return {int(v): _Applied(int(v), str(n), str(c), a) for v, n, c, a in rows}

    def check(self, applied: dict[int, _Applied]) -> None:
        """Refuse a database this code cannot run on: tampered or newer."""
        newest = max(applied, default=0)
        if newest > self.code_version:
            raise SchemaTooNewError(version=newest, supported=self.code_version)
        for version, row in sorted(applied.items()):
            known = self._by_version.get(version)
            if known is not None and known.checksum != row.checksum:
                raise MigrationTamperedError(version=version, name=known.name)

    def status(self, tx: Tx) -> tuple[int, tuple[MigrationInfo, ...], tuple[MigrationInfo, ...]]:
        """(schema version, applied, pending), reading only (no table is created)."""
        try:
            applied = self.applied(tx)
        except BodhiError:
            applied = {}  # no schema_migrations table yet: a new database
        done = tuple(MigrationInfo(a.version, a.name, a.applied_at)
                     for a in sorted(applied.values(), key=lambda a: a.version))
        pending = tuple(m.info() for m in self.migrations if m.version not in applied)
        return max(applied, default=0), done, pending

    def upgrade(self, begin: Begin, lock: Lock) -> list[MigrationInfo]:
        """Apply every pending migration, each in its own transaction."""
        done: list[MigrationInfo] = []
        with begin() as tx:
            lock(tx)
            tx.execute(_CREATE_TABLE)
            applied = self.applied(tx)
            self.check(applied)
        for migration in self.migrations:
            if migration.version in applied:
                continue
            try:
                with begin() as tx:
                    lock(tx)
                    # Another process may have applied it while we waited for the lock.
                    applied = self.applied(tx)
                    self.check(applied)
                    if migration.version in applied:
                        continue
                    tx.script(migration.up)
                    now = self.now()
                    tx.execute("INSERT INTO schema_migrations (version, name, checksum, "
                               "applied_at) VALUES (?, ?, ?, ?)",
                               [migration.version, migration.name, migration.checksum,
                                to_db_ts(now)])
            except (MigrationTamperedError, SchemaTooNewError):
                raise
            except BodhiError as exc:
                raise MigrationFailedError(version=migration.version, name=migration.name,
                                           reason=_reason(exc)) from exc
            done.append(migration.info(now))
        return done

    def downgrade(self, begin: Begin, lock: Lock, steps: int) -> list[MigrationInfo]:
        """Undo the newest ``steps`` applied migrations, newest first."""
        undone: list[MigrationInfo] = []
        for _ in range(max(steps, 0)):
            with begin() as tx:
                lock(tx)
                tx.execute(_CREATE_TABLE)
                applied = self.applied(tx)
                self.check(applied)
                if not applied:
                    break
                newest = self._by_version[max(applied)]
                try:
                    tx.script(newest.down)
                    tx.execute("DELETE FROM schema_migrations WHERE version = ?",
                               [newest.version])
                except BodhiError as exc:
                    raise MigrationFailedError(version=newest.version, name=newest.name,
                                               reason=_reason(exc)) from exc
            undone.append(newest.info(applied[newest.version].applied_at))
        return undone


def _reason(exc: BodhiError) -> str:
    reason = exc.params.get("reason")
    return str(reason) if reason else first_line(exc)
