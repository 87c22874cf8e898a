from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from _fs_support import read_only

from bodhi_nb.errors import (
    ReadOnlyError,
    SettingInvalidValueError,
    UnknownKeyError,
    UnreadableFileError,
    UnwritableFileError,
)
from bodhi_nb.services.settings import SETTINGS, SettingService, SettingSource

WORKER = str(Path(__file__).with_name("settings_worker.py"))


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


def test_an_override_in_the_running_kernel_is_heard_validated_and_never_saved(
        tmp_path: Path) -> None:
    env = {"BODHI_HOME": str(tmp_path), "HF_ENDPOINT": "http://env.example"}
    svc = SettingService(env=env)
    heard: list[tuple[str, object, object]] = []
    svc.add_listener(lambda k, old, new: heard.append((k, old, new)))
    now = svc.override("HF_ENDPOINT", "http://127.0.0.1:9")
    assert (now.value, now.source) == ("http://127.0.0.1:9", SettingSource.OVERRIDE)
    assert heard == [("HF_ENDPOINT", "http://env.example", "http://127.0.0.1:9")]
    with pytest.raises(SettingInvalidValueError):
        svc.override("HF_ENDPOINT", "not a url")
    assert svc.get("HF_ENDPOINT") == "http://127.0.0.1:9", "a refused value changes nothing"
    back = svc.override("HF_ENDPOINT", None)
    assert (back.value, back.source) == ("http://env.example", SettingSource.ENV)
    assert not (tmp_path / "settings.yaml").exists()
    with pytest.raises(UnknownKeyError):
        svc.override("NO_SUCH_KEY", "x")


def test_unknown_and_read_only_keys(tmp_path: Path) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    with pytest.raises(UnknownKeyError) as info:
        svc.get("NOPE")
    assert "BODHI_LOCALE" in info.value.params["known"]
    with pytest.raises(ReadOnlyError):
        svc.set("BODHI_HOME", "/elsewhere")


@pytest.mark.parametrize(("text", "key"), [
    ("BODHI_LOCALE: [unclosed\n", None),                    # not YAML
    ("- just\n- a list\n", None),                          # not a mapping
    ("BODHI_KEEP_ALIVE_SECS: lots\n", "BODHI_KEEP_ALIVE_SECS"),  # a bad value
    ("BODHI_LOCALE: xx-XX\n", "BODHI_LOCALE"),             # a bad locale
    ("BODHI_DB_BUSY_TIMEOUT_SECS: .nan\n", "BODHI_DB_BUSY_TIMEOUT_SECS"),
    ("HF_ENDPOINT: not a url\n", "HF_ENDPOINT"),
])
def test_a_bad_settings_file_is_reported_not_fatal(tmp_path: Path, text: str,
                                                   key: str | None) -> None:
    _write(tmp_path, text)
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    # Every setting still resolves (to its default where the file is bad) ...
    assert {s.key for s in svc.all()} == set(SETTINGS)
    assert svc.get("BODHI_LOCALE") == "en-US"
    # ... and the problem is named: the file, or the key.
    problems = svc.problems()
    assert len(problems) == 1
    if key is None:
        assert isinstance(problems[0], UnreadableFileError)
        assert problems[0].params["path"] == str(tmp_path / "settings.yaml")
    else:
        assert isinstance(problems[0], SettingInvalidValueError)
        assert problems[0].params["key"] == key
        assert svc.setting(key).problem is not None
        assert svc.setting(key).source is SettingSource.DEFAULT


@pytest.mark.parametrize("text", ["BODHI_LOCALE: [unclosed\n", "- a list\n",
                                  "BODHI_LOCALE: xx-XX\nBODHI_KEEP_ALIVE_SECS: 5\n"])
def test_every_command_works_and_settings_repairs_a_bad_file(
        isolated_env: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    from bodhi_nb.app import reset_apps
    from bodhi_nb.cli import main

    _write(isolated_env, text)
    assert main(["status"]) == 0, capsys.readouterr().err
    assert main(["settings", "BODHI_LOCALE", "fr-FR"]) == 0, capsys.readouterr().err
    reset_apps()
    fixed = SettingService()
    assert fixed.setting("BODHI_LOCALE").value == "fr-FR"
    assert fixed.problems() == []
    if "KEEP_ALIVE" in text:  # the good line of a file with one bad value is kept
        assert fixed.get("BODHI_KEEP_ALIVE_SECS") == 5
    else:  # an unreadable file was moved aside, not lost
        assert (isolated_env / "settings.yaml.broken").read_text() == text
    _write(isolated_env, text)
    assert main(["settings", "BODHI_LOCALE", "--unset"]) == 0, capsys.readouterr().err
    reset_apps()
    assert SettingService().problems() == []


def test_unset_in_a_broken_file_starts_it_over(tmp_path: Path) -> None:
    _write(tmp_path, "BODHI_LOCALE: [unclosed\n")
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    now = svc.unset("BODHI_LOCALE")
    assert now.source is SettingSource.DEFAULT
    assert now.moved_aside == tmp_path / "settings.yaml.broken"
    assert svc.problems() == []


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "Infinity", float("nan"),
                                 float("inf"), "1e999"])
def test_nan_and_infinity_are_refused_for_every_float_setting(tmp_path: Path,
                                                              raw: object) -> None:
    floats = [d.key for d in SETTINGS.values() if d.kind == "float"]
    assert floats, "there are float settings to check"
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    for key in floats:
        with pytest.raises(SettingInvalidValueError):
            svc.set(key, raw)
        with pytest.raises(SettingInvalidValueError):
            SettingService(env={"BODHI_HOME": str(tmp_path), key: str(raw)}).get(key)
    assert not (tmp_path / "settings.yaml").exists()


@pytest.mark.parametrize(("key", "raw"), [
    ("HF_HOME", ""), ("HF_HOME", "   "), ("HF_ENDPOINT", ""), ("HF_ENDPOINT", "not a url"),
    ("HF_ENDPOINT", "ftp://host"), ("HF_ENDPOINT", "http://"), ("HF_ENDPOINT", "huggingface.co"),
    ("HF_ENDPOINT", "http://host:99999"), ("HF_ENDPOINT", "http://ho st"),
    ("HF_ENDPOINT", "http://host\n"), ("BODHI_AUTH_URL", "auth.example"),
])
def test_empty_paths_and_malformed_urls_are_refused(tmp_path: Path, key: str,
                                                    raw: str) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    with pytest.raises(SettingInvalidValueError) as info:
        svc.set(key, raw)
    assert info.value.params["key"] == key


def test_good_urls_are_accepted_and_credentials_never_shown(tmp_path: Path) -> None:
    svc = SettingService(env={"BODHI_HOME": str(tmp_path)})
    for url in ("http://127.0.0.1:8080", "https://hub.example/mirror/", "http://[::1]:9"):
        assert svc.set("HF_ENDPOINT", url).value == url
    assert svc.set("BODHI_AUTH_URL", "").value == ""
    saved = svc.set("HF_ENDPOINT", "http://user:pa55word@hub.example")
    assert saved.value == "http://user:pa55word@hub.example"  # the hub needs the real URL
    assert "pa55word" not in saved.shown and saved.shown == "http://***@hub.example"
    assert all("pa55word" not in s.shown for s in svc.all())
    with pytest.raises(SettingInvalidValueError) as info:
        svc.set("HF_ENDPOINT", "http://user:pa55word@ho st")
    assert "pa55word" not in str(info.value)


def test_four_processes_writing_at_once_lose_no_update(
        isolated_env: Path, subprocess_env: dict[str, str], python: str) -> None:
    keys = ["BODHI_KEEP_ALIVE_SECS", "BODHI_DB_IDLE_CLOSE_MS", "BODHI_LLAMACPP_ARGS",
            "BODHI_AUTH_REALM"]
    writes = 150
    for key in keys:
        subprocess_env.pop(key, None)
    procs = [subprocess.Popen([python, WORKER, key, str(writes)], env=subprocess_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for key in keys]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    lost = sum(r["lost"] for r in results)
    final = SettingService()
    finals = {key: str(final.get(key)) for key in keys}
    assert lost == 0, f"{lost} updates lost (overwritten by a stale copy)"
    assert finals == {key: str(writes) for key in keys}


def test_bodhi_home_and_settings_are_private_whatever_the_umask(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    old = os.umask(0)
    try:
        SettingService(env={"BODHI_HOME": str(home)}).set("BODHI_LOCALE", "fr-FR")
    finally:
        os.umask(old)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "settings.yaml").stat().st_mode) & 0o077 == 0


def test_a_read_only_home_is_a_coded_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    svc = SettingService(env={"BODHI_HOME": str(home)})
    with read_only(home):
        assert svc.get("BODHI_LOCALE") == "en-US"
        with pytest.raises(UnwritableFileError) as info:
            svc.set("BODHI_LOCALE", "fr-FR")
    assert info.value.params["path"] == str(home / "settings.yaml")


def test_status_and_settings_name_the_problem_and_the_moved_file(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.app import reset_apps
    from bodhi_nb.cli import main

    _write(isolated_env, "BODHI_LOCALE: xx-XX\n")
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "setting_service_error-invalid_value" in out and "BODHI_LOCALE" in out
    assert main(["settings"]) == 0
    assert "BODHI_LOCALE" in capsys.readouterr().out.split("setting_service_error")[1]
    reset_apps()
    _write(isolated_env, "BODHI_LOCALE: [unclosed\n")
    assert main(["settings", "BODHI_KEEP_ALIVE_SECS", "7"]) == 0
    assert str(isolated_env / "settings.yaml.broken") in capsys.readouterr().out


def test_settings_and_status_never_show_endpoint_credentials(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main

    secret_url = "http://ann:hunter2-pass@127.0.0.1:9/hub"
    for argv in (["settings", "HF_ENDPOINT", secret_url], ["settings", "HF_ENDPOINT"],
                 ["settings"], ["settings", "--json"], ["status"], ["status", "--verbose"],
                 ["status", "--json"], ["settings", "HF_ENDPOINT", "--unset"]):
        assert main(argv) == 0, argv
        captured = capsys.readouterr()
        assert "hunter2" not in captured.out + captured.err, argv
    assert main(["settings", "HF_ENDPOINT", secret_url]) == 0
    assert "***@127.0.0.1:9" in capsys.readouterr().out
