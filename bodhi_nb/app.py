"""The registry: ``AppService`` hands out every service, built once per BODHI_HOME.

``build_app_service`` wires the services in dependency order (time -> setting -> db ->
keyring -> secret -> session -> cache -> localization -> hub -> download -> data -> ai_api ->
local_llm -> chat), each from ``bodhi_nb.services.<name>``. ``auth`` is not built by this
version: it is ``None`` in ``DefaultAppService``, and its accessor raises
``ServiceNotAvailableError`` rather than handing out a fake.

Building is cheap: nothing is opened, probed or fetched (the database lease is taken by the
first unit of work, the OS keyring is asked only when a key is needed), and every service
but time, setting, db, cache and localization is built (its module imported) on first use.
Services follow the settings they read: a ``settings KEY VALUE`` in the running kernel
reaches them through a SettingService listener (locale, Hub endpoint, HF cache, database
timeouts).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bodhi_nb.errors import ServiceNotAvailableError

if TYPE_CHECKING:
    from bodhi_nb.services.cache import CacheService
    from bodhi_nb.services.db import DbService
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import TimeService

__all__ = [
    "SERVICE_NAMES",
    "AppService",
    "DefaultAppService",
    "app",
    "build_app_service",
    "reset_apps",
]

#: Accessor names, in the order the services are built.
SERVICE_NAMES = (
    "time", "setting", "db", "keyring", "secret", "session", "cache", "localization",
    "hub", "download", "data", "auth", "ai_api", "local_llm", "chat",
)


@runtime_checkable
class AppService(Protocol):
    """One accessor per service. Later services are typed ``Any`` until they exist."""

    def time_service(self) -> TimeService: ...
    def setting_service(self) -> SettingService: ...
    def db_service(self) -> DbService: ...
    def built(self, name: str) -> bool:
        """Whether service ``name`` exists now (services are built on first use)."""
        value = getattr(self, name)
        return value.built if isinstance(value, _Lazy) else value is not None

    def keyring_service(self) -> Any: ...
    def secret_service(self) -> Any: ...
    def session_service(self) -> Any: ...
    def cache_service(self) -> CacheService: ...
    def localization_service(self) -> LocalizationService: ...
    def hub_service(self) -> Any: ...
    def download_service(self) -> Any: ...
    def data_service(self) -> Any: ...
    def auth_service(self) -> Any: ...
    def ai_api_service(self) -> Any: ...
    def local_llm_service(self) -> Any: ...
    def chat_service(self) -> Any: ...


class _Lazy:
    """A service built on first use: a command touches only the services it needs, so
    ``status`` never imports the Hub client, llama.cpp's runner or the chat layer."""

    __slots__ = ("_lock", "_make", "_value", "built")

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._value: Any = None
        self._lock = threading.RLock()
        self.built = False

    def get(self) -> Any:
        with self._lock:
            if not self.built:
                self._value = self._make()
                self.built = True
            return self._value

    def __repr__(self) -> str:
        return f"_Lazy(built={self.built})"


def _resolve(value: Any) -> Any:
    return value.get() if isinstance(value, _Lazy) else value


def _need(value: Any, name: str) -> Any:
    value = _resolve(value)
    if value is None:
        raise ServiceNotAvailableError(service=name)
    return value


@dataclass(frozen=True)
class DefaultAppService:
    """The concrete registry: a frozen bundle of services (some built on first use)."""

    time: TimeService
    setting: SettingService
    db: DbService
    cache: CacheService
    localization: LocalizationService
    keyring: Any = None
    secret: Any = None
    session: Any = None
    hub: Any = None
    download: Any = None
    data: Any = None
    auth: Any = None
    ai_api: Any = None
    local_llm: Any = None
    chat: Any = None

    def time_service(self) -> TimeService:
        return self.time

    def setting_service(self) -> SettingService:
        return self.setting

    def db_service(self) -> DbService:
        return self.db

    def built(self, name: str) -> bool:
        """Whether service ``name`` exists now (services are built on first use)."""
        value = getattr(self, name)
        return value.built if isinstance(value, _Lazy) else value is not None

    def keyring_service(self) -> Any:
        return _need(self.keyring, "keyring")

    def secret_service(self) -> Any:
        return _need(self.secret, "secret")

    def session_service(self) -> Any:
        return _need(self.session, "session")

    def cache_service(self) -> CacheService:
        return self.cache

    def localization_service(self) -> LocalizationService:
        return self.localization

    def hub_service(self) -> Any:
        return _need(self.hub, "hub")

    def download_service(self) -> Any:
        return _need(self.download, "download")

    def data_service(self) -> Any:
        return _need(self.data, "data")

    def auth_service(self) -> Any:
        return _need(self.auth, "auth")

    def ai_api_service(self) -> Any:
        return _need(self.ai_api, "ai_api")

    def local_llm_service(self) -> Any:
        return _need(self.local_llm, "local_llm")

    def chat_service(self) -> Any:
        return _need(self.chat, "chat")

    def close(self) -> None:
        """Release what the services hold (the database lease, HTTP connections)."""
        for name in reversed(SERVICE_NAMES):
            value = getattr(self, name)
            if isinstance(value, _Lazy):
                if not value.built:
                    continue  # never built: holds nothing
                value = value.get()
            close = getattr(value, "close", None)
            if callable(close):
                close()

    def available(self) -> dict[str, bool]:
        """Which services this registry has (for ``status``)."""
        return {name: getattr(self, name) is not None for name in SERVICE_NAMES}


def build_app_service(
    settings: SettingService | None = None,
    *,
    time: TimeService | None = None,
    **services: Any,
) -> DefaultAppService:
    """Build every service in dependency order; ``services`` replaces any one by name."""
    from bodhi_nb.services.cache import CacheService
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import DefaultTimeService

    unknown = set(services) - set(SERVICE_NAMES)
    if unknown:
        raise TypeError(f"unknown services: {', '.join(sorted(unknown))}")
    built: dict[str, Any] = dict(services)
    built["time"] = time = time or built.get("time") or DefaultTimeService()
    built["setting"] = settings = settings or built.get("setting") or SettingService()
    if "db" not in built:
        from bodhi_nb.services.db import DbService
        from bodhi_nb.store import open_store

        built["db"] = DbService(open_store(
            str(settings.get("BODHI_DATABASE_URL")), settings.home, time,
            busy_timeout=float(settings.get("BODHI_DB_BUSY_TIMEOUT_SECS")),
            idle_close=int(settings.get("BODHI_DB_IDLE_CLOSE_MS")) / 1000.0,
        ))

    def need(name: str, make: Callable[[], Any]) -> None:
        # Build a service only when none was passed (``dict.setdefault(name, Service(...))``
        # would build a real one just to throw it away), and only on first use.
        if name not in built:
            built[name] = _Lazy(make)

    def get(name: str) -> Any:
        return _resolve(built[name])

    def make_hf_cache() -> Any:
        from bodhi_nb.services.hf_cache import HfCache

        return HfCache(settings.hf_cache)

    hf_cache = _Lazy(make_hf_cache)

    def make_keyring() -> Any:
        from bodhi_nb.services.keyring import KeyringService

        return KeyringService.from_settings(settings)

    def make_secret() -> Any:
        from bodhi_nb.services.secret import SecretService

        return SecretService(get("db").tables.secrets, get("keyring"), time)

    def make_session() -> Any:
        from bodhi_nb.services.session import SessionService

        return SessionService(get("db").tables.sessions, get("secret"), time)

    def make_hub() -> Any:
        from bodhi_nb.services.hub import HubService, hf_token_provider

        return HubService(hf_cache.get(), time, endpoint=str(settings.get("HF_ENDPOINT")),
                          token=hf_token_provider(settings, get("secret")))

    def make_download() -> Any:
        from bodhi_nb.services.downloads import DownloadService

        return DownloadService(get("db").tables.downloads, get("hub"), time)

    def make_data() -> Any:
        from bodhi_nb.services.data import DataService

        return DataService(settings, hf_cache.get(), time, cache=get("cache"),
                           api_aliases=lambda: get("ai_api").list_api_aliases())

    def make_ai_api() -> Any:
        from bodhi_nb.services.ai_api import AiApiService

        return AiApiService(get("db").tables.api_aliases, get("secret"), time)

    def make_local_llm() -> Any:
        from bodhi_nb.services.local_llm import LocalLlmService

        return LocalLlmService(settings, time)

    def make_chat() -> Any:
        from bodhi_nb.services.chat import ChatService

        return ChatService(get("db").tables.chat_messages, time, data=get("data"),
                           ai_api=get("ai_api"), local_llm=get("local_llm"),
                           hf_cache=hf_cache.get())

    need("keyring", make_keyring)
    need("secret", make_secret)
    need("session", make_session)
    if "cache" not in built:
        built["cache"] = CacheService(time)
    if "localization" not in built:
        built["localization"] = LocalizationService(str(settings.get("BODHI_LOCALE")))
    need("hub", make_hub)
    need("download", make_download)
    need("data", make_data)
    need("ai_api", make_ai_api)
    need("local_llm", make_local_llm)
    if built["ai_api"] is not None and built["local_llm"] is not None:
        need("chat", make_chat)
    settings.add_listener(_follower(built, hf_cache))
    return DefaultAppService(**built)


def _follower(built: Mapping[str, Any], hf_cache: _Lazy) -> Callable[[str, Any, Any], None]:
    """The listener that makes a setting written in this kernel take effect at once in the
    services that read it when they were built (a service built later reads it then)."""

    def existing(name: str) -> Any:
        value = built.get(name)
        if isinstance(value, _Lazy):
            return value.get() if value.built else None
        return value

    def follow(key: str, old: Any, new: Any) -> None:
        if key == "BODHI_LOCALE":
            existing("localization").locale = str(new)
        elif key == "HF_ENDPOINT" and hasattr(hub := existing("hub"), "endpoint"):
            hub.endpoint = str(new).rstrip("/")
        elif key == "HF_HOME" and hf_cache.built:
            hf_cache.get().root = Path(new) / "hub"
        elif key == "BODHI_DB_BUSY_TIMEOUT_SECS" and hasattr(
                store := existing("db").store, "busy_timeout"):
            store.busy_timeout = float(new)
        elif key == "BODHI_DB_IDLE_CLOSE_MS" and hasattr(
                store := existing("db").store, "idle_close"):
            store.idle_close = int(new) / 1000.0

    return follow


_APPS: dict[Path, DefaultAppService] = {}
_APPS_LOCK = threading.Lock()


def app(home: str | os.PathLike[str] | None = None,
        overrides: Mapping[str, Any] | None = None) -> DefaultAppService:
    """This kernel's registry for ``home`` (default: the resolved BODHI_HOME), built once."""
    from bodhi_nb.services.settings import SettingService

    settings_overrides = dict(overrides or {})
    if home is not None:
        settings_overrides["BODHI_HOME"] = str(home)
    settings = SettingService(overrides=settings_overrides)
    key = settings.home.resolve()
    with _APPS_LOCK:
        if key not in _APPS:
            _APPS[key] = build_app_service(settings)
        return _APPS[key]


def reset_apps() -> None:
    """Forget every registry of this process (closing their databases)."""
    with _APPS_LOCK:
        for registry in _APPS.values():
            registry.close()
        _APPS.clear()
