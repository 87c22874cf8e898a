"""The ``bodhi`` console script, through its installed entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bodhi_nb.cli import main

BODHI = shutil.which("bodhi", path=str(Path(sys.executable).parent))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    assert BODHI, "the bodhi console script is installed with the package"
    return subprocess.run([BODHI, *args], capture_output=True, text=True, timeout=120)


def test_status_through_the_console_script(isolated_env: Path) -> None:
    proc = _run("status")
    assert proc.returncode == 0, proc.stderr
    assert str(isolated_env / "bodhi.duckdb") in proc.stdout
    assert "schema version" in proc.stdout
    assert proc.stderr == ""


def test_unknown_command_exit_code_and_single_line() -> None:
    proc = _run("nonsense")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error[command_error-unknown_command]: Unknown command 'nonsense'")
    assert "bodhi help" not in lines[0] or "Commands:" in lines[0]


def test_settings_set_and_bad_value_exit_codes(isolated_env: Path) -> None:
    ok = _run("settings", "BODHI_LOCALE", "fr-FR")
    assert ok.returncode == 0 and "BODHI_LOCALE = fr-FR" in ok.stdout
    bad = _run("settings", "BODHI_KEEP_ALIVE_SECS", "nope")
    assert bad.returncode == 1
    # the locale just saved is now in force: the error line is French
    assert bad.stderr.startswith("error[setting_service_error-invalid_value]: Le réglage")
    assert "`bodhi settings BODHI_KEEP_ALIVE_SECS VALEUR`" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_main_in_process_matches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["help"]) == 0
    assert "settings" in capsys.readouterr().out
    assert main(["settings", "--bogus"]) == 2
    assert "error[command_error-bad_arguments]" in capsys.readouterr().err
    assert main(["status", "--json"]) == 0
    assert '"schema version"' in capsys.readouterr().out


def test_module_invocation(isolated_env: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bodhi_nb.cli", "version"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "bodhi_nb" in proc.stdout
