"""The OpenID provider's HTTP side of AuthService (issue 11; BodhiApp §9).

:class:`OidcClient` speaks to one issuer: discovery (cached), the authorization-code login
with PKCE (S256), code exchange, refresh (retried after 100/500/2000 ms on network errors
and 5xx, 4xx failing at once), the device flow, revocation, client credentials, and the
Bodhi resource routes under ``{issuer}/bodhi/resources`` (register a client, make the first
admin, list users, assign a role, remove a user).

Every failure is a coded :class:`~bodhi_nb.errors.AuthError` leaf whose arguments name the
endpoint path and the OAuth error code only: never a token, a code or a client secret.
:class:`Tokens` and :class:`DeviceGrant` keep their secrets out of ``repr``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from bodhi_nb._version import __version__
from bodhi_nb.errors import (
    AuthAccessDeniedError,
    AuthCancelledError,
    AuthConflictError,
    AuthDeviceExpiredError,
    AuthDiscoveryBrokenError,
    AuthError,
    AuthForbiddenError,
    AuthInvalidClientError,
    AuthIssuerNotSetError,
    AuthIssuerUnreachableError,
    AuthLoginAgainError,
    AuthProviderRefusedError,
    AuthProviderUnavailableError,
)
from bodhi_nb.objs import CancelToken
from bodhi_nb.redact import redact_url

__all__ = ["ACCESS_TOKEN_TYPE", "DEFAULT_SCOPE", "DEFAULT_TIMEOUT_SECS", "DEVICE_GRANT",
           "REFRESH_RETRY_DELAYS", "TOKEN_EXCHANGE_GRANT", "DeviceGrant", "OidcClient",
           "PkcePair", "ResourceUser", "Tokens", "UsersPage"]

#: the scopes of an interactive login (BodhiApp §9)
DEFAULT_SCOPE = "openid email profile roles"
#: RFC 8628's grant type
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8693's grant type, and its token type of an access token
TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
#: seconds a request to the provider may take (``BODHI_AUTH_TIMEOUT_SECS``)
DEFAULT_TIMEOUT_SECS = 10.0
#: seconds to wait before each retry of a refresh that met a network error or a 5xx
REFRESH_RETRY_DELAYS: tuple[float, ...] = (0.1, 0.5, 2.0)
#: the endpoints a discovery document must name
_REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class PkcePair:
    """A PKCE code verifier (43 characters, kept secret) and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str


@dataclass(frozen=True)
class Tokens:
    """What a token endpoint answered. ``repr`` shows no token."""

    access_token: str
    refresh_token: str | None
    id_token: str | None
    expires_at: datetime | None
    scope: str

    def __repr__(self) -> str:
        return (f"Tokens(expires_at={self.expires_at!r}, scope={self.scope!r}, "
                f"refresh_token={'<set>' if self.refresh_token else None}, "
                f"id_token={'<set>' if self.id_token else None})")

    __str__ = __repr__


@dataclass(frozen=True)
class DeviceGrant:
    """A started device login: show ``verification_uri`` and ``user_code`` to the user.
    ``device_code`` (secret) stays out of ``repr``; ``started_at`` is on the client's clock."""

    verification_uri: str
    verification_uri_complete: str | None
    user_code: str
    device_code: str = field(repr=False)
    interval: int = 5
    expires_in: int = 600
    started_at: float = 0.0


@dataclass(frozen=True)
class ResourceUser:
    user_id: str
    username: str
    first_name: str
    last_name: str
    role: str | None


@dataclass(frozen=True)
class UsersPage:
    client_id: str
    users: tuple[ResourceUser, ...]
    page: int
    page_size: int
    total_pages: int
    total_users: int
    has_next: bool
    has_previous: bool


def _resource_user(u: Any) -> ResourceUser:
    """A user object of the Bodhi resource routes (KeyError/TypeError when malformed)."""
    return ResourceUser(user_id=str(u["user_id"]), username=str(u["username"]),
                        first_name=str(u.get("first_name") or ""),
                        last_name=str(u.get("last_name") or ""),
                        role=u["role"] if isinstance(u.get("role"), str) else None)


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth ``error`` code of a refusal, if it looks like one (nothing else is kept)."""
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}"
    code = body.get("error") if isinstance(body, dict) else None
    if isinstance(code, str) and _ERROR_CODE.match(code):
        return code
    return f"http_{response.status_code}"


class _Transient(Exception):
    """A failure worth retrying (network error or 5xx); holds the error to raise at the end."""

    def __init__(self, error: AuthError) -> None:
        super().__init__(error.code)
        self.error = error


class OidcClient:
    """The HTTP client of one OpenID issuer (see the module). Thread-safe."""

    def __init__(self, issuer: str, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 timeout: float = DEFAULT_TIMEOUT_SECS) -> None:
        issuer = (issuer or "").strip().rstrip("/")
        if urlsplit(issuer).scheme not in ("http", "https") or not urlsplit(issuer).netloc:
            raise AuthIssuerNotSetError()
        self.issuer = issuer
        #: seconds each request may take (connect, each read, each write) before it fails
        #: with ``auth_error-issuer_unreachable``; ignored when ``http`` is passed in
        self.timeout = timeout
        self._own_http = http is None
        self._http = http or httpx.Client(timeout=timeout)
        self._headers = {"x-bodhi-app-version": __version__}
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"OidcClient(issuer={redact_url(self.issuer)!r})"

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def __enter__(self) -> OidcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- discovery ----------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        """The provider's ``/.well-known/openid-configuration`` (fetched once, then cached)."""
        with self._lock:
            if self._discovery is None:
                self._discovery = self._fetch_discovery()
            return dict(self._discovery)

    def _fetch_discovery(self) -> dict[str, Any]:
        shown = redact_url(self.issuer)
        try:
            response = self._http.get(f"{self.issuer}/.well-known/openid-configuration",
                                      headers=self._headers)
        except httpx.HTTPError as exc:
            raise AuthIssuerUnreachableError(issuer=shown, reason=type(exc).__name__) from None
        if response.status_code != 200:
            raise AuthDiscoveryBrokenError(issuer=shown, reason=f"HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError:
            raise AuthDiscoveryBrokenError(issuer=shown, reason="not JSON") from None
        if not isinstance(document, dict):
            raise AuthDiscoveryBrokenError(issuer=shown, reason="not a JSON object")
        if document.get("issuer") != self.issuer:
            raise AuthDiscoveryBrokenError(issuer=shown, reason="another issuer")
        for name in _REQUIRED:
            if not isinstance(document.get(name), str):
                raise AuthDiscoveryBrokenError(issuer=shown, reason=f"no {name}")
        return document

    def endpoint(self, name: str) -> str:
        """The URL of a discovery endpoint (``token_endpoint``...), or a coded error."""
        url = self.discovery().get(name)
        if not isinstance(url, str):
            raise AuthDiscoveryBrokenError(issuer=redact_url(self.issuer), reason=f"no {name}")
        return url

    def jwks_document(self) -> Mapping[str, Any]:
        """The provider's JWKS (for :class:`bodhi_nb.services.auth_tokens.JwksCache`)."""
        url = self.endpoint("jwks_uri")
        response = self._send("GET", url)
        if response.status_code != 200:
            raise self._refusal(url, response)
        body = response.json()
        if not isinstance(body, dict):
            raise AuthDiscoveryBrokenError(issuer=redact_url(self.issuer), reason="jwks")
        return body

    # ---- plumbing -----------------------------------------------------------------------
    def _path(self, url: str) -> str:
        return urlsplit(url).path or "/"

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, url, headers={**self._headers,
                                                            **kwargs.pop("headers", {})},
                                      **kwargs)
        except httpx.HTTPError as exc:
            raise _Transient(AuthIssuerUnreachableError(
                issuer=redact_url(self.issuer), reason=type(exc).__name__)) from None

    def _refusal(self, url: str, response: httpx.Response) -> AuthError:
        """The coded error of a non-2xx answer from ``url``."""
        endpoint = self._path(url)
        status = response.status_code
        if status >= 500:
            return AuthProviderUnavailableError(endpoint=endpoint, reason=f"HTTP {status}")
        error = _oauth_error(response)
        if error == "invalid_client":
            return AuthInvalidClientError(endpoint=endpoint)
        if error in ("invalid_grant", "invalid_token") or status == 401:
            return AuthLoginAgainError(endpoint=endpoint)
        if status == 403:
            return AuthForbiddenError(endpoint=endpoint)
        if status == 409:
            return AuthConflictError(endpoint=endpoint)
        if error == "access_denied":
            return AuthAccessDeniedError()
        if error == "expired_token":
            return AuthDeviceExpiredError()
        return AuthProviderRefusedError(endpoint=endpoint, error=error)

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request; a network error, 5xx or 4xx becomes its coded error."""
        try:
            response = self._send(method, url, **kwargs)
        except _Transient as transient:
            raise transient.error from None
        if not response.is_success:
            raise self._refusal(url, response)
        return response

    def _tokens(self, response: httpx.Response, url: str) -> Tokens:
        try:
            body = response.json()
        except ValueError:
            body = None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(access, str):
            raise AuthProviderRefusedError(endpoint=self._path(url), error="no_access_token")
        expires_in = body.get("expires_in")
        expires_at = (datetime.now(UTC) + timedelta(seconds=float(expires_in))
                      if isinstance(expires_in, (int, float)) else None)
        refresh, id_token, scope = (body.get("refresh_token"), body.get("id_token"),
                                    body.get("scope"))
        return Tokens(access_token=access,
                      refresh_token=refresh if isinstance(refresh, str) else None,
                      id_token=id_token if isinstance(id_token, str) else None,
                      expires_at=expires_at, scope=scope if isinstance(scope, str) else "")

    def _token_request(self, client_id: str, client_secret: str,
                       data: dict[str, str]) -> Tokens:
        url = self.endpoint("token_endpoint")
        response = self._call("POST", url, auth=(client_id, client_secret), data=data)
        return self._tokens(response, url)

    # ---- login --------------------------------------------------------------------------
    @staticmethod
    def pkce_pair() -> PkcePair:
        """A fresh 43-character code verifier and its S256 challenge (RFC 7636)."""
        verifier = cast(str, generate_token(43))
        return PkcePair(verifier=verifier,
                        challenge=cast(str, create_s256_code_challenge(verifier)))

    def authorization_url(self, client_id: str, redirect_uri: str, state: str, challenge: str,
                          scope: str = DEFAULT_SCOPE) -> str:
        """Where the browser goes to log in (authorization code with PKCE S256)."""
        return cast(str, prepare_grant_uri(
            self.endpoint("authorization_endpoint"), client_id, "code",
            redirect_uri=redirect_uri, scope=scope, state=state,
            code_challenge=challenge, code_challenge_method="S256"))

    def exchange_code(self, client_id: str, client_secret: str, code: str, verifier: str,
                      redirect_uri: str) -> Tokens:
        """The tokens for an authorization code (its PKCE verifier proves the login)."""
        return self._token_request(client_id, client_secret, {
            "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
            "redirect_uri": redirect_uri})

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> Tokens:
        """New tokens for a refresh token. Network errors and 5xx are retried after 100,
        500 and 2000 ms; a 4xx fails at once (``invalid_grant``: log in again)."""
        url = self.endpoint("token_endpoint")
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        for attempt in range(len(REFRESH_RETRY_DELAYS) + 1):
            try:
                response = self._send("POST", url, auth=(client_id, client_secret), data=data)
                if response.status_code >= 500:
                    raise _Transient(self._refusal(url, response))
            except _Transient as transient:
                if attempt == len(REFRESH_RETRY_DELAYS):
                    raise transient.error from None
                self._sleep(REFRESH_RETRY_DELAYS[attempt])
                continue
            if not response.is_success:
                raise self._refusal(url, response)
            return self._tokens(response, url)
        raise AssertionError("unreachable")  # pragma: no cover

    def start_device(self, client_id: str, client_secret: str,
                     scope: str = DEFAULT_SCOPE) -> DeviceGrant:
        """Starts a device login (RFC 8628)."""
        url = self.endpoint("device_authorization_endpoint")
        body = self._call("POST", url, auth=(client_id, client_secret),
                          data={"scope": scope}).json()
        try:
            interval = body.get("interval", 5)
            complete = body.get("verification_uri_complete")
            return DeviceGrant(
                verification_uri=str(body["verification_uri"]),
                verification_uri_complete=complete if isinstance(complete, str) else None,
                user_code=str(body["user_code"]), device_code=str(body["device_code"]),
                interval=int(interval) if isinstance(interval, int) and interval > 0 else 5,
                expires_in=int(body.get("expires_in", 600)), started_at=self._clock())
        except (KeyError, TypeError, ValueError, AttributeError):
            raise AuthProviderRefusedError(endpoint=self._path(url),
                                           error="bad_device_response") from None

    def poll_device(self, grant: DeviceGrant, client_id: str, client_secret: str, *,
                    cancel: CancelToken | None = None, deadline: float | None = None) -> Tokens:
        """Waits (through the injected ``sleep``) for the user to approve the device login:
        ``interval`` seconds between polls, 5 more after each ``slow_down``. ``deadline`` is
        on the client's clock; the grant's own ``expires_in`` also ends the wait."""
        url = self.endpoint("token_endpoint")
        ends = grant.started_at + grant.expires_in
        if deadline is not None:
            ends = min(ends, deadline)
        interval = grant.interval
        data = {"grant_type": DEVICE_GRANT, "device_code": grant.device_code}
        while True:
            if cancel is not None and cancel.cancelled:
                raise AuthCancelledError()
            if self._clock() >= ends:
                raise AuthDeviceExpiredError()
            self._sleep(interval)
            if cancel is not None and cancel.cancelled:
                raise AuthCancelledError()
            response = self._call_raw("POST", url, auth=(client_id, client_secret), data=data)
            if response.is_success:
                return self._tokens(response, url)
            error = _oauth_error(response)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += 5
                continue
            raise self._refusal(url, response)

    def _call_raw(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._send(method, url, **kwargs)
        except _Transient as transient:
            raise transient.error from None

    # ---- tokens -------------------------------------------------------------------------
    def revoke(self, client_id: str, client_secret: str, token: str,
               hint: str = "refresh_token") -> None:
        """Revokes a token (RFC 7009); ``hint`` is ``refresh_token`` or ``access_token``."""
        self._call("POST", self.endpoint("revocation_endpoint"),
                   auth=(client_id, client_secret),
                   data={"token": token, "token_type_hint": hint})

    def client_credentials(self, client_id: str, client_secret: str,
                           scope: str = "service_account") -> Tokens:
        """The client's own (service account) token."""
        return self._token_request(client_id, client_secret,
                                   {"grant_type": "client_credentials", "scope": scope})

    def exchange_token(self, client_id: str, client_secret: str, subject_token: str, *,
                       audience: str | None = None, scope: str | None = None) -> Tokens:
        """RFC 8693: trades ``subject_token`` (an access token the issuer gave another
        client) for an access token of ``client_id``. ``invalid_grant`` (a refused subject
        token) is ``auth_error-login_again``."""
        data = {"grant_type": TOKEN_EXCHANGE_GRANT, "subject_token": subject_token,
                "subject_token_type": ACCESS_TOKEN_TYPE,
                "requested_token_type": ACCESS_TOKEN_TYPE}
        if audience:
            data["audience"] = audience
        if scope:
            data["scope"] = scope
        return self._token_request(client_id, client_secret, data)

    # ---- Bodhi resource routes ----------------------------------------------------------
    def _bodhi(self, path: str) -> str:
        return f"{self.issuer}/bodhi/resources{path}"

    def register_client(self, name: str, description: str,
                        redirect_uris: list[str]) -> tuple[str, str]:
        """Registers this deployment as a resource client: ``(client_id, client_secret)``."""
        url = self._bodhi("")
        body = self._call("POST", url, json={"name": name, "description": description,
                                             "redirect_uris": redirect_uris}).json()
        client_id = body.get("client_id") if isinstance(body, dict) else None
        secret = body.get("client_secret") if isinstance(body, dict) else None
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise AuthProviderRefusedError(endpoint=self._path(url), error="bad_response")
        return client_id, secret

    def make_resource_admin(self, client_id: str, client_secret: str, user_id: str) -> None:
        """Makes ``user_id`` the resource's first admin (a 409 once it has one)."""
        token = self.client_credentials(client_id, client_secret).access_token
        self._call("POST", self._bodhi("/make-resource-admin"),
                   headers={"authorization": f"Bearer {token}"}, json={"user_id": user_id})

    def list_users(self, access_token: str, page: int = 1, page_size: int = 30) -> UsersPage:
        """One page of the resource's users (pages start at 1), for a manager or above."""
        url = self._bodhi("/users")
        body = self._call("GET", url, headers={"authorization": f"Bearer {access_token}"},
                          params={"page": page, "page_size": page_size}).json()
        try:
            return UsersPage(
                client_id=str(body["client_id"]),
                users=tuple(_resource_user(u) for u in body["users"]),
                page=int(body["page"]), page_size=int(body["page_size"]),
                total_pages=int(body["total_pages"]), total_users=int(body["total_users"]),
                has_next=bool(body["has_next"]), has_previous=bool(body["has_previous"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise AuthProviderRefusedError(endpoint=self._path(url),
                                           error="bad_response") from None

    def get_user(self, access_token: str, user_id: str) -> ResourceUser | None:
        """The user ``user_id`` with their role in the resource (None: no such user)."""
        url = self._bodhi("/user")
        response = self._call_raw("GET", url, params={"user_id": user_id},
                                  headers={"authorization": f"Bearer {access_token}"})
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise self._refusal(url, response)
        try:
            return _resource_user(response.json())
        except (KeyError, TypeError, ValueError, AttributeError):
            raise AuthProviderRefusedError(endpoint=self._path(url),
                                           error="bad_response") from None

    def assign_role(self, access_token: str, user_id: str, role: str) -> None:
        """Gives ``user_id`` ``role`` in the resource (not above the caller's role)."""
        self._call("POST", self._bodhi("/assign-role"),
                   headers={"authorization": f"Bearer {access_token}"},
                   json={"user_id": user_id, "role": role})

    def remove_user(self, access_token: str, user_id: str) -> None:
        """Removes ``user_id`` from the resource."""
        self._call("POST", self._bodhi("/remove-user"),
                   headers={"authorization": f"Bearer {access_token}"},
                   json={"user_id": user_id})
