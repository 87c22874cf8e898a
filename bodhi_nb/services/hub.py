"""HubService: pull files from the Hugging Face Hub into the standard HF cache.

Metadata comes from the same HTTP calls ``huggingface_hub`` makes (``HEAD .../resolve/...``,
``GET /api/models/...``) over httpx; every failure is translated here, once, into a
:class:`~bodhi_nb.errors.HubServiceError` leaf.

The body is streamed by our own downloader, built for what huggingface_hub 2.x cannot do:

* **resume across processes**: the partial file has a stable name,
  ``blobs/<etag>.incomplete``, under the same ``.locks/<repo>/<etag>.lock`` file lock
  huggingface_hub uses; a new attempt (after a kernel restart or a SIGKILL) re-hashes the
  bytes on disk and asks for the rest with ``Range``;
* **verification**: SHA-256 (LFS) or the git blob SHA-1 (small files) is computed as bytes
  arrive and checked against the Hub's etag before the file is published; a corrupt partial
  is discarded and fetched again once, with a notice;
* **atomic publish** into ``blobs/`` + ``refs/`` + ``snapshots/`` exactly as
  huggingface_hub lays them out, so either tool finds the other's files;
* **speed**: one reused pair of 1 MiB buffers; the network read of one buffer overlaps the
  hashing and writing of the other (both release the GIL), so memory stays flat whatever
  the file size.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPResponse, HTTPSConnection
from pathlib import Path
from typing import Any, Protocol

from bodhi_nb.errors import (
    ChecksumMismatchError,
    GatedAccessError,
    GatedNoTokenError,
    HubServiceError,
    InvalidTokenError,
    LocalFileNotFoundError,
    MayNotExistError,
    RateLimitedError,
    RemoteFileNotFoundError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TransportError,
    UnknownHubError,
)
from bodhi_nb.objs import HubFile, Repo
from bodhi_nb.services._fs import atomic_write_text
from bodhi_nb.services.hf_cache import HfCache, check_filename, check_revision
from bodhi_nb.services.time import TimeService

__all__ = ["HubService", "Progress", "RemoteFile", "TokenProvider", "hf_token_provider"]

_BUFFER = 1 << 20
_USER_AGENT = "bodhi_nb"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


class Progress(Protocol):
    """What a download reports; a tqdm bar, a widget or the DB writer can subscribe."""

    def start(self, filename: str, total: int, initial: int) -> None: ...
    def advance(self, done: int) -> None: ...
    def notice(self, text: str) -> None: ...
    def finish(self) -> None: ...


class _NoProgress:
    def start(self, filename: str, total: int, initial: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def notice(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass


#: Returns (token, where it came from) or None.
TokenProvider = Callable[[], "tuple[str, str] | None"]


def hf_token_provider(settings: Any, secrets: Any = None) -> TokenProvider:
    """HF_TOKEN from the environment, else the stored secret HF_TOKEN, else the token file
    ``hf auth login`` writes (``$HF_HOME/token``). Read at each request, never cached."""

    def provide() -> tuple[str, str] | None:
        token = settings.env("HF_TOKEN")
        if token:
            return token.strip(), "the HF_TOKEN environment variable"
        if secrets is not None:
            stored = secrets.retrieve_secret("HF_TOKEN")
            if stored:
                return str(stored).strip(), "the stored secret HF_TOKEN"
        path = Path(settings.get("HF_HOME")) / "token"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return (token, str(path)) if token else None

    return provide


@dataclass(frozen=True)
class RemoteFile:
    """What a ``HEAD .../resolve/...`` says about one file."""

    repo: Repo
    filename: str
    revision: str
    commit: str
    etag: str
    size: int
    url: str  # where the body is fetched (the CDN for LFS files)
    same_origin: bool

    @property
    def is_lfs(self) -> bool:
        return bool(_SHA256.match(self.etag))


class HubService:
    """Downloads into ``hf_cache``; thread-safe (one httpx client, per-file locks)."""

    def __init__(
        self,
        hf_cache: HfCache,
        time: TimeService,
        *,
        endpoint: str = "https://huggingface.co",
        token: TokenProvider | None = None,
        retries: int = 5,
        progress_interval: float = 0.1,
        timeout: float = 60.0,
    ) -> None:
        self.cache = hf_cache
        self.time = time
        self.endpoint = endpoint.rstrip("/")
        self._token = token or (lambda: None)
        self.retries = retries
        self.progress_interval = progress_interval
        self.timeout = timeout
        self._client: Any = None
        self._client_lock = threading.Lock()

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- local cache ------------------------------------------------------------------------

    def find_local_file(self, repo: Repo, filename: str, revision: str = "main") -> HubFile:
        return self.cache.find_local_file(repo, filename, revision)

    def local_file_exists(self, repo: Repo, filename: str, revision: str = "main") -> bool:
        return self.cache.local_file_exists(repo, filename, revision)

    def list_local_models(self) -> list[HubFile]:
        return self.cache.list_local_models()

    # -- metadata ---------------------------------------------------------------------------

    def file_metadata(self, repo: Repo, filename: str, revision: str = "main") -> RemoteFile:
        """``HEAD /{repo}/resolve/{revision}/{filename}`` without following redirects."""
        check_filename(filename)
        check_revision(revision)
        url = (f"{self.endpoint}/{repo.id}/resolve/{urllib.parse.quote(revision, safe='')}/"
               f"{urllib.parse.quote(filename)}")
        response = self._request("HEAD", url, repo=repo, filename=filename, revision=revision)
        headers = response.headers
        commit = headers.get("x-repo-commit", "")
        etag = _clean_etag(headers.get("x-linked-etag") or headers.get("etag") or "")
        size = headers.get("x-linked-size") or headers.get("content-length") or ""
        if not (commit and etag and size.isdigit()):
            raise UnknownHubError(status=f"{response.status_code} (missing file metadata)",
                                  url=url)
        location = url
        if response.status_code in (301, 302, 303, 307, 308):
            location = urllib.parse.urljoin(url, headers.get("location", ""))
        same = _origin(location) == _origin(self.endpoint)
        return RemoteFile(repo, filename, revision, commit, etag, int(size), location, same)

    def list_repo_files(self, repo: Repo, revision: str = "main") -> list[tuple[str, int | None]]:
        """(path, size) of every file at ``revision`` (``GET /api/models/.../revision/...``)."""
        check_revision(revision)
        url = (f"{self.endpoint}/api/models/{repo.id}/revision/"
               f"{urllib.parse.quote(revision, safe='')}?blobs=true")
        data = self._request("GET", url, repo=repo, revision=revision).json()
        return [(s["rfilename"], s.get("size")) for s in data.get("siblings", [])]

    # -- download ---------------------------------------------------------------------------

    def download(self, repo: Repo, filename: str, revision: str = "main",
                 progress: Progress | None = None) -> HubFile:
        """The cached file, downloading (or resuming) it first if it is not there."""
        progress = progress or _NoProgress()
        try:
            return self.cache.find_local_file(repo, filename, revision)
        except LocalFileNotFoundError:
            pass
        remote = self.file_metadata(repo, filename, revision)
        repo_dir = self.cache.repo_dir(repo)
        blob = repo_dir / "blobs" / remote.etag
        if not blob.exists():
            from filelock import FileLock

            lock_dir = self.cache.root / ".locks" / repo.cache_folder
            lock_dir.mkdir(parents=True, exist_ok=True)
            with FileLock(str(lock_dir / f"{remote.etag}.lock")):
                if not blob.exists():
                    self._fetch(remote, blob, progress)
        self._publish(remote, blob)
        progress.finish()
        return HubFile(str(self.cache.root), repo.id, filename, remote.commit, remote.size)

    def remove_local_file(self, file: HubFile) -> int:
        """Unlink one snapshot entry; delete its blob when no other snapshot uses it.
        Returns the bytes freed."""
        link = file.path
        repo_dir = self.cache.repo_dir(Repo.parse(file.repo))
        blob = link.resolve() if link.is_symlink() else None
        freed = 0
        link.unlink(missing_ok=True)
        if blob is not None and blob.parent == repo_dir / "blobs" and blob.exists():
            still_used = any(p.is_symlink() and p.resolve() == blob
                             for p in (repo_dir / "snapshots").rglob("*"))
            if not still_used:
                freed = blob.stat().st_size
                blob.unlink()
        elif blob is None and link.exists():
            freed = link.stat().st_size
        return freed

    def partial_files(self) -> list[Path]:
        """Partial downloads left by interrupted pulls (ours and huggingface_hub's)."""
        return sorted(self.cache.root.glob("models--*/blobs/*.incomplete"))

    def remove_partials(self) -> list[Path]:
        """Delete partial files no running download holds; returns what was removed."""
        from filelock import FileLock, Timeout

        removed = []
        for partial in self.partial_files():
            etag = partial.name.split(".", 1)[0]
            lock = self.cache.root / ".locks" / partial.parent.parent.name / f"{etag}.lock"
            lock.parent.mkdir(parents=True, exist_ok=True)
            try:
                with FileLock(str(lock), timeout=0):
                    partial.unlink(missing_ok=True)
                    removed.append(partial)
            except Timeout:
                continue  # a download is writing it right now
        return removed

    # -- internals: HTTP --------------------------------------------------------------------

    def _client_get(self) -> Any:
        with self._client_lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout, connect=10.0), follow_redirects=False,
                    headers={"user-agent": _USER_AGENT}, trust_env=True)
            return self._client

    def _auth(self) -> tuple[dict[str, str], str | None]:
        found = self._token()
        if not found:
            return {}, None
        token, source = found
        return {"authorization": f"Bearer {token}"}, source

    def _request(self, method: str, url: str, *, repo: Repo, filename: str | None = None,
                 revision: str = "main") -> Any:
        import httpx

        headers, source = self._auth()
        try:
            response = self._client_get().request(method, url, headers=headers)
        except httpx.TransportError as exc:
            raise TransportError(endpoint=self.endpoint, reason=_reason(exc)) from exc
        if response.status_code < 400:
            return response
        raise _hub_error(response.status_code, response.headers, url=url, repo=repo,
                         filename=filename, revision=revision, token_source=source,
                         endpoint=self.endpoint)

    # -- internals: the body ----------------------------------------------------------------

    def _fetch(self, remote: RemoteFile, blob: Path, progress: Progress) -> None:
        partial = blob.with_name(f"{remote.etag}.incomplete")
        for attempt in ("resume", "fresh"):
            digest = self._stream_to(remote, partial, progress)
            expected = remote.etag
            if digest == expected:
                os.replace(partial, blob)
                return
            partial.unlink(missing_ok=True)
            if attempt == "fresh":
                raise ChecksumMismatchError(repo=remote.repo.id, filename=remote.filename,
                                            expected=expected[:12], actual=digest[:12])
            progress.notice(f"{remote.filename}: the bytes on disk did not match the Hub's "
                            "checksum; discarded them and downloading again from the start")

    def _stream_to(self, remote: RemoteFile, partial: Path, progress: Progress) -> str:
        """Append the missing bytes to ``partial``; returns the digest of the whole file."""
        hasher = _Hasher(remote.etag, remote.size)
        partial.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "ab+") as fh:
            have = fh.seek(0, os.SEEK_END)
            if have > remote.size:
                fh.truncate(0)
                have = 0
            if have:
                fh.seek(0)
                _hash_existing(fh, hasher, have)
            progress.start(remote.filename, remote.size, have)
            failures = 0
            while have < remote.size:
                try:
                    have = self._get_range(remote, fh, hasher, have, progress)
                except (OSError, HTTPException, _Restart) as exc:
                    if isinstance(exc, _Restart):
                        fh.truncate(0)
                        fh.seek(0)
                        hasher = _Hasher(remote.etag, remote.size)
                        have = 0
                        continue
                    failures += 1
                    have = fh.seek(0, os.SEEK_END)
                    if failures > self.retries:
                        raise TransportError(endpoint=_origin(remote.url),
                                             reason=_reason(exc)) from exc
                    progress.notice(f"{remote.filename}: connection lost at {have:,} bytes "
                                    f"({_reason(exc)}); resuming")
                    self.time.sleep(min(0.25 * 2 ** (failures - 1), 4.0))
            # No fsync: a killed process loses nothing the page cache holds, and the checksum
            # plus the atomic rename already guarantee no half-written file is ever published
            # (huggingface_hub does not fsync either; fsync of a large file costs seconds).
            fh.flush()
        return hasher.hexdigest()

    def _get_range(self, remote: RemoteFile, fh: Any, hasher: _Hasher, start: int,
                   progress: Progress) -> int:
        headers = {"user-agent": _USER_AGENT, "accept-encoding": "identity"}
        if start:
            headers["range"] = f"bytes={start}-"
        if remote.same_origin:
            headers.update(self._auth()[0])
        with _open(remote.url, headers, self.timeout) as response:
            if response.status == 416:
                raise _Restart()
            if response.status >= 400:
                raise _hub_error(response.status, {k.lower(): v for k, v in
                                                   response.getheaders()},
                                 url=remote.url, repo=remote.repo, filename=remote.filename,
                                 revision=remote.revision, token_source=None,
                                 endpoint=self.endpoint)
            if start and response.status != 206:
                raise _Restart()  # the server ignored Range: start again from byte 0
            done = start
            last = self.time.monotonic()
            with _Pipeline(fh, hasher) as pipe:
                for n in pipe.pump(response):
                    done += n
                    now = self.time.monotonic()
                    if now - last >= self.progress_interval:
                        progress.advance(done)
                        last = now
            progress.advance(done)
            if done < remote.size:
                raise ConnectionResetError(f"body ended after {done - start:,} bytes")
            return done

    # -- internals: publish -----------------------------------------------------------------

    def _publish(self, remote: RemoteFile, blob: Path) -> None:
        """refs/<revision> and snapshots/<commit>/<file> -> ../../blobs/<etag>, atomically."""
        repo_dir = self.cache.repo_dir(remote.repo)
        link = repo_dir / "snapshots" / remote.commit / remote.filename
        link.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.relpath(blob, link.parent)
        if not (link.is_symlink() and os.readlink(link) == target):
            tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, link)
        if remote.revision != remote.commit:
            ref = repo_dir / "refs" / remote.revision
            ref.parent.mkdir(parents=True, exist_ok=True)
            try:
                current = ref.read_text(encoding="utf-8")
            except OSError:
                current = ""
            if current != remote.commit:
                atomic_write_text(ref, remote.commit)


class _Restart(Exception):
    """The server cannot continue where we are: start the file again from byte 0."""


class _Hasher:
    """SHA-256 for LFS etags; git's blob SHA-1 for small files' etags; none otherwise."""

    def __init__(self, etag: str, size: int) -> None:
        if _SHA256.match(etag):
            self._h: Any = hashlib.sha256()
        elif _SHA1.match(etag):
            self._h = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
        else:
            self._h = None
        self._etag = etag

    def update(self, data: Any) -> None:
        if self._h is not None:
            self._h.update(data)

    def hexdigest(self) -> str:
        return str(self._h.hexdigest()) if self._h is not None else self._etag


def _hash_existing(fh: Any, hasher: _Hasher, size: int) -> None:
    buf = bytearray(_BUFFER)
    view = memoryview(buf)
    left = size
    while left:
        n = fh.readinto(view[: min(left, _BUFFER)])
        if not n:
            break
        hasher.update(view[:n])
        left -= n
    fh.seek(0, os.SEEK_END)


class _Pipeline:
    """Two reused buffers: the caller fills one from the socket while a worker thread
    hashes and writes the other."""

    def __init__(self, fh: Any, hasher: _Hasher) -> None:
        self._fh = fh
        self._hasher = hasher
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(2):
            self._free.put(bytearray(_BUFFER))
        self._work: queue.Queue[tuple[bytearray, int] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="bodhi-hash", daemon=True)

    def __enter__(self) -> _Pipeline:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._work.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        while (item := self._work.get()) is not None:
            buf, n = item
            try:
                if self._error is None:
                    view = memoryview(buf)[:n]
                    self._fh.write(view)
                    self._hasher.update(view)
            except BaseException as exc:  # reported by __exit__
                self._error = exc
            finally:
                self._free.put(buf)

    def pump(self, response: HTTPResponse) -> Iterator[int]:
        """Read the body into the buffers; yields byte counts as they are handed over."""
        while True:
            if self._error is not None:
                return
            buf = self._free.get()
            view = memoryview(buf)
            filled = 0
            while filled < _BUFFER:
                n = response.readinto(view[filled:])
                if not n:
                    break
                filled += n
            if filled:
                self._work.put((buf, filled))
                yield filled
            else:
                self._free.put(buf)
            if filled < _BUFFER:
                return


@contextmanager
def _open(url: str, headers: dict[str, str], timeout: float,
          redirects: int = 5) -> Iterator[HTTPResponse]:
    """GET ``url`` with the standard library (it reads into our buffers), following
    redirects, honouring HTTP(S)_PROXY / NO_PROXY and SSL_CERT_FILE."""
    for _ in range(redirects + 1):
        parts = urllib.parse.urlsplit(url)
        conn = _connection(parts, timeout)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if getattr(conn, "_bodhi_absolute", False):
                target = url
            conn.request("GET", target or "/", headers={**headers, "host": parts.netloc})
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308):
                location = response.getheader("location") or ""
                response.close()
                new = urllib.parse.urljoin(url, location)
                if _origin(new) != _origin(url):
                    headers = {k: v for k, v in headers.items() if k != "authorization"}
                url = new
                continue
            yield response
            return
        finally:
            conn.close()
    raise ConnectionError("too many redirects")


def _connection(parts: urllib.parse.SplitResult, timeout: float) -> HTTPConnection:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    proxies = urllib.request.getproxies()
    proxy = None if urllib.request.proxy_bypass(host) else proxies.get(parts.scheme)
    context = ssl.create_default_context() if parts.scheme == "https" else None
    if proxy:
        p = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if parts.scheme == "https":
            conn: HTTPConnection = HTTPSConnection(p.hostname or "", p.port or 80,
                                                   timeout=timeout, context=context)
            conn.set_tunnel(host, port)
            return conn
        conn = HTTPConnection(p.hostname or "", p.port or 80, timeout=timeout)
        conn._bodhi_absolute = True  # type: ignore[attr-defined]
        return conn
    if parts.scheme == "https":
        return HTTPSConnection(host, port, timeout=timeout, context=context)
    return HTTPConnection(host, port, timeout=timeout)


def _hub_error(status: int, headers: Any, *, url: str, repo: Repo, filename: str | None,
               revision: str, token_source: str | None, endpoint: str) -> HubServiceError:
    """BodhiApp's categories, refined by the Hub's X-Error-Code."""
    code = headers.get("x-error-code", "")
    message = headers.get("x-error-message", "")
    page = f"{endpoint}/{repo.id}"
    if code == "GatedRepo":
        if token_source is None:
            return GatedNoTokenError(repo=repo.id, url=page)
        return GatedAccessError(repo=repo.id, url=page)
    if code == "RepoNotFound":
        if token_source is None:
            return MayNotExistError(repo=repo.id)
        return RepoNotFoundError(repo=repo.id)
    if code == "RevisionNotFound":
        return RevisionNotFoundError(repo=repo.id, revision=revision)
    if code == "EntryNotFound":
        return RemoteFileNotFoundError(repo=repo.id, filename=filename or "?", revision=revision)
    if status == 401 and token_source is not None and (
            code == "InvalidCredentials" or "credentials" in message.lower() or not code):
        return InvalidTokenError(source=token_source)
    if status == 401:
        return MayNotExistError(repo=repo.id)
    if status == 403:
        return GatedAccessError(repo=repo.id, url=page)
    if status == 404:
        return (RemoteFileNotFoundError(repo=repo.id, filename=filename, revision=revision)
                if filename else RepoNotFoundError(repo=repo.id))
    if status == 429:
        return RateLimitedError(retry_after=headers.get("retry-after", "60"))
    if status in (502, 503, 504):
        return TransportError(endpoint=endpoint, reason=f"HTTP {status}")
    return UnknownHubError(status=status, url=url)


def _clean_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__
