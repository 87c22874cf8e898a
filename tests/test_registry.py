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
