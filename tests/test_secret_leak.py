"""A secret typed at the prompt never shows up anywhere else.

The secret commands run through the ``%bodhi`` magic in a real InteractiveShell and through
the ``bodhi`` CLI (in process and as a real console script reading the value from a pipe);
afterwards the value must be absent from every captured output, log record, exception text,
``Out[n]`` and every file under BODHI_HOME, while still being stored and readable.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from _backends import both_backends
from _secret_support import HEADLESS
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.app import app, reset_apps
from bodhi_nb.cli import main
from bodhi_nb.redact import get_logger, redact, register_secret, scrub
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store import open_store

BODHI = shutil.which("bodhi", path=str(Path(sys.executable).parent))


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def value() -> str:
    return "hf_LeakCanary" + secrets.token_hex(12)


@pytest.fixture
def prompts(monkeypatch: pytest.MonkeyPatch, value: str) -> list[str]:
    """Both front ends read the value with getpass.getpass: answer it, record the prompts."""
    asked: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        asked.append(prompt)
        return value

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    return asked


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _assert_absent_from_home(home: Path, value: str) -> int:
    files = _files_under(home)
    for path in files:
        assert value.encode() not in path.read_bytes(), path
    return len(files)


def _assert_absent_from_store(home: Path, value: str) -> int:
    """Every row of every table of the test's store (DuckDB under ``home`` or PostgreSQL)
    holds no trace of ``value``; how many rows were read."""
    store = open_store(os.environ.get("BODHI_DATABASE_URL", ""), home, DefaultTimeService())
    try:
        rows = [row for table in store.tables() for row in store.execute(
            f"SELECT * FROM {table}")]
    finally:
        store.close()
    assert rows, "the secret's row is somewhere"
    assert all(value not in str(cell) for row in rows for cell in row)
    return len(rows)


def _database_password() -> str | None:
    """The password in BODHI_DATABASE_URL (PostgreSQL), which no output may show either."""
    return urllib.parse.urlsplit(os.environ.get("BODHI_DATABASE_URL", "")).password


def _assert_clean_logs(caplog: pytest.LogCaptureFixture, value: str) -> None:
    for record in caplog.records:
        assert value not in record.getMessage()
        assert value not in repr(record.args)
        assert value not in (record.exc_text or "")


@both_backends
def test_magic_never_leaks(shell: InteractiveShell, prompts: list[str], value: str,
                           isolated_env: Path, capsys: pytest.CaptureFixture[str],
                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    lines = [
        "secret set HF_TOKEN",
        "secret ls",
        "secret ls --json",
        "status",
        f"secret set HF_TOKEN {value}",            # refused: value on the command line
        f"secret set HF_TOKEN={value}",            # refused the same way
        f"secret set HF_TOKEN --value {value}",    # unknown option, still refused
        f"secret {value}",                         # not an action: never echoed
        f"secret rm HF_TOKEN {value}",
        "secret rotate-key",
        "secret set OTHER_TOKEN",
    ]
    errors = []
    for line in lines:
        result = shell.run_cell(f"%bodhi {line}")
        errors += [result.error_before_exec, result.error_in_exec]
    out, err = capsys.readouterr()

    stored = app().secret_service().retrieve_secret("HF_TOKEN")
    assert stored == value  # it really was stored, so absence elsewhere means something
    assert len(prompts) == 2 and all(value not in p for p in prompts)
    assert "HF_TOKEN" in prompts[0] and "hidden" in prompts[0]

    assert value not in out and value not in err
    assert out.count("Stored secret HF_TOKEN") == 1
    assert "master key in the key file" in out  # the one-time notice, once
    assert out.count("Created a new master key") == 1
    assert "secret_error-value_on_command_line" in err
    assert err.count("error[") == 5, err
    assert "Re-encrypted 2 secret(s)" not in out and "Re-encrypted 1 secret(s)" in out
    assert "master key" in out and "key file (" in out  # status row
    for output in shell.user_ns["Out"].values():
        assert value not in repr(output)
        bundle = output._repr_mimebundle_()
        assert all(value not in str(v) for v in bundle.values())
    assert all(e is None or value not in f"{e!r} {e}" for e in errors)
    _assert_clean_logs(caplog, value)
    password = _database_password()
    if password:
        assert password not in out + err and "***" in out  # status shows the URL redacted
        _assert_clean_logs(caplog, password)

    reset_apps()  # close the database so everything is on disk
    # (on PostgreSQL nothing of the store is under BODHI_HOME: the rows are read below)
    assert _assert_absent_from_home(isolated_env, value) >= (0 if password else 1)
    _assert_absent_from_store(isolated_env, value)


def test_magic_status_shows_the_source_never_the_key(shell: InteractiveShell,
                                                     prompts: list[str],
                                                     isolated_env: Path) -> None:
    before = shell.run_line_magic("bodhi", "status").to_text()
    assert "none yet" in before
    shell.run_line_magic("bodhi", "secret set HF_TOKEN")
    status = shell.run_line_magic("bodhi", "status").to_text()
    keyring = app().keyring_service()
    material = json.loads(keyring.key_file.read_text())["current"]
    assert f"key file ({keyring.key_file})" in status
    assert material not in status


@both_backends
def test_cli_in_process_never_leaks(prompts: list[str], value: str, isolated_env: Path,
                                    capsys: pytest.CaptureFixture[str],
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert main(["secret", "set", "HF_TOKEN"]) == 0
    assert main(["secret", "set", "HF_TOKEN", value]) == 1
    assert main(["secret", value]) == 2
    assert main(["secret", "ls", "--json"]) == 0
    assert main(["secret", "rotate-key"]) == 0
    out, err = capsys.readouterr()
    assert value not in out and value not in err
    assert "error[secret_error-value_on_command_line]" in err
    assert "bodhi secret set HF_TOKEN" in err  # names the fix with the CLI's prefix
    listing = json.loads(out[out.index("["):out.index("]") + 1])
    assert [row["name"] for row in listing] == ["HF_TOKEN"]
    assert set(listing[0]) == {"name", "created", "updated"}
    assert app().secret_service().retrieve_secret("HF_TOKEN") == value
    _assert_clean_logs(caplog, value)
    reset_apps()
    _assert_absent_from_home(isolated_env, value)
    _assert_absent_from_store(isolated_env, value)


@both_backends
def test_console_script_reads_the_value_from_a_pipe(value: str, isolated_env: Path,
                                                    subprocess_env: dict[str, str]) -> None:
    assert BODHI, "the bodhi console script is installed with the package"
    # A new session has no controlling terminal, so getpass reads the pipe like a script.
    setp = subprocess.run([BODHI, "secret", "set", "HF_TOKEN"], input=value + "\n",
                          capture_output=True, text=True, timeout=120, env=subprocess_env,
                          start_new_session=True)
    assert setp.returncode == 0, setp.stderr
    listing = subprocess.run([BODHI, "secret", "ls"], capture_output=True, text=True,
                             timeout=120, env=subprocess_env)
    refused = subprocess.run([BODHI, "secret", "set", "HF_TOKEN", value],
                             capture_output=True, text=True, timeout=120, env=subprocess_env)
    assert refused.returncode == 1
    for proc in (setp, listing, refused):
        assert value not in proc.stdout and value not in proc.stderr
    assert "HF_TOKEN" in listing.stdout
    assert app().secret_service().retrieve_secret("HF_TOKEN") == value
    reset_apps()
    _assert_absent_from_home(isolated_env, value)
    _assert_absent_from_store(isolated_env, value)


def test_empty_value_and_no_prompt(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt="", stream=None: "   ")
    assert main(["secret", "set", "HF_TOKEN"]) == 1

    def closed(prompt: str = "", stream: object = None) -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", closed)
    assert main(["secret", "set", "HF_TOKEN"]) == 1
    err = capsys.readouterr().err
    assert "error[secret_error-empty_value]" in err
    assert "error[secret_error-no_prompt]" in err
    assert main(["secret", "rm", "HF_TOKEN"]) == 1
    assert "error[secret_error-not_found]" in capsys.readouterr().err


def test_redaction_helper_and_log_filter(caplog: pytest.LogCaptureFixture) -> None:
    token = "sk-" + secrets.token_hex(16)
    assert redact(token) == "***" + token[-4:]
    assert redact("short") == "***" and redact(None) == "***" and redact(token, tail=0) == "***"
    register_secret(token)
    assert scrub(f"Bearer {token}!") == f"Bearer ***{token[-4:]}!"
    caplog.set_level(logging.DEBUG)
    get_logger("bodhi_nb.test").warning("header was %s", token)
    assert caplog.records and token not in caplog.records[-1].getMessage()
    assert caplog.records[-1].getMessage() == f"header was ***{token[-4:]}"
