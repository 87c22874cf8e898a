"""DownloadService: download requests in DuckDB around HubService pulls (BodhiApp §6).

Statuses are ``pending | completed | error``; "active" is pending with ``started_at`` set.
Progress reaches the database at most once every ``write_interval`` seconds (3 s, as
BodhiApp), plus once at the end; the first write sets ``started_at``. A pull for a
(repo, file, revision) that already has a request reuses the newest unarchived row, so a
re-run after a crash continues the same request (and the same partial file).
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

from bodhi_nb.errors import (
    BodhiError,
    DownloadActiveError,
    DownloadNotFailedError,
    DownloadNotFoundError,
)
from bodhi_nb.objs import DownloadRequest, DownloadStatus, HubFile, Repo, new_ulid
from bodhi_nb.services.db import DbService
from bodhi_nb.services.hub import HubService, Progress
from bodhi_nb.services.time import TimeService

__all__ = ["DownloadService", "error_of"]


def error_of(request: DownloadRequest) -> BodhiError | None:
    """Rebuild the error stored with a failed request (for a localized message)."""
    if not request.error:
        return None
    from bodhi_nb.errors import all_error_classes

    try:
        data = json.loads(request.error)
        cls = {c.code: c for c in all_error_classes()}[data["code"]]
    except (ValueError, KeyError, TypeError):
        return None
    return cls(**{str(k): v for k, v in dict(data.get("params", {})).items()})


class _DbProgress:
    """Writes progress to the request row, throttled; forwards everything to ``inner``."""

    def __init__(self, service: DownloadService, request_id: str, inner: Progress | None,
                 interval: float) -> None:
        self._service = service
        self._id = request_id
        self._inner = inner
        self._interval = interval
        self._last: float | None = None
        self.total = 0
        self.done = 0

    def start(self, filename: str, total: int, initial: int) -> None:
        self.total, self.done = total, initial
        self._write(force=True)
        if self._inner:
            self._inner.start(filename, total, initial)

    def advance(self, done: int) -> None:
        self.done = done
        self._write(force=False)
        if self._inner:
            self._inner.advance(done)

    def notice(self, text: str) -> None:
        if self._inner:
            self._inner.notice(text)

    def finish(self) -> None:
        self._write(force=True)
        if self._inner:
            self._inner.finish()

    def _write(self, force: bool) -> None:
        now = self._service.time.monotonic()
        if not force and self._last is not None and now - self._last < self._interval:
            return
        if self.total <= 0:
            return
        self._last = now
        self._service._update(self._id, total_bytes=self.total, downloaded_bytes=self.done,
                              started=True)


class DownloadService:
    def __init__(self, db: DbService, hub: HubService, time: TimeService,
                 write_interval: float = 3.0) -> None:
        self.db = db
        self.hub = hub
        self.time = time
        self.write_interval = write_interval
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    # -- queries ----------------------------------------------------------------------------

    def list(self, include_archived: bool = False) -> list[DownloadRequest]:
        return self.db.list_download_requests(include_archived=include_archived)

    def get(self, request_id: str) -> DownloadRequest:
        found = self.db.get_download_request(request_id)
        if found is None:
            raise DownloadNotFoundError(id=request_id)
        return found

    def running(self, request_id: str) -> bool:
        with self._lock:
            thread = self._threads.get(request_id)
            return thread is not None and thread.is_alive()

    # -- actions ----------------------------------------------------------------------------

    def pull(self, repo: Repo, filename: str, revision: str = "main",
             progress: Progress | None = None, background: bool = False) -> DownloadRequest:
        """Record the request and download (now, or in a background thread)."""
        request = self._request_for(repo, filename, revision)
        if self.running(request.id):
            return request
        return self._run(request, progress, background)

    def retry(self, request_id: str, progress: Progress | None = None,
              background: bool = False) -> DownloadRequest:
        request = self.get(request_id)
        if request.status is not DownloadStatus.ERROR:
            raise DownloadNotFailedError(id=request_id, status=request.status.value)
        return self._run(request, progress, background)

    def archive(self, request_id: str) -> DownloadRequest:
        request = self.get(request_id)
        if self.running(request_id) or (request.status is DownloadStatus.PENDING
                                        and request.started_at is not None
                                        and request.archived_at is None
                                        and self._fresh(request)):
            raise DownloadActiveError(id=request_id)
        now = self.time.utc_now()
        archived = dataclasses.replace(request, archived_at=now, updated_at=now)
        self.db.update_download_request(archived)
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

    def _request_for(self, repo: Repo, filename: str, revision: str) -> DownloadRequest:
        rows = self.db.execute(
            "SELECT id FROM download_requests WHERE repo = ? AND filename = ? AND revision = ?"
            " AND archived_at IS NULL ORDER BY created_at DESC, id DESC LIMIT 1",
            [repo.id, filename, revision])
        if rows:
            return self.get(rows[0][0])
        now = self.time.utc_now()
        request = DownloadRequest(new_ulid(now), repo.id, filename, DownloadStatus.PENDING,
                                  now, now, revision=revision)
        self.db.create_download_request(request)
        return request

    def _run(self, request: DownloadRequest, progress: Progress | None,
             background: bool) -> DownloadRequest:
        now = self.time.utc_now()
        reset = dataclasses.replace(request, status=DownloadStatus.PENDING, error=None,
                                    started_at=None, updated_at=now)
        self.db.update_download_request(reset)
        if not background:
            self._work(reset, progress, reraise=True)
            return self.get(reset.id)
        thread = threading.Thread(target=self._work, args=(reset, progress, False),
                                  name=f"bodhi-pull-{reset.id}", daemon=True)
        with self._lock:
            self._threads[reset.id] = thread
        thread.start()
        return reset

    def _work(self, request: DownloadRequest, progress: Progress | None,
              reraise: bool) -> HubFile | None:
        """Run one download; the outcome lands in the row. A background run (``reraise``
        false) keeps its error in the row only."""
        tracker = _DbProgress(self, request.id, progress, self.write_interval)
        try:
            found = self.hub.download(Repo.parse(request.repo), request.filename,
                                      request.revision, tracker)
        except BodhiError as exc:
            self._update(request.id, status=DownloadStatus.ERROR,
                         error=json.dumps({"code": exc.code, "params": exc.params}))
            if reraise:
                raise
            return None
        except BaseException:
            self._update(request.id, status=DownloadStatus.ERROR,
                         error=json.dumps({"code": "bodhi_error", "params": {}}))
            raise
        size = found.size or 0
        self._update(request.id, status=DownloadStatus.COMPLETED, total_bytes=size,
                     downloaded_bytes=size, started=True)
        return found

    def _update(self, request_id: str, *, started: bool = False, **changes: Any) -> None:
        with self.db.transaction():
            current = self.get(request_id)
            now = self.time.utc_now()
            if started and current.started_at is None:
                changes["started_at"] = now
            self.db.update_download_request(
                dataclasses.replace(current, updated_at=now, **changes))
