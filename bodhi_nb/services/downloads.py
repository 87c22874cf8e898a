"""DownloadService: download requests in DuckDB around HubService pulls (BodhiApp §6).

Statuses are ``pending | completed | error``; "active" is pending with ``started_at`` set.
Progress reaches the database at most once every ``write_interval`` seconds (3 s, as
BodhiApp), plus once at the end; the first write sets ``started_at``. A pull for a
(repo, file, revision) that already has a request reuses the newest unarchived row, so a
re-run after a crash continues the same request (and the same partial file).

A running row names its owner (host, boot id, PID and the process's start time). A pending
row whose owner is gone (``kill -9``, a crashed kernel) is settled the next time anyone
looks at it: it becomes an error row whose code is :data:`INTERRUPTED`, which
``downloads`` shows as ``interrupted`` and ``downloads retry`` resumes. A pull stopped by an
interrupt (Ctrl-C, the kernel's stop button) ends the same way, with the bytes already in
the partial file.

For front ends that show downloads live (issue 10's panels): a pull takes a
:class:`~bodhi_nb.objs.CancelToken` (or ``cancel(request_id)`` stops one this process runs);
a cancelled pull keeps its partial file and ends as an error row whose code is
:data:`CANCELLED`, which ``downloads retry`` (or the same pull) resumes. ``watch`` lets a
second observer follow a download already running in this process, e.g. a panel whose cell
was run again re-attaches to the pull its first run started. ``list`` pages with ``limit``
and ``offset``; ``count`` says how many rows there are.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import json
import os
import socket
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from bodhi_nb.errors import (
    BodhiError,
    DownloadActiveError,
    DownloadNotFailedError,
    DownloadNotFoundError,
    HubCancelledError,
    error_class,
)
from bodhi_nb.objs import CancelToken, DownloadRequest, DownloadStatus, HubFile, Repo, new_ulid
from bodhi_nb.redact import get_logger
from bodhi_nb.services.hub import ConnectionBudget, HubService, Progress
from bodhi_nb.services.policy import Action, Gate, allow_all
from bodhi_nb.services.time import TimeService
from bodhi_nb.services.usage import UsageService
from bodhi_nb.store.downloads import DownloadsTable

__all__ = ["CANCELLED", "INTERRUPTED", "DownloadService", "error_code", "error_of",
           "owner_alive", "this_owner"]

_log = get_logger("bodhi_nb.downloads")

#: The error code of a request whose pull was interrupted (a kill, Ctrl-C): resumable.
INTERRUPTED = "interrupted"
#: The error code of a request the user cancelled: resumable too (its partial file stays).
CANCELLED = HubCancelledError.code


def error_code(request: DownloadRequest) -> str | None:
    """The code stored with a failed request (``INTERRUPTED`` for an interrupted one)."""
    if not request.error:
        return None
    try:
        code = json.loads(request.error)["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


def error_of(request: DownloadRequest) -> BodhiError | None:
    """Rebuild the error stored with a failed request (for a localized message)."""
    if not request.error:
        return None
    try:
        data = json.loads(request.error)
        cls = error_class(data["code"])
        if cls is None:
            return None
        return cls(**{str(k): v for k, v in dict(data.get("params", {})).items()})
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# -- who runs a download ------------------------------------------------------------------


@cache
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), "Z" for a zombie, None
    when it cannot be read. Tells a live owner from a new process that reused its PID."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    if len(fields) < 20:
        return None
    return "Z" if fields[0] in ("Z", "X") else fields[19]


def this_owner() -> str:
    """``host|boot id|pid|start`` of this process, as stored on the rows it runs."""
    pid = os.getpid()
    return f"{socket.gethostname()}|{_boot_id()}|{pid}|{_process_start(pid) or ''}"


def owner_alive(owner: str) -> bool | None:
    """Whether the process named by ``owner`` still runs: None when this host cannot tell
    (another host sharing BODHI_HOME, a malformed value)."""
    parts = owner.split("|")
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    host, boot, pid_text, start = parts
    if host != socket.gethostname():
        return None
    if boot and _boot_id() and boot != _boot_id():
        return False  # the machine rebooted since
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process: it exists
    except OSError:
        return None
    now = _process_start(pid)
    if now == "Z":
        return False
    return not (start and now is not None and now != start)


class _DbProgress:
    """Writes progress to the request row, throttled; forwards everything to ``inner`` and
    to the watchers (``DownloadService.watch``). A watcher gets ``start`` at once when it
    attaches to a body already under way, and ``finish`` once when the run ends, whatever
    its outcome (the row then holds it)."""

    def __init__(self, service: DownloadService, request_id: str, inner: Progress | None,
                 interval: float) -> None:
        self._service = service
        self._id = request_id
        self._inner = inner
        self._interval = interval
        self._last: float | None = None
        self.filename = ""
        self.total = 0
        self.done = 0
        self._watchers: list[Progress] = []
        self._ended = False
        self._lock = threading.RLock()

    def start(self, filename: str, total: int, initial: int) -> None:
        self.filename = filename
        self.total, self.done = total, initial
        self._write(force=True)
        if self._inner:
            self._inner.start(filename, total, initial)
        self._tell(lambda w: w.start(filename, total, initial))

    def advance(self, done: int) -> None:
        self.done = done
        self._write(force=False)
        if self._inner:
            self._inner.advance(done)
        self._tell(lambda w: w.advance(done))

    def notice(self, text: str) -> None:
        if self._inner:
            self._inner.notice(text)
        self._tell(lambda w: w.notice(text))

    def finish(self) -> None:
        self._write(force=True)
        if self._inner:
            self._inner.finish()

    # -- watchers ---------------------------------------------------------------------------

    def attach(self, watcher: Progress) -> Callable[[], None] | None:
        """Add ``watcher`` (None once the run has ended); returns its unsubscribe."""
        with self._lock:
            if self._ended:
                return None
            self._watchers.append(watcher)
            if self.total > 0:
                _safely(lambda: watcher.start(self.filename, self.total, self.done))

        def detach() -> None:
            with self._lock:
                if watcher in self._watchers:
                    self._watchers.remove(watcher)
        return detach

    def end(self) -> None:
        """The run is over: every watcher gets ``finish`` and is let go."""
        with self._lock:
            self._ended = True
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            _safely(watcher.finish)

    def _tell(self, call: Callable[[Progress], None]) -> None:
        with self._lock:
            for watcher in builtins.list(self._watchers):
                _safely(functools.partial(call, watcher))

    def counts(self) -> dict[str, Any]:
        """The byte counts to store with the outcome (those the hub reported last)."""
        return {"total_bytes": self.total, "downloaded_bytes": self.done} if self.total > 0 else {}

    def _write(self, force: bool) -> None:
        now = self._service.time.monotonic()
        if not force and self._last is not None and now - self._last < self._interval:
            return
        if self.total <= 0:
            return
        self._last = now
        self._service._update(self._id, total_bytes=self.total, downloaded_bytes=self.done,
                              started=True)


def _safely(call: Callable[[], None]) -> None:
    """A watcher's failure (a closed front end) must not stop the download."""
    try:
        call()
    except Exception:
        _log.debug("a download watcher failed", exc_info=True)


class DownloadService:
    def __init__(self, rows: DownloadsTable, hub: HubService, time: TimeService,
                 write_interval: float = 3.0, *, gate: Gate = allow_all,
                 usage: UsageService | None = None) -> None:
        self._gate = gate
        #: records each completed pull (``lock`` without names)
        self.usage = usage
        self.rows = rows
        self.hub = hub
        self.time = time
        self.write_interval = write_interval
        self._threads: dict[str, threading.Thread] = {}
        #: requests this process is downloading now (foreground or background).
        self._working: set[str] = set()
        #: the cancel token and progress tracker of each request in ``_working``
        self._tokens: dict[str, CancelToken] = {}
        self._trackers: dict[str, _DbProgress] = {}
        self._lock = threading.Lock()
        self._owner = this_owner()

    # -- queries ----------------------------------------------------------------------------

    def list(self, include_archived: bool = False, limit: int = 100,
             offset: int = 0) -> list[DownloadRequest]:
        """Newest change first; ``limit`` rows after the first ``offset``."""
        self._gate(Action.DOWNLOADS)
        rows = self.rows.list(include_archived=include_archived, limit=limit, offset=offset)
        return self._settle(rows)

    def count(self, include_archived: bool = False) -> int:
        """How many rows ``list`` pages through."""
        self._gate(Action.DOWNLOADS)
        return self.rows.count(include_archived=include_archived)

    def get(self, request_id: str) -> DownloadRequest:
        self._gate(Action.DOWNLOADS)
        found = self.rows.get(request_id)
        if found is None:
            raise DownloadNotFoundError(id=request_id)
        return found

    def running(self, request_id: str) -> bool:
        """Whether this process is downloading the request now."""
        with self._lock:
            return request_id in self._working

    def watch(self, request_id: str, watcher: Progress) -> Callable[[], None] | None:
        """Follow a download this process runs now (started by anyone: a background pull, a
        cell run before): ``watcher`` gets ``start`` at once with the bytes so far, then
        ``advance`` and ``notice`` as the pull goes, and ``finish`` once when it ends,
        whatever the outcome (read the row then). Returns the function that stops watching,
        or None when the request is not running here (show its row instead)."""
        with self._lock:
            tracker = self._trackers.get(request_id)
        return tracker.attach(watcher) if tracker is not None else None

    def cancel(self, request_id: str) -> bool:
        """Ask the pull of ``request_id`` running in this process to stop (between chunks;
        its partial file stays). False when it is not running here."""
        self._gate(Action.DOWNLOADS)
        with self._lock:
            token = self._tokens.get(request_id)
        if token is None:
            return False
        token.cancel()
        return True

    def state(self, request: DownloadRequest) -> str:
        """What ``downloads`` shows: ``interrupted`` for an interrupted pull, else the
        status (``pending`` rows of a live process elsewhere included)."""
        if request.status is DownloadStatus.ERROR and error_code(request) == INTERRUPTED:
            return INTERRUPTED
        return request.status.value

    # -- actions ----------------------------------------------------------------------------

    def pull(self, repo: Repo, filename: str, revision: str = "main",
             progress: Progress | None = None, background: bool = False,
             cancel: CancelToken | None = None,
             connections: int | ConnectionBudget | None = None) -> DownloadRequest:
        """Record the request and download (now, or in a background thread). A pull of a
        request already running here returns its row (``watch`` follows it). ``cancel``
        stops the download between chunks: the row becomes an error coded
        :data:`CANCELLED` (a foreground pull raises ``HubCancelledError``).
        ``connections`` is :meth:`HubService.download`'s (None: the kernel's budget)."""
        self._gate(Action.PULL)
        request = self._request_for(repo, filename, revision)
        if self.running(request.id):
            return request
        return self._run(request, progress, background, cancel, connections)

    def retry(self, request_id: str, progress: Progress | None = None,
              background: bool = False, cancel: CancelToken | None = None) -> DownloadRequest:
        self._gate(Action.PULL)
        request = self._settle([self.get(request_id)])[0]
        if request.status is not DownloadStatus.ERROR:
            raise DownloadNotFailedError(id=request_id, status=request.status.value)
        return self._run(request, progress, background, cancel)

    def archive(self, request_id: str) -> DownloadRequest:
        self._gate(Action.DOWNLOADS)
        request = self._settle([self.get(request_id)])[0]
        if self.running(request_id) or (request.status is DownloadStatus.PENDING
                                        and request.archived_at is None):
            raise DownloadActiveError(id=request_id)
        now = self.time.utc_now()
        archived = dataclasses.replace(request, archived_at=now, updated_at=now)
        self.rows.update(archived)
        return archived

    def wait(self, request_id: str, timeout: float | None = None) -> DownloadRequest:
        with self._lock:
            thread = self._threads.get(request_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(request_id)

    # -- internals --------------------------------------------------------------------------

    def _fresh(self, request: DownloadRequest) -> bool:
        """A pending row updated recently may belong to another kernel still downloading."""
        age = (self.time.utc_now() - request.updated_at).total_seconds()
        return age < max(3 * self.write_interval, 10)

    def _settle(self, rows: builtins.list[DownloadRequest]) -> builtins.list[DownloadRequest]:
        """``rows`` with every pending row whose process is gone marked interrupted."""
        pending = [r for r in rows if r.status is DownloadStatus.PENDING
                   and r.archived_at is None and not self.running(r.id)]
        if not pending:
            return rows
        owners = self.rows.owners([r.id for r in pending])
        settled: dict[str, DownloadRequest] = {}
        for row in pending:
            owner = owners.get(row.id)
            if owner == self._owner:
                alive: bool | None = False  # ours, and not running here: its thread died
            elif owner:
                alive = owner_alive(owner)
            else:
                alive = None  # never started, or written by an older version
            if alive is None:
                alive = self._fresh(row)
            if not alive:
                settled[row.id] = self._interrupt(row.id, owner)
        return [settled.get(r.id, r) for r in rows]

    def _interrupt(self, request_id: str, owner: str | None,
                   done: int | None = None) -> DownloadRequest:
        """Mark a pending request interrupted (unless it changed meanwhile)."""
        with self.rows.transaction():
            current = self.get(request_id)
            if (current.status is not DownloadStatus.PENDING
                    or self.rows.owners([request_id]).get(request_id) != owner):
                return current  # finished, or another process took it over
            changes: dict[str, Any] = {"status": DownloadStatus.ERROR,
                                       "error": json.dumps({"code": INTERRUPTED, "params": {}}),
                                       "updated_at": self.time.utc_now()}
            if done is not None:
                changes["downloaded_bytes"] = max(done, 0)
            row = dataclasses.replace(current, **changes)
            self.rows.update(row)
            self.rows.set_owner(request_id, None)
        return row

    def _request_for(self, repo: Repo, filename: str, revision: str) -> DownloadRequest:
        found = self.rows.latest_for(repo.id, filename, revision)
        if found is not None:
            return found
        now = self.time.utc_now()
        request = DownloadRequest(new_ulid(now), repo.id, filename, DownloadStatus.PENDING,
                                  now, now, revision=revision)
        self.rows.create(request)
        return request

    def _run(self, request: DownloadRequest, progress: Progress | None,
             background: bool, cancel: CancelToken | None = None,
             connections: int | ConnectionBudget | None = None) -> DownloadRequest:
        now = self.time.utc_now()
        reset = dataclasses.replace(request, status=DownloadStatus.PENDING, error=None,
                                    started_at=None, updated_at=now)
        tracker = _DbProgress(self, reset.id, progress, self.write_interval)
        token = cancel or CancelToken()
        with self._lock:
            self._working.add(reset.id)
            self._tokens[reset.id] = token
            self._trackers[reset.id] = tracker
        try:
            with self.rows.transaction():
                self.rows.update(reset)
                self.rows.set_owner(reset.id, self._owner)
            if not background:
                self._work(reset, tracker, token, reraise=True, connections=connections)
                return self.get(reset.id)
            thread = threading.Thread(target=self._work_in_background,
                                      args=(reset, tracker, token, connections),
                                      name=f"bodhi-pull-{reset.id}", daemon=True)
            with self._lock:
                self._threads[reset.id] = thread
            thread.start()
        except BaseException:
            self._done(reset.id, tracker)
            raise
        return reset

    def _work_in_background(self, request: DownloadRequest, tracker: _DbProgress,
                            token: CancelToken,
                            connections: int | ConnectionBudget | None = None) -> None:
        try:
            self._work(request, tracker, token, reraise=False, connections=connections)
        except Exception:  # the row holds the outcome; a thread has nobody to raise to
            _log.debug("background pull %s failed", request.id, exc_info=True)

    def _work(self, request: DownloadRequest, tracker: _DbProgress, token: CancelToken,
              reraise: bool,
              connections: int | ConnectionBudget | None = None) -> HubFile | None:
        """Run one download; the outcome lands in the row. A background run (``reraise``
        false) keeps its error in the row only."""
        try:
            return self._download(request, tracker, token, reraise, connections)
        finally:
            self._done(request.id, tracker)

    def _done(self, request_id: str, tracker: _DbProgress) -> None:
        with self._lock:
            self._working.discard(request_id)
            self._tokens.pop(request_id, None)
            if self._trackers.get(request_id) is tracker:
                del self._trackers[request_id]
        tracker.end()

    def _download(self, request: DownloadRequest, tracker: _DbProgress, token: CancelToken,
                  reraise: bool,
                  connections: int | ConnectionBudget | None = None) -> HubFile | None:
        try:
            found = self.hub.download(Repo.parse(request.repo), request.filename,
                                      request.revision, tracker, cancel=token,
                                      connections=connections)
        except BodhiError as exc:
            self._update(request.id, status=DownloadStatus.ERROR,
                         error=json.dumps({"code": exc.code, "params": exc.params}),
                         **tracker.counts())
            if reraise:
                raise
            return None
        except Exception as exc:
            from bodhi_nb.errors import InternalError

            self._update(request.id, status=DownloadStatus.ERROR,
                         error=json.dumps({"code": InternalError.code,
                                           "params": {"kind": type(exc).__name__}}),
                         **tracker.counts())
            raise
        except BaseException:
            # Ctrl-C / the kernel's interrupt: the partial file stays, the pull resumes.
            self._interrupt(request.id, self._owner,
                            done=tracker.done if tracker.total > 0 else None)
            raise
        size = found.size or 0
        self._update(request.id, status=DownloadStatus.COMPLETED, total_bytes=size,
                     downloaded_bytes=size, started=True)
        if self.usage is not None:
            self.usage.model(found.repo, found.filename, found.snapshot)
        return found

    def _update(self, request_id: str, *, started: bool = False, **changes: Any) -> None:
        with self.rows.transaction():
            current = self.get(request_id)
            now = self.time.utc_now()
            if started and current.started_at is None:
                changes["started_at"] = now
            self.rows.update(
                dataclasses.replace(current, updated_at=now, **changes))

