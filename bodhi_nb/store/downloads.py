"""The ``download_requests`` table: one row per pull (repo, file, revision)."""

from __future__ import annotations

from collections.abc import Sequence

from bodhi_nb.errors import NotFoundError
from bodhi_nb.objs import DownloadRequest
from bodhi_nb.store.base import Row, db_value
from bodhi_nb.store.table import Table

__all__ = ["DownloadsTable"]

_COLUMNS = ("id", "repo", "filename", "revision", "status", "error", "total_bytes",
            "downloaded_bytes", "started_at", "archived_at", "created_at", "updated_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM download_requests"


_INSERT = (f"INSERT INTO download_requests ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join('?' for _ in _COLUMNS)})")


def _request(row: Row) -> DownloadRequest:
    return DownloadRequest(**dict(zip(_COLUMNS, row, strict=True)))


class DownloadsTable(Table):
    def create(self, request: DownloadRequest) -> None:
        self.store.execute(_INSERT, [db_value(getattr(request, c)) for c in _COLUMNS])

    def update(self, request: DownloadRequest) -> None:
        """Write every column but id and created_at; NotFoundError if the row is gone."""
        columns = [c for c in _COLUMNS if c not in ("id", "created_at")]
        sets = ", ".join(f"{c} = ?" for c in columns)
        values = [db_value(getattr(request, c)) for c in columns]
        found = self.store.execute(
            f"UPDATE download_requests SET {sets} WHERE id = ? RETURNING id",
            [*values, request.id])
        if not found:
            raise NotFoundError(table="download_requests", id=request.id)

    def get(self, request_id: str) -> DownloadRequest | None:
        rows = self.store.execute(f"{_SELECT} WHERE id = ?", [request_id])
        return _request(rows[0]) if rows else None

    def list(self, *, include_archived: bool = False, limit: int = 100,
             offset: int = 0) -> list[DownloadRequest]:
        """Newest change first (ties by id, so pages never overlap); ``limit`` rows after
        the first ``offset``."""
        where = "" if include_archived else "WHERE archived_at IS NULL"
        rows = self.store.execute(
            f"{_SELECT} {where} ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
            [max(limit, 0), max(offset, 0)])
        return [_request(r) for r in rows]

    def count(self, *, include_archived: bool = False) -> int:
        where = "" if include_archived else "WHERE archived_at IS NULL"
        rows = self.store.execute(f"SELECT count(*) FROM download_requests {where}")
        return int(rows[0][0])

    def latest_for(self, repo: str, filename: str, revision: str) -> DownloadRequest | None:
        """The newest unarchived request for this file at this revision."""
        rows = self.store.execute(
            f"{_SELECT} WHERE repo = ? AND filename = ? AND revision = ? AND archived_at IS NULL"
            " ORDER BY created_at DESC, id DESC LIMIT 1", [repo, filename, revision])
        return _request(rows[0]) if rows else None

    def set_owner(self, request_id: str, owner: str | None) -> None:
        """Record which process runs the request; None clears it."""
        self.store.execute("UPDATE download_requests SET owner = ? WHERE id = ?",
                           [owner, request_id])

    def owners(self, request_ids: Sequence[str]) -> dict[str, str | None]:
        if not request_ids:
            return {}
        marks = ", ".join("?" for _ in request_ids)
        rows = self.store.execute(f"SELECT id, owner FROM download_requests WHERE id IN ({marks})",
                                  list(request_ids))
        return {str(i): (None if o is None else str(o)) for i, o in rows}
