"""Access requests (issue 12) against the real OpenID test server (tests/oidc_server) and both
store backends: the table module, the state machine through the service and the CLI, a
hypothesis stateful test of request/approve/reject/re-request/role changes with failing
role assignments, two processes approving the same 50 requests at once (DuckDB and
PostgreSQL), and assign-role failures at the provider (a 500, a hang past the timeout).

A :class:`Deployment` is a BODHI_HOME registered as a client of the module's provider
(roles are per client, so deployments do not see each other's), with a registry in this
process whose profile is switched per user (each user logs in under a profile of their name,
so the CLI picks an identity with ``BODHI_PROFILE``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _secret_support import HEADLESS
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.errors import (
    AccessAlreadyHasAccessError,
    AccessAlreadyPendingError,
    AccessAlreadyProcessedError,
    AccessNotFoundError,
    AuthInsufficientRoleError,
    AuthIssuerNotSetError,
    AuthIssuerUnreachableError,
    AuthLoginRequiredError,
    AuthNotBelowYouError,
    AuthProviderUnavailableError,
    BodhiError,
)
from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus, new_ulid
from bodhi_nb.redact import strip_control
from bodhi_nb.services.access_requests import AccessRequestService
from bodhi_nb.services.auth import Identity
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store.access_requests import AccessRequestsTable
from bodhi_nb.testing.oidc import OidcServer, browser_login
from bodhi_nb.testing.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
BODHI = [sys.executable, "-m", "bodhi_nb.cli"]
WORKER = Path(__file__).with_name("access_worker.py")
REDIRECT = "http://127.0.0.1:8123/callback"
PENDING, APPROVED, REJECTED = (UserAccessRequestStatus.PENDING,
                               UserAccessRequestStatus.APPROVED,
                               UserAccessRequestStatus.REJECTED)
#: the people of the module's provider: two managers and an admin, named users for the
#: workflow tests, s1..s3 for the state machine, c01..c50 for the concurrency test
NAMED = ("admin", "dave", "mike", "carol", "alice", "bob", "erin", "frank", "gina", "hank")
STATEFUL = ("s1", "s2", "s3")
CROWD = tuple(f"c{i:02d}" for i in range(1, 51))
RANK = ("user", "power_user", "manager", "admin")


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcServer]:
    users = tuple((n, n.title(), "Test") for n in (*NAMED, *STATEFUL, *CROWD))
    with OidcServer(usernames=users) as started:
        yield started


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


@dataclass
class Deployment:
    """A BODHI_HOME registered with the provider, its environment, and a registry here."""

    server: OidcServer
    env: dict[str, str]
    home: Path
    registry: DefaultAppService
    outputs: list[str] = field(default_factory=list)

    @classmethod
    def create(cls, server: OidcServer, base: Path, *, database_url: str | None = None,
               auth_timeout: float | None = None) -> Deployment:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BODHI_", "HF_", "JUPYTER", "IPYTHON"))}
        env |= {
            "BODHI_HOME": str(base / "bodhi_home"), "HF_HOME": str(base / "hf_home"),
            "HF_HUB_DISABLE_TELEMETRY": "1", "XDG_CONFIG_HOME": str(base / "xdg"),
            "PYTHON_KEYRING_BACKEND": HEADLESS,
            "BODHI_ENCRYPTION_KEY": "a-test-key-of-twenty-chars-or-more",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                          if p),
            "PYTHONUNBUFFERED": "1",
        }
        if database_url:
            env["BODHI_DATABASE_URL"] = database_url
        if auth_timeout is not None:
            env["BODHI_AUTH_TIMEOUT_SECS"] = str(auth_timeout)
        registry = build_app_service(SettingService(env=env))
        made = cls(server, env, base / "bodhi_home", registry)
        registry.auth_service().setup(server.issuer, "Team notebooks", "tests", [REDIRECT])
        assert made.login("admin").role == "resource_admin"  # the first user
        return made

    def close(self) -> None:
        self.registry.close()

    @property
    def access(self) -> AccessRequestService:
        return self.registry.access_request_service()

    @property
    def table(self) -> AccessRequestsTable:
        return self.registry.db_service().tables.access_requests

    def id(self, name: str) -> str:
        return self.server.user(name).id

    def use(self, name: str) -> None:
        """Act as ``name`` (their profile) from now on."""
        self.registry.setting_service().set("BODHI_PROFILE", name)

    def login(self, name: str) -> Identity:
        self.use(name)
        auth = self.registry.auth_service()
        pending = auth.begin_login(REDIRECT)
        user = self.server.user(name)
        final = browser_login(pending.url, user.username, user.password, redirect_uri=REDIRECT)
        return auth.finish_login(pending, final)

    def give(self, name: str, role: str) -> None:
        """``name`` gets ``role`` from the admin (their sessions are cleared)."""
        self.use("admin")
        self.registry.auth_service().set_role(self.id(name), role)

    def provider_role(self, name: str) -> str | None:
        """``name``'s role at the provider for this deployment's client (read as admin)."""
        self.use("admin")
        auth = self.registry.auth_service()
        found = auth.oidc().get_user(str.__str__(auth.access_token()), self.id(name))
        assert found is not None
        return found.role

    def cli(self, *args: str, profile: str | None = None) -> subprocess.CompletedProcess[str]:
        env = dict(self.env)
        if profile is not None:
            env["BODHI_PROFILE"] = profile
        done = subprocess.run([*BODHI, *args], env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        self.outputs += [done.stdout, done.stderr]
        return done


def _code(stderr: str) -> str | None:
    match = re.search(r"error\[([a-z_]+-[a-z_]+)\]", stderr)
    return match.group(1) if match else None


def _one_coded_line(stderr: str, code: str) -> None:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error[{code}]: "), stderr
    assert "Traceback" not in stderr


# -- the table module, on both backends -----------------------------------------------------


def _row(user: str, when: datetime, reason: str | None = None) -> UserAccessRequest:
    return UserAccessRequest(id=new_ulid(when), username=user, user_id=f"id-{user}",
                             status=PENDING, created_at=when, updated_at=when, reason=reason)


@pytest.fixture
def table(db_url: str | None, tmp_path: Path) -> Iterator[AccessRequestsTable]:
    from bodhi_nb.store import Tables, open_store

    store = open_store(db_url or "", tmp_path / "store_home", DefaultTimeService())
    yield Tables.on(store).access_requests
    store.close()


T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_the_table_keeps_one_pending_request_per_user(table: AccessRequestsTable) -> None:
    first = _row("ann", T0, "to run notebooks")
    assert table.insert_pending(first) is None
    again = table.insert_pending(_row("ann", T0 + timedelta(seconds=5)))
    assert again == first  # the existing one, nothing written
    assert table.count() == 1
    assert table.get(first.id) == first
    assert table.latest_for("id-ann") == first
    assert table.get("nope") is None and table.latest_for("id-nobody") is None


def test_the_table_lists_pages_filters_and_counts(table: AccessRequestsTable) -> None:
    rows = [_row(f"user{i}", T0 + timedelta(seconds=i), reason)
            for i, reason in enumerate(("Needs GPU", "100%_sure", None, "needs gpu too",
                                        "other"))]
    for r in rows:
        assert table.insert_pending(r) is None
    assert [r.id for r in table.list(PENDING)] == [r.id for r in rows]  # oldest first
    assert [r.id for r in table.list(PENDING, offset=1, limit=2)] == [rows[1].id, rows[2].id]
    assert [r.id for r in table.list(PENDING, query="GPU")] == [rows[0].id, rows[3].id]
    assert [r.id for r in table.list(query="%_")] == [rows[1].id]  # no LIKE wildcards
    assert [r.id for r in table.list(query="USER4")] == [rows[4].id]  # usernames too
    assert table.count(PENDING, query="gpu") == 2 and table.count(APPROVED) == 0

    before = table.version()
    now = T0 + timedelta(minutes=5)
    stale = now - timedelta(seconds=60)
    assert table.claim(rows[3].id, "c1", now, stale)
    assert table.version() == before  # a claim is not a change anyone sees
    approved = table.approve(rows[3].id, "c1", "resource_user", "dave", now)
    assert approved is not None and approved.status is APPROVED
    assert (approved.role, approved.reviewer, approved.updated_at) == ("resource_user", "dave",
                                                                       now)
    after_approve = table.version()
    assert after_approve != before
    rejected = table.reject(rows[1].id, "dave", "not now", now + timedelta(seconds=1), stale)
    assert rejected is not None and (rejected.status, rejected.review_note) == (REJECTED,
                                                                                "not now")
    assert table.version() not in (before, after_approve)
    # the others: newest change first
    assert [r.id for r in table.list()][:2] == [rows[1].id, rows[3].id]
    assert [r.id for r in table.list(REJECTED)] == [rows[1].id]
    assert table.counts() == {PENDING: 3, APPROVED: 1, REJECTED: 1}
    assert table.ids_matching(rows[2].id[-6:].lower()) == [rows[2].id]
    assert table.ids_matching(rows[2].id) == [rows[2].id]
    assert table.ids_matching("") == []


def test_a_claim_has_one_winner_until_released_or_stale(table: AccessRequestsTable) -> None:
    row = _row("ann", T0)
    table.insert_pending(row)
    now = T0 + timedelta(minutes=1)
    stale = now - timedelta(seconds=60)
    assert table.claim(row.id, "first", now, stale)
    assert not table.claim(row.id, "second", now, stale)  # held
    assert table.reject(row.id, "dave", None, now, stale) is None  # held: not rejected
    assert table.approve(row.id, "second", "resource_user", "mike", now) is None  # not theirs
    table.release(row.id, "first")
    assert table.get(row.id) == row  # pending, untouched
    assert table.claim(row.id, "second", now, stale)
    # "second" crashed: a minute later its claim is stale and may be taken over
    later = now + timedelta(seconds=61)
    assert table.claim(row.id, "third", later, later - timedelta(seconds=60))
    assert table.approve(row.id, "second", "resource_user", "mike", later) is None
    done = table.approve(row.id, "third", "resource_power_user", "dave", later)
    assert done is not None and done.role == "resource_power_user"
    assert not table.claim(row.id, "fourth", later, later)  # approved: nothing to claim
    assert table.reject(row.id, "dave", None, later, later) is None
    assert table.claimed([row.id]) == {row.id: None}


# -- the workflow: service and CLI on one deployment ---------------------------------------


@pytest.fixture(scope="module")
def team(provider: OidcServer, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Deployment]:
    made = Deployment.create(provider, tmp_path_factory.mktemp("team"))
    for name, role in (("dave", "manager"), ("mike", "manager"), ("carol", "power_user"),
                       ("bob", "user")):
        made.give(name, role)
    for name in ("dave", "mike", "carol", "alice", "bob", "erin", "frank", "gina", "hank"):
        made.login(name)
    yield made
    made.close()


def test_requesting_access_through_the_cli(team: Deployment) -> None:
    none_yet = team.cli("access", "status", profile="alice")
    assert none_yet.returncode == 0, none_yet.stderr
    assert "You have not asked for access" in none_yet.stdout
    asked = team.cli("access", "request", "--reason", "notebooks for the course",
                     profile="alice")
    assert asked.returncode == 0, asked.stderr
    assert "Access requested" in asked.stdout
    twice = team.cli("access", "request", profile="alice")
    assert twice.returncode == 1
    _one_coded_line(twice.stderr, "access_error-already_pending")
    status = team.cli("access", "status", "--json", profile="alice")
    record = json.loads(status.stdout)
    assert (record["status"], record["username"], record["reason"]) == (
        "pending", "alice", "notebooks for the course")
    assert record["user_id"] == team.id("alice")

    has_role = team.cli("access", "request", profile="bob")
    assert has_role.returncode == 1
    _one_coded_line(has_role.stderr, "access_error-already_has_access")
    assert "user" in has_role.stderr
    nobody = team.cli("access", "request", profile="nobody")
    _one_coded_line(nobody.stderr, "auth_error-login_required")
    too_low = team.cli("access", "ls", profile="carol")
    _one_coded_line(too_low.stderr, "auth_error-insufficient_role")
    assert "manager" in too_low.stderr


def test_approving_through_the_cli_gives_the_role_in_the_next_token(team: Deployment) -> None:
    team.use("frank")
    asked = team.access.request("I run the evaluation jobs")
    listed = team.cli("access", "ls", "--status", "pending", "--json", profile="dave")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert isinstance(records, list) and records
    for record in records:
        assert set(record) == {"id", "user_id", "username", "status", "reason", "role",
                               "reviewer", "review_note", "created_at", "updated_at"}
        assert record["status"] == "pending"
    mine = next(r for r in records if r["id"] == asked.id)
    assert (mine["username"], mine["user_id"], mine["role"], mine["reviewer"]) == (
        "frank", team.id("frank"), None, None)
    assert mine["created_at"].endswith("Z")

    above = team.cli("access", "approve", asked.id, "--role", "admin", profile="dave")
    _one_coded_line(above.stderr, "auth_error-insufficient_role")
    assert "admin" in above.stderr
    assert team.table.get(asked.id) == asked  # refused before anything changed
    assert team.provider_role("frank") is None

    approved = team.cli("access", "approve", asked.id[-8:], "--role", "power_user",
                        profile="dave")
    assert approved.returncode == 0, approved.stderr
    assert "with the role power_user" in approved.stdout
    row = team.table.get(asked.id)
    assert row is not None and (row.status, row.role, row.reviewer) == (
        APPROVED, "resource_power_user", "dave")
    assert team.provider_role("frank") == "resource_power_user"
    # frank's sessions were cleared: his next command asks him to log in, then has the role
    gone = team.cli("whoami", profile="frank")
    _one_coded_line(gone.stderr, "auth_error-login_required")
    assert team.login("frank").role == "resource_power_user"
    status = team.cli("access", "status", profile="frank")
    assert "approved by dave" in status.stdout and "your role is power_user" in status.stdout
    again = team.cli("access", "approve", asked.id, "--role", "user", profile="mike")
    _one_coded_line(again.stderr, "access_error-already_processed")
    not_found = team.cli("access", "reject", "ZZZZZZZZ", profile="dave")
    _one_coded_line(not_found.stderr, "access_error-not_found")


def test_rejecting_with_a_reason_then_asking_again(team: Deployment) -> None:
    team.use("erin")
    hostile = "let me in \x1b[31mNOW\x1b[0m <img src=x onerror=alert(1)>\rX"
    asked = team.access.request(hostile)
    shown = team.cli("access", "ls", profile="dave")
    assert "\x1b" not in shown.stdout and "\r" not in shown.stdout
    assert "let me in [31mNOW[0m" not in shown.stdout  # the escape dropped whole
    assert asked.id[-8:] in shown.stdout
    html = team.cli("access", "ls", "--status", "pending", profile="dave")
    assert html.returncode == 0
    team.use("dave")
    from bodhi_nb.commands import Context, execute

    rendered = execute(["access", "ls"], Context(prog="%bodhi"), lambda: team.registry)
    assert "<img" not in rendered.to_html() and "&lt;img src=x" in rendered.to_html()

    rejected = team.cli("access", "reject", asked.id, "--reason", "ask your lead first",
                        profile="dave")
    assert rejected.returncode == 0, rejected.stderr
    row = team.table.get(asked.id)
    assert row is not None and (row.status, row.review_note, row.reviewer, row.role) == (
        REJECTED, "ask your lead first", "dave", None)
    status = team.cli("access", "status", profile="erin")
    assert "rejected by dave" in status.stdout and "Reason: ask your lead first" in status.stdout
    for verb in (("reject", asked.id), ("approve", asked.id, "--role", "user")):
        late = team.cli("access", *verb, profile="mike")
        _one_coded_line(late.stderr, "access_error-already_processed")
        assert "rejected" in late.stderr
    team.use("erin")
    second = team.access.request("my lead agreed")  # asking again after a rejection
    assert second.id != asked.id and second.status is PENDING
    assert team.access.status() == second
    assert team.provider_role("erin") is None


def test_the_service_gates_python_callers_like_the_commands(team: Deployment) -> None:
    team.use("carol")
    for call in (lambda: team.access.list(), team.access.counts, team.access.version,
                 lambda: team.access.reject("x"), lambda: team.access.approve("x", "user")):
        with pytest.raises(AuthInsufficientRoleError):
            call()
    assert team.access.assignable_roles() == ["user", "power_user"]
    team.use("nobody")
    with pytest.raises(AuthLoginRequiredError):
        team.access.status()
    team.use("gina")
    asked = team.access.request()
    assert team.access.get(asked.id) == asked  # one's own
    team.use("hank")
    with pytest.raises(AccessNotFoundError):
        team.access.get(asked.id)  # somebody else's: not for a user without a role
    team.use("dave")
    assert team.access.assignable_roles() == ["user", "power_user", "manager"]
    assert team.access.get(asked.id) == asked
    counts = team.access.counts()
    assert counts[PENDING] == team.access.count(PENDING) >= 1
    assert sum(counts.values()) == team.access.count()
    with pytest.raises(AuthInsufficientRoleError) as refused:
        team.access.approve(asked.id, "resource_admin")
    assert refused.value.params == {"needed": "admin", "have": "manager"}


def test_auth_off_is_refused_with_its_code() -> None:
    registry = build_app_service(SettingService())
    try:
        with pytest.raises(AuthIssuerNotSetError):
            registry.access_request_service().request()
        with pytest.raises(AuthIssuerNotSetError):
            registry.access_request_service().list()
    finally:
        registry.close()


# -- the provider failing on assign-role -----------------------------------------------------


@pytest.fixture(scope="module")
def fragile(provider: OidcServer, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Deployment]:
    """A deployment whose provider calls time out after 1.5 s."""
    made = Deployment.create(provider, tmp_path_factory.mktemp("fragile"), auth_timeout=1.5)
    made.give("dave", "manager")
    for name in ("dave", "alice", "bob"):
        made.login(name)
    yield made
    made.close()


@pytest.mark.parametrize(("status", "delay", "code"), [
    (500, 0.0, "auth_error-provider_unavailable"),
    (500, 4.0, "auth_error-issuer_unreachable"),  # a hang: the client gives up at 1.5 s
], ids=["500", "timeout"])
def test_a_failed_assignment_leaves_the_request_pending_and_a_retry_works(
        fragile: Deployment, status: int, delay: float, code: str) -> None:
    name = "alice" if delay == 0 else "bob"
    fragile.use(name)
    asked = fragile.access.request()
    fragile.server.fail_assign(1, status=status, delay=delay)
    failed = fragile.cli("access", "approve", asked.id, "--role", "user", profile="dave")
    assert failed.returncode == 1
    _one_coded_line(failed.stderr, code)
    assert fragile.table.get(asked.id) == asked  # pending, no reviewer, no role
    assert fragile.table.claimed([asked.id]) == {asked.id: None}  # the claim was released
    assert fragile.provider_role(name) is None
    # the same through the service, for the exception's type
    fragile.server.fail_assign(1, status=status, delay=delay)
    fragile.use("dave")
    expected = AuthProviderUnavailableError if delay == 0 else AuthIssuerUnreachableError
    with pytest.raises(expected):
        fragile.access.approve(asked.id, "user")
    assert fragile.table.get(asked.id) == asked
    retried = fragile.cli("access", "approve", asked.id, "--role", "user", profile="dave")
    assert retried.returncode == 0, retried.stderr
    row = fragile.table.get(asked.id)
    assert row is not None and (row.status, row.role) == (APPROVED, "resource_user")
    assert fragile.provider_role(name) == "resource_user"


def test_a_stale_claim_is_taken_over_and_a_live_one_is_not(fragile: Deployment) -> None:
    fragile.login("erin")
    asked = fragile.access.request("stale claim")
    now = datetime.now(UTC).replace(microsecond=0)
    # another approver holds the row right now: approve and reject both refuse
    assert fragile.table.claim(asked.id, "someone-else", now, now - timedelta(seconds=60))
    fragile.use("dave")
    with pytest.raises(AccessAlreadyProcessedError) as held:
        fragile.access.approve(asked.id, "user")
    assert held.value.params["status"] == "pending"
    with pytest.raises(AccessAlreadyProcessedError):
        fragile.access.reject(asked.id)
    fragile.table.release(asked.id, "someone-else")
    # an approver that crashed two minutes ago: its claim is taken over
    old = now - timedelta(minutes=2)
    assert fragile.table.claim(asked.id, "crashed", old, old - timedelta(seconds=60))
    done = fragile.access.approve(asked.id, "user")
    assert (done.status, done.role, done.reviewer) == (APPROVED, "resource_user", "dave")


# -- two processes approving the same 50 requests at once ------------------------------------


def _race(dep: Deployment, tmp: Path, before: dict[str, int]) -> None:
    """Two worker processes (managers dave and mike) approve the same 50 requests, in the
    same order, released at the same moment."""
    # The 50 requests are written through the table (no login needed to be asked for):
    # what is raced is the approval.
    now = datetime.now(UTC).replace(microsecond=0)
    ids = []
    for name in CROWD:
        row = UserAccessRequest(id=new_ulid(now), username=name, user_id=dep.id(name),
                                status=PENDING, created_at=now, updated_at=now)
        assert dep.table.insert_pending(row) is None
        ids.append(row.id)
    dep.registry.db_service().store.close()  # hand DuckDB to the workers
    ids_file, go = tmp / "ids.json", tmp / "go"
    ids_file.write_text(json.dumps(ids))
    procs = {}
    for who in ("dave", "mike"):
        env = dict(dep.env) | {"BODHI_PROFILE": who}
        procs[who] = subprocess.Popen(
            [sys.executable, str(WORKER), str(ids_file), str(go), "user"], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for who, proc in procs.items():
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.strip() == "READY", (who, line, proc.stderr and proc.stderr.read())
        go.touch()
        results = {}
        for who, proc in procs.items():
            out, err = proc.communicate(timeout=150)
            assert proc.returncode == 0, err
            results[who] = json.loads(out.strip().splitlines()[-1])
    finally:
        for proc in procs.values():
            with suppress(ProcessLookupError):
                proc.kill()
    losers = 0
    for request_id in ids:
        outcomes = sorted(results[w][request_id] for w in ("dave", "mike"))
        assert outcomes == ["access_error-already_processed", "ok"], (request_id, outcomes)
        losers += 1
    assert losers == len(ids)
    wins = {w: sum(v == "ok" for v in results[w].values()) for w in results}
    assert sum(wins.values()) == len(ids)
    rows = {r.id: r for r in dep.table.list(APPROVED, limit=100)}
    assert set(rows) == set(ids)
    for request_id in ids:
        winner = next(w for w in results if results[w][request_id] == "ok")
        assert (rows[request_id].reviewer, rows[request_id].role) == (winner, "resource_user")
    calls = dep.server.assign_calls()
    client_calls = {name: calls.get(dep.id(name), 0) - before.get(dep.id(name), 0)
                    for name in CROWD}
    # one assignment per user at the provider: the race's losers never reached it
    assert set(client_calls.values()) == {1}, client_calls
    print(f"race on {dep.registry.db_service().store.backend}: wins {wins}, losers {losers}")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_two_processes_approving_the_same_50_requests(
        provider: OidcServer, tmp_path: Path, request: pytest.FixtureRequest,
        backend: str) -> None:
    url, postgres, database = None, None, ""
    if backend == "postgresql":
        postgres = request.getfixturevalue("postgres")
        assert isinstance(postgres, PostgresServer)
        database = f"race_{uuid.uuid4().hex[:12]}"
        postgres.create_database(database)
        url = postgres.url(database)
    dep = Deployment.create(provider, tmp_path, database_url=url)
    try:
        for name in ("dave", "mike"):
            dep.give(name, "manager")
            dep.login(name)
        # the provider counts assignments per user over every client: this race's only
        _race(dep, tmp_path, provider.assign_calls())
    finally:
        dep.close()
        if postgres is not None:
            postgres.drop_database(database)


# -- the state machine, against the real provider ---------------------------------------------


class AccessMachine(RuleBasedStateMachine):
    """Requests, approvals (some failing at the provider), rejections, re-requests and role
    changes by the admin, checked against a model after every step."""

    server: OidcServer
    base: Path
    #: what the examples did, over the whole run (each kind must have happened)
    seen: Counter[str] = Counter()

    def __init__(self) -> None:
        super().__init__()
        self.dep = Deployment.create(self.server, Path(tempfile.mkdtemp(dir=self.base)))
        self.dep.give("dave", "manager")
        self.dep.login("dave")
        #: each requester's role at the provider, and the role in their session (None:
        #: logged out, "" when logged in with no role); they log in when they first ask
        self.role: dict[str, str | None] = dict.fromkeys(STATEFUL)
        self.session: dict[str, str | None] = dict.fromkeys(STATEFUL)
        self.status: dict[str, UserAccessRequestStatus] = {}
        self.owner: dict[str, str] = {}
        self.approved_role: dict[str, str] = {}

    def teardown(self) -> None:
        self.dep.close()

    def _pick(self, index: int, pending: bool) -> str:
        """A request: among the pending ones (when ``pending`` and there are some), else
        among all."""
        ids = sorted(i for i in self.owner if self.status[i] is PENDING) if pending else []
        ids = ids or sorted(self.owner)
        return ids[index % len(ids)]

    def _rejected_last(self) -> list[str]:
        """Requesters whose newest request was rejected."""
        newest = {self.owner[i]: i for i in sorted(self.owner)}
        return [n for n, i in sorted(newest.items()) if self.status[i] is REJECTED]

    @precondition(lambda self: bool(self._rejected_last()))
    @rule(index=st.integers(0, 5), reason=st.one_of(st.none(), st.text(max_size=30)))
    def ask_again(self, index: int, reason: str | None) -> None:
        """Someone rejected logs in and asks again."""
        names = self._rejected_last()
        self.request(names[index % len(names)], reason, log_in=True)

    def _pending_of(self, name: str) -> list[str]:
        return [i for i, o in self.owner.items() if o == name and self.status[i] is PENDING]

    @rule(name=st.sampled_from(STATEFUL), reason=st.one_of(st.none(), st.text(max_size=30)),
          log_in=st.booleans())
    def request(self, name: str, reason: str | None, log_in: bool) -> None:
        """``name`` asks for access (logging in first, when ``log_in``)."""
        if log_in:
            identity = self.dep.login(name)
            assert identity.role == self.role[name]  # the provider's role, in the new token
            self.session[name] = identity.role or ""
        self.dep.use(name)
        try:
            made = self.dep.access.request(reason)
        except BodhiError as exc:
            if self.session[name] is None:
                assert isinstance(exc, AuthLoginRequiredError)
            elif self.session[name]:
                assert isinstance(exc, AccessAlreadyHasAccessError)
            else:
                assert isinstance(exc, AccessAlreadyPendingError)
                assert exc.params["id"] in self._pending_of(name)
            return
        assert self.session[name] == "" and not self._pending_of(name)
        if any(self.owner[i] == name for i in self.status):
            self.seen["asked again"] += 1
        self.status[made.id], self.owner[made.id] = PENDING, name
        self.seen["requested"] += 1

    @precondition(lambda self: bool(self.owner))
    @rule(approver=st.sampled_from(("admin", "dave")), index=st.integers(0, 50),
          pending=st.booleans(), role=st.sampled_from(RANK))
    def approve(self, approver: str, index: int, pending: bool, role: str) -> None:
        self._approve(approver, self._pick(index, pending), role, fail=False)

    @precondition(lambda self: any(v is PENDING for v in self.status.values()))
    @rule(index=st.integers(0, 50))
    def approve_failing(self, index: int) -> None:
        """The provider answers 500 to the assignment: nothing may be recorded."""
        self._approve("admin", self._pick(index, True), "user", fail=True)

    def _approve(self, approver: str, request_id: str, role: str, *, fail: bool) -> None:
        name = self.owner[request_id]
        mine = "admin" if approver == "admin" else "manager"
        present = self.role[name]
        if fail:
            self.dep.server.fail_assign(1, status=500)
        self.dep.use(approver)
        try:
            done = self.dep.access.approve(request_id, role)
        except BodhiError as exc:
            if RANK.index(role) > RANK.index(mine):
                assert isinstance(exc, AuthInsufficientRoleError)
            elif self.status[request_id] is not PENDING:
                assert isinstance(exc, AccessAlreadyProcessedError)
            elif present is not None and RANK.index(present.removeprefix("resource_")) >= \
                    RANK.index(mine):
                assert isinstance(exc, AuthNotBelowYouError)
            else:
                assert fail and isinstance(exc, AuthProviderUnavailableError), exc
                self.seen["assignment failed"] += 1
            row = self.dep.table.get(request_id)
            assert row is not None and row.status is self.status[request_id]
            return
        finally:
            self.dep.server.fail_assign(0)
        assert not fail and self.status[request_id] is PENDING
        assert (done.status, done.role, done.reviewer) == (APPROVED, f"resource_{role}",
                                                           approver)
        self.status[request_id] = APPROVED
        self.approved_role[request_id] = done.role or ""
        self.role[name] = f"resource_{role}"
        self.session[name] = None  # their sessions were cleared
        self.seen["approved"] += 1

    @precondition(lambda self: bool(self.owner))
    @rule(approver=st.sampled_from(("admin", "dave")), index=st.integers(0, 50),
          pending=st.booleans(), note=st.one_of(st.none(), st.text(max_size=20)))
    def reject(self, approver: str, index: int, pending: bool, note: str | None) -> None:
        request_id = self._pick(index, pending)
        self.dep.use(approver)
        try:
            done = self.dep.access.reject(request_id, note)
        except AccessAlreadyProcessedError:
            assert self.status[request_id] is not PENDING
            return
        assert self.status[request_id] is PENDING
        assert (done.status, done.role, done.review_note) == (
            REJECTED, None, strip_control(note or "").strip() or None)
        self.status[request_id] = REJECTED
        self.seen["rejected"] += 1

    @rule(name=st.sampled_from(STATEFUL), role=st.sampled_from((None, "user", "power_user")),
          now=st.booleans())
    def change_role(self, name: str, role: str | None, now: bool) -> None:
        """The admin changes a requester's role, or takes it away (then they may ask
        again); either way their sessions are cleared. (Only when ``now``: half as often
        as the other steps, which it would otherwise crowd out.)"""
        if not now:
            return
        self.dep.use("admin")
        auth = self.dep.registry.auth_service()
        if self.role[name] == "resource_admin":  # approved as admin: the admin's peer now
            with pytest.raises(AuthNotBelowYouError):
                auth.set_role(self.dep.id(name), role or "user")
            return
        if role is None:
            if self.role[name] is None:
                return
            auth.remove_user(self.dep.id(name))
            self.role[name] = None
        else:
            auth.set_role(self.dep.id(name), role)
            self.role[name] = f"resource_{role}"
        self.session[name] = None
        self.seen["role changed"] += 1

    @invariant()
    def rows_match_the_model(self) -> None:
        self.dep.use("admin")
        rows = {r.id: r for r in self.dep.access.list(limit=1000)}
        assert set(rows) == set(self.status)
        for request_id, row in rows.items():
            assert row.status is self.status[request_id]
            if row.status is APPROVED:  # approved: a role, no rejection note
                assert row.role == self.approved_role[request_id] and row.review_note is None
            elif row.status is REJECTED:  # rejected: never a role
                assert row.role is None and row.reviewer is not None
            else:
                assert row.role is None and row.reviewer is None and row.review_note is None
        for name in STATEFUL:
            assert len(self._pending_of(name)) <= 1
        counts = self.dep.access.counts()
        assert counts == {s: sum(v is s for v in self.status.values())
                          for s in UserAccessRequestStatus}

    @invariant()
    def the_provider_holds_the_model_roles(self) -> None:
        # An approved user holds exactly the approved role (until the admin changes it);
        # a failed approval changed nothing at the provider.
        for name in STATEFUL:
            assert self.dep.provider_role(name) == self.role[name], name


def test_the_state_machine(provider: OidcServer, tmp_path: Path) -> None:
    AccessMachine.server = provider
    AccessMachine.base = tmp_path
    AccessMachine.seen = Counter()
    run_state_machine_as_test(AccessMachine, settings=settings(
        max_examples=12, stateful_step_count=15, deadline=None, database=None,
        derandomize=True,  # the same walks every run: the coverage check below is stable
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    # the run went through every transition, failures at the provider included
    kinds = ("requested", "asked again", "approved", "rejected", "assignment failed",
             "role changed")
    assert all(AccessMachine.seen[k] for k in kinds), AccessMachine.seen
    print(f"state machine: {dict(AccessMachine.seen)}")
