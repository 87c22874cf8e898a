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
  the file size;
* **parallel ranges** for files of ``ranged_threshold`` (64 MiB) or more: several
  connections from a :class:`ConnectionBudget` (``BODHI_PULL_CONNECTIONS``), with the same
  verification, resume and flat memory (:mod:`bodhi_nb.services.ranged`).

What the Hub sends is input, not truth (a plain-http ``HF_ENDPOINT`` can be anyone):
``X-Repo-Commit`` must be 40 hex digits and the etag a SHA-1 or SHA-256 (an LFS file's a
SHA-256) before any of it becomes a path, every computed path must stay inside the
repository's cache folder, and nothing is ever published without its digest matching.
Endpoint URLs in errors go through ``redact_url``; server text through ``strip_control``.

Local failures are not network failures: a full disk or a read-only cache is reported at
once (:class:`~bodhi_nb.errors.NoSpaceError`, :class:`~bodhi_nb.errors.CannotWriteError`),
never retried as a dropped connection.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import queue
import re
import shutil
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

from bodhi_nb._fs import atomic_write_text
from bodhi_nb.errors import (
    BadMetadataError,
    CachedFileTruncatedError,
    CannotWriteError,
    ChecksumMismatchError,
    GatedAccessError,
    GatedNoTokenError,
    HubBadResponseError,
    HubCancelledError,
    HubServiceError,
    InvalidEndpointError,
    InvalidTokenError,
    LocalFileNotFoundError,
    MayNotExistError,
    NoSpaceError,
    RateLimitedError,
    RemoteFileChangedError,
    RemoteFileNotFoundError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TransportError,
    UnknownHubError,
    UnsafePathError,
    UnverifiableFileError,
    UrlExpiredError,
)
from bodhi_nb.objs import CancelToken, HubFile, Notice, Repo, is_http_url
from bodhi_nb.redact import redact_url, strip_control
from bodhi_nb.services.hf_cache import HfCache, check_filename, check_revision, first_hop
from bodhi_nb.services.policy import Action, Gate, allow_all
from bodhi_nb.services.ranged import (
    ConnectionBudget,
    RangesUnsupported,
    fetch_ranged,
    forget_ranges,
    keep_prefix_only,
)
from bodhi_nb.services.time import TimeService

__all__ = ["RANGED_THRESHOLD", "ConnectionBudget", "HubService", "Notice", "Progress",
           "RemoteFile", "TokenProvider", "hf_token_provider"]

_BUFFER = 1 << 20
#: Files from this size on are fetched in ranges over several connections (issue 15); below
#: it, a second connection saves less than its setup costs.
RANGED_THRESHOLD = 64 << 20
#: Connections per large file unless BODHI_PULL_CONNECTIONS says otherwise.
DEFAULT_CONNECTIONS = 8
_USER_AGENT = "bodhi_nb"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_COMMIT = _SHA1
_SIZE = re.compile(r"[0-9]{1,19}")
_REDIRECTS = (301, 302, 303, 307, 308)
#: errno values that mean "the disk is full", not "the network failed".
_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: The content huggingface_hub writes to CACHEDIR.TAG (bford.info/cachedir): the same bytes,
#: so the file does not change with the tool that happened to create the cache.
CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                "# This file is a cache directory tag created by huggingface_hub.\n"
                "# For information about cache directory tags, see:\n"
                "#\thttps://bford.info/cachedir/\n")


class Progress(Protocol):
    """What a download reports; a tqdm bar, a widget or the DB writer can subscribe.
    ``notice`` gets a :class:`Notice` (a ``str``)."""

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
    """What a ``HEAD .../resolve/...`` says about one file (validated: ``commit`` is 40 hex
    digits, ``etag`` a SHA-1 or SHA-256, a SHA-256 whenever ``lfs``)."""

    repo: Repo
    filename: str
    revision: str
    commit: str
    etag: str
    size: int
    url: str  # where the body is fetched (the CDN for LFS files)
    same_origin: bool
    lfs: bool = False


@dataclass(frozen=True)
class _Paths:
    """Where one file goes in the cache; each checked to stay inside its folder."""

    blob: Path
    partial: Path
    lock: Path
    link: Path
    ref: Path | None


class _WriteFailed(Exception):
    """Writing the partial file failed (the disk, not the network): never retried."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


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
        gate: Gate = allow_all,
        connections: int = DEFAULT_CONNECTIONS,
        ranged_threshold: int = RANGED_THRESHOLD,
    ) -> None:
        self._gate = gate
        #: shared by this service's pulls that name no budget of their own
        self.budget = ConnectionBudget(connections)
        #: files of this size or more go over several connections
        self.ranged_threshold = ranged_threshold
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

    @property
    def connections(self) -> int:
        """Connections the pulls of this service share (``BODHI_PULL_CONNECTIONS``)."""
        return self.budget.size

    @connections.setter
    def connections(self, value: int) -> None:
        self.budget.size = value

    @property
    def shown_endpoint(self) -> str:
        """The endpoint as it may be shown: credentials masked."""
        return redact_url(self.endpoint)

    # -- local cache ------------------------------------------------------------------------

    def find_local_file(self, repo: Repo, filename: str, revision: str = "main") -> HubFile:
        return self.cache.find_local_file(repo, filename, revision)

    def local_file_exists(self, repo: Repo, filename: str, revision: str = "main") -> bool:
        return self.cache.local_file_exists(repo, filename, revision)

    def list_local_models(self) -> list[HubFile]:
        self._gate(Action.MODELS)
        return self.cache.list_local_models()

    def list_local_files(self, repo: Repo) -> list[HubFile]:
        """Every complete file of ``repo`` in the cache, GGUF or not."""
        self._gate(Action.MODELS)
        return self.cache.local_files(repo=repo)

    # -- metadata ---------------------------------------------------------------------------

    def file_metadata(self, repo: Repo, filename: str, revision: str = "main") -> RemoteFile:
        """``HEAD /{repo}/resolve/{revision}/{filename}`` without following redirects.

        Raises :class:`BadMetadataError` (nothing written) when the answer could not come
        from a Hub: a commit that is not 40 hex digits, an etag that is not a digest, a size
        that is not a number, a redirect to anything but http(s); and
        :class:`UnverifiableFileError` for an LFS file without a SHA-256.
        """
        check_filename(filename)
        check_revision(revision)
        url = (f"{self._base()}/{repo.id}/resolve/{urllib.parse.quote(revision, safe='')}/"
               f"{urllib.parse.quote(filename)}")
        response = self._request("HEAD", url, repo=repo, filename=filename, revision=revision)
        headers = response.headers
        shown = redact_url(url)
        commit = headers.get("x-repo-commit", "")
        linked = headers.get("x-linked-etag")
        etag = _clean_etag(linked or headers.get("etag") or "")
        size = headers.get("x-linked-size") or headers.get("content-length") or ""
        if not (commit and etag and size):
            kind = headers.get("content-type", "").split(";")[0].strip() or "no content type"
            raise HubBadResponseError(url=shown, reason=f"HTTP {response.status_code}, "
                                      f"{_shown(kind)}, without the X-Repo-Commit, ETag and "
                                      "size headers of a file")
        if not _COMMIT.fullmatch(commit):
            raise BadMetadataError(url=shown, field="X-Repo-Commit", value=_shown(commit))
        if not (_SHA256.fullmatch(etag) or _SHA1.fullmatch(etag)):
            raise BadMetadataError(url=shown, field="ETag", value=_shown(etag))
        if not _SIZE.fullmatch(size):
            raise BadMetadataError(url=shown, field="size", value=_shown(size))
        location = url
        redirected = response.status_code in _REDIRECTS
        if redirected:
            location = urllib.parse.urljoin(url, headers.get("location", ""))
            if not is_http_url(location):
                raise BadMetadataError(url=shown, field="Location",
                                       value=_shown(redact_url(location)))
        lfs = linked is not None or redirected
        if lfs and not _SHA256.fullmatch(etag):
            # A git SHA-1 of an LFS file is the SHA-1 of its pointer, not of its content.
            raise UnverifiableFileError(repo=repo.id, filename=filename, url=shown)
        same = _origin(location) == _origin(self.endpoint)
        return RemoteFile(repo, filename, revision, commit, etag, int(size), location, same,
                          lfs)

    def remote_file_exists(self, repo: Repo, filename: str,
                           revision: str = "main") -> bool | None:
        """Whether the Hub has ``filename`` at ``revision``: True, False (the repository,
        revision or file does not exist), or None when the Hub cannot tell us (offline,
        gated, rate-limited, not a Hub, or an anonymous "not found" that may be a private
        repository): callers warn instead of refusing."""
        try:
            self.file_metadata(repo, filename, revision)
        except (RemoteFileNotFoundError, RepoNotFoundError, RevisionNotFoundError):
            return False
        except HubServiceError:
            return None
        return True

    def list_repo_files(self, repo: Repo, revision: str = "main") -> list[tuple[str, int | None]]:
        """(path, size) of every file at ``revision`` (``GET /api/models/.../revision/...``).

        Paths have control characters stripped: they are printed as they come.
        """
        self._gate(Action.PULL)
        check_revision(revision)
        url = (f"{self._base()}/api/models/{repo.id}/revision/"
               f"{urllib.parse.quote(revision, safe='')}?blobs=true")
        response = self._request("GET", url, repo=repo, revision=revision)
        data = _json(response, redact_url(url))
        siblings = data.get("siblings", []) if isinstance(data, dict) else None
        if not isinstance(siblings, list) or not all(
                isinstance(s, dict) and isinstance(s.get("rfilename"), str) for s in siblings):
            raise HubBadResponseError(url=redact_url(url), reason="JSON without a model's "
                                      "list of files (siblings)")
        out: list[tuple[str, int | None]] = []
        for sibling in siblings:
            size = sibling.get("size")
            ok = isinstance(size, int) and not isinstance(size, bool) and size >= 0
            out.append((strip_control(sibling["rfilename"]), size if ok else None))
        return out

    # -- download ---------------------------------------------------------------------------

    def download(self, repo: Repo, filename: str, revision: str = "main",
                 progress: Progress | None = None,
                 cancel: CancelToken | None = None,
                 connections: int | ConnectionBudget | None = None) -> HubFile:
        """The cached file, downloading (or resuming) it first if it is not there.

        ``cancel`` stops the body between chunks (and before it starts): the partial file
        stays for the next pull to resume, and :class:`HubCancelledError` is raised.
        ``connections``: how many connections may fetch a file of ``ranged_threshold`` bytes
        or more in ranges (1: one stream), or a budget shared with other downloads; None
        shares this service's budget."""
        self._gate(Action.PULL)
        if connections is None:
            budget = self.budget
        elif isinstance(connections, ConnectionBudget):
            budget = connections
        else:
            budget = ConnectionBudget(connections)
        progress = progress or _NoProgress()
        cancel = cancel or CancelToken()
        try:
            return self.cache.find_local_file(repo, filename, revision)
        except LocalFileNotFoundError:
            pass
        remote = self.file_metadata(repo, filename, revision)
        paths = self._paths(remote)
        try:
            # Like huggingface_hub: the snapshot folder and the ref exist before the body
            # arrives, so `hf cache ls` / scan_cache_dir() never see a half-made repository.
            paths.link.parent.mkdir(parents=True, exist_ok=True)
            if paths.ref is not None:
                self._write_ref(paths.ref, remote.commit)
            self._tag_cache()
            if not _has_blob(paths.blob, remote.size):
                from filelock import FileLock

                paths.lock.parent.mkdir(parents=True, exist_ok=True)
                with FileLock(str(paths.lock)):
                    if not _has_blob(paths.blob, remote.size):
                        # A blob of another size is no copy of this content (a copy cut
                        # short by hand or by a full disk): fetch it again, never link it.
                        paths.blob.unlink(missing_ok=True)
                        self._fetch(remote, paths, progress, cancel, budget)
            self._publish(paths)
        except _WriteFailed as exc:
            raise self._disk_error(exc.error, paths) from exc.error
        except OSError as exc:
            raise self._disk_error(exc, paths) from exc
        progress.finish()
        return HubFile(str(self.cache.root), repo.id, filename, remote.commit, remote.size)

    def verify_local_file(self, repo: Repo, filename: str, revision: str = "main") -> HubFile:
        """The cached file, after checking its size against the Hub's when the Hub answers
        (offline, it is returned unchecked). Raises :class:`CachedFileTruncatedError` for a
        copy of the same content (same commit or etag) whose size differs."""
        local = self.cache.find_local_file(repo, filename, revision)
        try:
            remote = self.file_metadata(repo, filename, revision)
        except HubServiceError:
            return local
        hop = first_hop(local.path)
        same = remote.commit == local.snapshot or (hop is not None and hop.name == remote.etag)
        if same and local.size != remote.size:
            raise CachedFileTruncatedError(repo=repo.id, filename=filename,
                                           path=str(local.path), size=local.size,
                                           expected=remote.size)
        return local

    def forget_local_file(self, repo: Repo, filename: str, revision: str = "main") -> bool:
        """Drop a cached copy so the next download fetches it again (``pull --force``):
        its snapshot entry and the blob it names, whoever else links to it (a bad blob is
        bad for all). Returns whether there was anything to drop."""
        self._gate(Action.REMOVE)
        try:
            local = self.cache.find_local_file(repo, filename, revision)
        except LocalFileNotFoundError:
            return False
        with self._local_errors():
            self._remove(local, keep_if_used=False)
        return True

    def remove_local_file(self, file: HubFile) -> int:
        """Unlink one snapshot entry; delete its blob when no other snapshot uses it, and a
        shared-store blob (huggingface_hub's Xet layout) once no repository links to it, as
        ``hf cache rm`` does. Returns the bytes freed."""
        self._gate(Action.REMOVE)
        with self._local_errors():
            return self._remove(file, keep_if_used=True)

    def remove_repo(self, repo: Repo) -> int:
        """Delete a repository's whole cache folder (every revision, ref and partial), and
        collect the shared-store entries only it linked to, as ``hf cache rm owner/repo``
        does. Returns the bytes freed."""
        self._gate(Action.REMOVE)
        repo_dir = self.cache.repo_dir(repo)
        if not repo_dir.is_dir():
            return 0
        with self._local_errors():
            freed = 0
            stores = set()
            try:
                entries = list(os.scandir(repo_dir / "blobs"))
            except (FileNotFoundError, NotADirectoryError):
                entries = []
            for entry in entries:
                store = self.cache.shared_blob_target(Path(entry.path))
                if store is not None:
                    stores.add(store)
                elif entry.is_file(follow_symlinks=False):
                    freed += entry.stat(follow_symlinks=False).st_size
            shutil.rmtree(repo_dir)
            for store in sorted(stores):
                freed += self.cache.sweep_shared_blob(store)
        return freed

    def _remove(self, file: HubFile, *, keep_if_used: bool) -> int:
        repo_dir = self.cache.repo_dir(Repo.parse(file.repo))
        link = _inside(repo_dir / "snapshots", file.path)
        blob = first_hop(link)
        if blob is None:  # a copy inside the snapshot (no symlinks), or already gone
            freed = link.stat().st_size if link.is_file() else 0
            link.unlink(missing_ok=True)
            return freed
        link.unlink(missing_ok=True)
        blobs = Path(os.path.abspath(repo_dir / "blobs"))
        if blob.parent != blobs or not os.path.lexists(blob):
            return 0
        if keep_if_used and any(first_hop(p) == blob
                                    for p in (repo_dir / "snapshots").rglob("*")):
            return 0
        store = self.cache.shared_blob_target(blob)
        try:
            freed = blob.stat().st_size if store is None and blob.is_file() else 0
        except OSError:
            freed = 0
        blob.unlink(missing_ok=True)
        if store is not None:
            freed += self.cache.sweep_shared_blob(store)
        return freed

    def partial_files(self) -> list[Path]:
        """Partial downloads left by interrupted pulls (ours and huggingface_hub's)."""
        return sorted(self.cache.root.glob("models--*/blobs/*.incomplete"))

    def remove_partials(self) -> list[Path]:
        """Delete partial files no running download holds; returns what was removed."""
        self._gate(Action.REMOVE)
        from filelock import FileLock, Timeout

        removed = []
        for partial in self.partial_files():
            etag = partial.name.split(".", 1)[0]
            lock = self.cache.root / ".locks" / partial.parent.parent.name / f"{etag}.lock"
            with self._local_errors():
                lock.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with FileLock(str(lock), timeout=0):
                        partial.unlink(missing_ok=True)
                        forget_ranges(partial)
                        removed.append(partial)
                except Timeout:
                    continue  # a download is writing it right now
        for sidecar in self.cache.root.glob("models--*/blobs/*.incomplete.ranges"):
            if not sidecar.with_suffix("").exists():  # its partial is gone: it lists nothing
                with self._local_errors():
                    sidecar.unlink(missing_ok=True)
        return removed

    # -- internals: paths and local errors ---------------------------------------------------

    def _paths(self, remote: RemoteFile) -> _Paths:
        repo_dir = self.cache.repo_dir(remote.repo)
        blobs = repo_dir / "blobs"
        locks = self.cache.root / ".locks" / remote.repo.cache_folder
        ref = None
        if remote.revision != remote.commit:
            ref = _inside(repo_dir / "refs", repo_dir / "refs" / remote.revision)
        return _Paths(
            blob=_inside(blobs, blobs / remote.etag),
            partial=_inside(blobs, blobs / f"{remote.etag}.incomplete"),
            lock=_inside(locks, locks / f"{remote.etag}.lock"),
            link=_inside(repo_dir / "snapshots" / remote.commit,
                         repo_dir / "snapshots" / remote.commit / remote.filename),
            ref=ref)

    def _disk_error(self, exc: OSError, paths: _Paths) -> HubServiceError:
        if exc.errno in _NO_SPACE:
            try:
                have = paths.partial.stat().st_size
            except OSError:
                have = 0
            return NoSpaceError(path=str(self.cache.root), partial=str(paths.partial),
                                size=_human(have))
        where = exc.filename if isinstance(exc.filename, str) else str(self.cache.root)
        return CannotWriteError(path=where, reason=exc.strerror or type(exc).__name__)

    @contextmanager
    def _local_errors(self) -> Iterator[None]:
        """A local OSError (read-only cache, permissions) as cannot_write with its path."""
        try:
            yield
        except OSError as exc:
            where = exc.filename if isinstance(exc.filename, str) else str(self.cache.root)
            raise CannotWriteError(path=where, reason=exc.strerror or type(exc).__name__
                                   ) from exc

    def _tag_cache(self) -> None:
        """CACHEDIR.TAG at the cache root, as huggingface_hub writes it: backup tools skip
        the folder. Best effort."""
        tag = self.cache.root / "CACHEDIR.TAG"
        if not tag.exists():
            try:
                atomic_write_text(tag, CACHEDIR_TAG, shared=True)
            except OSError:
                pass

    @staticmethod
    def _write_ref(ref: Path, commit: str) -> None:
        ref.parent.mkdir(parents=True, exist_ok=True)
        try:
            current = ref.read_text(encoding="utf-8")
        except OSError:
            current = ""
        if current != commit:
            atomic_write_text(ref, commit, shared=True)

    def _base(self) -> str:
        """The endpoint, checked before each request: an http(s) URL with a host."""
        try:
            parts = urllib.parse.urlsplit(self.endpoint)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError as exc:
            raise InvalidEndpointError(url=self.shown_endpoint, reason=_reason(exc)) from exc
        if parts.scheme not in ("http", "https"):
            raise InvalidEndpointError(url=self.shown_endpoint,
                                       reason="it must start with http:// or https://")
        if not host:
            raise InvalidEndpointError(url=self.shown_endpoint, reason="it names no host")
        return self.endpoint

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
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise InvalidEndpointError(url=self.shown_endpoint, reason=_reason(exc)) from exc
        except httpx.TransportError as exc:
            raise TransportError(endpoint=self.shown_endpoint, reason=_reason(exc)) from exc
        if response.status_code < 400:
            return response
        raise _hub_error(response.status_code, response.headers, url=url, repo=repo,
                         filename=filename, revision=revision, token_source=source,
                         endpoint=self.endpoint)

    # -- internals: the body ----------------------------------------------------------------

    def _fetch(self, remote: RemoteFile, paths: _Paths, progress: Progress,
               cancel: CancelToken, budget: ConnectionBudget) -> None:
        for attempt in ("resume", "fresh"):
            digest = self._body(remote, paths.partial, progress, cancel, budget)
            expected = remote.etag
            if digest == expected:
                os.replace(paths.partial, paths.blob)
                forget_ranges(paths.partial)
                return
            paths.partial.unlink(missing_ok=True)
            forget_ranges(paths.partial)
            if attempt == "fresh":
                raise ChecksumMismatchError(repo=remote.repo.id, filename=remote.filename,
                                            expected=expected[:12], actual=digest[:12])
            progress.notice(Notice("hub-discarded-partial", filename=remote.filename))

    def _body(self, remote: RemoteFile, partial: Path, progress: Progress,
              cancel: CancelToken, budget: ConnectionBudget) -> str:
        """The missing bytes of ``partial``, over several connections when the file is large
        and the budget allows; returns the digest of the whole file."""
        if budget.size > 1 and remote.size >= self.ranged_threshold:
            try:
                return fetch_ranged(self, remote, partial, progress, cancel, budget)
            except RangesUnsupported:
                progress.notice(Notice("hub-no-ranges", filename=remote.filename))
        return self._stream_to(remote, partial, progress, cancel)

    def _resolve_again(self, remote: RemoteFile) -> RemoteFile:
        """A fresh download URL for ``remote`` (its signed CDN URL expired); the same
        content, or :class:`RemoteFileChangedError`."""
        fresh = self.file_metadata(remote.repo, remote.filename, remote.revision)
        if fresh.etag != remote.etag or fresh.size != remote.size:
            raise RemoteFileChangedError(repo=remote.repo.id, filename=remote.filename)
        return fresh

    def _stream_to(self, remote: RemoteFile, partial: Path, progress: Progress,
                   cancel: CancelToken) -> str:
        """Append the missing bytes to ``partial``; returns the digest of the whole file."""
        hasher = _Hasher(remote.etag, remote.size)
        partial.parent.mkdir(parents=True, exist_ok=True)
        # A partial left by several connections: keep its contiguous prefix, append the rest.
        keep_prefix_only(partial, remote.size, remote.etag)
        expired = 0
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
                if cancel.cancelled:
                    fh.flush()
                    raise HubCancelledError(repo=remote.repo.id, filename=remote.filename)
                try:
                    before = have
                    have = self._get_range(remote, fh, hasher, have, progress, cancel)
                except _Expired as exc:
                    # A signed CDN URL that expired: ask the Hub for a new one, and go on.
                    have = fh.seek(0, os.SEEK_END)
                    expired = 1 if have > before else expired + 1
                    if expired > self.retries:
                        raise UrlExpiredError(filename=remote.filename,
                                              status=exc.status) from None
                    remote = self._resolve_again(remote)
                    continue
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
                        raise TransportError(endpoint=redact_url(_origin(remote.url)),
                                             reason=_reason(exc)) from exc
                    progress.notice(Notice("hub-resuming", filename=remote.filename,
                                           bytes=have, reason=_reason(exc)))
                    self.time.sleep(min(0.25 * 2 ** (failures - 1), 4.0))
            # No fsync: a killed process loses nothing the page cache holds, and the checksum
            # plus the atomic rename already guarantee no half-written file is ever published
            # (huggingface_hub does not fsync either; fsync of a large file costs seconds).
            fh.flush()
        return hasher.hexdigest()

    def _get_range(self, remote: RemoteFile, fh: Any, hasher: _Hasher, start: int,
                   progress: Progress, cancel: CancelToken) -> int:
        headers = {"user-agent": _USER_AGENT, "accept-encoding": "identity"}
        if start:
            headers["range"] = f"bytes={start}-"
        if remote.same_origin:
            headers.update(self._auth()[0])
        with _open(remote.url, headers, self.timeout) as response:
            if response.status == 416:
                raise _Restart()
            if response.status in (403, 410) and not remote.same_origin:
                raise _Expired(response.status)
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
                for n in pipe.pump(response, cancel):
                    done += n
                    now = self.time.monotonic()
                    if now - last >= self.progress_interval:
                        progress.advance(done)
                        last = now
            progress.advance(done)
            if cancel.cancelled and done < remote.size:
                # the bytes read so far are in the partial file (the pipeline wrote them)
                raise HubCancelledError(repo=remote.repo.id, filename=remote.filename)
            if done < remote.size:
                raise ConnectionResetError(f"body ended after {done - start:,} bytes")
            return done

    # -- internals: publish -----------------------------------------------------------------

    @staticmethod
    def _publish(paths: _Paths) -> None:
        """snapshots/<commit>/<file> -> ../../blobs/<etag>, atomically (the ref was written
        before the body)."""
        link = paths.link
        link.parent.mkdir(parents=True, exist_ok=True)
        target = os.path.relpath(paths.blob, link.parent)
        if not (link.is_symlink() and os.readlink(link) == target):
            tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
            tmp.unlink(missing_ok=True)
            os.symlink(target, tmp)
            os.replace(tmp, link)


class _Restart(Exception):
    """The server cannot continue where we are: start the file again from byte 0."""


class _Expired(Exception):
    """The (signed, other-origin) download URL answered 403/410: it has expired."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _Hasher:
    """SHA-256 for LFS etags; git's blob SHA-1 for small files' etags. There is no third
    case: an etag that is neither never gets this far (``file_metadata`` refuses it)."""

    def __init__(self, etag: str, size: int) -> None:
        if _SHA256.fullmatch(etag):
            self._h: Any = hashlib.sha256()
        elif _SHA1.fullmatch(etag):
            self._h = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
        else:
            raise ValueError("etag is not a digest")  # unreachable: file_metadata checks

    def update(self, data: Any) -> None:
        self._h.update(data)

    def hexdigest(self) -> str:
        return str(self._h.hexdigest())


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
                    try:
                        self._fh.write(view)
                    except OSError as exc:  # the disk, not the network: no retry
                        raise _WriteFailed(exc) from exc
                    self._hasher.update(view)
            except BaseException as exc:  # reported by __exit__
                self._error = exc
            finally:
                self._free.put(buf)

    def pump(self, response: HTTPResponse, cancel: CancelToken) -> Iterator[int]:
        """Read the body into the buffers; yields byte counts as they are handed over.
        Stops early (after handing over what it read) once ``cancel`` is set."""
        while True:
            if self._error is not None:
                return
            buf = self._free.get()
            view = memoryview(buf)
            filled = 0
            while filled < _BUFFER and not cancel.cancelled:
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
    relayed = False
    for _ in range(redirects + 1):
        parts = urllib.parse.urlsplit(url)
        conn = _connection(parts, timeout)
        try:
            target, sent = _prepare(url, conn, headers, relayed)
            conn.request("GET", target, headers=sent)
            response = conn.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("location") or ""
                response.close()
                url, headers, relayed = _redirect(url, location, headers, relayed)
                continue
            yield response
            return
        finally:
            conn.close()
    raise ConnectionError("too many redirects")


def _prepare(url: str, conn: HTTPConnection, headers: dict[str, str],
             relayed: bool) -> tuple[str, dict[str, str]]:
    """The request target and headers of a GET of ``url`` on ``conn``: the Host header, and
    the URL's credentials as basic auth unless ``relayed`` (redirected from their origin)."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    if getattr(conn, "_bodhi_absolute", False):
        target = url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.username is not None and "authorization" not in headers and not relayed:
        # What httpx does with credentials in the URL (a classroom hub behind basic
        # auth), kept to the origin they were given for. Never in the Host header.
        pair = f"{urllib.parse.unquote(parts.username)}:" \
               f"{urllib.parse.unquote(parts.password or '')}"
        headers = {**headers, "authorization":
                   "Basic " + base64.b64encode(pair.encode()).decode()}
    return target or "/", {**headers, "host": host}


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
    page = f"{redact_url(endpoint)}/{repo.id}"
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
        retry_after = headers.get("retry-after", "").strip()
        return RateLimitedError(retry_after=retry_after if _SIZE.fullmatch(retry_after)
                                else "60")
    if status in (502, 503, 504):
        return TransportError(endpoint=redact_url(endpoint), reason=f"HTTP {status}")
    return UnknownHubError(status=status, url=redact_url(url))


def _clean_etag(value: str) -> str:
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _redirect(url: str, location: str, headers: dict[str, str],
              relayed: bool) -> tuple[str, dict[str, str], bool]:
    """Where a redirect from ``url`` to ``location`` leads, the headers to send there, and
    whether they have left the Hub's origin: the token never does."""
    new = urllib.parse.urljoin(url, location)
    if _origin(new) != _origin(url):
        return new, {k: v for k, v in headers.items() if k != "authorization"}, True
    return new, headers, relayed


def _reason(exc: BaseException) -> str:
    """The first line of an exception's text, fit to show: URLs redacted, server text
    stripped of control characters, at most 200 characters."""
    text = str(exc).strip().splitlines()
    line = text[0] if text and text[0] else type(exc).__name__
    return strip_control(redact_url(line))[:200]


def _shown(value: str) -> str:
    """A server-sent value quoted in an error: control characters stripped, kept short."""
    return strip_control(value)[:100]


def _human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _inside(base: Path, path: Path) -> Path:
    """``path`` if it lies inside ``base`` (lexically, as huggingface_hub's
    ``_get_pointer_path`` checks), else :class:`UnsafePathError`."""
    root = Path(os.path.abspath(base))
    if root not in Path(os.path.abspath(path)).parents:
        raise UnsafePathError(path=_shown(str(path)), base=str(root))
    return path


def _has_blob(blob: Path, size: int) -> bool:
    try:
        return blob.stat().st_size == size
    except OSError:
        return False


def _json(response: Any, url: str) -> Any:
    """The JSON body of a Hub API answer, or :class:`HubBadResponseError` naming what came
    instead (a captive portal's HTML page, a proxy's error, a truncated body)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    head = response.content[:64].lstrip().lower()
    if "html" in kind or head.startswith((b"<!doctype", b"<html")):
        raise HubBadResponseError(url=url, reason=f"HTML instead of JSON "
                                  f"({_shown(kind or 'no content type')})")
    try:
        return response.json()
    except ValueError as exc:
        raise HubBadResponseError(url=url, reason=f"malformed JSON: {_reason(exc)}") from exc

