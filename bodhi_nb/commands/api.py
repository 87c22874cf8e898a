"""``api``: remote OpenAI-compatible APIs as aliases — add, ls, test, set-key, rm.

An API key is never taken on the command line (a notebook cell, its output and the shell
history would keep it): ``api add`` asks for it without echo, or reads the environment
variable named by ``--api-key-env``. A stray word on the line is refused without being
repeated, since it may be a key; so is any option whose name mentions a key.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bodhi_nb.commands.grammar import Context, Group, Verb, command, said
from bodhi_nb.commands.results import Message, Result, WithJson
from bodhi_nb.errors import (
    ApiKeyEnvMissingError,
    ApiKeyNoPromptError,
    ApiKeyOnCommandLineError,
    BadArgumentsError,
)
from bodhi_nb.objs import ApiAlias
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService

__all__ = ["ApiCommand"]

_USAGE = ("usage: api add NAME --base-url URL [--models A,B] [--prefix P/] [--forward-all] "
          "[--api-key-env VAR | --no-api-key] | api ls | api test NAME [--model M] | "
          "api set-key NAME [--api-key-env VAR | --no-api-key] | api rm NAME")
R = TypeVar("R")
_SHOWN_OPTION = re.compile(r"--?[a-z][a-z-]{0,30}")


def _refuse_extra(name: str | None, extra: Sequence[str], ctx: Context) -> None:
    if not extra:
        return
    options = [word.partition("=")[0] for word in extra if word.startswith("-")]
    words = [word for word in extra if not word.startswith("-")]
    if words or "=" in "".join(extra) or any("key" in o.lower() for o in options):
        raise ApiKeyOnCommandLineError(alias=name or "NAME")
    shown = [o for o in options if _SHOWN_OPTION.fullmatch(o)]
    raise BadArgumentsError(command="api", reason=(
        ctx.t("api-unknown-options", options=", ".join(shown)) if len(shown) == len(options)
        else ctx.t("api-unknown-options-hidden")))


def _models(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(m.strip() for m in value.split(",") if m.strip())


@dataclass(frozen=True)
class ApiAddRequest:
    name: str | None = None
    extra: tuple[str, ...] = ()
    base_url: str | None = None
    models: str | None = None
    prefix: str | None = None
    forward_all: bool = False
    api_key_env: str | None = None
    no_api_key: bool = False
    json: bool = False


@dataclass(frozen=True)
class ApiKeyRequest:
    """``api set-key NAME``: where the key comes from."""

    name: str | None = None
    extra: tuple[str, ...] = ()
    api_key_env: str | None = None
    no_api_key: bool = False
    json: bool = False


@dataclass(frozen=True)
class ApiTestRequest:
    name: str | None = None
    extra: tuple[str, ...] = ()
    model: str | None = None
    json: bool = False


@dataclass(frozen=True)
class ApiNameRequest:
    """``api rm NAME``, and ``api ls`` (which takes no name: one is refused)."""

    name: str | None = None
    extra: tuple[str, ...] = ()
    json: bool = False


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the alias name, e.g. openai")


def _key_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-key-env", metavar="VAR",
                        help="read the key from this environment variable instead of asking")
    parser.add_argument("--no-api-key", action="store_true",
                        help="the server needs no key (do not ask)")


def _named(verb: Verb[R], name: str | None, extra: Sequence[str], ctx: Context) -> str:
    """The alias a verb acts on (stray words refused first: they may be a key)."""
    _refuse_extra(name, extra, ctx)
    if name is None:
        raise BadArgumentsError(command=verb.group,
                                reason=ctx.t("api-needs-name", action=verb.name))
    return name


class ApiAdd(Verb[ApiAddRequest]):
    name = "add"
    summary = "add a remote API: api add NAME --base-url URL (the key is asked without echo)"
    action = Action.API_KEYS
    Request = ApiAddRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)
        parser.add_argument("--base-url", help="the API's base URL, e.g. "
                            "https://api.openai.com/v1")
        parser.add_argument("--models", help="comma-separated model ids (default: the "
                            "provider's list, fetched with the key)")
        parser.add_argument("--prefix", help="a prefix that selects this alias, e.g. openai/ "
                            "(chat with openai/gpt-4o-mini)")
        parser.add_argument("--forward-all", action="store_true",
                            help="forward every model name under --prefix")
        _key_arguments(parser)

    def run(self, app: AppService, request: ApiAddRequest, ctx: Context) -> Result:
        from bodhi_nb.services.ai_api import check_base_url

        name = _named(self, request.name, request.extra, ctx)
        if not request.base_url:
            raise BadArgumentsError(command=self.group, reason=ctx.t("api-add-needs-url"))
        service = app.ai_api_service()
        alias = service.check_new_alias(ApiAlias(
            id=name, base_url=check_base_url(request.base_url),
            models=_models(request.models), prefix=request.prefix,
            forward_all_with_prefix=request.forward_all))
        key = _read_key(request, name, ctx)
        notices: list[str] = []
        if not alias.models and not alias.forward_all_with_prefix:
            models = service.models_at(alias.base_url, key, alias=alias.id)
            alias = ApiAlias(id=alias.id, base_url=alias.base_url, models=tuple(models),
                             prefix=alias.prefix, forward_all_with_prefix=False)
            notices.append(ctx.t("api-models-added", count=len(models)))
        stored = service.add_api_alias(alias, key)
        del key
        if not stored.has_api_key:
            notices.append(ctx.t("api-no-key-stored"))
        elif _in_clear(stored.base_url):
            notices.append(ctx.t("api-key-in-clear", url=stored.base_url))
        notice = app.keyring_service().take_notice() if stored.has_api_key else None
        if notice:
            notices.append(said(ctx, notice))
        notices.append(ctx.t("api-test-hint", alias=stored.id))
        return Message(ctx.t("api-added", alias=stored.id, url=stored.base_url,
                             details=_describe(stored, ctx)), tuple(notices), data=_row(stored))


class ApiLs(Verb[ApiNameRequest]):
    name = "ls"
    summary = "list the API aliases"
    action = Action.MODELS
    Request = ApiNameRequest

    def run(self, app: AppService, request: ApiNameRequest, ctx: Context) -> Result:
        _refuse_extra(request.name, request.extra, ctx)
        aliases = app.ai_api_service().list_api_aliases()
        rows = [(a.id, a.base_url, _models_text(a), a.prefix or "", a.forward_all_with_prefix,
                 a.has_api_key, a.updated_at) for a in aliases]
        return ctx.table(("name", "base_url", "models", "prefix", "forward_all", "has_api_key",
                          "updated"), rows, title=ctx.t("api-ls-title"),
                         empty=ctx.t("api-ls-empty"))


class ApiTest(Verb[ApiTestRequest]):
    name = "test"
    summary = "check an API alias's key, and a model with a tiny prompt"
    action = Action.API_TEST
    Request = ApiTestRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)
        parser.add_argument("--model", help="api test: the model to send a tiny prompt to")

    def run(self, app: AppService, request: ApiTestRequest, ctx: Context) -> Result:
        name = _named(self, request.name, request.extra, ctx)
        service = app.ai_api_service()
        alias = service.get_api_alias(name)
        listed = service.test_api_key(alias.id)
        model = request.model
        if model is None and alias.models:
            model = alias.models[0]
        rows: list[tuple[str, str]] = [
            (ctx.t("api-test-key"), ctx.t("api-test-key-accepted") if alias.has_api_key
             else ctx.t("api-test-key-none")),
            (ctx.t("api-test-models"),
             ", ".join(listed[:10]) + (" …" if len(listed) > 10 else "")),
        ]
        reply = None
        if model is not None:
            target = service.target(alias, model)
            reply = service.test_model(alias.id, model)
            rows.append((ctx.t("api-test-model", model=target.model),
                         ctx.t("api-test-answered", reply=repr(reply))))
        data = {"alias": alias.id, "key_accepted": True, "models": listed, "model": model,
                "reply": reply}
        table = ctx.table(("check", "result"), rows, title=ctx.t("api-test-title", alias=alias.id))
        return WithJson(table, data)


class ApiSetKey(Verb[ApiKeyRequest]):
    name = "set-key"
    summary = "replace (or remove) an API alias's key"
    action = Action.API_KEYS
    Request = ApiKeyRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)
        _key_arguments(parser)

    def run(self, app: AppService, request: ApiKeyRequest, ctx: Context) -> Result:
        name = _named(self, request.name, request.extra, ctx)
        service = app.ai_api_service()
        service.get_api_alias(name)
        key = _read_key(request, name, ctx)
        stored = service.set_api_key(name, key)
        del key
        text = (ctx.t("api-key-stored", alias=stored.id) if stored.has_api_key
                else ctx.t("api-key-removed", alias=stored.id))
        return Message(text, data=_row(stored))


class ApiRm(Verb[ApiNameRequest]):
    name = "rm"
    summary = "remove an API alias and its key"
    action = Action.API_KEYS
    Request = ApiNameRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _name_argument(parser)

    def run(self, app: AppService, request: ApiNameRequest, ctx: Context) -> Result:
        name = _named(self, request.name, request.extra, ctx)
        removed = app.ai_api_service().remove_api_alias(name)
        return Message(ctx.t("api-removed", alias=removed.id),
                       data={"removed": removed.id})


@command
class ApiCommand(Group):
    name = "api"
    summary = ("remote OpenAI-compatible APIs: add (key asked without echo), ls, test, "
               "set-key, rm")
    quiet_usage = _USAGE
    verbs = (ApiAdd(), ApiLs(), ApiTest(), ApiSetKey(), ApiRm())


def _in_clear(base_url: str) -> bool:
    """Plain http to another machine: the key would cross the network unencrypted."""
    import ipaddress
    import urllib.parse

    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _read_key(request: ApiAddRequest | ApiKeyRequest, name: str, ctx: Context) -> str | None:
    """The key from --api-key-env, or asked without echo; None for no key."""
    if request.no_api_key and request.api_key_env:
        raise BadArgumentsError(command="api", reason=ctx.t("api-key-options-both"))
    if request.no_api_key:
        return None
    if request.api_key_env:
        value = os.environ.get(request.api_key_env, "").strip()
        if not value:
            raise ApiKeyEnvMissingError(var=request.api_key_env)
        return value
    if ctx.ask_secret is None:
        raise ApiKeyNoPromptError(alias=name)
    try:
        answer = ctx.ask_secret(ctx.t("api-key-prompt", alias=name) + " ")
    except EOFError:
        raise ApiKeyNoPromptError(alias=name) from None
    return (answer or "").strip() or None


def _models_text(alias: ApiAlias) -> str:
    if alias.forward_all_with_prefix:
        return f"{alias.prefix}*"
    shown = ", ".join(alias.models[:6])
    return shown + (f" (+{len(alias.models) - 6})" if len(alias.models) > 6 else "")


def _describe(alias: ApiAlias, ctx: Context) -> str:
    parts = [ctx.t("api-describe-models", models=_models_text(alias) or ctx.t("ui-none"))]
    if alias.prefix:
        parts.append(ctx.t("api-describe-prefix", prefix=alias.prefix))
    parts.append(ctx.t("api-describe-key") if alias.has_api_key
                 else ctx.t("api-describe-no-key"))
    return "; ".join(parts)


def _row(alias: ApiAlias) -> dict[str, object]:
    data = alias.to_dict()
    data["name"] = data.pop("id")
    return data
