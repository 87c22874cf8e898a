"""API token commands: ``token create NAME [--scope user|power_user]``, ``token ls``,
``token revoke NAME``.

The rules live in :class:`~bodhi_nb.services.api_tokens.ApiTokenService`; these commands
parse, call and word the answer. ``token create`` returns a :class:`TokenCreated`: the token
on a line of its own, the words around it on other lines. The terminal prints the token alone
to standard output (the words go to standard error, so ``TOKEN=$(bodhi token create ci)``
works); the notebook shows it once without keeping it in ``Out``. Nothing else ever shows a
token: ``ls`` and ``revoke`` show its prefix.
"""

from __future__ import annotations

import argparse
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Context, Group, Verb, command
from bodhi_nb.commands.results import Message, Result, WithJson, _md_inline, inline_html
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.redact import SecretStr
    from bodhi_nb.services.api_tokens import ApiToken

__all__ = ["TokenCommand", "TokenCreated", "token_record"]


def token_record(token: ApiToken) -> dict[str, Any]:
    """A token as ``--json`` shows it (never the token itself)."""
    return {"id": token.id, "name": token.name, "prefix": token.prefix,
            "scope": token.scope, "user_id": token.user_id, "status": token.status,
            "created_at": token.created_at, "updated_at": token.updated_at,
            "last_used_at": token.last_used_at}


@dataclass(frozen=True, repr=False)
class TokenCreated(Result):
    """A new token, shown once: ``head``, then the token alone on its line, then ``notes``."""

    token: ApiToken
    secret: SecretStr = field(repr=False)
    head: str = ""
    notes: tuple[str, ...] = ()

    def to_text(self) -> str:
        return "\n".join([self.head, str(self.secret), *self.notes])

    def to_markdown(self) -> str:
        return "\n\n".join([_md_inline(self.head), f"```\n{str(self.secret)}\n```",
                            *(f"*{_md_inline(n)}*" for n in self.notes)])

    def to_html(self) -> str:
        return "".join([f"<div>{inline_html(self.head)}</div>",
                        f"<pre>{html.escape(str(self.secret))}</pre>",
                        *(f"<div><em>{inline_html(n)}</em></div>" for n in self.notes)])

    def to_json(self) -> Any:
        return {**token_record(self.token), "token": str(self.secret)}


# -- token create -------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenCreateRequest:
    name: str = ""
    scope: str = "user"
    json: bool = False


class TokenCreate(Verb[TokenCreateRequest]):
    name = "create"
    summary = "make an API token; it is shown once, on a line of its own"
    action = Action.TOKENS
    Request = TokenCreateRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="a name for the token")
        parser.add_argument("--scope", default="user", choices=("user", "power_user"),
                            help="user (chat, models) or power_user (also pull and aliases)")

    def run(self, app: AppService, request: TokenCreateRequest, ctx: Context) -> Result:
        token, secret = app.api_token_service().create(request.name, request.scope)
        return TokenCreated(token, secret,
                            ctx.t("token-created", name=token.name, scope=token.scope),
                            (ctx.t("token-created-use"),))


# -- token ls -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenLsRequest:
    json: bool = False


class TokenLs(Verb[TokenLsRequest]):
    name = "ls"
    summary = "your API tokens (never the tokens themselves)"
    action = Action.TOKENS
    Request = TokenLsRequest

    def run(self, app: AppService, request: TokenLsRequest, ctx: Context) -> Result:
        tokens = app.api_token_service().list()
        never = ctx.t("token-never")
        rows = [(t.name, t.prefix, t.scope, t.created_at, t.last_used_at or never,
                 ctx.t(f"token-status-{t.status}")) for t in tokens]
        records = [token_record(t) for t in tokens]
        table = ctx.table(("name", "prefix", "scope", "created", "last_used", "status"), rows,
                          title=ctx.t("token-ls-title"), empty=ctx.t("token-ls-empty"),
                          records=records)
        return WithJson(table, records)


# -- token revoke ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRevokeRequest:
    name: str = ""
    json: bool = False


class TokenRevoke(Verb[TokenRevokeRequest]):
    name = "revoke"
    summary = "revoke an API token: refused from its next request on"
    action = Action.TOKENS
    Request = TokenRevokeRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="the token's name")

    def run(self, app: AppService, request: TokenRevokeRequest, ctx: Context) -> Result:
        done = app.api_token_service().revoke(request.name)
        return Message(ctx.t("token-revoked", name=done.name, prefix=done.prefix),
                       data=token_record(done))


@command
class TokenCommand(Group):
    name = "token"
    summary = "API tokens for `bodhi serve` clients: create (shown once), list, revoke"
    verbs = (TokenCreate(), TokenLs(), TokenRevoke())
    default_verb = "ls"
