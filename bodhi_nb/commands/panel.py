"""``panel secrets|models|chat|pull|downloads|login|access``: a widget panel in a notebook,
its table in a terminal (``panel login``: what ``whoami`` prints, or that nobody is logged
in; ``panel access``: the pending requests, as ``access ls --status pending`` prints them).

The command itself only says which panel and what its text form is (the table ``secret
ls``, ``ls`` or ``history`` prints, from the same result objects); a notebook front end
that has a widget manager swaps the :class:`PanelView` for the panel (:mod:`bodhi_nb.ui`),
made on ``PanelView.args`` (``panel chat ALIAS``: the alias).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Context, Group, Verb, command
from bodhi_nb.commands.results import Result
from bodhi_nb.errors import AliasNotFoundError
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService

__all__ = ["PANELS", "PanelCommand", "PanelView", "listing"]

#: the panels there are, by name.
PANELS: tuple[str, ...] = ("secrets", "models", "chat", "pull", "downloads", "login",
                           "access")


def listing(kind: str, app: AppService, ctx: Context) -> Result:
    """The text form of panel ``kind``: what the matching command returns."""
    if kind == "secrets":
        from bodhi_nb.commands.secret import SecretLs, SecretRequest

        return SecretLs().run(app, SecretRequest(), ctx)
    if kind == "models":
        from bodhi_nb.commands.models import ModelsCommand, ModelsRequest

        return ModelsCommand().run(app, ModelsRequest(), ctx)
    if kind == "chat":
        from bodhi_nb.commands.chat import HistoryCommand, HistoryRequest

        return HistoryCommand().run(app, HistoryRequest(), ctx)
    if kind in ("pull", "downloads"):
        from bodhi_nb.commands.hub import DownloadsLs, DownloadsLsRequest

        downloads = DownloadsLs().run(app, DownloadsLsRequest(), ctx)
        if kind == "downloads":
            return downloads
        # The pull panel's text: what it does, then the downloads so far.
        from bodhi_nb.commands.results import Message, Sections

        return Sections((("panel", Message(ctx.t("pull-text"))), ("downloads", downloads)))
    if kind == "login":
        return _who(app, ctx)
    if kind == "access":
        return _pending(app, ctx)
    raise ValueError(kind)


def _pending(app: AppService, ctx: Context) -> Result:
    """The access dashboard's text: ``access ls --status pending`` (oldest first)."""
    from bodhi_nb.commands.access import AccessLs, AccessLsRequest

    return AccessLs().run(app, AccessLsRequest(status="pending"), ctx)


def _who(app: AppService, ctx: Context) -> Result:
    """The login panel's text: ``whoami``'s result; when nobody is logged in (or the
    session just ended: its refresh was refused) a line saying so, never an error."""
    from bodhi_nb.commands.auth import WhoamiCommand, WhoamiRequest
    from bodhi_nb.commands.results import Message
    from bodhi_nb.errors import AuthLoginAgainError, AuthLoginRequiredError

    try:
        return WhoamiCommand().run(app, WhoamiRequest(), ctx)
    except AuthLoginRequiredError:
        return Message(ctx.t("login-panel-not-logged-in"), data={"logged_in": False})
    except AuthLoginAgainError as exc:
        from bodhi_nb.commands import render_error

        return Message(ctx.t("login-panel-not-logged-in"),
                       (render_error(exc, prog=ctx.prog, app_factory=lambda: app),),
                       data={"logged_in": False})


@dataclass(frozen=True, repr=False)
class PanelView(Result):
    """Which panel to show, and its text form for front ends without widgets."""

    kind: str
    #: makes the text form, when one is asked for: a notebook that shows the panel itself
    #: never does (listing 1,000 models once more cost the panel a second)
    make_text: Callable[[], Result]
    #: what the panel is opened on (``panel chat ALIAS``: the alias)
    args: tuple[str, ...] = ()

    @functools.cached_property
    def text(self) -> Result:
        return self.make_text()

    def to_text(self) -> str:
        return self.text.to_text()

    def to_markdown(self) -> str:
        return self.text.to_markdown()

    def to_html(self) -> str:
        return self.text.to_html()

    def to_json(self) -> Any:
        return {"panel": self.kind, "listing": self.text.to_json(),
                **({"args": list(self.args)} if self.args else {})}


@dataclass(frozen=True)
class PanelRequest:
    pass


class _PanelVerb(Verb[PanelRequest]):
    Request = PanelRequest

    def run(self, app: AppService, request: PanelRequest, ctx: Context) -> Result:
        return PanelView(self.name, functools.partial(listing, self.name, app, ctx))


class SecretsPanel(_PanelVerb):
    name = "secrets"
    summary = "stored secrets: set (without echo), delete, rotate the master key"
    action = Action.SECRETS


class ModelsPanel(_PanelVerb):
    name = "models"
    summary = "local GGUF models: sort, filter, alias, delete"
    action = Action.MODELS


@dataclass(frozen=True)
class ChatPanelRequest:
    alias: str | None = None


class ChatPanel(Verb[ChatPanelRequest]):
    name = "chat"
    summary = "chat with an alias: threads from history, the answer streaming, Stop"
    action = Action.CHAT
    Request = ChatPanelRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("alias", nargs="?", help="the alias to chat with")

    def run(self, app: AppService, request: ChatPanelRequest, ctx: Context) -> Result:
        alias = request.alias
        if alias is not None and app.data_service().find_alias(alias) is None:
            raise AliasNotFoundError(alias=alias)
        return PanelView(self.name, functools.partial(listing, self.name, app, ctx),
                         args=(alias,) if alias is not None else ())


class PullPanel(_PanelVerb):
    name = "pull"
    summary = "list a Hub repository's GGUF files and pull them, a live row each"
    action = Action.PULL


class DownloadsPanel(_PanelVerb):
    name = "downloads"
    summary = "every download request: live progress, retry, archive"
    action = Action.DOWNLOADS


class LoginPanel(_PanelVerb):
    name = "login"
    summary = "who is logged in; log in with a code or in a browser, log out"


class AccessPanel(_PanelVerb):
    name = "access"
    summary = "access requests: approve with a role, reject with a reason"
    action = Action.ACCESS_REVIEW


@command
class PanelCommand(Group):
    name = "panel"
    summary = "open a widget panel (in a terminal: its table)"
    verbs = (SecretsPanel(), ModelsPanel(), ChatPanel(), PullPanel(), DownloadsPanel(),
             LoginPanel(), AccessPanel())
