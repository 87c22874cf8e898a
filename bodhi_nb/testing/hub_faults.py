"""The offline Hub with fault injection and a request log, for tests.

:class:`FaultyHubServer` is :class:`bodhi_nb.offline_hub.HubServer` plus, at runtime, fault
rules each matching an optional ``origin`` ("hub" or "cdn"), ``method`` and ``path`` (a regex
searched in the decoded request path; cdn paths end with the file name), for the next
``times`` matching requests (``None``: until :meth:`~FaultyHubServer.clear_faults`):
:meth:`~FaultyHubServer.fail_next` (a status, e.g. 429 with ``Retry-After``),
:meth:`~FaultyHubServer.delay` (latency before the response),
:meth:`~FaultyHubServer.drop_after` (close the connection after n body bytes, only when the body
is longer), :meth:`~FaultyHubServer.throttle` (bytes per second). Drop and throttle apply to
file bodies.

``hub.log`` lists a :class:`RequestRecord` per request (never the token, only whether one was
sent).
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

from bodhi_nb.offline_hub.server import HubServer, Origin, _Exchange, _Fault

__all__ = ["FaultyHubServer", "RequestRecord"]


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it. The token itself is never stored.

    ``origin`` is "hub" or "cdn"; ``path`` is percent-decoded, ``query`` raw; ``headers`` are
    the request's, lower-cased, without Authorization and Cookie (``authorization`` says whether
    one was sent); ``status`` is 0 if the peer left before an answer; ``bytes_sent`` counts body
    bytes; ``fault`` names the injected faults ("status", "delay", "drop", "throttle", joined
    by "+"); ``connection`` numbers the connections of an origin from 1 (keep-alive reuses one);
    ``duration`` runs from the request line to the end of the answer.
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

    @property
    def range(self) -> str | None:
        """The request's ``Range`` header, if any."""
        return self.headers.get("range")


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
        self._log_lock = threading.Lock()
        self._log_changed = threading.Condition(self._log_lock)

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

    def clear_faults(self) -> None:
        """Remove every fault rule."""
        with self._log_lock:
            self._rules.clear()

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

    def _serve(self, ex: _Exchange) -> None:
        with self._log_lock:
            self._inflight += 1
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
                duration=time.monotonic() - ex.started)
            with self._log_changed:
                self._log.append(record)
                self._inflight -= 1
                self._log_changed.notify_all()
