"""SessionService: login sessions in DuckDB's ``sessions`` table.

A session id is a bearer credential: 256 random bits, handed to the caller once and stored
only as its SHA-256, so the database file does not hold a usable id. Session data is JSON;
every field whose name marks it as secret (``access_token``, ``refresh_token``, ``api_key``,
... at any depth) is sealed through :class:`~bodhi_nb.services.secret.SecretService` under
the internal name ``bodhi:session:<digest>``, never stored in clear, and re-sealed with the
rest of the secrets when the master key rotates.

Expiry runs on the injected TimeService: an expired session is gone for ``get`` and removed
by ``purge_expired``. ``rotate`` gives a session a new id with the same data (on login, so
an id seen before authentication is useless after it); ``clear_sessions_for_user`` ends a
user's sessions when their role changes.
"""

from __future__ import annotations

import hashlib
import json
import secrets as _random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bodhi_nb.errors import SessionExpiredError, SessionInvalidDataError, SessionNotFoundError
from bodhi_nb.redact import MASK, get_logger, is_sensitive_key, redact
from bodhi_nb.store.sessions import SessionRow, SessionsTable

if TYPE_CHECKING:
    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.time import TimeService

__all__ = ["DEFAULT_TTL_SECS", "ID_BYTES", "Session", "SessionService"]

DEFAULT_TTL_SECS = 24 * 3600
#: Random bytes in a session id (256 bits; at least 128 are required).
ID_BYTES = 32
_SEALED_FIELDS = "$sealed"
_log = get_logger("bodhi_nb.session")


@dataclass(frozen=True, repr=False)
class Session:
    """A live session. ``id`` is the bearer value; the repr shows it and tokens redacted."""

    id: str
    user_id: str | None
    data: Mapping[str, Any]
    expires_at: datetime
    created_at: datetime
    updated_at: datetime

    def __repr__(self) -> str:
        shown = {k: (MASK if _is_secret_field(k, v) else v) for k, v in self.data.items()}
        return (f"Session(id={redact(self.id)!r}, user_id={self.user_id!r}, data={shown!r}, "
                f"expires_at={self.expires_at.isoformat()!r})")


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _sealed_name(digest: str) -> str:
    return f"bodhi:session:{digest}"


def _contains_sensitive(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(is_sensitive_key(str(k)) or _contains_sensitive(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_contains_sensitive(v) for v in value)
    return False


def _is_secret_field(key: str, value: Any) -> bool:
    return is_sensitive_key(key) or _contains_sensitive(value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SessionService:
    """Create, read, touch, rotate, expire and clear sessions."""

    def __init__(self, sessions: SessionsTable, secret: SecretService, time: TimeService, *,
                 ttl_secs: int = DEFAULT_TTL_SECS) -> None:
        self._sessions = sessions
        self._secret = secret
        self._time = time
        self.ttl = timedelta(seconds=ttl_secs)

    def __repr__(self) -> str:
        return f"SessionService(ttl={int(self.ttl.total_seconds())}s)"

    # -- public API -----------------------------------------------------------------------------

    def create(self, user_id: str | None = None, data: Mapping[str, Any] | None = None, *,
               ttl_secs: int | None = None) -> Session:
        """A new session with a fresh random id."""
        plain, sealed = _split(dict(data or {}))
        now = self._time.utc_now()
        expires = now + (self.ttl if ttl_secs is None else timedelta(seconds=ttl_secs))
        session_id = _random.token_urlsafe(ID_BYTES)
        if sealed:
            self._secret.ensure_key()  # before the transaction: key creation takes a lock
        with self._sessions.transaction():
            self._insert(_digest(session_id), user_id, plain, sealed, expires, now, now)
        return Session(session_id, user_id, {**plain, **sealed}, expires, now, now)

    def get(self, session_id: str) -> Session | None:
        """The session, or None when it does not exist or has expired."""
        with self._sessions.transaction():
            return self._load(session_id, raise_missing=False)

    def alive(self, session_id: str) -> bool:
        """Whether the session exists and has not expired: one read, nothing decrypted
        (a caller holding the session's data checks it has not been ended elsewhere)."""
        row = self._sessions.get(_digest(session_id))
        return row is not None and _aware(row.expires_at) > self._time.utc_now()

    def touch(self, session_id: str, *, ttl_secs: int | None = None) -> Session:
        """Extend the session's life by the TTL from now."""
        now = self._time.utc_now()
        expires = now + (self.ttl if ttl_secs is None else timedelta(seconds=ttl_secs))
        with self._sessions.transaction():
            session = self._require(session_id)
            self._sessions.set_expiry(_digest(session_id), expires, now)
        return Session(session.id, session.user_id, session.data, expires, session.created_at,
                       now)

    def update(self, session_id: str, data: Mapping[str, Any]) -> Session:
        """Replace the session's data (expiry unchanged)."""
        plain, sealed = _split(dict(data))
        if sealed:
            self._secret.ensure_key()
        now = self._time.utc_now()
        digest = _digest(session_id)
        with self._sessions.transaction():
            session = self._require(session_id)
            self._delete_rows([digest])
            self._insert(digest, session.user_id, plain, sealed, session.expires_at,
                         session.created_at, now)
        return Session(session_id, session.user_id, {**plain, **sealed}, session.expires_at,
                       session.created_at, now)

    def rotate(self, session_id: str, *, user_id: str | None = None) -> Session:
        """The same session under a new id; the old id stops working.

        ``user_id`` sets the owner at the same time (a login binds the session to a user).
        """
        now = self._time.utc_now()
        new_id = _random.token_urlsafe(ID_BYTES)
        self._secret.ensure_key()
        with self._sessions.transaction():
            session = self._require(session_id)
            owner = user_id if user_id is not None else session.user_id
            plain, sealed = _split(dict(session.data))
            self._delete_rows([_digest(session_id)])
            self._insert(_digest(new_id), owner, plain, sealed, session.expires_at,
                         session.created_at, now)
        _log.debug("rotated session %s -> %s", redact(session_id), redact(new_id))
        return Session(new_id, owner, session.data, session.expires_at, session.created_at, now)

    def delete(self, session_id: str) -> bool:
        with self._sessions.transaction():
            return self._delete_rows([_digest(session_id)]) > 0

    def purge_expired(self) -> int:
        """Remove every expired session; returns how many."""
        with self._sessions.transaction():
            return self._delete_rows(self._sessions.expired(self._time.utc_now()))

    def clear_sessions_for_user(self, user_id: str) -> int:
        """End every session of ``user_id`` (e.g. after a role change); returns how many."""
        with self._sessions.transaction():
            return self._delete_rows(self._sessions.of_user(user_id))

    def clear_all_sessions(self) -> int:
        with self._sessions.transaction():
            return self._delete_rows(self._sessions.all_ids())

    def count_sessions_for_user(self, user_id: str) -> int:
        """Live (unexpired) sessions of ``user_id``."""
        return self._sessions.count_live(user_id, self._time.utc_now())

    # -- internals ------------------------------------------------------------------------------

    def _insert(self, digest: str, user_id: str | None, plain: Mapping[str, Any],
                sealed: Mapping[str, Any], expires: datetime, created: datetime,
                updated: datetime) -> None:
        stored = dict(plain)
        if sealed:
            stored[_SEALED_FIELDS] = sorted(sealed)
            self._secret.store_internal(_sealed_name(digest), json.dumps(sealed))
        self._sessions.insert(SessionRow(digest, user_id, json.dumps(stored), expires, created,
                                   updated))

    def _load(self, session_id: str, *, raise_missing: bool) -> Session | None:
        digest = _digest(session_id)
        row = self._sessions.get(digest)
        if row is None:
            if raise_missing:
                raise SessionNotFoundError()
            return None
        user_id, raw = row.user_id, row.data
        expires, created, updated = row.expires_at, row.created_at, row.updated_at
        if _aware(expires) <= self._time.utc_now():
            if raise_missing:
                # (a delete here would roll back with the error; purge_expired removes it)
                raise SessionExpiredError()
            self._delete_rows([digest])
            return None
        data = dict(json.loads(raw))
        if data.pop(_SEALED_FIELDS, None) is not None:
            sealed = self._secret.retrieve_internal(_sealed_name(digest))
            if sealed is not None:
                data.update(json.loads(str(sealed)))
        return Session(session_id, user_id, data, _aware(expires), _aware(created),
                       _aware(updated))

    def _require(self, session_id: str) -> Session:
        session = self._load(session_id, raise_missing=True)
        assert session is not None
        return session

    def _delete_rows(self, digests: list[str]) -> int:
        if not digests:
            return 0
        self._secret.delete_internal(_sealed_name(d) for d in digests)
        return self._sessions.delete(digests)


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields stored in clear, fields sealed through SecretService)."""
    if _SEALED_FIELDS in data:
        raise SessionInvalidDataError(reason=f"the key {_SEALED_FIELDS!r} is reserved")
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SessionInvalidDataError(reason=reason) from None
    plain = {k: v for k, v in data.items() if not _is_secret_field(str(k), v)}
    sealed = {k: v for k, v in data.items() if _is_secret_field(str(k), v)}
    return plain, sealed
