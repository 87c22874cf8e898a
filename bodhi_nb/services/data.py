"""DataService: model aliases (YAML files in ``$BODHI_HOME/aliases``) and local models.

Three kinds of alias answer to a name, looked up in this order:

* **user** aliases, one YAML file each (``alias, repo, filename, snapshot, request_params,
  context_params``, plus ``created_at``/``updated_at``), BodhiApp's classic format;
* **model** aliases ``owner/name:QUANT``, discovered from the GGUF files in the HF cache and
  never stored;
* **api** aliases, from a provider callable (the AI API service wires it in).

Writes are atomic (temp file, fsync, ``os.replace``) and serialised across kernels by a file
lock; a reader sees the old or the new file, never a part, and a killed writer leaves at most
an orphan ``.NAME.*.tmp`` file that listing ignores. A file that cannot be read is reported
in ``AliasList.problems`` and skipped; it never hides the other aliases.

``context_params`` are llama-server argument strings, one option per entry, exactly as
BodhiApp stores them (``["--ctx-size 4096", "--flash-attn"]``), so alias files stay
interchangeable with BodhiApp and the llama.cpp runtime can pass them through unchanged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bodhi_nb._fs import atomic_write_text
from bodhi_nb.errors import (
    AliasExistsError,
    AliasFileConflictError,
    AliasFileError,
    AliasNotFoundError,
    BodhiError,
    InvalidAliasNameError,
    InvalidValueError,
)
from bodhi_nb.objs import AliasSource, ApiAlias, HubFile, OAIRequestParams, UserAlias
from bodhi_nb.services.hf_cache import HfCache, check_filename, check_revision
from bodhi_nb.services.policy import Action, Gate, allow_all

if TYPE_CHECKING:
    from bodhi_nb.gguf import GgufMetadata
    from bodhi_nb.services.cache import CacheService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import TimeService
    from bodhi_nb.services.usage import UsageService

__all__ = [
    "AliasList",
    "AliasProblem",
    "AliasRecord",
    "ApiAliasProvider",
    "DataService",
    "LocalModel",
    "alias_filename",
    "check_alias_name",
    "check_context_params",
]

ApiAliasProvider = Callable[[], Sequence[ApiAlias]]
#: the alias a lock file pins under a name, or None (``LockService.locked_alias``)
LockedAliasProvider = Callable[[str], "UserAlias | None"]

#: Characters BodhiApp replaces with ``--`` in alias file names.
_REPLACED = frozenset(':<>"/\\|?*')
_SUFFIX = ".yaml"
_MAX_FILENAME_BYTES = 255
_MAX_NAME_CHARS = 255
_LOCK_TIMEOUT = 30.0
#: An alias file is a few hundred bytes; a long system prompt fits many times over.
MAX_ALIAS_FILE_BYTES = 1 << 20
#: Nesting of YAML collections in an alias file (it needs 2).
_MAX_YAML_DEPTH = 16


def _dropped(ch: str) -> bool:
    # Whitespace, control and format characters, and lone surrogates (not encodable).
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs")


def alias_filename(name: str) -> str:
    """The file name an alias is stored under: ``llama3:instruct`` -> ``llama3--instruct.yaml``.

    ``:`` and ``<>"/\\|?*`` become ``--``, whitespace and control characters are dropped,
    leading dots are dropped, and a result longer than 255 bytes is cut and suffixed with a
    hash of the full name. The result is always one plain file name (never ``.``, ``..``,
    hidden, or containing a separator); a name that leaves nothing raises
    ``InvalidAliasNameError``.
    """
    stem = "".join("--" if ch in _REPLACED else ch for ch in name if not _dropped(ch))
    stem = stem.lstrip(".")
    if not stem:
        raise InvalidAliasNameError(alias=name, reason="nothing is left for a file name")
    room = _MAX_FILENAME_BYTES - len(_SUFFIX)
    if len(stem.encode("utf-8")) > room:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        head = stem.encode("utf-8")[: room - len(digest) - 1].decode("utf-8", "ignore")
        stem = f"{head}-{digest}"
    return stem + _SUFFIX


def check_alias_name(name: str) -> str:
    """Return ``name`` if it can name a user alias, else raise ``InvalidAliasNameError``."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidAliasNameError(alias=str(name), reason="it is empty")
    if name != name.strip():
        raise InvalidAliasNameError(alias=name, reason="it starts or ends with a space")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in name):
        raise InvalidAliasNameError(alias=name.encode("unicode_escape").decode("ascii"),
                                    reason="it contains control characters")
    # The file name must say the same name: refuse what alias_filename would drop or
    # replace silently ("my model!" would be stored as mymodel!.yaml). ":" and "/" stay:
    # they spell model aliases (owner/repo:Q4_K_M), which a user alias may shadow.
    if any(ch.isspace() for ch in name):
        raise InvalidAliasNameError(alias=name, reason="it contains a space; use - or _")
    if bad := sorted({ch for ch in name if ch in _REPLACED and ch not in ":/"}):
        raise InvalidAliasNameError(alias=name, reason="it contains " + " ".join(bad))
    if name.startswith("."):
        raise InvalidAliasNameError(alias=name, reason="it starts with a dot")
    if len(name) > _MAX_NAME_CHARS:
        raise InvalidAliasNameError(alias=name[:40] + "…",
                                    reason=f"it is longer than {_MAX_NAME_CHARS} characters")
    alias_filename(name)
    return name


def check_context_params(params: Sequence[str]) -> tuple[str, ...]:
    """Each entry must be one llama-server option: ``"--ctx-size 4096"``, ``"--flash-attn"``."""
    out = []
    for param in params:
        if not isinstance(param, str) or not param.startswith("-") or "\n" in param:
            raise InvalidValueError(name="context_params", value=param,
                                    reason="each entry is one llama-server option such as "
                                           "'--ctx-size 4096'")
        out.append(param.strip())
    return tuple(out)


@dataclass(frozen=True)
class AliasProblem:
    """An alias file that was skipped, and why."""

    path: Path
    error: str

    #: the error asking for this file's alias raises
    code = AliasFileError.code

    def to_dict(self) -> dict[str, str]:
        return {"path": str(self.path), "error": self.error, "code": self.code}


@dataclass(frozen=True)
class AliasRecord:
    """A user alias with where and when it was stored."""

    alias: UserAlias
    path: Path
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class AliasList:
    user: list[UserAlias]
    model: list[UserAlias]
    api: list[ApiAlias]
    problems: list[AliasProblem]

    def names(self) -> list[str]:
        return sorted({a.alias for a in (*self.user, *self.model)} | {a.id for a in self.api})


@dataclass(frozen=True)
class LocalModel:
    """A GGUF file in the cache, its metadata (or why it could not be read) and its aliases."""

    file: HubFile
    metadata: GgufMetadata | None
    problem: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class _Scan:
    records: dict[str, AliasRecord]
    problems: list[AliasProblem]
    #: every parsed file by path (including duplicates), for collision checks
    by_path: dict[Path, str]

    def records_sorted(self) -> list[UserAlias]:
        return [self.records[k].alias for k in sorted(self.records)]


class DataService:
    """User aliases on disk, model aliases from the cache, GGUF metadata of local models."""

    def __init__(
        self,
        settings: SettingService,
        hf_cache: HfCache,
        time: TimeService,
        *,
        cache: CacheService | None = None,
        api_aliases: ApiAliasProvider | None = None,
        gate: Gate = allow_all,
        usage: UsageService | None = None,
        locked: LockedAliasProvider | None = None,
    ) -> None:
        self._gate = gate
        #: records the aliases written and chatted with (``lock`` without names)
        self.usage = usage
        #: the lock file's pinned aliases (``find_alias`` answers with them first)
        self.locked_alias = locked
        self.settings = settings
        self.hf_cache = hf_cache
        self.time = time
        self.cache = cache
        #: returns the API aliases (set by the AI API service); None means there are none.
        self.api_alias_provider = api_aliases
        self._parsed: dict[Path, tuple[tuple[int, int, int], AliasRecord | AliasProblem]] = {}
        self._lock = threading.Lock()

    # -- locations --------------------------------------------------------------------------

    @property
    def aliases_dir(self) -> Path:
        return self.settings.home / "aliases"

    def alias_path(self, name: str) -> Path:
        """Where ``name`` is (or would be) stored; always directly inside ``aliases_dir``."""
        return self.aliases_dir / alias_filename(name)

    # -- reading ----------------------------------------------------------------------------

    def list_aliases(self) -> AliasList:
        """User, model and API aliases, each list sorted by name, plus skipped files."""
        self._gate(Action.MODELS)
        scan = self._scan()
        user = sorted((r.alias for r in scan.records.values()), key=lambda a: a.alias)
        return AliasList(user=user, model=self.model_aliases(), api=self._api_aliases(),
                         problems=scan.problems)

    def get_alias(self, name: str) -> UserAlias:
        """The user alias ``name``; ``AliasNotFoundError`` if there is none."""
        self._gate(Action.MODELS)
        return self.alias_record(name).alias

    def alias_record(self, name: str) -> AliasRecord:
        self._gate(Action.MODELS)
        scan = self._scan()
        record = scan.records.get(name)
        if record is None:
            self._raise_if_broken(name, scan)
            raise AliasNotFoundError(alias=name)
        return record

    def find_alias(self, name: str, *, locked: bool = True) -> UserAlias | ApiAlias | None:
        """First match: user alias, then model alias, then the first API alias serving it.

        While the lock file (BODHI_LOCK_FILE, ``./bodhi.lock``) pins an alias of that name,
        the lock's alias comes first (its commit, request and context params; the alias file
        is left alone): chat, the batch API and ``serve`` all resolve here. ``locked=False``
        reads only this machine's aliases (``alias show``, ``alias copy``)."""
        if locked and self.locked_alias is not None:
            pinned = self.locked_alias(name)
            if pinned is not None:
                return pinned
        scan = self._scan()
        if name in scan.records:
            return scan.records[name].alias
        self._raise_if_broken(name, scan)
        for alias in self.model_aliases():
            if alias.alias == name:
                return alias
        api = self._api_aliases()
        for api_alias in api:
            if api_alias.id == name:
                return api_alias
        for api_alias in api:
            if api_alias.supports(name):
                return api_alias
        return None

    def used(self, alias: UserAlias | ApiAlias) -> None:
        """Record a chat with ``alias`` for ``lock`` without names."""
        if self.usage is not None:
            self.usage.chatted(alias)

    def model_aliases(self) -> list[UserAlias]:
        """``owner/name:QUANT`` for every local GGUF, sorted; one file per name.

        When several files give the same name, the one in the snapshot ``refs/main`` points
        at wins, then the most recently written snapshot, then the shorter path. Vision
        projectors (``mmproj-*``) and parts 2+ of split models get no alias.
        """
        return self._model_aliases(self.hf_cache.list_local_models())

    def _model_aliases(self, files: list[HubFile]) -> list[UserAlias]:
        """:meth:`model_aliases` over ``files`` (the local GGUFs, listed once by the caller)."""
        from bodhi_nb.gguf import is_auxiliary, quant_from_filename, shard_index

        mains = {r.repo.id: r.refs.get("main") for r in self.hf_cache.local_repos()}
        mtimes: dict[tuple[str, str], int] = {}
        best: dict[str, tuple[tuple[int, int, int, str, str], HubFile]] = {}
        for f in files:
            if is_auxiliary(f.filename) or shard_index(f.filename) > 1:
                continue
            name = f"{f.repo}:{quant_from_filename(f.filename)}"
            if (f.repo, f.snapshot) not in mtimes:
                try:
                    mtimes[f.repo, f.snapshot] = f.path.parent.stat().st_mtime_ns
                except OSError:
                    mtimes[f.repo, f.snapshot] = 0
            rank = (0 if mains.get(f.repo) == f.snapshot else 1, -mtimes[f.repo, f.snapshot],
                    len(f.filename), f.filename, f.snapshot)
            if name not in best or rank < best[name][0]:
                best[name] = (rank, f)
        return [UserAlias(alias=name, repo=f.repo, filename=f.filename, snapshot=f.snapshot,
                          source=AliasSource.MODEL)
                for name, (_, f) in sorted(best.items())]

    # -- writing ----------------------------------------------------------------------------

    def create_alias(self, alias: UserAlias) -> UserAlias:
        """Store a new user alias; ``AliasExistsError`` if the name is taken.

        The file need not be downloaded yet. When it is, ``snapshot`` is pinned to the commit
        it resolves to locally (BodhiApp's rule), so the alias keeps meaning the same bytes.
        """
        self._gate(Action.ALIAS)
        alias = self._validated(alias)
        with self._write_lock():
            scan = self._scan()
            if alias.alias in scan.records:
                raise AliasExistsError(alias=alias.alias)
            path = self._free_path(alias.alias, scan)
            alias = self._pin_snapshot(alias)
            self._write(path, alias, created_at=None)
        return alias

    def save_alias(self, alias: UserAlias) -> UserAlias:
        """Create ``alias``, or replace the user alias of the same name (keeping created_at)."""
        self._gate(Action.ALIAS)
        alias = self._validated(alias)
        with self._write_lock():
            scan = self._scan()
            existing = scan.records.get(alias.alias)
            if existing is None:
                path = self._free_path(alias.alias, scan)
                self._write(path, alias, created_at=None)
            else:
                self._write(existing.path, alias, created_at=existing.created_at)
        return alias

    def update_alias(self, name: str, alias: UserAlias) -> UserAlias:
        """Replace the user alias ``name`` with ``alias`` (which may carry a new name)."""
        self._gate(Action.ALIAS)
        alias = self._validated(alias)
        with self._write_lock():
            scan = self._scan()
            existing = scan.records.get(name)
            if existing is None:
                raise AliasNotFoundError(alias=name)
            if alias.alias == name:
                self._write(existing.path, alias, created_at=existing.created_at)
                return alias
            if alias.alias in scan.records:
                raise AliasExistsError(alias=alias.alias)
            path = self._free_path(alias.alias, scan, allow=existing.path)
            self._write(path, alias, created_at=existing.created_at)
            if path != existing.path:
                existing.path.unlink(missing_ok=True)
        return alias

    def copy_alias(self, source: str, target: str) -> UserAlias:
        """Copy the user or model alias ``source`` to a new user alias ``target``."""
        self._gate(Action.ALIAS)
        found = self.find_alias(source, locked=False)
        if not isinstance(found, UserAlias):
            raise AliasNotFoundError(alias=source)
        return self.create_alias(dataclasses.replace(found, alias=target,
                                                     source=AliasSource.USER))

    def delete_alias(self, name: str) -> Path:
        """Remove the user alias ``name`` (or its unreadable file); returns the removed path."""
        self._gate(Action.ALIAS)
        with self._write_lock():
            scan = self._scan()
            record = scan.records.get(name)
            path = record.path if record is not None else self._broken_path(name, scan)
            if path is None:
                raise AliasNotFoundError(alias=name)
            try:
                path.unlink()
            except FileNotFoundError:
                raise AliasNotFoundError(alias=name) from None
            except OSError as exc:
                raise AliasFileError(path=path, reason=exc.strerror or str(exc)) from exc
        return path

    # -- local models -----------------------------------------------------------------------

    def gguf_metadata(self, path: Path) -> GgufMetadata:
        """GGUF metadata of ``path``, cached by path, size and modification time."""
        from bodhi_nb.gguf import read_gguf_metadata

        if self.cache is None:
            return read_gguf_metadata(path)
        try:
            st = path.stat()
        except OSError:
            return read_gguf_metadata(path)  # raises GgufInvalidError with the reason
        key = ("gguf-metadata", str(path), st.st_mtime_ns, st.st_size)
        return self.cache.get_or_set(key, lambda: read_gguf_metadata(path))

    def local_models(self) -> list[LocalModel]:
        """Every local GGUF with its metadata and the aliases (user and model) pointing at it."""
        self._gate(Action.MODELS)
        from bodhi_nb.errors import GgufInvalidError

        # The cache is walked once: a 1,000-model panel waited twice as long when the
        # model aliases walked it again.
        files = self.hf_cache.list_local_models()
        pointing: dict[tuple[str, str, str], list[str]] = {}
        for alias in self._scan().records_sorted():
            try:
                commit = self.hf_cache.resolve_revision(alias.repo, alias.snapshot)
            except BodhiError:
                continue
            if commit is not None:
                pointing.setdefault((alias.repo, alias.filename, commit), []).append(alias.alias)
        for alias in self._model_aliases(files):  # named by their commit already
            pointing.setdefault((alias.repo, alias.filename, alias.snapshot),
                                []).append(alias.alias)
        out = []
        for f in files:
            metadata: GgufMetadata | None = None
            problem = None
            try:
                metadata = self.gguf_metadata(f.path)
            except GgufInvalidError as exc:
                problem = exc.params.get("reason", exc.code)
            names = tuple(sorted(pointing.get((f.repo, f.filename, f.snapshot), ())))
            out.append(LocalModel(f, metadata, problem, names))
        return out

    # -- internals --------------------------------------------------------------------------

    def _api_aliases(self) -> list[ApiAlias]:
        if self.api_alias_provider is None:
            return []
        try:
            return sorted(self.api_alias_provider(), key=lambda a: a.id)
        except BodhiError:
            # BodhiApp lists aliases even when the API alias store fails.
            return []

    def _validated(self, alias: UserAlias) -> UserAlias:
        from bodhi_nb.services.chat import check_request_params

        check_alias_name(alias.alias)
        check_filename(alias.filename)
        check_revision(alias.snapshot)
        # What the reader would refuse is refused here, not written (max_tokens 1e12).
        check_request_params(alias.request_params.to_dict())
        return dataclasses.replace(alias, source=AliasSource.USER,
                                   context_params=check_context_params(alias.context_params))

    def _pin_snapshot(self, alias: UserAlias) -> UserAlias:
        commit = self.hf_cache.resolve_revision(alias.repo, alias.snapshot)
        if commit and self.hf_cache.local_file_exists(alias.repo, alias.filename, commit):
            return dataclasses.replace(alias, snapshot=commit)
        return alias

    def _free_path(self, name: str, scan: _Scan, allow: Path | None = None) -> Path:
        """The canonical path for a new alias ``name``; refuses to clobber another file."""
        path = self.alias_path(name)
        if path == allow or not path.exists():
            return path
        other = scan.by_path.get(path)
        if other is not None:
            raise AliasFileConflictError(alias=name, other=other, path=path)
        reason = next((p.error for p in scan.problems if p.path == path), "it is not a file")
        raise AliasFileError(path=path, reason=reason)

    def _broken_path(self, name: str, scan: _Scan) -> Path | None:
        try:
            path = self.alias_path(name)
        except InvalidAliasNameError:
            return None
        if any(p.path == path for p in scan.problems):
            return path
        return None

    def _raise_if_broken(self, name: str, scan: _Scan) -> None:
        path = self._broken_path(name, scan)
        if path is not None:
            reason = next(p.error for p in scan.problems if p.path == path)
            raise AliasFileError(path=path, reason=reason)

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        from filelock import FileLock, Timeout

        self.aliases_dir.mkdir(parents=True, exist_ok=True)
        lock_path = self.aliases_dir / ".lock"
        try:
            with FileLock(lock_path, timeout=_LOCK_TIMEOUT):
                self._sweep_temp_files()
                yield
        except Timeout as exc:
            raise AliasFileError(path=lock_path,
                                 reason=f"locked by another process for {_LOCK_TIMEOUT:.0f} s"
                                 ) from exc

    def _sweep_temp_files(self) -> None:
        # Alias files are only written under the lock, so a temp file seen while holding it
        # was left by a writer that died mid-write.
        for entry in os.scandir(self.aliases_dir):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                Path(entry.path).unlink(missing_ok=True)

    def _write(self, path: Path, alias: UserAlias, created_at: datetime | None) -> None:
        import yaml

        now = self.time.utc_now()
        data = alias.to_dict()
        data.pop("source", None)
        data["context_params"] = list(alias.context_params)
        data["created_at"] = _iso(created_at or now)
        data["updated_at"] = _iso(now)
        # libyaml's dumper and loader when present: ~20x faster on long system prompts.
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True)
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise AliasFileError(path=path, reason=exc.strerror or str(exc)) from exc
        if self.usage is not None:
            self.usage.alias(alias.alias)

    def _scan(self) -> _Scan:
        records: dict[str, AliasRecord] = {}
        problems: list[AliasProblem] = []
        by_path: dict[Path, str] = {}
        files = self._alias_files()
        with self._lock:
            for gone in set(self._parsed) - set(files):
                del self._parsed[gone]
        for path in files:
            loaded = self._load(path)
            if isinstance(loaded, AliasProblem):
                problems.append(loaded)
                continue
            name = loaded.alias.alias
            by_path[path] = name
            if name in records:
                problems.append(AliasProblem(
                    path, f"duplicate of alias '{name}' in {records[name].path.name}"))
                continue
            records[name] = loaded
        return _Scan(records, problems, by_path)

    def _alias_files(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.aliases_dir))
        except (FileNotFoundError, NotADirectoryError):
            return []
        # Dot files are the lock and the temp files of interrupted writes.
        return sorted(Path(e.path) for e in entries
                      if not e.name.startswith(".")
                      and e.name.lower().endswith((".yaml", ".yml"))
                      and e.is_file())

    def _load(self, path: Path) -> AliasRecord | AliasProblem:
        try:
            st = path.stat()
        except OSError as exc:
            return AliasProblem(path, exc.strerror or str(exc))
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            hit = self._parsed.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        result = _parse_alias_file(path)
        with self._lock:
            self._parsed[path] = (key, result)
        return result


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_ts(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
        except ValueError:
            return None
    return None


def _parse_alias_file(path: Path) -> AliasRecord | AliasProblem:
    import yaml

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_ALIAS_FILE_BYTES + 1)
    except OSError as exc:
        return AliasProblem(path, exc.strerror or str(exc))
    if len(raw) > MAX_ALIAS_FILE_BYTES:
        return AliasProblem(path, f"larger than {MAX_ALIAS_FILE_BYTES // 1024} KiB; an alias "
                                  "file holds a few lines")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return AliasProblem(path, "not UTF-8 text")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        refused = _unsafe_yaml(text, loader)
        if refused:
            return AliasProblem(path, refused)
        data = yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        return AliasProblem(path, _yaml_error(exc))
    if not isinstance(data, Mapping):
        return AliasProblem(path, "expected a mapping with alias, repo and filename")
    missing = [k for k in ("alias", "repo", "filename") if data.get(k) in (None, "")]
    if missing:
        return AliasProblem(path, "missing " + ", ".join(missing))
    request_params = data.get("request_params") or {}
    if not isinstance(request_params, Mapping):
        return AliasProblem(path, "request_params must be a mapping")
    context_params = data.get("context_params") or []
    if not isinstance(context_params, list):
        return AliasProblem(path, "context_params must be a list of llama-server options")
    from bodhi_nb.services.chat import check_request_params

    try:
        request_params = check_request_params(request_params)
    except BodhiError as exc:
        return AliasProblem(path, f"request_params: {exc}")
    try:
        alias = UserAlias(
            alias=str(data["alias"]), repo=str(data["repo"]), filename=str(data["filename"]),
            snapshot=str(data.get("snapshot") or "main"),
            request_params=OAIRequestParams.from_dict(request_params),
            context_params=check_context_params(context_params),
            format=None if data.get("format") is None else str(data["format"]),
        )
    except (BodhiError, TypeError, ValueError, ArithmeticError) as exc:
        return AliasProblem(path, str(exc))
    return AliasRecord(alias, path, _parse_ts(data.get("created_at")),
                       _parse_ts(data.get("updated_at")))


def _unsafe_yaml(text: str, loader: Any) -> str | None:
    """Why ``text`` is refused before it is built, or None. Anchors and aliases (``&a``,
    ``*a``) are refused: BodhiApp never writes them, and nested ones expand exponentially
    (a "billion laughs" file of a few hundred bytes takes minutes and gigabytes to load).
    Parsing events costs time linear in the file's size and builds nothing."""
    import yaml

    if ("&" not in text and "*" not in text
            and text.count("[") + text.count("{") <= _MAX_YAML_DEPTH):
        # No anchor or alias, few flow collections: skip the second parse (a file in
        # BodhiApp's shape). Deep block nesting is left to libyaml's own limit.
        return None
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return ("YAML anchors and aliases (&name, *name) are not allowed in alias files; "
                    "write the values out")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_YAML_DEPTH:
                return f"nested more than {_MAX_YAML_DEPTH} levels deep"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _yaml_error(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"YAML error: {problem} (line {mark.line + 1}, column {mark.column + 1})"
    return "YAML error: " + " ".join(str(exc).split())
