"""Commands that talk to the Hub: ``pull``, ``rm``, ``downloads``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bodhi_nb.commands.grammar import Command, Context, Group, Verb, command, confirmed
from bodhi_nb.commands.results import Message, Result, Sections, Table, human_bytes
from bodhi_nb.errors import BadArgumentsError
from bodhi_nb.objs import DownloadRequest, HubFile, ModelRef, Repo
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.hub import HubService

__all__ = ["DownloadsCommand", "PullCommand", "RmCommand"]


def _english(ctx: Context) -> Context:
    """``ctx`` speaking en-US: the words ``--json`` keeps whatever the user's language."""
    return Context(prog=ctx.prog)


def _files_for(app: AppService, ref: ModelRef, revision: str) -> list[str]:
    from bodhi_nb.gguf import resolve_quant, shard_files

    if ref.filename is not None:
        return [ref.filename]
    names = [name for name, _ in app.hub_service().list_repo_files(ref.repo, revision)]
    assert ref.quant is not None
    return shard_files(names, resolve_quant(names, ref.quant))


def _repo_listing(app: AppService, repo: Repo, revision: str, ctx: Context) -> Result:
    from bodhi_nb.gguf import is_auxiliary, quant_from_filename

    rows = [(name, quant_from_filename(name), human_bytes(size))
            for name, size in app.hub_service().list_repo_files(repo, revision)
            if name.lower().endswith(".gguf") and not is_auxiliary(name)]
    table = ctx.table(("file", "quant", "size"), rows,
                      title=ctx.t("hub-files-title", repo=str(repo), revision=revision),
                      empty=ctx.t("hub-files-empty"))
    hint = Message(ctx.t("hub-files-hint", repo=str(repo)))
    return Sections((("files", table), ("hint", hint)))


@dataclass(frozen=True)
class PullRequest:
    ref: str | None = None
    file: str | None = None
    revision: str = "main"
    alias: str | None = None
    dry_run: bool = False
    background: bool = False
    force: bool = False
    #: ``--locked [PATH]``: restore a lock file ("" for BODHI_LOCK_FILE, ./bodhi.lock)
    locked: str | None = None
    connections: int | None = None
    json: bool = False


@command
class PullCommand(Command[PullRequest]):
    name = "pull"
    summary = "download a GGUF from the Hugging Face Hub (resumable, verified)"
    action = Action.PULL
    Request = PullRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ref", nargs="?", help="owner/repo, owner/repo:QUANT, "
                            "owner/repo/FILE or hf://owner/repo/FILE")
        parser.add_argument("file", nargs="?", help="the file, when ref is owner/repo")
        parser.add_argument("--revision", default="main", help="branch, tag or commit")
        parser.add_argument("--alias", help="create a model alias for the file on success")
        parser.add_argument("--dry-run", action="store_true",
                            help="show what would be downloaded, and its size")
        parser.add_argument("--background", action="store_true",
                            help="return at once; `downloads` shows progress")
        parser.add_argument("--force", action="store_true",
                            help="download again, even a file already in the cache (a "
                                 "truncated or damaged copy)")
        parser.add_argument("--locked", nargs="?", const="", metavar="PATH",
                            help="restore the files and aliases of a lock file (default: "
                                 "./bodhi.lock), each checked against its SHA-256")
        parser.add_argument("--connections", type=int, metavar="N",
                            help="how many connections download one large file (default: "
                                 "the BODHI_PULL_CONNECTIONS setting; 1: one stream)")

    def request(self, namespace: argparse.Namespace) -> PullRequest:
        request = super().request(namespace)
        if request.ref is None and request.locked is None:
            # argparse's own words (translated where it is shown): ref is optional only
            # for --locked
            raise BadArgumentsError(command=self.name,
                                    reason="the following arguments are required: ref")
        return request

    def run(self, app: AppService, request: PullRequest, ctx: Context) -> Result:
        if request.locked is not None:
            from bodhi_nb.commands.lock import restore_result

            if request.ref or request.file:
                raise BadArgumentsError(command=self.name, reason=ctx.t("lock-pull-no-ref"))
            report = app.lock_service().restore(request.locked or None,
                                                progress=ctx.progress_view)
            return restore_result(report, ctx)
        assert request.ref is not None  # checked when parsed
        budget = None
        if request.connections is not None:
            from bodhi_nb.services.hub import ConnectionBudget

            if not 1 <= request.connections <= 32:
                raise BadArgumentsError(command=self.name, reason=ctx.t(
                    "hub-bad-connections", value=request.connections))
            # One budget for every file of this pull (the parts of a split GGUF).
            budget = ConnectionBudget(request.connections)
        ref = ModelRef.parse(request.ref, request.file)
        if ref.filename is None and ref.quant is None:
            return _repo_listing(app, ref.repo, request.revision, ctx)
        files = _files_for(app, ref, request.revision)
        hub = app.hub_service()
        if request.dry_run:
            from bodhi_nb.errors import CachedFileTruncatedError

            # (message id, its arguments) per file: shown in the user's language, while
            # --json keeps the English words whatever the locale.
            actions: list[tuple[str, int | None, str, dict[str, object]]] = []
            for name in files:
                if hub.local_file_exists(ref.repo, name, request.revision):
                    try:
                        local = hub.verify_local_file(ref.repo, name, request.revision)
                        actions.append((name, local.size, "hub-would-download-again"
                                        if request.force else "hub-in-cache", {}))
                    except CachedFileTruncatedError as exc:
                        local = hub.find_local_file(ref.repo, name, request.revision)
                        actions.append((name, local.size, "hub-truncated-in-cache",
                                        {**exc.params, "force": request.force}))
                else:
                    remote = hub.file_metadata(ref.repo, name, request.revision)
                    actions.append((name, remote.size, "hub-would-download", {}))

            def action(say: Context, message_id: str, args: dict[str, object]) -> str:
                if message_id == "hub-truncated-in-cache":
                    force = args.pop("force")
                    args["next"] = say.t("hub-would-download-again" if force
                                         else "hub-add-force")
                return say.t(message_id, **args)

            columns = ("file", "size", "action")
            rows = [(name, human_bytes(size), action(ctx, mid, dict(args)))
                    for name, size, mid, args in actions]
            english = _english(ctx)
            records = [dict(zip(columns, (name, human_bytes(size),
                                          action(english, mid, dict(args))), strict=True))
                       for name, size, mid, args in actions]
            return ctx.table(columns, rows, records=records,
                             title=ctx.t("hub-dry-run-title", repo=str(ref.repo),
                                         revision=request.revision))
        downloads = app.download_service()
        rows2: list[tuple[str, str, str, str]] = []
        statuses: list[str] = []  # message ids: --json keeps the English words
        notices: list[str] = []
        for name in files:
            cached = hub.local_file_exists(ref.repo, name, request.revision)
            if cached and request.force:
                hub.forget_local_file(ref.repo, name, request.revision)
                cached = False
            elif cached:
                # A copy cut short (a full disk, a copy by hand) must not pass as complete:
                # its size is checked against the Hub's when the Hub answers.
                hub.verify_local_file(ref.repo, name, request.revision)
            progress = None if request.background else ctx.progress_view()
            try:
                row = downloads.pull(ref.repo, name, request.revision, progress=progress,
                                     background=request.background, connections=budget)
            finally:
                if progress is not None:
                    progress.finish()  # a failed pull leaves no half-drawn bar behind
            if progress is not None:
                notices += progress.notices
            if request.background:
                statuses.append("hub-started-in-background")
                rows2.append((row.id, name, "", ""))
            else:
                found = hub.find_local_file(ref.repo, name, request.revision)
                statuses.append("hub-in-cache" if cached else "hub-downloaded")
                rows2.append((row.id, name, "", str(found.path)))
        if request.alias:
            from bodhi_nb.objs import UserAlias

            app.data_service().create_alias(UserAlias(request.alias, ref.repo.id, files[0],
                                                      request.revision))
            notices.append(ctx.t("hub-alias-created", alias=repr(request.alias),
                                 repo=str(ref.repo), filename=files[0]))
        if request.background:
            notices.append(ctx.t("hub-background-hint"))
        keys = ("id", "file", "status", "path")
        english = _english(ctx)
        records = [dict(zip(keys, (i, f, english.t(status), p), strict=True))
                   for (i, f, _, p), status in zip(rows2, statuses, strict=True)]
        shown = [(i, f, ctx.t(status), p)
                 for (i, f, _, p), status in zip(rows2, statuses, strict=True)]
        return Sections((("files", ctx.table(keys, shown, records=records,
                                             title=f"{ref.repo} @ {request.revision}")),
                         ("notices", Message("", tuple(notices)))))


def _describe(app: AppService, row: DownloadRequest, ctx: Context) -> tuple[object, ...]:
    from bodhi_nb.commands import render_error
    from bodhi_nb.redact import redact_url, strip_control
    from bodhi_nb.services.downloads import INTERRUPTED, error_of

    service = app.download_service()
    total = row.total_bytes or 0
    pct = f"{100 * row.downloaded_bytes / total:.0f}%" if total else ""
    state = service.state(row)
    if state == INTERRUPTED:
        message = ctx.t("downloads-interrupted", id=row.id[-8:])
    else:
        error = error_of(row)
        message = render_error(error, prog=ctx.prog, app_factory=lambda: app) if error else ""
    shown = ctx.t(f"downloads-state-{state}")
    if service.running(row.id):
        shown = ctx.t("downloads-state-running", state=shown)
    # Rows written by older versions may hold an endpoint's credentials or a server's text.
    message = redact_url(strip_control(message))
    return (row.id, row.repo, row.filename, shown,
            f"{human_bytes(row.downloaded_bytes)} / {human_bytes(total)} {pct}".strip(),
            row.started_at, row.updated_at, message)


@dataclass(frozen=True)
class DownloadsLsRequest:
    all: bool = False
    json: bool = False


@dataclass(frozen=True)
class DownloadsIdRequest:
    """``downloads retry ID`` / ``downloads archive ID``; then the list, as ``ls``."""

    id: str | None = None
    all: bool = False
    background: bool = False
    json: bool = False


def _all_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--all", action="store_true", help="include archived requests")


def _id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", nargs="?", help="the download request id")
    _all_argument(parser)


def _downloads_table(app: AppService, ctx: Context, include_archived: bool) -> Table:
    service = app.download_service()
    rows = [_describe(app, r, ctx) for r in service.list(include_archived=include_archived)]
    return ctx.table(("id", "repo", "file", "status", "progress", "started", "updated",
                      "error"), rows, title=ctx.t("downloads-title"),
                     empty=ctx.t("downloads-empty"))


def _request_id(verb: Verb[DownloadsIdRequest], app: AppService, request: DownloadsIdRequest,
                ctx: Context) -> str:
    if not request.id:
        raise BadArgumentsError(command=verb.group, reason=ctx.t(
            "downloads-needs-id", action=verb.name))
    from bodhi_nb.commands import match_id

    # Tables show ids by their last characters: accept those (or a prefix).
    known = [r.id for r in app.download_service().list(include_archived=True)]
    return match_id(request.id, known)


class DownloadsLs(Verb[DownloadsLsRequest]):
    name = "ls"
    summary = "list download requests (the default)"
    action = Action.DOWNLOADS
    Request = DownloadsLsRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _all_argument(parser)

    def run(self, app: AppService, request: DownloadsLsRequest, ctx: Context) -> Result:
        return _downloads_table(app, ctx, request.all)


class DownloadsRetry(Verb[DownloadsIdRequest]):
    name = "retry"
    summary = "download a failed or interrupted request again"
    action = Action.PULL
    Request = DownloadsIdRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _id_argument(parser)
        parser.add_argument("--background", action="store_true", help="retry in background")

    def run(self, app: AppService, request: DownloadsIdRequest, ctx: Context) -> Result:
        request_id = _request_id(self, app, request, ctx)
        progress = None if request.background else ctx.progress_view()
        app.download_service().retry(request_id, progress=progress,
                                     background=request.background)
        return _downloads_table(app, ctx, request.all)


class DownloadsArchive(Verb[DownloadsIdRequest]):
    name = "archive"
    summary = "hide a request from the list (--all still shows it)"
    action = Action.DOWNLOADS
    Request = DownloadsIdRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _id_argument(parser)

    def run(self, app: AppService, request: DownloadsIdRequest, ctx: Context) -> Result:
        app.download_service().archive(_request_id(self, app, request, ctx))
        return _downloads_table(app, ctx, request.all)


@command
class DownloadsCommand(Group):
    name = "downloads"
    summary = "list download requests; retry a failed one; archive one"
    verbs = (DownloadsLs(), DownloadsRetry(), DownloadsArchive())
    default_verb = "ls"


@dataclass(frozen=True)
class RmRequest:
    ref: str | None = None
    file: str | None = None
    partials: bool = False
    yes: bool = False
    json: bool = False


@command
class RmCommand(Command[RmRequest]):
    name = "rm"
    summary = ("remove downloaded files (REPO: the whole repository, REPO:QUANT, REPO/FILE) "
               "or --partials")
    action = Action.REMOVE
    Request = RmRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ref", nargs="?", help="owner/repo, owner/repo:QUANT or "
                            "owner/repo/FILE")
        parser.add_argument("file", nargs="?", help="the file, when ref is owner/repo")
        parser.add_argument("--partials", action="store_true",
                            help="remove partial files of interrupted downloads")
        parser.add_argument("-y", "--yes", action="store_true", help="do not ask")

    def run(self, app: AppService, request: RmRequest, ctx: Context) -> Result:
        hub = app.hub_service()
        if request.partials:
            removed = hub.remove_partials()
            return Table((ctx.heading("removed_partial"),), [(str(p),) for p in removed],
                         keys=("removed partial file",), empty=ctx.t("hub-rm-no-partials"))
        if not request.ref:
            raise BadArgumentsError(command=self.name, reason=ctx.t("hub-rm-needs-ref"))
        ref = ModelRef.parse(request.ref, request.file)
        whole_repo = ref.filename is None and ref.quant is None
        targets = self._targets(hub, ref)
        if not targets:
            return Message(ctx.t("hub-rm-no-match", ref=request.ref))
        total = sum(t.size or 0 for t in targets)
        question = ctx.t("hub-rm-confirm", count=len(targets), size=human_bytes(total),
                         files=", ".join(f"{t.repo}/{t.filename}" for t in targets))
        if not confirmed(ctx, question, yes=request.yes, command=self.name,
                         needs_yes=ctx.t("hub-rm-needs-yes")):
            return Message(ctx.t("hub-rm-nothing-removed"))
        if whole_repo:  # as `hf cache rm owner/repo`: the repository's whole cache folder
            freed = hub.remove_repo(ref.repo)
        else:
            freed = sum(hub.remove_local_file(t) for t in targets)
        rows = [(t.repo, t.filename, t.snapshot[:12]) for t in targets]
        return Sections((("removed", ctx.table(("repo", "file", "snapshot"), rows,
                                               title=ctx.t("hub-rm-title"))),
                         ("freed", Message(ctx.t("hub-freed", size=human_bytes(freed))))))

    @staticmethod
    def _targets(hub: HubService, ref: ModelRef) -> list[HubFile]:
        from bodhi_nb.gguf import quant_from_filename, shard_files

        if ref.filename is not None:  # any file pull fetched, GGUF or not, every snapshot
            return [f for f in hub.list_local_files(ref.repo) if f.filename == ref.filename]
        if ref.quant is None:  # the whole repository
            return list(hub.list_local_files(ref.repo))
        local = [f for f in hub.list_local_models() if f.repo == ref.repo.id]
        want = ref.quant.upper()
        firsts = [f.filename for f in local if quant_from_filename(f.filename).upper() == want]
        names = {n for first in firsts for n in shard_files([f.filename for f in local], first)}
        return [f for f in local if f.filename in names]
