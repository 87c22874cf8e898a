"""The OpenID test server (tests/oidc_server) driven by clients nobody here wrote: httpx,
authlib's OAuth2Client (PKCE, refresh, revocation) and joserfc (JWT against the JWKS)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError
from joserfc.jwk import KeySet

from bodhi_nb.testing.oidc import (
    BrowserLoginError,
    OidcServer,
    approve_device,
    browser_login,
)

REDIRECT = "http://127.0.0.1:8123/callback"
SCOPE = "openid email profile roles"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def register(server: OidcServer, name: str = "Team notebooks") -> tuple[str, str]:
    response = server.http.post("/bodhi/resources", json={
        "name": name, "description": "tests", "redirect_uris": [REDIRECT]})
    assert response.status_code == 201
    body = response.json()
    return body["client_id"], body["client_secret"]


def service_token(discovery: dict[str, Any], client_id: str, secret: str) -> str:
    with OAuth2Client(client_id, secret, scope="service_account") as client:
        token = client.fetch_token(discovery["token_endpoint"], grant_type="client_credentials")
    return str(token["access_token"])


def login(server: OidcServer, discovery: dict[str, Any], client_id: str, secret: str,
          username: str) -> dict[str, Any]:
    user = server.user(username)
    client = OAuth2Client(client_id, secret, scope=SCOPE, redirect_uri=REDIRECT,
                          code_challenge_method="S256")
    verifier = generate_token(48)
    url, state = client.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier)
    final = browser_login(url, user.username, user.password, redirect_uri=REDIRECT)
    assert parse_qs(urlsplit(final).query)["state"] == [state]
    token: dict[str, Any] = dict(client.fetch_token(
        discovery["token_endpoint"], authorization_response=final, code_verifier=verifier))
    client.close()
    return token


def claims_of(server: OidcServer, discovery: dict[str, Any], token: str) -> dict[str, Any]:
    jwks = KeySet.import_key_set(server.http.get(discovery["jwks_uri"]).json())
    decoded = jwt.decode(token, jwks, algorithms=["ES256"])
    return dict(decoded.claims)


@pytest.fixture(scope="module")
def resource(server: OidcServer, discovery: dict[str, Any]) -> tuple[str, str]:
    """A registered resource whose admin is `admin` (made via make-resource-admin)."""
    client_id, secret = register(server)
    bearer = {"authorization": f"Bearer {service_token(discovery, client_id, secret)}"}
    made = server.http.post("/bodhi/resources/make-resource-admin", headers=bearer,
                            json={"user_id": server.user("admin").id})
    assert made.status_code == 201
    return client_id, secret


def test_discovery_document(server: OidcServer, discovery: dict[str, Any]) -> None:
    assert discovery["issuer"] == server.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_GRANT in discovery["grant_types_supported"]
    for endpoint in ("token_endpoint", "jwks_uri", "revocation_endpoint",
                     "device_authorization_endpoint", "authorization_endpoint"):
        assert discovery[endpoint].startswith(server.issuer + "/")


def test_client_credentials_token_is_a_jwt_for_the_client(
        server: OidcServer, discovery: dict[str, Any]) -> None:
    client_id, secret = register(server, "Another deployment")
    claims = claims_of(server, discovery, service_token(discovery, client_id, secret))
    assert claims["azp"] == client_id
    assert claims["aud"] == client_id
    assert claims["iss"] == server.issuer
    refused = httpx.post(discovery["token_endpoint"], auth=(client_id, "wrong-secret"),
                         data={"grant_type": "client_credentials"})
    assert refused.json()["error"] == "invalid_client"


def test_make_resource_admin_only_once(server: OidcServer, discovery: dict[str, Any],
                                       resource: tuple[str, str]) -> None:
    bearer = {"authorization": f"Bearer {service_token(discovery, *resource)}"}
    again = server.http.post("/bodhi/resources/make-resource-admin", headers=bearer,
                             json={"user_id": server.user("alice").id})
    assert again.status_code == 409
    forged = server.http.post("/bodhi/resources/make-resource-admin",
                              headers={"authorization": "Bearer not.a.jwt"},
                              json={"user_id": server.user("alice").id})
    assert forged.status_code == 401


def test_pkce_login_gives_the_admin_role_in_a_verified_jwt(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client_id, secret = resource
    token = login(server, discovery, client_id, secret, "admin")
    claims = claims_of(server, discovery, token["access_token"])
    assert claims["resource_access"][client_id]["roles"] == ["resource_admin"]
    assert claims["preferred_username"] == "admin"
    assert claims["sub"] == server.user("admin").id
    assert claims["azp"] == client_id
    assert token.get("refresh_token")
    # A user with no role in this resource gets a token without one.
    bob = claims_of(server, discovery, login(server, discovery, client_id, secret, "bob")
                    ["access_token"])
    assert client_id not in bob["resource_access"]


def test_wrong_password_shows_the_form_again(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client = OAuth2Client(resource[0], resource[1], scope=SCOPE, redirect_uri=REDIRECT,
                          code_challenge_method="S256")
    url, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=generate_token(48))
    with pytest.raises(BrowserLoginError, match="Invalid username or password"):
        browser_login(url, "alice", "not-her-password", redirect_uri=REDIRECT)


def test_consent_denied_redirects_with_access_denied(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client = OAuth2Client(resource[0], resource[1], scope=SCOPE, redirect_uri=REDIRECT,
                          code_challenge_method="S256")
    url, _ = client.create_authorization_url(discovery["authorization_endpoint"],
                                             code_verifier=generate_token(48))
    carol = server.user("carol")
    final = browser_login(url, carol.username, carol.password, redirect_uri=REDIRECT,
                          consent=False)
    assert parse_qs(urlsplit(final).query)["error"] == ["access_denied"]


def test_refresh_rotates_and_revocation_ends_it(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client_id, secret = resource
    first = login(server, discovery, client_id, secret, "admin")["refresh_token"]
    with OAuth2Client(client_id, secret) as client:
        second = client.refresh_token(discovery["token_endpoint"], refresh_token=first,
                                      scope=SCOPE)
        assert second["refresh_token"] != first
        reused = httpx.post(discovery["token_endpoint"], auth=resource, data={
            "grant_type": "refresh_token", "refresh_token": first})
        assert reused.json()["error"] == "invalid_grant"
        revoked = client.revoke_token(discovery["revocation_endpoint"],
                                      second["refresh_token"], token_type_hint="refresh_token")
        assert revoked.status_code == 200
        after = httpx.post(discovery["token_endpoint"], auth=resource, data={
            "grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"


def test_role_assignment_shows_in_tokens_after_refresh_and_users_list_pages(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client_id, secret = resource
    admin_token = login(server, discovery, client_id, secret, "admin")["access_token"]
    bearer = {"authorization": f"Bearer {admin_token}"}
    for name, role in (("alice", "resource_power_user"), ("bob", "resource_user")):
        assigned = server.http.post("/bodhi/resources/assign-role", headers=bearer,
                                    json={"user_id": server.user(name).id, "role": role})
        assert assigned.status_code == 200
    page1 = server.http.get("/bodhi/resources/users", headers=bearer,
                            params={"page": 1, "page_size": 2}).json()
    assert page1["client_id"] == client_id
    assert [u["username"] for u in page1["users"]] == ["admin", "alice"]
    assert page1["users"][1]["role"] == "resource_power_user"
    assert (page1["total_users"], page1["total_pages"], page1["has_next"],
            page1["has_previous"]) == (3, 2, True, False)
    page2 = server.http.get("/bodhi/resources/users", headers=bearer,
                            params={"page": 2, "page_size": 2}).json()
    assert [u["username"] for u in page2["users"]] == ["bob"]
    assert (page2["has_next"], page2["has_previous"]) == (False, True)
    alice = claims_of(server, discovery, login(server, discovery, client_id, secret, "alice")
                      ["access_token"])
    assert alice["resource_access"][client_id]["roles"] == ["resource_power_user"]
    # A power user may not list users.
    alice_token = login(server, discovery, client_id, secret, "alice")["access_token"]
    as_alice = server.http.get("/bodhi/resources/users",
                               headers={"authorization": f"Bearer {alice_token}"})
    assert as_alice.status_code == 403
    removed = server.http.post("/bodhi/resources/remove-user", headers=bearer,
                               json={"user_id": server.user("bob").id})
    assert removed.status_code == 200
    total = server.http.get("/bodhi/resources/users", headers=bearer).json()["total_users"]
    assert total == 2


def device_start(discovery: dict[str, Any], client_id: str, secret: str) -> dict[str, Any]:
    response = httpx.post(discovery["device_authorization_endpoint"], auth=(client_id, secret),
                          data={"scope": SCOPE})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def device_poll(discovery: dict[str, Any], client_id: str, secret: str,
                device_code: str) -> httpx.Response:
    return httpx.post(discovery["token_endpoint"], auth=(client_id, secret), data={
        "grant_type": DEVICE_GRANT, "device_code": device_code})


def test_device_flow_approved_with_slow_down(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client_id, secret = resource
    started = device_start(discovery, client_id, secret)
    assert started["interval"] == 1
    assert started["verification_uri"] == server.issuer + "/device"
    pending = device_poll(discovery, client_id, secret, started["device_code"])
    assert pending.json()["error"] == "authorization_pending"
    server.slow_down()
    assert device_poll(discovery, client_id, secret,
                       started["device_code"]).json()["error"] == "slow_down"
    assert device_poll(discovery, client_id, secret,
                       started["device_code"]).json()["error"] == "authorization_pending"
    admin = server.user("admin")
    with pytest.raises(BrowserLoginError, match="Invalid username"):
        approve_device(server.issuer, started["user_code"], admin.username, "wrong")
    assert approve_device(server.issuer, started["user_code"], admin.username,
                          admin.password) == "Approved"
    done = device_poll(discovery, client_id, secret, started["device_code"])
    assert done.status_code == 200, done.text
    claims = claims_of(server, discovery, done.json()["access_token"])
    assert claims["resource_access"][client_id]["roles"] == ["resource_admin"]
    assert done.json()["refresh_token"]


def test_device_flow_denied_and_expired(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    client_id, secret = resource
    denied = device_start(discovery, client_id, secret)
    alice = server.user("alice")
    assert approve_device(server.issuer, denied["user_code"], alice.username, alice.password,
                          approve=False) == "Denied"
    assert device_poll(discovery, client_id, secret,
                       denied["device_code"]).json()["error"] == "access_denied"
    expiring = device_start(discovery, client_id, secret)
    server.expire_device_code(expiring["user_code"])
    assert device_poll(discovery, client_id, secret,
                       expiring["device_code"]).json()["error"] == "expired_token"


def test_injected_token_failures_then_success(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    server.fail_token(2)
    statuses = [httpx.post(discovery["token_endpoint"], auth=resource, data={
        "grant_type": "client_credentials"}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_key_rotation_changes_the_signing_kid(
        server: OidcServer, discovery: dict[str, Any], resource: tuple[str, str]) -> None:
    old_token = service_token(discovery, *resource)
    old_kid = server.http.get(discovery["jwks_uri"]).json()["keys"][0]["kid"]
    new_kid = server.rotate_key(keep_old=False)
    kids = [k["kid"] for k in server.http.get(discovery["jwks_uri"]).json()["keys"]]
    assert kids == [new_kid] != [old_kid]
    new_token = service_token(discovery, *resource)
    assert claims_of(server, discovery, new_token)["azp"] == resource[0]
    with pytest.raises(InvalidKeyIdError):
        claims_of(server, discovery, old_token)
    # The default rotation keeps the previous key published, after the new signing key.
    newest = server.rotate_key()
    kids = [k["kid"] for k in server.http.get(discovery["jwks_uri"]).json()["keys"]]
    assert kids == [newest, new_kid]
    assert claims_of(server, discovery, new_token)["azp"] == resource[0]
