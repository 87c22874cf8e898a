"""The device-login widget and the login panel (issue 11, part 5), kernel side, against the
real OpenID test server (tests/oidc_server): buttons pressed with ``click()``, the provider's
device page filled by ``approve_device`` as a user would, the browser login played with
httpx. The waits are liveness bounds only (the view's worker ends or the test fails)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from _secret_support import HEADLESS

from bodhi_nb.app import DefaultAppService, app
from bodhi_nb.commands import Context, execute
from bodhi_nb.commands.auth import DeviceLogin
from bodhi_nb.commands.panel import PanelView
from bodhi_nb.errors import AuthAccessDeniedError, AuthCancelledError
from bodhi_nb.notebook.magic import _shown
from bodhi_nb.testing.oidc import OidcServer, approve_device, browser_login
from bodhi_nb.ui.kit import widget_tree
from bodhi_nb.ui.login_panel import DeviceLoginView, LoginPanel

LOOPBACK = "http://127.0.0.1/callback"
#: a username the provider hands back as it was registered: markup, to be shown as text
HOSTILE = '<img src=x onerror="alert(1)">'
#: liveness bound for a worker thread to end (nothing is asserted about durations)
LONG = 60.0
KERNEL = SimpleNamespace(kernel=object())


@pytest.fixture(scope="module")
def server() -> Iterator[OidcServer]:
    """This module's provider: the usual users plus one whose username is markup."""
    with OidcServer(usernames=(("admin", "Ada", "Admin"), ("alice", "Alice", "Liddell"),
                               (HOSTILE, "Eve", "Evil"))) as srv:
        yield srv


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


@pytest.fixture
def reg(isolated_env: Path) -> DefaultAppService:
    """The kernel's registry (``bodhi_nb.app()``, what the magic uses) on the test's home;
    ``isolated_env`` resets it afterwards."""
    return app()


@pytest.fixture
def auth_on(reg: DefaultAppService, server: OidcServer) -> DefaultAppService:
    """Authentication on, with a fresh client of the test server (its first login: admin)."""
    reg.auth_service().setup(server.issuer, "Team notebooks", "tests", [LOOPBACK])
    return reg


def _device(reg: DefaultAppService) -> DeviceLogin:
    result = execute(["login", "--device"], Context(prog="%bodhi"), lambda: reg)
    assert isinstance(result, DeviceLogin)
    return result


def _approve(server: OidcServer, user_code: str, username: str, *,
             approve: bool = True) -> str:
    user = server.user(username)
    return approve_device(server.issuer, user_code, user.username, user.password,
                          approve=approve)


def _state(root: Any) -> str:
    """Every widget's state under ``root``, as the front end would receive it."""
    return "\n".join(json.dumps(w.get_state(), default=str) for w in widget_tree(root))


def _tokens(reg: DefaultAppService) -> list[str]:
    """The tokens of the profile's session, read as the service reads them."""
    pointer = reg.secret_service().retrieve_internal("bodhi:auth:session:default")
    assert pointer is not None
    session = reg.session_service().get(str.__str__(pointer))
    assert session is not None
    found = [str(session.data[k]) for k in ("access_token", "refresh_token")]
    assert all(len(t) > 20 for t in found)
    return found


# -- the device-login widget -------------------------------------------------------------------


def test_login_device_in_a_kernel_is_a_widget_whose_status_turns_to_logged_in(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    result = _device(auth_on)
    view = _shown(result, KERNEL)
    # The cell's value is the view, at once: nobody has approved anything yet.
    assert isinstance(view, DeviceLoginView)
    assert view.status_text == "waiting for approval…"
    assert not view.ended.is_set() and not view.cancel_button.disabled
    grant = result.grant
    assert grant.user_code in view.code.value and "monospace" in view.code.value
    target = grant.verification_uri_complete or grant.verification_uri
    assert f'href="{target}"' in view.link.value and 'target="_blank"' in view.link.value
    assert f"open {grant.verification_uri}" in view.lines.value
    assert f"enter the code: {grant.user_code}" in view.lines.value
    assert repr(view) == result.to_text() + "\nwaiting for approval…"

    assert _approve(server, grant.user_code, "admin") == "Approved"
    assert view.join(LONG)
    assert view.status_text == "logged in as admin (role: admin)"
    assert "bodhi-device-done" in view.status_line.value
    assert view.cancel_button.disabled and view.cancel_button.layout.display == "none"
    assert view.identity is not None and view.identity.username == "admin"
    # Its text form is then what `login` shows once logged in.
    assert view.outcome is not None and repr(view) == view.outcome.to_text()
    assert "admin" in repr(view)
    current = auth_on.auth_service().current()
    assert current is not None and current.user_id == server.user("admin").id
    state = _state(view) + repr(view)
    for token in _tokens(auth_on) + [grant.device_code]:
        assert token not in state


def test_a_denied_login_shows_the_coded_access_denied_line(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    view = DeviceLoginView(_device(auth_on), auth_on)
    assert _approve(server, view.login.grant.user_code, "alice", approve=False) == "Denied"
    assert view.join(LONG)
    assert isinstance(view.failure, AuthAccessDeniedError)
    assert view.status_text.startswith("not logged in: error[auth_error-access_denied]: ")
    assert "bodhi-device-failed" in view.status_line.value
    assert view.identity is None and auth_on.auth_service().current() is None
    assert view.status_text in repr(view)


def test_cancel_ends_the_wait_with_the_cancelled_line(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    view = DeviceLoginView(_device(auth_on), auth_on)
    view.cancel_button.click()
    assert view.cancel_button.disabled
    assert view.join(LONG)
    assert isinstance(view.failure, AuthCancelledError)
    assert view.status_text == ("not logged in: error[auth_error-cancelled]: "
                                "The login was cancelled.")
    # The code was never used: approving it now logs nobody in here.
    _approve(server, view.login.grant.user_code, "admin")
    assert auth_on.auth_service().current() is None
    view.cancel_button.click()  # after the end: nothing changes
    assert view.status_text.startswith("not logged in: error[auth_error-cancelled]")


def test_the_view_speaks_french(auth_on: DefaultAppService, server: OidcServer) -> None:
    auth_on.setting_service().set("BODHI_LOCALE", "fr-FR")
    view = DeviceLoginView(_device(auth_on), auth_on)
    assert view.status_text == "en attente d'approbation…"
    assert "Ouvrir la page de connexion" in view.link.value
    assert view.cancel_button.description == "Annuler"
    view.cancel()
    assert view.join(LONG)
    assert view.status_text.startswith("non connecté : error[auth_error-cancelled]")


def test_outside_a_kernel_login_device_still_prints_and_waits(
        auth_on: DefaultAppService, server: OidcServer,
        capsys: pytest.CaptureFixture[str]) -> None:
    result = _device(auth_on)
    _approve(server, result.grant.user_code, "admin")  # before: the first poll succeeds
    shown = _shown(result, SimpleNamespace())
    assert not isinstance(shown, DeviceLoginView)
    assert f"enter the code: {result.grant.user_code}" in capsys.readouterr().out
    assert "Logged in as admin (role: admin)." in repr(shown)


# -- escaping ----------------------------------------------------------------------------------


def test_a_username_that_is_markup_is_shown_as_text(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    import html

    panel = LoginPanel(auth_on)
    panel.device_button.click()
    view = panel.device_view
    assert view is not None
    _approve(server, view.login.grant.user_code, HOSTILE)
    assert view.join(LONG)
    assert view.identity is not None and view.identity.username == HOSTILE
    assert view.status_text == f"logged in as {HOSTILE} (role: admin)"
    escaped = html.escape(HOSTILE, quote=True)
    assert escaped in view.status_line.value and HOSTILE not in view.status_line.value
    assert escaped in panel.who.value and HOSTILE not in panel.who.value


def test_an_address_that_is_not_http_is_no_link() -> None:
    from bodhi_nb.ui.login_panel import _link

    assert _link("javascript:alert(1)", "Open", "c") == '<span class="c">Open</span>'
    shown = _link('https://id.example/device?x="><b>', "<b>Open</b>", "c")
    assert 'href="https://id.example/device?x=&quot;&gt;&lt;b&gt;"' in shown
    assert "&lt;b&gt;Open&lt;/b&gt;" in shown and "<b>" not in shown


# -- the login panel ---------------------------------------------------------------------------


def test_login_panel_logs_in_with_a_code_and_out_again(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    panel = LoginPanel(auth_on)
    assert "Not logged in" in panel.who.value
    assert panel.logout_button.disabled and not panel.device_button.disabled

    panel.device_button.click()
    view = panel.device_view
    assert view is not None and panel.device_box.children == (view,)
    assert panel.busy and panel.device_button.disabled and panel.browser_button.disabled
    panel.device_button.click()  # a second click while one runs starts nothing
    assert panel.device_view is view
    _approve(server, view.login.grant.user_code, "admin")
    assert view.join(LONG)
    assert panel.identity is not None and panel.identity.username == "admin"
    assert not panel.busy and not panel.logout_button.disabled
    who = panel.who.value
    assert "admin" in who and "role" in who and "default" in who  # profile
    assert "access token expires" in who and " UTC" in who
    tokens = _tokens(auth_on)
    state = _state(panel) + repr(panel)
    assert not any(t in state for t in tokens)

    panel.logout_button.click()
    assert panel.status.value == ("Logged out: the session is ended and its refresh token "
                                  "revoked.")
    assert "Not logged in" in panel.who.value and panel.identity is None
    assert panel.logout_button.disabled
    assert auth_on.auth_service().current() is None
    panel.refresh_button.click()
    assert "Not logged in" in panel.who.value and panel.error.text == ""


def test_login_panel_logs_in_in_a_browser(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    opened: list[str] = []

    def browser(url: str) -> None:
        """The user's browser: follows the login pages, then lands on the loopback."""
        opened.append(url)
        redirect = url.split("redirect_uri=", 1)[1].split("&", 1)[0]
        from urllib.parse import unquote

        user = server.user("alice")
        final = browser_login(url, user.username, user.password,
                              redirect_uri=unquote(redirect))
        assert httpx.get(final, timeout=10.0).status_code == 200

    panel = LoginPanel(auth_on, open_browser=browser)
    shown: list[str] = []
    panel.link.observe(lambda change: shown.append(str(change["new"])), names="value")
    panel.browser_button.click()
    assert panel.browser_ended.wait(LONG)
    assert panel.error.text == ""
    assert panel.status.value == "Logged in as alice (role: admin)."
    assert panel.identity is not None and panel.identity.username == "alice"
    # The address was shown as a link while the login ran, then taken away.
    assert len(opened) == 1 and any('target="_blank"' in s for s in shown)
    assert any(opened[0].replace("&", "&amp;") in s for s in shown)
    assert panel.link.value == "" and not panel.busy


def test_login_panel_browser_login_can_be_cancelled(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    seen: list[str] = []
    panel = LoginPanel(auth_on, open_browser=seen.append)  # a browser nobody uses
    panel.browser_button.click()
    assert panel.busy and panel.cancel_button.layout.display is None
    panel.cancel_button.click()
    assert panel.browser_ended.wait(LONG)
    assert panel.error.text.startswith("error[auth_error-cancelled]")
    assert len(seen) == 1 and panel.identity is None and not panel.busy
    assert panel.cancel_button.layout.display == "none"


def test_login_panel_with_authentication_off(reg: DefaultAppService) -> None:
    panel = LoginPanel(reg)
    assert "Authentication is off" in panel.who.value
    assert panel.device_button.disabled and panel.browser_button.disabled
    assert panel.logout_button.disabled
    assert repr(panel) == ("Authentication is off (no BODHI_AUTH_ISSUER): you are this "
                           "machine's admin.")


# -- the command's text form -------------------------------------------------------------------


def test_panel_login_text_is_whoami_or_a_line_never_an_error(
        auth_on: DefaultAppService, server: OidcServer) -> None:
    def text() -> str:
        result = execute(["panel", "login"], Context(prog="bodhi"), lambda: auth_on)
        assert isinstance(result, PanelView) and result.kind == "login"
        return result.to_text()

    nobody = text()
    assert nobody.startswith("Not logged in")
    listed = execute(["panel", "login"], Context(prog="bodhi"), lambda: auth_on)
    assert listed.to_json() == {"panel": "login", "listing": {"logged_in": False}}

    view = DeviceLoginView(_device(auth_on), auth_on)
    _approve(server, view.login.grant.user_code, "admin")
    assert view.join(LONG)
    whoami = execute(["whoami"], Context(prog="bodhi"), lambda: auth_on).to_text()
    assert text() == whoami and "admin" in whoami
    assert not any(t in text() for t in _tokens(auth_on))
    panel = _shown(execute(["panel", "login"], Context(prog="%bodhi"), lambda: auth_on),
                   KERNEL)
    assert isinstance(panel, LoginPanel)
    assert repr(panel) == execute(["whoami"], Context(prog="%bodhi"), lambda: auth_on).to_text()


def test_help_lists_the_login_panel(reg: DefaultAppService) -> None:
    text = execute(["help", "panel"], Context(prog="bodhi"), lambda: reg).to_text()
    assert "login" in text and "who is logged in" in text
