"""The ``api_model_aliases`` table: remote OpenAI-compatible endpoints by name. Each alias's
API key is a row of ``secrets`` named ``key_prefix + id`` (sealed by SecretService); the
table reports only whether it exists."""

from __future__ import annotations

import json
from datetime import datetime

from bodhi_nb.objs import ApiAlias, ApiFormat
from bodhi_nb.store.base import BY_CODE_POINT, Row, Store, to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["ApiAliasesTable"]

_OWNER = "a.tenant_id = '' AND a.user_id = ''"
_COLUMNS = ("a.id, a.name, a.api_format, a.base_url, a.models, a.prefix, "
            "a.forward_all_with_prefix, a.created_at, a.updated_at, s.name IS NOT NULL")


def _alias(row: Row) -> ApiAlias:
    (_row_id, name, api_format, base_url, models, prefix, forward_all, created, updated,
     has_key) = row
    return ApiAlias(id=str(name), base_url=str(base_url), api_format=ApiFormat(api_format),
                    models=tuple(json.loads(models or "[]")), prefix=prefix or None,
                    forward_all_with_prefix=bool(forward_all), has_api_key=bool(has_key),
                    created_at=created, updated_at=updated)


class ApiAliasesTable(Table):
    def __init__(self, store: Store, *, key_prefix: str) -> None:
        super().__init__(store)
        if "'" in key_prefix:
            raise ValueError("a key prefix holds no quote")
        self.key_prefix = key_prefix
        self._from = (f"api_model_aliases a LEFT JOIN secrets s "
                      f"ON s.name = '{key_prefix}' || a.id")

    def hold_names(self) -> None:
        """Within a unit of work: be the only one checking and changing alias names and
        prefixes (on every host) until it ends, so check-then-insert cannot race."""
        with self.store.transaction() as tx:
            tx.lock("api_model_aliases")

    def row_id(self, name: str) -> str | None:
        rows = self.store.execute(
            f"SELECT a.id FROM api_model_aliases a WHERE {_OWNER} AND a.name = ?", [name])
        return str(rows[0][0]) if rows else None

    def prefix_owner(self, prefix: str, *, other_than: str) -> str | None:
        """The name of another alias using ``prefix``, if any."""
        rows = self.store.execute(
            f"SELECT a.name FROM api_model_aliases a WHERE {_OWNER} AND a.prefix = ? "
            "AND a.name <> ?", [prefix, other_than])
        return str(rows[0][0]) if rows else None

    def insert(self, row_id: str, alias: ApiAlias, now: datetime) -> None:
        stamp = to_db_ts(now)
        self.store.execute(
            "INSERT INTO api_model_aliases (id, name, tenant_id, user_id, api_format, "
            "base_url, models, prefix, forward_all_with_prefix, created_at, updated_at) "
            "VALUES (?, ?, '', '', ?, ?, ?, ?, ?, ?, ?)",
            [row_id, alias.id, alias.api_format.value, alias.base_url,
             json.dumps(list(alias.models)), alias.prefix, alias.forward_all_with_prefix,
             stamp, stamp])

    def touch(self, row_id: str, now: datetime) -> None:
        self.store.execute("UPDATE api_model_aliases SET updated_at = ? WHERE id = ?",
                           [to_db_ts(now), row_id])

    def delete(self, row_id: str) -> None:
        self.store.execute("DELETE FROM api_model_aliases WHERE id = ?", [row_id])

    def list(self) -> list[ApiAlias]:
        """Every alias, by name (code point order on every backend)."""
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM {self._from} WHERE {_OWNER} "
            f"ORDER BY a.name {BY_CODE_POINT}")
        return [_alias(r) for r in rows]

    def get(self, name: str) -> ApiAlias | None:
        rows = self.store.execute(
            f"SELECT {_COLUMNS} FROM {self._from} WHERE {_OWNER} AND a.name = ?", [name])
        return _alias(rows[0]) if rows else None
