"""A fault-injecting HTTP reverse proxy to put in front of a real server (tests only).

A real provider cannot be told to answer 429 or to drop a stream half-way on demand, so
tests put :class:`FaultProxy` between the client and a real server (llama.cpp, say): every
request is forwarded to the upstream base URL unchanged, streamed responses included (the
body is relayed chunk by chunk as it arrives), unless a fault rule matches it::

    with FaultProxy("http://127.0.0.1:8080") as proxy:
        proxy.fail_next(429, headers={"Retry-After": "7"})     # next request: a 429
        proxy.drop_after(200, path="/chat/completions")        # next match: cut after 200 B
        ... point the client at proxy.url ...
        assert [e.fault for e in proxy.log] == ["status", "drop"]

Rules match an optional ``method`` and ``path`` (a regex searched in the request path) and
apply to the next ``times`` matching requests, in the order they were added. Standard
library only; one thread per connection (HTTP/1.1 keep-alive towards the client, one
upstream connection per request).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["FaultProxy", "ProxyLogEntry"]

_HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "trailers", "transfer-encoding", "upgrade", "host", "content-length",
})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ProxyLogEntry:
    """One request the proxy saw: what it answered, and which fault (if any) it applied."""

    method: str
    path: str
    status: int
    fault: str | None = None
    #: body bytes relayed to the client (after a drop: how many were sent before it)
    sent: int = 0
    #: the request's body as the client sent it (a test reads which prompts travelled)
    body: bytes = field(default=b"", repr=False)

    def json(self) -> Any:
        """The request body as JSON (None when it is empty or not JSON)."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class _Rule:
    kind: str  # "status" | "drop"
    times: int
    method: str | None
    path: re.Pattern[str] | None
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    after: int = 0

    def matches(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.path is None or self.path.search(path) is not None))


class FaultProxy:
    """Reverse proxy to ``upstream`` on ``127.0.0.1:<free port>``; see the module docs."""

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0,
                 upstream_timeout: float = 120.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("upstream must be an http:// URL")
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port or 80
        self.upstream_path = parts.path.rstrip("/")
        self.upstream_timeout = upstream_timeout
        self.log: list[ProxyLogEntry] = []
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._server = _Server((host, port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        #: the proxy's base URL; the upstream's path (if any) is added by the proxy.
        self.url = f"http://{host}:{self._server.server_port}"

    # -- fault rules ----------------------------------------------------------------------

    def fail_next(self, status: int, *, times: int = 1, headers: dict[str, str] | None = None,
                  body: bytes | str | dict[str, Any] | None = None, method: str | None = None,
                  path: str | None = None) -> None:
        """Answer the next ``times`` matching requests with ``status`` (the upstream is not
        contacted). ``body`` defaults to an OpenAI-style error envelope."""
        if body is None:
            body = {"error": {"message": f"injected HTTP {status}", "type": "fault_proxy",
                              "code": status}}
        raw = (json.dumps(body).encode() if isinstance(body, dict)
               else body.encode() if isinstance(body, str) else body)
        self._add(_Rule("status", times, method, _regex(path), status=status,
                        headers=dict(headers or {}), body=raw))

    def drop_after(self, n_bytes: int, *, times: int = 1, method: str | None = None,
                   path: str | None = None) -> None:
        """Forward the next ``times`` matching requests, but close the connection after
        ``n_bytes`` bytes of the response body (no final chunk: the client sees a cut)."""
        self._add(_Rule("drop", times, method, _regex(path), after=max(0, int(n_bytes))))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _take(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.times -= 1
                    if rule.times <= 0:
                        self._rules.remove(rule)
                    return rule
        return None

    def _record(self, entry: ProxyLogEntry) -> None:
        with self._lock:
            self.log.append(entry)

    # -- lifecycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving, cut open client connections, wait for the handler threads."""
        self._server.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FaultProxy({self.url!r} -> http://{self.upstream_host}:{self.upstream_port}"
                f"{self.upstream_path})")


def _regex(path: str | None) -> re.Pattern[str] | None:
    return re.compile(path) if path is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins the handler threads
    request_queue_size = 128  # the default backlog of 5 resets concurrent clients
    block_on_close = True


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(_ProxyHandler):
        owner = proxy

    return Handler


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FaultProxy
    _started = False
    _body = b""
    #: an idle keep-alive connection is closed after this long
    timeout = 60

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner._sockets.add(self.connection)

    def finish(self) -> None:
        with self.owner._lock:
            self.owner._sockets.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        return  # the proxy keeps its own log

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self._body = body
        rule = self.owner._take(self.command, self.path)
        if rule is not None and rule.kind == "status":
            self._answer(rule)
            return
        self._started = False
        try:
            self._forward(body, rule)
        except (OSError, http.client.HTTPException) as exc:
            if self._started or isinstance(exc, (BrokenPipeError, ConnectionResetError)):
                self._cut()  # the client's side is gone, or a response is half-sent
                return
            self._bad_gateway(exc)

    def _answer(self, rule: _Rule) -> None:
        self.send_response(rule.status)
        for name, value in rule.headers.items():
            self.send_header(name, value)
        if not any(n.lower() == "content-type" for n in rule.headers):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(rule.body)))
        # Every entry is logged before the client can have the whole answer, so a test
        # that has read a response finds it in the log.
        self.owner._record(self._entry(self.command, self.path, rule.status, "status",
                                         len(rule.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(rule.body)

    def _entry(self, method: str, path: str, status: int, fault: str | None = None,
               sent: int = 0) -> ProxyLogEntry:
        return ProxyLogEntry(method, path, status, fault, sent, self._body)

    def _bad_gateway(self, exc: BaseException) -> None:
        payload = json.dumps({"error": {"message": f"upstream: {exc}",
                                        "type": "fault_proxy"}}).encode()
        self.send_response(502)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.owner._record(self._entry(self.command, self.path, 502, None, len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _forward(self, body: bytes, rule: _Rule | None) -> None:
        owner = self.owner
        upstream = http.client.HTTPConnection(owner.upstream_host, owner.upstream_port,
                                              timeout=owner.upstream_timeout)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = f"{owner.upstream_host}:{owner.upstream_port}"
            if body or self.command in ("POST", "PUT"):
                headers["Content-Length"] = str(len(body))
            upstream.request(self.command, owner.upstream_path + self.path, body=body or None,
                             headers=headers)
            response = upstream.getresponse()
            self._relay(response, rule)
        finally:
            upstream.close()

    def _relay(self, response: http.client.HTTPResponse, rule: _Rule | None) -> None:
        drop_at = rule.after if rule is not None else None
        length = response.getheader("Content-Length")
        chunked = length is None
        self._started = True
        self.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", length or "0")
        if self.command == "HEAD" or (not chunked and int(length or 0) == 0):
            self.owner._record(self._entry(self.command, self.path, response.status))
            self.end_headers()
            return
        self.end_headers()
        sent = 0
        logged = False
        while True:
            data = response.read1(_CHUNK)
            if not data:
                break
            if drop_at is not None and sent + len(data) >= drop_at:
                data = data[:drop_at - sent]
                self._write(data, chunked)
                sent += len(data)
                # Logged before the cut, so a client that sees the cut finds it in the log.
                self.owner._record(self._entry(self.command, self.path, response.status,
                                                 "drop", sent))
                self._cut()
                return
            if not chunked and not logged and sent + len(data) >= int(length or 0):
                logged = self._log_relayed(response.status, sent + len(data))
            self._write(data, chunked)
            sent += len(data)
        if not logged:
            self._log_relayed(response.status, sent)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _log_relayed(self, status: int, sent: int) -> bool:
        self.owner._record(self._entry(self.command, self.path, status, None, sent))
        return True

    def _write(self, data: bytes, chunked: bool) -> None:
        if not data:
            return
        if chunked:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)
        self.wfile.flush()

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
