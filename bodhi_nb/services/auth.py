"""AuthService: who is logged in, through the OpenID provider (issue 11; BodhiApp §9-§10).

Authentication is on when ``BODHI_AUTH_ISSUER`` is set. ``setup`` registers this deployment
with the provider as a resource client; its secret is sealed by SecretService
(``bodhi:auth:client_secret``), its id and issuer kept as the internal value
``bodhi:auth:client``.

A login is split so that any front end can drive it: ``begin_login`` gives the URL to open
(PKCE S256, a 32-character ``state``; the verifier stays inside :class:`PendingLogin`),
``finish_login`` takes the URL the browser was sent back to, checks the state, exchanges
the code and validates the access token locally. ``login_loopback`` does both around an
RFC 8252 listener on 127.0.0.1 (a free port); ``begin_device``/``finish_device`` run the
device flow. The first user to log in to a client without an admin is made its
``resource_admin`` (then the tokens are refreshed so the role shows).

The session is kept per BODHI_HOME and ``BODHI_PROFILE``: a SessionService session whose
tokens are sealed (never in clear in the database), found through the sealed internal
pointer ``bodhi:auth:session:<profile>``. Each login replaces the profile's session by one
under a new id. ``current`` validates the access token locally and refreshes it when it expires
within 60 s; a refused refresh (``login_again``) ends the session.

A front end serving other people's requests (``bodhi serve``) judges each request by who sent
it, not by the profile's login: ``with auth.acting_as(actor): ...`` makes ``require`` and
``check`` (and so every service's gate) judge ``actor`` within the block, in that thread or
task only (a :mod:`contextvars` variable), with authentication on *or off*.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets as _random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from cachetools import TTLCache

from bodhi_nb.errors import (
    AuthAccessDeniedError,
    AuthAppTokenRefusedError,
    AuthCancelledError,
    AuthConflictError,
    AuthInsufficientRoleError,
    AuthIssuerNotSetError,
    AuthLoginAgainError,
    AuthLoginRequiredError,
    AuthLoginTimeoutError,
    AuthNotBelowYouError,
    AuthNotSetUpError,
    AuthProviderRefusedError,
    AuthRoleAboveYoursError,
    AuthStateMismatchError,
    AuthTokenAudienceError,
    AuthTokenExpiredError,
    AuthUnknownRoleError,
    AuthUserNotFoundError,
)
from bodhi_nb.redact import SecretStr, get_logger, redact_url
from bodhi_nb.services.auth_tokens import ROLES, JwksCache, TokenClaims, TokenValidator
from bodhi_nb.services.auth_tokens import role_at_least as _role_at_least
from bodhi_nb.services.oidc_client import (
    DEFAULT_TIMEOUT_SECS,
    DeviceGrant,
    OidcClient,
    ResourceUser,
    Tokens,
    UsersPage,
)
from bodhi_nb.services.policy import POLICY, Action, short_role

if TYPE_CHECKING:
    import httpx

    from bodhi_nb.objs import CancelToken
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.session import SessionService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import TimeService

__all__ = ["CLIENT_SECRET_NAME", "REFRESH_MARGIN_SECS", "Actor", "AuthService", "Identity",
           "PendingLogin", "normalize_role"]

#: the internal (sealed) name of the registered client's secret
CLIENT_SECRET_NAME = "bodhi:auth:client_secret"
_CLIENT_NAME = "bodhi:auth:client"
_ADMIN_MADE = "bodhi:auth:admin_made"
#: a token expiring within this many seconds is refreshed before it is used
REFRESH_MARGIN_SECS = 60
#: seconds a checked identity is remembered within one process (see ``_known``)
_KNOWN_FOR = 2.0
#: seconds an exchanged third-party app token's actor is remembered (BodhiApp §9)
EXCHANGE_CACHE_SECS = 300
#: at most this many exchanged tokens are remembered (the oldest go first)
_EXCHANGE_CACHE_SIZE = 1024
#: a login session lives this long without a new login (its tokens refresh within it)
_SESSION_TTL_SECS = 30 * 24 * 3600
_log = get_logger("bodhi_nb.auth")


def _pointer_name(profile: str) -> str:
    return f"bodhi:auth:session:{profile}"


def _refuse_below(have: str | None, needed: str | None) -> None:
    """``auth_error-insufficient_role`` when ``have`` does not reach ``needed`` (None: any
    role or none will do)."""
    if needed is not None and not _role_at_least(have, needed):
        raise AuthInsufficientRoleError(needed=short_role(needed), have=short_role(have))


def normalize_role(role: str) -> str:
    """``power_user`` -> ``resource_power_user``; a known role's full name stays as it is;
    anything else is ``auth_error-unknown_role`` naming the four."""
    full = role.strip() if role.strip().startswith("resource_") else f"resource_{role.strip()}"
    if full not in ROLES:
        raise AuthUnknownRoleError(role=role, roles=", ".join(short_role(r) for r in ROLES))
    return full


@dataclass(frozen=True)
class Identity:
    """Who is logged in (never a token)."""

    user_id: str
    username: str
    role: str | None
    issuer: str
    client_id: str
    expires_at: datetime

    @classmethod
    def of(cls, claims: TokenClaims) -> Identity:
        return cls(user_id=claims.subject, username=claims.username or "",
                   role=claims.role, issuer=claims.issuer, client_id=claims.client_id,
                   expires_at=claims.expires_at)


@dataclass(frozen=True)
class Actor:
    """Who sent a request a front end serves: an API token's owner with the token's scope as
    ``role``, or the user of a bearer access token from the issuer (never a token)."""

    user_id: str
    username: str
    #: a full role name (``resource_user``...), or None (no role: refused everything gated)
    role: str | None
    #: ``"token"`` (a bodhi API token), ``"oidc"`` (the issuer's access token for this
    #: deployment) or ``"exchange"`` (a third-party app's token, exchanged: RFC 8693)
    via: str


@dataclass(frozen=True)
class PendingLogin:
    """A started browser login: open ``url``; the provider sends the browser back to
    ``redirect_uri`` with ``state``. The PKCE verifier stays out of ``repr``."""

    url: str
    state: str
    redirect_uri: str
    verifier: str = field(repr=False)


class AuthService:
    """Logins, the profile's session and role checks (see the module)."""

    def __init__(self, setting: SettingService, secret: SecretService,
                 session: SessionService, time_service: TimeService, *,
                 localization: LocalizationService | None = None,
                 http: httpx.Client | None = None) -> None:
        self._setting = setting
        self._secret = secret
        self._sessions = session
        self._time = time_service
        self._localization = localization
        self._http = http
        self._lock = threading.RLock()
        self._oidc: OidcClient | None = None
        self._validator: TokenValidator | None = None
        #: ((profile, issuer), until (monotonic), identity, session id): see ``_known``
        self._remembered: tuple[tuple[str, str], float, Identity | None, str | None] | None
        self._remembered = None
        #: the actor of ``acting_as`` in this thread or task (one variable per service)
        self._actor: ContextVar[Actor | None] = ContextVar(f"bodhi_actor_{id(self):x}",
                                                           default=None)
        #: SHA-256 of an exchanged app token -> (its actor, when it stops being valid)
        self._exchanged: TTLCache[str, tuple[Actor, float]] = TTLCache(
            maxsize=_EXCHANGE_CACHE_SIZE, ttl=EXCHANGE_CACHE_SECS, timer=self._now)
        self._exchange_lock = threading.Lock()

    def _now(self) -> float:
        return self._time.utc_now().timestamp()

    def __repr__(self) -> str:
        return (f"AuthService(issuer={redact_url(self.issuer)!r}, "
                f"profile={self.profile!r})")

    def close(self) -> None:
        with self._lock:
            if self._oidc is not None:
                self._oidc.close()
            self._oidc, self._validator = None, None

    # ---- configuration ------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return str(self._setting.get("BODHI_AUTH_ISSUER") or "").strip().rstrip("/")

    @property
    def profile(self) -> str:
        return str(self._setting.get("BODHI_PROFILE") or "default")

    @property
    def enabled(self) -> bool:
        """Whether authentication is on (``BODHI_AUTH_ISSUER`` is set)."""
        return bool(self.issuer)

    def _timeout(self) -> float:
        try:
            return float(self._setting.get("BODHI_AUTH_TIMEOUT_SECS"))
        except (TypeError, ValueError):
            return DEFAULT_TIMEOUT_SECS

    def client_id(self) -> str | None:
        """The registered client's id for the current issuer, or None."""
        raw = self._secret.retrieve_internal(_CLIENT_NAME)
        if raw is None:
            return None
        stored = json.loads(str(raw))
        if stored.get("issuer") != self.issuer:
            return None
        return str(stored["client_id"])

    def oidc(self) -> OidcClient:
        """The HTTP client of the configured issuer (rebuilt when the issuer changes)."""
        issuer = self.issuer
        if not issuer:
            raise AuthIssuerNotSetError()
        with self._lock:
            if (self._oidc is None or self._oidc.issuer != issuer
                    or self._oidc.timeout != self._timeout()):
                if self._oidc is not None:
                    self._oidc.close()
                self._oidc = OidcClient(issuer, http=self._http, timeout=self._timeout())
                self._validator = None
            return self._oidc

    def _client(self) -> tuple[str, str]:
        client_id = self.client_id()
        secret = self._secret.retrieve_internal(CLIENT_SECRET_NAME)
        if client_id is None or secret is None:
            raise AuthNotSetUpError()
        return client_id, str.__str__(secret)

    def _token_validator(self) -> TokenValidator:
        """The validator of the issuer's tokens for this deployment's client, built once
        (``setup`` drops it): checking a token reads nothing from the database."""
        oidc = self.oidc()
        with self._lock:
            if self._validator is not None and self._validator.issuer == oidc.issuer:
                return self._validator
        client_id, _ = self._client()
        with self._lock:
            if self._validator is None or self._validator.client_id != client_id:
                self._validator = TokenValidator(
                    oidc.issuer, client_id, JwksCache(oidc.jwks_document),
                    clock=lambda: self._time.utc_now().timestamp())
            return self._validator

    def setup(self, issuer: str, name: str, description: str,
              redirect_uris: list[str]) -> str:
        """Registers this deployment with ``issuer`` as a resource client, seals its secret,
        and saves ``BODHI_AUTH_ISSUER`` to settings.yaml. Returns the client id."""
        self.check(Action.AUTH_SETUP)  # a deployment already set up: its admin only
        issuer = issuer.strip().rstrip("/")
        probe = OidcClient(issuer, http=self._http, timeout=self._timeout())
        try:
            probe.discovery()  # a wrong issuer fails here, before anything is saved
            client_id, client_secret = probe.register_client(name, description,
                                                             list(redirect_uris))
        finally:
            probe.close()
        self._secret.store_internal(CLIENT_SECRET_NAME, client_secret)
        self._secret.store_internal(_CLIENT_NAME, json.dumps(
            {"issuer": issuer, "client_id": client_id}))
        self._secret.delete_internal([_ADMIN_MADE])
        self._setting.set("BODHI_AUTH_ISSUER", issuer)
        with self._lock:
            self._validator = None
        with self._exchange_lock:
            self._exchanged.clear()  # actors with roles on the previous client
        _log.info("registered client %s with %s", client_id, redact_url(issuer))
        return client_id

    # ---- browser login (authorization code + PKCE) --------------------------------------
    def begin_login(self, redirect_uri: str) -> PendingLogin:
        """The URL to open in a browser, and what ``finish_login`` needs to check the answer."""
        client_id, _ = self._client()
        oidc = self.oidc()
        pkce = oidc.pkce_pair()
        state = _random.token_urlsafe(24)  # 32 characters
        url = oidc.authorization_url(client_id, redirect_uri, state, pkce.challenge)
        return PendingLogin(url=url, state=state, redirect_uri=redirect_uri,
                            verifier=pkce.verifier)

    def finish_login(self, pending: PendingLogin, callback_url: str) -> Identity:
        """Completes a login from the URL the provider redirected the browser to."""
        query = parse_qs(urlsplit(callback_url).query)
        state = (query.get("state") or [""])[0]
        if not hmac.compare_digest(state.encode("utf-8"), pending.state.encode("utf-8")):
            raise AuthStateMismatchError()
        error = (query.get("error") or [""])[0]
        if error == "access_denied":
            raise AuthAccessDeniedError()
        code = (query.get("code") or [""])[0]
        if error or not code:
            raise AuthProviderRefusedError(endpoint="callback",
                                           error=(error or "no_code")[:40])
        client_id, client_secret = self._client()
        tokens = self.oidc().exchange_code(client_id, client_secret, code, pending.verifier,
                                           pending.redirect_uri)
        return self._complete(tokens)

    def login_loopback(self, open_browser: Callable[[str], None] | None = None,
                       timeout: float = 300.0, cancel: CancelToken | None = None,
                       *, on_url: Callable[[str], None] | None = None) -> Identity:
        """A browser login received on ``http://127.0.0.1:<free port>/callback`` (RFC 8252).

        ``open_browser`` gets the login URL (e.g. ``webbrowser.open``); ``on_url`` too (to
        show it). Waits up to ``timeout`` seconds for the redirect; ``cancel`` stops it."""
        received: list[str] = []
        arrived = threading.Event()
        page = self._done_page()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if urlsplit(self.path).path != "/callback":
                    self.send_error(404)
                    return
                body = page.encode("utf-8")
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if not received:
                    received.append(self.path)
                arrived.set()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return  # the query holds the code: nothing is logged

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, name="bodhi-auth-loopback",
                                  daemon=True)
        thread.start()
        try:
            port = server.server_address[1]
            pending = self.begin_login(f"http://127.0.0.1:{port}/callback")
            for show in (on_url, open_browser):
                if show is not None:
                    show(pending.url)
            ends = time.monotonic() + timeout
            while not arrived.wait(0.1):
                if cancel is not None and cancel.cancelled:
                    raise AuthCancelledError()
                if time.monotonic() >= ends:
                    raise AuthLoginTimeoutError(seconds=int(timeout))
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
        return self.finish_login(pending, pending.redirect_uri.removesuffix("/callback")
                                 + received[0])

    def _done_page(self) -> str:
        title = "Bodhi"
        text = "You may close this tab."
        if self._localization is not None:
            text = self._localization.message("auth-loopback-done", default=text)
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
                f"</head><body><p>{text}</p></body></html>")

    # ---- device login -------------------------------------------------------------------
    def begin_device(self) -> DeviceGrant:
        """Starts a device login: show ``verification_uri`` and ``user_code``."""
        client_id, client_secret = self._client()
        return self.oidc().start_device(client_id, client_secret)

    def finish_device(self, grant: DeviceGrant, cancel: CancelToken | None = None) -> Identity:
        """Waits for the user to approve the device login, then logs in."""
        client_id, client_secret = self._client()
        tokens = self.oidc().poll_device(grant, client_id, client_secret, cancel=cancel)
        return self._complete(tokens)

    # ---- the session --------------------------------------------------------------------
    def _complete(self, tokens: Tokens) -> Identity:
        """Validates fresh tokens, makes the first user admin, stores the session."""
        claims = self._token_validator().validate(tokens.access_token)
        if claims.role is None and tokens.refresh_token and self._maybe_first_admin(claims):
            client_id, client_secret = self._client()
            tokens = self.oidc().refresh(client_id, client_secret, tokens.refresh_token)
            claims = self._token_validator().validate(tokens.access_token)
        self._store(claims, tokens)
        return Identity.of(claims)

    def _maybe_first_admin(self, claims: TokenClaims) -> bool:
        """Makes ``claims``' user the resource admin when the client has none yet."""
        if self._secret.retrieve_internal(_ADMIN_MADE) is not None:
            return False
        client_id, client_secret = self._client()
        try:
            self.oidc().make_resource_admin(client_id, client_secret, claims.subject)
        except AuthConflictError:
            made = False  # the resource has an admin already (made elsewhere)
        else:
            made = True
        self._secret.store_internal(_ADMIN_MADE, "1")
        return made

    def _store(self, claims: TokenClaims, tokens: Tokens) -> None:
        """The profile's session becomes a new one (new id) holding ``tokens`` sealed."""
        data = {"issuer": claims.issuer, "client_id": claims.client_id,
                "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token or "",
                "id_token": tokens.id_token or ""}
        with self._lock:
            self._remembered = None
            old = self._session_id()
            created = self._sessions.create(claims.subject, data, ttl_secs=_SESSION_TTL_SECS)
            self._secret.store_internal(_pointer_name(self.profile), created.id)
            if old is not None:
                self._sessions.delete(old)

    def _session_id(self) -> str | None:
        found = self._secret.retrieve_internal(_pointer_name(self.profile))
        return str.__str__(found) if found is not None else None

    def _load(self) -> tuple[str, Mapping[str, Any]] | None:
        session_id = self._session_id()
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is None or session.data.get("issuer") != self.issuer:
            self._forget(session_id)
            return None
        return session_id, session.data

    def _forget(self, session_id: str | None) -> None:
        self._remembered = None
        if session_id is not None:
            self._sessions.delete(session_id)
        self._secret.delete_internal([_pointer_name(self.profile)])

    def current(self) -> Identity | None:
        """The profile's logged-in identity, or None. The access token is validated locally
        and refreshed when it expires within 60 s; a refused refresh ends the session and
        raises ``auth_error-login_again``."""
        if not self.enabled:
            return None
        with self._lock:
            loaded = self._load()
            if loaded is None:
                return None
            session_id, data = loaded
            try:
                claims = self._token_validator().validate(str(data["access_token"]))
            except AuthTokenExpiredError:
                claims = None
            margin = self._time.utc_now() + timedelta(seconds=REFRESH_MARGIN_SECS)
            if claims is None or claims.expires_at <= margin:
                return self._refresh(session_id, data)
            return Identity.of(claims)

    def access_token(self) -> SecretStr:
        """The profile's access token (refreshed first when it expires within 60 s), for
        calls to the provider's resource routes; its repr is redacted."""
        with self._lock:
            if self.current() is None:
                raise AuthLoginRequiredError()
            loaded = self._load()
            if loaded is None:
                raise AuthLoginRequiredError()
            return SecretStr(str(loaded[1]["access_token"]))

    def refresh(self) -> Identity:
        """New tokens for the profile's session now (e.g. after a role change)."""
        with self._lock:
            loaded = self._load()
            if loaded is None:
                raise AuthLoginRequiredError()
            return self._refresh(*loaded)

    def _refresh(self, session_id: str, data: Mapping[str, Any]) -> Identity:
        refresh_token = str(data.get("refresh_token") or "")
        if not refresh_token:
            self._forget(session_id)
            raise AuthLoginAgainError(endpoint="session")
        client_id, client_secret = self._client()
        try:
            tokens = self.oidc().refresh(client_id, client_secret, refresh_token)
            claims = self._token_validator().validate(tokens.access_token)
        except AuthLoginAgainError:
            self._forget(session_id)
            raise
        if tokens.refresh_token is None:  # the provider kept the old one
            tokens = Tokens(tokens.access_token, refresh_token, tokens.id_token,
                            tokens.expires_at, tokens.scope)
        self._remembered = None
        self._sessions.update(session_id, {**data, "access_token": tokens.access_token,
                                           "refresh_token": tokens.refresh_token or "",
                                           "id_token": tokens.id_token or ""})
        return Identity.of(claims)

    def logout(self) -> bool:
        """Revokes the refresh token (when the provider can) and ends the profile's session.
        Returns whether a session was ended."""
        with self._lock:
            session_id = self._session_id()
            if session_id is None:
                return False
            session = self._sessions.get(session_id)
            try:
                refresh_token = str(session.data.get("refresh_token") or "") if session else ""
                if refresh_token and self.enabled and isinstance(
                        self.oidc().discovery().get("revocation_endpoint"), str):
                    client_id, client_secret = self._client()
                    self.oidc().revoke(client_id, client_secret, refresh_token)
            finally:
                self._forget(session_id)
            return True

    # ---- access checks ------------------------------------------------------------------
    @contextmanager
    def acting_as(self, identity: Actor) -> Iterator[None]:
        """Within the block (this thread or task only), :meth:`require` and :meth:`check`
        judge ``identity`` instead of the profile's login, with authentication on or off."""
        reset = self._actor.set(identity)
        try:
            yield
        finally:
            self._actor.reset(reset)

    def acting(self) -> Actor | None:
        """The actor of the enclosing :meth:`acting_as`, or None."""
        return self._actor.get()

    def actor_for_access_token(self, token: str) -> Actor:
        """The actor of a bearer access token from the issuer (``bodhi serve``), validated
        locally (signature against the JWKS, issuer, audience, expiry), its role from the
        token; a coded ``auth_error-...`` (401) when it is not valid. Authentication must be
        on (``auth_error-issuer_not_set`` otherwise)."""
        claims = self._token_validator().validate(token)
        return Actor(user_id=claims.subject, username=claims.username or claims.subject,
                     role=claims.role, via="oidc")

    def exchange_app_token(self, token: str) -> Actor:
        """The actor of a bearer access token from the issuer, mine or a third-party app's
        (BodhiApp §9 ``exchange_app_token``). A token for this deployment's client is
        validated locally (:meth:`actor_for_access_token`). A token the issuer gave another
        client is first validated locally (signature, issuer, expiry), then exchanged with
        RFC 8693 for one of ours, which is validated in turn: the role is that user's role on
        this deployment. The actor is remembered for 5 minutes (never past either token's
        expiry), keyed by the SHA-256 of the app's token, so later requests do not call the
        provider. A coded ``auth_error-...`` (401) otherwise: the app token's own refusal,
        or ``auth_error-app_token_refused`` when the provider will not exchange it."""
        validator = self._token_validator()
        try:
            claims = validator.validate(token)
        except AuthTokenAudienceError:
            pass
        else:
            return Actor(user_id=claims.subject, username=claims.username or claims.subject,
                         role=claims.role, via="oidc")
        key = hashlib.sha256(token.encode("utf-8")).hexdigest()
        now = self._now()
        with self._exchange_lock:
            cached = self._exchanged.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        foreign = validator.validate(token, any_client=True)  # expired, forged: refused here
        client_id, client_secret = self._client()
        try:
            tokens = self.oidc().exchange_token(client_id, client_secret, token,
                                                audience=client_id)
        except AuthLoginAgainError:
            raise AuthAppTokenRefusedError() from None
        ours = validator.validate(tokens.access_token)
        if ours.subject != foreign.subject:  # the provider must keep the user
            raise AuthAppTokenRefusedError()
        actor = Actor(user_id=ours.subject, username=ours.username or ours.subject,
                      role=ours.role, via="exchange")
        until = min(foreign.expires_at.timestamp(), ours.expires_at.timestamp())
        with self._exchange_lock:
            self._exchanged[key] = (actor, until)
        _log.info("exchanged a token of client %s for user %s", foreign.client_id,
                  actor.username)
        return actor

    def require(self, role: str | None) -> Identity | None:
        """Raises unless the logged-in user has ``role`` or above (None: a login with any
        role or none) while auth is on, or, within :meth:`acting_as`, the actor does (auth
        on or off); returns the logged-in identity (None when auth is off or an actor was
        judged)."""
        needed = normalize_role(role) if role is not None else None
        actor = self._actor.get()
        if actor is not None:
            _refuse_below(actor.role, needed)
            return None
        if not self.enabled:
            return None
        identity = self._known()
        if identity is None:
            raise AuthLoginRequiredError()
        _refuse_below(identity.role, needed)
        return identity

    def check(self, action: Action) -> None:
        """The gate every service calls before a gated operation (see
        :mod:`bodhi_nb.services.policy`): nothing when auth is off (outside
        :meth:`acting_as`), else the role :data:`POLICY` names for ``action`` (None there:
        a login), or a coded refusal."""
        if self.enabled or self._actor.get() is not None:
            self.require(POLICY[action])

    def _known(self) -> Identity | None:
        """:meth:`current`, remembered: one command checks its gate several times (``chat``
        reads aliases, then chats), and :meth:`current` reads the session pointer, the
        session and its sealed tokens from the database and decrypts them.

        Within ``_KNOWN_FOR`` seconds of the last check nothing is read. After that, while
        the remembered access token is more than a minute from expiry, one read checks the
        session still exists (ended by ``clear_sessions_for_user`` in another kernel, a
        logout or a new login elsewhere: then it is read in full). A change made in this
        process (login, logout, refresh, a role change) forgets it at once."""
        key = (self.profile, self.issuer)
        with self._lock:
            known = self._remembered
            now = self._time.monotonic()
            if known is not None and known[0] == key:
                _, until, identity, session_id = known
                if now < until:
                    return identity
                margin = self._time.utc_now() + timedelta(seconds=REFRESH_MARGIN_SECS)
                if (identity is not None and session_id is not None
                        and identity.expires_at > margin and self._sessions.alive(session_id)):
                    self._remembered = (key, now + _KNOWN_FOR, identity, session_id)
                    return identity
            identity = self.current()
            session_id = self._session_id() if identity is not None else None
            self._remembered = (key, self._time.monotonic() + _KNOWN_FOR, identity, session_id)
            return identity

    def _forget_known(self) -> None:
        with self._lock:
            self._remembered = None

    # ---- users of the client (manager and admin) ----------------------------------------
    def list_users(self, page: int = 1, page_size: int = 30) -> UsersPage:
        """One page of the client's users with their roles (manager or above)."""
        self.check(Action.USERS)
        return self.oidc().list_users(str.__str__(self.access_token()), page, page_size)

    def find_user(self, user: str) -> ResourceUser:
        """The user whose username or id is ``user`` (manager or above): among the client's
        users (those with a role), else by id at the provider (a user with no role yet is
        listed nowhere: ``whoami`` shows them their id)."""
        self.check(Action.USERS)
        token = str.__str__(self.access_token())
        page = 1
        while True:
            found = self.oidc().list_users(token, page, 100)
            for candidate in found.users:
                if user in (candidate.username, candidate.user_id):
                    return candidate
            if not found.has_next:
                break
            page += 1
        by_id = self.oidc().get_user(token, user) if user.strip() else None
        if by_id is None:
            raise AuthUserNotFoundError(user=user)
        return by_id

    def _outranks(self, target: ResourceUser) -> Identity:
        """The caller, when they may act on ``target`` (whose role is below theirs)."""
        caller = self.require(POLICY[Action.USERS_MANAGE])
        if caller is None:
            raise AuthIssuerNotSetError()
        if target.user_id == caller.user_id or (
                target.role is not None and _role_at_least(target.role, caller.role or "")):
            raise AuthNotBelowYouError(user=target.username or target.user_id,
                                       role=short_role(target.role))
        return caller

    def set_role(self, user: str, role: str) -> ResourceUser:
        """Gives ``user`` (a username or id) ``role`` at the provider, with the rules of
        :meth:`grant_role`. The user's sessions are then cleared, so their next command
        reads the new role (BodhiApp §11)."""
        target = self.find_user(user)
        granted = self.grant_role(target.user_id, role)
        self._sessions.clear_sessions_for_user(target.user_id)
        return granted

    def grant_role(self, user_id: str, role: str) -> ResourceUser:
        """Gives the user ``user_id`` ``role`` at the provider with the caller's access
        token, found by id (a user with no role yet is listed nowhere): the caller must be a
        manager or admin, ``role`` at or below the caller's own, and the user's present role
        (if any) below it. Clearing the user's sessions is the caller's next step (approving
        an access request records the approval first)."""
        wanted = normalize_role(role)
        caller = self.require(POLICY[Action.USERS_MANAGE])
        if caller is None:
            raise AuthIssuerNotSetError()
        if not _role_at_least(caller.role, wanted):
            raise AuthRoleAboveYoursError(role=short_role(wanted), have=short_role(caller.role))
        token = str.__str__(self.access_token())
        target = self.oidc().get_user(token, user_id) if user_id.strip() else None
        if target is None:
            raise AuthUserNotFoundError(user=user_id)
        self._outranks(target)
        self.oidc().assign_role(token, target.user_id, wanted)
        self._forget_known()
        _log.info("role %s given to user %s", wanted, target.user_id)
        return ResourceUser(target.user_id, target.username, target.first_name,
                            target.last_name, wanted)

    def remove_user(self, user: str) -> ResourceUser:
        """Takes ``user``'s access to this client away (their role at the provider), with
        the same rules as :meth:`set_role`, and clears their sessions."""
        target = self.find_user(user)
        self._outranks(target)
        self.oidc().remove_user(str.__str__(self.access_token()), target.user_id)
        # BodhiApp leaves the removed user's sessions alive until their token expires; a
        # removed user here loses them at once.
        self._sessions.clear_sessions_for_user(target.user_id)
        self._forget_known()
        _log.info("user %s removed", target.user_id)
        return target
