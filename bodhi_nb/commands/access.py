"""``access request|status|ls|approve|reject``: asking for a role, and the managers' review.

Every rule lives in :class:`~bodhi_nb.services.access_requests.AccessRequestService` (the
state machine, the role hierarchy, all-or-nothing approval); these commands parse, call and
word the answer. Roles show by their short names (``power_user``). Reasons are the users'
own text: control characters are dropped before a reason is shown (JSON escapes them).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Context, Group, Verb, command
from bodhi_nb.commands.results import Message, Result, Table, format_timestamp, short_id
from bodhi_nb.errors import BadArgumentsError
from bodhi_nb.objs import UserAccessRequestStatus
from bodhi_nb.services.policy import Action, short_role

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.objs import UserAccessRequest

__all__ = ["AccessApprove", "AccessCommand", "AccessIdRequest", "AccessLs", "AccessLsRequest",
           "AccessReject", "AccessRequest", "AccessRequestRequest", "AccessStatus",
           "AccessStatusRequest", "access_record", "access_table", "shown_text"]

#: the statuses ``access ls --status`` takes
STATUSES = tuple(s.value for s in UserAccessRequestStatus)
#: characters of a reason a table cell shows (the whole reason is in --json)
_REASON_CELL = 60


def _short(role: str | None) -> str | None:
    return short_role(role) if role else None


def shown_text(text: str | None, limit: int | None = None) -> str:
    """A user's text as it may be shown: control characters dropped, newlines and tabs
    made spaces, cut to ``limit`` characters (with an ellipsis)."""
    from bodhi_nb.redact import strip_control

    flat = " ".join(strip_control(text or "").split())
    if limit is not None and len(flat) > limit:
        return flat[:limit - 1] + "…"
    return flat


def access_record(found: UserAccessRequest) -> dict[str, Any]:
    """A request as ``--json`` shows it (the role by its short name)."""
    return {"id": found.id, "user_id": found.user_id, "username": found.username,
            "status": found.status.value, "reason": found.reason,
            "role": _short(found.role), "reviewer": found.reviewer,
            "review_note": found.review_note, "created_at": found.created_at,
            "updated_at": found.updated_at}


def access_table(rows: list[UserAccessRequest], ctx: Context, *, title: str | None = None
                 ) -> Table:
    """Requests as a table: id (short), user, status, role, reason, reviewer, times."""
    cells = [(r.id, shown_text(r.username, 40), ctx.t(f"access-state-{r.status.value}"),
              _short(r.role) or "", shown_text(r.reason, _REASON_CELL),
              shown_text(r.reviewer, 40), r.created_at, r.updated_at) for r in rows]
    return ctx.table(("id", "username", "status", "role", "reason", "reviewer", "requested",
                      "updated"), cells, title=title, empty=ctx.t("access-empty"),
                     records=[access_record(r) for r in rows])


# -- the requester ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRequestRequest:
    reason: str | None = None
    json: bool = False


class AccessRequest(Verb[AccessRequestRequest]):
    name = "request"
    summary = "ask a manager or admin for access to this deployment (you have no role yet)"
    action = Action.ACCESS_REQUEST
    Request = AccessRequestRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--reason", help="why you need access (the reviewers see it)")

    def run(self, app: AppService, request: AccessRequestRequest, ctx: Context) -> Result:
        made = app.access_request_service().request(request.reason)
        return Message(ctx.t("access-requested", id=short_id(made.id)),
                       (ctx.t("access-requested-next"),), data=access_record(made))


@dataclass(frozen=True)
class AccessStatusRequest:
    json: bool = False


def status_message(found: UserAccessRequest | None, ctx: Context) -> Message:
    """What ``access status`` says about one's newest request."""
    if found is None:
        return Message(ctx.t("access-status-none"), data=None)
    args = {"id": short_id(found.id), "requested": format_timestamp(found.created_at),
            "updated": format_timestamp(found.updated_at),
            "reviewer": shown_text(found.reviewer, 40)}
    notices: tuple[str, ...] = ()
    if found.status is UserAccessRequestStatus.PENDING:
        text = ctx.t("access-status-pending", **args)
    elif found.status is UserAccessRequestStatus.APPROVED:
        text = ctx.t("access-status-approved", role=_short(found.role) or "", **args)
        notices = (ctx.t("access-status-approved-next"),)
    else:
        note = shown_text(found.review_note)
        text = ctx.t("access-status-rejected", **args)
        notices = ((ctx.t("access-status-rejected-note", note=note),) if note else ()) + (
            ctx.t("access-status-rejected-next"),)
    return Message(text, notices, data=access_record(found))


class AccessStatus(Verb[AccessStatusRequest]):
    name = "status"
    summary = "your newest access request: pending, approved (with the role) or rejected"
    action = Action.ACCESS_REQUEST
    Request = AccessStatusRequest

    def run(self, app: AppService, request: AccessStatusRequest, ctx: Context) -> Result:
        return status_message(app.access_request_service().status(), ctx)


# -- reviewers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessLsRequest:
    status: str | None = None
    query: str = ""
    limit: int = 100
    offset: int = 0
    json: bool = False


class AccessLs(Verb[AccessLsRequest]):
    name = "ls"
    summary = "list access requests (manager or admin): pending oldest first, others newest"
    action = Action.ACCESS_REVIEW
    Request = AccessLsRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--status", choices=STATUSES, help="only requests in this state")
        parser.add_argument("--query", default="", help="only those whose username or "
                                                        "reason holds this text")
        parser.add_argument("--limit", type=int, default=100, help="at most this many")
        parser.add_argument("--offset", type=int, default=0, help="skip this many first")

    def run(self, app: AppService, request: AccessLsRequest, ctx: Context) -> Result:
        if not 1 <= request.limit <= 10_000 or request.offset < 0:
            raise BadArgumentsError(command=self.group, reason=ctx.t("access-bad-page"))
        status = UserAccessRequestStatus(request.status) if request.status else None
        service = app.access_request_service()
        rows = service.list(status, query=request.query, offset=request.offset,
                            limit=request.limit)
        total = service.count(status, query=request.query)
        shown = ctx.t(f"access-state-{status.value}") if status else ctx.t("access-state-all")
        title = ctx.t("access-ls-title", status=shown, count=len(rows), total=total)
        return access_table(rows, ctx, title=title)


@dataclass(frozen=True)
class AccessIdRequest:
    id: str = ""
    role: str = ""
    reason: str | None = None
    json: bool = False


def _request_id(app: AppService, typed: str) -> str:
    from bodhi_nb.commands import match_id

    # Tables show ids by their last characters: accept those (or a prefix).
    return match_id(typed, app.access_request_service().ids_matching(typed))


class AccessApprove(Verb[AccessIdRequest]):
    name = "approve"
    summary = "approve a pending request with a role at or below yours"
    action = Action.ACCESS_REVIEW
    Request = AccessIdRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("id", help="the request's id (or its last characters)")
        parser.add_argument("--role", required=True,
                            help="user, power_user, manager or admin (at or below yours)")

    def run(self, app: AppService, request: AccessIdRequest, ctx: Context) -> Result:
        done = app.access_request_service().approve(_request_id(app, request.id),
                                                    request.role)
        return Message(ctx.t("access-approved", id=short_id(done.id),
                             user=shown_text(done.username, 40),
                             role=_short(done.role) or ""),
                       (ctx.t("access-approved-sessions"),), data=access_record(done))


class AccessReject(Verb[AccessIdRequest]):
    name = "reject"
    summary = "reject a pending request, with a reason the user sees"
    action = Action.ACCESS_REVIEW
    Request = AccessIdRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("id", help="the request's id (or its last characters)")
        parser.add_argument("--reason", help="why (the user sees it in `access status`)")

    def run(self, app: AppService, request: AccessIdRequest, ctx: Context) -> Result:
        done = app.access_request_service().reject(_request_id(app, request.id),
                                                   request.reason)
        return Message(ctx.t("access-rejected", id=short_id(done.id),
                             user=shown_text(done.username, 40)),
                       data=access_record(done))


@command
class AccessCommand(Group):
    name = "access"
    summary = "ask for access; list, approve and reject access requests (manager or admin)"
    verbs = (AccessRequest(), AccessStatus(), AccessLs(), AccessApprove(), AccessReject())
    default_verb = "status"

