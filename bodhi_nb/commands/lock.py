"""``lock``: write ``bodhi.lock`` (issue 14); ``pull --locked`` is in :mod:`.hub`.

The lock pins every model (repo, commit, file, SHA-256, size) and alias (its file at a commit,
request and context params) by name, or without names what this kernel pulled, aliased or
chatted with. Its format is :mod:`bodhi_nb.services.lock`'s.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Command, Context, command
from bodhi_nb.commands.results import Message, Result, Sections, WithJson, human_bytes
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.lock import LockFile, RestoreReport

__all__ = ["LockCommand", "restore_result"]


@dataclass(frozen=True)
class LockRequest:
    names: tuple[str, ...] = ()
    out: str | None = None
    json: bool = False


def _lock_json(lock: LockFile) -> dict[str, object]:
    return {
        "version": lock.version, "bodhi_nb": lock.bodhi_nb, "llama_cpp": lock.llama_cpp,
        "models": [{"repo": m.repo, "commit": m.commit, "file": m.file, "sha256": m.sha256,
                    "size": m.size} for m in lock.models],
        "aliases": [{"name": a.name, "repo": a.repo, "file": a.file, "commit": a.commit,
                     "request_params": a.request_params.to_dict(),
                     "context_params": list(a.context_params), "format": a.format}
                    for a in lock.aliases],
    }


@command
class LockCommand(Command[LockRequest]):
    name = "lock"
    summary = ("pin the models and aliases this notebook used (or those named) in bodhi.lock; "
               "`pull --locked` restores them")
    action = Action.LOCK
    Request = LockRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME",
                            help="aliases, model aliases (owner/repo:QUANT) or "
                                 "owner/repo/FILE; none: everything this kernel used")
        parser.add_argument("--out", metavar="PATH",
                            help="where to write it (default: BODHI_LOCK_FILE, ./bodhi.lock)")

    def request(self, namespace: argparse.Namespace) -> LockRequest:
        return LockRequest(names=tuple(namespace.names or ()), out=namespace.out,
                           json=bool(namespace.json))

    def run(self, app: AppService, request: LockRequest, ctx: Context) -> Result:
        from bodhi_nb.commands import render_error

        result = app.lock_service().lock(request.names, request.out)
        lock = result.lock
        models = ctx.table(("repo", "file", "commit", "size", "sha256"),
                           [(m.repo, m.file, m.commit[:12], human_bytes(m.size),
                             m.sha256[:12]) for m in lock.models],
                           title=ctx.t("lock-models-title"), empty=ctx.t("ui-none"))
        aliases = ctx.table(("alias", "repo", "file", "commit"),
                            [(a.name, a.repo, a.file, a.commit[:12]) for a in lock.aliases],
                            title=ctx.t("lock-aliases-title"), empty=ctx.t("ui-none"))
        notices = [ctx.t("lock-skipped", name=name,
                         error=render_error(error, prog=ctx.prog, app_factory=lambda: app))
                   for name, error in result.skipped]
        notices.append(ctx.t("lock-restore-hint", path=str(result.path)))
        done = Message(ctx.t("lock-written", path=str(result.path),
                             models=len(lock.models), aliases=len(lock.aliases)),
                       tuple(notices))
        shown = Sections((("models", models), ("aliases", aliases), ("written", done)))
        return WithJson(shown, {"path": str(result.path), "lock": _lock_json(lock),
                                "skipped": [name for name, _ in result.skipped]})


def restore_result(report: RestoreReport, ctx: Context) -> Result:
    """What ``pull --locked`` shows: each file and alias, and what was done with it."""
    rows = [(m.model.repo, m.model.file, m.model.commit[:12], human_bytes(m.model.size),
             ctx.t(f"lock-status-{m.status.replace('_', '-')}")) for m in report.models]
    records = [{"repo": m.model.repo, "file": m.model.file, "commit": m.model.commit,
                "size": m.model.size, "status": m.status} for m in report.models]
    files = ctx.table(("repo", "file", "commit", "size", "status"), rows, records=records,
                      title=ctx.t("lock-restored-title", path=str(report.path)))
    alias_rows = [(a.alias.name, a.alias.repo, a.alias.file,
                   ctx.t(f"lock-status-{a.status}"), ", ".join(a.differences))
                  for a in report.aliases]
    alias_records = [{"alias": a.alias.name, "status": a.status,
                      "differences": list(a.differences)} for a in report.aliases]
    aliases = ctx.table(("alias", "repo", "file", "status", "differs"), alias_rows,
                        records=alias_records, title=ctx.t("lock-aliases-title"),
                        empty=ctx.t("ui-none"))
    notices = tuple(ctx.t("lock-alias-differs", alias=a.alias.name,
                          fields=", ".join(a.differences))
                    for a in report.aliases if a.status == "differs")
    parts: list[tuple[str, Result]] = [("files", files), ("aliases", aliases)]
    if notices:
        parts.append(("notices", Message("", notices)))
    return Sections(tuple(parts))
