from __future__ import annotations

from pathlib import Path

import pytest

from bodhi_nb.errors import (
    ReadOnlyError,
    SettingInvalidValueError,
    UnknownKeyError,
    UnreadableFileError,
)
from bodhi_nb.services.settings import SettingService, SettingSource


def _write(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.yaml").write_text(text, encoding="utf-8")


def test_precedence_override_env_file_default(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _write(home, "BODHI_KEEP_ALIVE_SECS: 10\nBODHI_LOG_LEVEL: info\nBODHI_LOCALE: fr-FR\n")
    env = {"BODHI_HOME": str(home), "BODHI_KEEP_ALIVE_SECS": "20", "BODHI_LOG_LEVEL": "debug"}
    svc = SettingService(env=env, overrides={"BODHI_KEEP_ALIVE_SECS": 30})

    keep = svc.setting("BODHI_KEEP_ALIVE_SECS")
    assert (keep.value, keep.source) == (30, SettingSource.OVERRIDE)
    level = svc.setting("BODHI_LOG_LEVEL")
    assert (level.value, level.source) == ("debug", SettingSource.ENV)
    locale = svc.setting("BODHI_LOCALE")
    assert (locale.value, locale.source) == ("fr-FR", SettingSource.FILE)
    realm = svc.setting("BODHI_AUTH_REALM")
    assert (realm.value, realm.source) == ("bodhi", SettingSource.DEFAULT)


def test_env_beats_file_and_file_beats_default(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _write(home, "BODHI_KEEP_ALIVE_SECS: 10\n")
    assert SettingService(env={"BODHI_HOME": str(home)}).get("BODHI_KEEP_ALIVE_SECS") == 10
    svc = SettingService(env={"BODHI_HOME": str(home), "BODHI_KEEP_ALIVE_SECS": "11"})
    assert svc.get("BODHI_KEEP_ALIVE_SECS") == 11


def test_bodhi_home_defaults_to_dot_bodhi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    svc = SettingService(env={"HOME": str(tmp_path)})
    assert svc.home == tmp_path / ".bodhi"
    assert svc.setting("BODHI_HOME").source is SettingSource.DEFAULT


@pytest.mark.parametrize(("key", "raw"), [
    ("BODHI_KEEP_ALIVE_SECS", "abc"),
    ("BODHI_KEEP_ALIVE_SECS", "999999"),
    ("BODHI_LOCALE", "xx-YY"),
    ("BODHI_DB_BUSY_TIMEOUT_SECS", "0"),
])
def test_bad_value_from_env_is_a_clear_error(tmp_path: Path, key: str, raw: str) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path), key: raw})
    with pytest.raises(SettingInvalidValueError) as info:
        svc.get(key)
    assert info.value.code == "setting_service_error-invalid_value"
    assert info.value.params["key"] == key
    assert info.value.params["value"] == raw


def test_set_validates_persists_and_reports_shadowing(tmp_path: Path) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    with pytest.raises(SettingInvalidValueError):
        svc.set("BODHI_KEEP_ALIVE_SECS", "-5")
    assert not (tmp_path / "settings.yaml").exists(), "a refused write leaves no file"

    saved = svc.set("BODHI_KEEP_ALIVE_SECS", "42")
    assert saved.value == 42 and saved.shadowed_by is None
    assert "BODHI_KEEP_ALIVE_SECS: 42" in (tmp_path / "settings.yaml").read_text()
    # A second service (another kernel) sees the file.
    assert SettingService(env={"BODHI_HOME": str(tmp_path)}).get("BODHI_KEEP_ALIVE_SECS") == 42

    shadowed = SettingService(env={"BODHI_HOME": str(tmp_path), "BODHI_KEEP_ALIVE_SECS": "7"})
    result = shadowed.set("BODHI_KEEP_ALIVE_SECS", "8")
    assert result.shadowed_by is SettingSource.ENV and result.value == 7

    assert svc.unset("BODHI_KEEP_ALIVE_SECS").source is SettingSource.DEFAULT


def test_listeners_hear_writes(tmp_path: Path) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    heard: list[tuple[str, object, object]] = []
    svc.add_listener(lambda k, old, new: heard.append((k, old, new)))
    svc.set("BODHI_LOCALE", "fr-FR")
    assert heard == [("BODHI_LOCALE", "en-US", "fr-FR")]


def test_unknown_and_read_only_keys(tmp_path: Path) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    with pytest.raises(UnknownKeyError) as info:
        svc.get("NOPE")
    assert "BODHI_LOCALE" in info.value.params["known"]
    with pytest.raises(ReadOnlyError):
        svc.set("BODHI_HOME", "/elsewhere")


def test_broken_settings_file_is_reported_with_its_path(tmp_path: Path) -> None:
    _write(tmp_path, "BODHI_LOCALE: [unclosed\n")
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    with pytest.raises(UnreadableFileError) as info:
        svc.get("BODHI_LOCALE")
    assert info.value.params["path"] == str(tmp_path / "settings.yaml")
