"""The ``secrets`` table: sealed values (SecretService seals and opens them; nothing here
is secret)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bodhi_nb.objs import Envelope, SecretInfo
from bodhi_nb.store.base import BY_CODE_POINT, to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["SecretsTable"]


class SecretsTable(Table):
    def get(self, name: str) -> Envelope | None:
        rows = self.store.execute(
            "SELECT value, salt, nonce, key_id FROM secrets WHERE name = ?", [name])
        return Envelope(*(str(v) for v in rows[0])) if rows else None

    def key_id(self, name: str) -> str | None:
        """The master key id that sealed ``name``'s value, or None when there is no row."""
        rows = self.store.execute("SELECT key_id FROM secrets WHERE name = ?", [name])
        return str(rows[0][0]) if rows else None

    def upsert(self, name: str, envelope: Envelope, now: datetime) -> None:
        stamp = to_db_ts(now)
        self.store.execute(
            "INSERT INTO secrets (name, tenant_id, value, salt, nonce, key_id, created_at, "
            "updated_at) VALUES (?, '', ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "value = excluded.value, salt = excluded.salt, nonce = excluded.nonce, "
            "key_id = excluded.key_id, updated_at = excluded.updated_at",
            [name, envelope.value, envelope.salt, envelope.nonce, envelope.key_id, stamp,
             stamp])

    def reseal(self, name: str, envelope: Envelope) -> None:
        """Replace a value sealed with another key (key rotation); timestamps kept."""
        self.store.execute(
            "UPDATE secrets SET value = ?, salt = ?, nonce = ?, key_id = ? WHERE name = ?",
            [envelope.value, envelope.salt, envelope.nonce, envelope.key_id, name])

    def delete(self, names: Iterable[str]) -> list[str]:
        """Delete these rows; the names that existed."""
        wanted = list(names)
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = self.store.execute(f"DELETE FROM secrets WHERE name IN ({marks}) RETURNING name",
                                  wanted)
        return [str(r[0]) for r in rows]

    def delete_prefixed(self, prefix: str) -> list[str]:
        """Delete every row whose name starts with ``prefix``; the names deleted."""
        rows = self.store.execute("DELETE FROM secrets WHERE name LIKE ? RETURNING name",
                                  [_like_prefix(prefix)])
        return [str(r[0]) for r in rows]

    def list_info(self, *, hidden_prefix: str) -> list[SecretInfo]:
        """Names and timestamps by name (code point order), but for names starting with
        ``hidden_prefix``."""
        rows = self.store.execute(
            "SELECT name, created_at, updated_at FROM secrets WHERE name NOT LIKE ? "
            f"ORDER BY name {BY_CODE_POINT}", [_like_prefix(hidden_prefix)])
        return [SecretInfo(str(n), c, u) for n, c, u in rows]

    def count_except(self, name: str, *, prefix: str) -> int:
        """Rows other than ``name`` whose names do not start with ``prefix``."""
        rows = self.store.execute(
            "SELECT count(*) FROM secrets WHERE name <> ? AND name NOT LIKE ?",
            [name, _like_prefix(prefix)])
        return int(rows[0][0])

    def all(self) -> list[tuple[str, Envelope]]:
        """Every row by name (key rotation)."""
        rows = self.store.execute(
            f"SELECT name, value, salt, nonce, key_id FROM secrets ORDER BY name {BY_CODE_POINT}")
        return [(str(r[0]), Envelope(*(str(v) for v in r[1:]))) for r in rows]


def _like_prefix(prefix: str) -> str:
    # (our prefixes hold no LIKE wildcards or backslashes; refuse any that would)
    if any(c in prefix for c in "%_\\"):
        raise ValueError(f"not a plain prefix: {prefix!r}")
    return prefix + "%"
