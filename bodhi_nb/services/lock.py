"""LockService: ``bodhi.lock``, the models and aliases a notebook used, pinned by commit.

``lock [NAME ...] [--out PATH]`` writes it (without names: everything this process pulled,
aliased or chatted with, from :class:`~bodhi_nb.services.usage.UsageService`);
``pull --locked [PATH]`` restores exactly those files at those commits; while the lock file
exists, chat resolves a locked alias name to the lock's alias
(:meth:`LockService.locked_alias`, asked first by ``DataService.find_alias``). The file is
``BODHI_LOCK_FILE`` (default ``bodhi.lock``, relative to the working folder: a notebook's own
folder in its kernel).

Format: TOML, read with ``tomllib`` and written with ``tomli-w``, keys in this order, models
sorted by (repo, file, commit) and aliases by name, so that two locks of the same things are
byte-identical::

    # bodhi.lock: written by `bodhi lock`; `bodhi pull --locked` restores what it pins.
    version = 1                     # this format; a reader refuses any other
    bodhi_nb = "0.1.0"
    llama_cpp = "0.3.36"            # llama-cpp-python's version, else `llama-server
                                    # --version`'s; absent when neither is installed

    [[models]]                      # every file: pulled, aliased or chatted with
    repo = "acme/tiny-GGUF"
    commit = "0123...abcd"          # 40 hex digits: the commit, never a branch name
    file = "tiny-Q4_K_M.gguf"       # path inside the repository
    sha256 = "89ab...cdef"          # 64 hex digits: the file's content
    size = 3145728                  # bytes

    [[aliases]]                     # every user alias used (its model is in [[models]])
    name = "tiny"
    repo = "acme/tiny-GGUF"
    file = "tiny-Q4_K_M.gguf"
    commit = "0123...abcd"
    context_params = ["--ctx-size 1024"]   # llama-server options, as in the alias YAML
    format = "text"                 # only when the alias sets one

    [aliases.request_params]        # as in the alias YAML (only those set)
    seed = 7
    temperature = 0

Nothing secret is written: aliases hold no keys, API aliases (whose models live at a provider)
cannot be locked, and no endpoint or token is recorded. Unknown keys are ignored. Reading
validates every value before it is used (it becomes a path and a request): a bad one is
``lock_error-malformed`` naming the key (``models[0].sha256``).

Restoring checks every entry first and downloads after: a cached file whose SHA-256 and size
match is kept (no request at all); for the others the Hub's metadata at the locked commit must
give the lock's size and, for an LFS file, its SHA-256 (``lock_error-hash_mismatch``); a
commit the Hub no longer has is ``lock_error-commit_not_found``. Either stops the restore
before anything is downloaded. Each downloaded file is hashed again (a small, non-LFS file's
SHA-256 can only be checked then; a mismatch removes it). Aliases missing here are created
from the lock; an alias that exists but differs is left alone and reported (the lock still
wins for chat in the lock's folder).

Writes are atomic (temp file, fsync, ``os.replace``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bodhi_nb.errors import (
    BodhiError,
    LocalFileNotFoundError,
    LockApiAliasError,
    LockCommitNotFoundError,
    LockHashMismatchError,
    LockMalformedError,
    LockModelMissingError,
    LockNotDownloadedError,
    LockNotFoundError,
    LockNothingUsedError,
    LockUnknownNameError,
    LockUnsupportedVersionError,
    RevisionNotFoundError,
)
from bodhi_nb.objs import AliasSource, ApiAlias, OAIRequestParams, Repo, UserAlias
from bodhi_nb.services.policy import Action, Gate, allow_all

if TYPE_CHECKING:
    from bodhi_nb.services.data import DataService
    from bodhi_nb.services.downloads import DownloadService
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.hub import HubService, Progress
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.usage import UsageService

__all__ = ["FORMAT_VERSION", "LockFile", "LockResult", "LockService", "LockedAlias",
           "LockedModel", "RestoreReport", "RestoredAlias", "RestoredModel", "dumps",
           "loads"]

#: The format this module reads and writes.
FORMAT_VERSION = 1
#: A lock lists a few models; anything near this is not a lock file.
MAX_LOCK_BYTES = 4 << 20
_HEADER = ("# bodhi.lock: written by `bodhi lock`; `bodhi pull --locked` restores what it "
           "pins.\n# Format: see the bodhi_nb README, \"Reproducible notebooks: lock\".\n")
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, order=True)
class LockedModel:
    """One file, pinned: the repository, the commit, the path, its SHA-256 and size."""

    repo: str
    file: str
    commit: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return f"{self.repo}/{self.file}"


@dataclass(frozen=True)
class LockedAlias:
    """One user alias, pinned: its file at a commit, and its request and context params."""

    name: str
    repo: str
    file: str
    commit: str
    request_params: OAIRequestParams = field(default_factory=OAIRequestParams)
    context_params: tuple[str, ...] = ()
    format: str | None = None

    def to_user_alias(self) -> UserAlias:
        return UserAlias(alias=self.name, repo=self.repo, filename=self.file,
                         snapshot=self.commit, request_params=self.request_params,
                         context_params=self.context_params, source=AliasSource.USER,
                         format=self.format)

    @classmethod
    def of(cls, alias: UserAlias, commit: str) -> LockedAlias:
        return cls(alias.alias, alias.repo, alias.filename, commit, alias.request_params,
                   tuple(alias.context_params), alias.format)


@dataclass(frozen=True)
class LockFile:
    """A lock file's content (see the module docstring for its TOML form)."""

    models: tuple[LockedModel, ...] = ()
    aliases: tuple[LockedAlias, ...] = ()
    bodhi_nb: str = ""
    llama_cpp: str | None = None
    version: int = FORMAT_VERSION

    def alias(self, name: str) -> LockedAlias | None:
        return next((a for a in self.aliases if a.name == name), None)


def dumps(lock: LockFile) -> str:
    """The TOML text of ``lock``: stable key order, models and aliases sorted."""
    import tomli_w

    data: dict[str, Any] = {"version": lock.version, "bodhi_nb": lock.bodhi_nb}
    if lock.llama_cpp:
        data["llama_cpp"] = lock.llama_cpp
    data["models"] = [
        {"repo": m.repo, "commit": m.commit, "file": m.file, "sha256": m.sha256,
         "size": m.size}
        for m in sorted(set(lock.models), key=lambda m: (m.repo, m.file, m.commit))]
    aliases = []
    for a in sorted(lock.aliases, key=lambda a: a.name):
        entry: dict[str, Any] = {"name": a.name, "repo": a.repo, "file": a.file,
                                 "commit": a.commit, "context_params": list(a.context_params)}
        if a.format is not None:
            entry["format"] = a.format
        params = a.request_params.to_dict()
        entry["request_params"] = {k: params[k] for k in sorted(params)}
        aliases.append(entry)
    data["aliases"] = aliases
    return _HEADER + tomli_w.dumps(data)


def loads(text: str, path: str = "bodhi.lock") -> LockFile:
    """Parse and validate a lock file's text; ``LockMalformedError`` names the bad key."""
    import tomllib

    def bad(key: str, reason: str) -> LockMalformedError:
        return LockMalformedError(path=path, key=key, reason=reason)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise bad("(file)", f"not TOML: {exc}") from None
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise bad("version", "expected a whole number (the format version, 1)")
    if version != FORMAT_VERSION:
        raise LockUnsupportedVersionError(path=path, version=version,
                                          supported=FORMAT_VERSION)
    bodhi_version = data.get("bodhi_nb", "")
    if not isinstance(bodhi_version, str):
        raise bad("bodhi_nb", "expected text")
    llama = data.get("llama_cpp")
    if llama is not None and not isinstance(llama, str):
        raise bad("llama_cpp", "expected text")
    models = tuple(_model(entry, f"models[{i}]", bad)
                   for i, entry in enumerate(_tables(data, "models", bad)))
    by_key: dict[tuple[str, str, str], LockedModel] = {}
    for i, model in enumerate(models):
        seen = by_key.setdefault((model.repo, model.file, model.commit), model)
        if seen != model:
            raise bad(f"models[{i}]", "the same file at the same commit is listed twice "
                                      "with different hashes or sizes")
    aliases = tuple(_alias(entry, f"aliases[{i}]", bad)
                    for i, entry in enumerate(_tables(data, "aliases", bad)))
    names: set[str] = set()
    for i, alias in enumerate(aliases):
        if alias.name in names:
            raise bad(f"aliases[{i}].name", f"alias '{alias.name}' is listed twice")
        names.add(alias.name)
        if (alias.repo, alias.file, alias.commit) not in by_key:
            raise bad(f"aliases[{i}]", "its file at its commit is not in [[models]] (no "
                                       "SHA-256 to check it against)")
    return LockFile(models=models, aliases=aliases, bodhi_nb=bodhi_version, llama_cpp=llama,
                    version=version)


BadKey = Callable[[str, str], LockMalformedError]


def _tables(data: Mapping[str, Any], key: str, bad: BadKey) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise bad(key, f"expected an array of tables ([[{key}]])")
    return value


def _text(entry: Mapping[str, Any], key: str, where: str, bad: BadKey) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise bad(f"{where}.{key}", "expected text" if value is not None else "missing")
    return value


def _repo_id(entry: Mapping[str, Any], where: str, bad: BadKey) -> str:
    value = _text(entry, "repo", where, bad)
    try:
        return Repo.parse(value).id
    except BodhiError:
        raise bad(f"{where}.repo", "expected owner/name") from None


def _file(entry: Mapping[str, Any], where: str, bad: BadKey) -> str:
    from bodhi_nb.services.hf_cache import check_filename

    value = _text(entry, "file", where, bad)
    try:
        return check_filename(value)
    except BodhiError as exc:
        raise bad(f"{where}.file", "not a path inside the repository: "
                  + exc.params.get("reason", "")) from None


def _commit(entry: Mapping[str, Any], where: str, bad: BadKey) -> str:
    value = _text(entry, "commit", where, bad)
    if not _COMMIT.fullmatch(value):
        raise bad(f"{where}.commit", "expected a commit: 40 lowercase hex digits")
    return value


def _model(entry: Mapping[str, Any], where: str, bad: BadKey) -> LockedModel:
    repo, file, commit = _repo_id(entry, where, bad), _file(entry, where, bad), _commit(
        entry, where, bad)
    sha = _text(entry, "sha256", where, bad)
    if not _SHA256.fullmatch(sha):
        raise bad(f"{where}.sha256", "expected 64 lowercase hex digits")
    size = entry.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise bad(f"{where}.size", "expected a whole number of bytes")
    return LockedModel(repo, file, commit, sha, size)


def _alias(entry: Mapping[str, Any], where: str, bad: BadKey) -> LockedAlias:
    from bodhi_nb.objs import ANSWER_FORMATS
    from bodhi_nb.services.chat import check_request_params
    from bodhi_nb.services.data import check_alias_name, check_context_params

    name = _text(entry, "name", where, bad)
    try:
        check_alias_name(name)
    except BodhiError as exc:
        raise bad(f"{where}.name", exc.params.get("reason", exc.code)) from None
    repo, file, commit = _repo_id(entry, where, bad), _file(entry, where, bad), _commit(
        entry, where, bad)
    raw_params = entry.get("request_params", {})
    if not isinstance(raw_params, dict):
        raise bad(f"{where}.request_params", "expected a table")
    try:
        checked = check_request_params(raw_params)
        unknown = sorted(set(checked) - {f.name for f in dataclasses.fields(OAIRequestParams)})
        if unknown:
            raise bad(f"{where}.request_params.{unknown[0]}", "not a request parameter an "
                      "alias keeps")
        params = OAIRequestParams.from_dict(checked)
    except LockMalformedError:
        raise
    except BodhiError as exc:
        key = exc.params.get("name", "")
        raise bad(f"{where}.request_params" + (f".{key}" if key else ""),
                  exc.params.get("reason", exc.code)) from None
    except (TypeError, ValueError):
        raise bad(f"{where}.request_params", "a value has the wrong type") from None
    context = entry.get("context_params", [])
    if not isinstance(context, list):
        raise bad(f"{where}.context_params", "expected an array of llama-server options")
    try:
        context_params = check_context_params(context)
    except BodhiError as exc:
        raise bad(f"{where}.context_params", exc.params.get("reason", exc.code)) from None
    fmt = entry.get("format")
    if fmt is not None and fmt not in ANSWER_FORMATS:
        raise bad(f"{where}.format", "expected one of " + ", ".join(ANSWER_FORMATS))
    return LockedAlias(name, repo, file, commit, params, context_params, fmt)


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockResult:
    """What ``lock`` wrote, and the used names it left out (``(name, error)``)."""

    path: Path
    lock: LockFile
    skipped: tuple[tuple[str, BodhiError], ...] = ()


@dataclass(frozen=True)
class RestoredModel:
    model: LockedModel
    #: ``in_cache`` (kept, nothing fetched) or ``downloaded``
    status: str


@dataclass(frozen=True)
class RestoredAlias:
    alias: LockedAlias
    #: ``created``, ``same`` or ``differs`` (the local alias file is left alone)
    status: str
    #: the fields that differ (``differs`` only)
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class RestoreReport:
    path: Path
    models: tuple[RestoredModel, ...]
    aliases: tuple[RestoredAlias, ...]


# -- the service ------------------------------------------------------------------------------


class LockService:
    """Writes, reads and restores lock files; pins chat's aliases while one exists."""

    def __init__(self, settings: SettingService, hf_cache: HfCache, usage: UsageService, *,
                 data: Callable[[], DataService], hub: Callable[[], HubService],
                 downloads: Callable[[], DownloadService], gate: Gate = allow_all) -> None:
        self._gate = gate
        self.settings = settings
        self.hf_cache = hf_cache
        self.usage = usage
        self._data = data
        self._hub = hub
        self._downloads = downloads
        self._lock = threading.Lock()
        #: path -> (stat key, the parsed lock): chat stats the file, parses it on change
        self._read: dict[Path, tuple[tuple[int, int, int], LockFile]] = {}
        #: (device, inode, size, mtime) -> SHA-256 of a cached file
        self._digests: dict[tuple[int, int, int, int], str] = {}
        self._llama: list[str | None] = []

    # -- where ------------------------------------------------------------------------------

    def path(self, given: str | os.PathLike[str] | None = None) -> Path:
        """The lock file: ``given``, else BODHI_LOCK_FILE; relative to the working folder;
        a folder means the ``bodhi.lock`` in it."""
        raw = given if given is not None else str(self.settings.get("BODHI_LOCK_FILE"))
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        return path / "bodhi.lock" if path.is_dir() else path

    # -- reading ----------------------------------------------------------------------------

    def read(self, path: str | os.PathLike[str] | None = None) -> LockFile:
        """The lock file at ``path`` (default: :meth:`path`), validated; cached while it is
        unchanged. ``LockNotFoundError`` when there is none."""
        where = self.path(path)
        found = self._load(where)
        if found is None:
            raise LockNotFoundError(path=str(where))
        return found

    def current(self) -> LockFile | None:
        """The default lock file, or None when there is none (a bad one raises)."""
        return self._load(self.path())

    def locked_alias(self, name: str) -> UserAlias | None:
        """The alias the default lock file pins under ``name``, or None.
        ``LockModelMissingError`` when its file at its commit is not in the cache (never
        the local alias's file instead: ``pull --locked`` brings it)."""
        lock = self.current()
        found = lock.alias(name) if lock is not None else None
        if found is None:
            return None
        if not self.hf_cache.local_file_exists(found.repo, found.file, found.commit):
            raise LockModelMissingError(path=str(self.path()), alias=name,
                                        model=f"{found.repo}/{found.file}",
                                        commit=found.commit)
        return found.to_user_alias()

    def _load(self, path: Path) -> LockFile | None:
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            hit = self._read.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        if st.st_size > MAX_LOCK_BYTES:
            raise LockMalformedError(path=str(path), key="(file)", reason=(
                f"larger than {MAX_LOCK_BYTES >> 20} MiB; a lock file lists a few models"))
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise LockMalformedError(path=str(path), key="(file)",
                                     reason=exc.strerror or str(exc)) from exc
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise LockMalformedError(path=str(path), key="(file)",
                                     reason="not UTF-8 text") from None
        lock = loads(text, str(path))
        with self._lock:
            self._read[path] = (key, lock)
        return lock

    # -- writing ----------------------------------------------------------------------------

    def lock(self, names: Sequence[str] = (),
             out: str | os.PathLike[str] | None = None) -> LockResult:
        """Pin ``names`` (aliases, model aliases, ``owner/repo/FILE``) or, without names,
        everything this process used; write the lock file atomically."""
        self._gate(Action.LOCK)
        lock, skipped = self.build(names)
        path = self.path(out)
        self.write(lock, path)
        return LockResult(path, lock, skipped)

    def write(self, lock: LockFile, path: Path) -> None:
        from bodhi_nb._fs import atomic_write_text

        path.parent.mkdir(parents=True, exist_ok=True)
        # Shared (0666 less the umask): a lock file is meant to be committed and read by
        # colleagues, like the notebook beside it.
        atomic_write_text(path, dumps(lock), shared=True)

    def build(self, names: Sequence[str] = ()
              ) -> tuple[LockFile, tuple[tuple[str, BodhiError], ...]]:
        """The lock for ``names`` (every name must resolve), or for what this process used
        (what no longer resolves, an alias removed since, is skipped and returned)."""
        from bodhi_nb._version import __version__

        models: dict[tuple[str, str, str], LockedModel] = {}
        aliases: dict[str, LockedAlias] = {}
        skipped: list[tuple[str, BodhiError]] = []
        if names:
            for name in dict.fromkeys(names):
                self._add_name(name, models, aliases)
        else:
            if self.usage.empty():
                raise LockNothingUsedError()
            for used in self.usage.models():
                label = f"{used.repo}/{used.filename}"
                try:
                    self._add_file(label, used.repo, used.filename, used.revision, models)
                except BodhiError as exc:
                    skipped.append((label, exc))
            for name in self.usage.aliases():
                try:
                    self._add_name(name, models, aliases)
                except BodhiError as exc:
                    skipped.append((name, exc))
            if not models and skipped:
                raise skipped[0][1]
        lock = LockFile(models=tuple(sorted(models.values())),
                        aliases=tuple(sorted(aliases.values(), key=lambda a: a.name)),
                        bodhi_nb=__version__, llama_cpp=self.llama_cpp_version())
        return lock, tuple(skipped)

    def _add_name(self, name: str, models: dict[tuple[str, str, str], LockedModel],
                  aliases: dict[str, LockedAlias]) -> None:
        from bodhi_nb.errors import InvalidReferenceError, InvalidRepoError
        from bodhi_nb.objs import ModelRef

        data = self._data()
        found = data.find_alias(name, locked=False)
        if found is None:
            current = self.current()
            pinned = current.alias(name) if current is not None else None
            found = pinned.to_user_alias() if pinned is not None else None
        if isinstance(found, ApiAlias):
            raise LockApiAliasError(name=name)
        if isinstance(found, UserAlias):
            model = self._add_file(name, found.repo, found.filename, found.snapshot, models)
            if found.source is AliasSource.USER:
                aliases[found.alias] = LockedAlias.of(found, model.commit)
            return
        try:
            ref = ModelRef.parse(name)
        except (InvalidReferenceError, InvalidRepoError):
            raise LockUnknownNameError(name=name) from None
        if ref.filename is None:
            raise LockUnknownNameError(name=name)
        self._add_file(name, ref.repo.id, ref.filename, "main", models)

    def _add_file(self, name: str, repo: str, filename: str, revision: str,
                  models: dict[tuple[str, str, str], LockedModel]) -> LockedModel:
        """Pin ``filename`` (and the other parts of a split model) at the commit
        ``revision`` resolves to in the cache; returns the pinned ``filename``."""
        from bodhi_nb.gguf import is_shard, shard_files

        def missing() -> LockNotDownloadedError:
            return LockNotDownloadedError(name=name, repo=repo, filename=filename,
                                          revision=revision)

        try:
            commit = self.hf_cache.resolve_revision(repo, revision)
        except BodhiError:
            raise missing() from None
        if commit is None or not _COMMIT.fullmatch(commit):
            raise missing()
        parts = [filename]
        if is_shard(filename):
            local = [f.filename for f in self.hf_cache.local_files(repo=repo)
                     if f.snapshot == commit]
            parts = shard_files([*local, filename], filename)
        first: LockedModel | None = None
        for part in parts:
            try:
                file = self.hf_cache.find_local_file(repo, part, commit)
            except LocalFileNotFoundError:
                raise missing() from None
            pinned = LockedModel(repo, part, commit, self._sha256(file.path), file.size or 0)
            models[repo, part, commit] = pinned
            first = first or pinned
        assert first is not None
        return first

    def llama_cpp_version(self) -> str | None:
        """llama-cpp-python's version when installed, else what the configured
        ``llama-server --version`` says, else None (read once per process)."""
        with self._lock:
            if self._llama:
                return self._llama[0]
        version = _llama_cpp_version(str(self.settings.get("BODHI_LLAMA_SERVER") or ""))
        with self._lock:
            self._llama[:] = [version]
        return version

    # -- restoring --------------------------------------------------------------------------

    def restore(self, path: str | os.PathLike[str] | None = None,
                progress: Callable[[], Progress] | None = None) -> RestoreReport:
        """Download exactly the locked files at their commits (every entry checked before
        anything is downloaded), verify them, and create the locked aliases missing here."""
        self._gate(Action.PULL)
        where = self.path(path)
        lock = self.read(where)
        hub = self._hub()
        # 1. check every entry; nothing is fetched until all of them pass
        plan: list[tuple[LockedModel, bool]] = []  # (model, a bad copy is cached)
        kept: set[LockedModel] = set()
        for model in lock.models:
            stale = False
            try:
                local = self.hf_cache.find_local_file(model.repo, model.file, model.commit)
                if local.size == model.size and self._sha256(local.path) == model.sha256:
                    kept.add(model)
                    continue
                stale = True
            except LocalFileNotFoundError:
                pass
            self._check_remote(hub, model)
            plan.append((model, stale))
        # 2. download what is missing, then check what arrived
        downloads = self._downloads()
        fetched: set[LockedModel] = set()
        for model, stale in plan:
            repo = Repo.parse(model.repo)
            if stale:
                hub.forget_local_file(repo, model.file, model.commit)
            view = progress() if progress is not None else None
            try:
                downloads.pull(repo, model.file, model.commit, progress=view)
            finally:
                if view is not None:
                    view.finish()
            local = self.hf_cache.find_local_file(repo, model.file, model.commit)
            digest = self._sha256(local.path)
            if local.size != model.size or digest != model.sha256:
                hub.forget_local_file(repo, model.file, model.commit)
                what, expected, found = (("size", str(model.size), str(local.size))
                                         if local.size != model.size
                                         else ("sha256", model.sha256, digest))
                raise LockHashMismatchError(model=model.name, commit=model.commit,
                                            what=what, where="file", expected=expected,
                                            found=found)
            fetched.add(model)
        models = tuple(RestoredModel(m, "in_cache" if m in kept else "downloaded")
                       for m in lock.models if m in kept or m in fetched)
        return RestoreReport(where, models, tuple(self._restore_alias(a)
                                                  for a in lock.aliases))

    def _check_remote(self, hub: HubService, model: LockedModel) -> None:
        try:
            remote = hub.file_metadata(Repo.parse(model.repo), model.file, model.commit)
        except RevisionNotFoundError:
            raise LockCommitNotFoundError(model=model.name, commit=model.commit) from None
        if remote.commit != model.commit:
            raise LockCommitNotFoundError(model=model.name, commit=model.commit)
        if remote.size != model.size:
            raise LockHashMismatchError(model=model.name, commit=model.commit, what="size",
                                        where="hub", expected=str(model.size),
                                        found=str(remote.size))
        if _SHA256.fullmatch(remote.etag) and remote.etag != model.sha256:
            raise LockHashMismatchError(model=model.name, commit=model.commit,
                                        what="sha256", where="hub", expected=model.sha256,
                                        found=remote.etag)

    def _restore_alias(self, locked: LockedAlias) -> RestoredAlias:
        data = self._data()
        here = data.find_alias(locked.name, locked=False)
        if not isinstance(here, UserAlias) or here.source is not AliasSource.USER:
            data.create_alias(locked.to_user_alias())
            return RestoredAlias(locked, "created")
        commit = self.hf_cache.resolve_revision(here.repo, here.snapshot) or here.snapshot
        mine = LockedAlias.of(here, commit)
        differences = tuple(f.name for f in dataclasses.fields(LockedAlias)
                            if getattr(mine, f.name) != getattr(locked, f.name))
        return RestoredAlias(locked, "differs" if differences else "same", differences)

    # -- hashing ----------------------------------------------------------------------------

    def _sha256(self, path: Path) -> str:
        """The SHA-256 of a cached file, remembered while its blob is unchanged."""
        st = path.stat()
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            known = self._digests.get(key)
        if known is not None:
            return known
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        value = digest.hexdigest()
        with self._lock:
            self._digests[key] = value
        return value


def _llama_cpp_version(server: str) -> str | None:
    import importlib.metadata

    try:
        return importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        pass
    server = server.strip()
    if not server or server == "llama_cpp.server":
        return None
    import shutil
    import subprocess

    exe = shutil.which(server)
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=20,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    for line in (out.stdout + "\n" + out.stderr).splitlines():
        match = re.match(r"\s*version:\s*(\S.*)$", line)
        if match:
            return match.group(1).strip()[:80]
    return None
