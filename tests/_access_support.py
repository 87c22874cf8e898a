"""A deployment with people in it, for the access dashboard's tests (kernel and browser).

``deploy`` registers the test's BODHI_HOME as a fresh client of the real OpenID test server
(roles are per client, so every test starts with nobody holding a role), logs the admin in
first (the first login is made admin), makes ``dave`` a manager and logs him in. ``ask``
logs a person in under a profile of their name and asks for access through the service,
as ``%bodhi access request`` does. Logins use the PKCE flow with the browser played over
HTTP (no device-poll wait).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.objs import UserAccessRequest
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.oidc import OidcServer, browser_login

LOOPBACK = "http://127.0.0.1/callback"
#: a reason that is markup: it must show as text and run nothing
HOSTILE = "<img src=x onerror=alert(1)>"
USERS = (("admin", "Ada", "Admin"), ("dave", "Dave", "Manager"),
         ("alice", "Alice", "Liddell"), ("bob", "Bob", "Builder"),
         ("carol", "Carol", "Danvers"), ("erin", "Erin", "Newcomer"),
         ("frank", "Frank", "Late"))


@dataclass(frozen=True)
class Deployment:
    server: OidcServer
    #: the environment the deployment's processes see (BODHI_HOME, the key, the keyring)
    env: Mapping[str, str]

    @contextlib.contextmanager
    def registry(self, profile: str) -> Iterator[DefaultAppService]:
        """A registry of its own (as another kernel would have) logged in as ``profile``."""
        reg = build_app_service(SettingService(env={**self.env, "BODHI_PROFILE": profile}))
        try:
            yield reg
        finally:
            reg.close()

    def login(self, username: str) -> None:
        """``username`` logs in under the profile of the same name."""
        with self.registry(username) as reg:
            auth = reg.auth_service()
            pending = auth.begin_login(LOOPBACK)
            user = self.server.user(username)
            final = browser_login(pending.url, user.username, user.password,
                                  redirect_uri=LOOPBACK)
            auth.finish_login(pending, final)

    def ask(self, username: str, reason: str | None = None) -> UserAccessRequest:
        """``username`` logs in and asks for access."""
        self.login(username)
        with self.registry(username) as reg:
            return reg.access_request_service().request(reason)


def deploy(server: OidcServer, env: Mapping[str, str]) -> Deployment:
    """The deployment described above, on ``env``'s BODHI_HOME."""
    made = Deployment(server, dict(env))
    with made.registry("admin") as reg:
        reg.auth_service().setup(server.issuer, "Team notebooks", "access tests", [LOOPBACK])
    made.login("admin")
    with made.registry("admin") as reg:
        reg.auth_service().set_role(server.user("dave").id, "manager")
    made.login("dave")
    return made
