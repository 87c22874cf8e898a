"""Who a request of ``bodhi serve`` comes from, and as whom it runs.

A request with ``Authorization: Bearer TOKEN`` is authenticated by the token, whatever the
endpoint's mode; a refused token is a 401 at once, never a fall back to anonymous. Without
a token, the request is served only when the endpoint is *open*: bound to a loopback
address, OpenID login off and ``--require-token`` not given; it then runs as this machine's
user (the local admin, as the magic does). Otherwise it is ``serve_error-token_required``.

Tokens: an API token (``sk-bodhiapp_...``) is checked by ``ApiTokenService.authenticate``
(its scope is its role); with OpenID login on, a JWT access token of the issuer is validated
locally, the role from the token; a JWT the issuer gave another client (a third-party app
signed in with the same provider) is exchanged with RFC 8693 for one of this deployment's, the
role being that user's role here (``AuthService.exchange_app_token``, remembered 5 minutes).
The request then runs inside ``AuthService.acting_as``: the services' policy gate judges the
token's role, so a ``user``-scoped token is refused what needs ``power_user`` (403).

OpenAI's SDK always sends some key (``api_key`` cannot be empty): on an open endpoint a
bearer value that is not an API token (``sk-bodhiapp_...``) is ignored, as llama.cpp's
servers without ``--api-key`` ignore it; an API token is always checked, so a revoked one
is refused everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb.errors import ServeTokenNotAcceptedError, ServeTokenRequiredError
from bodhi_nb.services.api_tokens import TOKEN_PREFIX as API_TOKEN_PREFIX

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.auth import Actor

__all__ = ["API_TOKEN_PREFIX", "Access", "bearer"]


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ServeTokenNotAcceptedError()
    return token.strip()


@dataclass(frozen=True)
class Access:
    """The endpoint's rule (see the module docstring)."""

    registry: AppService
    #: every request needs a valid token (a non-loopback host, OpenID on, --require-token)
    require_token: bool

    @contextmanager
    def acting(self, header: str | None) -> Iterator[None]:
        """Run the block as the request's caller; raises a coded 401 error when the
        caller cannot be established."""
        token = bearer(header)
        if token is not None and not self.require_token and not token.startswith(
                API_TOKEN_PREFIX):
            token = None  # a placeholder key on an open endpoint
        if token is None:
            if self.require_token:
                raise ServeTokenRequiredError()
            yield
            return
        with self.registry.auth_service().acting_as(self._actor(token)):
            yield

    def _actor(self, token: str) -> Actor:
        if token.startswith(API_TOKEN_PREFIX):
            return self.registry.api_token_service().authenticate(token).actor()
        auth = self.registry.auth_service()
        if auth.enabled and token.count(".") == 2:  # a JWT: header.payload.signature
            return auth.exchange_app_token(token)
        raise ServeTokenNotAcceptedError()
