"""Local models and aliases: ``ls`` (``models``) and ``alias create|ls|show|copy|rm``.

``-o KEY=VALUE`` sets an alias's request defaults (OpenAI parameters, range-checked);
``--ctx KEY[=VALUE]`` adds a llama-server option, stored as BodhiApp stores it: one
argument string per option, ``--ctx ctx-size=4096`` -> ``"--ctx-size 4096"``,
``--ctx flash-attn`` -> ``"--flash-attn"``. A few llama-cpp-python spellings are accepted
(``n_ctx`` -> ``ctx-size``, ``n_gpu_layers`` -> ``n-gpu-layers``), and an option can also
be given verbatim: ``--ctx "--ctx-size 4096"``.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Command, Context, Group, Verb, command
from bodhi_nb.commands.results import (
    Message,
    Result,
    Sections,
    format_timestamp,
    human_bytes,
)
from bodhi_nb.errors import BadArgumentsError, InvalidValueError, RemoteFileNotFoundError
from bodhi_nb.objs import (
    ANSWER_FORMATS,
    ApiAlias,
    OAIRequestParams,
    Repo,
    UserAlias,
    canonical_llama_flag,
    parse_options,
)
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.data import LocalModel

__all__ = ["AliasCommand", "ModelsCommand", "parse_context_params", "parse_request_params"]

#: The request defaults an alias keeps, and the type each is read as.
_PARAM_TYPES: dict[str, type] = {
    "frequency_penalty": float, "max_tokens": int, "presence_penalty": float, "seed": int,
    "stop": str, "temperature": float, "top_p": float, "user": str, "system_prompt": str,
}
_CTX_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def parse_request_params(items: Sequence[str], command: str = "alias",
                         ctx: Context | None = None) -> OAIRequestParams:
    """``["temperature=0.2", "stop=###", "stop=END"]`` -> OAIRequestParams (range-checked).
    The values are read as every ``-o`` is (:func:`bodhi_nb.objs.parse_options`)."""
    ctx = ctx or Context()

    def bad(item: str) -> BadArgumentsError:
        return BadArgumentsError(command=command, reason=ctx.t(
            "alias-bad-option", keys=", ".join(sorted(_PARAM_TYPES)), item=repr(item)))

    try:
        options = parse_options(items)
    except InvalidValueError as exc:
        raise bad(exc.params["value"]) from None
    values: dict[str, object] = {}
    for key, value in options.items():
        kind = _PARAM_TYPES.get(key)
        if kind is None:
            raise bad(next(i for i in items if i.partition("=")[0].strip().replace("-", "_")
                           == key))
        if key == "stop":
            values[key] = tuple(str(v) for v in value)
        elif kind is str:
            values[key] = str(value)
        else:
            values[key] = _number(key, value, kind, ctx)
    return OAIRequestParams(**values)  # type: ignore[arg-type]


def _number(key: str, value: object, kind: type, ctx: Context) -> int | float:
    """``value`` (a JSON number, or text that was not JSON) as an int or a float."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(value)
        if kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        return float(value)
    except (ValueError, OverflowError):
        expected = ctx.t("alias-expected-int" if kind is int else "alias-expected-number")
        raise InvalidValueError(name=key, value=value, reason=expected) from None


def parse_context_params(items: Sequence[str], command: str = "alias",
                         ctx: Context | None = None) -> tuple[str, ...]:
    """``["ctx-size=4096", "flash-attn", "n_ctx=8192"]`` -> ``("--ctx-size 4096",
    "--flash-attn", "--ctx-size 8192")``: llama.cpp's spellings are read through the one
    table (:data:`bodhi_nb.objs.LLAMA_FLAG_SPELLINGS`)."""
    ctx = ctx or Context()
    out = []
    for item in items:
        item = item.strip()
        if item.startswith("-") and " " in item:
            out.append(item)  # already a llama-server option with its value
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lstrip("-")
        if not _CTX_KEY.match(key) or "\n" in value or (sep and not value.strip()):
            raise BadArgumentsError(command=command,
                                    reason=ctx.t("alias-bad-ctx", item=repr(item)))
        flag = f"-{key}" if len(key) == 1 else canonical_llama_flag(f"--{key}")
        out.append(f"{flag} {shlex.quote(value.strip())}" if sep else flag)
    return tuple(out)


def _params_text(alias: UserAlias) -> str:
    return " ".join(f"{k}={v}" for k, v in alias.request_params.to_dict().items())


@dataclass(frozen=True)
class ModelsRequest:
    json: bool = False


@command
class ModelsCommand(Command[ModelsRequest]):
    name = "ls"
    aliases = ("models",)
    summary = "list the GGUF models in the local Hugging Face cache, with their aliases"
    action = Action.MODELS
    Request = ModelsRequest

    def run(self, app: AppService, request: ModelsRequest, ctx: Context) -> Result:
        data = app.data_service()
        return models_result(data.local_models(), str(data.hf_cache.root), ctx,
                             json=request.json)


def models_result(models: Sequence[LocalModel], root: str, ctx: Context, *,
                  json: bool = False) -> Result:
    """What ``ls`` shows for these models (the models panel's text form, from its rows)."""
    if json:
        rows = []
        for m in models:
            meta = m.metadata.to_dict() if m.metadata else {}
            rows.append({
                "repo": m.file.repo, "filename": m.file.filename,
                "snapshot": m.file.snapshot, "path": str(m.file.path), "size": m.file.size,
                "quantization": meta.get("quantization"),
                "architecture": meta.get("architecture"),
                "context_length": meta.get("context_length"),
                "parameter_count": meta.get("parameter_count"),
                "has_chat_template": meta.get("has_chat_template"),
                "aliases": list(m.aliases), "problem": m.problem,
            })
        return Message(ctx.t("models-count", count=len(rows)), data=rows)
    table = ctx.table(
        ("repo", "file", "quant", "size", "arch", "context", "aliases"),
        [(m.file.repo, m.file.filename,
          (m.metadata.quantization if m.metadata else None) or "",
          human_bytes(m.file.size),
          m.metadata.architecture if m.metadata else ctx.t("models-unreadable"),
          m.metadata.context_length if m.metadata else None,
          ", ".join(m.aliases)) for m in models],
        title=ctx.t("models-title", root=root),
        empty=ctx.t("models-empty"))
    problems = [f"{m.file.path}: {m.problem}" for m in models if m.problem]
    if not problems:
        return table
    note = Message(ctx.t("models-problems", count=len(problems)), tuple(problems))
    return Sections((("models", table), ("problems", note)))


# -- alias create|ls|show|copy|rm -----------------------------------------------------------


@dataclass(frozen=True)
class AliasCreateRequest:
    name: str
    repo: str
    file: str
    revision: str = "main"
    options: Sequence[str] = ()
    ctx: Sequence[str] = ()
    replace: bool = False
    format: str | None = None
    json: bool = False


@dataclass(frozen=True)
class AliasLsRequest:
    json: bool = False


@dataclass(frozen=True)
class AliasNameRequest:
    """``alias show NAME``, ``alias rm NAME``."""

    name: str
    json: bool = False


@dataclass(frozen=True)
class AliasCopyRequest:
    name: str
    target: str
    json: bool = False


class AliasCreate(Verb[AliasCreateRequest]):
    name = "create"
    summary = "name a GGUF file: alias create NAME --repo OWNER/REPO --file FILE.gguf"
    action = Action.ALIAS
    Request = AliasCreateRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name", help="the alias, e.g. llama3:instruct")
        parser.add_argument("--repo", required=True, help="Hugging Face repository")
        parser.add_argument("--file", required=True, help="the .gguf file in the repository")
        parser.add_argument("--revision", default="main", help="branch, tag or commit")
        parser.add_argument("-o", dest="options", action="append", default=[],
                            metavar="KEY=VALUE",
                            help="request default: temperature, top_p, max_tokens, seed, "
                                 "stop, frequency_penalty, presence_penalty, user, "
                                 "system_prompt")
        parser.add_argument("--ctx", dest="ctx", action="append", default=[],
                            metavar="KEY[=VALUE]",
                            help="llama-server option, e.g. ctx-size=4096 or flash-attn")
        parser.add_argument("--format", choices=ANSWER_FORMATS, default=None,
                            help="how answers render (default: Markdown, text for a GGUF "
                                 "without a chat template)")
        parser.add_argument("--replace", action="store_true",
                            help="replace an existing user alias of that name")

    def run(self, app: AppService, request: AliasCreateRequest, ctx: Context) -> Result:
        data = app.data_service()
        alias = UserAlias(
            alias=request.name, repo=request.repo, filename=request.file,
            snapshot=request.revision,
            request_params=parse_request_params(request.options, self.group, ctx),
            context_params=parse_context_params(request.ctx, self.group, ctx),
            format=request.format,
        )
        notices: tuple[str, ...] = ()
        repo = Repo.parse(alias.repo)
        if not data.hf_cache.local_file_exists(repo, alias.filename, alias.snapshot):
            # Not here yet: ask the Hub whether the file exists before saving a dead alias;
            # offline (or a Hub that cannot tell) the alias is saved with a warning.
            found = app.hub_service().remote_file_exists(repo, alias.filename, alias.snapshot)
            if found is False:
                raise RemoteFileNotFoundError(repo=repo.id, filename=alias.filename,
                                              revision=alias.snapshot)
            notices = (ctx.t("alias-not-downloaded", filename=alias.filename),)
            if found is None:
                notices += (ctx.t("alias-not-checked", repo=repo.id),)
        saved = data.save_alias(alias) if request.replace else data.create_alias(alias)
        return Message(ctx.t("alias-created", alias=saved.alias, repo=saved.repo,
                             filename=saved.filename, snapshot=saved.snapshot),
                       notices, data=saved.to_dict())


class AliasLs(Verb[AliasLsRequest]):
    name = "ls"
    summary = "list user, model and API aliases"
    action = Action.MODELS
    Request = AliasLsRequest

    def run(self, app: AppService, request: AliasLsRequest, ctx: Context) -> Result:
        listing = app.data_service().list_aliases()
        if request.json:
            return Message("aliases", data={
                "aliases": [a.to_dict() for a in sorted([*listing.user, *listing.model],
                                                        key=lambda a: a.alias)]
                + [{**a.to_dict(), "source": "api", "alias": a.id} for a in listing.api],
                "problems": [p.to_dict() for p in listing.problems],
            })
        rows: list[tuple[object, ...]] = [
            (a.alias, _source(ctx, a.source.value), a.repo, a.filename, a.snapshot[:12],
             _params_text(a), " ".join(a.context_params))
            for a in sorted([*listing.user, *listing.model], key=lambda a: a.alias)
        ]
        rows += [(a.id, _source(ctx, "api"), a.base_url,
                  ", ".join(a.models) or f"{a.prefix or ''}*", "", "", "") for a in listing.api]
        table = ctx.table(("alias", "source", "repo", "file", "snapshot", "request_params",
                           "context_params"), rows, title=ctx.t("alias-ls-title"),
                          empty=ctx.t("alias-ls-empty"))
        if not listing.problems:
            return table
        note = Message(ctx.t("alias-ls-problems", count=len(listing.problems)),
                       tuple(f"{p.path}: {p.error}" for p in listing.problems))
        return Sections((("aliases", table), ("problems", note)))


class AliasShow(Verb[AliasNameRequest]):
    name = "show"
    summary = "show one alias"
    action = Action.MODELS
    Request = AliasNameRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name")

    def run(self, app: AppService, request: AliasNameRequest, ctx: Context) -> Result:
        from bodhi_nb.errors import AliasNotFoundError, LocalFileNotFoundError

        data = app.data_service()
        found = data.find_alias(request.name, locked=False)  # the file, not bodhi.lock
        if found is None:
            raise AliasNotFoundError(alias=request.name)
        if isinstance(found, ApiAlias):
            view: dict[str, Any] = {"alias": found.id, "source": "api", **found.to_dict()}
        else:
            view = found.to_dict()
            view["context_params"] = list(found.context_params)
            if found.source.value == "user":
                record = data.alias_record(found.alias)
                view["file"] = str(record.path)
                for key in ("created_at", "updated_at"):
                    stamp = getattr(record, key)
                    view[key] = stamp.isoformat().replace("+00:00", "Z") if stamp else None
            try:
                local = data.hf_cache.find_local_file(found.repo, found.filename,
                                                      found.snapshot)
                view["local_path"] = str(local.path)
                view["size"] = local.size
            except LocalFileNotFoundError:
                view["local_path"] = None
        # JSON keeps ISO 8601; the text shows the tables' one timestamp format.
        shown = {k: (_timestamp(v) if k.endswith("_at") else v) for k, v in view.items()}
        return Message(_yaml_like(shown), data=view, preformatted=True)


class AliasCopy(Verb[AliasCopyRequest]):
    name = "copy"
    summary = "copy alias NAME to a new user alias TARGET"
    action = Action.ALIAS
    Request = AliasCopyRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("target")

    def run(self, app: AppService, request: AliasCopyRequest, ctx: Context) -> Result:
        copied = app.data_service().copy_alias(request.name, request.target)
        return Message(ctx.t("alias-copied", alias=request.name, target=copied.alias),
                       data=copied.to_dict())


@dataclass(frozen=True)
class AliasRmRequest:
    name: str


class AliasRm(Verb[AliasRmRequest]):
    name = "rm"
    summary = "remove a user alias (or its unreadable file)"
    action = Action.ALIAS
    Request = AliasRmRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("name")

    def run(self, app: AppService, request: AliasRmRequest, ctx: Context) -> Result:
        path = app.data_service().delete_alias(request.name)
        return Message(ctx.t("alias-removed", alias=request.name, path=str(path)),
                       data={"alias": request.name, "path": str(path)})


@command
class AliasCommand(Group):
    name = "alias"
    summary = "create, list, show, copy or remove model aliases"
    verbs = (AliasCreate(), AliasLs(), AliasShow(), AliasCopy(), AliasRm())


def _timestamp(value: object) -> object:
    """An ISO 8601 timestamp in the tables' format; anything else unchanged."""
    from datetime import datetime

    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, str):
        try:
            return format_timestamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


def _source(ctx: Context, value: str) -> str:
    return ctx._messages().message(f"alias-source-{value}", default=value)


def _yaml_like(view: dict[str, object]) -> str:
    import yaml

    return str(yaml.safe_dump(view, sort_keys=False, allow_unicode=True,
                              default_flow_style=False)).rstrip()
