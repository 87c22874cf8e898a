"""RFC 8693: a third-party app's access token is exchanged for one of ours (issue 13).

Real peers: the OpenID test server (panva's oidc-provider, token exchange registered with
``registerGrantType``), ``bodhi serve`` with the ``openai`` SDK and httpx as clients, and
:class:`~bodhi_nb.testing.echo_llm.EchoLlm` behind an API alias. The provider counts the
exchanges it answered (a test control), so "no second call" is asserted, not assumed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import openai
import pytest

from bodhi_nb.app import app, reset_apps
from bodhi_nb.commands import Context, execute
from bodhi_nb.errors import AuthAppTokenRefusedError, AuthTokenExpiredError
from bodhi_nb.server import serving
from bodhi_nb.services.auth import EXCHANGE_CACHE_SECS, AuthService
from bodhi_nb.services.oidc_client import OidcClient
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.testing.echo_llm import EchoLlm
from bodhi_nb.testing.oidc import browser_login

OURS_REDIRECT = "http://127.0.0.1:8123/callback"
APP_REDIRECT = "http://127.0.0.1:8124/app/callback"


@pytest.fixture(autouse=True)
def sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


@dataclass
class Deployment:
    """This deployment set up with the provider, and a third-party app's user tokens."""

    client_id: str
    app_client: tuple[str, str]
    #: username -> the access token the third-party app got for that user
    app_tokens: dict[str, str]


def _app_login(server: Any, oidc: OidcClient, client: tuple[str, str], username: str) -> str:
    pkce = oidc.pkce_pair()
    url = oidc.authorization_url(client[0], APP_REDIRECT, "s" * 32, pkce.challenge)
    user = server.user(username)
    back = browser_login(url, user.username, user.password, redirect_uri=APP_REDIRECT)
    code = parse_qs(urlsplit(back).query)["code"][0]
    return oidc.exchange_code(client[0], client[1], code, pkce.verifier,
                              APP_REDIRECT).access_token


@pytest.fixture
def deployment(isolated_env: Path, server: Any) -> Iterator[Deployment]:
    registry = app()
    auth, setting = registry.auth_service(), registry.setting_service()
    client_id = auth.setup(server.issuer, "Team notebooks", "tests", [OURS_REDIRECT])
    setting.set("BODHI_PROFILE", "admin")
    pending = auth.begin_login(OURS_REDIRECT)
    admin = server.user("admin")
    auth.finish_login(pending, browser_login(pending.url, admin.username, admin.password,
                                             redirect_uri=OURS_REDIRECT))  # the first admin
    with OidcClient(server.issuer) as oidc:
        oidc.assign_role(str(auth.access_token()), server.user("bob").id, "resource_user")
        app_client = oidc.register_client("Third-party app", "an app", [APP_REDIRECT])
        tokens = {name: _app_login(server, oidc, app_client, name) for name in ("bob", "alice")}
    try:
        yield Deployment(client_id=client_id, app_client=app_client, app_tokens=tokens)
    finally:
        reset_apps()


def _get(url: str, token: str) -> httpx.Response:
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_an_app_token_is_exchanged_once_then_remembered(
        deployment: Deployment, server: Any, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    bob, alice = deployment.app_tokens["bob"], deployment.app_tokens["alice"]
    with EchoLlm() as echo:
        execute(f"api add echo --base-url {echo.base_url} --models echo --prefix e/ "
                "--no-api-key".split(), Context(prog="%bodhi"), app)
        served = serving.serve(app())
        try:
            assert served.require_token
            before = server.exchange_calls()
            sdk = openai.OpenAI(base_url=served.url, api_key=bob, max_retries=0, timeout=60)
            reply = sdk.chat.completions.create(
                model="e/echo", messages=[{"role": "user", "content": "exchanged hello"}])
            assert "exchanged hello" in (reply.choices[0].message.content or "")
            assert server.exchange_calls() == before + 1
            # within 5 minutes: the remembered actor, no second call to the provider
            assert "e/echo" in {m.id for m in sdk.models.list()}
            assert _get(f"{served.url}/models", bob).status_code == 200
            assert server.exchange_calls() == before + 1
            # bob's role here is resource_user (ours), so power_user routes are refused
            root = served.url.removesuffix("/v1")
            refused = _get(f"{root}/bodhi/v1/downloads", bob)
            assert (refused.status_code, refused.json()["error"]["code"]) == (
                403, "auth_error-insufficient_role")
            # alice has no role on our client: exchanged, then refused what needs a role
            nobody = httpx.post(f"{served.url}/chat/completions", timeout=60,
                                headers={"Authorization": f"Bearer {alice}"},
                                json={"model": "e/echo",
                                      "messages": [{"role": "user", "content": "hi"}]})
            assert nobody.status_code == 403
            assert nobody.json()["error"]["code"] == "auth_error-insufficient_role"
            assert server.exchange_calls() == before + 2
            # a forged app token: refused locally (its signature), never sent on
            forged = _get(f"{served.url}/models", bob[:-4] + ("AAAA" if bob[-4:] != "AAAA"
                                                               else "BBBB"))
            assert forged.status_code == 401
            assert forged.json()["error"]["code"] == "auth_error-token_signature"
            # the app's own service-account token is no user's: the provider refuses it
            with OidcClient(server.issuer) as oidc:
                service = oidc.client_credentials(*deployment.app_client).access_token
            refused_exchange = _get(f"{served.url}/models", service)
            assert refused_exchange.status_code == 401
            assert refused_exchange.json()["error"] == {
                "message": refused_exchange.json()["error"]["message"],
                "type": "authentication_error", "code": "auth_error-app_token_refused",
                "param": None}
            assert server.exchange_calls() == before + 2
            bodies = [forged.text, refused_exchange.text, nobody.text, refused.text]
            sdk.close()
        finally:
            serving.stop()
    shown = capsys.readouterr()
    for token in (bob, alice, service):
        for text in (*bodies, caplog.text, shown.out, shown.err):
            assert token not in text
            assert token.split(".")[2] not in text  # not even its signature


def test_the_exchange_is_remembered_five_minutes_and_never_past_expiry(
        deployment: Deployment, server: Any) -> None:
    """The service on a clock the test moves (the provider keeps its own clock)."""
    registry = app()
    clock = FrozenTimeService(datetime.now(UTC))
    auth = AuthService(registry.setting_service(), registry.secret_service(),
                       registry.session_service(), clock)
    try:
        _remembered_then_expired(auth, clock, registry.auth_service(),
                                 deployment.app_tokens["bob"], server)
    finally:
        auth.close()


def _remembered_then_expired(auth: AuthService, clock: FrozenTimeService,
                             profile_auth: AuthService, bob: str, server: Any) -> None:
    before = server.exchange_calls()
    actor = auth.exchange_app_token(bob)
    assert (actor.username, actor.role, actor.via) == ("bob", "resource_user", "exchange")
    assert "ey" not in repr(actor)
    # our own token goes straight through, no exchange
    direct = auth.exchange_app_token(str(profile_auth.access_token()))
    assert (direct.username, direct.via) == ("admin", "oidc")
    clock.advance(EXCHANGE_CACHE_SECS - 10)
    assert auth.exchange_app_token(bob) == actor
    assert server.exchange_calls() == before + 1
    # the cache entry is gone after 5 minutes; the token is still valid (60 s of skew on
    # its 300 s lifetime), so it is exchanged again
    clock.advance(20)
    assert auth.exchange_app_token(bob) == actor
    assert server.exchange_calls() == before + 2
    # past the app token's expiry (and the skew): refused locally, the provider not called
    clock.advance(120)
    with pytest.raises(AuthTokenExpiredError):
        auth.exchange_app_token(bob)
    assert server.exchange_calls() == before + 2


def test_a_token_the_provider_will_not_exchange_is_a_coded_refusal(
        deployment: Deployment, server: Any) -> None:
    with OidcClient(server.issuer) as oidc:
        service = oidc.client_credentials(*deployment.app_client).access_token
    with pytest.raises(AuthAppTokenRefusedError) as caught:
        app().auth_service().exchange_app_token(service)
    assert str(caught.value).startswith("auth_error-app_token_refused")
    assert service not in str(caught.value)
