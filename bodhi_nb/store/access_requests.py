"""The ``user_access_requests`` table: people asking for a role, and the managers' answers.

A row moves ``pending`` -> ``approved`` or ``pending`` -> ``rejected``, each by one
conditional UPDATE, so two reviewers racing (two kernels, two hosts) get one winner on both
backends. Approval is split around the provider call: :meth:`AccessRequestsTable.claim`
marks a pending row as taken by one approver (``claim``, ``claimed_at``),
:meth:`~AccessRequestsTable.approve` writes the outcome only under that claim, and
:meth:`~AccessRequestsTable.release` gives it back when the provider failed. ``rev`` counts a
row's changes: :meth:`~AccessRequestsTable.version` (a count and a sum) changes whenever any
row does.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus
from bodhi_nb.store.base import Row, db_value, to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["AccessRequestsTable"]

_COLUMNS = ("id", "username", "user_id", "status", "created_at", "updated_at", "reviewer",
            "reason", "role", "review_note")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM user_access_requests"
_RETURNING = f"RETURNING {', '.join(_COLUMNS)}"
_PENDING = UserAccessRequestStatus.PENDING.value
#: a pending row no live approver holds: never claimed, released, or claimed before the cutoff
_UNCLAIMED = "(claim IS NULL OR claimed_at < ?)"


def _request(row: Row) -> UserAccessRequest:
    return UserAccessRequest(**dict(zip(_COLUMNS, row, strict=True)))


def _filter(status: UserAccessRequestStatus | None, query: str) -> tuple[str, list[object]]:
    """A WHERE clause (possibly empty) and its parameters. ``query`` matches the username or
    the reason, case-insensitively, as plain text (``strpos``: no LIKE wildcards)."""
    parts: list[str] = []
    params: list[object] = []
    if status is not None:
        parts.append("status = ?")
        params.append(status.value)
    needle = query.strip().lower()
    if needle:
        parts.append("(strpos(lower(username), ?) > 0 "
                     "OR strpos(lower(coalesce(reason, '')), ?) > 0)")
        params += [needle, needle]
    return (f"WHERE {' AND '.join(parts)}" if parts else ""), params


class AccessRequestsTable(Table):
    def insert_pending(self, request: UserAccessRequest) -> UserAccessRequest | None:
        """Inserts ``request`` (pending) unless its user has a pending one already: then
        that one is returned and nothing is written (checked and written under a lock on
        the user, on every host)."""
        with self.store.transaction() as tx:
            tx.lock(f"user_access_requests:{request.user_id}")
            rows = tx.execute(f"{_SELECT} WHERE user_id = ? AND status = ? "
                              "ORDER BY created_at DESC, id DESC LIMIT 1",
                              [request.user_id, _PENDING])
            if rows:
                return _request(rows[0])
            tx.execute(f"INSERT INTO user_access_requests ({', '.join(_COLUMNS)}, rev) "
                       f"VALUES ({', '.join('?' for _ in _COLUMNS)}, 1)",
                       [db_value(getattr(request, c)) for c in _COLUMNS])
        return None

    def get(self, request_id: str) -> UserAccessRequest | None:
        rows = self.store.execute(f"{_SELECT} WHERE id = ?", [request_id])
        return _request(rows[0]) if rows else None

    def latest_for(self, user_id: str) -> UserAccessRequest | None:
        """The user's newest request."""
        rows = self.store.execute(f"{_SELECT} WHERE user_id = ? "
                                  "ORDER BY created_at DESC, id DESC LIMIT 1", [user_id])
        return _request(rows[0]) if rows else None

    def list(self, status: UserAccessRequestStatus | None = None, *, query: str = "",
             offset: int = 0, limit: int = 50) -> builtins.list[UserAccessRequest]:
        """Pending requests oldest first (the queue), any other listing newest change first;
        ties by id, so pages never overlap."""
        where, params = _filter(status, query)
        order = ("created_at ASC, id ASC" if status is UserAccessRequestStatus.PENDING
                 else "updated_at DESC, id DESC")
        rows = self.store.execute(f"{_SELECT} {where} ORDER BY {order} LIMIT ? OFFSET ?",
                                  [*params, max(limit, 0), max(offset, 0)])
        return [_request(r) for r in rows]

    def count(self, status: UserAccessRequestStatus | None = None, *, query: str = "") -> int:
        where, params = _filter(status, query)
        rows = self.store.execute(f"SELECT count(*) FROM user_access_requests {where}", params)
        return int(rows[0][0])

    def counts(self) -> dict[UserAccessRequestStatus, int]:
        """How many requests each status holds (every status present, zero included)."""
        rows = self.store.execute(
            "SELECT status, count(*) FROM user_access_requests GROUP BY status")
        found = {UserAccessRequestStatus(str(s)): int(n) for s, n in rows}
        return {s: found.get(s, 0) for s in UserAccessRequestStatus}

    def version(self) -> str:
        """A token that changes whenever a row is added or changes state."""
        rows = self.store.execute(
            "SELECT count(*), coalesce(sum(coalesce(rev, 1)), 0) FROM user_access_requests")
        count, revs = rows[0]
        return f"{int(count)}.{int(revs)}"

    def ids_matching(self, fragment: str, limit: int = 10) -> builtins.list[str]:
        """Ids that start or end with ``fragment`` (case-insensitive), at most ``limit``."""
        needle = fragment.strip().upper()
        if not needle:
            return []
        rows = self.store.execute(
            "SELECT id FROM user_access_requests WHERE upper(id) = ? "
            "OR strpos(upper(id), ?) = 1 OR right(upper(id), ?) = ? ORDER BY id LIMIT ?",
            [needle, needle, len(needle), needle, limit])
        return [str(r[0]) for r in rows]

    def claim(self, request_id: str, claim: str, now: datetime,
              stale_before: datetime) -> bool:
        """Takes the pending row for one approver: true for exactly one of several callers
        racing, false when it is not pending or another live approver holds it."""
        rows = self.store.execute(
            f"UPDATE user_access_requests SET claim = ?, claimed_at = ? "
            f"WHERE id = ? AND status = ? AND {_UNCLAIMED} RETURNING id",
            [claim, to_db_ts(now), request_id, _PENDING, to_db_ts(stale_before)])
        return bool(rows)

    def release(self, request_id: str, claim: str) -> None:
        """Gives back a claim (the provider failed): the row is pending and free again."""
        self.store.execute(
            "UPDATE user_access_requests SET claim = NULL, claimed_at = NULL "
            "WHERE id = ? AND claim = ? AND status = ?", [request_id, claim, _PENDING])

    def approve(self, request_id: str, claim: str, role: str, reviewer: str,
                now: datetime) -> UserAccessRequest | None:
        """Marks the row approved, only while ``claim`` still holds it; None otherwise."""
        rows = self.store.execute(
            "UPDATE user_access_requests SET status = ?, role = ?, reviewer = ?, "
            "updated_at = ?, claim = NULL, claimed_at = NULL, rev = coalesce(rev, 1) + 1 "
            f"WHERE id = ? AND status = ? AND claim = ? {_RETURNING}",
            [UserAccessRequestStatus.APPROVED.value, role, reviewer, to_db_ts(now),
             request_id, _PENDING, claim])
        return _request(rows[0]) if rows else None

    def reject(self, request_id: str, reviewer: str, note: str | None, now: datetime,
               stale_before: datetime) -> UserAccessRequest | None:
        """Marks a pending row no live approver holds rejected; None when it is not."""
        rows = self.store.execute(
            "UPDATE user_access_requests SET status = ?, reviewer = ?, review_note = ?, "
            "updated_at = ?, claim = NULL, claimed_at = NULL, rev = coalesce(rev, 1) + 1 "
            f"WHERE id = ? AND status = ? AND {_UNCLAIMED} {_RETURNING}",
            [UserAccessRequestStatus.REJECTED.value, reviewer, note, to_db_ts(now),
             request_id, _PENDING, to_db_ts(stale_before)])
        return _request(rows[0]) if rows else None

    def claimed(self, request_ids: Sequence[str]) -> dict[str, datetime | None]:
        """When each row was claimed (None: not claimed), for tests and diagnostics."""
        if not request_ids:
            return {}
        marks = ", ".join("?" for _ in request_ids)
        rows = self.store.execute(
            f"SELECT id, claimed_at FROM user_access_requests WHERE id IN ({marks})",
            list(request_ids))
        return {str(i): at for i, at in rows}
