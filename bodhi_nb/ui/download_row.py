"""One download as a widget row: file, bar, bytes, speed, ETA, Cancel, and how it ended.

A :class:`DownloadRow` is a services ``Progress`` (``start``/``advance``/``notice``/
``finish``) and a commands ``DownloadProgress`` (it keeps ``notices``), so the same object
goes to ``DownloadService.pull(progress=...)``, to ``DownloadService.watch`` or to a
``Context``'s progress factory (``%bodhi pull`` in a kernel). The download's thread only
records numbers and sets traits, at most ``per_second`` times a second through the kit's
:class:`~bodhi_nb.ui.kit.Throttle` (the last update is always flushed when the run ends).
The speed is an exponential moving average over those updates (a time constant of
:data:`SPEED_TAU` seconds), so the ETA follows the trend instead of every burst.

How a row learns its outcome: :meth:`DownloadRow.follow` binds it to a request that
``DownloadService`` runs in this process (Cancel then stops that request, and the end of the
run reads the row's outcome from the database); a front end that runs the pull itself
reports a failure with :meth:`DownloadRow.fail`. A ``finish`` after every byte arrived is
``completed`` either way.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from bodhi_nb.commands.grammar import Context, said
from bodhi_nb.commands.results import human_bytes
from bodhi_nb.ui.kit import Throttle

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.objs import CancelToken, DownloadRequest
    from bodhi_nb.services.downloads import DownloadService

__all__ = ["COMPLETED", "CANCELLED", "ERROR", "INTERRUPTED", "SPEED_TAU", "DownloadRow",
           "eta_text"]

#: the outcomes a row can end with
COMPLETED, CANCELLED, INTERRUPTED, ERROR = "completed", "cancelled", "interrupted", "error"
#: seconds: the time constant of the speed's moving average
SPEED_TAU = 2.0


def eta_text(seconds: float) -> str:
    """``65`` -> ``1:05``, ``3723`` -> ``1:02:03`` (digits read the same in every locale)."""
    whole = max(0, int(math.ceil(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class DownloadRow(widgets.HBox):  # type: ignore[misc]
    """One download: ``bodhi-download-row`` (an HBox) holding the file name, the bar
    (``bodhi-download-bar``), bytes, speed, ETA, Cancel (``bodhi-download-cancel``) and the
    state line (``bodhi-download-state``)."""

    def __init__(self, ctx: Context, *, filename: str = "",
                 app_factory: Callable[[], AppService] | None = None,
                 cancellable: bool = True, per_second: float = 10.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_start: Callable[[DownloadRow], None] | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self._app_factory = app_factory
        self._clock = clock
        self._on_start = on_start
        #: the notices the download told (in the user's language), for the command's result
        self.notices: list[str] = []
        self.filename = filename
        self.total = 0
        self.done = 0
        #: bytes a second, smoothed; None until two updates have been seen
        self.speed: float | None = None
        self._sample: tuple[float, int] | None = None
        #: how many times the traits were set from progress (the throttle's count)
        self.updates = 0
        #: how the run ended (``completed``, ``cancelled``, ``interrupted``, ``error``)
        self.outcome: str | None = None
        #: set once the row shows how the run ended
        self.ended = threading.Event()
        self._ends: list[Callable[[DownloadRow], None]] = []
        self._started = False
        self._lock = threading.RLock()
        self._token: CancelToken | None = None
        self._service: DownloadService | None = None
        self.request_id: str | None = None
        self._unwatch: Callable[[], None] | None = None

        # Every part keeps its whole text; a row too wide for the cell wraps (the long
        # "cancelled: ..." line goes below) instead of squeezing the bar and cutting bytes.
        self.layout.flex_flow = "row wrap"
        self.layout.align_items = "center"
        self.file = widgets.Label(filename, layout=widgets.Layout(min_width="14em",
                                                                  width="max-content"))
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=100.0,
                                         layout=widgets.Layout(width="18em", flex="0 0 auto"))
        self.bytes = widgets.Label(layout=widgets.Layout(width="max-content"))
        self.speed_label = widgets.Label(layout=widgets.Layout(width="max-content"))
        self.eta = widgets.Label(layout=widgets.Layout(width="max-content"))
        self.cancel_button = widgets.Button(description=ctx.t("dl-cancel"),
                                            tooltip=ctx.t("dl-cancel-tip"),
                                            button_style="warning", icon="stop",
                                            layout=widgets.Layout(width="auto"))
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.state = widgets.Label(layout=widgets.Layout(width="max-content"))
        for widget, name in ((self, "bodhi-download-row"), (self.file, "bodhi-download-file"),
                             (self.bar, "bodhi-download-bar"),
                             (self.bytes, "bodhi-download-bytes"),
                             (self.speed_label, "bodhi-download-speed"),
                             (self.eta, "bodhi-download-eta"),
                             (self.cancel_button, "bodhi-download-cancel"),
                             (self.state, "bodhi-download-state")):
            widget.add_class(name)
        if not cancellable:
            # A foreground `%bodhi pull` holds the kernel: a click would wait for its end.
            self.cancel_button.layout.display = "none"
            self.state.value = ctx.t("dl-foreground-hint")
        self.children = (self.file, self.bar, self.bytes, self.speed_label, self.eta,
                         self.cancel_button, self.state)
        self._throttle = Throttle(self._apply, per_second=per_second, clock=clock)

    # -- Progress ---------------------------------------------------------------------------

    def start(self, filename: str, total: int, initial: int) -> None:
        with self._lock:
            self.filename, self.total, self.done = filename, total, initial
            self._sample = (self._clock(), initial)
            self.speed = None
            first, self._started = not self._started, True
        self.file.value = filename
        if first and self._on_start is not None:
            self._on_start(self)
        self._apply()

    def advance(self, done: int) -> None:
        with self._lock:
            self.done = done
        self._throttle()

    def notice(self, text: str) -> None:
        shown = said(self.ctx, text)
        self.notices.append(shown)
        if self.outcome is None:
            self.state.value = shown

    def finish(self) -> None:
        """The download's own end (every byte arrived), or a front end closing its bar: the
        update held back is shown; a complete file ends the row as completed."""
        self._throttle.flush()
        if self._service is None and self.total > 0 and self.done >= self.total:
            self.end(COMPLETED)

    # -- following a request DownloadService runs -------------------------------------------

    def follow(self, service: DownloadService, request_id: str,
               token: CancelToken | None = None) -> None:
        """Show the request ``request_id`` that ``service`` runs in this process (started
        by this row's owner or anyone before it): its progress from now on, Cancel through
        ``token`` and ``service.cancel``, and its outcome read from the row when the run
        ends. A run already over shows its outcome at once."""
        self._service, self.request_id, self._token = service, request_id, token
        self._unwatch = service.watch(request_id, _Watcher(self))
        if self._unwatch is None:
            self.settle(service.get(request_id))

    def _run_ended(self) -> None:
        self._throttle.flush()
        service, request_id = self._service, self.request_id
        if service is not None and request_id is not None:
            try:
                self.settle(service.get(request_id))
            except Exception as exc:  # the database went away: say so on the row
                self.fail(exc)

    def stop_following(self) -> None:
        """Stop showing progress (the panel closed); the download goes on."""
        unwatch, self._unwatch = self._unwatch, None
        if unwatch is not None:
            unwatch()

    def cancel(self) -> None:
        """Ask the download to stop; the row says so when it has (between two chunks)."""
        if self.outcome is not None:
            return
        self.cancel_button.disabled = True
        self.state.value = self.ctx.t("dl-cancelling")
        if self._token is not None:
            self._token.cancel()
        if self._service is not None and self.request_id is not None:
            self._service.cancel(self.request_id)

    # -- how it ended -----------------------------------------------------------------------

    def settle(self, request: DownloadRequest) -> None:
        """End the row as the stored request says (nothing while it is still pending)."""
        from bodhi_nb.objs import DownloadStatus
        from bodhi_nb.services.downloads import CANCELLED as CANCELLED_CODE
        from bodhi_nb.services.downloads import INTERRUPTED as INTERRUPTED_CODE
        from bodhi_nb.services.downloads import error_code, error_of

        if request.status is DownloadStatus.PENDING:
            return
        with self._lock:
            if request.total_bytes:
                self.total = request.total_bytes
            self.done = request.downloaded_bytes
            if not self.filename:
                self.filename = request.filename
        self.file.value = self.filename
        self._apply()
        if request.status is DownloadStatus.COMPLETED:
            self.end(COMPLETED)
            return
        code = error_code(request)
        if code == CANCELLED_CODE:
            self.end(CANCELLED)
        elif code == INTERRUPTED_CODE:
            self.end(INTERRUPTED)
        else:
            error = error_of(request)
            self.end(ERROR, self._render(error) if error is not None else "")

    def fail(self, error: BaseException) -> None:
        """End the row with what stopped the download: a cancel, an interrupt (Ctrl-C, the
        kernel's stop button) or an error (one coded, localized line)."""
        from bodhi_nb.errors import HubCancelledError

        self._throttle.flush()
        if isinstance(error, HubCancelledError):
            self.end(CANCELLED)
        elif isinstance(error, KeyboardInterrupt):
            self.end(INTERRUPTED)
        else:
            self.end(ERROR, self._render(error))

    def end(self, outcome: str, message: str = "") -> None:
        """Show ``outcome`` on the row (once; later calls are ignored)."""
        with self._lock:
            if self.outcome is not None:
                return
            self.outcome = outcome
            ends, self._ends = self._ends, []
        self.stop_following()
        self.cancel_button.layout.display = "none"
        self.eta.value = ""
        if outcome == COMPLETED:
            self.bar.value = 100.0
            self.bar.bar_style = "success"
            self.state.value = self.ctx.t("dl-completed")
        elif outcome == ERROR:
            self.bar.bar_style = "danger"
            self.state.value = message
        else:
            self.bar.bar_style = "warning"
            self.state.value = self.ctx.t("dl-cancelled" if outcome == CANCELLED
                                          else "dl-interrupted")
        self.state.add_class(f"bodhi-download-{outcome}")
        self.ended.set()
        for call in ends:
            call(self)

    def on_end(self, call: Callable[[DownloadRow], None]) -> None:
        """Run ``call(row)`` once the row shows its outcome (at once if it already does)."""
        with self._lock:
            if self.outcome is None:
                self._ends.append(call)
                return
        call(self)

    def _render(self, error: BaseException) -> str:
        from bodhi_nb.commands import render_error

        return render_error(error, prog=self.ctx.prog, app_factory=self._app_factory)

    # -- drawing ----------------------------------------------------------------------------

    def _apply(self) -> None:
        """Set the traits from the numbers the download reported (the throttled step)."""
        with self._lock:
            total, done = self.total, self.done
            now = self._clock()
            if self._sample is not None:
                then, before = self._sample
                elapsed = now - then
                if elapsed > 0:
                    rate = max(0.0, (done - before) / elapsed)
                    weight = 1.0 - math.exp(-elapsed / SPEED_TAU)
                    self.speed = rate if self.speed is None else (
                        self.speed + weight * (rate - self.speed))
                    self._sample = (now, done)
            speed = self.speed
            self.updates += 1
        if total > 0:
            self.bar.value = min(100.0, 100.0 * done / total)
        self.bytes.value = self.ctx.t("dl-bytes", done=human_bytes(done),
                                      total=human_bytes(total) if total else "?")
        if speed is None:
            self.speed_label.value = ""
            self.eta.value = self.ctx.t("dl-waiting") if self.outcome is None else ""
        else:
            self.speed_label.value = self.ctx.t("dl-speed", speed=human_bytes(speed))
            left = total - done
            self.eta.value = (self.ctx.t("dl-eta", eta=eta_text(left / speed))
                              if speed > 0 and left > 0 and self.outcome is None else "")

    # -- text ---------------------------------------------------------------------------------

    def text(self) -> str:
        """The row as one line: file, bytes, percent, speed, ETA, state."""
        pct = f"{self.bar.value:.0f}%" if self.total else ""
        parts = (self.file.value, self.bytes.value, pct, self.speed_label.value,
                 self.eta.value, self.state.value)
        return "  ".join(str(p) for p in parts if p)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        return bundle

    def __repr__(self) -> str:
        return f"DownloadRow({self.text()!r})"


class _Watcher:
    """What ``DownloadService.watch`` calls: progress goes to the row, and the end of the
    run (whatever its outcome) makes the row read that outcome from the database."""

    def __init__(self, row: DownloadRow) -> None:
        self._row = row

    def start(self, filename: str, total: int, initial: int) -> None:
        self._row.start(filename, total, initial)

    def advance(self, done: int) -> None:
        self._row.advance(done)

    def notice(self, text: str) -> None:
        self._row.notice(text)

    def finish(self) -> None:
        self._row._run_ended()
