"""``AppServiceStub``: a registry of real services on a temp dir, any one swappable.

    app = (AppServiceStub(tmp_path)
           .with_time_service(FrozenTimeService())
           .with_hub_service(my_fake_hub)
           .build())

Services start real (settings from the given home, DuckDB in it, real cache and
localization), so a test replaces only what it must.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from bodhi_nb.app import SERVICE_NAMES, DefaultAppService, build_app_service

__all__ = ["AppServiceStub"]


class AppServiceStub:
    def __init__(self, home: str | Path, overrides: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self._home = Path(home)
        self._overrides = {"BODHI_HOME": str(self._home), **(overrides or {})}
        self._env = env
        self._services: dict[str, Any] = {}

    def with_service(self, name: str, service: Any) -> Self:
        if name not in SERVICE_NAMES:
            raise TypeError(f"unknown service {name!r}; known: {', '.join(SERVICE_NAMES)}")
        self._services[name] = service
        return self

    def __getattr__(self, attr: str) -> Any:
        # with_<name>_service(service) for every registry accessor.
        prefix, suffix = "with_", "_service"
        if attr.startswith(prefix) and attr.endswith(suffix):
            name = attr[len(prefix):-len(suffix)]
            if name in SERVICE_NAMES:
                return lambda service: self.with_service(name, service)
        raise AttributeError(attr)

    def build(self) -> DefaultAppService:
        from bodhi_nb.services.settings import SettingService

        settings = self._services.pop("setting", None) or SettingService(
            env=self._env, overrides=self._overrides)
        return build_app_service(settings, **self._services)
