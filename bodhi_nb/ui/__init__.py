"""Widget panels over the typed services: ``bodhi_nb.ui.models()``, ``secrets()``, ``chat()``,
``pull()``, ``downloads()``, ``login()`` and ``access()``.

Importing this package is cheap; ipywidgets is imported when a panel is made. Each panel
is an ipywidgets VBox whose text/plain form is the table the matching ``%bodhi`` command
prints (``%bodhi panel NAME`` opens the same panels).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bodhi_nb.app import AppService
    from bodhi_nb.ui.access_panel import AccessPanel
    from bodhi_nb.ui.chat_panel import ChatPanel
    from bodhi_nb.ui.downloads_panel import DownloadsPanel
    from bodhi_nb.ui.kit import Panel
    from bodhi_nb.ui.login_panel import LoginPanel
    from bodhi_nb.ui.models_panel import ModelsPanel
    from bodhi_nb.ui.pull_panel import PullPanel
    from bodhi_nb.ui.secrets_panel import SecretsPanel

__all__ = ["access", "chat", "downloads", "login", "make", "models", "pull", "secrets"]


def _registry(app: AppService | None) -> AppService:
    if app is not None:
        return app
    from bodhi_nb.app import app as default_app

    return default_app()


def secrets(app: AppService | None = None, *, prog: str = "%bodhi") -> SecretsPanel:
    """The secrets panel: names and dates, Set (a Password box), Delete, Rotate key."""
    from bodhi_nb.ui.secrets_panel import SecretsPanel

    return SecretsPanel(_registry(app), prog=prog)


def models(app: AppService | None = None, *, prog: str = "%bodhi") -> ModelsPanel:
    """The models panel: local GGUF files, sortable and filterable, with Alias and Delete."""
    from bodhi_nb.ui.models_panel import ModelsPanel

    return ModelsPanel(_registry(app), prog=prog)


def chat(alias: str | None = None, app: AppService | None = None, *,
         prog: str = "%bodhi") -> ChatPanel:
    """The chat panel on ``alias`` (else the first alias): alias and thread pickers, the
    transcript streaming as Markdown, Send (and Enter), Stop, temperature/max tokens/seed."""
    from bodhi_nb.ui.chat_panel import ChatPanel

    return ChatPanel(_registry(app), alias, prog=prog)


def pull(app: AppService | None = None, *, prog: str = "%bodhi") -> PullPanel:
    """The pull panel: a repository's GGUF files, Pull, a live download row each."""
    from bodhi_nb.ui.pull_panel import PullPanel

    return PullPanel(_registry(app), prog=prog)


def downloads(app: AppService | None = None, *, prog: str = "%bodhi") -> DownloadsPanel:
    """The downloads panel: every request, live rows for this kernel's, Retry, Archive."""
    from bodhi_nb.ui.downloads_panel import DownloadsPanel

    return DownloadsPanel(_registry(app), prog=prog)


def login(app: AppService | None = None, *, prog: str = "%bodhi") -> LoginPanel:
    """The login panel: who is logged in (never a token), Log in with a code, Log in in a
    browser, Log out, Refresh."""
    from bodhi_nb.ui.login_panel import LoginPanel

    return LoginPanel(_registry(app), prog=prog)


def access(app: AppService | None = None, *, prog: str = "%bodhi") -> AccessPanel:
    """The access-request dashboard: tabs Pending / Approved / Rejected with counts, a
    filter, pages of 50; approve a pending request with a role, reject it with a reason."""
    from bodhi_nb.ui.access_panel import AccessPanel

    return AccessPanel(_registry(app), prog=prog)


def make(kind: str, app: AppService | None = None, *, prog: str = "%bodhi",
         args: Sequence[str] = ()) -> Panel:
    """The panel named ``kind`` (one of :data:`bodhi_nb.commands.panel.PANELS`), opened on
    ``args`` (``PanelView.args``)."""
    if kind == "secrets":
        return secrets(app, prog=prog)
    if kind == "models":
        return models(app, prog=prog)
    if kind == "chat":
        return chat(args[0] if args else None, app, prog=prog)
    if kind == "pull":
        return pull(app, prog=prog)
    if kind == "downloads":
        return downloads(app, prog=prog)
    if kind == "login":
        return login(app, prog=prog)
    if kind == "access":
        return access(app, prog=prog)
    raise ValueError(kind)
