"""Parallel ranged downloads: one large file over several HTTP connections (issue 15).

A single TCP stream is often capped well below the link (a CDN's per-stream limit, a long
round trip). :func:`fetch_ranged` fetches the missing byte ranges of the one partial file
(``blobs/<etag>.incomplete``) over several connections, each writing its bytes at their
offsets (``os.pwrite``), and keeps everything the single stream guarantees:

* **verification**: a hasher thread reads back (``os.preadv``, from the page cache) the
  contiguous prefix of completed bytes as it grows and feeds the digest, so the check ends
  moments after the last byte arrives; nothing is published unless the digest matches;
* **resume**: the completed ranges are recorded in a sidecar next to the partial
  (``<etag>.incomplete.ranges``, JSON, written atomically at most once a second and when the
  pull stops). A later pull, after a kill or a kernel restart, fetches only the ranges it
  does not list. Ranges the sidecar lists but the disk lost (a power cut before writeback)
  are caught by the final digest, and the caller fetches the file again with a notice.
  A partial without a sidecar (the single stream's) is a contiguous prefix;
* **flat memory**: one 1 MiB buffer per connection and one for the hasher;
* **hostile or odd servers**: a server that answers a range with 200, a wrong
  ``Content-Range`` or 416 raises :class:`RangesUnsupported` (the caller continues over one
  connection from the verified-contiguous prefix); redirects are followed per range (each
  range may land on another CDN URL); a signed URL that expires mid-download (403/410 from
  another origin) is resolved again at the Hub, and refused if the file changed meanwhile.

Connections are shared through a :class:`ConnectionBudget`: the downloads holding one
budget split it fairly (each gets at least one connection; a download that holds more than
its share gives connections back between ranges). A kernel's pulls share the HubService's
budget (``BODHI_PULL_CONNECTIONS``); ``pull --connections N`` gives its files one budget of N.

Each range is a piece of the unassigned bytes: large (up to 32 MiB) while much remains, and
smaller (down to 2 MiB) toward the end, so every connection finishes at about the same time.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from http.client import HTTPConnection, HTTPException, HTTPResponse
from pathlib import Path
from typing import TYPE_CHECKING

from bodhi_nb._fs import atomic_write_text
from bodhi_nb.errors import HubCancelledError, TransportError, UrlExpiredError
from bodhi_nb.objs import CancelToken, Notice
from bodhi_nb.redact import redact_url

if TYPE_CHECKING:
    from bodhi_nb.services.hub import HubService, Progress, RemoteFile

__all__ = ["MAX_PIECE", "MIN_PIECE", "ConnectionBudget", "RangesUnsupported",
           "fetch_ranged", "forget_ranges", "keep_prefix_only", "ranges_path"]

MIN_PIECE = 2 << 20
MAX_PIECE = 32 << 20
_BUFFER = 1 << 20
#: seconds between two writes of the sidecar while the pull runs
_SAVE_EVERY = 1.0
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_REDIRECTS = (301, 302, 303, 307, 308)
_TRANSIENT = (429, 500, 502, 503, 504)


class RangesUnsupported(Exception):  # noqa: N818 - a signal to the caller, not an error
    """The server does not serve byte ranges of this file: continue over one connection."""


class ConnectionBudget:
    """Connections shared by the downloads that hold it; each gets ``share()`` of them
    (at least one: a download never waits for another to end, so while one hands back
    connections beyond its share, the total may pass ``size`` by one per extra download).
    Thread-safe; ``size`` may change while downloads run."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("a connection budget needs at least one connection")
        self._size = size
        self._lock = threading.Lock()
        self._holders: list[object] = []
        self._in_use = 0

    def claim(self, first: bool) -> bool:
        """Take a connection: always the ``first`` of a download, else only a free one."""
        with self._lock:
            if first or self._in_use < self._size:
                self._in_use += 1
                return True
            return False

    def release(self) -> None:
        with self._lock:
            self._in_use -= 1

    @property
    def size(self) -> int:
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        if value < 1:
            raise ValueError("a connection budget needs at least one connection")
        self._size = value

    @contextlib.contextmanager
    def hold(self) -> Iterator[Callable[[], int]]:
        """Join the budget for one download; yields the function giving its share now."""
        token = object()
        with self._lock:
            self._holders.append(token)

        def share() -> int:
            with self._lock:
                n = len(self._holders)
                index = self._holders.index(token)
            base, extra = divmod(self._size, n)
            return max(1, base + (1 if index < extra else 0))

        try:
            yield share
        finally:
            with self._lock:
                self._holders.remove(token)


def ranges_path(partial: Path) -> Path:
    """The sidecar listing the completed ranges of ``partial``."""
    return partial.with_name(partial.name + ".ranges")


def forget_ranges(partial: Path) -> None:
    ranges_path(partial).unlink(missing_ok=True)


def keep_prefix_only(partial: Path, size: int, etag: str) -> None:
    """Make ``partial`` a plain contiguous prefix (what the single stream appends to): cut it
    after the completed bytes its sidecar lists from byte 0, then drop the sidecar. Without
    a sidecar the file already is one; nothing changes."""
    sidecar = ranges_path(partial)
    if not sidecar.exists():
        return
    done = _Ranges.load(sidecar, partial, size, etag)
    with contextlib.suppress(FileNotFoundError):
        os.truncate(partial, done.prefix())
    sidecar.unlink(missing_ok=True)


class _Ramp:
    """How many connections a download uses: it starts with two and doubles while the total
    rate grows (a per-stream cap: a CDN, a long round trip), up to its budget (at once after
    a doubling that nearly doubled the rate); when a step
    brings no gain (the link or the CPU is the limit, as on loopback), it steps back and
    stays. Each step is judged on a window that opens once the new connections have
    delivered their first buffer, so a slow TCP start does not pass for no gain."""

    START = 2
    GROW = 1.25  # a step must bring this factor to be worth the next
    LINEAR = 1.8  # a doubling that brings this much: a per-stream cap, go to the budget
    KEEP = 1.05  # below this factor, the step is undone
    WINDOW = 0.2  # seconds of measure per step
    SETTLE = 0.05  # seconds at least before a window opens

    def __init__(self, cap: int, now: float, done: int) -> None:
        self.cap = cap
        self.target = min(self.START, cap)
        self.ramping = self.target < cap
        self.previous: tuple[int, float] | None = None  # (connections, rate) of the last step
        self._step(now, done)

    def _step(self, now: float, done: int) -> None:
        self.step_at, self.step_done = now, done
        self.window: tuple[float, int] | None = None

    def update(self, now: float, done: int, running: int) -> None:
        """Called by the coordinator with the bytes done so far and the workers running."""
        if not self.ramping:
            return
        if running < self.target:
            return  # not all there (a budget shared with another pull): wait
        if self.window is None:
            if (now - self.step_at >= self.SETTLE
                    and done - self.step_done >= self.target * _BUFFER):
                self.window = (now, done)
            return
        started, at = self.window
        if now - started < self.WINDOW:
            return
        rate = (done - at) / (now - started)
        if self.previous is not None:
            connections, before = self.previous
            if rate < before * self.KEEP:
                self.target, self.ramping = connections, False  # no gain: step back
                return
            if rate < before * self.GROW:
                self.ramping = False  # a small gain: keep it, go no further
                return
        linear = self.previous is not None and rate >= self.previous[1] * self.LINEAR
        self.previous = (self.target, rate)
        self.target = self.cap if linear else min(self.cap, self.target * 2)
        self.ramping = self.target > self.previous[0]
        self._step(now, done)


class _Ranges:
    """Completed byte ranges as sorted, merged, half-open [start, end) pairs."""

    def __init__(self, pairs: list[tuple[int, int]] | None = None) -> None:
        self._pairs: list[list[int]] = []
        for a, b in sorted(pairs or []):
            self.add(a, b)

    @classmethod
    def load(cls, sidecar: Path, partial: Path, size: int, etag: str) -> _Ranges:
        """The ranges a sidecar lists (clipped to the bytes the partial holds); with no
        sidecar, the partial's bytes from 0 (a single stream's prefix). A sidecar of another
        file or unreadable counts as nothing done."""
        try:
            have = min(partial.stat().st_size, size)
        except FileNotFoundError:
            return cls()
        try:
            text = sidecar.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls([(0, have)] if have else [])
        except (OSError, UnicodeDecodeError):
            return cls()
        try:
            data = json.loads(text)
            if data.get("size") != size or data.get("etag") != etag:
                return cls()
            pairs = [(int(a), min(int(b), have)) for a, b in data["done"]
                     if 0 <= int(a) < int(b)]
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()
        return cls([(a, b) for a, b in pairs if a < b])

    def save(self, sidecar: Path, size: int, etag: str) -> None:
        atomic_write_text(sidecar, json.dumps({"version": 1, "size": size, "etag": etag,
                                               "done": self.pairs()}), shared=True)

    def add(self, a: int, b: int) -> None:
        pairs = self._pairs
        i = 0
        while i < len(pairs) and pairs[i][1] < a:
            i += 1
        j = i
        while j < len(pairs) and pairs[j][0] <= b:
            a, b = min(a, pairs[j][0]), max(b, pairs[j][1])
            j += 1
        pairs[i:j] = [[a, b]]

    def prefix(self) -> int:
        return self._pairs[0][1] if self._pairs and self._pairs[0][0] == 0 else 0

    def total(self) -> int:
        return sum(b - a for a, b in self._pairs)

    def pairs(self) -> list[list[int]]:
        return [list(p) for p in self._pairs]

    def missing(self, size: int) -> list[list[int]]:
        out, at = [], 0
        for a, b in self._pairs:
            if a > at:
                out.append([at, a])
            at = max(at, b)
        if at < size:
            out.append([at, size])
        return out


@dataclass
class _Piece:
    start: int
    end: int
    at: int  # the next byte to write


class _Expired(Exception):  # noqa: N818
    def __init__(self, status: int, url: str) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.url = url


class _Stopped(Exception):  # noqa: N818
    """The download is stopping (cancelled, or another connection failed for good)."""


class _Download:
    """One file's ranged download: the caller's thread coordinates, workers fetch, a hasher
    follows the contiguous prefix."""

    def __init__(self, hub: HubService, remote: RemoteFile, partial: Path, progress: Progress,
                 cancel: CancelToken, budget: ConnectionBudget) -> None:
        from bodhi_nb.services.hub import _Hasher

        self.hub = hub
        self.remote = remote
        self.partial = partial
        self.sidecar = ranges_path(partial)
        self.progress = progress
        self.cancel = cancel
        self.budget = budget
        self.size = remote.size
        self.hasher = _Hasher(remote.etag, remote.size)
        lock = threading.Lock()
        #: the state below; waited on by the coordinator (a worker ended, all bytes are in)
        self.cond = threading.Condition(lock)
        #: waited on by the hasher: the contiguous prefix grew (or the pull stops)
        self.grown = threading.Condition(lock)
        self.done = _Ranges()
        self.todo: list[list[int]] = []  # unassigned bytes, ascending
        self.hashed = 0
        self.fd = -1
        self.workers: set[threading.Thread] = set()
        self.gave_up = 0
        self.error: BaseException | None = None
        self.last_failure = ""
        self.unsupported = False
        self.stopping = False
        self.abandon = False  # the pull failed or stopped: the hasher need not finish
        self.notices: list[Notice] = []
        self.sockets: set[socket.socket] = set()
        self.url = remote.url
        self.expired_in_a_row = 0
        self.refreshing = threading.Lock()
        self.share: Callable[[], int] = lambda: 1
        self.ramp = _Ramp(budget.size, time.monotonic(), 0)

    # -- the coordinating thread -------------------------------------------------------------

    def run(self) -> str:
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self.done = _Ranges.load(self.sidecar, self.partial, self.size, self.remote.etag)
        self.todo = self.done.missing(self.size)
        self.fd = os.open(self.partial, os.O_RDWR | os.O_CREAT, 0o666)
        hasher = threading.Thread(target=self._hash, name="bodhi-pull-hash", daemon=True)
        forget = self.cancel.on_cancel(self._abort_sockets)
        try:
            if os.fstat(self.fd).st_size > self.size:
                os.ftruncate(self.fd, self.size)  # bytes past the end would be published too
            # Written before any byte lands out of order: a partial without a sidecar is
            # always a plain prefix.
            self._save()
            self.progress.start(self.remote.filename, self.size, self.done.total())
            hasher.start()
            with self.budget.hold() as share:
                self.share = share
                self.ramp = _Ramp(share(), time.monotonic(), self.done.total())
                try:
                    self._coordinate()
                finally:
                    self._stop_workers()
            with self.cond:
                while self.hashed < self.size and self.error is None:
                    self.cond.wait(0.1)
            if self.error is not None:
                raise self.error
            self.progress.advance(self.size)
            return self.hasher.hexdigest()
        finally:
            forget()
            with self.cond:
                self.stopping = True
                self.abandon = self.hashed < self.size
                self._wake()
            if hasher.is_alive():
                hasher.join()
            os.close(self.fd)
            self._flush_notices()
            if self.done.total() < self.size:
                with contextlib.suppress(OSError):
                    self._save()

    def _coordinate(self) -> None:
        interval = self.hub.progress_interval
        last_progress = last_save = self.hub.time.monotonic()
        while True:
            with self.cond:
                if self.error is not None:
                    break
                if self.done.total() >= self.size:
                    break
                if self.cancel.cancelled:
                    raise HubCancelledError(repo=self.remote.repo.id,
                                            filename=self.remote.filename)
                self._spawn()
                if not self.workers:
                    if self.unsupported:
                        raise RangesUnsupported()
                    raise TransportError(endpoint=redact_url(_origin(self.url)),
                                         reason=self.last_failure or "no connection left")
                self.cond.wait(interval)
                done = self.done.total()
                self.ramp.update(time.monotonic(), done, len(self.workers))
            self._flush_notices()
            if self.cancel.cancelled:
                raise HubCancelledError(repo=self.remote.repo.id, filename=self.remote.filename)
            now = self.hub.time.monotonic()
            if now - last_progress >= interval:
                self.progress.advance(done)
                last_progress = now
            if now - last_save >= _SAVE_EVERY:
                self._save()
                last_save = now
        if self.error is not None:
            raise self.error

    def _spawn(self) -> None:
        """Start workers up to this download's share (called holding ``cond``)."""
        if self.unsupported or self.stopping or self.cancel.cancelled:
            return
        want = min(self.share(), self.ramp.target) - self.gave_up
        while (len(self.workers) < want and self.todo
               and self.budget.claim(first=not self.workers)):
            worker = threading.Thread(target=self._work, name="bodhi-pull-range", daemon=True)
            self.workers.add(worker)
            worker.start()

    def _wanted(self) -> int:
        """Workers to run now (called holding ``cond``)."""
        return max(1, min(self.share(), self.ramp.target) - self.gave_up)

    def _stop_workers(self) -> None:
        with self.cond:
            self.stopping = True
            workers = list(self.workers)
            self._wake()
        self._abort_sockets()
        for worker in workers:
            worker.join()

    def _abort_sockets(self) -> None:
        with self.cond:
            sockets = list(self.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _save(self) -> None:
        with self.cond:
            done = _Ranges([(a, b) for a, b in self.done.pairs()])
        done.save(self.sidecar, self.size, self.remote.etag)

    def _flush_notices(self) -> None:
        with self.cond:
            notices, self.notices = self.notices, []
        for notice in notices:
            self.progress.notice(notice)

    def _wake(self) -> None:
        """Wake the coordinator and the hasher (called holding the lock)."""
        self.cond.notify_all()
        self.grown.notify_all()

    def _fail(self, error: BaseException) -> None:
        with self.cond:
            if self.error is None:
                self.error = error
            self.stopping = True
            self._wake()
        self._abort_sockets()

    # -- the hasher ---------------------------------------------------------------------------

    def _hash(self) -> None:
        buf = bytearray(_BUFFER)
        view = memoryview(buf)
        try:
            while True:
                with self.cond:
                    while (self.done.prefix() <= self.hashed and not self.stopping
                           and self.error is None):
                        self.grown.wait()
                    if self.error is not None or self.abandon:
                        return
                    target = self.done.prefix()
                    if target <= self.hashed:
                        return  # stopping, and nothing new to hash
                while self.hashed < target and not self.abandon:
                    n = os.preadv(self.fd, [view[:min(_BUFFER, target - self.hashed)]],
                                  self.hashed)
                    if n <= 0:
                        raise OSError(f"the partial file ends at {self.hashed:,} bytes")
                    self.hasher.update(view[:n])
                    with self.cond:
                        self.hashed += n
                        if self.hashed >= self.size:
                            self._wake()
        except BaseException as exc:
            from bodhi_nb.services.hub import _WriteFailed

            self._fail(_WriteFailed(exc) if isinstance(exc, OSError) else exc)

    # -- workers ------------------------------------------------------------------------------

    def _next(self) -> _Piece | None:
        """The next range to fetch, or None when there is none or this worker must go."""
        with self.cond:
            if self.stopping or self.error is not None or self.unsupported or not self.todo:
                return None
            if len(self.workers) > self._wanted():
                # More than we need or than our share: hand the connection back (counted
                # out at once, so that the others do not all leave with it).
                self.workers.discard(threading.current_thread())
                return None
            unassigned = sum(b - a for a, b in self.todo)
            # Sized for every connection the download may reach, not only those running
            # yet: a large first piece on a slow connection would finish last.
            size = unassigned // (2 * max(len(self.workers), self.ramp.cap)) & ~(_BUFFER - 1)
            size = max(MIN_PIECE, min(MAX_PIECE, size))
            first = self.todo[0]
            start = first[0]
            end = min(first[1], start + size)
            if first[1] - end < MIN_PIECE:
                end = first[1]  # no sliver left behind
            if end == first[1]:
                self.todo.pop(0)
            else:
                first[0] = end
            return _Piece(start, end, start)

    def _give_back(self, piece: _Piece) -> None:
        if piece.at >= piece.end:
            return
        with self.cond:
            self.todo.append([piece.at, piece.end])
            self.todo.sort()

    def _work(self) -> None:
        conns: dict[str, HTTPConnection] = {}
        buf = bytearray(_BUFFER)
        failures = 0
        try:
            while (piece := self._next()) is not None:
                before = piece.at
                try:
                    self._fetch(piece, conns, buf)
                    failures = 0
                except _Stopped:
                    self._give_back(piece)
                    return
                except RangesUnsupported:
                    self._give_back(piece)
                    with self.cond:
                        self.unsupported = True
                        self.stopping = True
                        self._wake()
                    return
                except _Expired as exc:
                    self._give_back(piece)
                    self._refresh(exc, progressed=piece.at > before)
                except (OSError, HTTPException) as exc:
                    from bodhi_nb.services.hub import _reason

                    self._give_back(piece)
                    _close_all(conns)
                    if self.stopping or self.cancel.cancelled:
                        return
                    failures = 1 if piece.at > before else failures + 1
                    reason = _reason(exc)
                    with self.cond:
                        self.last_failure = reason
                        self.notices.append(Notice("hub-resuming", filename=self.remote.filename,
                                                   bytes=self.done.total(), reason=reason))
                    if failures > self.hub.retries:
                        with self.cond:
                            self.gave_up += 1
                        return
                    if self.cancel.wait(min(0.25 * 2 ** (failures - 1), 4.0)):
                        return
        except BaseException as exc:  # a coded error (gated, gone), a full disk: for good
            self._fail(exc)
        finally:
            _close_all(conns)
            self.budget.release()
            with self.cond:
                self.workers.discard(threading.current_thread())
                self._wake()

    def _refresh(self, expired: _Expired, progressed: bool) -> None:
        """The signed URL expired: ask the Hub for a new one, once for all the workers that
        found the same URL expired."""
        with self.refreshing:
            with self.cond:
                if self.url != expired.url:
                    return  # another worker got a new one meanwhile
                self.expired_in_a_row = 1 if progressed else self.expired_in_a_row + 1
                if self.expired_in_a_row > self.hub.retries:
                    raise UrlExpiredError(filename=self.remote.filename, status=expired.status)
            fresh = self.hub._resolve_again(self.remote)
            with self.cond:
                self.url = fresh.url
                self.remote = replace(self.remote, url=fresh.url)

    def _fetch(self, piece: _Piece, conns: dict[str, HTTPConnection], buf: bytearray) -> None:
        from bodhi_nb.services.hub import _USER_AGENT, _hub_error, _WriteFailed

        headers = {"user-agent": _USER_AGENT, "accept-encoding": "identity",
                   "range": f"bytes={piece.at}-{piece.end - 1}"}
        remote = self.remote
        if remote.same_origin:
            headers.update(self.hub._auth()[0])
        with self.cond:
            url = self.url
        response = self._get(url, headers, conns)
        try:
            status = response.status
            if status in (403, 410) and not remote.same_origin:
                raise _Expired(status, url)
            if status in _TRANSIENT:
                raise ConnectionResetError(f"HTTP {status}")
            if status >= 400 and status != 416:
                raise _hub_error(status, {k.lower(): v for k, v in response.getheaders()},
                                 url=url, repo=remote.repo, filename=remote.filename,
                                 revision=remote.revision, token_source=None,
                                 endpoint=self.hub.endpoint)
            if status != 206:
                raise RangesUnsupported()  # 200 (the whole file), 416, anything else
            match = _CONTENT_RANGE.fullmatch((response.getheader("content-range") or "").strip())
            if (match is None or int(match[1]) != piece.at or int(match[2]) >= piece.end
                    or match[3] not in ("*", str(self.size))):
                if match is not None and int(match[1]) == piece.at and \
                        int(match[2]) < piece.end - 1 and match[3] in ("*", str(self.size)):
                    # A shorter answer: the rest goes back to be fetched on its own.
                    self._give_back(_Piece(int(match[2]) + 1, piece.end, int(match[2]) + 1))
                    piece.end = int(match[2]) + 1
                else:
                    raise RangesUnsupported()
            view = memoryview(buf)
            while piece.at < piece.end:
                if self.stopping or self.cancel.cancelled:
                    raise _Stopped()
                want = min(_BUFFER, piece.end - piece.at)
                filled = 0
                while filled < want:
                    n = response.readinto(view[filled:want])
                    if not n:
                        break
                    filled += n
                written = 0
                while written < filled:
                    try:
                        written += os.pwrite(self.fd, view[written:filled], piece.at + written)
                    except OSError as exc:  # the disk, not the network: no retry
                        raise _WriteFailed(exc) from exc
                if filled:
                    with self.cond:
                        prefix = self.done.prefix()
                        self.done.add(piece.at, piece.at + filled)
                        self.expired_in_a_row = 0
                        if self.done.prefix() != prefix:
                            self.grown.notify()
                        if self.done.total() >= self.size:
                            self.cond.notify_all()
                    piece.at += filled
                if filled < want:
                    raise ConnectionResetError(
                        f"body ended after {piece.at - piece.start:,} bytes")
        finally:
            if not response.isclosed():
                # A body left unread (a failure, a stop) cannot share the connection again.
                _close_all(conns)
            response.close()

    def _get(self, url: str, headers: dict[str, str],
             conns: dict[str, HTTPConnection]) -> HTTPResponse:
        """GET ``url`` on this worker's keep-alive connection to its origin, following
        redirects (each range may be sent elsewhere); the token never leaves its origin."""
        from bodhi_nb.services.hub import _redirect

        relayed = False
        for _ in range(6):
            response = self._send(url, headers, relayed, conns)
            if response.status in _REDIRECTS:
                response.read()
                url, headers, relayed = _redirect(url, response.getheader("location") or "",
                                                  headers, relayed)
                continue
            return response
        raise ConnectionError("too many redirects")

    def _send(self, url: str, headers: dict[str, str], relayed: bool,
              conns: dict[str, HTTPConnection]) -> HTTPResponse:
        """One GET on the worker's connection to ``url``'s origin; a keep-alive connection
        the server closed meanwhile is replaced once."""
        from bodhi_nb.services.hub import _connection, _prepare

        key = _origin(url)
        reused = key in conns
        while True:
            conn = conns.get(key)
            if conn is None:
                conn = conns[key] = _connection(urllib.parse.urlsplit(url), self.hub.timeout)
            target, sent = _prepare(url, conn, headers, relayed)
            try:
                if self.stopping or self.cancel.cancelled:
                    raise _Stopped()
                conn.request("GET", target, headers=sent)
                if conn.sock is not None:
                    with self.cond:
                        self.sockets.add(conn.sock)
                return conn.getresponse()
            except (OSError, HTTPException):
                conn.close()
                conns.pop(key, None)
                if not reused or self.stopping:
                    raise
                reused = False


def _close_all(conns: dict[str, HTTPConnection]) -> None:
    for conn in conns.values():
        conn.close()
    conns.clear()


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def fetch_ranged(hub: HubService, remote: RemoteFile, partial: Path, progress: Progress,
                 cancel: CancelToken, budget: ConnectionBudget) -> str:
    """Fetch what ``partial`` lacks over the budget's connections; returns the digest of the
    whole file (the caller compares it with the etag and publishes). Raises
    :class:`RangesUnsupported` when the server does not serve ranges (the sidecar then
    lists what was done), :class:`HubCancelledError` on cancel, or a coded error."""
    return _Download(hub, remote, partial, progress, cancel, budget).run()
