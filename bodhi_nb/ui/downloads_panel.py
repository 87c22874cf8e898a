"""The downloads panel: every download request, live rows for those running here.

The table (the kit's, paged: only the visible page has widgets) holds every request from
``DownloadService.list``, with Retry (a failed, cancelled or interrupted one: it resumes)
and Archive. A request this kernel is downloading gets a
:class:`~bodhi_nb.ui.download_row.DownloadRow` above the table, following it through
``DownloadService.watch``: a panel made again (its cell re-executed) re-attaches to the
same download, one row for it, its bar going on from where it is. Requests pending in
another kernel come from the database: while any is, a timer thread reads the list again
every few seconds (it only reads and sets traits) and stops once none is pending, or when
the panel is closed.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets as widgets

from bodhi_nb.commands.results import human_bytes
from bodhi_nb.objs import DownloadRequest, DownloadStatus
from bodhi_nb.ui.download_row import DownloadRow
from bodhi_nb.ui.kit import Column, Panel, RowAction, Table

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result

__all__ = ["DownloadsPanel"]

#: the states Retry applies to (``DownloadService.state``)
_RETRYABLE = ("error", "interrupted")


class DownloadsPanel(Panel):
    """``bodhi_nb.ui.downloads()``: root ``bodhi-downloads-panel``; live rows in
    ``bodhi-download-rows``; the table ``bodhi-downloads-table``."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi",
                 refresh_every: float = 3.0, clock: Callable[[], float] = time.monotonic,
                 poll: bool = True) -> None:
        super().__init__(app, prog=prog)
        self._clock = clock
        self.refresh_every = refresh_every
        self._poll = poll
        self._service = app.download_service()
        # Per refresh: the state and error texts of the rows (10,000 rows share a few).
        self._states: dict[str, str] = {}
        self._errors: dict[str, str] = {}
        self._state_memo: dict[tuple[str, str | None], str] = {}
        self._whens: dict[object, str] = {}
        self._running: set[str] = set()
        self._lock = threading.RLock()
        self.table: Table[DownloadRequest] = Table(self.ctx, (
            Column("id", lambda r: r.id, lambda r: r.id[-8:]),
            Column("repo", lambda r: r.repo),
            Column("file", lambda r: r.filename),
            Column("status", self.state_of, self._state_text),
            Column("progress", lambda r: r.downloaded_bytes, self._progress_text),
            Column("updated", lambda r: r.updated_at, self._when_text),
            Column("error", self._error_text),
        ), actions=(
            # Retry and Archive only where they apply (not on a download running here)
            RowAction("retry", self.t("downloads-panel-retry"), self.retry,
                      enabled=lambda r: (not self.running_here(r.id)
                                         and self.state_of(r) in _RETRYABLE)),
            RowAction("archive", self.t("downloads-panel-archive"), self.archive,
                      enabled=lambda r: (not self.running_here(r.id)
                                         and r.status is not DownloadStatus.PENDING)),
        ))
        #: live rows of the downloads running in this kernel, by request id
        self.rows: dict[str, DownloadRow] = {}
        self.rows_box = widgets.VBox()
        self.live_title = widgets.HTML(
            f"<i>{html.escape(self.t('downloads-panel-live'))}</i>",
            layout=widgets.Layout(display="none"))
        self.refresh_button = widgets.Button(description=self.t("panel-refresh"))
        self.refresh_button.on_click(lambda _b: self.attempt(self.refresh))
        self.watching = widgets.Label()
        #: set each time the timer has read the list again (tests wait on it)
        self.polled = threading.Event()
        #: set while no timer runs
        self.idle = threading.Event()
        self.idle.set()
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        for widget, name in ((self, "bodhi-downloads-panel"),
                             (self.rows_box, "bodhi-download-rows"),
                             (self.table.widget, "bodhi-downloads-table"),
                             (self.refresh_button, "bodhi-downloads-refresh"),
                             (self.status, "bodhi-panel-status"),
                             (self.error.widget, "bodhi-panel-error")):
            widget.add_class(name)
        self.children = (
            widgets.HBox([widgets.HTML(f"<b>{html.escape(self.t('downloads-title'))}</b>"),
                          self.refresh_button]),
            self.live_title, self.rows_box, self.table.widget, self.watching,
            self.confirm.widget, self.status, self.error.widget,
        )
        self.attempt(self.refresh)

    def listing(self) -> Result:
        from bodhi_nb.commands.panel import listing

        return listing("downloads", self.app, self.ctx)

    # -- cells ------------------------------------------------------------------------------

    def running_here(self, request_id: str) -> bool:
        return request_id in self._running

    def state_of(self, row: DownloadRequest) -> str:
        """``DownloadService.state``, once per distinct (status, stored error)."""
        key = (row.status.value, row.error)
        state = self._state_memo.get(key)
        if state is None:
            state = self._state_memo[key] = self._service.state(row)
        return state

    def _when_text(self, row: DownloadRequest) -> str:
        text = self._whens.get(row.updated_at)
        if text is None:
            from bodhi_nb.commands.results import _cell

            text = self._whens[row.updated_at] = _cell(row.updated_at)
        return text

    def _state_text(self, row: DownloadRequest) -> str:
        state = self.state_of(row)
        key = f"{state}|{row.id in self._running}"
        text = self._states.get(key)
        if text is None:
            text = self.t(f"downloads-state-{state}")
            if row.id in self._running:
                text = self.t("downloads-state-running", state=text)
            self._states[key] = text
        return text

    def _progress_text(self, row: DownloadRequest) -> str:
        if row.id in self._running:  # the database has the count of a few seconds ago
            return self.t("downloads-panel-progress-live")
        total = row.total_bytes or 0
        pct = f" {100 * row.downloaded_bytes / total:.0f}%" if total else ""
        return f"{human_bytes(row.downloaded_bytes)} / {human_bytes(total)}{pct}"

    def _error_text(self, row: DownloadRequest) -> str:
        """What ``downloads`` shows in its error column (one coded line, or how to resume
        an interrupted pull), worked out once per distinct stored error."""
        if not row.error:
            return ""
        if self.state_of(row) == "interrupted":
            return self.t("downloads-interrupted", id=row.id[-8:])
        text = self._errors.get(row.error)
        if text is None:
            from bodhi_nb.commands import render_error
            from bodhi_nb.redact import redact_url, strip_control
            from bodhi_nb.services.downloads import error_of

            error = error_of(row)
            text = render_error(error, prog=self.ctx.prog,
                                app_factory=lambda: self.app) if error else ""
            # Rows written by older versions may hold credentials or a server's text.
            text = redact_url(strip_control(text))
            self._errors[row.error] = text
        return text

    # -- reading ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read every request again; add a live row for each one running here."""
        with self._lock:
            service = self._service
            requests = service.list(limit=max(service.count(), 1))
            self._running = {r.id for r in requests
                             if r.status is DownloadStatus.PENDING and service.running(r.id)}
            for memo in (self._states, self._errors, self._state_memo, self._whens):
                memo.clear()
            self.table.set_rows(requests)
            for request in requests:
                if request.id in self._running:
                    self._attach(request)
            elsewhere = any(r.status is DownloadStatus.PENDING and r.id not in self._running
                            for r in requests)
        if elsewhere:
            self._start_timer()

    def _attach(self, request: DownloadRequest) -> DownloadRow | None:
        row = self.rows.get(request.id)
        if row is not None and row.outcome is None:
            return row  # already following it: one row per download
        row = DownloadRow(self.ctx, filename=request.filename, app_factory=lambda: self.app,
                          clock=self._clock)
        self.rows[request.id] = row
        self.rows_box.children = (row, *[c for c in self.rows_box.children
                                         if getattr(c, "request_id", None) != request.id])
        self.live_title.layout.display = "block"
        row.follow(self._service, request.id)
        # When it ends, the table shows its final state (from the download's thread: it
        # only reads the list and sets traits).
        row.on_end(lambda _row: self._quietly_refresh())
        return row

    def _quietly_refresh(self) -> None:
        if self._stop.is_set():
            return
        self.attempt(self.refresh)

    # -- the timer for downloads in other kernels -------------------------------------------

    @property
    def polling(self) -> bool:
        return not self.idle.is_set()

    def _start_timer(self) -> None:
        if not self._poll or self._stop.is_set():
            return
        with self._lock:
            if self._timer is not None:
                return
            self.idle.clear()
            self.watching.value = self.t("downloads-panel-watching",
                                         seconds=f"{self.refresh_every:g}")
            self._timer = threading.Thread(target=self._tick, name="bodhi-downloads-panel",
                                           daemon=True)
            self._timer.start()

    def _tick(self) -> None:
        me = threading.current_thread()
        while not self._stop.wait(self.refresh_every):
            self.attempt(self.refresh)
            with self._lock:
                pending = any(r.status is DownloadStatus.PENDING
                              and r.id not in self._running for r in self.table.rows)
                if not pending:
                    self.watching.value = ""
                    self._stand_down(me)
            self.polled.set()
            if not pending:
                return
        with self._lock:
            self._stand_down(me)

    def _stand_down(self, timer: threading.Thread) -> None:
        # Only the current timer says the panel is idle (a new one may have started).
        if self._timer is timer:
            self._timer = None
            self.idle.set()

    def close(self) -> None:
        """Stop the timer and the live rows (the downloads themselves go on)."""
        self._stop.set()
        for row in self.rows.values():
            row.stop_following()
        super().close()

    # -- actions ----------------------------------------------------------------------------

    def retry(self, request: DownloadRequest) -> None:
        def run() -> str:
            # Cancel on its row goes through DownloadService.cancel(request id).
            again = self._service.retry(request.id, background=True)
            self.refresh()
            if again.id not in self.rows or self.rows[again.id].outcome is not None:
                self._attach(again)  # a run so quick refresh saw it over: its outcome
            return self.t("downloads-panel-retried", file=request.filename)

        self.attempt_then_refresh(run)

    def archive(self, request: DownloadRequest) -> None:
        def run() -> str:
            self._service.archive(request.id)
            self.refresh()
            return self.t("downloads-panel-archived", file=request.filename)

        self.attempt_then_refresh(run)
