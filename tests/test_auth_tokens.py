"""Access-token validation (issue 11) against the real OpenID test server's JWKS and tokens.

Valid tokens come from the provider (a PKCE login played with httpx); forged ones are made
here, as an attacker would: alg=none, HS256 keyed with the provider's public key, a key the
provider never published, wrong issuer, wrong audience, expired, not yet valid. Key
rotation happens at the provider; the cache fetches the new JWKS once.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey
from test_oidc_server import login, register, service_token

from bodhi_nb.commands import render_error
from bodhi_nb.errors import AuthError
from bodhi_nb.services.auth_tokens import JwksCache, TokenValidator, highest_role, role_at_least
from bodhi_nb.testing.oidc import OidcServer


@pytest.fixture(scope="module")
def client(server: OidcServer, discovery: dict[str, Any]) -> tuple[str, str]:
    client_id, secret = register(server, "Token tests")
    bearer = {"authorization": f"Bearer {service_token(discovery, client_id, secret)}"}
    made = server.http.post("/bodhi/resources/make-resource-admin", headers=bearer,
                            json={"user_id": server.user("admin").id})
    assert made.status_code == 201
    return client_id, secret


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _validator(server: OidcServer, discovery: dict[str, Any], client_id: str,
               clock: Clock | None = None) -> TokenValidator:
    jwks = JwksCache(lambda: server.http.get(discovery["jwks_uri"]).json(),
                     clock=clock or time.monotonic)
    return TokenValidator(server.issuer, client_id, jwks)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(validator: TokenValidator, token: str) -> str:
    with pytest.raises(AuthError) as raised:
        validator.validate(token)
    text = render_error(raised.value, prog="%bodhi")
    assert token not in text and token[-20:] not in text  # never the token
    return raised.value.code


def test_a_real_login_validates_with_its_role(server: OidcServer, discovery: dict[str, Any],
                                              client: tuple[str, str]) -> None:
    validator = _validator(server, discovery, client[0])
    admin = login(server, discovery, *client, "admin")
    claims = validator.validate(admin["access_token"])
    assert claims.subject == server.user("admin").id and claims.username == "admin"
    assert claims.role == "resource_admin" and claims.client_id == client[0]
    assert claims.expires_at.timestamp() > time.time()
    alice = validator.validate(login(server, discovery, *client, "alice")["access_token"])
    assert alice.role is None  # logged in, no role: no access
    assert validator.jwks.fetches == 1  # cached


def test_forged_tokens_are_each_refused_with_their_code(
        server: OidcServer, discovery: dict[str, Any], client: tuple[str, str]) -> None:
    validator = _validator(server, discovery, client[0])
    real = login(server, discovery, *client, "admin")["access_token"]
    claims = dict(jwt.decode(real, validator.jwks.key_for(
        json.loads(base64.urlsafe_b64decode(real.split(".")[0] + "==")).get("kid"))).claims)
    now = int(time.time())

    none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert _refused(validator, none) == "auth_error-token_algorithm"
    public = server.http.get(discovery["jwks_uri"]).json()["keys"][0]
    hs = jwt.encode({"alg": "HS256", "kid": public["kid"]}, claims,
                    OctKey.import_key(json.dumps(public).encode()), algorithms=["HS256"])
    assert _refused(validator, hs) == "auth_error-token_algorithm"
    stranger = ECKey.generate_key("P-256")
    unknown = jwt.encode({"alg": "ES256", "kid": "not-published"}, claims, stranger)
    assert _refused(validator, unknown) == "auth_error-token_unknown_key"
    # The provider's kid on a body signed with another key: the signature fails.
    mine = jwt.encode({"alg": "ES256", "kid": public["kid"]}, claims, stranger)
    assert _refused(validator, mine) == "auth_error-token_signature"
    tampered = real.split(".")
    tampered[1] = _b64({**claims, "resource_access": {client[0]: {"roles": ["x"]}}})
    assert _refused(validator, ".".join(tampered)) == "auth_error-token_signature"
    assert _refused(validator, "not a token") == "auth_error-token_malformed"

    # Claims, on tokens the validator believes signed: a validator for another issuer,
    # another client, and a clock moved past exp or before nbf.
    other_issuer = TokenValidator("http://127.0.0.1:1", client[0], validator.jwks)
    assert _refused(other_issuer, real) == "auth_error-token_issuer"
    other_client = TokenValidator(server.issuer, "someone-else", validator.jwks)
    assert _refused(other_client, real) == "auth_error-token_audience"
    late = TokenValidator(server.issuer, client[0], validator.jwks,
                          clock=lambda: claims["exp"] + 61)
    assert _refused(late, real) == "auth_error-token_expired"
    skewed = TokenValidator(server.issuer, client[0], validator.jwks,
                            clock=lambda: claims["exp"] + 59)
    assert skewed.validate(real).role == "resource_admin"  # within the 60 s skew
    # The provider sets no nbf: a deployment's own key signs one an hour ahead.
    own = ECKey.generate_key("P-256", parameters={"kid": "own"})
    local = TokenValidator(server.issuer, client[0], JwksCache(
        lambda: {"keys": [own.as_dict(private=False)]}))
    ahead = jwt.encode({"alg": "ES256", "kid": "own"}, {**claims, "nbf": now + 3600}, own)
    assert _refused(local, ahead) == "auth_error-token_not_yet_valid"
    just = jwt.encode({"alg": "ES256", "kid": "own"}, {**claims, "nbf": now + 30}, own)
    assert local.validate(just).subject == claims["sub"]  # within the skew


def test_key_rotation_fetches_the_new_keys_once(server: OidcServer, discovery: dict[str, Any],
                                                client: tuple[str, str]) -> None:
    clock = Clock()
    validator = _validator(server, discovery, client[0], clock)
    validator.validate(login(server, discovery, *client, "admin")["access_token"])
    assert validator.jwks.fetches == 1
    server.rotate_key()
    fresh = login(server, discovery, *client, "admin")["access_token"]
    # Within a minute of the last fetch, an unknown kid is not fetched again.
    assert _refused(validator, fresh) == "auth_error-token_unknown_key"
    assert validator.jwks.fetches == 1
    clock.now += 61
    assert validator.validate(fresh).role == "resource_admin"
    assert validator.jwks.fetches == 2
    for _ in range(3):  # known now: no more fetches
        validator.validate(fresh)
    assert validator.jwks.fetches == 2


def test_roles_rank_as_keycloak_s() -> None:
    assert highest_role(["resource_user", "resource_manager", "other"]) == "resource_manager"
    assert highest_role([]) is None and highest_role("resource_admin") is None
    assert role_at_least("resource_admin", "resource_user")
    assert not role_at_least("resource_user", "resource_power_user")
    assert not role_at_least(None, "resource_user")
