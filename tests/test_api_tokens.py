"""API tokens (issue 13, part 2): ApiTokenService over the ``api_tokens`` table on both store
backends, the checksum checked before any database read, revocation at once, the token shown
once and never again (listings, reprs, logs, the database, outputs), ``acting_as`` judging a
token's scope with authentication off and on (the real OpenID test server), and the two front
ends: ``bodhi token create`` prints the token alone on standard output; ``%bodhi token
create`` shows it once and keeps it out of ``Out``."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from _backends import both_backends
from _secret_support import HEADLESS

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.commands import Context, execute, render_error
from bodhi_nb.errors import (
    AuthError,
    AuthInsufficientRoleError,
    TokenBadChecksumError,
    TokenBadNameError,
    TokenBadScopeError,
    TokenMalformedError,
    TokenNameTakenError,
    TokenNotFoundError,
    TokenRevokedError,
    TokenScopeAboveYoursError,
    TokenSessionOnlyError,
    TokenUnknownError,
)
from bodhi_nb.objs import Repo, UserAlias
from bodhi_nb.redact import get_logger
from bodhi_nb.services.api_tokens import (
    TOKEN_PREFIX,
    ApiTokenService,
    TokenIdentity,
    token_checksum,
)
from bodhi_nb.services.auth import Actor, AuthService
from bodhi_nb.services.policy import Action
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.store.api_tokens import ApiTokensTable
from bodhi_nb.store.base import Row, Store, Tx
from bodhi_nb.testing.oidc import OidcServer, browser_login

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
#: a token as made with authentication off: prefix, 43 random characters, 6 of checksum
TOKEN_RE = re.compile(r"sk-bodhiapp_[A-Za-z0-9_-]{43}[A-Za-z0-9_-]{6}")
REDIRECT = "http://127.0.0.1:8123/callback"


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


@pytest.fixture
def clock() -> FrozenTimeService:
    return FrozenTimeService()


@pytest.fixture
def reg(isolated_env: Path, clock: FrozenTimeService) -> Iterator[DefaultAppService]:
    registry = build_app_service(SettingService(), time=clock)
    yield registry
    registry.close()


def _everything_stored(reg: DefaultAppService, home: Path) -> bytes:
    """Every byte a token could have been written to: the api_tokens rows (on either
    backend), then, with the database closed, every file under BODHI_HOME."""
    store = reg.db_service().store
    rows = store.execute("SELECT * FROM api_tokens")
    reg.close()
    files = b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())
    return repr(rows).encode() + files


# -- the service on both backends -------------------------------------------------------------


@both_backends
def test_create_list_authenticate_revoke(reg: DefaultAppService, clock: FrozenTimeService,
                                         isolated_env: Path) -> None:
    tokens = reg.api_token_service()
    made, secret = tokens.create("ci")
    token = str(secret)
    assert TOKEN_RE.fullmatch(token), "no client id suffix while authentication is off"
    random = token[len(TOKEN_PREFIX):-6]
    assert token[-6:] == token_checksum(random)
    assert (made.name, made.scope, made.status, made.user_id) == ("ci", "user", "active",
                                                                  "local")
    assert made.prefix == token[:len(TOKEN_PREFIX) + 8] and made.last_used_at is None
    assert made.created_at == clock.utc_now()
    clock.advance(5)
    power, power_secret = tokens.create("deploy", scope="power_user")
    assert power.scope == "power_user"

    listed = tokens.list()
    assert [(t.name, t.scope, t.status) for t in listed] == [("ci", "user", "active"),
                                                             ("deploy", "power_user", "active")]
    assert listed[0] == made

    who = tokens.authenticate(token)
    assert who == TokenIdentity(token_id=made.id, name="ci", user_id="local", scope="user",
                                role="resource_user")
    assert who.actor() == Actor("local", "local", "resource_user", "token")
    assert tokens.authenticate(str(power_secret)).role == "resource_power_user"

    # last_used_at: written on first use, then at most once a minute
    first_use = clock.utc_now()
    assert tokens.list()[0].last_used_at == first_use
    clock.advance(30)
    tokens.authenticate(token)
    assert tokens.list()[0].last_used_at == first_use
    clock.advance(31)
    tokens.authenticate(token)
    assert tokens.list()[0].last_used_at == clock.utc_now()

    with pytest.raises(TokenNameTakenError) as taken:
        tokens.create("ci", scope="power_user")
    assert taken.value.code == "token_error-name_taken" and taken.value.status == 409

    revoked = tokens.revoke("ci")
    assert (revoked.id, revoked.status) == (made.id, "revoked")
    with pytest.raises(TokenRevokedError) as refused:
        tokens.authenticate(token)  # at once: the very next request
    assert refused.value.status == 401 and refused.value.params == {"name": "ci"}
    assert tokens.authenticate(str(power_secret)).name == "deploy"  # the other one lives
    assert tokens.revoke("ci").status == "revoked"  # again: as it is
    with pytest.raises(TokenNotFoundError):
        tokens.revoke("nope")

    # a revoked token's name may be used again; both stay listed
    again, again_secret = tokens.create("ci")
    assert again.id != made.id and str(again_secret) != token
    assert [(t.name, t.status) for t in tokens.list()] == [
        ("ci", "revoked"), ("deploy", "active"), ("ci", "active")]
    with pytest.raises(TokenRevokedError):
        tokens.authenticate(token)

    stored = _everything_stored(reg, isolated_env)
    for secret_text in (token, str(power_secret), str(again_secret)):
        assert secret_text.encode() not in stored
        assert secret_text[len(TOKEN_PREFIX) + 8:].encode() not in stored  # nor its rest


@both_backends
def test_bad_names_scopes_and_tokens_are_coded(reg: DefaultAppService) -> None:
    tokens = reg.api_token_service()
    with pytest.raises(TokenBadScopeError):
        tokens.create("x", scope="admin")
    with pytest.raises(TokenBadNameError):
        tokens.create("  ")
    with pytest.raises(TokenBadNameError):
        tokens.create("a\x1b[31mred")
    assert tokens.list() == []
    _, secret = tokens.create("real")
    token = str(secret)
    random = token[len(TOKEN_PREFIX):-6]
    for text in ("", "sk-bodhiapp_", "sk-bodhiapp_nonexistent123", token[:-1], token + "x",
                 "Bearer " + token, token.replace("sk-", "sk_"), token + ".", "x" * 10_000):
        with pytest.raises(TokenMalformedError) as malformed:
            tokens.authenticate(text)
        assert malformed.value.status == 401
    # a well-formed token of the right layout that was never made here
    other = "A" * 43
    with pytest.raises(TokenUnknownError):
        tokens.authenticate(TOKEN_PREFIX + other + token_checksum(other))
    # one of ours with a client id appended: another token (the hash covers it all)
    with pytest.raises(TokenUnknownError):
        tokens.authenticate(token + ".some-client")
    # the same random part with another (valid) checksum cannot exist; a changed character
    # in the random part breaks the checksum
    flipped = ("B" if random[10] != "B" else "C").join((random[:10], random[11:]))
    with pytest.raises(TokenBadChecksumError) as broken:
        tokens.authenticate(TOKEN_PREFIX + flipped + token[-6:])
    assert broken.value.code == "token_error-bad_checksum"
    assert "damaged" in render_error(broken.value, prog="bodhi")


def test_a_lookup_prefix_drawn_twice_is_drawn_again(reg: DefaultAppService,
                                                     clock: FrozenTimeService) -> None:
    from bodhi_nb.errors import ConstraintError

    draws = iter([b"\x01" * 32, b"\x01" * 32, b"\x02" * 32, *[b"\x01" * 32] * 3])
    service = ApiTokenService(reg.db_service().tables.api_tokens, reg.auth_service(), clock,
                              random_bytes=lambda n: next(draws))
    first = service.create("one")[0]
    second = service.create("two")[0]  # its first draw repeats the first token's prefix
    assert first.prefix != second.prefix
    with pytest.raises(ConstraintError):  # a source that keeps repeating: nothing is made
        service.create("three")
    assert [t.name for t in service.list()] == ["one", "two"]


# -- no database read before the checksum holds -----------------------------------------------


class CountingStore:
    """A real store that counts what it is asked to run (every statement and every unit of
    work): proof that a refused token touched nothing."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.calls: list[str] = []

    def execute(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        self.calls.append(sql)
        return self.inner.execute(sql, params)

    def transaction(self) -> AbstractContextManager[Tx]:
        self.calls.append("transaction")
        return self.inner.transaction()

    def cached(self, topic: str, key: Hashable, load: Callable[[], T]) -> T:
        self.calls.append("cached")
        return self.inner.cached(topic, key, load)

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.inner, name)


def test_a_broken_checksum_is_refused_without_a_database_read(
        reg: DefaultAppService, clock: FrozenTimeService) -> None:
    counting = CountingStore(reg.db_service().store)
    service = ApiTokenService(ApiTokensTable(counting), reg.auth_service(), clock)  # type: ignore[arg-type]
    _, secret = service.create("ci")
    token = str(secret)
    random, checksum = token[len(TOKEN_PREFIX):-6], token[-6:]
    broken = [TOKEN_PREFIX + random + ("A" if checksum[0] != "A" else "B") + checksum[1:],
              TOKEN_PREFIX + random[::-1] + checksum,
              TOKEN_PREFIX + random[:-1] + ("x" if random[-1] != "x" else "y") + checksum]
    counting.calls.clear()
    for text in broken:
        with pytest.raises(TokenBadChecksumError):
            service.authenticate(text)
    with pytest.raises(TokenMalformedError):
        service.authenticate("sk-bodhiapp_short")
    assert counting.calls == []
    # the counter does see the reads of a token whose checksum holds
    assert service.authenticate(token).name == "ci"
    assert any("api_tokens" in call for call in counting.calls)


# -- shown once, never again ------------------------------------------------------------------


def test_the_token_is_shown_once_and_never_again(reg: DefaultAppService, isolated_env: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bodhi_nb")
    ctx = Context(prog="%bodhi")
    created = execute(["token", "create", "notebook", "--scope", "power_user"], ctx,
                      lambda: reg)
    text = created.to_text()
    lines = text.splitlines()
    found = [line for line in lines if TOKEN_RE.search(line)]
    assert len(found) == 1 and TOKEN_RE.fullmatch(found[0]), "alone on its line"
    token = found[0]
    assert "shown this once" in text
    bundle = created._repr_mimebundle_()
    assert token in bundle["text/html"] and token in bundle["text/markdown"]

    _, secret = reg.api_token_service().create("second")
    assert repr(secret) == f"ApiTokenSecret({str(secret)[:20]!r}...)"
    assert str(secret) not in repr(secret) and str(secret) not in repr([secret])

    outputs: list[str] = []
    for line in (["token", "ls"], ["token", "ls", "--json"], ["token"],
                 ["token", "revoke", "notebook"], ["token", "create", "notebook"],
                 ["status"]):
        try:
            result = execute(line, ctx, lambda: reg)
        except Exception as exc:  # a coded error's line is an output too
            outputs.append(render_error(exc, prog="%bodhi"))
            continue
        bundle = result._repr_mimebundle_()
        outputs += [result.to_text(), repr(result), str(result.to_json()), *map(str,
                    bundle.values())]
    service = reg.api_token_service()
    outputs += [repr(t) for t in service.list()] + [repr(service), repr(reg)]
    with pytest.raises(TokenRevokedError) as refused:
        service.authenticate(token)
    outputs += [str(refused.value), repr(refused.value), render_error(refused.value,
                                                                       prog="bodhi")]
    shown = "\n".join(outputs)
    assert token[:20] in shown  # the prefix is what they show
    for secret_text in (token, str(secret)):
        assert secret_text not in shown
        assert secret_text[20:] not in shown

    # a log line that ever held a token is masked (bodhi_nb's loggers scrub it)
    get_logger("bodhi_nb.test").warning("a careless line with %s in it", token)
    assert "a careless line" in caplog.text
    assert "created" in caplog.text and token[:20] in caplog.text
    for secret_text in (token, str(secret)):
        assert secret_text not in caplog.text and secret_text[20:40] not in caplog.text
    stored = _everything_stored(reg, isolated_env)
    assert token.encode() not in stored and str(secret).encode() not in stored


# -- acting_as: a token's scope is its role, with authentication off ----------------------------


def _alias(name: str) -> UserAlias:
    return UserAlias(alias=name, repo="acme/tiny", filename="tiny.gguf")


def test_a_user_token_cannot_reach_power_user_actions_with_auth_off(registry: Any) -> None:
    reg: DefaultAppService = registry
    tokens, auth = reg.api_token_service(), reg.auth_service()
    assert auth.enabled is False
    _, user_secret = tokens.create("reader")
    _, power_secret = tokens.create("writer", scope="power_user")
    reader = tokens.authenticate(str(user_secret)).actor()
    writer = tokens.authenticate(str(power_secret)).actor()
    data, downloads = reg.data_service(), reg.download_service()

    with auth.acting_as(reader):
        assert auth.acting() == reader
        assert data.list_aliases().user == []  # models: a user's
        with pytest.raises(AuthInsufficientRoleError) as refused:
            downloads.pull(Repo.parse("owner/missing"), "model.gguf")
        assert refused.value.params == {"needed": "power_user", "have": "user"}
        with pytest.raises(AuthInsufficientRoleError):
            data.create_alias(_alias("by-reader"))
        with pytest.raises(AuthInsufficientRoleError):
            reg.secret_service().store_secret("X", "y")
        # the command layer judges the actor too
        with pytest.raises(AuthInsufficientRoleError):
            execute(["alias", "create", "by-cmd", "--repo", "acme/tiny", "--file", "t.gguf"],
                    Context(prog="bodhi"), lambda: reg)
        # and tokens are managed from a login, never with a token
        with pytest.raises(AuthInsufficientRoleError):
            tokens.create("more")
    assert auth.acting() is None
    assert data.create_alias(_alias("by-me")).alias == "by-me"  # outside: the admin again

    with auth.acting_as(writer):
        assert data.create_alias(_alias("by-writer")).alias == "by-writer"
        with pytest.raises(Exception) as pulled:  # past the gate: the Hub's own answer
            downloads.pull(Repo.parse("owner/missing"), "model.gguf")
        assert not isinstance(pulled.value, AuthError), pulled.value
        with pytest.raises(AuthInsufficientRoleError):  # admin actions stay out of reach
            reg.secret_service().store_secret("X", "y")
        with pytest.raises(TokenSessionOnlyError):
            tokens.create("more", scope="power_user")
        with pytest.raises(TokenSessionOnlyError):
            tokens.list()
    assert [a.alias for a in data.list_aliases().user] == ["by-me", "by-writer"]


def test_acting_as_is_per_thread_and_nests(reg: DefaultAppService) -> None:
    import threading

    auth = reg.auth_service()
    user = Actor("u1", "u1", "resource_user", "token")
    power = Actor("u2", "u2", "resource_power_user", "oidc")
    seen: list[Actor | None] = []
    with auth.acting_as(user):
        worker = threading.Thread(target=lambda: seen.append(auth.acting()))
        worker.start()
        worker.join()
        with auth.acting_as(power):
            auth.require("power_user")
        assert auth.acting() == user
        with pytest.raises(AuthInsufficientRoleError):
            auth.check(Action.PULL)
        auth.check(Action.CHAT)
    assert seen == [None]  # another thread is not acting for this token
    none = Actor("u3", "u3", None, "oidc")
    with auth.acting_as(none), pytest.raises(AuthInsufficientRoleError):
        auth.require("user")


# -- with authentication on (the real OpenID test server) -------------------------------------


def _login(auth: AuthService, server: OidcServer, username: str) -> None:
    pending = auth.begin_login(REDIRECT)
    user = server.user(username)
    final = browser_login(pending.url, user.username, user.password, redirect_uri=REDIRECT)
    auth.finish_login(pending, final)


def test_with_auth_on_tokens_belong_to_their_maker_and_follow_the_roles(
        reg: DefaultAppService, server: OidcServer) -> None:
    from bodhi_nb.services.oidc_client import OidcClient

    auth, setting = reg.auth_service(), reg.setting_service()
    client_id = auth.setup(server.issuer, "Team notebooks", "tests", [REDIRECT])
    setting.set("BODHI_PROFILE", "admin")
    _login(auth, server, "admin")  # the first login: the admin
    admin_token = str(auth.access_token())
    with OidcClient(server.issuer) as oidc:
        oidc.assign_role(admin_token, server.user("bob").id, "resource_user")
        oidc.assign_role(admin_token, server.user("carol").id, "resource_power_user")
    tokens = reg.api_token_service()

    setting.set("BODHI_PROFILE", "bob")
    _login(auth, server, "bob")
    for scope in ("power_user", "user"):  # a user may make no token (policy: power_user)
        with pytest.raises(AuthInsufficientRoleError):
            tokens.create("bobs", scope=scope)
    # the service's own rule, beneath the gate: never a scope above the maker's role
    ungated = ApiTokenService(reg.db_service().tables.api_tokens, auth, reg.time_service())
    with pytest.raises(TokenScopeAboveYoursError) as above:
        ungated.create("bobs", scope="power_user")
    assert above.value.params == {"scope": "power_user", "have": "user"}
    bob_token = str(ungated.create("bobs", scope="user")[1])

    setting.set("BODHI_PROFILE", "carol")
    _login(auth, server, "carol")
    carol_user, user_secret = tokens.create("carol-read")
    _, power_secret = tokens.create("carol-write", scope="power_user")
    assert carol_user.user_id == server.user("carol").id
    assert str(user_secret).endswith("." + client_id)  # BodhiApp's layout, auth on
    assert TOKEN_RE.fullmatch(str(user_secret).rsplit(".", 1)[0])
    assert [t.name for t in tokens.list()] == ["carol-read", "carol-write"]  # hers only
    who = tokens.authenticate(str(user_secret))
    assert (who.user_id, who.role) == (server.user("carol").id, "resource_user")
    assert tokens.authenticate(bob_token).user_id == server.user("bob").id

    setting.set("BODHI_PROFILE", "admin")  # the kernel's login: the admin
    assert [t.name for t in tokens.list()] == []  # not the admin's to see
    with pytest.raises(Exception) as not_theirs:
        tokens.revoke("carol-read")
    assert isinstance(not_theirs.value, TokenNotFoundError)
    data = reg.data_service()
    with auth.acting_as(who.actor()):
        with pytest.raises(AuthInsufficientRoleError):
            data.create_alias(_alias("by-carol-read"))
        assert isinstance(data.list_aliases().user, list)
    with auth.acting_as(tokens.authenticate(str(power_secret)).actor()):
        assert data.create_alias(_alias("by-carol-write")).alias == "by-carol-write"
        with pytest.raises(AuthInsufficientRoleError):  # the admin's login does not leak in
            reg.secret_service().store_secret("X", "y")
    # an access token's user (via oidc) with the user role is refused token management
    with auth.acting_as(Actor(server.user("bob").id, "bob", "resource_user", "oidc")), \
            pytest.raises(AuthInsufficientRoleError):
        tokens.create("via-oidc")

    setting.set("BODHI_PROFILE", "carol")
    tokens.revoke("carol-read")
    with pytest.raises(TokenRevokedError):
        tokens.authenticate(str(user_secret))


def test_a_token_made_with_auth_off_speaks_for_nobody_once_auth_is_on(
        reg: DefaultAppService, server: OidcServer) -> None:
    tokens = reg.api_token_service()
    _, secret = tokens.create("before")
    assert tokens.authenticate(str(secret)).user_id == "local"
    reg.auth_service().setup(server.issuer, "Team notebooks", "tests", [REDIRECT])
    with pytest.raises(TokenUnknownError):
        tokens.authenticate(str(secret))


# -- the front ends ------------------------------------------------------------------------------


def test_the_cli_prints_the_token_alone_on_standard_output(
        subprocess_env: dict[str, str], isolated_env: Path) -> None:
    env = subprocess_env | {"PYTHON_KEYRING_BACKEND": HEADLESS}
    bodhi = [sys.executable, "-m", "bodhi_nb.cli"]
    made = subprocess.run([*bodhi, "token", "create", "ci"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("\n") == 1 and TOKEN_RE.fullmatch(made.stdout.strip())
    token = made.stdout.strip()
    assert "shown this once" in made.stderr and token not in made.stderr
    listed = subprocess.run([*bodhi, "token", "ls"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert listed.returncode == 0 and "ci" in listed.stdout
    assert token[:20] in listed.stdout and token not in listed.stdout + listed.stderr
    twice = subprocess.run([*bodhi, "token", "create", "ci"], env=env, capture_output=True,
                           text=True, timeout=120, check=False)
    assert twice.returncode == 1 and twice.stdout == ""
    assert twice.stderr.startswith("error[token_error-name_taken]")
    files = b"".join(p.read_bytes() for p in isolated_env.rglob("*") if p.is_file())
    assert token.encode() not in files


def test_the_magic_shows_the_token_once_and_keeps_it_out_of_out(
        shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    shown = shell.run_line_magic("bodhi", "token create nb --scope power_user")
    assert shown is None
    out = capsys.readouterr().out
    tokens = [line for line in out.splitlines() if TOKEN_RE.fullmatch(line)]
    assert len(tokens) == 1, out
    token = tokens[0]
    listed = shell.run_line_magic("bodhi", "token ls")
    assert token[:20] in listed.to_text() and token not in listed.to_text()
    kept = shell.run_line_magic("bodhi", "token create nb2 --json")
    assert kept is None  # the JSON holds the token: shown, not kept either
    assert TOKEN_RE.search(capsys.readouterr().out)
    assert token not in repr(shell.user_ns.get("Out", {}))
