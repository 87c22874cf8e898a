"""The ``sessions`` table: login sessions keyed by the SHA-256 of their id (SessionService
seals the sensitive fields through SecretService; ``data`` holds only the rest)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bodhi_nb.store.base import to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["SessionRow", "SessionsTable"]


@dataclass(frozen=True)
class SessionRow:
    digest: str
    user_id: str | None
    #: JSON text of the fields kept in clear.
    data: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime


class SessionsTable(Table):
    def insert(self, row: SessionRow) -> None:
        self.store.execute(
            "INSERT INTO sessions (id, user_id, data, expires_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [row.digest, row.user_id, row.data, to_db_ts(row.expires_at),
             to_db_ts(row.created_at), to_db_ts(row.updated_at)])

    def get(self, digest: str) -> SessionRow | None:
        rows = self.store.execute(
            "SELECT id, user_id, data, expires_at, created_at, updated_at FROM sessions "
            "WHERE id = ?", [digest])
        if not rows:
            return None
        d, user_id, data, expires, created, updated = rows[0]
        return SessionRow(str(d), None if user_id is None else str(user_id), str(data),
                          expires, created, updated)

    def set_expiry(self, digest: str, expires_at: datetime, updated_at: datetime) -> None:
        self.store.execute("UPDATE sessions SET expires_at = ?, updated_at = ? WHERE id = ?",
                           [to_db_ts(expires_at), to_db_ts(updated_at), digest])

    def delete(self, digests: Sequence[str]) -> int:
        """Delete these rows; how many existed."""
        if not digests:
            return 0
        marks = ", ".join("?" for _ in digests)
        rows = self.store.execute(f"DELETE FROM sessions WHERE id IN ({marks}) RETURNING id",
                                  list(digests))
        return len(rows)

    def expired(self, now: datetime) -> list[str]:
        """Digests of sessions expired at ``now``."""
        return self._ids("expires_at <= ?", [to_db_ts(now)])

    def of_user(self, user_id: str) -> list[str]:
        return self._ids("user_id = ?", [user_id])

    def all_ids(self) -> list[str]:
        return self._ids("TRUE", [])

    def count_live(self, user_id: str, now: datetime) -> int:
        rows = self.store.execute(
            "SELECT count(*) FROM sessions WHERE user_id = ? AND expires_at > ?",
            [user_id, to_db_ts(now)])
        return int(rows[0][0])

    def _ids(self, where: str, params: list[object]) -> list[str]:
        return [str(r[0]) for r in self.store.execute(f"SELECT id FROM sessions WHERE {where}",
                                                       params)]
