"""The ``api_tokens`` table: API tokens as a lookup prefix and the SHA-256 hex of the whole
token (ApiTokenService makes and checks them; nothing here is the token itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bodhi_nb.store.base import Row, to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["ApiTokenRow", "ApiTokensTable"]

_COLUMNS = ("id, user_id, name, token_prefix, token_hash, scopes, status, last_used_at, "
            "created_at, updated_at")


@dataclass(frozen=True)
class ApiTokenRow:
    id: str
    user_id: str
    name: str
    token_prefix: str
    #: SHA-256 hex of the whole token
    token_hash: str = ""
    #: ``scope_token_user`` or ``scope_token_power_user``
    scopes: str = ""
    #: ``active`` or ``inactive``
    status: str = "active"
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: the grants envelope (JSON text)
    grants: str = "{}"


def _row(row: Row) -> ApiTokenRow:
    (row_id, user_id, name, prefix, digest, scopes, status, last_used, created,
     updated) = row
    return ApiTokenRow(str(row_id), str(user_id), str(name), str(prefix), str(digest),
                       str(scopes), str(status), last_used, created, updated)


class ApiTokensTable(Table):
    def hold_names(self) -> None:
        """Within a unit of work: be the only one checking and adding token names (on
        every host) until it ends, so check-then-insert cannot race."""
        with self.store.transaction() as tx:
            tx.lock("api_tokens")

    def insert(self, row: ApiTokenRow) -> None:
        self.store.execute(
            "INSERT INTO api_tokens (id, tenant_id, user_id, name, token_prefix, token_hash, "
            "scopes, status, grants, last_used_at, created_at, updated_at) "
            "VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [row.id, row.user_id, row.name, row.token_prefix, row.token_hash, row.scopes,
             row.status, row.grants, to_db_ts(row.last_used_at), to_db_ts(row.created_at),
             to_db_ts(row.updated_at)])

    def by_prefix(self, prefix: str) -> ApiTokenRow | None:
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE tenant_id = '' AND token_prefix = ?",
            [prefix])
        return _row(rows[0]) if rows else None

    def of_user(self, user_id: str | None) -> list[ApiTokenRow]:
        """``user_id``'s tokens (None: everyone's), oldest first."""
        where, params = "tenant_id = ''", []
        if user_id is not None:
            where, params = where + " AND user_id = ?", [user_id]
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE {where} ORDER BY created_at, id",
            params)
        return [_row(r) for r in rows]

    def named(self, user_id: str | None, name: str) -> list[ApiTokenRow]:
        """``user_id``'s tokens (None: anyone's) named ``name``, newest first."""
        where, params = "tenant_id = '' AND name = ?", [name]
        if user_id is not None:
            where, params = where + " AND user_id = ?", [name, user_id]
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM api_tokens WHERE {where} "
            "ORDER BY created_at DESC, id DESC", params)
        return [_row(r) for r in rows]

    def set_status(self, row_id: str, status: str, now: datetime) -> None:
        self.store.execute("UPDATE api_tokens SET status = ?, updated_at = ? WHERE id = ?",
                           [status, to_db_ts(now), row_id])

    def touch(self, row_id: str, now: datetime, *, unless_after: datetime) -> None:
        """Record a use at ``now``, unless one was recorded after ``unless_after`` (another
        process may have just done it)."""
        self.store.execute(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ? "
            "AND (last_used_at IS NULL OR last_used_at <= ?)",
            [to_db_ts(now), row_id, to_db_ts(unless_after)])
