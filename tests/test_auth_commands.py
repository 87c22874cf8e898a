"""Identity end to end, through the ``bodhi`` CLI and the ``%bodhi`` magic, against the real
OpenID test server (tests/oidc_server): ``auth setup``, the first login made admin, device
logins (approved, denied, expired, slowed down), the PKCE loopback login with a browser
played over HTTP, ``whoami``, ``logout``, ``users`` with the hierarchy rules, the gating
table (every gated command x no login, too low a role, enough) in both front ends, and a
leak scan of every output, log and the database at the end.

One deployment (a BODHI_HOME registered as a client) serves the module; each user logs in
under a profile of their name, so the CLI picks an identity with ``BODHI_PROFILE``.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _secret_support import HEADLESS

from bodhi_nb.app import build_app_service, reset_apps
from bodhi_nb.services.auth import CLIENT_SECRET_NAME
from bodhi_nb.services.oidc_client import OidcClient
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.hub_faults import FaultyHubServer
from bodhi_nb.testing.oidc import OidcServer, approve_device

ROOT = Path(__file__).resolve().parents[1]
BODHI = [sys.executable, "-m", "bodhi_nb.cli"]
USERS = (("admin", "Ada", "Admin"), ("alice", "Alice", "Liddell"), ("bob", "Bob", "Builder"),
         ("carol", "Carol", "Danvers"), ("dave", "Dave", "Manager"),
         ("erin", "Erin", "Newcomer"), ("frank", "Frank", "Logout"))
#: each user's role in the deployment once the module's fixture has set them up
ROLE_OF = {"admin": "admin", "alice": None, "bob": "user", "carol": "power_user",
           "dave": "manager"}
#: for a needed role: who has too low a role, and who has just enough
LOW_AND_ENOUGH = {"user": ("alice", "bob"), "power_user": ("bob", "carol"),
                  "manager": ("carol", "dave"), "admin": ("dave", "admin")}

#: every gated command, the role it needs, and a form of it that, once past the gate, ends
#: at once (success, or its own non-auth error) without changing the deployment
GATED: tuple[tuple[str, str], ...] = (
    ("chat no-such-alias hello", "user"),
    ("ls", "user"),
    ("history", "user"),
    ("alias ls", "user"),
    ("pull owner/missing model.gguf", "power_user"),
    ("rm owner/missing -y", "power_user"),
    ("alias create gated-x --repo owner/repo --file model.gguf", "power_user"),
    ("downloads", "power_user"),
    ("api test no-such-api", "power_user"),
    ("users", "manager"),
    ("api rm no-such-api", "admin"),
    ("secret ls", "admin"),
    ("secret set GATED_SECRET", "admin"),
    ("settings BODHI_KEEP_ALIVE_SECS 600", "admin"),
    ("auth setup --issuer http://127.0.0.1:9 --name Elsewhere", "admin"),
)


@pytest.fixture(scope="module")
def server() -> Iterator[OidcServer]:
    with OidcServer(usernames=USERS) as started:
        yield started


@dataclass
class Team:
    """The module's deployment: its environment, and everything its commands printed."""

    server: OidcServer
    env: dict[str, str]
    home: Path
    outputs: list[str] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)

    def run_env(self, profile: str | None, extra: dict[str, str] | None = None
                ) -> dict[str, str]:
        env = dict(self.env)
        if profile is not None:
            env["BODHI_PROFILE"] = profile
        return env | (extra or {})

    def cli(self, *args: str, profile: str | None = None, stdin: str = "",
            extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*BODHI, *args], env=self.run_env(profile, extra),
                              input=stdin, capture_output=True, text=True, timeout=120,
                              check=False)
        self.outputs += [done.stdout, done.stderr]
        return done

    def device_login(self, username: str, *, profile: str | None = None,
                     approve: bool = True, expire: bool = False,
                     slow_down: int = 0) -> subprocess.CompletedProcess[str]:
        """``bodhi login --device`` as ``username``: the code is read from the lines the
        command prints (at once, before it waits), then approved or denied on the
        provider's device page, or expired."""
        proc = subprocess.Popen([*BODHI, "login", "--device"],
                                env=self.run_env(profile or username),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        # A thread reads the lines (select() on a buffered pipe misses lines already read
        # into the buffer); the code is taken from the first line that holds one.
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()],
                                  daemon=True)
        reader.start()
        seen: list[str] = []
        code = None
        deadline = time.monotonic() + 60
        while code is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                if proc.poll() is not None and lines.empty():
                    break
                continue
            seen.append(line)
            match = re.search(r"code: (\S+)", line)
            code = match.group(1) if match else None
        if code is None:
            proc.kill()
            proc.communicate()
            proc.stdout.close()
            proc.stderr and proc.stderr.close()
        assert code is not None, f"no code printed: {seen!r}"
        if slow_down:
            self.server.slow_down(slow_down)
        if expire:
            self.server.expire_device_code(code)
        else:
            user = self.server.user(username)
            approve_device(self.server.issuer, code, user.username, user.password,
                           approve=approve)
        assert proc.stderr is not None
        with proc:  # closes both pipes
            err = proc.stderr.read()
            proc.wait(timeout=90)
            reader.join(10)
        while not lines.empty():
            seen.append(lines.get())
        done = subprocess.CompletedProcess(proc.args, proc.returncode, "".join(seen), err)
        self.outputs += [done.stdout, done.stderr]
        return done


@pytest.fixture(scope="module")
def team(server: OidcServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("team")
    hub_root = base / "hub_root"
    hub_root.mkdir()
    with FaultyHubServer(hub_root) as hub:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("BODHI_", "HF_", "JUPYTER", "IPYTHON"))}
        env |= {
            "BODHI_HOME": str(base / "bodhi_home"), "HF_HOME": str(base / "hf_home"),
            "HF_ENDPOINT": hub.endpoint, "HF_HUB_DISABLE_TELEMETRY": "1",
            "XDG_CONFIG_HOME": str(base / "xdg"), "PYTHON_KEYRING_BACKEND": HEADLESS,
            "BODHI_ENCRYPTION_KEY": "a-test-key-of-twenty-chars-or-more",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH"))
                                          if p),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("BROWSER", None)
        made = Team(server, env, base / "bodhi_home")
        setup = made.cli("auth", "setup", "--issuer", server.issuer, "--name", "Team notebooks",
                         "--description", "tests")
        assert setup.returncode == 0, setup.stderr
        first = made.device_login("admin")
        assert first.returncode == 0, first.stderr
        assert "Logged in as admin (role: admin)" in first.stdout
        for name in ("alice", "bob", "carol", "dave", "erin", "frank"):
            made.ids[name] = server.user(name).id
        made.ids["admin"] = server.user("admin").id
        for name, role in ROLE_OF.items():
            if name != "admin" and role is not None:
                given = made.cli("users", "set-role", made.ids[name], role, profile="admin")
                assert given.returncode == 0, given.stderr
        for name in ("alice", "bob", "carol", "dave", "erin"):
            done = made.device_login(name)
            assert done.returncode == 0, done.stderr
        yield made


GATE_CODES = ("auth_error-login_required", "auth_error-insufficient_role")


def _gate_code(stderr: str) -> str | None:
    """The gate's refusal in an error line, if it is one."""
    code = _auth_code(stderr)
    return code if code in GATE_CODES else None


def _auth_code(stderr: str) -> str | None:
    match = re.search(r"error\[(auth_error-[a-z_]+)\]", stderr)
    return match.group(1) if match else None


# -- setup, first login, whoami, status -------------------------------------------------------


def test_setup_saved_the_issuer_and_the_first_user_is_admin(team: Team) -> None:
    settings = (team.home / "settings.yaml").read_text()
    assert team.server.issuer in settings
    who = team.cli("whoami", "--json", profile="admin")
    assert who.returncode == 0, who.stderr
    items = {row["item"]: row["value"] for row in json.loads(who.stdout)}
    assert (items["username"], items["role"], items["profile"]) == ("admin", "admin", "admin")
    assert items["user_id"] == team.ids["admin"]
    assert items["issuer"] == team.server.issuer
    status = team.cli("status", profile="carol")
    assert "carol (power_user, profile carol)" in status.stdout
    nobody = team.cli("status", profile="nobody")
    assert "nobody (`bodhi login`)" in nobody.stdout
    assert "log in to see them" in nobody.stdout


def test_a_user_without_a_role_is_told_so_at_login(team: Team) -> None:
    who = team.cli("whoami", profile="alice")
    assert who.returncode == 0
    assert re.search(r"role\s+none", who.stdout)


def test_whoami_without_a_login_is_a_coded_error(team: Team) -> None:
    who = team.cli("whoami", profile="nobody")
    assert who.returncode == 1
    assert _auth_code(who.stderr) == "auth_error-login_required"
    assert "bodhi login" in who.stderr and "Traceback" not in who.stderr


# -- the gating table, through the CLI and the magic ------------------------------------------


def _states(needed: str) -> list[tuple[str, str, str | None]]:
    low, enough = LOW_AND_ENOUGH[needed]
    return [("no login", "nobody", "auth_error-login_required"),
            ("too low", low, "auth_error-insufficient_role"),
            ("enough", enough, None)]


@pytest.mark.parametrize(("line", "needed"), GATED, ids=[g[0].split(" -")[0] for g in GATED])
def test_gating_through_the_cli(team: Team, line: str, needed: str) -> None:
    for state, profile, expected in _states(needed):
        done = team.cli(*line.split(), profile=profile, stdin="a-gated-value\n")
        code = _gate_code(done.stderr)
        assert code == expected, f"{line!r} {state}: {done.stderr or done.stdout}"
        if expected is not None:
            assert done.returncode == 1
            assert "Traceback" not in done.stderr
        if expected == "auth_error-insufficient_role":
            assert f"needs the role {needed} or above" in done.stderr
        if state == "enough" and done.returncode != 0:
            assert done.stderr.startswith("error[")


@pytest.fixture
def team_shell(team: Team, monkeypatch: pytest.MonkeyPatch, shell: Any) -> Iterator[Any]:
    for key in ("BODHI_PROFILE", "BODHI_LOCALE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in team.env.items():
        if key.startswith(("BODHI_", "HF_", "XDG_", "PYTHON_KEYRING")):
            monkeypatch.setenv(key, value)
    reset_apps()
    yield shell
    reset_apps()


def _magic(shell: Any, capsys: pytest.CaptureFixture[str], line: str) -> tuple[Any, str]:
    shown = shell.run_line_magic("bodhi", line)
    captured = capsys.readouterr()
    return shown, captured.err


@pytest.mark.parametrize(("line", "needed"), GATED, ids=[g[0].split(" -")[0] for g in GATED])
def test_gating_through_the_magic(team: Team, team_shell: Any, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], line: str,
                                  needed: str) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-gated-value")
    for state, profile, expected in _states(needed):
        # as a notebook user switches identity: a personal setting, written with no role
        switched, _ = _magic(team_shell, capsys, f"settings BODHI_PROFILE {profile}")
        assert switched is not None
        shown, err = _magic(team_shell, capsys, line)
        team.outputs += [err, str(shown)]
        assert _gate_code(err) == expected, f"%bodhi {line} {state}: {err or shown}"
        if expected is not None:
            assert shown is None
            assert err.startswith("error[")
        if state == "enough" and shown is None:
            assert err.startswith("error[")


def test_python_callers_are_gated_like_the_front_ends(team: Team,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb.errors import AuthInsufficientRoleError, AuthLoginRequiredError
    from bodhi_nb.objs import Repo

    for key, value in team.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BODHI_PROFILE", "bob")
    registry = build_app_service(SettingService())
    try:
        assert registry.hub_service().list_local_models() == []  # a user may list
        with pytest.raises(AuthInsufficientRoleError):
            registry.download_service().pull(Repo.parse("owner/missing"), "model.gguf")
        with pytest.raises(AuthInsufficientRoleError):
            registry.secret_service().store_secret("X", "y")
    finally:
        registry.close()
    monkeypatch.setenv("BODHI_PROFILE", "nobody")
    registry = build_app_service(SettingService())
    try:
        with pytest.raises(AuthLoginRequiredError):
            registry.data_service().list_aliases()
        # the language is each person's own: choosing it needs no role
        assert registry.setting_service().set("BODHI_LOCALE", "fr-FR").value == "fr-FR"
        with pytest.raises(AuthLoginRequiredError):
            registry.setting_service().set("BODHI_KEEP_ALIVE_SECS", "900")
    finally:
        registry.setting_service().unset("BODHI_LOCALE")
        registry.close()


# -- roles change: refresh, set-role, remove, the hierarchy --------------------------------


def test_a_role_given_elsewhere_shows_after_a_refresh_and_set_role_clears_sessions(
        team: Team) -> None:
    refused = team.cli("pull", "owner/missing", "model.gguf", profile="erin")
    assert _auth_code(refused.stderr) == "auth_error-insufficient_role"
    assert "yours is none" in refused.stderr
    # The provider gives erin power_user (another machine of the deployment, a console):
    # this machine's token still says none until it is refreshed.
    admin_token = _stored(team, "admin")["access_token"]
    with OidcClient(team.server.issuer) as oidc:
        oidc.assign_role(admin_token, team.ids["erin"], "resource_power_user")
    refreshed = team.cli("whoami", "--refresh", "--json", profile="erin")
    assert refreshed.returncode == 0, refreshed.stderr
    assert {r["item"]: r["value"] for r in json.loads(refreshed.stdout)}["role"] == "power_user"
    allowed = team.cli("pull", "owner/missing", "model.gguf", profile="erin")
    assert _auth_code(allowed.stderr) is None and allowed.returncode == 1  # past the gate
    # A role set here clears erin's sessions: their next command asks for a login.
    lowered = team.cli("users", "set-role", "erin", "user", profile="admin")
    assert lowered.returncode == 0, lowered.stderr
    assert "erin now has the role user" in lowered.stdout
    after = team.cli("pull", "owner/missing", "model.gguf", profile="erin")
    assert _auth_code(after.stderr) == "auth_error-login_required"
    again = team.device_login("erin")
    assert again.returncode == 0 and "(role: user)" in again.stdout


def test_users_lists_the_provider_page_in_json(team: Team) -> None:
    done = team.cli("users", "--json", "--page-size", "2", profile="dave")
    assert done.returncode == 0, done.stderr
    page = json.loads(done.stdout)
    assert set(page) == {"client_id", "users", "page", "page_size", "total_pages",
                         "total_users", "has_next", "has_previous"}
    assert (page["page"], page["page_size"], page["has_next"], page["has_previous"]) == (
        1, 2, True, False)
    assert [u["username"] for u in page["users"]] == ["admin", "bob"]
    assert page["users"][1]["role"] == "user"
    second = json.loads(team.cli("users", "--json", "--page", "2", "--page-size", "2",
                                 profile="dave").stdout)
    assert [u["username"] for u in second["users"]] == ["carol", "dave"]
    table = team.cli("users", profile="admin")
    assert re.search(r"carol\s+Carol Danvers\s+power_user", table.stdout)


@pytest.mark.parametrize(("profile", "args", "code"), [
    ("dave", ("set-role", "bob", "admin"), "auth_error-role_above_yours"),
    ("dave", ("set-role", "admin", "user"), "auth_error-not_below_you"),
    ("dave", ("set-role", "dave", "user"), "auth_error-not_below_you"),
    ("dave", ("remove", "admin", "-y"), "auth_error-not_below_you"),
    ("carol", ("set-role", "bob", "user"), "auth_error-insufficient_role"),
    ("admin", ("set-role", "bob", "wizard"), "auth_error-unknown_role"),
    ("admin", ("set-role", "nosuchuser", "user"), "auth_error-user_not_found"),
])
def test_users_hierarchy_rules(team: Team, profile: str, args: Sequence[str],
                               code: str) -> None:
    done = team.cli("users", *args, profile=profile)
    assert done.returncode == 1
    assert _auth_code(done.stderr) == code, done.stderr
    listed = json.loads(team.cli("users", "--json", "--page-size", "100",
                                 profile="admin").stdout)
    roles = {u["username"]: u["role"] for u in listed["users"]}
    assert roles["admin"] == "admin" and roles["bob"] == "user"  # nothing changed


def test_a_manager_sets_a_role_below_theirs_and_removes_a_user(team: Team) -> None:
    given = team.cli("users", "set-role", team.ids["frank"], "user", profile="dave")
    assert given.returncode == 0, given.stderr
    removed = team.cli("users", "remove", "frank", "-y", profile="dave")
    assert removed.returncode == 0, removed.stderr
    assert "frank no longer has access" in removed.stdout
    listed = json.loads(team.cli("users", "--json", "--page-size", "100",
                                 profile="dave").stdout)
    assert "frank" not in {u["username"] for u in listed["users"]}
    unasked = team.cli("users", "remove", "bob", profile="dave")  # asked; no answer is no
    assert "Remove bob's access" in unasked.stdout and "bob keeps their access" in unasked.stdout
    listed = json.loads(team.cli("users", "--json", "--page-size", "100",
                                 profile="dave").stdout)
    assert "bob" in {u["username"] for u in listed["users"]}


# -- logins: device (denied, expired, slow_down), loopback, logout ----------------------------


def test_a_denied_device_login_is_a_coded_error(team: Team) -> None:
    done = team.device_login("frank", profile="denied", approve=False)
    assert done.returncode == 1
    assert _auth_code(done.stderr) == "auth_error-access_denied"
    assert "Traceback" not in done.stderr


def test_an_expired_device_code_is_a_coded_error(team: Team) -> None:
    done = team.device_login("frank", profile="expired", expire=True)
    assert done.returncode == 1
    assert _auth_code(done.stderr) == "auth_error-device_expired"


def test_a_device_login_slowed_down_still_completes(team: Team) -> None:
    done = team.device_login("carol", profile="slowed", slow_down=1)
    assert done.returncode == 0, done.stderr
    assert "Logged in as carol (role: power_user)" in done.stdout


def test_the_browser_login_through_a_loopback_listener(team: Team, tmp_path: Path) -> None:
    browser = tmp_path / "browser.sh"
    browser.write_text("#!/bin/sh\nexec \"$BODHI_TEST_PYTHON\" -m bodhi_nb.testing.oidc_browser"
                       " carol BODHI_TEST_PASSWORD \"$1\"\n")
    browser.chmod(0o755)
    done = team.cli("login", profile="browser", extra={
        "BROWSER": str(browser), "BODHI_TEST_PYTHON": sys.executable,
        "BODHI_TEST_PASSWORD": team.server.user("carol").password})
    assert done.returncode == 0, done.stderr
    opened = re.search(r"log in \(waiting for the browser\): (\S+)", done.stdout)
    assert opened is not None
    assert "code_challenge_method=S256" in opened.group(1)
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in opened.group(1)
    assert "Logged in as carol (role: power_user)" in done.stdout
    who = team.cli("whoami", "--json", profile="browser")
    assert {r["item"]: r["value"] for r in json.loads(who.stdout)}["username"] == "carol"


def test_a_browser_that_never_comes_back_times_out(team: Team) -> None:
    done = team.cli("login", "--no-browser", "--timeout", "1", profile="timeout")
    assert done.returncode == 1
    assert "/auth?" in done.stdout  # the address is always printed
    assert _auth_code(done.stderr) == "auth_error-login_timeout"


def test_logout_ends_the_session(team: Team) -> None:
    assert team.device_login("bob", profile="leaving").returncode == 0
    out = team.cli("logout", profile="leaving")
    assert out.returncode == 0 and "Logged out" in out.stdout
    who = team.cli("whoami", profile="leaving")
    assert _auth_code(who.stderr) == "auth_error-login_required"
    again = team.cli("logout", profile="leaving")
    assert "Nobody was logged in" in again.stdout


def test_the_magic_device_login_outside_a_kernel_prints_then_waits(
        team: Team, team_shell: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Terminal IPython (no kernel): the lines first, then the wait, as ``bodhi`` does. The
    user approves from another thread, as a phone would."""
    import threading

    team_shell.run_line_magic("bodhi", "settings BODHI_PROFILE magic-device")
    user = team.server.user("bob")
    approved: list[str] = []

    def approve_when_shown() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"code: (\S+)", printed.getvalue())
            if found:
                approved.append(approve_device(team.server.issuer, found.group(1),
                                               user.username, user.password))
                return
            time.sleep(0.1)

    import io

    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    worker = threading.Thread(target=approve_when_shown)
    worker.start()
    shown = team_shell.run_line_magic("bodhi", "login --device")
    worker.join(30)
    monkeypatch.undo()
    assert approved, printed.getvalue()
    assert "Logged in as bob (role: user)" in str(shown)
    team.outputs += [printed.getvalue(), str(shown), capsys.readouterr().err]


# -- nothing leaked ----------------------------------------------------------------------------


def _stored(team: Team, profile: str) -> dict[str, str]:
    settings = SettingService(env={**team.env, "BODHI_PROFILE": profile})
    registry = build_app_service(settings)
    try:
        pointer = registry.secret_service().retrieve_internal(f"bodhi:auth:session:{profile}")
        assert pointer is not None
        session = registry.session_service().get(str.__str__(pointer))
        assert session is not None
        return {k: str(session.data[k]) for k in ("access_token", "refresh_token")}
    finally:
        registry.close()


def test_zz_no_token_or_client_secret_anywhere(team: Team) -> None:
    """Runs last: every output of the module, the logs, settings.yaml and the database."""
    secrets: list[str] = []
    for profile in ("admin", "bob", "carol", "dave", "browser", "slowed"):
        secrets += _stored(team, profile).values()
    registry = build_app_service(SettingService(env=team.env))
    try:
        client_secret = registry.secret_service().retrieve_internal(CLIENT_SECRET_NAME)
        assert client_secret is not None
        secrets.append(str.__str__(client_secret))
        auth = registry.auth_service()
        reprs = [repr(auth), repr(registry.secret_service()), repr(client_secret)]
    finally:
        registry.close()
    assert len(secrets) >= 13 and all(len(s) >= 20 for s in secrets)
    files = b"".join(p.read_bytes() for p in sorted(team.home.rglob("*")) if p.is_file())
    assert files  # the database, settings.yaml, logs
    everything = "\n".join(team.outputs + reprs)
    assert "Logged in as" in everything  # the outputs were collected
    for secret in secrets:
        assert secret not in everything
        assert secret.encode() not in files
        # a JWT's signature alone would be a leak too
        assert secret.rsplit(".", 1)[-1] not in everything
