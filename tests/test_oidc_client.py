"""bodhi_nb.services.oidc_client against the real OpenID test server (tests/oidc_server):
logins through its forms, its injected failures and its Bodhi resource routes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bodhi_nb import __version__
from bodhi_nb.commands import render_error
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
    AuthProviderUnavailableError,
)
from bodhi_nb.objs import CancelToken
from bodhi_nb.services.auth_tokens import JwksCache, TokenValidator
from bodhi_nb.services.oidc_client import DeviceGrant, OidcClient, Tokens
from bodhi_nb.testing.oidc import OidcServer, approve_device, browser_login

REDIRECT = "http://127.0.0.1:8123/callback"


class Sleeps:
    """The injected sleep: records each wait, runs ``on_sleep`` (e.g. approving the device
    page) at the given call, and never really sleeps."""

    def __init__(self, on_sleep: dict[int, object] | None = None) -> None:
        self.calls: list[float] = []
        self.on_sleep = on_sleep or {}

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        action = self.on_sleep.get(len(self.calls))
        if callable(action):
            action()


@pytest.fixture(scope="module")
def client(server: OidcServer) -> Iterator[OidcClient]:
    with OidcClient(server.issuer) as oidc:
        yield oidc


@pytest.fixture(scope="module")
def resource(server: OidcServer, client: OidcClient) -> tuple[str, str]:
    """A registered resource whose admin is `admin`."""
    client_id, secret = client.register_client("Team notebooks", "tests", [REDIRECT])
    client.make_resource_admin(client_id, secret, server.user("admin").id)
    return client_id, secret


@pytest.fixture()
def make(server: OidcServer) -> Iterator[Callable[..., OidcClient]]:
    """OidcClients of the server (or another issuer), closed after the test."""
    made: list[OidcClient] = []

    def factory(issuer: str | None = None, **kwargs: Any) -> OidcClient:
        made.append(OidcClient(issuer or server.issuer, **kwargs))
        return made[-1]

    yield factory
    for oidc in made:
        oidc.close()


def login(server: OidcServer, oidc: OidcClient, resource: tuple[str, str],
          username: str) -> Tokens:
    pkce = oidc.pkce_pair()
    state = "s" * 32
    url = oidc.authorization_url(resource[0], REDIRECT, state, pkce.challenge)
    user = server.user(username)
    final = browser_login(url, user.username, user.password, redirect_uri=REDIRECT)
    query = parse_qs(urlsplit(final).query)
    assert query["state"] == [state]
    return oidc.exchange_code(resource[0], resource[1], query["code"][0], pkce.verifier,
                              REDIRECT)


def validator(oidc: OidcClient, client_id: str) -> TokenValidator:
    return TokenValidator(oidc.issuer, client_id, JwksCache(oidc.jwks_document))


def assert_clean(texts: list[str], *secrets: str | None) -> None:
    for text in texts:
        for secret in secrets:
            if secret:
                assert secret not in text


def shown(error: BaseException) -> list[str]:
    return [str(error), repr(error), render_error(error)]


def test_discovery_is_cached_and_names_the_endpoints(server: OidcServer) -> None:
    with httpx.Client() as http:
        requests: list[tuple[str, str | None]] = []
        http.event_hooks["request"] = [lambda r: requests.append(
            (r.url.path, r.headers.get("x-bodhi-app-version")))]
        oidc = OidcClient(server.issuer + "/", http=http)
        assert oidc.endpoint("token_endpoint").startswith(server.issuer + "/")
        assert oidc.discovery()["issuer"] == server.issuer
        assert requests == [("/.well-known/openid-configuration", __version__)]
    with pytest.raises(AuthIssuerNotSetError):
        OidcClient("")


def test_unreachable_issuer_and_broken_discovery(
        make: Callable[..., OidcClient], server: OidcServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(AuthIssuerUnreachableError) as caught:
        make(f"http://127.0.0.1:{port}").discovery()
    assert caught.value.code == "auth_error-issuer_unreachable"
    assert str(port) in render_error(caught.value)
    # The test server's own issuer with a path under it has no discovery document.
    with pytest.raises(AuthDiscoveryBrokenError) as broken:
        make(server.issuer + "/nowhere").discovery()
    assert "404" in render_error(broken.value)


def test_register_and_make_resource_admin_only_once(
        server: OidcServer, client: OidcClient, resource: tuple[str, str]) -> None:
    client_id, secret = resource
    assert client_id.startswith("resource-") and secret
    with pytest.raises(AuthConflictError) as caught:
        client.make_resource_admin(client_id, secret, server.user("alice").id)
    assert "/bodhi/resources/make-resource-admin" in render_error(caught.value)
    assert_clean(shown(caught.value), secret)


def test_pkce_login_gives_a_validated_admin_token(
        server: OidcServer, client: OidcClient, resource: tuple[str, str]) -> None:
    pkce = client.pkce_pair()
    assert len(pkce.verifier) == 43 and pkce.challenge != pkce.verifier
    assert pkce.verifier not in repr(pkce)
    tokens = login(server, client, resource, "admin")
    claims = validator(client, resource[0]).validate(tokens.access_token)
    assert claims.role == "resource_admin"
    assert claims.subject == server.user("admin").id
    assert tokens.refresh_token and tokens.id_token and tokens.expires_at is not None
    assert_clean([repr(tokens), str(tokens)], tokens.access_token, tokens.refresh_token,
                 tokens.id_token)


def test_refresh_rotates_and_the_old_token_fails_fast(make: Callable[..., OidcClient],
        server: OidcServer, resource: tuple[str, str]) -> None:
    sleeps = Sleeps()
    oidc = make(sleep=sleeps)
    first = login(server, oidc, resource, "admin")
    assert first.refresh_token
    second = oidc.refresh(*resource, first.refresh_token)
    assert second.refresh_token and second.refresh_token != first.refresh_token
    with pytest.raises(AuthLoginAgainError) as caught:
        oidc.refresh(*resource, first.refresh_token)
    assert sleeps.calls == []
    assert "login" in render_error(caught.value)
    assert_clean(shown(caught.value), first.refresh_token, resource[1])


def test_refresh_retries_5xx_then_succeeds(
        make: Callable[..., OidcClient], server: OidcServer,
                                           resource: tuple[str, str]) -> None:
    sleeps = Sleeps()
    oidc = make(sleep=sleeps)
    tokens = login(server, oidc, resource, "admin")
    assert tokens.refresh_token
    server.fail_token(2, 503)
    again = oidc.refresh(*resource, tokens.refresh_token)
    assert again.access_token and sleeps.calls == [0.1, 0.5]


def test_refresh_gives_up_after_three_retries(
        make: Callable[..., OidcClient], server: OidcServer,
                                              resource: tuple[str, str]) -> None:
    sleeps = Sleeps()
    oidc = make(sleep=sleeps)
    tokens = login(server, oidc, resource, "admin")
    assert tokens.refresh_token
    server.fail_token(5, 503)
    try:
        with pytest.raises(AuthProviderUnavailableError) as caught:
            oidc.refresh(*resource, tokens.refresh_token)
    finally:
        server.fail_token(0)
    assert sleeps.calls == [0.1, 0.5, 2.0]
    assert "503" in render_error(caught.value)
    assert_clean(shown(caught.value), tokens.refresh_token, resource[1])


def device_client(server: OidcServer, make: Callable[..., OidcClient],
                  sleeps: Sleeps) -> OidcClient:
    server.set_device_interval(1)
    return make(sleep=sleeps)


def test_device_flow_approved(
        make: Callable[..., OidcClient], server: OidcServer, resource: tuple[str, str]) -> None:
    grant_box: list[DeviceGrant] = []
    admin = server.user("admin")

    def approve() -> None:
        assert approve_device(server.issuer, grant_box[0].user_code, admin.username,
                              admin.password) == "Approved"

    sleeps = Sleeps({2: approve})
    oidc = device_client(server, make, sleeps)
    grant = oidc.start_device(*resource)
    grant_box.append(grant)
    assert grant.interval == 1 and grant.verification_uri == server.issuer + "/device"
    assert grant.device_code not in repr(grant)
    tokens = oidc.poll_device(grant, *resource)
    assert sleeps.calls == [1, 1]
    claims = validator(oidc, resource[0]).validate(tokens.access_token)
    assert claims.role == "resource_admin"


def test_device_flow_slow_down_adds_five_seconds(
        make: Callable[..., OidcClient], server: OidcServer,
                                                 resource: tuple[str, str]) -> None:
    admin = server.user("admin")
    holder: list[DeviceGrant] = []
    sleeps = Sleeps({3: lambda: approve_device(server.issuer, holder[0].user_code,
                                               admin.username, admin.password)})
    oidc = device_client(server, make, sleeps)
    holder.append(oidc.start_device(*resource))
    server.slow_down(1)
    oidc.poll_device(holder[0], *resource)
    assert sleeps.calls == [1, 6, 6]


def test_device_flow_denied_expired_cancelled(
        make: Callable[..., OidcClient], server: OidcServer,
                                              resource: tuple[str, str]) -> None:
    alice = server.user("alice")
    holder: list[DeviceGrant] = []
    sleeps = Sleeps({1: lambda: approve_device(server.issuer, holder[0].user_code,
                                               alice.username, alice.password,
                                               approve=False)})
    oidc = device_client(server, make, sleeps)
    holder.append(oidc.start_device(*resource))
    with pytest.raises(AuthAccessDeniedError):
        oidc.poll_device(holder[0], *resource)

    expiring = oidc.start_device(*resource)
    server.expire_device_code(expiring.user_code)
    with pytest.raises(AuthDeviceExpiredError):
        oidc.poll_device(expiring, *resource)

    cancel = CancelToken()
    waiting = oidc.start_device(*resource)
    stopper = Sleeps({2: cancel.cancel})
    with pytest.raises(AuthCancelledError):
        make(sleep=stopper).poll_device(waiting, *resource,
                                                             cancel=cancel)
    assert stopper.calls == [1, 1]
    # A deadline already passed on the client's clock ends the wait before any poll.
    with pytest.raises(AuthDeviceExpiredError):
        oidc.poll_device(waiting, *resource, deadline=0.0)


def test_revocation_ends_the_refresh_token(server: OidcServer, client: OidcClient,
                                           resource: tuple[str, str]) -> None:
    tokens = login(server, client, resource, "admin")
    assert tokens.refresh_token
    client.revoke(*resource, tokens.refresh_token, "refresh_token")
    with pytest.raises(AuthLoginAgainError):
        client.refresh(*resource, tokens.refresh_token)


def test_users_roles_and_paging(server: OidcServer, client: OidcClient,
                                resource: tuple[str, str]) -> None:
    client_id, secret = resource
    admin = login(server, client, resource, "admin")
    bob = login(server, client, resource, "bob")
    assert validator(client, client_id).validate(bob.access_token).role is None
    client.assign_role(admin.access_token, server.user("bob").id, "resource_manager")
    client.assign_role(admin.access_token, server.user("alice").id, "resource_user")
    assert bob.refresh_token
    refreshed = client.refresh(client_id, secret, bob.refresh_token)
    assert validator(client, client_id).validate(refreshed.access_token).role == \
        "resource_manager"
    page1 = client.list_users(admin.access_token, page=1, page_size=2)
    assert page1.client_id == client_id
    assert [u.username for u in page1.users] == ["admin", "alice"]
    assert page1.users[1].role == "resource_user"
    assert (page1.total_users, page1.total_pages, page1.has_next, page1.has_previous) == \
        (3, 2, True, False)
    page2 = client.list_users(admin.access_token, page=2, page_size=2)
    assert [u.username for u in page2.users] == ["bob"] and page2.has_previous
    alice = login(server, client, resource, "alice")
    with pytest.raises(AuthForbiddenError) as caught:
        client.list_users(alice.access_token)
    assert_clean(shown(caught.value), alice.access_token)
    client.remove_user(admin.access_token, server.user("alice").id)
    assert client.list_users(admin.access_token).total_users == 2


def test_wrong_client_secret_is_invalid_client(server: OidcServer, client: OidcClient,
                                               resource: tuple[str, str]) -> None:
    wrong = "wrong-secret-" + "x" * 20
    with pytest.raises(AuthInvalidClientError) as caught:
        client.client_credentials(resource[0], wrong)
    assert caught.value.code == "auth_error-invalid_client"
    assert_clean(shown(caught.value), wrong, resource[1])
    assert isinstance(caught.value, AuthError)


def test_concurrent_discovery_fetches_once(server: OidcServer) -> None:
    with httpx.Client() as http:
        paths: list[str] = []
        http.event_hooks["request"] = [lambda r: paths.append(r.url.path)]
        oidc = OidcClient(server.issuer, http=http)
        threads = [threading.Thread(target=oidc.discovery) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert paths == ["/.well-known/openid-configuration"]


@pytest.fixture()
def odd_provider() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A stdlib HTTP server whose discovery document the test chooses (issuer, bodies)."""
    bodies: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            body = bodies.get("doc", b"")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", bodies
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.mark.parametrize(("doc", "reason"), [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'{"issuer": "http://elsewhere.example"}', "another issuer"),
    (b'{"issuer": "ISSUER", "authorization_endpoint": "x", "jwks_uri": "y"}',
     "no token_endpoint"),
])
def test_broken_discovery_documents(make: Callable[..., OidcClient],
                                    odd_provider: tuple[str, dict[str, bytes]],
                                    doc: bytes, reason: str) -> None:
    issuer, bodies = odd_provider
    bodies["doc"] = doc.replace(b"ISSUER", issuer.encode())
    with pytest.raises(AuthDiscoveryBrokenError) as caught:
        make(issuer).discovery()
    assert caught.value.params["reason"] == reason
    assert reason in render_error(caught.value)
