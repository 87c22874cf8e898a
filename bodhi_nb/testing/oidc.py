"""A real OpenID provider for tests: ``tests/oidc_server/server.mjs`` (panva's oidc-provider).

The server keeps users (with passwords) and per-client roles in memory, puts roles in JWT
access tokens as ``resource_access[client_id].roles`` (Keycloak's convention), serves the
Bodhi resource routes and has test-control routes under ``/__test__/``. Node.js 20+ and
``npm ci`` in ``tests/oidc_server`` (``make peers`` does it) are needed.

    with OidcServer() as server:
        alice = server.user("alice")
        url = browser_login(auth_url, alice.username, alice.password)
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from urllib.parse import urljoin

import httpx

__all__ = ["BrowserLoginError", "Form", "OidcServer", "OidcServerMissingError", "OidcUser",
           "approve_device", "browser_login", "find_server_dir", "parse_form"]

#: The Node server's folder, relative to the repository holding this package.
SERVER_DIR = Path(__file__).resolve().parents[2] / "tests" / "oidc_server"


class OidcServerMissingError(RuntimeError):
    """Node.js or the server's node_modules are missing."""


class BrowserLoginError(RuntimeError):
    """The login pages did not lead back to the redirect URI."""


@dataclass(frozen=True)
class OidcUser:
    id: str
    username: str
    password: str
    first_name: str
    last_name: str

    def __repr__(self) -> str:  # the password stays out of test output
        return f"OidcUser(id={self.id!r}, username={self.username!r})"


def find_server_dir() -> Path:
    """The server's folder, checked to be runnable (one-line error naming the fix if not)."""
    if shutil.which("node") is None:
        raise OidcServerMissingError(
            "Node.js is missing: install Node 20+ (NodeSource `nodejs`; Debian 12's apt "
            "package is older), then run `make peers`")
    if not (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise OidcServerMissingError(
            f"{SERVER_DIR}/node_modules is missing: run `make peers` "
            f"(or `npm ci` in {SERVER_DIR})")
    return SERVER_DIR


_DEFAULT_USERS = (("admin", "Ada", "Admin"), ("alice", "Alice", "Liddell"),
                  ("bob", "Bob", "Builder"), ("carol", "Carol", "Danvers"))


class OidcServer:
    """``node server.mjs`` on a free loopback port, stopped (process group) on exit."""

    def __init__(self, *, usernames: tuple[tuple[str, str, str], ...] = _DEFAULT_USERS,
                 device_interval: int = 1, access_token_ttl: int = 300,
                 start_timeout: float = 30.0) -> None:
        self.server_dir = find_server_dir()
        self.users: dict[str, OidcUser] = {
            name: OidcUser(id=str(uuid.uuid4()), username=name,
                           password=f"{name}-{uuid.uuid4().hex[:12]}",
                           first_name=first, last_name=last)
            for name, first, last in usernames}
        self._tmp = tempfile.TemporaryDirectory(prefix="bodhi-oidc-")
        config_path = Path(self._tmp.name) / "config.json"
        config_path.write_text(json.dumps({
            "users": [{"id": u.id, "username": u.username, "password": u.password,
                       "first_name": u.first_name, "last_name": u.last_name}
                      for u in self.users.values()],
            "device_interval": device_interval,
            "access_token_ttl": access_token_ttl,
        }))
        self._log = open(Path(self._tmp.name) / "server.log", "w+b")  # noqa: SIM115
        # One start failed once in a full CI run (no READY within 30 s, nothing on stderr;
        # the same tests passed in the runs before and after): a second try, with the
        # first attempt's exit code in the error if both fail.
        failures: list[str] = []
        for _attempt in range(2):
            self._proc = subprocess.Popen(
                ["node", str(self.server_dir / "server.mjs"), str(config_path)],
                cwd=self.server_dir, stdout=subprocess.PIPE, stderr=self._log,
                start_new_session=True, env={**os.environ, "PORT": "0"})
            try:
                self.issuer = self._wait_ready(start_timeout)
                break
            except RuntimeError as exc:
                failures.append(f"{exc} (exit code {self._proc.poll()})")
                self._stop_process()
            except BaseException:
                self.close()
                raise
        else:
            self.close()
            raise RuntimeError("; ".join(failures))
        self.http = httpx.Client(base_url=self.issuer, timeout=10.0)

    def _wait_ready(self, timeout: float) -> str:
        assert self._proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._proc.stdout], [], [], 0.2)
            if ready:
                line = self._proc.stdout.readline().decode("utf-8", "replace").strip()
                if line.startswith("READY "):
                    return line.split(" ", 1)[1]
                if not line and self._proc.poll() is not None:
                    break
        raise RuntimeError(f"the OpenID test server did not start: {self.log_tail()}")

    def log_tail(self) -> str:
        self._log.flush()
        self._log.seek(0)
        lines = [ln for ln in self._log.read().decode("utf-8", "replace").splitlines()
                 if "Unsupported runtime" not in ln]
        return " | ".join(lines[-5:]) or "(no output)"

    def user(self, username: str) -> OidcUser:
        return self.users[username]

    # ---- test controls ----------------------------------------------------------------
    def _control(self, name: str, body: dict[str, object]) -> dict[str, object]:
        response = self.http.post(f"/__test__/{name}", json=body)
        response.raise_for_status()
        result: dict[str, object] = response.json()
        return result

    def rotate_key(self, *, keep_old: bool = True) -> str:
        """A new signing key (first in the JWKS); returns its ``kid``."""
        return str(self._control("rotate-key", {"keep_old": keep_old})["kid"])

    def fail_token(self, count: int, status: int = 503) -> None:
        """The next ``count`` token-endpoint responses are ``status``."""
        self._control("fail-token", {"count": count, "status": status})

    def fail_assign(self, count: int, status: int = 500, delay: float = 0.0) -> None:
        """The next ``count`` assign-role calls wait ``delay`` seconds (longer than the
        client's timeout: a hang), then answer ``status`` without assigning anything."""
        self._control("fail-assign", {"count": count, "status": status, "delay": delay})

    def assign_calls(self) -> dict[str, int]:
        """How many assign-role calls gave each user (by id) a role, on any client."""
        response = self.http.get("/__test__/assign-calls")
        response.raise_for_status()
        return {str(k): int(v) for k, v in response.json().items()}

    def exchange_calls(self) -> int:
        """How many RFC 8693 token exchanges the token endpoint answered with a token."""
        response = self.http.get("/__test__/exchange-calls")
        response.raise_for_status()
        return int(response.json()["count"])

    def slow_down(self, count: int = 1) -> None:
        """The next ``count`` pending device polls answer ``slow_down``."""
        self._control("slow-down", {"count": count})

    def set_device_interval(self, seconds: int) -> None:
        self._control("device-interval", {"interval": seconds})

    def expire_device_code(self, user_code: str) -> None:
        self._control("expire-device-code", {"user_code": user_code})

    # ---- lifetime ---------------------------------------------------------------------
    def _stop_process(self) -> None:
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGTERM)
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
            except ProcessLookupError:
                pass
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def close(self) -> None:
        self._stop_process()
        if hasattr(self, "http"):
            self.http.close()
        self._log.close()
        self._tmp.cleanup()

    def __enter__(self) -> OidcServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OidcServer(issuer={getattr(self, 'issuer', None)!r})"


# ---- playing the browser ------------------------------------------------------------------
@dataclass
class Form:
    action: str
    fields: dict[str, str]
    buttons: dict[str, str]  # submit buttons: value -> name
    error: str | None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._in_error = False
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), fields={}, buttons={},
                                   error=None))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons[a["value"]] = a["name"]
        elif tag == "p" and "error" in a.get("class", ""):
            self._in_error = True

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error = (self.error or "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._in_error = False


def parse_form(html: str, base_url: str) -> Form | None:
    """The first form of a page (action made absolute), with the page's error line if any."""
    parser = _FormParser()
    parser.feed(html)
    if not parser.forms:
        return None
    form = parser.forms[0]
    form.action = urljoin(base_url, form.action)
    form.error = parser.error
    return form


def _until_page_or(client: httpx.Client, response: httpx.Response,
                   redirect_prefix: str) -> httpx.Response | str:
    """Follows redirects until a page to fill, or a redirect to ``redirect_prefix``."""
    for _ in range(20):
        if not response.is_redirect:
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(redirect_prefix):
            return location
        response = client.get(location)
    raise BrowserLoginError("too many redirects")


def browser_login(authorization_url: str, username: str, password: str, *,
                  redirect_uri: str, consent: bool = True,
                  client: httpx.Client | None = None) -> str:
    """Plays the browser for an authorization-code login: follows the redirects, submits
    the login form and the consent form (Allow, or Deny when ``consent`` is false), and
    returns the URL the provider finally redirects to (``redirect_uri?code=..&state=..``,
    or ``?error=..``); the redirect URI itself is never fetched.

    A refused login (wrong password) raises :class:`BrowserLoginError` with the page's
    error line."""
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        step = _until_page_or(http, http.get(authorization_url), redirect_uri)
        for _ in range(5):
            if isinstance(step, str):
                return step
            form = parse_form(step.text, str(step.url))
            if form is None:
                raise BrowserLoginError(f"no form on {step.url.path} ({step.status_code})")
            if "password" in form.fields:
                data = {**form.fields, "username": username, "password": password}
                posted = http.post(form.action, data=data)
                if not posted.is_redirect:
                    again = parse_form(posted.text, str(posted.url))
                    raise BrowserLoginError(
                        (again.error if again else None) or f"login refused ({posted.status_code})")
            else:
                name = form.buttons.get("approve" if consent else "deny", "decision")
                data = {**form.fields, name: "approve" if consent else "deny"}
                posted = http.post(form.action, data=data)
            step = _until_page_or(http, posted, redirect_uri)
        raise BrowserLoginError("the login pages did not end")
    finally:
        if own:
            http.close()


def approve_device(issuer: str, user_code: str, username: str, password: str, *,
                   approve: bool = True, client: httpx.Client | None = None) -> str:
    """Fills the provider's device page (``{issuer}/device``): the user code, the user's
    credentials, Allow or Deny. Returns the result page's title (``Approved``, ``Denied``)
    or raises :class:`BrowserLoginError` with the page's error line."""
    own = client is None
    http = client or httpx.Client(timeout=10.0)
    try:
        response = http.post(f"{issuer}/device", data={
            "user_code": user_code, "username": username, "password": password,
            "decision": "approve" if approve else "deny"})
        title = re.search(r"<title>([^<]*)</title>", response.text)
        form = parse_form(response.text, str(response.url))
        if form is not None:
            raise BrowserLoginError(form.error or "device page refused the code")
        return title.group(1) if title else ""
    finally:
        if own:
            http.close()
