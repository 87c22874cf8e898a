"""The registry: ``AppService`` hands out every service, built once per BODHI_HOME.

``build_app_service`` wires the services in dependency order (time -> setting -> db ->
keyring -> secret -> session -> cache -> localization -> usage -> hub -> download -> data ->
auth -> access_request -> api_token -> ai_api -> local_llm -> chat -> lock), each from
``bodhi_nb.services.<name>`` (``access_request``: ``bodhi_nb.services.access_requests``;
``api_token``: ``bodhi_nb.services.api_tokens``). ``auth`` is always built (on first use);
it is off (``enabled`` false) while ``BODHI_AUTH_ISSUER`` is empty.

Building is cheap: nothing is opened, probed or fetched (the database lease is taken by the
first unit of work, the OS keyring is asked only when a key is needed), and every service
but time, setting, db, cache, localization and usage is built (its module imported) on first use.
Services follow the settings they read: a ``settings KEY VALUE`` in the running kernel
reaches them through a SettingService listener (locale, Hub endpoint, HF cache, database
timeouts).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Protocol,
    TypeAlias,
    TypeVar,
    cast,
    runtime_checkable,
)

from bodhi_nb.errors import OverridesConflictError, ServiceNotAvailableError

if TYPE_CHECKING:
    from bodhi_nb.objs import UserAlias
    from bodhi_nb.services.access_requests import AccessRequestService
    from bodhi_nb.services.ai_api import AiApiService
    from bodhi_nb.services.api_tokens import ApiTokenService
    from bodhi_nb.services.auth import AuthService
    from bodhi_nb.services.cache import CacheService
    from bodhi_nb.services.chat import ChatService
    from bodhi_nb.services.data import DataService
    from bodhi_nb.services.db import DbService
    from bodhi_nb.services.downloads import DownloadService
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.hub import HubService
    from bodhi_nb.services.keyring import KeyringService
    from bodhi_nb.services.local_llm import LocalLlmService
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.services.lock import LockService
    from bodhi_nb.services.policy import Action
    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.session import SessionService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import TimeService
    from bodhi_nb.services.usage import UsageService
    from bodhi_nb.store import Tables

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
    "usage", "hub", "download", "data", "auth", "access_request", "api_token", "ai_api",
    "local_llm", "chat", "lock",
)

T = TypeVar("T")


@runtime_checkable
class AppService(Protocol):
    """One accessor per service, each returning the concrete service."""

    def time_service(self) -> TimeService: ...
    def setting_service(self) -> SettingService: ...
    def db_service(self) -> DbService: ...
    def built(self, name: str) -> bool:
        """Whether service ``name`` exists now (services are built on first use)."""
        value = getattr(self, name)
        return value.built if isinstance(value, _Lazy) else value is not None

    def keyring_service(self) -> KeyringService: ...
    def secret_service(self) -> SecretService: ...
    def session_service(self) -> SessionService: ...
    def cache_service(self) -> CacheService: ...
    def localization_service(self) -> LocalizationService: ...
    def hub_service(self) -> HubService: ...
    def download_service(self) -> DownloadService: ...
    def data_service(self) -> DataService: ...
    def auth_service(self) -> AuthService: ...
    def access_request_service(self) -> AccessRequestService: ...
    def api_token_service(self) -> ApiTokenService: ...
    def ai_api_service(self) -> AiApiService: ...
    def local_llm_service(self) -> LocalLlmService: ...
    def chat_service(self) -> ChatService: ...
    def usage_service(self) -> UsageService: ...
    def lock_service(self) -> LockService: ...
    def available(self) -> dict[str, bool]: ...
    def check(self, action: Action) -> None:
        """The policy's check for ``action`` (the gate every service calls)."""
    def close(self) -> None: ...


class _Lazy(Generic[T]):
    """A service built on first use: a command touches only the services it needs, so
    ``status`` never imports the Hub client, llama.cpp's runner or the chat layer."""

    __slots__ = ("_lock", "_make", "_value", "built")

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.RLock()
        self.built = False

    def get(self) -> T:
        with self._lock:
            if not self.built:
                self._value = self._make()
                self.built = True
            return cast(T, self._value)

    def __repr__(self) -> str:
        return f"_Lazy(built={self.built})"


#: A registry slot: the service, one built on first use, or none (not available).
Slot: TypeAlias = "T | _Lazy[T] | None"


def _resolve(value: T | _Lazy[T]) -> T:
    return value.get() if isinstance(value, _Lazy) else value


def _need(value: Slot[T], name: str) -> T:
    found = _resolve(value) if value is not None else None
    if found is None:
        raise ServiceNotAvailableError(service=name)
    return found


@dataclass(frozen=True)
class DefaultAppService:
    """The concrete registry: a frozen bundle of services (some built on first use)."""

    time: TimeService
    setting: SettingService
    db: DbService
    cache: CacheService
    localization: LocalizationService
    keyring: Slot[KeyringService] = None
    secret: Slot[SecretService] = None
    session: Slot[SessionService] = None
    hub: Slot[HubService] = None
    download: Slot[DownloadService] = None
    data: Slot[DataService] = None
    auth: Slot[AuthService] = None
    access_request: Slot[AccessRequestService] = None
    api_token: Slot[ApiTokenService] = None
    ai_api: Slot[AiApiService] = None
    local_llm: Slot[LocalLlmService] = None
    chat: Slot[ChatService] = None
    #: what this process used (always built by ``build_app_service``), and the lock file
    usage: Slot[UsageService] = None
    lock: Slot[LockService] = None
    #: the gate the services were built with (``build_app_service``); None (a registry put
    #: together by hand): everything is allowed
    gate: Callable[[Action], None] | None = field(default=None, repr=False)

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

    def keyring_service(self) -> KeyringService:
        return _need(self.keyring, "keyring")

    def secret_service(self) -> SecretService:
        return _need(self.secret, "secret")

    def session_service(self) -> SessionService:
        return _need(self.session, "session")

    def cache_service(self) -> CacheService:
        return self.cache

    def localization_service(self) -> LocalizationService:
        return self.localization

    def hub_service(self) -> HubService:
        return _need(self.hub, "hub")

    def download_service(self) -> DownloadService:
        return _need(self.download, "download")

    def data_service(self) -> DataService:
        return _need(self.data, "data")

    def auth_service(self) -> AuthService:
        return _need(self.auth, "auth")

    def access_request_service(self) -> AccessRequestService:
        return _need(self.access_request, "access_request")

    def api_token_service(self) -> ApiTokenService:
        return _need(self.api_token, "api_token")

    def ai_api_service(self) -> AiApiService:
        return _need(self.ai_api, "ai_api")

    def local_llm_service(self) -> LocalLlmService:
        return _need(self.local_llm, "local_llm")

    def chat_service(self) -> ChatService:
        return _need(self.chat, "chat")

    def usage_service(self) -> UsageService:
        return _need(self.usage, "usage")

    def lock_service(self) -> LockService:
        return _need(self.lock, "lock")

    def check(self, action: Action) -> None:
        """The policy's check for ``action``, as the services make it (a command checks
        before it runs, so nobody is asked for a value they may not store)."""
        if self.gate is not None:
            self.gate(action)

    def close(self) -> None:
        """Release what the services hold (the database lease, HTTP connections)."""
        for name in reversed(SERVICE_NAMES):
            value: object = getattr(self, name)
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
    """Build every service in dependency order; ``services`` replaces any one by name (a
    service passed in is used as it is: no real one is built beside it)."""
    from bodhi_nb.services.cache import CacheService
    from bodhi_nb.services.localization import LocalizationService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.services.usage import UsageService

    unknown = set(services) - set(SERVICE_NAMES)
    if unknown:
        raise TypeError(f"unknown services: {', '.join(sorted(unknown))}")
    # Whatever a caller passes (a fake, None for "not available") goes in as it is: the
    # slots hold objects of the services' types or stand-ins shaped like them.
    built: dict[str, Any] = dict(services)
    clock: TimeService = time or built.get("time") or DefaultTimeService()
    setting: SettingService = settings or built.get("setting") or SettingService()
    built["time"], built["setting"] = clock, setting
    if "db" not in built:
        from bodhi_nb.services.db import DbService
        from bodhi_nb.store import open_store

        built["db"] = DbService(open_store(
            str(setting.get("BODHI_DATABASE_URL")), setting.home, clock,
            busy_timeout=float(setting.get("BODHI_DB_BUSY_TIMEOUT_SECS")),
            idle_close=int(setting.get("BODHI_DB_IDLE_CLOSE_MS")) / 1000.0,
        ))

    def need(name: str, make: Callable[[], object]) -> None:
        # Build a service only when none was passed (``dict.setdefault(name, Service(...))``
        # would build a real one just to throw it away), and only on first use.
        if name not in built:
            built[name] = _Lazy(make)

    def tables() -> Tables:
        from bodhi_nb.services.db import DbService

        return get("db", DbService).tables

    def get(name: str, kind: type[T]) -> T:
        # ``kind`` names the type for the checker only: a test may pass a fake of that shape.
        del kind
        return cast(T, _resolve(built[name]))

    def make_hf_cache() -> HfCache:
        from bodhi_nb.services.hf_cache import HfCache

        return HfCache(setting.hf_cache)

    hf_cache: _Lazy[HfCache] = _Lazy(make_hf_cache)

    def gate(action: Action) -> None:
        # The policy (bodhi_nb.services.policy), checked by the services themselves. With
        # authentication off this is one settings lookup and no AuthService is built, unless
        # one exists: a request served with an API token (``AuthService.acting_as``) is
        # judged by the token's scope even then.
        auth = built.get("auth")
        if not str(setting.get("BODHI_AUTH_ISSUER") or "").strip():
            if auth is None or (isinstance(auth, _Lazy) and not auth.built):
                return
        elif auth is None:
            raise ServiceNotAvailableError(service="auth")
        cast("AuthService", _resolve(auth)).check(action)

    def make_keyring() -> KeyringService:
        from bodhi_nb.services.keyring import KeyringService

        return KeyringService.from_settings(setting)

    def make_secret() -> SecretService:
        from bodhi_nb.services.keyring import KeyringService
        from bodhi_nb.services.secret import SecretService

        return SecretService(tables().secrets, get("keyring", KeyringService), clock,
                             gate=gate)

    def make_session() -> SessionService:
        from bodhi_nb.services.secret import SecretService
        from bodhi_nb.services.session import SessionService

        return SessionService(tables().sessions, get("secret", SecretService), clock)

    def make_hub() -> HubService:
        from bodhi_nb.services.hub import HubService, hf_token_provider
        from bodhi_nb.services.secret import SecretService

        return HubService(hf_cache.get(), clock, endpoint=str(setting.get("HF_ENDPOINT")),
                          token=hf_token_provider(setting, get("secret", SecretService)),
                          gate=gate, connections=int(setting.get("BODHI_PULL_CONNECTIONS")))

    def make_download() -> DownloadService:
        from bodhi_nb.services.downloads import DownloadService
        from bodhi_nb.services.hub import HubService

        return DownloadService(tables().downloads, get("hub", HubService), clock, gate=gate,
                               usage=get("usage", UsageService))

    def locked_alias(name: str) -> UserAlias | None:
        # The lock file's pin, asked by DataService.find_alias (the lock service is built
        # then, not with the data service: it needs the data service itself to write locks).
        lock = built.get("lock")
        if lock is None:
            return None
        return cast("LockService", _resolve(lock)).locked_alias(name)

    def make_data() -> DataService:
        from bodhi_nb.services.ai_api import AiApiService
        from bodhi_nb.services.data import DataService

        return DataService(setting, hf_cache.get(), clock, cache=get("cache", CacheService),
                           api_aliases=lambda: get("ai_api", AiApiService).list_api_aliases(),
                           gate=gate, usage=get("usage", UsageService), locked=locked_alias)

    def make_auth() -> AuthService:
        from bodhi_nb.services.auth import AuthService
        from bodhi_nb.services.secret import SecretService
        from bodhi_nb.services.session import SessionService

        return AuthService(setting, get("secret", SecretService),
                           get("session", SessionService), clock,
                           localization=get("localization", LocalizationService))

    def make_access_request() -> AccessRequestService:
        from bodhi_nb.services.access_requests import AccessRequestService
        from bodhi_nb.services.auth import AuthService
        from bodhi_nb.services.session import SessionService

        return AccessRequestService(tables().access_requests, get("auth", AuthService),
                                    get("session", SessionService), clock, gate=gate)

    def make_api_token() -> ApiTokenService:
        from bodhi_nb.services.api_tokens import ApiTokenService
        from bodhi_nb.services.auth import AuthService

        return ApiTokenService(tables().api_tokens, get("auth", AuthService), clock,
                               gate=gate)

    def make_ai_api() -> AiApiService:
        from bodhi_nb.services.ai_api import AiApiService
        from bodhi_nb.services.secret import SecretService

        return AiApiService(tables().api_aliases, get("secret", SecretService), clock,
                            gate=gate)

    def make_local_llm() -> LocalLlmService:
        from bodhi_nb.services.local_llm import LocalLlmService

        return LocalLlmService(setting, clock)

    def make_chat() -> ChatService:
        from bodhi_nb.services.ai_api import AiApiService
        from bodhi_nb.services.chat import ChatService
        from bodhi_nb.services.data import DataService
        from bodhi_nb.services.local_llm import LocalLlmService

        return ChatService(tables().chat_messages, clock, data=get("data", DataService),
                           ai_api=get("ai_api", AiApiService),
                           local_llm=get("local_llm", LocalLlmService),
                           hf_cache=hf_cache.get(), gate=gate)

    def make_lock() -> LockService:
        from bodhi_nb.services.data import DataService
        from bodhi_nb.services.downloads import DownloadService
        from bodhi_nb.services.hub import HubService
        from bodhi_nb.services.lock import LockService

        return LockService(setting, hf_cache.get(), get("usage", UsageService),
                           data=lambda: get("data", DataService),
                           hub=lambda: get("hub", HubService),
                           downloads=lambda: get("download", DownloadService), gate=gate)

    need("keyring", make_keyring)
    need("secret", make_secret)
    need("session", make_session)
    if "cache" not in built:
        built["cache"] = CacheService(clock)
    if "localization" not in built:
        built["localization"] = LocalizationService(str(setting.get("BODHI_LOCALE")))
    if "usage" not in built:
        built["usage"] = UsageService()
    need("hub", make_hub)
    need("download", make_download)
    need("data", make_data)
    need("auth", make_auth)
    if built["auth"] is not None:
        need("access_request", make_access_request)
        need("api_token", make_api_token)
    need("ai_api", make_ai_api)
    need("local_llm", make_local_llm)
    if built["ai_api"] is not None and built["local_llm"] is not None:
        need("chat", make_chat)
    need("lock", make_lock)
    setting.gate = gate
    setting.add_listener(_follower(built, hf_cache))
    return DefaultAppService(**built, gate=gate)


def _follower(built: Mapping[str, Any],
              hf_cache: _Lazy[HfCache]) -> Callable[[str, Any, Any], None]:
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
        elif key == "BODHI_PULL_CONNECTIONS" and hasattr(hub := existing("hub"), "connections"):
            hub.connections = int(new)
        elif key == "HF_HOME" and hf_cache.built:
            hf_cache.get().root = Path(new) / "hub"
        elif key == "BODHI_DB_BUSY_TIMEOUT_SECS" and hasattr(
                store := existing("db").store, "busy_timeout"):
            store.busy_timeout = float(new)
        elif key == "BODHI_DB_IDLE_CLOSE_MS" and hasattr(
                store := existing("db").store, "idle_close"):
            store.idle_close = int(new) / 1000.0

    return follow


#: home -> (its registry, the setting overrides it was built with)
_APPS: dict[Path, tuple[DefaultAppService, dict[str, str]]] = {}
_APPS_LOCK = threading.Lock()


def app(home: str | os.PathLike[str] | None = None,
        overrides: Mapping[str, Any] | None = None) -> DefaultAppService:
    """This kernel's registry for ``home`` (default: the resolved BODHI_HOME), built once.

    One registry per home (two would hold two handles on one database): ``overrides`` take
    effect when the registry is built. Later calls without overrides get that registry;
    later calls with different ones raise ``OverridesConflictError`` rather than being
    silently ignored (``reset_apps()`` first, or ``build_app_service`` for a registry of
    your own).
    """
    from bodhi_nb.services.settings import SettingService

    wanted = {str(k): str(v) for k, v in (overrides or {}).items()}
    settings_overrides: dict[str, Any] = dict(overrides or {})
    if home is not None:
        settings_overrides["BODHI_HOME"] = str(home)
    settings = SettingService(overrides=settings_overrides)
    key = settings.home.resolve()
    wanted.pop("BODHI_HOME", None)  # the key itself
    with _APPS_LOCK:
        found = _APPS.get(key)
        if found is None:
            registry = build_app_service(settings)
            _APPS[key] = (registry, wanted)
            return registry
        registry, built_with = found
        if wanted and wanted != built_with:
            differ = sorted(k for k in {*wanted, *built_with}
                            if wanted.get(k) != built_with.get(k))
            raise OverridesConflictError(home=str(key), keys=differ)
        return registry


def reset_apps() -> None:
    """Forget every registry of this process (closing their databases)."""
    with _APPS_LOCK:
        for registry, _ in _APPS.values():
            registry.close()
        _APPS.clear()
