"""The offline Hub with fault injection and a request log, for tests.

:class:`FaultyHubServer` is :class:`bodhi_nb.offline_hub.HubServer` plus, at runtime, fault
rules each matching an optional ``origin`` ("hub" or "cdn"), ``method`` and ``path`` (a regex
searched in the decoded request path; cdn paths end with the file name), for the next
``times`` matching requests (``None``: until :meth:`~FaultyHubServer.clear_faults`):
:meth:`~FaultyHubServer.fail_next` (a status, e.g. 429 with ``Retry-After``),
:meth:`~FaultyHubServer.delay` (latency before the response),
:meth:`~FaultyHubServer.drop_after` (close the connection after n body bytes, only when the body
is longer), :meth:`~FaultyHubServer.throttle` (bytes per second, for each response body: a
connection serves one at a time, so it caps each connection, as a CDN caps each stream),
:meth:`~FaultyHubServer.ignore_ranges` (answer a Range request with 200 and the whole file),
:meth:`~FaultyHubServer.redirect_cdn` (send each cdn request on to a URL of its own). Drop and
throttle apply to file bodies. :meth:`~FaultyHubServer.expire_urls` makes every signed cdn URL
the hub hands out fail (403 or 410) after a number of requests, as an expiring signed URL does.

``hub.log`` lists a :class:`RequestRecord` per request (never the token, only whether one was
sent), with how many requests its origin was serving at once when it arrived.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from bodhi_nb.offline_hub.server import HubServer, Origin, _Exchange, _Fault, _HubError

__all__ = ["FaultyHubServer", "RequestRecord"]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. The token itself is never stored.

    ``origin`` is "hub" or "cdn"; ``path`` is percent-decoded, ``query`` raw; ``headers`` are
    the request's, lower-cased, without Authorization and Cookie (``authorization`` says whether
    one was sent); ``status`` is 0 if the peer left before an answer; ``bytes_sent`` counts body
    bytes; ``fault`` names the injected faults ("status", "delay", "drop", "throttle", joined
    by "+"); ``connection`` numbers the connections of an origin from 1 (keep-alive reuses one);
    ``duration`` runs from the request line to the end of the answer; ``concurrent`` counts
    the requests its origin was serving when it arrived, itself included; ``started`` is
    ``time.monotonic()`` at its request line.
    """

    origin: str
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    authorization: bool
    status: int
    bytes_sent: int
    fault: str | None
    connection: int
    duration: float
    concurrent: int = 1
    started: float = 0.0

    @property
    def range(self) -> str | None:
        """The request's ``Range`` header, if any."""
        return self.headers.get("range")

    @property
    def byte_range(self) -> tuple[int, int] | None:
        """The bytes a 206 answer carried, as a half-open (start, end) pair; None for any
        other answer."""
        if self.status != 206 or self.range is None:
            return None
        first = int(self.range.removeprefix("bytes=").split("-", 1)[0])
        return first, first + self.bytes_sent


@dataclass
class _Rule:
    """A fault and the requests it applies to."""

    fault: _Fault
    remaining: int | None
    path: re.Pattern[str] | None
    origin: str | None
    method: str | None

    def matches(self, origin: str, method: str, path: str) -> bool:
        return ((self.origin is None or self.origin == origin)
                and (self.method is None or self.method == method)
                and (self.path is None or self.path.search(path) is not None))


class FaultyHubServer(HubServer):
    """:class:`HubServer` with fault rules and a request log (the last ``log_limit``
    records); the other arguments are :class:`HubServer`'s."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *,
                 log_limit: int = 100_000, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self._rules: list[_Rule] = []
        self._log: deque[RequestRecord] = deque(maxlen=log_limit)
        self._inflight = 0
        self._origin_inflight: dict[str, int] = {}
        self._log_lock = threading.Lock()
        self._log_changed = threading.Condition(self._log_lock)
        self._expire_after: int | None = None
        self._expire_status = 403
        self._url_uses: dict[str, int] = {}
        self._url_serial = 0

    # -- faults ----------------------------------------------------------------------------

    def fail_next(self, status: int, *, times: int | None = 1, path: str | None = None,
                  origin: Origin | None = None, method: str | None = None,
                  headers: Mapping[str, str] | None = None, error_code: str | None = None,
                  message: str | None = None) -> None:
        """Answer ``status`` (e.g. 429 with ``{"Retry-After": "1"}``) to matching requests."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Injected"
        self._add_rule(_Fault(
            "status", status=status, headers=tuple((headers or {}).items()),
            error_code=error_code or phrase.replace(" ", "").replace("-", ""),
            message=message or f"{phrase} (injected by the local hub)"),
            times, path, origin, method)

    def delay(self, seconds: float, *, times: int | None = 1, path: str | None = None,
              origin: Origin | None = None, method: str | None = None) -> None:
        """Wait ``seconds`` before answering matching requests."""
        self._add_rule(_Fault("delay", seconds=seconds), times, path, origin, method)

    def drop_after(self, n_bytes: int, *, times: int | None = 1, path: str | None = None,
                   origin: Origin | None = None, method: str | None = None) -> None:
        """Close the connection after ``n_bytes`` of a matching file body longer than that."""
        self._add_rule(_Fault("drop", after=n_bytes), times, path, origin, method)

    def throttle(self, bytes_per_second: int | None, *, path: str | None = None,
                 origin: Origin | None = None, times: int | None = None) -> None:
        """Send matching file bodies at ``bytes_per_second``; None removes every throttle."""
        if bytes_per_second is None:
            with self._log_lock:
                self._rules = [r for r in self._rules if r.fault.kind != "throttle"]
            return
        if bytes_per_second <= 0:
            raise ValueError("bytes_per_second must be positive")
        self._add_rule(_Fault("throttle", rate=bytes_per_second), times, path, origin, None)

    def ignore_ranges(self, *, times: int | None = None, path: str | None = None,
                      origin: Origin | None = None) -> None:
        """Answer matching Range requests with 200 and the whole file, as a server without
        range support does."""
        self._add_rule(_Fault("ignore_range"), times, path, origin, None)

    def redirect_cdn(self, *, times: int | None = None, path: str | None = None) -> None:
        """Send matching cdn GETs on (302) to a URL of their own (a ``hop`` parameter the
        cdn accepts), as a CDN that balances each request elsewhere does."""
        self._add_rule(_Fault("redirect"), times, path, "cdn", "GET")

    def expire_urls(self, after: int | None, *, status: int = 403) -> None:
        """Each signed cdn URL handed out from now on answers ``status`` (403 AccessDenied
        "Request has expired", or 410) once it has served ``after`` requests; None stops."""
        with self._log_lock:
            self._expire_after = after
            self._expire_status = status
            self._url_uses.clear()

    def clear_faults(self) -> None:
        """Remove every fault rule (and URL expiry)."""
        with self._log_lock:
            self._rules.clear()
            self._expire_after = None

    def _add_rule(self, fault: _Fault, times: int | None, path: str | None,
                  origin: str | None, method: str | None) -> None:
        if times is not None and times <= 0:
            raise ValueError("times must be positive or None")
        rule = _Rule(fault, times, None if path is None else re.compile(path), origin, method)
        with self._log_lock:
            self._rules.append(rule)

    def _take_fault(self, kind: str, ex: _Exchange,
                    accept: Callable[[_Fault], bool] = lambda f: True) -> _Fault | None:
        with self._log_lock:
            for rule in self._rules:
                if (rule.fault.kind == kind and rule.matches(ex.origin, ex.method, ex.path)
                        and accept(rule.fault)):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    ex.faults.append(kind)
                    return rule.fault
        return None

    # -- log -------------------------------------------------------------------------------

    @property
    def log(self) -> list[RequestRecord]:
        """A copy of the request log, once requests in flight have been recorded."""
        with self._log_changed:
            self._log_changed.wait_for(lambda: self._inflight == 0, timeout=2.0)
            return list(self._log)

    def clear_log(self) -> None:
        """Forget the log, once requests in flight have been recorded (a download the client
        just cancelled is still being served: its record must not land in the new log)."""
        with self._log_changed:
            self._log_changed.wait_for(lambda: self._inflight == 0, timeout=5.0)
            self._log.clear()

    def _cdn_url(self, entry: Any, host: str | None) -> str:
        url = super()._cdn_url(entry, host)
        with self._log_lock:
            if self._expire_after is None:
                return url
            self._url_serial += 1
            return f"{url}&url={self._url_serial}"  # each URL handed out is one of its own

    def _cdn(self, ex: _Exchange) -> None:
        with self._log_lock:
            after, status = self._expire_after, self._expire_status
            if after is not None and ex.param("url"):
                key = ex.param("url")
                self._url_uses[key] = uses = self._url_uses.get(key, 0) + 1
                if uses > after:
                    ex.faults.append("expired")
                    raise _HubError(status, "AccessDenied" if status == 403 else "Gone",
                                    "Request has expired")
        if not ex.param("hop") and self._take_fault("redirect", ex) is not None:
            with self._log_lock:
                self._url_serial += 1
                hop = self._url_serial
            ex.send(302, [("Location", f"{ex.raw_path}?{ex.query}&hop={hop}")])
            return
        super()._cdn(ex)

    def _serve(self, ex: _Exchange) -> None:
        with self._log_lock:
            self._inflight += 1
            concurrent = self._origin_inflight.get(ex.origin, 0) + 1
            self._origin_inflight[ex.origin] = concurrent
        try:
            super()._serve(ex)
        finally:
            handler = ex.handler
            headers = {k.lower(): str(v) for k, v in handler.headers.items()
                       if k.lower() not in ("authorization", "cookie")}
            record = RequestRecord(
                origin=ex.origin, method=ex.method, path=ex.path, query=ex.query,
                headers=headers, authorization=handler.headers.get("Authorization") is not None,
                status=ex.status, bytes_sent=ex.bytes_sent,
                fault="+".join(ex.faults) or None, connection=handler.connection_id,
                duration=time.monotonic() - ex.started, concurrent=concurrent,
                started=ex.started)
            with self._log_changed:
                self._log.append(record)
                self._inflight -= 1
                self._origin_inflight[ex.origin] -= 1
                self._log_changed.notify_all()
