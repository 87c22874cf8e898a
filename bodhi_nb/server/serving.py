"""The endpoint this process serves (``serve``): at most one, uvicorn in a background thread.

``%bodhi serve`` starts it and returns at once (the kernel keeps serving between cells);
``bodhi serve`` starts it the same way and the terminal holds the process until Ctrl-C.
It stops with ``serve --stop``, when the extension is unloaded and at interpreter exit.

The listening socket is bound here, in the caller's thread, before uvicorn starts, so a
port in use or an address that cannot be listened on is a coded error at once
(:class:`~bodhi_nb.errors.ServeError`). A host that is not a loopback address exposes the
models to the network: it is refused (``serve_error-needs_auth``) unless requests can be
authenticated, by OpenID login or API tokens with ``--require-token``; served, every request
then needs a token.
"""

from __future__ import annotations

import atexit
import errno
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bodhi_nb.errors import (
    ServeAlreadyServingError,
    ServeCannotListenError,
    ServeNeedsAuthError,
    ServePortInUseError,
)

if TYPE_CHECKING:
    import uvicorn

    from bodhi_nb.app import AppService

__all__ = ["Endpoint", "current", "is_loopback", "serve", "stop"]

_START_TIMEOUT = 30.0
#: seconds open connections (a stream) get to finish when the endpoint stops
_GRACE = 3.0

_lock = threading.Lock()
_current: Endpoint | None = None
_atexit_registered = False


@dataclass(eq=False)
class Endpoint:
    """A running endpoint: where it listens and how it authenticates."""

    host: str
    port: int
    require_token: bool
    started_at: datetime
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        """The base URL an OpenAI client takes (``.../v1``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}/v1"

    def to_dict(self) -> dict[str, object]:
        return {"url": self.url, "host": self.host, "port": self.port,
                "require_token": self.require_token,
                "started_at": self.started_at.isoformat().replace("+00:00", "Z")}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(registry: AppService, *, host: str = "127.0.0.1", port: int = 0,
          require_token: bool = False) -> Endpoint:
    """Serve ``registry``'s models on ``host:port`` (0: any free port) from a background
    thread; returns once the endpoint answers."""
    global _current, _atexit_registered
    import uvicorn

    from bodhi_nb.server.access import Access
    from bodhi_nb.server.app import create_app

    auth_on = registry.auth_service().enabled
    if not is_loopback(host):
        if not (auth_on or require_token):
            raise ServeNeedsAuthError(host=host)
        require_token = True
    require_token = require_token or auth_on
    with _lock:
        if _current is not None:
            raise ServeAlreadyServingError(url=_current.url)
        sock = _bind(host, port)
        config = uvicorn.Config(create_app(registry, Access(registry, require_token)),
                                log_level="warning", access_log=False, lifespan="on",
                                timeout_graceful_shutdown=int(_GRACE), server_header=False)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name="bodhi-serve", daemon=True)
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            server.should_exit = True
            thread.join(_GRACE)
            sock.close()
            raise ServeCannotListenError(host=host, port=port, reason="the server did not start")
        endpoint = Endpoint(host, int(sock.getsockname()[1]), require_token,
                            registry.time_service().utc_now(), server, thread)
        _current = endpoint
        if not _atexit_registered:
            atexit.register(stop)
            _atexit_registered = True
    return endpoint


def current() -> Endpoint | None:
    """The endpoint this process serves, if any."""
    with _lock:
        return _current


def stop() -> str | None:
    """Stop the endpoint (open streams get a few seconds); returns its URL, None if none
    was running."""
    global _current
    with _lock:
        endpoint, _current = _current, None
    if endpoint is None:
        return None
    endpoint.server.should_exit = True
    endpoint.thread.join(_GRACE + 5)
    return endpoint.url


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServeCannotListenError(host=host, port=port,
                                     reason=exc.strerror or "unknown host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServePortInUseError(host=host, port=port) from None
        raise ServeCannotListenError(host=host, port=port,
                                     reason=exc.strerror or type(exc).__name__) from None
    return sock
