"""The registry: ``AppService`` hands out every service, built once per BODHI_HOME.

``build_app_service`` wires the services in dependency order (time -> settings -> db ->
keyring -> secret -> session -> cache -> localization -> hub -> data -> auth -> ai_api ->
local_llm). A service that this version does not have yet is ``None`` in
``DefaultAppService``, and its accessor raises ``ServiceNotAvailableError`` rather than
handing out a fake.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
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


def _need(value: Any, name: str) -> Any:
    if value is None:
        raise ServiceNotAvailableError(service=name)
    return value


@dataclass(frozen=True)
class DefaultAppService:
    """The concrete registry: a frozen bundle of services."""

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
            close = getattr(getattr(self, name), "close", None)
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

        home = settings.home
        home.mkdir(parents=True, exist_ok=True)
        built["db"] = DbService(
            home / "bodhi.duckdb", time,
            busy_timeout=float(settings.get("BODHI_DB_BUSY_TIMEOUT_SECS")),
            idle_close=int(settings.get("BODHI_DB_IDLE_CLOSE_MS")) / 1000.0,
        )
    # keyring -> secret -> session (issue 3) are built here.
    from bodhi_nb.services.keyring import KeyringService
    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.session import SessionService

    keyring = built.get("keyring") or KeyringService.from_settings(settings)
    built["keyring"] = keyring
    built.setdefault("secret", SecretService(built["db"], keyring, time))
    built.setdefault("session", SessionService(built["db"], built["secret"], time))
    built.setdefault("cache", CacheService(time))
    localization = built.setdefault(
        "localization", LocalizationService(str(settings.get("BODHI_LOCALE"))))

    def follow_locale(key: str, old: Any, new: Any) -> None:
        if key == "BODHI_LOCALE":
            localization.locale = str(new)

    settings.add_listener(follow_locale)
    # hub -> data (issue 4), auth, ai_api -> local_llm (issue 5) are built here.
    from bodhi_nb.services.data import DataService
    from bodhi_nb.services.downloads import DownloadService
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.hub import HubService, hf_token_provider

    hf_cache = HfCache(settings.hf_cache)
    built.setdefault("hub", HubService(hf_cache, time, endpoint=str(settings.get("HF_ENDPOINT")),
                                       token=hf_token_provider(settings, built.get("secret"))))
    built.setdefault("download", DownloadService(built["db"], built["hub"], time))
    built.setdefault("data", DataService(settings, hf_cache, time, cache=built["cache"],
                                         api_aliases=lambda: built["ai_api"].list_api_aliases()))
    from bodhi_nb.services.ai_api import AiApiService

    built.setdefault("ai_api", AiApiService(built["db"], built["secret"], time))
    from bodhi_nb.services.local_llm import LocalLlmService

    built.setdefault("local_llm", LocalLlmService(settings, time))
    if built.get("ai_api") is not None and built.get("local_llm") is not None:
        from bodhi_nb.services.chat import ChatService

        built.setdefault("chat", ChatService(built["db"], time, data=built["data"],
                                             ai_api=built["ai_api"],
                                             local_llm=built["local_llm"], hf_cache=hf_cache))
    return DefaultAppService(**built)


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
