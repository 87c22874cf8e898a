"""KeyringService: backend detection and the master-key chain env > keyring > key file."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from _secret_keyring_backend import NAME as FILE_KEYRING
from _secret_keyring_backend import PATH_ENV, read_entries
from _secret_support import HEADLESS, keyring_for, services

from bodhi_nb.errors import (
    EnvKeyPlaceholderError,
    EnvKeyTooShortError,
    KeyFileInsecureError,
    KeyFileInsideHomeError,
    KeyFileInvalidError,
    KeyringUnavailableError,
)
from bodhi_nb.services.keyring import (
    KEYRING_SERVICE,
    MASTER_KEY_ENTRY,
    KeySource,
    MasterKey,
    default_config_dir,
)
from bodhi_nb.services.localization import LocalizationService

ENV_VALUE = "correct horse battery staple 42"


def _en(notice: object) -> str:
    """A service's Notice as the user reads it, in English."""
    from bodhi_nb.services.localization import LocalizationService

    return LocalizationService().message(str(notice), dict(getattr(notice, "args", {})))


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts on a machine without an OS keyring (never the developer's own)."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real file-based keyring backend, selected the way users select one."""
    store = tmp_path / "keyring.json"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FILE_KEYRING)
    monkeypatch.setenv(PATH_ENV, str(store))
    return store


def _xdg(tmp_path: Path) -> Path:
    return tmp_path / "xdg_config" / "bodhi_nb"


# -- headless: keyring raises NoKeyringError, the key file takes over -----------------------


def test_headless_keyring_really_raises_no_keyring_error() -> None:
    import keyring.errors
    from keyring import core

    backend = core.load_keyring(HEADLESS)
    with pytest.raises(keyring.errors.NoKeyringError):
        backend.set_password(KEYRING_SERVICE, MASTER_KEY_ENTRY, "x")


def test_headless_first_key_goes_to_a_private_key_file(isolated_env: Path,
                                                       tmp_path: Path) -> None:
    service = keyring_for(isolated_env)
    assert not service.available
    assert service.preferred() is None
    with pytest.raises(KeyringUnavailableError):
        service.get_credential(MASTER_KEY_ENTRY)

    with service.store_lock():
        key = service.create()
    assert key.source is KeySource.FILE
    path = _xdg(tmp_path) / "master.key"
    assert service.key_file == path
    assert isolated_env not in path.parents
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    doc = json.loads(path.read_text())
    assert base64.b64decode(doc["current"]) == key.material

    notice = service.take_notice()
    assert notice == "keyring-created-key-file" and notice.args["path"] == str(path)
    assert "0600" in LocalizationService().message(notice, notice.args)
    assert service.take_notice() is None  # said once
    again = keyring_for(isolated_env).preferred()
    assert again is not None and again.key_id == key.key_id and again.source is KeySource.FILE


def test_headless_default_backend_without_any_setting(isolated_env: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """No PYTHON_KEYRING_BACKEND at all: keyring's own detection decides."""
    import keyring
    from keyring.backends import fail

    monkeypatch.delenv("PYTHON_KEYRING_BACKEND")
    if not isinstance(keyring.get_keyring(), fail.Keyring):
        pytest.skip("this machine has a real OS keyring")
    service = keyring_for(isolated_env)
    assert not service.available
    assert "key file" in _en(service.describe_source())


def test_non_viable_backends_never_crash(isolated_env: Path) -> None:
    missing = keyring_for(isolated_env, PYTHON_KEYRING_BACKEND="no_such_module.Keyring")
    assert missing.backend() is None and not missing.available
    # A backend whose priority raises RuntimeError (what keyring does for unusable ones).
    unusable = keyring_for(isolated_env, PYTHON_KEYRING_BACKEND=FILE_KEYRING)
    assert unusable.backend() is None
    with pytest.raises(KeyringUnavailableError) as info:
        unusable.set_credential("x", "y")
    assert "BODHI_TEST_KEYRING_FILE is not set" in info.value.params["reason"]
    assert "key file" in _en(unusable.describe_source())


# -- a real keyring backend -----------------------------------------------------------------


def test_real_backend_credentials_round_trip(isolated_env: Path, file_keyring: Path) -> None:
    service = keyring_for(isolated_env)
    assert service.available
    assert service.backend_name().endswith("FileKeyring")
    assert service.get_credential("api") is None
    service.set_credential("api", "value-1")
    assert service.get_credential("api") == "value-1"
    assert read_entries(file_keyring)[f"{KEYRING_SERVICE}/api"] == "value-1"
    assert service.delete_credential("api") is True
    assert service.delete_credential("api") is False
    assert service.get_credential("api") is None


def test_real_backend_holds_the_master_key(isolated_env: Path, file_keyring: Path,
                                           tmp_path: Path) -> None:
    service = keyring_for(isolated_env)
    with service.store_lock():
        key = service.create()
    assert key.source is KeySource.KEYRING
    stored = read_entries(file_keyring)[f"{KEYRING_SERVICE}/{MASTER_KEY_ENTRY}"]
    assert base64.b64decode(stored) == key.material
    assert not (_xdg(tmp_path) / "master.key").exists()
    notice = service.take_notice()
    assert notice == "keyring-created-in-keyring" and notice.args["entry"] == MASTER_KEY_ENTRY
    assert _en(keyring_for(isolated_env).describe_source()).startswith("keyring (")


def test_keyring_is_preferred_over_an_existing_key_file(isolated_env: Path,
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    file_key = keyring_for(isolated_env)
    with file_key.store_lock():
        from_file = file_key.create()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FILE_KEYRING)
    monkeypatch.setenv(PATH_ENV, str(tmp_path / "keyring.json"))
    service = keyring_for(isolated_env)
    # Keyring empty: the existing key file is still the chain's answer (no new key).
    preferred = service.preferred()
    assert preferred is not None and preferred.key_id == from_file.key_id
    service.set_credential(MASTER_KEY_ENTRY, base64.b64encode(b"k" * 32).decode())
    preferred = service.preferred()
    assert preferred is not None and preferred.source is KeySource.KEYRING


# -- BODHI_ENCRYPTION_KEY ---------------------------------------------------------------------


def test_env_key_wins_over_keyring_and_file(isolated_env: Path, file_keyring: Path) -> None:
    service = keyring_for(isolated_env, BODHI_ENCRYPTION_KEY=ENV_VALUE)
    service.set_credential(MASTER_KEY_ENTRY, base64.b64encode(b"k" * 32).decode())
    key = service.preferred()
    assert key is not None and key.source is KeySource.ENV
    assert key.material == hashlib.sha256(ENV_VALUE.encode()).digest()
    assert _en(service.describe_source()) == "BODHI_ENCRYPTION_KEY"


def test_env_key_is_used_by_secrets_without_creating_anything(isolated_env: Path,
                                                              tmp_path: Path) -> None:
    db, keyring, secret, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_VALUE)
    secret.store_secret("HF_TOKEN", "hf_value_0123456789")
    assert keyring.take_notice() is None
    assert not (_xdg(tmp_path) / "master.key").exists()
    assert _en(secret.master_key_source()) == "BODHI_ENCRYPTION_KEY"
    db.close()


@pytest.mark.parametrize("value", ["short", "x" * 19])
def test_env_key_too_short(isolated_env: Path, value: str) -> None:
    service = keyring_for(isolated_env, BODHI_ENCRYPTION_KEY=value)
    with pytest.raises(EnvKeyTooShortError) as info:
        service.preferred()
    assert info.value.code == "keyring_error-env_key_too_short"
    assert info.value.params == {"length": str(len(value)), "min": "20"}
    message = LocalizationService().render(info.value, {"prog": "bodhi"})
    assert "at least 20" in message and value not in message


def test_env_key_placeholder_is_refused(isolated_env: Path) -> None:
    service = keyring_for(isolated_env, BODHI_ENCRYPTION_KEY="change-me-please-0123456789")
    with pytest.raises(EnvKeyPlaceholderError):
        service.preferred()


# -- the key file's protections ---------------------------------------------------------------


def test_key_file_readable_by_others_is_refused(isolated_env: Path, tmp_path: Path) -> None:
    service = keyring_for(isolated_env)
    with service.store_lock():
        service.create()
    service.key_file.chmod(0o644)
    with pytest.raises(KeyFileInsecureError) as info:
        keyring_for(isolated_env).preferred()
    assert info.value.params["mode"] == "0644"
    message = LocalizationService().render(info.value, {"prog": "bodhi"})
    assert f"chmod 600 {service.key_file}" in message


def test_key_file_with_garbage_is_refused(isolated_env: Path, tmp_path: Path) -> None:
    path = _xdg(tmp_path) / "master.key"
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    path.chmod(0o600)
    with pytest.raises(KeyFileInvalidError):
        keyring_for(isolated_env).preferred()


def test_key_file_never_inside_bodhi_home(isolated_env: Path) -> None:
    service = keyring_for(isolated_env, XDG_CONFIG_HOME=str(isolated_env / "config"))
    with pytest.raises(KeyFileInsideHomeError), service.store_lock():
        service.create()
    assert not (isolated_env / "config" / "bodhi_nb" / "master.key").exists()


def test_default_config_dir() -> None:
    assert default_config_dir({"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/h"}) == Path(
        "/x/cfg/bodhi_nb")
    assert default_config_dir({"HOME": "/h"}) == Path("/h/.config/bodhi_nb")
    # XDG: a relative XDG_CONFIG_HOME is ignored.
    assert default_config_dir({"XDG_CONFIG_HOME": "rel", "HOME": "/h"}) == Path(
        "/h/.config/bodhi_nb")


def test_master_key_repr_never_shows_the_key() -> None:
    key = MasterKey(bytes(range(32)), KeySource.FILE)
    text = repr(key)
    assert "***" in text and key.key_id in text
    assert bytes(range(32)).hex() not in text
    assert base64.b64encode(bytes(range(32))).decode() not in text


def test_loading_the_extension_imports_neither_keyring_nor_cryptography(
        subprocess_env: dict[str, str], python: str) -> None:
    import subprocess

    code = (
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "import bodhi_nb\n"
        "bodhi_nb.load_ipython_extension(InteractiveShell.instance())\n"
        "import bodhi_nb.services.keyring, bodhi_nb.services.secret\n"
        "import bodhi_nb.services.session, bodhi_nb.commands.secret\n"
        "print(sorted(m for m in ('keyring', 'cryptography') if m in sys.modules))\n"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
