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
    proc = _run("status", "--verbose")
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
    assert main(["status", "--json", "--verbose"]) == 0
    assert '"schema_version"' in capsys.readouterr().out


def test_module_invocation(isolated_env: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "bodhi_nb.cli", "version"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "bodhi_nb" in proc.stdout


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version_and_exits_0(flag: str) -> None:
    from bodhi_nb import __version__

    proc = _run(flag)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"bodhi_nb {__version__}"
    assert proc.stderr == ""


def test_version_flag_imports_nothing_heavy(python: str, subprocess_env: dict[str, str]) -> None:
    code = ("import sys, io, contextlib\n"
            "from bodhi_nb.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['--version']) == 0\n"
            "print(' '.join(sorted(sys.modules)))\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    heavy = {"duckdb", "httpx", "huggingface_hub", "keyring", "yaml", "fluent.runtime",
             "babel", "IPython", "bodhi_nb.commands", "bodhi_nb.services.db"}
    assert loaded & heavy == set()


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_flag_is_help(flag: str) -> None:
    proc = _run(flag)
    assert proc.returncode == 0, proc.stderr
    assert "status" in proc.stdout and "settings" in proc.stdout
    topic = _run(flag, "settings")
    assert topic.returncode == 0 and "--unset" in topic.stdout


def test_a_reader_that_stops_early_gets_no_traceback(isolated_env: Path) -> None:
    assert BODHI
    # The reading end is closed before the child writes: every write hits EPIPE, as with
    # `bodhi help | head -0`.
    proc = subprocess.Popen([BODHI, "help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    code = proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert err == ""
    assert code == 1


def test_did_you_mean_for_a_mistyped_command() -> None:
    proc = _run("stauts")
    assert proc.returncode == 2
    assert "Did you mean `bodhi status`?" in proc.stderr
    far = _run("zzzzzz")
    assert "Did you mean" not in far.stderr and "Commands:" in far.stderr


def test_a_long_input_still_gives_the_message() -> None:
    proc = _run("x" * 3000)
    assert proc.returncode == 2
    assert "{???}" not in proc.stderr
    assert proc.stderr.startswith("error[command_error-unknown_command]: Unknown command 'xxx")
    assert "…" in proc.stderr and len(proc.stderr) < 1500


def test_a_file_where_bodhi_home_should_be_is_a_coded_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("BODHI_HOME", str(blocker / "home"))
    proc = _run("status")
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert not line.startswith("error[command_error-internal]"), line
    assert str(blocker) in line


def test_a_panel_whose_listing_fails_gives_its_coded_line(isolated_env: Path) -> None:
    # The access dashboard's text is made after the command ran (a notebook shows the widget
    # instead): with authentication off it is the issuer error, one line, exit 1.
    proc = _run("panel", "access")
    assert proc.returncode == 1 and proc.stdout == ""
    line = proc.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert line.startswith("error[auth_error-issuer_not_set]")
