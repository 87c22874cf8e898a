"""AuthService against the real OpenID test server (tests/oidc_server): setup, PKCE, device
and loopback logins, the first admin, roles after a refresh, sessions per profile surviving a
restart, logout with revocation, and no token or client secret in reprs, errors or the
database file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from _secret_support import HEADLESS

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.commands import render_error
from bodhi_nb.errors import (
    AuthInsufficientRoleError,
    AuthLoginAgainError,
    AuthLoginRequiredError,
    AuthStateMismatchError,
)
from bodhi_nb.services.auth import CLIENT_SECRET_NAME, AuthService, Identity
from bodhi_nb.services.oidc_client import OidcClient
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.oidc import OidcServer, approve_device, browser_login

REDIRECT = "http://127.0.0.1:8123/callback"
LOOPBACK = "http://127.0.0.1/callback"  # a native client: any port (RFC 8252 §7.3)


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


@pytest.fixture
def reg(isolated_env: Path) -> Iterator[DefaultAppService]:
    registry = build_app_service(SettingService())
    yield registry
    registry.close()


@pytest.fixture
def auth(reg: DefaultAppService, server: OidcServer) -> AuthService:
    """The registry's AuthService, set up with a fresh client of the test server."""
    service = reg.auth_service()
    service.setup(server.issuer, "Team notebooks", "tests", [REDIRECT, LOOPBACK])
    return service


def login(auth: AuthService, server: OidcServer, username: str) -> Identity:
    pending = auth.begin_login(REDIRECT)
    user = server.user(username)
    final = browser_login(pending.url, user.username, user.password, redirect_uri=REDIRECT)
    return auth.finish_login(pending, final)


def stored_tokens(reg: DefaultAppService, profile: str) -> dict[str, str]:
    """The tokens the profile's session holds (read the way the service does)."""
    pointer = reg.secret_service().retrieve_internal(f"bodhi:auth:session:{profile}")
    assert pointer is not None
    session = reg.session_service().get(str.__str__(pointer))
    assert session is not None
    return {k: str(session.data[k]) for k in ("access_token", "refresh_token")}


def home_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def test_auth_is_off_until_an_issuer_is_set(reg: DefaultAppService) -> None:
    auth = reg.auth_service()
    assert auth.enabled is False
    assert auth.current() is None
    assert auth.require("resource_admin") is None  # off: nothing is checked


def test_setup_registers_the_client_and_seals_its_secret(
        reg: DefaultAppService, server: OidcServer, isolated_env: Path) -> None:
    auth = reg.auth_service()
    client_id = auth.setup(server.issuer, "Team notebooks", "tests", [REDIRECT])
    assert auth.enabled and auth.client_id() == client_id
    assert reg.setting_service().get("BODHI_AUTH_ISSUER") == server.issuer
    assert server.issuer in (isolated_env / "settings.yaml").read_text()
    secret = reg.secret_service().retrieve_internal(CLIENT_SECRET_NAME)
    assert secret is not None and len(secret) >= 20
    # the secret works: the provider gives the client its own token
    with OidcClient(server.issuer) as oidc:
        assert oidc.client_credentials(client_id, str(secret)).access_token
    assert str(secret) not in repr(auth)
    reg.close()
    assert str(secret).encode() not in home_bytes(isolated_env)
    assert client_id.encode() not in (isolated_env / "settings.yaml").read_bytes()


def test_first_login_is_admin_then_roles_follow_the_provider(
        reg: DefaultAppService, auth: AuthService, server: OidcServer,
        isolated_env: Path) -> None:
    admin = login(auth, server, "admin")
    assert (admin.username, admin.role) == ("admin", "resource_admin")
    assert admin.user_id == server.user("admin").id
    assert auth.require("resource_admin") == admin
    admin_token = auth.access_token()
    assert str(admin_token) not in repr(admin_token)

    reg.setting_service().set("BODHI_PROFILE", "alice")
    alice = login(auth, server, "alice")
    assert (alice.username, alice.role) == ("alice", None)
    with pytest.raises(AuthInsufficientRoleError) as refused:
        auth.require("resource_user")
    assert refused.value.code == "auth_error-insufficient_role"
    assert refused.value.params == {"needed": "user", "have": "none"}

    with OidcClient(server.issuer) as oidc:
        oidc.assign_role(str(admin_token), alice.user_id, "resource_power_user")
    assert auth.current() == alice  # the role is in the next token, not this one
    refreshed = auth.refresh()
    assert refreshed.role == "resource_power_user"
    current = auth.current()
    assert current is not None and current.role == "resource_power_user"
    assert auth.require("power_user") == current
    with pytest.raises(AuthInsufficientRoleError):
        auth.require("resource_manager")

    tokens = stored_tokens(reg, "alice") | {"admin": str(admin_token)}
    reg.close()
    everything = home_bytes(isolated_env)
    for token in tokens.values():
        assert token.encode() not in everything


def test_a_state_that_does_not_match_is_refused(
        auth: AuthService, server: OidcServer) -> None:
    pending = auth.begin_login(REDIRECT)
    assert len(pending.state) == 32
    assert pending.verifier not in repr(pending)
    user = server.user("admin")
    final = browser_login(pending.url, user.username, user.password, redirect_uri=REDIRECT)
    forged = final.replace(f"state={pending.state}", "state=" + "x" * 32)
    assert forged != final
    with pytest.raises(AuthStateMismatchError) as refused:
        auth.finish_login(pending, forged)
    assert refused.value.code == "auth_error-state_mismatch"
    code = parse_qs(urlsplit(final).query)["code"][0]
    assert code not in render_error(refused.value)
    assert auth.current() is None
    with pytest.raises(AuthLoginRequiredError):
        auth.require("resource_user")


def test_a_code_exchanged_with_another_pkce_verifier_is_refused(
        auth: AuthService, server: OidcServer) -> None:
    """The provider checks the verifier against the challenge it was sent (S256): a code
    taken by someone without the verifier is worth nothing, and nobody is logged in."""
    import dataclasses

    pending = auth.begin_login(REDIRECT)
    assert "code_challenge_method=S256" in pending.url
    user = server.user("bob")
    final = browser_login(pending.url, user.username, user.password, redirect_uri=REDIRECT)
    stolen = dataclasses.replace(pending, verifier="v" * 43)
    with pytest.raises(AuthLoginAgainError) as refused:
        auth.finish_login(stolen, final)
    line = render_error(refused.value)
    assert line.startswith("error[auth_error-login_again]")
    assert "v" * 43 not in line and pending.verifier not in line
    assert auth.current() is None


def test_device_login(auth: AuthService, server: OidcServer) -> None:
    grant = auth.begin_device()
    user = server.user("bob")
    assert approve_device(server.issuer, grant.user_code, user.username,
                          user.password) == "Approved"
    identity = auth.finish_device(grant)
    assert (identity.username, identity.role) == ("bob", "resource_admin")  # the first user
    assert auth.current() == identity


def test_the_session_survives_a_restart(
        reg: DefaultAppService, auth: AuthService, server: OidcServer) -> None:
    admin = login(auth, server, "admin")
    reg.close()
    again = build_app_service(SettingService())
    try:
        restarted = again.auth_service()
        assert restarted is not auth
        current = restarted.current()
        assert current is not None
        assert (current.user_id, current.role) == (admin.user_id, "resource_admin")
    finally:
        again.close()


def test_two_profiles_hold_two_identities(
        reg: DefaultAppService, auth: AuthService, server: OidcServer) -> None:
    settings = reg.setting_service()
    admin = login(auth, server, "admin")
    settings.set("BODHI_PROFILE", "second")
    assert auth.current() is None
    alice = login(auth, server, "alice")
    assert auth.current() == alice
    settings.set("BODHI_PROFILE", "default")
    assert auth.current() == admin
    before = stored_tokens(reg, "default")
    assert login(auth, server, "admin").user_id == admin.user_id
    assert stored_tokens(reg, "default") != before  # a login replaces the profile's session


def test_logout_revokes_and_clears(
        reg: DefaultAppService, auth: AuthService, server: OidcServer) -> None:
    login(auth, server, "admin")
    old = stored_tokens(reg, "default")["refresh_token"]
    assert old
    assert auth.logout() is True
    assert auth.current() is None
    assert auth.logout() is False
    client_id = auth.client_id()
    secret = reg.secret_service().retrieve_internal(CLIENT_SECRET_NAME)
    assert client_id is not None and secret is not None
    with OidcClient(server.issuer) as oidc, pytest.raises(AuthLoginAgainError) as refused:
        oidc.refresh(client_id, str(secret), old)
    assert old not in render_error(refused.value)


def test_loopback_login_end_to_end(auth: AuthService, server: OidcServer) -> None:
    pages: list[str] = []

    def browser(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        assert redirect.startswith("http://127.0.0.1:") and redirect.endswith("/callback")
        user = server.user("carol")
        final = browser_login(url, user.username, user.password, redirect_uri=redirect)
        answer = httpx.get(final, timeout=10.0)
        assert answer.status_code == 200
        pages.append(answer.text)

    identity = auth.login_loopback(browser, timeout=60)
    assert identity.username == "carol"
    assert "close this tab" in pages[0]
    assert auth.current() == identity
    assert "token" not in repr(identity)


@pytest.fixture(scope="module")
def short_server() -> Iterator[OidcServer]:
    """Access tokens living 30 s: each is within the 60 s refresh margin when used."""
    with OidcServer(access_token_ttl=30) as srv:
        yield srv


def test_a_token_near_its_expiry_is_refreshed_and_a_refused_refresh_ends_the_session(
        reg: DefaultAppService, short_server: OidcServer) -> None:
    auth = reg.auth_service()
    auth.setup(short_server.issuer, "Team notebooks", "tests", [REDIRECT])
    first = login(auth, short_server, "admin")
    before = stored_tokens(reg, "default")
    current = auth.current()
    assert current is not None and current.user_id == first.user_id
    after = stored_tokens(reg, "default")
    assert after["access_token"] != before["access_token"]  # refreshed, not reused

    client_id = auth.client_id()
    secret = reg.secret_service().retrieve_internal(CLIENT_SECRET_NAME)
    assert client_id is not None and secret is not None
    with OidcClient(short_server.issuer) as oidc:  # revoked elsewhere (another device)
        oidc.revoke(client_id, str(secret), after["refresh_token"])
    with pytest.raises(AuthLoginAgainError) as refused:
        auth.current()
    rendered = render_error(refused.value) + repr(refused.value)
    assert after["refresh_token"] not in rendered and after["access_token"] not in rendered
    assert auth.current() is None  # the session was cleared
    with pytest.raises(AuthLoginRequiredError):
        auth.require("resource_user")
