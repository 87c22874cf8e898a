"""SettingService: typed settings with a visible source.

Precedence, highest first: explicit override (what the code building the registry passes) >
environment > ``$BODHI_HOME/settings.yaml`` > default. ``BODHI_HOME`` itself comes from an
override or the environment only (the file lives inside it). Values are coerced to their
declared type when read, and a bad value is an error naming the key, the value and what was
expected, wherever it came from.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bodhi_nb.errors import (
    ReadOnlyError,
    SettingInvalidValueError,
    UnknownKeyError,
    UnreadableFileError,
)
from bodhi_nb.services._fs import atomic_write_text

__all__ = [
    "SETTINGS",
    "Setting",
    "SettingDef",
    "SettingService",
    "SettingSource",
]


class SettingSource(StrEnum):
    OVERRIDE = "override"
    ENV = "env"
    FILE = "file"
    DEFAULT = "default"


@dataclass(frozen=True)
class SettingDef:
    key: str
    kind: str  # str | int | float | bool | path | choice
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    writable: bool = True

    def expected(self) -> str:
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
            return SettingInvalidValueError(key=self.key, value=raw, expected=self.expected())

        if self.kind in ("str", "path"):
            text = str(raw)
            return str(Path(text).expanduser()) if self.kind == "path" and text else text
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
        except (TypeError, ValueError):
            raise bad() from None
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise bad()
        return number


def _defs(*defs: SettingDef) -> dict[str, SettingDef]:
    return {d.key: d for d in defs}


SETTINGS: dict[str, SettingDef] = _defs(
    SettingDef("BODHI_HOME", "path", "~/.bodhi", "where bodhi keeps its database and files",
               writable=False),
    SettingDef("HF_HOME", "path", "~/.cache/huggingface",
               "Hugging Face home; models live in $HF_HOME/hub"),
    SettingDef("HF_ENDPOINT", "str", "https://huggingface.co", "the Hugging Face Hub to pull from"),
    SettingDef("BODHI_LOCALE", "choice", "en-US", "language of messages",
               choices=("en-US", "fr-FR")),
    SettingDef("BODHI_LOG_LEVEL", "choice", "warn", "log level",
               choices=("error", "warn", "info", "debug", "trace")),
    SettingDef("BODHI_KEEP_ALIVE_SECS", "int", 300,
               "seconds a local model server stays up idle (0: stop after each request, "
               "-1: never)", min=-1, max=86400),
    SettingDef("BODHI_DB_BUSY_TIMEOUT_SECS", "float", 30.0,
               "how long to wait for another kernel holding the database", min=0.1, max=3600),
    SettingDef("BODHI_DB_IDLE_CLOSE_MS", "int", 100,
               "idle time after which the database is handed back to other kernels",
               min=0, max=60000),
    SettingDef("BODHI_LLAMA_SERVER", "str", "", "path of llama-server (empty: search PATH, "
               "then llama_cpp.server)"),
    SettingDef("BODHI_LLAMACPP_ARGS", "str", "", "extra arguments for the llama.cpp server"),
    SettingDef("BODHI_AUTH_URL", "str", "", "OpenID server base URL"),
    SettingDef("BODHI_AUTH_REALM", "str", "bodhi", "OpenID realm"),
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


class SettingService:
    """Resolved settings for one registry; thread-safe; file writes are atomic."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self._env = dict(os.environ if env is None else env)
        self._overrides = dict(overrides or {})
        for key in self._overrides:
            self._definition(key)
        self._lock = threading.RLock()
        self._file_cache: tuple[float, dict[str, Any]] | None = None
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
            raw, source = file[key], SettingSource.FILE
        else:
            raw, source = definition.default, SettingSource.DEFAULT
        return Setting(key, definition.coerce(raw), source, definition.help)

    def all(self) -> list[Setting]:
        return [self.setting(k) for k in SETTINGS]

    # -- writes -----------------------------------------------------------------------------

    def set(self, key: str, raw: Any) -> Setting:
        """Validate and persist ``key`` in settings.yaml; returns what is now in effect."""
        definition = self._definition(key)
        if not definition.writable:
            raise ReadOnlyError(key=key)
        value = definition.coerce(raw)
        with self._lock:
            old = self.get(key)
            data = dict(self._read_file())
            data[key] = value
            self._write_file(data)
        now = self.setting(key)
        shadow = now.source if now.source in (SettingSource.ENV, SettingSource.OVERRIDE) else None
        self._notify(key, old, now.value)
        return Setting(key, value if shadow is None else now.value, now.source, now.help, shadow)

    def unset(self, key: str) -> Setting:
        definition = self._definition(key)
        if not definition.writable:
            raise ReadOnlyError(key=key)
        with self._lock:
            old = self.get(key)
            data = dict(self._read_file())
            if data.pop(key, None) is not None:
                self._write_file(data)
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

    def _read_file(self) -> dict[str, Any]:
        path = self.settings_file
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return {}
        with self._lock:
            if self._file_cache and self._file_cache[0] == mtime:
                return self._file_cache[1]
            import yaml

            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise UnreadableFileError(path=path, reason=_first_line(exc)) from exc
            if not isinstance(data, dict):
                raise UnreadableFileError(path=path, reason="expected a mapping of KEY: value")
            self._file_cache = (mtime, {str(k): v for k, v in data.items()})
            return self._file_cache[1]

    def _write_file(self, data: dict[str, Any]) -> None:
        import yaml

        path = self.settings_file
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, yaml.safe_dump(data, sort_keys=True))
        self._file_cache = None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
