"""The access-request dashboard: tabs Pending / Approved / Rejected over AccessRequestService.

Each tab is a page (50 rows) read from the service with the filter box's text as its query
(``list(status, query=, offset=, limit=)``), so 10,000 requests cost one page, never all of
them. A pending row has a role select (the roles the service says this reviewer may give),
Approve, a reason box and Reject; the call runs in a worker thread (the provider may be
slow) and its row says so meanwhile; a failure stays on that row as one coded line, the row
still pending. A timer thread asks ``version()`` every couple of seconds and reads the
pages again when another kernel or host has changed a request. Worker threads only read
the service and set traits. Every text a user wrote (username, reason, note) is drawn with
``textContent`` by the table view: markup shows as text.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus
from bodhi_nb.services.policy import short_role
from bodhi_nb.ui.kit import Column, Panel, RowAction, RowButton, RowField, RowInput, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.grammar import Context
    from bodhi_nb.commands.results import Result
    from bodhi_nb.services.access_requests import AccessRequestService

__all__ = ["PAGE", "AccessPanel", "ago"]

#: rows on a page of a tab
PAGE = 50
#: a reason longer than this is cut in its cell (the whole text is in ``access ls``)
_CLIP = 80
_TABS = (UserAccessRequestStatus.PENDING, UserAccessRequestStatus.APPROVED,
         UserAccessRequestStatus.REJECTED)


def _age(then: datetime, now: datetime) -> tuple[str, int]:
    """The message saying how long ago ``then`` was, and its number."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 60:
        return "access-ago-now", 0
    if seconds < 3600:
        return "access-ago-minutes", seconds // 60
    if seconds < 86400:
        return "access-ago-hours", seconds // 3600
    return "access-ago-days", seconds // 86400


def ago(ctx: Context, then: datetime, now: datetime) -> str:
    """How long ago ``then`` was, in the user's language (``3 min ago``)."""
    message, n = _age(then, now)
    return ctx.t(message, n=n)


def _clip(text: str | None) -> str:
    from bodhi_nb.commands.access import shown_text

    return shown_text(text, _CLIP)  # one line, no control characters


class _Tab:
    """One status: its table (the page read last) and its paging controls."""

    def __init__(self, panel: AccessPanel, status: UserAccessRequestStatus,
                 table: Table[UserAccessRequest]) -> None:
        self.status = status
        self.table = table
        self.offset = 0
        self.total = 0
        self.previous = widgets.Button(description=panel.t("panel-previous"))
        self.next = widgets.Button(description=panel.t("panel-next"))
        self.where = widgets.Label()
        self.previous.add_class("bodhi-previous")
        self.next.add_class("bodhi-next")
        self.where.add_class("bodhi-table-where")
        self.previous.on_click(lambda _b: panel.go(self, self.offset - PAGE))
        self.next.on_click(lambda _b: panel.go(self, self.offset + PAGE))
        self.widget = widgets.VBox([table.grid, widgets.HBox(
            [self.previous, self.next, self.where])])
        self.widget.add_class(f"bodhi-access-{status.value}")

    @property
    def rows(self) -> list[UserAccessRequest]:
        return self.table.rows

    @property
    def row_buttons(self) -> list[dict[str, RowButton]]:
        return self.table.row_buttons

    @property
    def row_fields(self) -> list[dict[str, RowInput]]:
        return self.table.row_fields


class AccessPanel(Panel):
    """``bodhi_nb.ui.access()``: root ``bodhi-access-panel``; the tabs' pages in
    ``bodhi-access-pending`` / ``-approved`` / ``-rejected``."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi", poll_every: float = 2.0,
                 poll: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(app, prog=prog)
        self.add_class("bodhi-access-panel")
        self.poll_every = poll_every
        self._clock = clock
        self._lock = threading.RLock()
        #: per pending request: what its row says ("approving…", or the failure's line)
        self.notes: dict[str, str] = {}
        self._busy: set[str] = set()
        self._workers: list[threading.Thread] = []
        self._version: str | None = None
        self._read_at = float("-inf")
        self._now: datetime | None = None
        self._ages: dict[tuple[str, int], str] = {}
        self.roles: list[str] = []
        try:
            self._service: AccessRequestService | None = app.access_request_service()
            self.roles = self._service.assignable_roles()
        except Exception as exc:  # not logged in: said on the error line
            self._service = None
            self.error.show(exc)
        when = self._when
        pending: Table[UserAccessRequest] = Table(self.ctx, (
            Column("username", lambda r: r.username, lambda r: _clip(r.username)),
            Column("reason", lambda r: r.reason, lambda r: _clip(r.reason)),
            Column("requested", lambda r: r.created_at, lambda r: when(r.created_at)),
            Column("state", lambda r: self.notes.get(r.id, "")),
        ), actions=(
            RowAction("approve", self.t("access-panel-approve"), self.approve,
                      enabled=lambda r: r.id not in self._busy),
            RowAction("reject", self.t("access-panel-reject"), self.reject,
                      enabled=lambda r: r.id not in self._busy),
        ), fields=(
            RowField("role", "select", self.t("access-panel-role"),
                     tuple((role, role) for role in self.roles),
                     value="user" if "user" in self.roles else "", before="approve"),
            RowField("note", "text", self.t("access-panel-note"), before="reject"),
        ), page_size=PAGE, row_key=lambda r: r.id, sortable=False)
        approved: Table[UserAccessRequest] = Table(self.ctx, (
            Column("username", lambda r: r.username, lambda r: _clip(r.username)),
            Column("role", lambda r: short_role(r.role) if r.role else ""),
            Column("reviewer", lambda r: r.reviewer, lambda r: _clip(r.reviewer)),
            Column("reviewed", lambda r: r.updated_at, lambda r: when(r.updated_at)),
            Column("reason", lambda r: r.reason, lambda r: _clip(r.reason)),
        ), page_size=PAGE, sortable=False)
        rejected: Table[UserAccessRequest] = Table(self.ctx, (
            Column("username", lambda r: r.username, lambda r: _clip(r.username)),
            Column("reviewer", lambda r: r.reviewer, lambda r: _clip(r.reviewer)),
            Column("rejection", lambda r: r.review_note, lambda r: _clip(r.review_note)),
            Column("reviewed", lambda r: r.updated_at, lambda r: when(r.updated_at)),
            Column("reason", lambda r: r.reason, lambda r: _clip(r.reason)),
        ), page_size=PAGE, sortable=False)
        self.pending = _Tab(self, UserAccessRequestStatus.PENDING, pending)
        self.approved = _Tab(self, UserAccessRequestStatus.APPROVED, approved)
        self.rejected = _Tab(self, UserAccessRequestStatus.REJECTED, rejected)
        self.tab_list = (self.pending, self.approved, self.rejected)
        self.tabs = widgets.Tab(children=[tab.widget for tab in self.tab_list])
        self.tabs.add_class("bodhi-access-tabs")
        self._titles({})
        self.filter = widgets.Text(placeholder=self.t("access-panel-filter"),
                                   continuous_update=True)
        self.filter.add_class("bodhi-filter")
        self.filter.observe(self._on_filter, names="value")
        self.status.add_class("bodhi-panel-status")
        self.error.widget.add_class("bodhi-panel-error")
        self.children = (
            widgets.HTML(f"<b>{html.escape(self.t('access-panel-title'))}</b>"),
            self.filter, self.tabs, self.status, self.error.widget,
        )
        #: set each time the timer has asked for the version (tests wait on it)
        self.polled = threading.Event()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        # No timer when the first read failed (too low a role): it would only fail again.
        if self._service is not None and self.attempt(self.refresh) and poll:
            self._timer = threading.Thread(target=self._tick, daemon=True,
                                           name="bodhi-access-panel")
            self._timer.start()

    def listing(self) -> Result:
        from bodhi_nb.commands.panel import listing

        return listing("access", self.app, self.ctx)

    @property
    def service(self) -> AccessRequestService:
        if self._service is None:
            self._service = self.app.access_request_service()
        return self._service

    # -- reading ----------------------------------------------------------------------------

    def _when(self, at: datetime) -> str:
        # A page of 50 shares a few ages: each is worded once (Fluent costs ~0.1 ms a call).
        key = _age(at, self._now or at)
        text = self._ages.get(key)
        if text is None:
            text = self._ages[key] = self.t(key[0], n=key[1])
        return text

    def _titles(self, counts: dict[UserAccessRequestStatus, int]) -> None:
        self.tabs.titles = tuple(
            self.t(f"access-panel-tab-{tab.status.value}", n=counts.get(tab.status, 0))
            for tab in self.tab_list)

    @property
    def query(self) -> str:
        return str(self.filter.value).strip()

    def refresh(self) -> None:
        """Read the counts and each tab's page again."""
        with self._lock:
            service = self.service
            version = service.version()  # first: a change while reading is seen next tick
            self._now = self.app.time_service().utc_now()
            self._titles(service.counts())
            for tab in self.tab_list:
                self._read(tab)
            self._version, self._read_at = version, self._clock()

    def _read(self, tab: _Tab) -> None:
        service, query = self.service, self.query
        tab.total = service.count(tab.status, query=query)
        last = max(0, (tab.total - 1) // PAGE * PAGE)
        tab.offset = min(max(tab.offset, 0), last)
        rows = service.list(tab.status, query=query, offset=tab.offset, limit=PAGE)
        if tab is self.pending:  # a note on a row gone (approved elsewhere) goes too
            here = {r.id for r in rows}
            self.notes = {k: v for k, v in self.notes.items() if k in here or k in self._busy}
        tab.table.set_rows(rows)
        tab.previous.disabled = tab.offset == 0
        tab.next.disabled = tab.offset + PAGE >= tab.total
        pages = max(1, -(-tab.total // PAGE))
        tab.where.value = self.t("access-panel-page", page=tab.offset // PAGE + 1,
                                 pages=pages, total=tab.total)

    def go(self, tab: _Tab, offset: int) -> None:
        """Show the page of ``tab`` starting at ``offset``."""
        def read() -> None:
            with self._lock:
                tab.offset = offset
                self._now = self.app.time_service().utc_now()
                self._read(tab)

        self.attempt(read)

    def _on_filter(self, _change: object) -> None:
        for tab in self.tab_list:
            tab.offset = 0
        self.attempt(self.refresh)

    # -- the timer: changes made elsewhere --------------------------------------------------

    def _tick(self) -> None:
        said = ""  # the line a failed tick showed, taken back once a tick succeeds
        while not self._stop.wait(self.poll_every):
            try:
                changed = self.service.version() != self._version
                # "3 min ago" grows old without any change: read again once a minute
                if changed or self._clock() - self._read_at >= 60:
                    self.refresh()
            except Exception as exc:  # the database busy a moment: said, tried again
                self.error.show(exc)
                said = self.error.text
            else:
                if said and self.error.text == said:
                    self.error.clear()
                said = ""
            self.polled.set()

    @property
    def polling(self) -> bool:
        return self._timer is not None and self._timer.is_alive()

    def close(self) -> None:
        """Stop the timer (an approval under way finishes)."""
        self._stop.set()
        super().close()

    # -- approve and reject -----------------------------------------------------------------

    def approve(self, request: UserAccessRequest) -> None:
        """Approve ``request`` with the role its row's select holds."""
        role = self.pending.table.field(request, "role")

        def run() -> str:
            done = self.service.approve(request.id, role)
            return self.t("access-panel-approved", user=done.username,
                          role=short_role(done.role) if done.role else role)

        self._start(request, self.t("access-panel-approving"), run)

    def reject(self, request: UserAccessRequest) -> None:
        """Reject ``request`` with the reason its row's box holds (if any)."""
        note = self.pending.table.field(request, "note").strip() or None

        def run() -> str:
            done = self.service.reject(request.id, note)
            return self.t("access-panel-rejected", user=done.username)

        self._start(request, self.t("access-panel-rejecting"), run)

    def _start(self, request: UserAccessRequest, doing: str, step: Callable[[], str]) -> None:
        with self._lock:
            if request.id in self._busy:
                return
            self._busy.add(request.id)
            self.notes[request.id] = doing
            self.pending.table.set_rows(self.pending.rows)  # its note, its buttons off
        self.error.clear()
        worker = threading.Thread(target=self._work, args=(request, step), daemon=True,
                                  name="bodhi-access-review")
        self._workers.append(worker)
        worker.start()

    def _work(self, request: UserAccessRequest, step: Callable[[], str]) -> None:
        from bodhi_nb.commands import render_error

        line: str | None = None
        try:
            said = step()
        except Exception as exc:
            line = render_error(exc, prog=self.ctx.prog, app_factory=lambda: self.app)
        with self._lock:
            self._busy.discard(request.id)
            if line is None:
                self.notes.pop(request.id, None)
                self.status.value = said
            else:
                self.notes[request.id] = line
                self.status.value = ""
            try:
                self.refresh()
            except Exception as exc:
                self.error.show(exc)
            if line is not None and all(r.id != request.id for r in self.pending.rows):
                # processed elsewhere meanwhile: its row has gone, the line stays in sight
                self.error.widget.value = line

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until every approval and rejection started here has ended; True if so."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in list(self._workers):
            worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(w.is_alive() for w in self._workers)
