"""``secret``: set (asked without echo), ls, rm, rotate-key.

A value is never taken from the command line: a notebook cell, its output and the shell
history would keep it. Any word after ``secret set NAME`` is refused, and a parse error of
this command never repeats what was typed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Context, Group, Verb, command, said
from bodhi_nb.commands.results import Message, Result
from bodhi_nb.errors import (
    BadArgumentsError,
    EmptyValueError,
    NoPromptError,
    SecretNotFoundError,
    ValueOnCommandLineError,
)
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService

__all__ = ["SecretCommand"]

_USAGE = "usage: secret set NAME | secret ls | secret rm NAME | secret rotate-key"


@dataclass(frozen=True)
class SecretNameRequest:
    """``secret set NAME`` / ``secret rm NAME``; stray words land in ``extra``."""

    name: str | None = None
    extra: tuple[str, ...] = ()
    json: bool = False


@dataclass(frozen=True)
class SecretRequest:
    """``secret ls`` / ``secret rotate-key``."""

    extra: tuple[str, ...] = ()
    json: bool = False


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the secret's name, e.g. HF_TOKEN")


def _no_more_words(verb: Verb[SecretRequest], request: SecretRequest, ctx: Context) -> None:
    if request.extra:
        raise BadArgumentsError(command=verb.group,
                                reason=ctx.t("secret-no-more-words", action=verb.name))


class SecretSet(Verb[SecretNameRequest]):
    name = "set"
    summary = "store a secret: its value is asked at a prompt, without echo"
    action = Action.SECRETS
    Request = SecretNameRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)

    def run(self, app: AppService, request: SecretNameRequest, ctx: Context) -> Result:
        name = request.name
        if name is None:
            raise BadArgumentsError(command=self.group, reason=ctx.t("secret-set-needs-name"))
        if "=" in name:  # `secret set HF_TOKEN=hf_...`
            raise ValueOnCommandLineError(name=name.partition("=")[0])
        if request.extra:
            raise ValueOnCommandLineError(name=name)
        from bodhi_nb.services.secret import check_name

        check_name(name)
        if ctx.ask_secret is None:
            raise NoPromptError(name=name)
        try:
            value = ctx.ask_secret(ctx.t("secret-prompt", name=name) + " ")
        except EOFError:
            raise NoPromptError(name=name) from None
        value = (value or "").strip()
        if not value:
            raise EmptyValueError(name=name)
        service = app.secret_service()
        service.store_secret(name, value)
        del value
        notice = app.keyring_service().take_notice()
        return Message(ctx.t("secret-stored", name=name),
                       (said(ctx, notice),) if notice else (), data={"stored": name})


class SecretLs(Verb[SecretRequest]):
    name = "ls"
    summary = "list the stored secrets (names and dates, never values)"
    action = Action.SECRETS
    Request = SecretRequest

    def run(self, app: AppService, request: SecretRequest, ctx: Context) -> Result:
        _no_more_words(self, request, ctx)
        rows = [(s.name, s.created_at, s.updated_at)
                for s in app.secret_service().list_secrets()]
        return ctx.table(("name", "created", "updated"), rows,
                         title=ctx.t("secret-ls-title"), empty=ctx.t("secret-ls-empty"))


class SecretRm(Verb[SecretNameRequest]):
    name = "rm"
    summary = "remove a secret"
    action = Action.SECRETS
    Request = SecretNameRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)

    def run(self, app: AppService, request: SecretNameRequest, ctx: Context) -> Result:
        if request.extra:
            raise BadArgumentsError(command=self.group,
                                    reason=ctx.t("secret-no-more-words", action=self.name))
        if request.name is None:
            raise BadArgumentsError(command=self.group, reason=ctx.t("secret-rm-needs-name"))
        if not app.secret_service().delete_secret(request.name):
            raise SecretNotFoundError(name=request.name)
        return Message(ctx.t("secret-removed", name=request.name),
                       data={"removed": request.name})


class SecretRotateKey(Verb[SecretRequest]):
    name = "rotate-key"
    summary = "encrypt every stored secret again under a new master key"
    action = Action.SECRETS
    Request = SecretRequest

    def run(self, app: AppService, request: SecretRequest, ctx: Context) -> Result:
        _no_more_words(self, request, ctx)
        rotation = app.secret_service().rotate_key()
        source = said(ctx, rotation.source)
        return Message(
            ctx.t("secret-rotated", secrets=rotation.secrets, rows=rotation.rows,
                  source=source),
            data={"secrets": rotation.secrets, "rows": rotation.rows, "source": source})


@command
class SecretCommand(Group):
    name = "secret"
    summary = ("store a secret (asked without echo), list or remove secrets, rotate the "
               "master key")
    quiet_usage = _USAGE
    verbs = (SecretSet(), SecretLs(), SecretRm(), SecretRotateKey())
