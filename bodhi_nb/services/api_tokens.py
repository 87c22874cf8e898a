"""ApiTokenService: API tokens for clients of ``bodhi serve`` (BodhiApp §9 "API token", §10).

A token is ``sk-bodhiapp_`` + base64url(32 random bytes, no padding: 43 characters) + a
6-character checksum (base64url of the big-endian CRC32 of those 43 characters), then, when
authentication is on, ``.`` + the deployment's client id (BodhiApp's layout). The table keeps
a lookup prefix (``sk-bodhiapp_`` + the first 8 random characters) and the SHA-256 hex of the
whole token: the token is shown once, by :meth:`ApiTokenService.create`, and never again.

:meth:`ApiTokenService.authenticate` checks the layout and the checksum before anything else,
so a mistyped or truncated token costs no database read; then it finds the row by prefix and
compares hashes in constant time. A revoked token is refused from the next request on (the
row is read on every request: nothing is cached). ``last_used_at`` is written at most once a
minute per token.

A token's scope (``user`` or ``power_user``) is the role it acts with: a front end serving a
request wraps it in ``auth.acting_as(identity.actor())``, so the policy judges the token even
with authentication off. With authentication on, a token belongs to the logged-in user who
made it and cannot reach above their role; tokens are managed from a login, not with a token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets as _random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from bodhi_nb.errors import (
    AuthLoginRequiredError,
    ConstraintError,
    TokenBadChecksumError,
    TokenBadNameError,
    TokenBadScopeError,
    TokenMalformedError,
    TokenNameTakenError,
    TokenNotFoundError,
    TokenRevokedError,
    TokenScopeAboveYoursError,
    TokenSessionOnlyError,
    TokenUnknownError,
)
from bodhi_nb.objs import new_ulid
from bodhi_nb.redact import SecretStr, get_logger, register_secret
from bodhi_nb.services.auth import Actor
from bodhi_nb.services.auth_tokens import role_at_least
from bodhi_nb.services.policy import Action, Gate, allow_all, short_role
from bodhi_nb.store.api_tokens import ApiTokenRow

if TYPE_CHECKING:
    from bodhi_nb.services.auth import AuthService
    from bodhi_nb.services.time import TimeService
    from bodhi_nb.store.api_tokens import ApiTokensTable

__all__ = ["LOCAL_USER", "SCOPES", "TOKEN_PREFIX", "ApiToken", "ApiTokenSecret",
           "ApiTokenService", "TokenIdentity", "token_checksum"]

#: every token starts with this (``sk-`` as OpenAI's keys do: secret scanners know it)
TOKEN_PREFIX = "sk-bodhiapp_"
#: the scopes a token may have, lowest first
SCOPES: tuple[str, ...] = ("user", "power_user")
#: the owner of tokens made with authentication off
LOCAL_USER = "local"
_RANDOM_BYTES = 32
_RANDOM_LEN = 43  # base64url of 32 bytes, no padding
_CHECKSUM_LEN = 6  # base64url of 4 bytes, no padding
_LOOKUP_CHARS = 8
_MAX_LEN = 512
_B64 = "A-Za-z0-9_-"
_TOKEN = re.compile(rf"sk-bodhiapp_([{_B64}]{{{_RANDOM_LEN}}})([{_B64}]{{{_CHECKSUM_LEN}}})"
                    r"(?:\.([!-~]{1,255}))?")
_NAME = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
#: ``last_used_at`` is written at most this often per token
_TOUCH_EVERY = timedelta(seconds=60)
#: BodhiApp's default grants: nothing beyond what the scope gives (§9)
_DENY_ALL_GRANTS = json.dumps({"version": "1", "models_list": False,
                               "models": {"type": "specific", "ids": []},
                               "mcps_list": False, "mcps": {"type": "specific", "ids": []}},
                              separators=(",", ":"))
_log = get_logger("bodhi_nb.api_tokens")


def token_checksum(random: str) -> str:
    """The 6-character checksum of a token's random part: base64url (no padding) of the
    big-endian CRC32 of its characters. Not a security control: it lets a broken token be
    refused without a database read (and secret scanners recognise the format)."""
    crc = zlib.crc32(random.encode("ascii")) & 0xFFFFFFFF
    return base64.urlsafe_b64encode(crc.to_bytes(4, "big")).decode("ascii").rstrip("=")


class ApiTokenSecret(SecretStr):
    """The token, as :meth:`ApiTokenService.create` hands it out once: ``str()`` is the
    token; its repr shows only the lookup prefix that ``token ls`` shows too."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ApiTokenSecret({str.__str__(self)[:len(TOKEN_PREFIX) + _LOOKUP_CHARS]!r}...)"


@dataclass(frozen=True)
class ApiToken:
    """An API token as listed (never the token itself)."""

    id: str
    name: str
    #: ``sk-bodhiapp_`` + the first 8 random characters
    prefix: str
    #: ``user`` or ``power_user``
    scope: str
    user_id: str
    #: ``active`` or ``revoked``
    status: str
    created_at: datetime
    updated_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class TokenIdentity:
    """Who a valid token speaks for, and with which role."""

    token_id: str
    name: str
    user_id: str
    #: ``user`` or ``power_user``
    scope: str
    #: the full role the scope gives: ``resource_user`` or ``resource_power_user``
    role: str

    def actor(self) -> Actor:
        """The actor for :meth:`AuthService.acting_as` (the owner's id stands for their
        name: the table keeps no user names)."""
        return Actor(user_id=self.user_id, username=self.user_id, role=self.role,
                     via="token")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _scope_of(stored: str) -> str:
    return stored.removeprefix("scope_token_")


def _api_token(row: ApiTokenRow) -> ApiToken:
    assert row.created_at is not None and row.updated_at is not None
    return ApiToken(id=row.id, name=row.name, prefix=row.token_prefix,
                    scope=_scope_of(row.scopes), user_id=row.user_id,
                    status="active" if row.status == "active" else "revoked",
                    created_at=_aware(row.created_at), updated_at=_aware(row.updated_at),
                    last_used_at=None if row.last_used_at is None
                    else _aware(row.last_used_at))


def _parse(token: str) -> tuple[str, str | None]:
    """The random part and the client id suffix of a well-formed token whose checksum
    holds; a coded error otherwise. Reads nothing."""
    if len(token) > _MAX_LEN:
        raise TokenMalformedError()
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise TokenMalformedError()
    random, checksum, suffix = match.groups()
    if not hmac.compare_digest(checksum.encode("ascii"),
                               token_checksum(random).encode("ascii")):
        raise TokenBadChecksumError()
    return random, suffix


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenService:
    """Create, list and revoke one's API tokens; authenticate a request's token."""

    def __init__(self, table: ApiTokensTable, auth: AuthService, time: TimeService, *,
                 gate: Gate = allow_all,
                 random_bytes: Callable[[int], bytes] = _random.token_bytes) -> None:
        self._table = table
        self._auth = auth
        self._time = time
        self._gate = gate
        self._random_bytes = random_bytes

    def __repr__(self) -> str:
        return f"ApiTokenService({self._table!r})"

    # ---- the caller ---------------------------------------------------------------------
    def _owner(self) -> tuple[str, str | None]:
        """The caller's user id and role (None: no limit, authentication off)."""
        actor = self._auth.acting()
        if actor is not None:
            if actor.via == "token":
                raise TokenSessionOnlyError()
            return actor.user_id, actor.role
        if not self._auth.enabled:
            return LOCAL_USER, None
        identity = self._auth.current()
        if identity is None:
            raise AuthLoginRequiredError()
        return identity.user_id, identity.role

    def _listed_owner(self) -> str | None:
        """Whose tokens the caller sees: their own (None: everyone's, authentication off
        with no actor, where the person at the machine is its admin)."""
        owner, role = self._owner()
        return None if role is None and owner == LOCAL_USER else owner

    # ---- management (gated) -------------------------------------------------------------
    def create(self, name: str, scope: str = "user") -> tuple[ApiToken, SecretStr]:
        """A new token named ``name`` with ``scope`` (``user`` or ``power_user``), owned by
        the caller; the token itself is in the returned secret, and nowhere else, ever."""
        self._gate(Action.TOKENS)
        wanted = scope.removeprefix("scope_token_")
        if wanted not in SCOPES:
            raise TokenBadScopeError(scope=scope, scopes=", ".join(SCOPES))
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise TokenBadNameError(name=name[:64])
        owner, role = self._owner()
        if role is not None and not role_at_least(role, f"resource_{wanted}"):
            raise TokenScopeAboveYoursError(scope=wanted,
                                            have=short_role(role))
        client_id = self._auth.client_id() if self._auth.enabled else None
        now = self._time.utc_now()
        for attempt in range(3):
            random = base64.urlsafe_b64encode(
                self._random_bytes(_RANDOM_BYTES)).decode("ascii").rstrip("=")
            token = TOKEN_PREFIX + random + token_checksum(random)
            if client_id:
                token += "." + client_id
            register_secret(token)  # a log line that ever holds it is masked
            row = ApiTokenRow(id=new_ulid(now), user_id=owner, name=name,
                              token_prefix=TOKEN_PREFIX + random[:_LOOKUP_CHARS],
                              token_hash=_digest(token), scopes=f"scope_token_{wanted}",
                              status="active", created_at=now, updated_at=now,
                              grants=_DENY_ALL_GRANTS)
            try:
                with self._table.transaction():
                    self._table.hold_names()
                    if any(r.status == "active" for r in self._table.named(owner, name)):
                        raise TokenNameTakenError(name=name)
                    self._table.insert(row)
            except ConstraintError:
                if attempt == 2:
                    raise
                continue  # two tokens with one lookup prefix (1 in 2**48): draw again
            _log.info("API token %r (%s, scope %s) created for %s", name, row.token_prefix,
                      wanted, owner)
            return _api_token(row), ApiTokenSecret(token)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def list(self) -> list[ApiToken]:
        """The caller's tokens, oldest first (authentication off: every token)."""
        self._gate(Action.TOKENS)
        return [_api_token(r) for r in self._table.of_user(self._listed_owner())]

    def revoke(self, name: str) -> ApiToken:
        """Revokes the caller's active token named ``name`` (authentication off: every
        active token of that name): it is refused from the next request on. A name whose
        tokens are all revoked already gives the newest, as it is."""
        self._gate(Action.TOKENS)
        owner = self._listed_owner()
        now = self._time.utc_now()
        with self._table.transaction():
            rows = self._table.named(owner, name.strip())
            if not rows:
                raise TokenNotFoundError(name=name)
            active = [r for r in rows if r.status == "active"]
            for row in active:
                self._table.set_status(row.id, "inactive", now)
        if not active:
            return _api_token(rows[0])
        _log.info("API token %r (%s) revoked", name, active[0].token_prefix)
        done = active[0]
        return _api_token(ApiTokenRow(done.id, done.user_id, done.name, done.token_prefix,
                                      scopes=done.scopes, status="inactive",
                                      last_used_at=done.last_used_at,
                                      created_at=done.created_at, updated_at=now))

    # ---- a request's token (not gated) --------------------------------------------------
    def authenticate(self, token: str) -> TokenIdentity:
        """Who ``token`` speaks for. Its layout and checksum are checked before anything is
        read (``token_error-malformed``, ``token_error-bad_checksum``); then the row found by
        prefix must hold its SHA-256 (``token_error-unknown``) and be active
        (``token_error-revoked``)."""
        _, suffix = _parse(token)
        row = self._table.by_prefix(TOKEN_PREFIX + token[len(TOKEN_PREFIX):][:_LOOKUP_CHARS])
        if row is None or not hmac.compare_digest(row.token_hash.encode("ascii"),
                                                  _digest(token).encode("ascii")):
            raise TokenUnknownError()
        # A token made while authentication was off speaks for nobody once it is on.
        if self._auth.enabled and (suffix is None or row.user_id == LOCAL_USER):
            raise TokenUnknownError()
        if row.status != "active":
            raise TokenRevokedError(name=row.name)
        register_secret(token)
        now = self._time.utc_now()
        if row.last_used_at is None or now - _aware(row.last_used_at) >= _TOUCH_EVERY:
            self._table.touch(row.id, now, unless_after=now - _TOUCH_EVERY)
        scope = _scope_of(row.scopes)
        return TokenIdentity(token_id=row.id, name=row.name, user_id=row.user_id,
                             scope=scope, role=f"resource_{scope}")
