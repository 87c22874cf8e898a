"""The device-login widget (``%bodhi login --device`` in a notebook) and the login panel.

:class:`DeviceLoginView` shows a started device login (RFC 8628): the user code, large, a
link to the provider's page, the address and code as lines of text, and a live status. The
wait for the user's approval runs in a worker thread started with the view, so the cell
returns at once; Cancel cancels the wait's :class:`~bodhi_nb.objs.CancelToken`. The worker
only sets trait values.

:class:`LoginPanel` (``%bodhi panel login``, ``bodhi_nb.ui.login()``) shows who is logged in
(never a token) and logs in with a code (a :class:`DeviceLoginView` inside the panel) or in
a browser on the kernel's machine (the loopback login, in a worker thread, its address shown
as a link), logs out, and reads the identity again.

Everything shown that came from the provider (the address, the code, the username) is
escaped: it is data, not markup, and an address becomes a link only when it is http(s).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bodhi_nb.objs import CancelToken, is_http_url
from bodhi_nb.services.policy import short_role
from bodhi_nb.ui.kit import Panel

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.auth import DeviceLogin
    from bodhi_nb.commands.results import Result
    from bodhi_nb.services.auth import Identity

__all__ = ["DeviceLoginView", "LoginPanel"]

_CODE_STYLE = ("font-family: var(--jp-code-font-family, monospace); font-size: 2em; "
               "font-weight: 600; letter-spacing: 0.12em; margin: 0.2em 0")

# JupyterLab draws links in outputs as plain text: these look like links again.
_LINK_STYLE = ("color: var(--jp-content-link-color, #1976d2); text-decoration: underline; "
               "font-weight: 600")
#: the status line's colour in each state (the text says it too)
_STATE_STYLE = {"done": "color: var(--jp-success-color1, #2e7d32); font-weight: 600",
                "failed": "color: var(--jp-error-color1, #b00020)"}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _link(url: str, label: str, css: str) -> str:
    """``label`` as a link to ``url`` opening in a new tab; only the escaped label when
    ``url`` is not http(s) (an address from a server is input, never a script)."""
    if not is_http_url(url):
        return f'<span class="{css}">{_esc(label)}</span>'
    return (f'<a class="{css}" href="{_esc(url)}" target="_blank" '
            f'rel="noopener noreferrer" style="{_LINK_STYLE}">{_esc(label)}</a>')


def _default_app() -> AppService:
    from bodhi_nb.app import app

    return app()


class DeviceLoginView(Panel):
    """A device login waiting for approval: root ``bodhi-device-login``; the code
    ``bodhi-device-code``, the link ``bodhi-device-link``, the status
    ``bodhi-device-status``, Cancel ``bodhi-device-cancel``.

    ``on_end`` is called from the worker thread once the wait ended, with the identity
    (None when it failed or was cancelled), before :attr:`ended` is set."""

    def __init__(self, login: DeviceLogin, app: AppService | None = None, *,
                 prog: str = "%bodhi",
                 on_end: Callable[[Identity | None], None] | None = None) -> None:
        super().__init__(app if app is not None else _default_app(), prog=prog)
        self.add_class("bodhi-device-login")
        self.login = login
        self._on_end = on_end
        self._lock = threading.Lock()
        self.token = CancelToken()
        #: set once the wait ended (logged in, failed or cancelled)
        self.ended = threading.Event()
        #: who logged in, and the result ``login`` shows then (once logged in)
        self.identity: Identity | None = None
        self.outcome: Result | None = None
        #: why the login failed (a coded error), when it did
        self.failure: BaseException | None = None
        self._status_text = ""

        grant = login.grant
        target = grant.verification_uri_complete or grant.verification_uri
        self.code = widgets.HTML(f'<div class="bodhi-device-code-text" style="{_CODE_STYLE}">'
                                 f'{_esc(grant.user_code)}</div>')
        self.code.add_class("bodhi-device-code")
        self.link = widgets.HTML(_link(target, self.t("login-device-link"),
                                       "bodhi-device-href"))
        self.link.add_class("bodhi-device-link")
        lines = [self.t("auth-device-open", uri=grant.verification_uri),
                 self.t("auth-device-code", code=grant.user_code)]
        self.lines = widgets.HTML("".join(f"<div>{_esc(line)}</div>" for line in lines))
        self.lines.add_class("bodhi-device-lines")
        self.status_line = widgets.HTML()
        self.status_line.add_class("bodhi-device-status")
        self.cancel_button = widgets.Button(description=self.t("panel-cancel"),
                                            button_style="warning")
        self.cancel_button.add_class("bodhi-device-cancel")
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.children = (self.code, self.link, self.lines,
                         widgets.HBox([self.status_line, self.cancel_button]),
                         self.error.widget)
        self._show(self.t("auth-device-status-waiting"), "waiting")
        self.worker = threading.Thread(target=self._wait, name="bodhi-device-login",
                                       daemon=True)
        self.worker.start()

    # -- the status -------------------------------------------------------------------------

    @property
    def status_text(self) -> str:
        """The status line as text: waiting, logged in as ..., or not logged in: error[...]."""
        return self._status_text

    def _show(self, text: str, state: str) -> None:
        self._status_text = text
        style = _STATE_STYLE.get(state, "")
        self.status_line.value = (f'<span class="bodhi-device-{state}" style="{style}">'
                                  f"{_esc(text)}</span>")

    # -- the wait ---------------------------------------------------------------------------

    def _wait(self) -> None:
        """The worker: wait for the provider's answer (what ``DeviceLogin.wait`` does, keeping
        the identity for the status line), then settle the view."""
        from bodhi_nb.commands import render_error

        identity: Identity | None = None
        try:
            identity = self.login.finish(self.token)
            outcome = self.login.outcome(identity)
        except Exception as exc:
            self.failure = exc
            line = render_error(exc, prog=self.ctx.prog, app_factory=lambda: self.app)
            text, state = self.t("auth-device-status-failed", error=line), "failed"
            identity = None
        else:
            self.identity, self.outcome = identity, outcome
            text, state = self.t("auth-device-status-done", user=identity.username,
                                 role=short_role(identity.role)), "done"
            if identity.role is None:
                text += " " + self.t("auth-no-role-yet")
        with self._lock:
            self._show(text, state)
            self.cancel_button.disabled = True
            self.cancel_button.layout.display = "none"  # nothing left to cancel
        try:
            if self._on_end is not None:
                self._on_end(identity)
        except Exception as exc:  # the panel around could not read the identity back
            self.error.show(exc)
        finally:
            self.ended.set()

    def cancel(self) -> None:
        """Stop waiting: the status then says the login was cancelled."""
        with self._lock:
            if self.failure is not None or self.identity is not None:
                return
            self.token.cancel()
            self.cancel_button.disabled = True
            self._show(self.t("login-device-cancelling"), "cancelling")

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker (tests); True when the wait ended."""
        return self.ended.wait(timeout)

    # -- the text form ----------------------------------------------------------------------

    def listing(self) -> Result:
        """``login``'s result once logged in; before, the device login's lines."""
        return self.outcome if self.outcome is not None else self.login

    def text(self) -> str:
        if self.outcome is not None:
            return self.outcome.to_text()
        return "\n".join([*self.login.lines(), self._status_text])


class LoginPanel(Panel):
    """``bodhi_nb.ui.login()``: root ``bodhi-login-panel``; who is logged in
    ``bodhi-login-who``; buttons ``bodhi-login-device``, ``bodhi-login-browser``,
    ``bodhi-login-cancel``, ``bodhi-login-logout``, ``bodhi-login-refresh``; the browser
    login's address ``bodhi-login-link``; a device login's view in ``bodhi-login-device-box``.

    ``open_browser`` is given the browser login's address (default: the user's browser when
    the kernel's machine has one, :func:`bodhi_nb.terminal.open_browser`)."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi",
                 open_browser: Callable[[str], None] | None = None,
                 browser_timeout: float = 300.0) -> None:
        super().__init__(app, prog=prog)
        self.add_class("bodhi-login-panel")
        if open_browser is None:
            from bodhi_nb.terminal import open_browser as default_open

            open_browser = default_open
        self._open_browser = open_browser
        self.browser_timeout = browser_timeout
        self._lock = threading.RLock()
        #: who is logged in, as last read
        self.identity: Identity | None = None
        #: a login (device or browser) is under way
        self.busy = False
        #: the device login shown in the panel (the last one started)
        self.device_view: DeviceLoginView | None = None
        #: the browser login's worker and its end (tests wait on it)
        self.worker: threading.Thread | None = None
        self.browser_ended = threading.Event()
        self.browser_ended.set()
        self._browser_token: CancelToken | None = None

        self.who = widgets.HTML()
        self.who.add_class("bodhi-login-who")
        self.device_button = self._button("login-panel-device", "bodhi-login-device",
                                          self.device_login, style="primary")
        self.browser_button = self._button("login-panel-browser", "bodhi-login-browser",
                                           self.browser_login)
        self.cancel_button = self._button("panel-cancel", "bodhi-login-cancel",
                                          self.cancel_browser, style="warning")
        self.cancel_button.layout.display = "none"
        self.logout_button = self._button("login-panel-logout", "bodhi-login-logout",
                                          self.logout)
        self.refresh_button = self._button("panel-refresh", "bodhi-login-refresh",
                                           lambda: self.attempt(self.refresh))
        self.link = widgets.HTML()
        self.link.add_class("bodhi-login-link")
        self.device_box = widgets.VBox()
        self.device_box.add_class("bodhi-login-device-box")
        self.children = (
            self.who,
            widgets.HBox([self.device_button, self.browser_button, self.cancel_button,
                          self.logout_button, self.refresh_button]),
            self.link, self.device_box, self.status, self.error.widget,
        )
        self.attempt(self.refresh)

    def _button(self, message_id: str, css: str, action: Callable[[], object], *,
                style: str = "") -> widgets.Button:
        button = widgets.Button(description=self.t(message_id), button_style=style)
        button.add_class(css)
        button.on_click(lambda _b: action())
        return button

    # -- who is logged in -------------------------------------------------------------------

    def listing(self) -> Result:
        from bodhi_nb.commands.panel import listing

        return listing("login", self.app, self.ctx)

    def refresh(self) -> None:
        """Read who is logged in again (the token is refreshed when it is about to expire);
        a failure shows as not logged in, and is raised for the error line."""
        auth = self.app.auth_service()
        if not auth.enabled:
            self._show_identity(None, off=True)
            return
        try:
            identity = auth.current()
        except Exception:
            self._show_identity(None)
            raise
        self._show_identity(identity)

    def _show_identity(self, identity: Identity | None, *, off: bool = False) -> None:
        with self._lock:
            self.identity = identity
            if off:
                self.who.value = f'<div class="bodhi-login-off">{_esc(self.t("auth-off"))}</div>'
            elif identity is None:
                self.who.value = (f'<div class="bodhi-login-nobody">'
                                  f'{_esc(self.t("login-panel-not-logged-in"))}</div>')
            else:
                self.who.value = self._identity_html(identity)
            self._enable()

    def _identity_html(self, identity: Identity) -> str:
        from bodhi_nb.commands.results import format_timestamp

        items = (("username", identity.username), ("role", short_role(identity.role)),
                 ("profile", self.app.auth_service().profile),
                 ("token-expires", format_timestamp(identity.expires_at)))
        rows = "".join(f'<tr class="bodhi-login-{key}"><th style="text-align: left; '
                       f'padding-right: 1em">{_esc(self.t(f"auth-item-{key}"))}</th>'
                       f"<td>{_esc(value)}</td></tr>" for key, value in items)
        notice = (f"<div><em>{_esc(self.t('auth-no-role-yet'))}</em></div>"
                  if identity.role is None else "")
        return (f"<div><b>{_esc(self.t('auth-whoami-title'))}</b></div>"
                f"<table>{rows}</table>{notice}")

    def _enable(self) -> None:
        """Buttons as the state allows: no login while one is under way or with
        authentication off; Log out when someone is logged in."""
        enabled = self.app.auth_service().enabled
        self.device_button.disabled = self.busy or not enabled
        self.browser_button.disabled = self.busy or not enabled
        self.logout_button.disabled = self.identity is None

    def _set_busy(self, busy: bool) -> None:
        with self._lock:
            self.busy = busy
            self._enable()

    # -- logging in with a code -------------------------------------------------------------

    def device_login(self) -> None:
        """Start a device login; its view (code, link, live status) shows in the panel."""
        from bodhi_nb.commands.auth import DeviceLogin, identity_lines

        auth = self.app.auth_service()
        ctx = self.ctx

        def outcome(identity: Identity) -> Result:
            return identity_lines(identity, ctx, auth.profile)

        def start() -> None:
            if not auth.enabled:
                from bodhi_nb.errors import AuthIssuerNotSetError

                raise AuthIssuerNotSetError()
            grant = auth.begin_device()
            self.link.value = ""
            login = DeviceLogin(grant, lambda cancel: auth.finish_device(grant, cancel),
                                outcome, ctx)
            self._close_device_view()
            # Busy before the view starts its worker, whose end sets it back.
            self._set_busy(True)
            try:
                view = DeviceLoginView(login, self.app, prog=ctx.prog,
                                       on_end=self._device_ended)
            except BaseException:
                self._set_busy(False)
                raise
            self.device_view = view
            self.device_box.children = (view,)

        with self._lock:
            if self.busy:
                return
        self.attempt(start)

    def _device_ended(self, identity: Identity | None) -> None:
        """From the device view's worker: the login ended; read who is logged in now."""
        self._set_busy(False)
        if identity is not None:
            self.attempt(self.refresh)

    def _close_device_view(self) -> None:
        old = self.device_view
        if old is not None:
            old.cancel()
            self.device_box.children = ()
            self.device_view = None

    # -- logging in in a browser ------------------------------------------------------------

    def browser_login(self) -> None:
        """Start a browser login on this machine (the loopback redirect): its address shows
        as a link, the user's browser opens it where there is one; the wait runs in a worker
        thread, Cancel stops it."""
        with self._lock:
            if self.busy or not self.app.auth_service().enabled:
                return
            self.busy = True
            self._enable()
            token = CancelToken()
            self._browser_token = token
            self.browser_ended.clear()
        self.error.clear()
        self._close_device_view()
        self.link.value = ""
        self.status.value = self.t("login-panel-browser-waiting")
        self.cancel_button.disabled = False
        self.cancel_button.layout.display = None
        self.worker = threading.Thread(target=self._browser, args=(token,),
                                       name="bodhi-login-browser", daemon=True)
        self.worker.start()

    def _show_url(self, url: str) -> None:
        self.link.value = (f"<div>{_esc(self.t('login-panel-browser-open'))} "
                           f"{_link(url, self.t('login-device-link'), 'bodhi-login-href')}"
                           f'</div><div style="font-family: var(--jp-code-font-family, '
                           f'monospace); font-size: 0.85em; word-break: break-all">'
                           f"{_esc(url)}</div>")

    def _browser(self, token: CancelToken) -> None:
        """The worker of a browser login: only service calls and trait values."""
        auth = self.app.auth_service()
        try:
            identity = auth.login_loopback(open_browser=self._open_browser,
                                           timeout=self.browser_timeout, cancel=token,
                                           on_url=self._show_url)
        except Exception as exc:
            self.status.value = ""
            self.error.show(exc)
        else:
            self.status.value = self.t("auth-logged-in", user=identity.username,
                                       role=short_role(identity.role))
        finally:
            self.link.value = ""
            self.cancel_button.layout.display = "none"
            self._set_busy(False)
            try:
                self.refresh()
            except Exception as exc:
                self.error.show(exc)
            finally:
                self.browser_ended.set()

    def cancel_browser(self) -> None:
        """Stop waiting for the browser login."""
        token = self._browser_token
        if token is not None and not self.browser_ended.is_set():
            token.cancel()
            self.cancel_button.disabled = True

    # -- logging out ------------------------------------------------------------------------

    def logout(self) -> None:
        """Revoke the refresh token at the provider and end the session."""
        def step() -> str:
            ended = self.app.auth_service().logout()
            self.refresh()
            return self.t("auth-logged-out" if ended else "auth-nobody-logged-in")

        self.attempt_then_refresh(step)
