"""AccessRequestService: people who logged in without a role ask for access; managers and
admins approve (choosing a role) or reject (issue 12; BodhiApp §11 "User access requests").

The state machine lives here, over :class:`~bodhi_nb.store.access_requests.AccessRequestsTable`::

    (none) --request--> pending --approve(role)--> approved
                           |
                           +------reject(note)---> rejected --request--> pending ...

Where BodhiApp has known flaws this does better:

* **Approval is all or nothing.** The approver first *claims* the pending row (one
  conditional UPDATE: of two managers racing, on two kernels or two hosts, exactly one wins;
  the other gets ``access_error-already_processed``), then assigns the role at the provider
  with the approver's own access token, then marks the row approved (role, reviewer, time)
  and clears the user's sessions, so their next command logs in again and reads the role. If
  the provider fails (an error, a timeout) the claim is released: the row stays pending, the
  coded error propagates, and a retry works. A claim older than :data:`CLAIM_STALE_SECS`
  (an approver that crashed between the two writes) may be taken over.
* **Reject only from pending** (and not while an approver holds the row).

Who may do what: asking and one's own status need a login (any role or none; a user with a
role is told ``already_has_access``); listing, counting, approving and rejecting need
``resource_manager`` (:data:`~bodhi_nb.services.policy.POLICY`), and a role can be given only
at or below the approver's own (``auth_error-insufficient_role`` naming it). Everything needs
authentication on (``auth_error-issuer_not_set`` otherwise).
"""

from __future__ import annotations

import builtins
import secrets as _random
from datetime import timedelta
from typing import TYPE_CHECKING

from bodhi_nb.errors import (
    AccessAlreadyHasAccessError,
    AccessAlreadyPendingError,
    AccessAlreadyProcessedError,
    AccessNotFoundError,
    AuthInsufficientRoleError,
    AuthIssuerNotSetError,
    OutOfRangeError,
)
from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus, new_ulid
from bodhi_nb.redact import get_logger, strip_control
from bodhi_nb.services.auth_tokens import ROLES, role_at_least
from bodhi_nb.services.policy import POLICY, Action, Gate, allow_all, short_role

if TYPE_CHECKING:
    from bodhi_nb.services.auth import AuthService, Identity
    from bodhi_nb.services.session import SessionService
    from bodhi_nb.services.time import TimeService
    from bodhi_nb.store.access_requests import AccessRequestsTable

__all__ = ["CLAIM_STALE_SECS", "MAX_REASON_CHARS", "AccessRequestService"]

#: an approver's claim older than this is a crashed approver's: another may take the row
CLAIM_STALE_SECS = 60
#: the longest reason a request or a rejection may carry
MAX_REASON_CHARS = 1000
#: the lowest role an approval may give
_LOWEST = "resource_user"
_log = get_logger("bodhi_nb.access")


def _text(value: str | None, name: str) -> str | None:
    """A reason as stored: without control characters (terminal escapes, NUL, which
    PostgreSQL refuses in text; newlines and tabs stay), trimmed, None when empty, refused
    when too long."""
    text = strip_control(value or "").strip()
    if len(text) > MAX_REASON_CHARS:
        raise OutOfRangeError(name=name, value=len(text), min=0, max=MAX_REASON_CHARS)
    return text or None


class AccessRequestService:
    """Access requests and their review (see the module)."""

    def __init__(self, table: AccessRequestsTable, auth: AuthService,
                 sessions: SessionService, time: TimeService, *,
                 gate: Gate = allow_all) -> None:
        self._table = table
        self._auth = auth
        self._sessions = sessions
        self._time = time
        self._gate = gate

    def __repr__(self) -> str:
        return f"AccessRequestService({self._table!r})"

    # ---- who is asking ------------------------------------------------------------------
    def _caller(self, action: Action) -> Identity:
        """The logged-in identity allowed to do ``action`` (auth must be on)."""
        if not self._auth.enabled:
            raise AuthIssuerNotSetError()
        self._gate(action)
        identity = self._auth.require(POLICY[action])
        if identity is None:  # auth went off in between
            raise AuthIssuerNotSetError()
        return identity

    # ---- the requester ------------------------------------------------------------------
    def request(self, reason: str | None = None) -> UserAccessRequest:
        """Asks for access for the logged-in user, who must have no role yet: a pending
        request. ``access_error-already_has_access`` when they have a role,
        ``already_pending`` when a request of theirs waits already."""
        identity = self._caller(Action.ACCESS_REQUEST)
        if identity.role is not None:
            raise AccessAlreadyHasAccessError(role=short_role(identity.role))
        text = _text(reason, "reason")
        now = self._time.utc_now()
        made = UserAccessRequest(id=new_ulid(now), username=identity.username,
                                 user_id=identity.user_id,
                                 status=UserAccessRequestStatus.PENDING, created_at=now,
                                 updated_at=now, reason=text)
        existing = self._table.insert_pending(made)
        if existing is not None:
            raise AccessAlreadyPendingError(id=existing.id)
        _log.info("access request %s by user %s", made.id, made.user_id)
        return made

    def status(self) -> UserAccessRequest | None:
        """The logged-in user's newest request (None: they never asked)."""
        identity = self._caller(Action.ACCESS_REQUEST)
        return self._table.latest_for(identity.user_id)

    # ---- reviewers ----------------------------------------------------------------------
    def list(self, status: UserAccessRequestStatus | None = None, *, query: str = "",
             offset: int = 0, limit: int = 50) -> builtins.list[UserAccessRequest]:
        """One page of requests (manager or above): pending ones oldest first (the queue),
        others newest change first. ``query`` keeps those whose username or reason holds it
        (case-insensitive)."""
        self._caller(Action.ACCESS_REVIEW)
        return self._table.list(status, query=query, offset=offset, limit=limit)

    def count(self, status: UserAccessRequestStatus | None = None, *, query: str = "") -> int:
        """How many requests :meth:`list` would page through (manager or above)."""
        self._caller(Action.ACCESS_REVIEW)
        return self._table.count(status, query=query)

    def counts(self) -> dict[UserAccessRequestStatus, int]:
        """How many requests each status holds, in one query (manager or above)."""
        self._caller(Action.ACCESS_REVIEW)
        return self._table.counts()

    def version(self) -> str:
        """A cheap token (one query) that changes whenever any request is made, approved or
        rejected, by anyone on any host: poll it, reload when it changes."""
        self._caller(Action.ACCESS_REVIEW)
        return self._table.version()

    def ids_matching(self, fragment: str) -> builtins.list[str]:
        """Ids that start or end with ``fragment`` (for ``commands.match_id``; manager or
        above)."""
        self._caller(Action.ACCESS_REVIEW)
        return self._table.ids_matching(fragment)

    def get(self, request_id: str) -> UserAccessRequest:
        """One request: any of them for a manager or above, one's own for anyone logged in
        (``access_error-not_found`` otherwise)."""
        identity = self._caller(Action.ACCESS_REQUEST)
        found = self._table.get(request_id)
        reviewer = POLICY[Action.ACCESS_REVIEW]
        if found is None or (found.user_id != identity.user_id
                             and not role_at_least(identity.role, reviewer or _LOWEST)):
            raise AccessNotFoundError(id=request_id)
        return found

    def assignable_roles(self) -> builtins.list[str]:
        """The roles the caller may give (short names, lowest first): those at or below
        their own."""
        identity = self._caller(Action.ACCESS_REQUEST)
        return [short_role(r) for r in ROLES if role_at_least(identity.role, r)]

    def approve(self, request_id: str, role: str) -> UserAccessRequest:
        """Approves a pending request with ``role`` (``power_user`` or
        ``resource_power_user``; at or above user, at or below the approver's own role:
        ``auth_error-insufficient_role`` naming it otherwise). All or nothing: see the
        module. ``access_error-already_processed`` when the request was approved or rejected
        already (or another approver holds it right now); ``not_found`` when there is none."""
        caller = self._caller(Action.ACCESS_REVIEW)
        wanted = self._role(role)
        if not role_at_least(caller.role, wanted):
            raise AuthInsufficientRoleError(needed=short_role(wanted), have=short_role(caller.role))
        found = self._table.get(request_id)
        if found is None:
            raise AccessNotFoundError(id=request_id)
        if found.status is not UserAccessRequestStatus.PENDING:
            raise AccessAlreadyProcessedError(id=found.id, status=found.status.value)
        claim = _random.token_hex(12)
        now = self._time.utc_now()
        stale = now - timedelta(seconds=CLAIM_STALE_SECS)
        if not self._table.claim(found.id, claim, now, stale):
            raise self._processed(found.id)
        try:
            self._table.hand_back()  # the provider call needs no database
            self._auth.grant_role(found.user_id, wanted)
        except BaseException:
            self._table.release(found.id, claim)
            raise
        approved = self._table.approve(found.id, claim, wanted, caller.username or
                                       caller.user_id, self._time.utc_now())
        if approved is None:
            # Our claim went stale and another approver took the row over (this one hung
            # longer than CLAIM_STALE_SECS): their outcome stands.
            raise self._processed(found.id)
        self._sessions.clear_sessions_for_user(approved.user_id)
        _log.info("access request %s approved (%s) by %s", approved.id, wanted,
                  caller.user_id)
        return approved

    def reject(self, request_id: str, reason: str | None = None) -> UserAccessRequest:
        """Rejects a pending request that no approver holds, with an optional reason the
        user sees in ``access status``; ``access_error-already_processed`` otherwise."""
        caller = self._caller(Action.ACCESS_REVIEW)
        note = _text(reason, "reason")
        now = self._time.utc_now()
        stale = now - timedelta(seconds=CLAIM_STALE_SECS)
        rejected = self._table.reject(request_id, caller.username or caller.user_id, note,
                                      now, stale)
        if rejected is None:
            raise self._processed(request_id)
        _log.info("access request %s rejected by %s", rejected.id, caller.user_id)
        return rejected

    # ---- helpers ------------------------------------------------------------------------
    @staticmethod
    def _role(role: str) -> str:
        from bodhi_nb.services.auth import normalize_role

        return normalize_role(role)

    def _processed(self, request_id: str) -> AccessAlreadyProcessedError | AccessNotFoundError:
        """Why a conditional write found nothing to change: gone, or no longer pending (or
        held by another approver)."""
        found = self._table.get(request_id)
        if found is None:
            return AccessNotFoundError(id=request_id)
        return AccessAlreadyProcessedError(id=found.id, status=found.status.value)

