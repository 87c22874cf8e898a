"""``secret``: set (asked without echo), ls, rm, rotate-key.

A value is never taken from the command line: a notebook cell, its output and the shell
history would keep it. Any word after ``secret set NAME`` is refused, and a parse error of
this command never repeats what was typed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from bodhi_nb.commands.grammar import Command, Context, command
from bodhi_nb.commands.results import Message, Result
from bodhi_nb.errors import (
    BadArgumentsError,
    EmptyValueError,
    NoPromptError,
    SecretNotFoundError,
    ValueOnCommandLineError,
)

__all__ = ["SecretCommand"]

_ACTIONS = ("set", "ls", "rm", "rotate-key")
_USAGE = "usage: secret set NAME | secret ls | secret rm NAME | secret rotate-key"


@command
class SecretCommand(Command):
    name = "secret"
    summary = ("store a secret (asked without echo), list or remove secrets, rotate the "
               "master key")
    quiet_usage = _USAGE

    @dataclass(frozen=True)
    class Request:
        action: str
        name: str | None = None
        extra: tuple[str, ...] = ()
        json: bool = False


    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=_ACTIONS,
                            help="set NAME (the value is asked at a prompt), ls, rm NAME, "
                                 "rotate-key")
        parser.add_argument("name", nargs="?", help="the secret's name, e.g. HF_TOKEN")
        parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        action = request.action
        if action == "set":
            return self._set(app, request, ctx)
        if request.extra or (request.name is not None and action != "rm"):
            raise BadArgumentsError(command=self.name,
                                    reason=ctx.t("secret-no-more-words", action=action))
        service = app.secret_service()
        if action == "ls":
            rows = [(s.name, s.created_at, s.updated_at) for s in service.list_secrets()]
            return ctx.table(("name", "created", "updated"), rows,
                             title=ctx.t("secret-ls-title"), empty=ctx.t("secret-ls-empty"))
        if action == "rm":
            if request.name is None:
                raise BadArgumentsError(command=self.name, reason=ctx.t("secret-rm-needs-name"))
            if not service.delete_secret(request.name):
                raise SecretNotFoundError(name=request.name)
            return Message(ctx.t("secret-removed", name=request.name),
                           data={"removed": request.name})
        rotation = service.rotate_key()
        source = ctx.t(rotation.source, **rotation.source.args)
        return Message(
            ctx.t("secret-rotated", secrets=rotation.secrets, rows=rotation.rows,
                  source=source),
            data={"secrets": rotation.secrets, "rows": rotation.rows, "source": source})

    def _set(self, app: Any, request: Any, ctx: Context) -> Result:
        name = request.name
        if name is None:
            raise BadArgumentsError(command=self.name, reason=ctx.t("secret-set-needs-name"))
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
                       (ctx.t(notice, **notice.args),) if notice else (), data={"stored": name})
