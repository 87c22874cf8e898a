"""The offline Hub this process serves (``hub serve``): at most one, from background threads.

``bodhi hub serve DIR`` starts it and the terminal holds it until Ctrl-C; ``%bodhi hub serve
DIR`` starts it in the background of the kernel, until ``%bodhi hub stop`` or the kernel
exits. Problems are coded errors (:class:`~bodhi_nb.errors.OfflineHubError`).
"""

from __future__ import annotations

import atexit
import errno
import os
import socket
import threading
from pathlib import Path

from bodhi_nb.errors import (
    OfflineHubAlreadyServingError,
    OfflineHubCannotListenError,
    OfflineHubPortInUseError,
    OfflineHubRootNotAFolderError,
)
from bodhi_nb.offline_hub.server import HubServer

__all__ = ["current", "lan_endpoint", "serve", "stop"]

_lock = threading.Lock()
_current: HubServer | None = None
_atexit_registered = False


def serve(root: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 0) -> HubServer:
    """Serve the folder ``root`` on ``host:port`` (0: any free port) and return the server.

    Files are hashed in the background; a request for a file not hashed yet waits for it.
    """
    global _current, _atexit_registered
    folder = Path(root).expanduser()
    with _lock:
        if _current is not None:
            raise OfflineHubAlreadyServingError(endpoint=_current.endpoint,
                                                root=str(_current.root))
        if not folder.is_dir():
            raise OfflineHubRootNotAFolderError(path=str(folder))
        hub = HubServer(folder, host=host, port=port)
        try:
            hub.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise OfflineHubPortInUseError(host=host, port=port) from exc
            raise OfflineHubCannotListenError(
                host=host, port=port, reason=exc.strerror or type(exc).__name__) from exc
        _current = hub
        if not _atexit_registered:
            atexit.register(stop)
            _atexit_registered = True
    threading.Thread(target=_warm, args=(hub,), name="hub-warm", daemon=True).start()
    return hub


def current() -> HubServer | None:
    """The offline Hub this process serves, if any."""
    with _lock:
        return _current


def stop() -> str | None:
    """Stop the offline Hub this process serves; returns the endpoint it served (None if
    none was running)."""
    global _current
    with _lock:
        hub, _current = _current, None
    if hub is None:
        return None
    endpoint = hub.endpoint
    hub.stop()
    return endpoint


def lan_endpoint(hub: HubServer) -> str:
    """The URL other machines use: the hub's own endpoint, or, when it listens on every
    interface, this machine's address on its network (its host name if none is found)."""
    if hub.host not in ("", "0.0.0.0", "::"):
        return hub.endpoint
    port = hub.endpoint.rsplit(":", 1)[1]
    return f"http://{_address()}:{port}"


def _address() -> str:
    # The address of the interface a packet to a private address would leave by: a UDP
    # "connect" sends nothing, it only chooses the route. No route (an isolated machine):
    # the host name, which the room's DNS or hosts files may know.
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    return socket.gethostname()


def _warm(hub: HubServer) -> None:
    try:
        hub.warm()
    except Exception:  # noqa: S110 - a file that cannot be hashed fails its own request
        pass
