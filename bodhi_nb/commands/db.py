"""``db``: where the tables live and their schema: status, migrate, migrate --down N."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Context, Group, Verb, command, confirmed
from bodhi_nb.commands.results import Message, Result, Sections
from bodhi_nb.errors import BadArgumentsError

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.store.base import MigrationInfo

__all__ = ["DbCommand"]


@dataclass(frozen=True)
class DbStatusRequest:
    json: bool = False


@dataclass(frozen=True)
class DbMigrateRequest:
    #: how many applied migrations to undo, newest first (None: apply every pending one).
    down: int | None = None
    yes: bool = False
    json: bool = False


def _name(m: MigrationInfo) -> str:
    return f"{m.version:04d}_{m.name}"


def _rows(ctx: Context, migrations: tuple[MigrationInfo, ...] | list[MigrationInfo],
          state: str) -> list[tuple[object, ...]]:
    return [(m.version, m.name, ctx.t(f"db-state-{state}"), m.applied_at) for m in migrations]


def _iso(when: datetime | None) -> str | None:
    if when is None:
        return None
    if when.tzinfo is None:  # the store keeps naive UTC
        when = when.replace(tzinfo=UTC)
    return when.isoformat().replace("+00:00", "Z")


def _records(migrations: tuple[MigrationInfo, ...] | list[MigrationInfo],
             state: str) -> list[dict[str, object]]:
    """JSON keeps the English state (a script reads it), and ISO 8601 times."""
    return [{"version": m.version, "name": m.name, "state": state,
             "applied": _iso(m.applied_at)}
            for m in migrations]


class DbStatus(Verb[DbStatusRequest]):
    name = "status"
    summary = "the backend, where the data lives, the schema version and pending migrations"
    Request = DbStatusRequest

    def run(self, app: AppService, request: DbStatusRequest, ctx: Context) -> Result:
        info = app.db_service().info()
        head = Message(
            ctx.t("db-status", backend=info.backend, location=info.location,
                  version=info.schema_version, latest=info.code_version,
                  pending=len(info.pending)),
            data={"backend": info.backend, "location": info.location,
                  "schema_version": info.schema_version, "code_version": info.code_version,
                  "pending": [_name(m) for m in info.pending]})
        rows = _rows(ctx, info.applied, "applied") + _rows(ctx, info.pending, "pending")
        table = ctx.table(("version", "name", "state", "applied"), rows,
                          title=ctx.t("db-migrations-title"),
                          records=_records(info.applied, "applied")
                          + _records(info.pending, "pending"))
        return Sections((("database", head), ("migrations", table)))


class DbMigrate(Verb[DbMigrateRequest]):
    name = "migrate"
    summary = "apply pending migrations, or undo the newest N with --down N"
    Request = DbMigrateRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--down", type=int, metavar="N",
                            help="undo the newest N applied migrations (asks first)")
        parser.add_argument("-y", "--yes", action="store_true", help="do not ask")

    def run(self, app: AppService, request: DbMigrateRequest, ctx: Context) -> Result:
        db = app.db_service()
        if request.down is None:
            done = db.migrate()
            if not done:
                return Message(ctx.t("db-up-to-date", version=db.info().schema_version),
                               data={"applied": []})
            return ctx.table(("version", "name", "state", "applied"),
                             _rows(ctx, done, "applied"),
                             title=ctx.t("db-migrated", count=len(done)),
                             records=_records(done, "applied"))
        if request.down < 1:
            raise BadArgumentsError(command=self.group, reason=ctx.t("db-down-positive"))
        info = db.info()
        victims = list(reversed(info.applied))[:request.down]
        if not victims:
            return Message(ctx.t("db-nothing-to-undo"), data={"undone": []})
        question = ctx.t("db-down-confirm", count=len(victims), location=info.location,
                         names=", ".join(_name(m) for m in victims))
        if not confirmed(ctx, question, yes=request.yes, command=self.group,
                         needs_yes=ctx.t("db-down-needs-yes")):
            return Message(ctx.t("db-nothing-undone"), data={"undone": []})
        undone = db.migrate_down(len(victims))
        return ctx.table(("version", "name", "state", "applied"),
                         _rows(ctx, undone, "undone"),
                         title=ctx.t("db-undone", count=len(undone)),
                         records=_records(undone, "undone"))


@command
class DbCommand(Group):
    name = "db"
    summary = "the database: status, migrate, migrate --down N"
    verbs = (DbStatus(), DbMigrate())
    default_verb = "status"
