"""Local validation of the OpenID provider's access tokens (issue 11), and the role in them.

A token is checked here, in this order, before anything in it is believed:

1. its header parses and names an allowed algorithm (RS256, PS256, ES256): ``alg=none`` and
   every HMAC algorithm are refused before any key is looked at, so a token "signed" with
   the provider's public key as an HMAC secret never reaches a verifier;
2. its ``kid`` is in the provider's JWKS; an unknown ``kid`` makes the cache fetch the JWKS
   again (the provider rotated its keys), at most once a minute;
3. the signature verifies with that key, for that algorithm only;
4. ``iss`` is the issuer exactly; ``aud`` holds the client id or ``azp`` is the client id;
   ``exp`` and ``nbf`` hold with 60 s of clock skew.

Each refusal is its own coded error (``auth_error-token_expired``...) whose message never
holds the token. The role is the highest of ``resource_access[client_id].roles`` (Keycloak's
layout, BodhiApp §10); none means no access.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet

from bodhi_nb.errors import (
    AuthJwksUnavailableError,
    AuthTokenAlgorithmError,
    AuthTokenAudienceError,
    AuthTokenExpiredError,
    AuthTokenIssuerError,
    AuthTokenMalformedError,
    AuthTokenNotYetValidError,
    AuthTokenSignatureError,
    AuthTokenUnknownKeyError,
)

__all__ = ["ALLOWED_ALGORITHMS", "ROLES", "SKEW_SECONDS", "JwksCache", "TokenClaims",
           "TokenValidator", "highest_role", "role_at_least"]

#: the signature algorithms a token may use (asymmetric only)
ALLOWED_ALGORITHMS: tuple[str, ...] = ("RS256", "PS256", "ES256")
#: seconds of clock skew allowed on ``exp`` and ``nbf``
SKEW_SECONDS = 60
#: the assignable roles, lowest first (BodhiApp §10)
ROLES: tuple[str, ...] = ("resource_user", "resource_power_user", "resource_manager",
                          "resource_admin")


def highest_role(roles: object) -> str | None:
    """The highest known role in ``roles`` (a list from a token), or None."""
    if not isinstance(roles, list):
        return None
    ranks = [ROLES.index(r) for r in roles if isinstance(r, str) and r in ROLES]
    return ROLES[max(ranks)] if ranks else None


def role_at_least(role: str | None, needed: str) -> bool:
    """Whether ``role`` reaches ``needed`` (a role has access to everything below it)."""
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


@dataclass(frozen=True)
class TokenClaims:
    """What a validated access token says (never the token itself)."""

    subject: str
    username: str | None
    role: str | None
    issuer: str
    client_id: str
    expires_at: datetime
    scope: str = ""


class JwksCache:
    """The provider's signing keys. ``fetch`` returns the JWKS document; an unknown ``kid``
    fetches it again, at most once every ``refetch_every`` seconds (a flood of tokens with
    made-up key ids must not become a flood of requests to the provider)."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]], *,
                 refetch_every: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._refetch_every = refetch_every
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        #: how many times the JWKS was fetched (tests check rotation fetches once)
        self.fetches = 0

    def _load(self) -> KeySet:
        try:
            document = self._fetch()
            keys = KeySet.import_key_set(dict(document))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise AuthJwksUnavailableError(reason=type(exc).__name__) from None
        self.fetches += 1
        self._keys, self._fetched_at = keys, self._clock()
        return keys

    def key_for(self, kid: str | None) -> Any:
        """The key named ``kid`` (or the only key, when the token names none)."""
        with self._lock:
            keys = self._keys if self._keys is not None else self._load()
            found = _pick(keys, kid)
            if found is None and self._fetched_at is not None and (
                    self._clock() - self._fetched_at >= self._refetch_every):
                found = _pick(self._load(), kid)
        if found is None:
            raise AuthTokenUnknownKeyError()
        return found


def _pick(keys: KeySet, kid: str | None) -> Any:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    return next((k for k in keys.keys if k.kid == kid), None)


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise AuthTokenMalformedError()
    try:
        padded = parts[0] + "=" * (-len(parts[0]) % 4)
        header = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        raise AuthTokenMalformedError() from None
    if not isinstance(header, dict):
        raise AuthTokenMalformedError()
    return header


class TokenValidator:
    """Validates access tokens of ``issuer`` meant for ``client_id`` (see the module)."""

    def __init__(self, issuer: str, client_id: str, jwks: JwksCache, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.jwks = jwks
        self._clock = clock

    def validate(self, token: str, *, any_client: bool = False) -> TokenClaims:
        """The claims of ``token`` once every check above holds. ``any_client``: accept a
        token of another client of the issuer (RFC 8693 exchange checks a third-party app's
        token before sending it on); its ``client_id`` is then the token's ``azp`` and its
        role None (another client's roles mean nothing here)."""
        header = _header(token)
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise AuthTokenAlgorithmError(alg=str(algorithm)[:20])
        kid = header.get("kid")
        key = self.jwks.key_for(kid if isinstance(kid, str) else None)
        try:
            decoded = jwt.decode(token, key, algorithms=[str(algorithm)])
        except BadSignatureError:
            raise AuthTokenSignatureError() from None
        except (JoseError, ValueError, TypeError):
            raise AuthTokenMalformedError() from None
        claims = decoded.claims
        if claims.get("iss") != self.issuer:
            raise AuthTokenIssuerError(expected=self.issuer)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if (not any_client and self.client_id not in audiences
                and claims.get("azp") != self.client_id):
            raise AuthTokenAudienceError(client=self.client_id)
        now = self._clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise AuthTokenMalformedError()
        if now > exp + SKEW_SECONDS:
            raise AuthTokenExpiredError()
        if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and (
                now < nbf - SKEW_SECONDS):
            raise AuthTokenNotYetValidError()
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthTokenMalformedError()
        access = claims.get("resource_access")
        mine = access.get(self.client_id) if isinstance(access, dict) else None
        username = claims.get("preferred_username")
        scope = claims.get("scope")
        client_id = self.client_id
        if any_client:
            azp = claims.get("azp")
            client_id = azp if isinstance(azp, str) and azp else str(claims.get("client_id"))
            mine = None
        return TokenClaims(
            subject=subject, username=username if isinstance(username, str) else None,
            role=highest_role(mine.get("roles") if isinstance(mine, dict) else None),
            issuer=self.issuer, client_id=client_id,
            expires_at=datetime.fromtimestamp(float(exp), UTC),
            scope=scope if isinstance(scope, str) else "")
