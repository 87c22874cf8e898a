"""The local Hugging Face cache, read straight from the file system (no network, no hf client).

The layout is the one ``huggingface_hub`` writes under ``$HF_HOME/hub``::

    models--{owner}--{name}/
        blobs/{etag}                       file contents (``{etag}.{uuid}.incomplete`` while
                                           a download runs)
        refs/{revision}                    the commit hash, no newline (``refs/pr/1`` nests)
        snapshots/{commit}/{path}          relative symlink to ../../blobs/{etag}
        .no_exist/{commit}/{path}          "the Hub has no such file" markers

Filenames: BodhiApp rejects any ``/``; bodhi_nb allows it as a *subfolder separator*, because
large GGUF repos keep split files in folders (``Q8_0/model-Q8_0-00001-of-00002.gguf``) and
``hf_hub_download`` stores them as nested snapshot paths. Every component is checked instead:
no ``..`` anywhere (as BodhiApp), no ``\\``, no empty or ``.`` component, no leading ``/``, no
control character, so a filename can never name anything outside its snapshot folder.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bodhi_nb.errors import (
    InvalidLocalFilenameError,
    InvalidLocalRevisionError,
    InvalidRepoError,
    LocalFileNotFoundError,
)
from bodhi_nb.objs import HubFile, Repo

__all__ = ["HfCache", "LocalRepo", "check_filename", "check_revision", "first_hop"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_XET_HASH = re.compile(r"[0-9a-f]{64}")
_REPO_FOLDER = re.compile(r"(?:models|datasets|spaces)--.+")
SHARED_BLOBS_MARKER = ".huggingface-shared-blobs"
#: Suffixes of files that are still being written (by huggingface_hub or by a download engine).
PARTIAL_SUFFIXES = (".incomplete", ".part", ".partial", ".tmp", ".lock")


def _path_problem(value: str, what: str) -> str | None:
    if not value:
        return f"empty {what}"
    if ".." in value:
        return "'..' is not allowed"
    if "\\" in value:
        return "'\\' is not allowed"
    if _CONTROL.search(value):
        return "control characters are not allowed"
    if value.startswith("/"):
        return "must be relative to the repository"
    if any(part in ("", ".") for part in value.split("/")):
        return "empty or '.' path component"
    return None


def check_filename(filename: str) -> str:
    """Return ``filename`` if it is a safe path inside a repository, else raise."""
    problem = _path_problem(filename, "file name")
    if problem:
        raise InvalidLocalFilenameError(filename=filename, reason=problem)
    return filename


def check_revision(revision: str) -> str:
    """Return ``revision`` (branch, tag, ``refs/pr/N`` or commit) if safe, else raise."""
    problem = _path_problem(revision, "revision")
    if problem:
        raise InvalidLocalRevisionError(revision=revision, reason=problem)
    return revision


def _repo(repo: Repo | str) -> Repo:
    return repo if isinstance(repo, Repo) else Repo.parse(repo)


@dataclass(frozen=True)
class LocalRepo:
    """A model repository present in the cache, with its refs (``{"main": commit}``)."""

    repo: Repo
    path: Path
    refs: dict[str, str]


class HfCache:
    """One Hugging Face cache folder (``settings.hf_cache``), read straight from disk; the
    only thing it writes is huggingface_hub's shared blob store, when it collects an entry."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"HfCache({str(self.root)!r})"

    # -- paths ------------------------------------------------------------------------------

    def repo_dir(self, repo: Repo | str) -> Path:
        return self.root / _repo(repo).cache_folder

    @staticmethod
    def repo_from_folder(folder: str) -> Repo | None:
        """``models--o--n`` -> ``Repo("o", "n")``; None for datasets, spaces, junk."""
        prefix, sep, rest = folder.partition("--")
        if prefix != "models" or not sep:
            return None
        owner, sep, name = rest.partition("--")
        if not sep:
            return None
        try:
            return Repo(owner, name)
        except InvalidRepoError:
            return None

    # -- lookups ----------------------------------------------------------------------------

    def resolve_revision(self, repo: Repo | str, revision: str = "main") -> str | None:
        """The commit a revision names locally, or None if the cache does not know it.

        ``refs/{revision}`` wins; with no such ref, a snapshot folder of that name counts
        (a commit hash, as BodhiApp does).
        """
        check_revision(revision)
        base = self.repo_dir(repo)
        try:
            commit = (base / "refs" / revision).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            commit = ""
        if _COMMIT.fullmatch(commit) and (base / "snapshots" / commit).is_dir():
            return commit
        if "/" not in revision and (base / "snapshots" / revision).is_dir():
            return revision
        return None

    def find_local_file(self, repo: Repo | str, filename: str,
                        revision: str = "main") -> HubFile:
        """The cached file as a :class:`HubFile`; ``LocalFileNotFoundError`` if absent."""
        repo = _repo(repo)
        check_filename(filename)
        commit = self.resolve_revision(repo, revision)
        if commit is not None:
            path = self.repo_dir(repo) / "snapshots" / commit / filename
            size = _complete_size(path)
            if size is not None:
                return HubFile(hf_cache=str(self.root), repo=repo.id, filename=filename,
                               snapshot=commit, size=size)
        raise LocalFileNotFoundError(repo=repo.id, filename=filename, revision=revision)

    def local_file_exists(self, repo: Repo | str, filename: str, revision: str = "main") -> bool:
        try:
            self.find_local_file(repo, filename, revision)
        except LocalFileNotFoundError:
            return False
        return True

    def local_repos(self) -> list[LocalRepo]:
        """Every ``models--o--n`` folder, sorted by repo id."""
        try:
            entries = list(os.scandir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for entry in entries:
            repo = self.repo_from_folder(entry.name)
            if repo is None or not entry.is_dir():
                continue
            found.append(LocalRepo(repo, Path(entry.path),
                                   _read_refs(os.path.join(entry.path, "refs"))))
        return sorted(found, key=lambda r: r.repo.id)

    def list_local_models(self) -> list[HubFile]:
        """Every complete ``*.gguf`` in every snapshot, sorted by (repo, filename, snapshot).

        Symlinks are followed; dangling links (a blob deleted or never finished) and
        partial-download names are skipped.
        """
        return self.local_files(lambda name: name.lower().endswith(".gguf"))

    def local_files(self, wanted: Callable[[str], bool] = lambda name: True,
                    repo: Repo | str | None = None) -> list[HubFile]:
        """Every complete file whose base name ``wanted`` accepts, in every snapshot of every
        repository (or of ``repo``), sorted by (repo, filename, snapshot)."""
        only = None if repo is None else _repo(repo)
        out: list[HubFile] = []
        for local in self.local_repos():
            if only is not None and local.repo != only:
                continue
            snapshots = local.path / "snapshots"
            try:
                commits = sorted(e.name for e in os.scandir(snapshots) if e.is_dir())
            except (FileNotFoundError, NotADirectoryError):
                continue
            for commit in commits:
                # Plain strings, not Path objects: a 1,000-model cache is listed for every
                # panel refresh, and building Paths was most of the time.
                top = os.path.join(snapshots, commit)
                for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
                    dirnames.sort()
                    for name in sorted(filenames):
                        if not wanted(name):
                            continue
                        path = os.path.join(dirpath, name)
                        size = _complete_size(path)
                        if size is None:
                            continue
                        rel = os.path.relpath(path, top).replace(os.sep, "/")
                        out.append(HubFile(hf_cache=str(self.root), repo=local.repo.id,
                                           filename=rel, snapshot=commit, size=size))
        return sorted(out, key=lambda f: (f.repo, f.filename, f.snapshot))

    # -- huggingface_hub's shared blob store ------------------------------------------------

    @property
    def shared_blobs(self) -> Path:
        return self.root / "blobs"

    def shared_blob_target(self, blob: Path) -> Path | None:
        """The store entry a repository's ``blobs/{etag}`` links to, if it is a managed link
        into a marked store (as huggingface_hub checks before it collects anything)."""
        store = self.shared_blobs
        try:
            if not stat.S_ISLNK(blob.lstat().st_mode):
                return None
            marker = store / SHARED_BLOBS_MARKER
            if not stat.S_ISREG(marker.lstat().st_mode) or marker.read_text() != "1\n":
                return None
        except (OSError, UnicodeError):
            return None
        target = first_hop(blob)
        if target is None:
            return None
        try:
            rel = target.relative_to(os.path.abspath(store))
        except ValueError:
            return None
        if (len(rel.parts) != 2 or not _XET_HASH.fullmatch(rel.parts[1])
                or rel.parts[0] != rel.parts[1][:2]):
            return None
        return store / rel

    def _valid_references(self, entry: Path) -> set[Path] | None:
        """Repository blob links the manifest lists that still point at ``entry``; None
        when the manifest is missing or unreadable (then nothing may be collected)."""
        manifest = entry.with_name(f"{entry.name}.refs")
        try:
            if not stat.S_ISREG(manifest.lstat().st_mode):
                return None
            lines = manifest.read_text().splitlines()
        except (OSError, UnicodeError):
            return None
        found: set[Path] = set()
        root = Path(os.path.abspath(self.root))
        for line in lines:
            rel = Path(line)
            parts = rel.parts
            if (rel.is_absolute() or ".." in parts or len(parts) != 3 or parts[1] != "blobs"
                    or not _REPO_FOLDER.fullmatch(parts[0])):
                continue
            candidate = root / rel
            target = self.shared_blob_target(candidate)
            if target is not None and Path(os.path.abspath(target)) == Path(
                    os.path.abspath(entry)):
                found.add(candidate)
        return found

    def sweep_shared_blob(self, entry: Path) -> int:
        """Delete a store entry (and its manifest) no repository links to any more, under
        huggingface_hub's lock for that entry; rewrite the manifest when links remain.
        Returns the bytes freed."""
        from filelock import FileLock

        try:
            with FileLock(str(entry.with_name(f"{entry.name}.lock")), mode=0o666):
                references = self._valid_references(entry)
                if references is None:
                    return 0
                manifest = entry.with_name(f"{entry.name}.refs")
                if references:
                    root = Path(os.path.abspath(self.root))
                    _replace_text(manifest, "".join(
                        f"{p.relative_to(root).as_posix()}\n" for p in sorted(references)))
                    return 0
                st = entry.lstat()
                if not stat.S_ISREG(st.st_mode):
                    return 0
                entry.unlink()
                manifest.unlink(missing_ok=True)
                return st.st_size
        except OSError:
            return 0  # leak rather than risk deleting content another repository uses


def first_hop(link: Path) -> Path | None:
    """Where a symlink points, one level only, as an absolute path (``None`` if ``link`` is
    not a symlink). A snapshot entry's first hop is its repository blob, even when that blob
    is itself a link into the shared store."""
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return Path(os.path.abspath(os.path.join(os.path.dirname(link), target)))


def _replace_text(path: Path, text: str) -> None:
    """Replace a store manifest atomically, writable by every user of the cache (0666 like
    huggingface_hub's, whatever the umask: any user's download appends to it)."""
    tmp = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), 0o666)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read_refs(refs: str | os.PathLike[str]) -> dict[str, str]:
    base = os.fspath(refs)
    out: dict[str, str] = {}
    for dirpath, _dirs, files in os.walk(base):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as fh:
                    commit = fh.read().strip()
            except (OSError, UnicodeDecodeError):
                continue
            out[os.path.relpath(path, base).replace(os.sep, "/")] = commit
    return out


def _complete_size(path: str | os.PathLike[str]) -> int | None:
    """Size of a finished regular file (after symlinks), or None for missing/partial ones."""
    path = os.fspath(path)
    if path.endswith(PARTIAL_SUFFIXES):
        return None
    try:
        st = os.stat(path)
        linked = stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    if linked:  # a snapshot's link into blobs/: the blob must not be a partial download
        hop = os.path.join(os.path.dirname(path), os.readlink(path))
        if hop.endswith(PARTIAL_SUFFIXES) or (
                os.path.islink(hop) and os.path.realpath(path).endswith(PARTIAL_SUFFIXES)):
            return None
    return st.st_size
