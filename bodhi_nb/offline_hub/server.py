"""The offline Hub: a local Hugging Face Hub for classrooms and air-gapped rooms (and tests).

:class:`HubServer` serves a folder of model repositories on two HTTP/1.1 origins built on the
standard library (keep-alive, exact ``Content-Length``, bodies sent with ``os.sendfile``):

* the **hub** origin (``hub.endpoint``, use it as ``HF_ENDPOINT`` / ``endpoint=``) answers
  ``/{owner}/{name}/resolve/{rev}/{path}`` and the ``/api`` routes ``huggingface_hub`` calls;
* the **cdn** origin (``hub.cdn_endpoint``) serves LFS blobs by content address, through
  signed, expiring URLs the hub hands out in ``302`` redirects, as the real Hub's CDN does.

Folder layout (``root``), one directory per repository; ``add_repo`` writes the same layout::

    <root>/<owner>/<name>/...files...               revision "main"
    <root>/<owner>/<name>/.revisions/<rev>/...files  another branch or tag, a full snapshot
                                                     (``<rev>`` percent-encoded: refs%2Fpr%2F1)
    <root>/<owner>/<name>/.hub.yaml                  optional settings (YAML or JSON)::

        gated: manual            # false | auto | manual (true means manual)
        private: false
        allowed_tokens: [hf_x]   # tokens that may read a gated or private repo
        tags: [v1.0]             # revisions listed as tags by /refs (refs/pr/N revisions
                                 # are pull requests, the others branches)
        lfs: ["*.gguf"]          # LFS patterns; default: the Hub's .gitattributes patterns

A file is LFS when its name matches a pattern or it is larger than ``lfs_threshold`` (1 MiB).
Only model repositories, named ``owner/name``, are served.

What the hub derives from the files (hashes are cached by path, inode, size and mtime):

* an LFS file's etag is the SHA-256 of its content; other files' etag is their git blob
  SHA-1; the tree ``oid`` of an LFS file is the git blob SHA-1 of its LFS pointer;
* a revision's commit is the SHA-1 of its sorted (path, etag, size) list: deterministic, and it
  changes when a file does. ``main``, the other revision names and the commits all resolve.

Protocol (huggingface_hub 2.x, see ``platform-facts.md``):

* ``HEAD|GET /{repo}/resolve/{rev}/{path}``: non-LFS files ``200`` with ``ETag``,
  ``X-Repo-Commit``, ``Accept-Ranges``; LFS files ``302`` to the cdn with ``X-Repo-Commit``,
  ``X-Linked-Etag``, ``X-Linked-Size`` and ``ETag``. ``Range: bytes=a-b | a- | -n`` gives
  ``206`` with ``Content-Range``; an unsatisfiable range ``416`` with ``bytes */size``.
* ``GET /api/models`` (search, author, filter, gated, limit, full),
  ``/api/models/{repo}[/revision/{rev}]`` (``blobs=true`` adds sizes and LFS data to
  ``siblings``), ``/tree/{rev}[/{path}]``
  (``recursive``, ``expand``, ``limit``, ``cursor``; pages of ``tree_page_size`` linked with
  ``Link: <...>; rel="next"``), ``POST /paths-info/{rev}`` (form or JSON), ``/refs``,
  ``/auth-check``, and ``GET /api/whoami-v2``.
* Errors always carry ``X-Error-Code``, ``X-Error-Message`` and a ``{"error": ...}`` body:
  ``RepoNotFound`` 401 anonymous / 404 with a token (private repos without access too);
  ``GatedRepo`` 401 anonymous / 403 for a token without access (file content and
  ``auth-check`` only: metadata and listings stay public, as on the Hub);
  ``RevisionNotFound`` 404; ``EntryNotFound`` 404 with ``X-Repo-Commit``; an unknown token
  401 ``InvalidCredentials`` "Invalid credentials in Authorization header" on every route.
  Nothing Xet (``X-Xet-*`` headers, ``xetHash``) is ever sent.

Tokens: ``tokens`` maps token -> user name; a repo's ``allowed_tokens`` are valid too.

``hub.server_errors`` collects tracebacks of server bugs; tests assert it stays empty. Fault
injection and a request log, for tests, are in
:class:`bodhi_nb.testing.hub_faults.FaultyHubServer`.

Serving a folder: ``bodhi hub serve DIR [--port P] [--host H]`` (or ``%bodhi hub serve DIR``
in the background of a kernel). The bare CLI ``python -m bodhi_nb.offline_hub --root DIR
[--host H] [--port P] [--cdn-port Q] [--token TOKEN[=USER]]...`` hashes the folder, prints
``READY <endpoint>`` and serves until SIGINT/SIGTERM. With ``--host 0.0.0.0`` other machines
can use it: cdn redirects name the host the client asked for.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

__all__ = ["HubServer", "main"]

DEFAULT_LFS_PATTERNS: tuple[str, ...] = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gguf", "*.gz", "*.h5",
    "*.joblib", "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx",
    "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar",
    "*.safetensors", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst",
    "*tfevents*",
)
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
CONFIG_FILE = ".hub.yaml"
REVISIONS_DIR = ".revisions"
_RESERVED = frozenset({CONFIG_FILE, REVISIONS_DIR, ".git"})
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_PR_RE = re.compile(r"refs/pr/[1-9][0-9]*")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")
_HASH_BLOCK = 1 << 20
_SENDFILE_BLOCK = 1 << 30

Origin = Literal["hub", "cdn"]
GatedMode = Literal[False, "auto", "manual"]
FileContent = bytes | str | os.PathLike[str]


class _HubError(Exception):
    """An error answer: status, X-Error-Code, X-Error-Message and extra headers."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = list(headers)


class _Aborted(Exception):
    """The connection was cut on purpose (fault injection or shutdown)."""


@dataclass(frozen=True)
class _Fault:
    """A misbehaviour to apply to one request (see :meth:`HubServer._take_fault`): ``kind``
    "status" (answer ``status``), "delay" (``seconds``), "drop" (cut the body after ``after``
    bytes), "throttle" (``rate`` bytes per second), "ignore_range" (answer 200 with the
    whole file) or "redirect" (a cdn request sent on to another URL)."""

    kind: str
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    error_code: str = ""
    message: str = ""
    after: int = 0
    rate: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Entry:
    path: str
    file: Path
    size: int
    mtime: float
    lfs: bool
    oid: str
    sha256: str | None
    pointer_size: int | None

    @property
    def etag(self) -> str:
        return self.sha256 if self.sha256 is not None else self.oid


@dataclass(frozen=True)
class _Snapshot:
    name: str
    commit: str
    entries: dict[str, _Entry]
    directories: frozenset[str]
    last_modified: float


@dataclass(frozen=True)
class _RepoConfig:
    gated: GatedMode = False
    private: bool = False
    allowed_tokens: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    lfs: tuple[str, ...] = DEFAULT_LFS_PATTERNS


@dataclass(frozen=True)
class _Repo:
    repo_id: str
    directory: Path
    config: _RepoConfig

    def revision_dirs(self) -> dict[str, Path]:
        dirs = {"main": self.directory}
        extra = self.directory / REVISIONS_DIR
        if extra.is_dir():
            for child in sorted(extra.iterdir()):
                if child.is_dir():
                    dirs.setdefault(unquote(child.name), child)
        return dirs


@dataclass
class _Exchange:
    """One request being answered; collects what the log records."""

    handler: _Handler
    origin: str
    method: str
    raw_path: str
    path: str
    query: str
    params: dict[str, list[str]]
    started: float
    status: int = 0
    bytes_sent: int = 0
    faults: list[str] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        value = self.handler.headers.get(name)
        return None if value is None else str(value)

    def param(self, name: str, default: str = "") -> str:
        values = self.params.get(name)
        return values[0] if values else default

    def flag(self, name: str) -> bool:
        return self.param(name).lower() in ("1", "true", "yes")

    def start(self, status: int, headers: Sequence[tuple[str, str]]) -> None:
        """Write the status line and headers (``Content-Length`` must be among them)."""
        self.status = status
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Status"
        lines = [f"HTTP/1.1 {status} {phrase}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if self.handler.close_connection:
            lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.handler.wfile.write(data)

    def send(self, status: int, headers: Sequence[tuple[str, str]], body: bytes = b"") -> None:
        """A complete response with a small body (left out for HEAD)."""
        self.start(status, [*headers, ("Content-Length", str(len(body)))])
        if self.method != "HEAD" and body:
            self.handler.wfile.write(body)
            self.bytes_sent += len(body)

    def send_json(self, value: Any, headers: Sequence[tuple[str, str]] = (),
                  status: int = 200) -> None:
        body = json.dumps(value).encode()
        self.send(status, [("Content-Type", "application/json; charset=utf-8"), *headers], body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes: without this, Nagle + delayed ACK add 40 ms.
    disable_nagle_algorithm = True
    server: _OriginServer
    connection_id = 0

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.server.next_connection_id()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the hub keeps its own structured log."""

    def _dispatch(self) -> None:
        self.server.hub._handle(self, self.server.origin)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch


class _OriginServer(ThreadingHTTPServer):
    """One origin. Tracks its connections and threads so that ``stop`` leaves nothing behind.

    Each connection gets its own thread; the listen backlog is far above socketserver's
    default of 5, with which a classroom pulling at once saw refused SYNs, retried only
    after a second or more (the kernel caps it at ``net.core.somaxconn``).
    """

    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024

    def __init__(self, hub: HubServer, origin: Origin, address: tuple[str, int]) -> None:
        self.hub = hub
        self.origin: Origin = origin
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._handlers: set[threading.Thread] = set()
        self._next_id = 0
        super().__init__(address, _Handler)

    def next_connection_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name=f"hub-{self.origin}", daemon=True)
        with self._lock:
            self._connections.add(request)
            self._handlers.add(thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.discard(request)
                self._handlers.discard(threading.current_thread())

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError | _Aborted):
            return  # the peer went away, or we cut the connection on purpose
        self.hub._server_error(traceback.format_exc())

    def close_connections(self, timeout: float) -> None:
        with self._lock:
            connections = list(self._connections)
            threads = list(self._handlers)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Hasher:
    """SHA-256 and git blob SHA-1 of files, cached by path, inode, size and mtime."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[tuple[int, int, int], str]] = {}
        self._busy: dict[tuple[str, str], threading.Lock] = {}

    def digest(self, file: Path, kind: Literal["sha256", "gitsha1"]) -> str:
        st = file.stat()
        signature = (st.st_ino, st.st_size, st.st_mtime_ns)
        key = (str(file), kind)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == signature:
                return cached[1]
            busy = self._busy.setdefault(key, threading.Lock())
        with busy:  # one thread hashes a given file; the others wait for its answer
            with self._lock:
                cached = self._cache.get(key)
                if cached is not None and cached[0] == signature:
                    return cached[1]
            value = self._compute(file, kind, st.st_size)
            with self._lock:
                self._cache[key] = (signature, value)
            return value

    @staticmethod
    def _compute(file: Path, kind: str, size: int) -> str:
        if kind == "sha256":
            digest = hashlib.sha256()
        else:
            digest = hashlib.sha1(f"blob {size}\0".encode())
        buffer = bytearray(_HASH_BLOCK)
        view = memoryview(buffer)
        with open(file, "rb", buffering=0) as f:
            while n := f.readinto(buffer):
                digest.update(view[:n])
        return digest.hexdigest()


def _git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()


def _lfs_pointer(sha256: str, size: int) -> bytes:
    text = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    return text.encode()


def _iso(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _split_repo_id(repo_id: str) -> tuple[str, str]:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_NAME_RE.fullmatch(p) for p in parts):
        raise ValueError(f"repo id must be 'owner/name', got {repo_id!r}")
    return parts[0], parts[1]


def _check_relative(path: str) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"file path must be relative and normalised, got {path!r}")
    if parts[0] in _RESERVED:
        raise ValueError(f"{parts[0]!r} is reserved by the local hub")
    return path


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single range; None to ignore the header; 416 if unsatisfiable."""
    match = _RANGE_RE.fullmatch(value.replace(" ", ""))
    if match is None:
        return None  # multi-range or garbage: RFC 9110 lets us answer the whole file
    first, last = match.groups()
    unsatisfiable = _HubError(416, "RangeNotSatisfiable", f"Range {value} not satisfiable",
                              [("Content-Range", f"bytes */{size}")])
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - suffix), size - 1
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        return None
    if start >= size:
        raise unsatisfiable
    return start, end


def _content_type(path: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path else ""
    if suffix == "json":
        return "application/json; charset=utf-8"
    if suffix in ("md", "txt", "py", "yaml", "yml", "jinja", "gitattributes"):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


class HubServer:
    """A local Hugging Face Hub on 127.0.0.1: ``with HubServer(root) as hub: hub.endpoint``.

    ``root`` is the folder of repositories (a temporary one, removed on ``stop``, if None).
    ``tokens`` maps valid tokens to user names. Ports 0 pick free ports. ``clock`` (seconds since
    the epoch) dates the cdn URLs, which stay valid ``url_ttl`` seconds.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, *,
                 tokens: Mapping[str, str] | None = None, host: str = "127.0.0.1",
                 port: int = 0, cdn_port: int = 0, lfs_threshold: int = 1 << 20,
                 tree_page_size: int = 1000, url_ttl: float = 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        if root is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="bodhi-hub-")
            root = self._tempdir.name
        self.root = Path(root).resolve()
        self.tokens: dict[str, str] = dict(tokens or {})
        self.host = host
        self.lfs_threshold = lfs_threshold
        self.tree_page_size = tree_page_size
        self.url_ttl = url_ttl
        self.server_errors: list[str] = []
        self._clock = clock
        self._ports = (port, cdn_port)
        self._secret = secrets.token_bytes(32)
        self._hasher = _Hasher()
        self._blobs: dict[str, Path] = {}
        self._configs: dict[Path, tuple[tuple[int, int], _RepoConfig]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._origins: list[_OriginServer] = []
        self._loops: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind both origins and serve them from daemon threads."""
        if self._origins:
            raise RuntimeError("hub server already started")
        self._stopping.clear()
        try:
            origins: tuple[tuple[Origin, int], ...] = (("hub", self._ports[0]),
                                                       ("cdn", self._ports[1]))
            for origin, port in origins:
                self._origins.append(_OriginServer(self, origin, (self.host, port)))
        except BaseException:
            for server in self._origins:
                server.server_close()
            self._origins.clear()
            raise
        for server in self._origins:
            loop = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                    name=f"hub-{server.origin}-accept", daemon=True)
            loop.start()
            self._loops.append(loop)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut open connections and wait for their threads. Idempotent."""
        self._stopping.set()
        for server in self._origins:
            server.shutdown()
            server.server_close()
        for server in self._origins:
            server.close_connections(timeout)
        for loop in self._loops:
            loop.join(timeout)
        self._origins.clear()
        self._loops.clear()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _base(self, index: int, host: str | None = None) -> str:
        if not self._origins:
            raise RuntimeError("hub server not started")
        if host is None:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self._origins[index].server_address[1]}"

    @property
    def endpoint(self) -> str:
        """Base URL of the hub origin, for ``HF_ENDPOINT`` or ``endpoint=``."""
        return self._base(0)

    @property
    def cdn_endpoint(self) -> str:
        """Base URL of the cdn origin (LFS blobs)."""
        return self._base(1)

    # -- content ---------------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: Mapping[str, FileContent] | None = None, *,
                 revisions: Mapping[str, Mapping[str, FileContent]] | None = None,
                 gated: bool | Literal["auto", "manual"] = False, private: bool = False,
                 allowed_tokens: Iterable[str] = (), tags: Iterable[str] = (),
                 lfs: Sequence[str] | None = None) -> str:
        """Create (or replace) a repository and return the commit of ``main``.

        ``files`` maps repo paths to content: bytes, text (``str``, UTF-8) or a ``Path``
        (linked, not copied: cheap for large files). ``revisions`` maps other branch or tag
        names to complete snapshots; it may hold ``"main"`` instead of ``files``.
        """
        owner, name = _split_repo_id(repo_id)
        snapshots: dict[str, Mapping[str, FileContent]] = dict(revisions or {})
        if files is not None:
            if "main" in snapshots:
                raise ValueError("give main's files either as files= or as revisions['main']")
            snapshots["main"] = files
        snapshots.setdefault("main", {})
        directory = self.root / owner / name
        if directory.exists():
            shutil.rmtree(directory)
        for revision, content in snapshots.items():
            target = directory if revision == "main" else (
                directory / REVISIONS_DIR / quote(revision, safe=""))
            target.mkdir(parents=True, exist_ok=True)
            for rel, data in content.items():
                dest = target / _check_relative(rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(data, bytes):
                    dest.write_bytes(data)
                elif isinstance(data, str):
                    dest.write_text(data, encoding="utf-8")
                else:
                    os.symlink(Path(data).resolve(), dest)
        allowed = sorted(set(allowed_tokens))
        config: dict[str, Any] = {}
        if gated:
            config["gated"] = "manual" if gated is True else gated
        if private:
            config["private"] = True
        if allowed:
            config["allowed_tokens"] = allowed
        if tags:
            config["tags"] = sorted(set(tags))
        if lfs is not None:
            config["lfs"] = list(lfs)
        if config:  # JSON is YAML: the folder stays readable by the CLI
            (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        return self.commit(repo_id)

    def remove_repo(self, repo_id: str) -> None:
        """Delete a repository's folder."""
        owner, name = _split_repo_id(repo_id)
        shutil.rmtree(self.root / owner / name, ignore_errors=True)

    def add_token(self, token: str, user: str = "user") -> None:
        """Make ``token`` valid, for ``user``."""
        with self._lock:
            self.tokens[token] = user

    def commit(self, repo_id: str, revision: str = "main") -> str:
        """The commit sha ``revision`` resolves to (KeyError if the repo or revision is unknown)."""
        repo = self._repo(repo_id)
        if repo is None:
            raise KeyError(repo_id)
        try:
            return self._snapshot(repo, revision).commit
        except _HubError as exc:
            raise KeyError(f"{repo_id}@{revision}") from exc

    def url(self, repo_id: str, filename: str, revision: str = "main") -> str:
        """The resolve URL of a file, as ``hf_hub_url`` builds it."""
        return f"{self.endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(filename)}"

    def repo_ids(self) -> list[str]:
        """The repositories the folder holds now (``owner/name``, sorted)."""
        return [repo.repo_id for repo in self._repos()]

    def warm(self) -> None:
        """Hash every file of every revision now rather than on first request."""
        for repo in self._repos():
            for revision in repo.revision_dirs():
                self._snapshot(repo, revision)

    # -- seams for tests -------------------------------------------------------------------

    def _take_fault(self, kind: str, ex: _Exchange,
                    accept: Callable[[_Fault], bool] = lambda f: True) -> _Fault | None:
        """The misbehaviour of ``kind`` to apply to this request: never any here. The test
        server (:class:`bodhi_nb.testing.hub_faults.FaultyHubServer`) injects them."""
        return None

    def _server_error(self, text: str) -> None:
        with self._lock:
            self.server_errors.append(text)

    # -- request handling ------------------------------------------------------------------

    def _handle(self, handler: _Handler, origin: str) -> None:
        split = urlsplit(handler.path)
        self._serve(_Exchange(handler=handler, origin=origin, method=handler.command,
                              raw_path=split.path, path=unquote(split.path), query=split.query,
                              params=parse_qs(split.query, keep_blank_values=True),
                              started=time.monotonic()))

    def _serve(self, ex: _Exchange) -> None:
        """Answer one request (the test server wraps this to log it)."""
        try:
            self._answer(ex)
        except (OSError, _Aborted):
            ex.handler.close_connection = True  # peer gone, or cut on purpose

    def _answer(self, ex: _Exchange) -> None:
        try:
            self._read_body(ex)
            delay = self._take_fault("delay", ex)
            if delay is not None and self._stopping.wait(delay.seconds):
                raise _Aborted
            injected = self._take_fault("status", ex)
            if injected is not None:
                raise _HubError(injected.status, injected.error_code, injected.message,
                                injected.headers)
            if ex.origin == "cdn":
                self._cdn(ex)
            else:
                self._route(ex)
        except _HubError as err:
            self._send_error(ex, err)
        except (OSError, _Aborted):
            raise
        except Exception:
            self._server_error(traceback.format_exc())
            if ex.status == 0:
                self._send_error(ex, _HubError(500, "InternalError", "local hub bug"))
            else:
                raise _Aborted from None

    def _read_body(self, ex: _Exchange) -> None:
        if ex.header("Transfer-Encoding"):
            ex.handler.close_connection = True
            raise _HubError(411, "LengthRequired", "send request bodies with Content-Length")
        length = ex.header("Content-Length")
        if length:
            try:
                size = int(length)
            except ValueError:
                ex.handler.close_connection = True
                raise _HubError(400, "BadRequest", "invalid Content-Length") from None
            ex.body = ex.handler.rfile.read(size)

    def _send_error(self, ex: _Exchange, err: _HubError) -> None:
        if ex.status:
            raise _Aborted  # headers already sent: the only honest signal left is a cut
        body = json.dumps({"error": err.message}).encode()
        ex.send(err.status, [("Content-Type", "application/json; charset=utf-8"),
                             ("X-Error-Code", err.code), ("X-Error-Message", err.message),
                             *err.headers], body)

    def _route(self, ex: _Exchange) -> None:
        segs = [unquote(s) for s in ex.raw_path.split("/")[1:]]
        if segs[:2] == ["api", "whoami-v2"] and len(segs) == 2:
            self._require(ex, "GET", "HEAD")
            return self._whoami(ex)
        if segs[:2] == ["api", "models"]:
            if len(segs) == 2 or segs[2:] == [""]:
                self._require(ex, "GET", "HEAD")
                return self._list_models(ex)
            if len(segs) == 3:  # a legacy id without owner: the Hub serves none of those here
                self._require(ex, "GET", "HEAD")
                raise self._repo_not_found(self._token(ex))
            repo_id, rest = f"{segs[2]}/{segs[3]}", segs[4:]
            if not rest:
                self._require(ex, "GET", "HEAD")
                return self._model_info(ex, repo_id, "main")
            if rest[0] == "revision" and len(rest) == 2:
                self._require(ex, "GET", "HEAD")
                return self._model_info(ex, repo_id, rest[1])
            if rest[0] == "tree" and len(rest) >= 2:
                self._require(ex, "GET", "HEAD")
                return self._tree(ex, repo_id, rest[1], "/".join(rest[2:]).strip("/"))
            if rest[0] == "paths-info" and len(rest) == 2:
                self._require(ex, "POST")
                return self._paths_info(ex, repo_id, rest[1])
            if rest == ["refs"]:
                self._require(ex, "GET", "HEAD")
                return self._refs(ex, repo_id)
            if rest == ["auth-check"]:
                self._require(ex, "GET", "HEAD")
                self._open_repo(ex, repo_id, content=True)
                return ex.send_json({})
        if len(segs) >= 5 and segs[2] == "resolve":
            self._require(ex, "GET", "HEAD")
            return self._resolve(ex, f"{segs[0]}/{segs[1]}", segs[3], "/".join(segs[4:]))
        if len(segs) >= 4 and segs[1] == "resolve":
            self._require(ex, "GET", "HEAD")
            raise self._repo_not_found(self._token(ex))
        self._token(ex)
        raise _HubError(404, "NotFound", "Not Found")

    @staticmethod
    def _require(ex: _Exchange, *methods: str) -> None:
        if ex.method not in methods:
            raise _HubError(405, "MethodNotAllowed", f"use {' or '.join(methods)}",
                            [("Allow", ", ".join(methods))])

    # -- access control --------------------------------------------------------------------

    def _token(self, ex: _Exchange) -> str | None:
        """The request's token; an unknown one fails the whole request, as on the Hub."""
        header = ex.header("Authorization")
        if header is None:
            return None
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or self._user(token) is None:
            raise _HubError(401, "InvalidCredentials", INVALID_CREDENTIALS)
        return token

    def _user(self, token: str) -> str | None:
        with self._lock:
            user = self.tokens.get(token)
        if user is not None:
            return user
        for repo in self._repos():
            if token in repo.config.allowed_tokens:
                return "user-" + hashlib.sha1(token.encode()).hexdigest()[:8]
        return None

    @staticmethod
    def _repo_not_found(token: str | None) -> _HubError:
        return _HubError(401 if token is None else 404, "RepoNotFound", "Repository not found")

    def _open_repo(self, ex: _Exchange, repo_id: str, *, content: bool) -> _Repo:
        token = self._token(ex)
        repo = self._repo(repo_id)
        allowed = repo is not None and token in repo.config.allowed_tokens
        if repo is None or (repo.config.private and not allowed):
            raise self._repo_not_found(token)
        if content and repo.config.gated and not allowed:
            if token is None:
                raise _HubError(401, "GatedRepo", (
                    f"Access to model {repo_id} is restricted. You must have access to it and "
                    "be authenticated to access it. Please log in."))
            raise _HubError(403, "GatedRepo", (
                f"Access to model {repo_id} is restricted and you are not in the authorized "
                f"list. Visit {self.endpoint}/{repo_id} to ask for access."))
        return repo

    # -- repositories ----------------------------------------------------------------------

    def _repo(self, repo_id: str) -> _Repo | None:
        try:
            owner, name = _split_repo_id(repo_id)
        except ValueError:
            return None
        directory = self.root / owner / name
        if not directory.is_dir():
            return None
        return _Repo(repo_id, directory, self._config(directory))

    def _repos(self) -> list[_Repo]:
        repos = []
        if self.root.is_dir():
            for owner in sorted(self.root.iterdir()):
                if owner.is_dir() and _NAME_RE.fullmatch(owner.name):
                    for repo in sorted(owner.iterdir()):
                        if repo.is_dir() and _NAME_RE.fullmatch(repo.name):
                            repos.append(_Repo(f"{owner.name}/{repo.name}", repo,
                                               self._config(repo)))
        return repos

    def _config(self, directory: Path) -> _RepoConfig:
        file = directory / CONFIG_FILE
        try:
            st = file.stat()
        except FileNotFoundError:
            return _RepoConfig()
        signature = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._configs.get(file)
        if cached is not None and cached[0] == signature:
            return cached[1]
        import yaml  # only folders with settings pay for it

        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{file}: expected a mapping")
        gated = raw.get("gated", False)
        if gated is True:
            gated = "manual"
        if gated not in (False, None, "auto", "manual"):
            raise ValueError(f"{file}: gated must be false, auto or manual")
        config = _RepoConfig(
            gated=gated or False,
            private=bool(raw.get("private", False)),
            allowed_tokens=frozenset(str(t) for t in raw.get("allowed_tokens") or ()),
            tags=frozenset(str(t) for t in raw.get("tags") or ()),
            lfs=tuple(str(p) for p in raw["lfs"]) if "lfs" in raw else DEFAULT_LFS_PATTERNS)
        with self._lock:
            self._configs[file] = (signature, config)
        return config

    def _snapshot(self, repo: _Repo, revision: str) -> _Snapshot:
        dirs = repo.revision_dirs()
        if revision in dirs:
            return self._scan(repo, revision, dirs[revision])
        if _COMMIT_RE.fullmatch(revision):
            for name, directory in dirs.items():
                snapshot = self._scan(repo, name, directory)
                if snapshot.commit == revision:
                    return snapshot
        raise _HubError(404, "RevisionNotFound", f"Invalid rev id: {revision}")

    def _scan(self, repo: _Repo, name: str, top: Path) -> _Snapshot:
        entries: dict[str, _Entry] = {}
        for folder, dirnames, filenames in os.walk(top, followlinks=True):
            rel_folder = os.path.relpath(folder, top).replace(os.sep, "/")
            prefix = "" if rel_folder == "." else rel_folder + "/"
            if not prefix:
                dirnames[:] = [d for d in dirnames if d not in _RESERVED]
            dirnames.sort()
            for filename in sorted(filenames):
                if not prefix and filename in _RESERVED:
                    continue
                entry = self._entry(repo, prefix + filename, Path(folder) / filename)
                if entry is not None:
                    entries[entry.path] = entry
        directories = {p.rsplit("/", 1)[0] for p in entries if "/" in p}
        for d in list(directories):
            while "/" in d:
                d = d.rsplit("/", 1)[0]
                directories.add(d)
        listing = "".join(f"{e.path}\0{e.etag}\0{e.size}\n" for e in entries.values())
        return _Snapshot(name=name, commit=hashlib.sha1(listing.encode()).hexdigest(),
                         entries=entries, directories=frozenset(directories),
                         last_modified=max((e.mtime for e in entries.values()), default=0.0))

    def _entry(self, repo: _Repo, path: str, file: Path) -> _Entry | None:
        try:
            st = file.stat()
        except OSError:
            return None  # broken link
        basename = path.rsplit("/", 1)[-1]
        lfs = st.st_size > self.lfs_threshold or any(
            fnmatchcase(basename, pattern) for pattern in repo.config.lfs)
        if lfs:
            sha256 = self._hasher.digest(file, "sha256")
            pointer = _lfs_pointer(sha256, st.st_size)
            with self._lock:
                self._blobs[sha256] = file
            return _Entry(path, file, st.st_size, st.st_mtime, True, _git_blob_sha1(pointer),
                          sha256, len(pointer))
        return _Entry(path, file, st.st_size, st.st_mtime, False,
                      self._hasher.digest(file, "gitsha1"), None, None)

    # -- routes ----------------------------------------------------------------------------

    def _resolve(self, ex: _Exchange, repo_id: str, revision: str, path: str) -> None:
        repo = self._open_repo(ex, repo_id, content=True)
        snapshot = self._snapshot(repo, revision)
        entry = snapshot.entries.get(path)
        if entry is None:
            raise _HubError(404, "EntryNotFound", "Entry not found",
                            [("X-Repo-Commit", snapshot.commit)])
        if entry.sha256 is not None:
            host = (urlsplit(f"//{ex.header('Host')}").hostname if ex.header("Host") else None)
            location = self._cdn_url(entry, host)
            ex.send(302, [("Location", location), ("X-Repo-Commit", snapshot.commit),
                          ("X-Linked-Etag", f'"{entry.sha256}"'),
                          ("X-Linked-Size", str(entry.size)), ("ETag", f'"{entry.sha256}"'),
                          ("Cache-Control", "no-cache")])
            return
        self._send_file(ex, entry.file, entry.size, entry.oid, [
            ("Content-Type", _content_type(path)), ("X-Repo-Commit", snapshot.commit),
            ("Cache-Control", "no-cache")])

    def _cdn_url(self, entry: _Entry, host: str | None) -> str:
        assert entry.sha256 is not None
        expires = int(self._clock() + self.url_ttl)
        filename = entry.path.rsplit("/", 1)[-1]
        signature = self._sign(entry.sha256, filename, expires)
        sha = entry.sha256
        query = urlencode({"Expires": expires, "Signature": signature})
        return (f"{self._base(1, host)}/repos/{sha[:2]}/{sha[2:4]}/{sha}/"
                f"{quote(filename)}?{query}")

    def _sign(self, sha256: str, filename: str, expires: int) -> str:
        message = f"{sha256}\n{filename}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def _cdn(self, ex: _Exchange) -> None:
        self._require(ex, "GET", "HEAD")
        parts = ex.path.split("/")
        if len(parts) != 6 or parts[1] != "repos" or not _SHA256_RE.fullmatch(parts[4]):
            raise _HubError(404, "NoSuchKey", "The specified key does not exist.")
        sha, filename = parts[4], parts[5]
        try:
            expires = int(ex.param("Expires"))
        except ValueError:
            raise _HubError(403, "AccessDenied", "Missing or invalid Expires") from None
        if not hmac.compare_digest(ex.param("Signature"), self._sign(sha, filename, expires)):
            raise _HubError(403, "SignatureDoesNotMatch", "The request signature is invalid.")
        if self._clock() > expires:
            raise _HubError(403, "AccessDenied", "Request has expired")
        with self._lock:
            file = self._blobs.get(sha)
        try:
            if file is None or self._hasher.digest(file, "sha256") != sha:
                raise FileNotFoundError(sha)
            size = file.stat().st_size
        except OSError:
            raise _HubError(404, "NoSuchKey", "The specified key does not exist.") from None
        self._send_file(ex, file, size, sha, [
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", f"attachment; filename*=UTF-8''{quote(filename)}; "
                                    f'filename="{filename}";'),
            ("Cache-Control", "public, max-age=86400, immutable")])

    def _send_file(self, ex: _Exchange, file: Path, size: int, etag: str,
                   headers: list[tuple[str, str]]) -> None:
        first, last = 0, size - 1
        status = 200
        range_header = ex.header("Range")
        if_range = ex.header("If-Range")
        if range_header and (if_range is None or if_range.strip('"').removeprefix("W/") in
                             (etag, f'"{etag}"')) and (
                self._take_fault("ignore_range", ex) is None):
            chosen = _parse_range(range_header, size)
            if chosen is not None:
                first, last = chosen
                status = 206
                headers.append(("Content-Range", f"bytes {first}-{last}/{size}"))
        length = max(0, last - first + 1)
        headers += [("ETag", f'"{etag}"'), ("Accept-Ranges", "bytes"),
                    ("Content-Length", str(length))]
        if ex.method == "HEAD":
            ex.start(status, headers)
            return
        drop = self._take_fault("drop", ex, lambda f: f.after < length)
        throttle = self._take_fault("throttle", ex)
        with open(file, "rb") as f:
            ex.start(status, headers)
            if drop is not None:
                ex.handler.close_connection = True
            limit = length if drop is None else drop.after
            self._stream(ex, f.fileno(), first, limit, None if throttle is None else throttle.rate)
        if drop is not None:
            # A clean FIN mid-body: the client sees an incomplete message, not a reset.
            ex.handler.connection.shutdown(socket.SHUT_WR)
            raise _Aborted

    def _stream(self, ex: _Exchange, fd: int, offset: int, count: int, rate: int | None) -> None:
        out = ex.handler.connection.fileno()
        block = _SENDFILE_BLOCK if rate is None else max(1024, min(64 * 1024, rate // 20))
        started = time.monotonic()
        sent = 0
        while sent < count:
            n = os.sendfile(out, fd, offset + sent, min(block, count - sent))
            if n == 0:
                raise _Aborted  # the file shrank under us: cut rather than lie
            sent += n
            ex.bytes_sent += n
            if rate is not None:
                ahead = started + sent / rate - time.monotonic()
                if ahead > 0 and self._stopping.wait(ahead):
                    raise _Aborted

    def _whoami(self, ex: _Exchange) -> None:
        token = self._token(ex)
        if token is None:
            raise _HubError(401, "InvalidCredentials", INVALID_CREDENTIALS)
        user = self._user(token) or "user"
        ex.send_json({
            "type": "user", "id": hashlib.sha1(user.encode()).hexdigest()[:24], "name": user,
            "fullname": user, "email": None, "emailVerified": False, "canPay": False,
            "isPro": False, "orgs": [],
            "auth": {"type": "access_token",
                     "accessToken": {"displayName": "local-hub", "role": "read"}}})

    def _model_json(self, repo: _Repo, snapshot: _Snapshot, *, blobs: bool) -> dict[str, Any]:
        siblings: list[dict[str, Any]] = []
        for entry in snapshot.entries.values():
            sibling: dict[str, Any] = {"rfilename": entry.path}
            if blobs:
                sibling.update(size=entry.size, blobId=entry.oid)
                if entry.sha256 is not None:
                    sibling["lfs"] = {"size": entry.size, "sha256": entry.sha256,
                                      "pointerSize": entry.pointer_size}
            siblings.append(sibling)
        tags = ["gguf"] if any(p.endswith(".gguf") for p in snapshot.entries) else []
        owner = repo.repo_id.split("/")[0]
        return {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id, "modelId": repo.repo_id, "author": owner, "sha": snapshot.commit,
            "lastModified": _iso(snapshot.last_modified), "createdAt": _iso(snapshot.last_modified),
            "private": repo.config.private, "gated": repo.config.gated, "disabled": False,
            "downloads": 0, "likes": 0, "tags": tags, "library_name": tags[0] if tags else None,
            "siblings": siblings, "usedStorage": sum(e.size for e in snapshot.entries.values()),
        }

    def _model_info(self, ex: _Exchange, repo_id: str, revision: str) -> None:
        repo = self._open_repo(ex, repo_id, content=False)
        snapshot = self._snapshot(repo, revision)
        ex.send_json(self._model_json(repo, snapshot, blobs=ex.flag("blobs")))

    def _list_models(self, ex: _Exchange) -> None:
        token = self._token(ex)
        search = ex.param("search").lower()
        author = ex.param("author")
        wanted = set(ex.params.get("filter", []))
        gated = ex.param("gated").lower() or None
        try:
            limit = int(ex.param("limit") or 0) or None
        except ValueError:
            raise _HubError(400, "BadRequest", "invalid limit") from None
        found: list[dict[str, Any]] = []
        for repo in self._repos():
            if repo.config.private and token not in repo.config.allowed_tokens:
                continue
            if search not in repo.repo_id.lower():
                continue
            if author and repo.repo_id.split("/")[0] != author:
                continue
            if gated is not None and (gated == "true") != bool(repo.config.gated):
                continue
            info = self._model_json(repo, self._snapshot(repo, "main"), blobs=False)
            if not wanted <= set(info["tags"]):
                continue
            if not ex.flag("full"):
                del info["siblings"]
            found.append(info)
            if limit is not None and len(found) >= limit:
                break
        ex.send_json(found)

    def _entry_json(self, snapshot: _Snapshot, path: str, *, expand: bool) -> dict[str, Any]:
        entry = snapshot.entries.get(path)
        item: dict[str, Any]
        if entry is None:  # a directory: its oid hashes what it holds
            inside = "".join(f"{p}\0{e.etag}\n" for p, e in snapshot.entries.items()
                             if p.startswith(path + "/"))
            item = {"type": "directory", "oid": hashlib.sha1(inside.encode()).hexdigest(),
                    "size": 0, "path": path}
        else:
            item = {"type": "file", "oid": entry.oid, "size": entry.size, "path": path}
            if entry.sha256 is not None:
                item["lfs"] = {"oid": entry.sha256, "size": entry.size,
                               "pointerSize": entry.pointer_size}
        if expand:
            item["lastCommit"] = {"id": snapshot.commit, "title": "Local hub snapshot",
                                  "date": _iso(snapshot.last_modified)}
        return item

    def _tree(self, ex: _Exchange, repo_id: str, revision: str, path: str) -> None:
        repo = self._open_repo(ex, repo_id, content=False)
        snapshot = self._snapshot(repo, revision)
        if path and path not in snapshot.directories:
            raise _HubError(404, "EntryNotFound", f"{path} does not exist on {revision}",
                            [("X-Repo-Commit", snapshot.commit)])
        prefix = path + "/" if path else ""
        everything = sorted(set(snapshot.entries) | snapshot.directories)
        inside = [p for p in everything if p.startswith(prefix)]
        if not ex.flag("recursive"):
            inside = [p for p in inside if "/" not in p[len(prefix):]]
        # directories first, as the Hub lists them
        inside.sort(key=lambda p: (p not in snapshot.directories, p))
        try:
            cursor = int(base64.urlsafe_b64decode(ex.param("cursor") or "MA==").decode())
            page_size = min(int(ex.param("limit") or self.tree_page_size), self.tree_page_size)
        except ValueError:
            raise _HubError(400, "BadRequest", "invalid cursor or limit") from None
        page = inside[cursor:cursor + max(1, page_size)]
        headers: list[tuple[str, str]] = []
        if cursor + len(page) < len(inside):
            params = {k: v for k, v in ex.params.items() if k != "cursor"}
            params["cursor"] = [base64.urlsafe_b64encode(str(cursor + len(page)).encode()).decode()]
            host = ex.header("Host") or urlsplit(self.endpoint).netloc
            headers.append(("Link", f'<http://{host}{ex.raw_path}?'
                                    f'{urlencode(params, doseq=True)}>; rel="next"'))
        expand = ex.flag("expand")
        ex.send_json([self._entry_json(snapshot, p, expand=expand) for p in page], headers)

    def _paths_info(self, ex: _Exchange, repo_id: str, revision: str) -> None:
        repo = self._open_repo(ex, repo_id, content=False)
        snapshot = self._snapshot(repo, revision)
        kind = (ex.header("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if kind == "application/json":
                raw = json.loads(ex.body or b"{}")
                paths, expand = list(raw.get("paths", [])), bool(raw.get("expand", False))
            else:
                form = parse_qs(ex.body.decode(), keep_blank_values=True)
                paths = form.get("paths", [])
                expand = (form.get("expand") or ["false"])[0].lower() in ("1", "true")
        except (ValueError, AttributeError):
            raise _HubError(400, "BadRequest", "expected paths as form fields or JSON") from None
        found = []
        for path in dict.fromkeys(str(p).strip("/") for p in paths):
            if path in snapshot.entries or path in snapshot.directories:
                found.append(self._entry_json(snapshot, path, expand=expand))
        ex.send_json(found)

    def _refs(self, ex: _Exchange, repo_id: str) -> None:
        repo = self._open_repo(ex, repo_id, content=False)
        branches: list[dict[str, str]] = []
        tags: list[dict[str, str]] = []
        pulls: list[dict[str, str]] = []
        for name in repo.revision_dirs():
            snapshot = self._snapshot(repo, name)
            if _PR_RE.fullmatch(name):  # a pull request: its name is its whole ref
                pulls.append({"name": name, "ref": name, "targetCommit": snapshot.commit})
                continue
            is_tag = name in repo.config.tags and name != "main"
            ref = {"name": name, "ref": f"refs/{'tags' if is_tag else 'heads'}/{name}",
                   "targetCommit": snapshot.commit}
            (tags if is_tag else branches).append(ref)
        body: dict[str, Any] = {"branches": branches, "converts": [], "tags": tags}
        if ex.flag("include_prs"):  # as on the Hub, pull requests only when asked for
            body["pullRequests"] = sorted(pulls, key=lambda r: int(r["name"].rsplit("/", 1)[1]))
        ex.send_json(body)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve a folder of repositories until SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(
        prog="python -m bodhi_nb.offline_hub",
        description="Serve a folder of model repos with the Hugging Face Hub's protocol.")
    parser.add_argument("--root", required=True, help="folder laid out as <owner>/<name>/...")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface (0.0.0.0 to serve a classroom)")
    parser.add_argument("--port", type=int, default=0, help="hub port (default: any free)")
    parser.add_argument("--cdn-port", type=int, default=0, help="cdn port (default: any free)")
    parser.add_argument("--token", action="append", default=[], metavar="TOKEN[=USER]",
                        help="a valid token (repeatable)")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not root.is_dir():
        parser.error(f"--root {root} is not a folder")
    tokens = {}
    for spec in args.token:
        token, _, user = spec.partition("=")
        tokens[token] = user or "user"
    # Block the signals before any thread starts, so every thread inherits the mask and the
    # main thread alone receives them in sigwait.
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    with HubServer(root, tokens=tokens, host=args.host, port=args.port,
                   cdn_port=args.cdn_port) as hub:
        hub.warm()
        print(f"cdn {hub.cdn_endpoint}", file=sys.stderr, flush=True)
        print(f"READY {hub.endpoint}", flush=True)
        signal.sigwait(stop_signals)
    return 0
