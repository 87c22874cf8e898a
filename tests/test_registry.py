from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bodhi_nb
from bodhi_nb.app import AppService, DefaultAppService, build_app_service
from bodhi_nb.errors import ServiceNotAvailableError
from bodhi_nb.services.cache import CacheService
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.testing import AppServiceStub


def test_app_is_one_registry_per_bodhi_home(tmp_path: Path, isolated_env: Path) -> None:
    first = bodhi_nb.app()
    assert first is bodhi_nb.app()
    assert first.setting_service().home == isolated_env
    other = bodhi_nb.app(tmp_path / "other")
    assert other is not first
    assert other.db_service().location == str(tmp_path / "other" / "bodhi.duckdb")
    assert isinstance(first, AppService)


def test_services_not_built_yet_say_so(app: DefaultAppService) -> None:
    missing = [name for name, ok in app.available().items() if not ok]
    for name in missing:
        with pytest.raises(ServiceNotAvailableError) as info:
            getattr(app, f"{name}_service")()
        assert info.value.params == {"service": name}


def test_stub_swaps_one_service_and_keeps_the_rest_real(tmp_path: Path) -> None:
    clock = FrozenTimeService()
    fake_hub = object()
    registry = (AppServiceStub(tmp_path).with_time_service(clock)
                .with_hub_service(fake_hub).build())
    assert registry.time_service() is clock
    assert registry.hub_service() is fake_hub
    assert registry.db_service().tables.secrets.get("nothing") is None  # first use migrates
    assert registry.db_service().info().schema_version >= 1
    registry.db_service().close()
    with pytest.raises(TypeError):
        AppServiceStub(tmp_path).with_service("nope", object())


def test_build_rejects_unknown_services_and_cache_uses_the_clock() -> None:
    with pytest.raises(TypeError):
        build_app_service(nope=1)
    clock = FrozenTimeService()
    cache = CacheService(clock, ttl=10)
    cache.set("k", 1)
    clock.advance(5)
    assert cache.get("k") == 1
    clock.advance(6)
    assert cache.get("k") is None
    assert cache.get_or_set("k", lambda: 2) == 2
    cache.set("repo:o/n", 1)
    assert cache.remove_entries_containing("o/n") == 1


def test_public_facade_is_sorted_and_lazy() -> None:
    assert bodhi_nb.__all__ == sorted(bodhi_nb.__all__)
    for name in bodhi_nb.__all__:
        assert hasattr(bodhi_nb, name)
    assert callable(bodhi_nb.app)
    code = ("import sys, bodhi_nb\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "sh = InteractiveShell.instance(); sh.run_line_magic('load_ext', 'bodhi_nb')\n"
            "heavy = ['duckdb', 'httpx', 'huggingface_hub', 'keyring', 'authlib', "
            "'ipywidgets', 'cryptography', 'yaml', 'fluent', 'gguf', 'numpy', "
            "'psycopg', 'psycopg_pool']\n"
            "print(sorted(m for m in heavy if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_service_passed_in_is_not_built_as_well(monkeypatch: pytest.MonkeyPatch) -> None:
    import bodhi_nb.services.hub as hub_module
    from bodhi_nb.services.settings import SettingService

    class NoHub:
        def __init__(self, *args: object, **kwargs: object) -> None:
            raise AssertionError("a real HubService was built and thrown away")

    monkeypatch.setattr(hub_module, "HubService", NoHub)
    fake = object()
    registry = build_app_service(SettingService(), hub=fake)
    assert registry.hub_service() is fake
    assert registry.download_service().hub is fake
    registry.close()


def test_building_the_registry_and_status_leave_the_keyring_alone(
        isolated_env: Path, subprocess_env: dict[str, str]) -> None:
    """Probing for a keyring takes a third of a second: only a command that needs the master
    key may do it, not the registry's build nor ``status``."""
    code = ("import sys\n"
            "from bodhi_nb.cli import main\n"
            "assert main(['status']) == 0\n"
            "print('LOADED', sorted(m for m in ('keyring', 'cryptography') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, env=subprocess_env)
    assert out.returncode == 0, out.stderr
    assert "none yet" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "LOADED []"


def test_app_refuses_overrides_other_than_those_it_was_built_with(tmp_path: Path) -> None:
    from bodhi_nb.app import reset_apps
    from bodhi_nb.errors import OverridesConflictError

    home = tmp_path / "home"
    try:
        first = bodhi_nb.app(home, {"BODHI_LOCALE": "fr-FR"})
        assert first.localization_service().locale == "fr-FR"
        # the same overrides, or none: that registry
        assert bodhi_nb.app(home, {"BODHI_LOCALE": "fr-FR"}) is first
        assert bodhi_nb.app(home) is first
        with pytest.raises(OverridesConflictError) as info:
            bodhi_nb.app(home, {"BODHI_LOCALE": "en-US"})
        assert info.value.code == "app_service_error-overrides_conflict"
        assert info.value.params["keys"] == "BODHI_LOCALE"
        assert first.localization_service().locale == "fr-FR"  # not silently changed
        from bodhi_nb.commands import render_error

        line = render_error(info.value)
        assert line.startswith("error[app_service_error-overrides_conflict]: ")
        assert "reset_apps" in line and "\n" not in line
    finally:
        reset_apps()
    # after a reset, the new overrides build a new registry
    try:
        again = bodhi_nb.app(home, {"BODHI_LOCALE": "en-US"})
        assert again is not first and again.localization_service().locale == "en-US"
    finally:
        reset_apps()


@pytest.mark.parametrize(("name", "module", "cls"), [
    ("hub", "bodhi_nb.services.hub", "HubService"),
    ("secret", "bodhi_nb.services.secret", "SecretService"),
    ("ai_api", "bodhi_nb.services.ai_api", "AiApiService"),
    ("local_llm", "bodhi_nb.services.local_llm", "LocalLlmService"),
])
def test_no_service_passed_in_is_built_even_when_its_dependents_are(
        monkeypatch: pytest.MonkeyPatch, name: str, module: str, cls: str) -> None:
    """A dependent built on first use receives the service passed in, never a real one."""
    import importlib

    from bodhi_nb.services.settings import SettingService

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a real {cls} was built although {name}= was passed")

    monkeypatch.setattr(importlib.import_module(module), cls, refuse)
    fake = object()
    registry = build_app_service(SettingService(), **{name: fake})
    assert getattr(registry, f"{name}_service")() is fake
    if name == "hub":
        assert registry.download_service().hub is fake
    registry.close()
