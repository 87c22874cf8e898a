"""SettingService: typed settings with a visible source.

Precedence, highest first: explicit override (what the code building the registry passes) >
environment > ``$BODHI_HOME/settings.yaml`` > default. ``BODHI_HOME`` itself comes from an
override or the environment only (the file lives inside it). Values are coerced to their
declared type when read. A bad value from an override or the environment is an error naming
the key, the value and what was expected. A bad ``settings.yaml`` (a bad value, not YAML, not
a mapping) never stops the registry: the key falls back to its default with a warning, and
:meth:`SettingService.problems` names what is wrong, so ``settings KEY VALUE`` can fix it.

Writes are read-modify-write of ``settings.yaml`` under a cross-process file lock, re-reading
the file under the lock, so concurrent kernels never lose each other's updates.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from bodhi_nb._fs import atomic_write_text, make_private_dir
from bodhi_nb.errors import (
    ReadOnlyError,
    SettingInvalidValueError,
    SettingServiceError,
    UnknownKeyError,
    UnreadableFileError,
    UnwritableFileError,
)
from bodhi_nb.objs import is_http_url
from bodhi_nb.redact import get_logger, redact_url
from bodhi_nb.services.policy import PERSONAL_SETTINGS, Action, Gate, allow_all

__all__ = [
    "SETTINGS",
    "Setting",
    "SettingDef",
    "SettingService",
    "SettingSource",
]

_log = get_logger("bodhi_nb.settings")


class SettingSource(StrEnum):
    OVERRIDE = "override"
    ENV = "env"
    FILE = "file"
    DEFAULT = "default"


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: str  # str | int | float | bool | path | url | choice
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    writable: bool = True
    #: whether "" is a valid value (paths and URLs: only where it means "not set").
    allow_empty: bool = True

    def expected(self) -> str:
        if self.kind == "url":
            return "an http:// or https:// URL with a host" + (
                "" if not self.allow_empty else " (or empty)")
        if self.kind == "path" and not self.allow_empty:
            return "a folder path (not empty)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind in ("int", "float"):
            noun = "a whole number" if self.kind == "int" else "a number"
            return f"{noun} from {self.min:g} to {self.max:g}"
        if self.kind == "bool":
            return "true or false"
        return "text"

    def coerce(self, raw: Any) -> Any:
        def bad() -> SettingInvalidValueError:
            # An endpoint may carry credentials: never echo them.
            return SettingInvalidValueError(key=self.key, value=redact_url(raw),
                                            expected=self.expected())

        if self.kind in ("str", "path", "url"):
            if raw is None or isinstance(raw, (dict, list, tuple, set)):
                raise bad()
            text = str(raw)
            if self.kind != "str" and not text.strip():
                if self.allow_empty and not text:
                    return text
                raise bad()
            if self.kind == "url":
                if not is_http_url(text):
                    raise bad()
                return text
            return str(Path(text).expanduser()) if self.kind == "path" else text
        if self.kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise bad()
        if self.kind == "choice":
            text = str(raw).strip()
            if text not in self.choices:
                raise bad()
            return text
        try:
            if isinstance(raw, bool):
                raise ValueError
            number: float = int(str(raw).strip()) if self.kind == "int" else float(raw)
        except (TypeError, ValueError, OverflowError):
            raise bad() from None
        # NaN compares false with every bound, so it must be refused on its own.
        if not math.isfinite(number):
            raise bad()
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise bad()
        return number


def _has_password(url: str) -> bool:
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url.strip())
    except ValueError:
        return False
    return bool(parts.password) or "password=" in parts.query.lower()


def _defs(*defs: SettingDef) -> dict[str, SettingDef]:
    return {d.key: d for d in defs}


SETTINGS: dict[str, SettingDef] = _defs(
    SettingDef("BODHI_HOME", "path", "~/.bodhi", "where bodhi keeps its database and files",
               writable=False, allow_empty=False),
    SettingDef("HF_HOME", "path", "~/.cache/huggingface",
               "Hugging Face home; models live in $HF_HOME/hub", allow_empty=False),
    SettingDef("HF_ENDPOINT", "url", "https://huggingface.co", "the Hugging Face Hub to pull from",
               allow_empty=False),
    SettingDef("BODHI_PULL_CONNECTIONS", "int", 8,
               "connections that download one large file (64 MiB or more) in byte ranges; "
               "1: one stream", min=1, max=32),
    SettingDef("BODHI_LOCALE", "choice", "en-US", "language of messages",
               choices=("en-US", "fr-FR")),
    SettingDef("BODHI_LOG_LEVEL", "choice", "warn", "log level",
               choices=("error", "warn", "info", "debug", "trace")),
    SettingDef("BODHI_KEEP_ALIVE_SECS", "int", 300,
               "seconds a local model server stays up idle (0: stop after each request, "
               "-1: never)", min=-1, max=86400),
    SettingDef("BODHI_DATABASE_URL", "str", "",
               "where every table lives: empty for DuckDB under BODHI_HOME, or "
               "postgresql://USER@HOST:PORT/DATABASE for a team"),
    SettingDef("BODHI_DB_BUSY_TIMEOUT_SECS", "float", 30.0,
               "how long to wait for another kernel holding the database", min=0.1, max=3600),
    SettingDef("BODHI_DB_IDLE_CLOSE_MS", "int", 100,
               "idle time after which the database is handed back to other kernels",
               min=0, max=60000),
    SettingDef("BODHI_LLAMA_SERVER", "str", "", "path of llama-server (empty: search PATH, "
               "then llama_cpp.server)"),
    SettingDef("BODHI_LLAMACPP_ARGS", "str", "", "extra arguments for the llama.cpp server"),
    SettingDef("BODHI_AUTH_URL", "url", "", "OpenID server base URL"),
    SettingDef("BODHI_AUTH_REALM", "str", "bodhi", "OpenID realm"),
    SettingDef("BODHI_AUTH_ISSUER", "url", "",
               "OpenID provider's issuer URL (empty: authentication off)"),
    SettingDef("BODHI_PROFILE", "str", "default",
               "name of the login profile (one logged-in user per profile and BODHI_HOME)"),
    SettingDef("BODHI_AUTH_TIMEOUT_SECS", "float", 10.0,
               "seconds a request to the OpenID provider may take before it fails",
               min=0.1, max=600),
    SettingDef("BODHI_LOCK_FILE", "path", "bodhi.lock",
               "the lock file `lock` writes and `pull --locked` and chat read (relative: to "
               "the working folder, a notebook's own)", allow_empty=False),
)

Listener = Callable[[str, Any, Any], None]


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any
    source: SettingSource
    help: str
    #: where a write landed but a higher source still wins (e.g. the environment).
    shadowed_by: SettingSource | None = None
    #: why settings.yaml's value was not used (the value is then the default).
    problem: SettingServiceError | None = None
    #: where an unreadable settings.yaml was moved by this write (it is then started over).
    moved_aside: Path | None = None

    @property
    def shown(self) -> str:
        """The value as it may be displayed: credentials in URLs masked."""
        return redact_url(self.value) if isinstance(self.value, str) else str(self.value)


class SettingService:
    """Resolved settings for one registry; thread-safe; file writes are atomic."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        #: checks an action against the policy (bodhi_nb.services.policy); the registry
        #: sets it once the AuthService can be built
        self.gate: Gate = allow_all
        self._env = dict(os.environ if env is None else env)
        self._overrides = dict(overrides or {})
        for key in self._overrides:
            self._definition(key)
        self._lock = threading.RLock()
        self._file_cache: tuple[tuple[int, int, int], dict[str, Any],
                                SettingServiceError | None] | None = None
        self._warned: set[str] = set()
        self._listeners: list[Listener] = []
        self.home  # noqa: B018 - validate BODHI_HOME now, not on first use

    # -- lookups ----------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return Path(self.get("BODHI_HOME"))

    @property
    def settings_file(self) -> Path:
        return self.home / "settings.yaml"

    @property
    def hf_cache(self) -> Path:
        return Path(self.get("HF_HOME")) / "hub"

    def get(self, key: str) -> Any:
        return self.setting(key).value

    def env(self, key: str) -> str | None:
        """A raw environment variable as it was when the registry was built."""
        return self._env.get(key)

    def setting(self, key: str) -> Setting:
        definition = self._definition(key)
        if key in self._overrides:
            raw, source = self._overrides[key], SettingSource.OVERRIDE
        elif key in self._env:
            raw, source = self._env[key], SettingSource.ENV
        elif definition.writable and key in (file := self._read_file()):
            try:
                value = definition.coerce(file[key])
            except SettingServiceError as exc:
                # One bad line in settings.yaml must not stop every command: use the
                # default, say so once, and let `settings KEY VALUE` repair it.
                self._warn(f"{key}={file[key]!r}", "settings.yaml: %s; using the default %r",
                           exc, definition.default)
                return Setting(key, definition.coerce(definition.default),
                               SettingSource.DEFAULT, definition.help, problem=exc)
            return Setting(key, value, SettingSource.FILE, definition.help)
        else:
            raw, source = definition.default, SettingSource.DEFAULT
        return Setting(key, definition.coerce(raw), source, definition.help)

    def all(self) -> list[Setting]:
        return [self.setting(k) for k in SETTINGS]

    def problems(self) -> list[SettingServiceError]:
        """What is wrong in settings.yaml (an unreadable file, bad values); [] when fine."""
        found: list[SettingServiceError] = []
        self._read_file()
        cached = self._file_cache
        if cached is not None and cached[2] is not None:
            found.append(cached[2])
        found += [s.problem for s in self.all() if s.problem is not None]
        return found

    # -- writes -----------------------------------------------------------------------------

    def set(self, key: str, raw: Any) -> Setting:
        """Validate and persist ``key`` in settings.yaml; returns what is now in effect."""
        if key not in PERSONAL_SETTINGS:
            self.gate(Action.SETTINGS)
        definition = self._definition(key)
        if not definition.writable:
            raise ReadOnlyError(key=key)
        value = definition.coerce(raw)
        if key == "BODHI_DATABASE_URL" and _has_password(str(value)):
            # settings.yaml is a file in clear: a database password goes to PGPASSWORD or
            # ~/.pgpass (libpq reads both), or the whole URL stays in the environment.
            raise SettingInvalidValueError(
                key=key, value=redact_url(value),
                expected="a URL without its password (put the password in PGPASSWORD or "
                         "~/.pgpass, or set BODHI_DATABASE_URL in the environment)")
        old = self.get(key)
        with self._locked_file() as (data, moved):
            data[key] = value
            self._write_file(data)
        now = self.setting(key)
        shadow = now.source if now.source in (SettingSource.ENV, SettingSource.OVERRIDE) else None
        self._notify(key, old, now.value)
        return Setting(key, value if shadow is None else now.value, now.source, now.help, shadow,
                       moved_aside=moved)

    def unset(self, key: str) -> Setting:
        if key not in PERSONAL_SETTINGS:
            self.gate(Action.SETTINGS)
        definition = self._definition(key)
        if not definition.writable:
            raise ReadOnlyError(key=key)
        old = self.get(key)
        with self._locked_file() as (data, moved):
            if key in data or moved is not None:
                data.pop(key, None)
                self._write_file(data)
        now = self.setting(key)
        self._notify(key, old, now.value)
        return dataclass_replace(now, moved_aside=moved)

    def override(self, key: str, raw: Any) -> Setting:
        """Put ``key`` in effect for this registry only, above every other source (the
        demo's offline Hub endpoint, say): nothing is written to settings.yaml or to the
        environment. ``None`` removes the override. Returns what is now in effect."""
        definition = self._definition(key)
        if raw is not None:
            definition.coerce(raw)  # a bad value is refused now, not on first use
        old = self.get(key)
        with self._lock:
            if raw is None:
                self._overrides.pop(key, None)
            else:
                self._overrides[key] = raw
        now = self.setting(key)
        self._notify(key, old, now.value)
        return now

    def add_listener(self, listener: Listener) -> None:
        """Called as ``listener(key, old_value, new_value)`` after every write."""
        self._listeners.append(listener)

    # -- internals --------------------------------------------------------------------------

    def _notify(self, key: str, old: Any, new: Any) -> None:
        for listener in list(self._listeners):
            listener(key, old, new)

    @staticmethod
    def _definition(key: str) -> SettingDef:
        try:
            return SETTINGS[key]
        except KeyError:
            raise UnknownKeyError(key=key, known=sorted(SETTINGS)) from None

    def _warn(self, tag: str, message: str, *args: Any) -> None:
        with self._lock:
            if tag in self._warned:
                return
            self._warned.add(tag)
        _log.warning(message, *args)

    def _read_file(self) -> dict[str, Any]:
        """settings.yaml as a mapping; {} (and a recorded problem) when it is unreadable."""
        path = self.settings_file
        try:
            info = path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._warn(f"stat:{exc}", "cannot read %s: %s", path, _first_line(exc))
            return {}
        # Size as well as mtime: two writes within the clock's granularity still differ.
        stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
        with self._lock:
            if self._file_cache and self._file_cache[0] == stamp:
                return self._file_cache[1]
            data, problem = self._parse_file(path)
            if problem is not None:
                self._warn(f"file:{problem}", "%s is ignored: %s", path,
                           problem.params.get("reason", ""))
            self._file_cache = (stamp, data, problem)
            return data

    @staticmethod
    def _parse_file(path: Path) -> tuple[dict[str, Any], SettingServiceError | None]:
        import yaml

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return {}, UnreadableFileError(path=path, reason=_first_line(exc))
        try:
            data = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError, ValueError) as exc:
            return {}, UnreadableFileError(path=path, reason=_first_line(exc))
        if data is None:
            return {}, None
        if not isinstance(data, dict):
            return {}, UnreadableFileError(path=path, reason="expected a mapping of KEY: value")
        return {str(k): v for k, v in data.items()}, None

    @contextmanager
    def _locked_file(self) -> Iterator[tuple[dict[str, Any], Path | None]]:
        """The file's current content, read under a cross-process lock held until the block
        ends (the block writes it back). An unreadable file is moved aside first, so
        ``settings KEY VALUE`` and ``--unset`` repair it rather than fail on it."""
        from bodhi_nb._fs import FlockFile

        path = self.settings_file
        try:
            make_private_dir(path.parent)
            lock = FlockFile(Path(f"{path}.lock"))
            taken = lock.acquire(timeout=30)
        except OSError as exc:
            raise UnwritableFileError(path=path, reason=_first_line(exc)) from exc
        if not taken:
            raise UnwritableFileError(path=path, reason=f"{path}.lock is held")
        try:
            with self._lock:
                moved: Path | None = None
                data: dict[str, Any] = {}
                if path.exists():
                    data, problem = self._parse_file(path)
                    if problem is not None:
                        moved = self._move_aside(path)
                        _log.warning("moved the unreadable %s to %s", path, moved)
                self._file_cache = None
                yield data, moved
        finally:
            lock.release()

    @staticmethod
    def _move_aside(path: Path) -> Path:
        for n in range(1000):
            target = path.with_name(f"{path.name}.broken" + (f".{n}" if n else ""))
            if not target.exists():
                break
        try:
            os.replace(path, target)
        except OSError as exc:
            raise UnwritableFileError(path=path, reason=_first_line(exc)) from exc
        return target

    def _write_file(self, data: dict[str, Any]) -> None:
        import yaml

        path = self.settings_file
        try:
            make_private_dir(path.parent)
            atomic_write_text(path, yaml.safe_dump(data, sort_keys=True))
        except OSError as exc:
            raise UnwritableFileError(path=path, reason=_first_line(exc)) from exc
        finally:
            self._file_cache = None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
