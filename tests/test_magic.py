"""The magic in a real IPython InteractiveShell."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.commands.results import Result
from bodhi_nb.store.migrate import load_migrations


def test_status_shows_home_database_and_schema(shell: InteractiveShell, isolated_env: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_line_magic("bodhi", "status --verbose")
    assert isinstance(result, Result)
    text = result.to_text()
    assert str(isolated_env) in text
    assert str(isolated_env / "bodhi.duckdb") in text
    n = len(load_migrations())
    assert re.search(rf"schema version +{n} of {n}", text)
    assert f"duckdb: {isolated_env / 'bodhi.duckdb'}" in text
    assert "BODHI_HOME" in text and "env" in text  # the source column
    bundle = result._repr_mimebundle_()
    assert {"text/plain", "text/html", "text/markdown"} <= set(bundle)
    assert "<table>" in bundle["text/html"]
    assert capsys.readouterr().err == ""


def test_status_keeps_to_what_a_user_acts_on(shell: InteractiveShell, isolated_env: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://student:hunter2@hub.classroom.lan:8080")
    text = shell.run_line_magic("bodhi", "status").to_text()
    for shown in ("BODHI_HOME", str(isolated_env), "HF cache",
                  str(isolated_env.parent / "hf_home" / "hub"), "hub.classroom.lan:8080",
                  "models", "none yet", "master key", "status --verbose"):
        assert shown in text, shown
    for internal in ("tables", "not yet available", "schema version", "setting, db",
                     "hunter2", "BODHI_DB_IDLE_CLOSE_MS"):
        assert internal not in text, internal
    data = shell.run_line_magic("bodhi", "status --json").to_json()
    assert "hunter2" not in str(data)
    assert {r["item"] for r in data["status"]} >= {"BODHI_HOME", "hf_cache", "endpoint"}


def test_did_you_mean(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("bodhi", "stauts") is None
    err = capsys.readouterr().err
    assert "Did you mean `%bodhi status`?" in err
    shell.run_line_magic("bodhi", "help stauts")
    assert "Did you mean `%bodhi status`?" in capsys.readouterr().err


def test_hints_render_backticks_as_inline_code(shell: InteractiveShell) -> None:
    bundle = shell.run_line_magic("bodhi", "help")._repr_mimebundle_()
    assert "<code>%bodhi help COMMAND</code>" in bundle["text/html"]
    assert "`%bodhi help COMMAND`" in bundle["text/markdown"]
    assert "```" not in bundle["text/markdown"]


def test_settings_lists_sources_and_writes(shell: InteractiveShell, isolated_env: Path) -> None:
    listing = shell.run_line_magic("bodhi", "settings").to_text()
    assert "BODHI_KEEP_ALIVE_SECS" in listing and "default" in listing
    saved = shell.run_line_magic("bodhi", "settings BODHI_KEEP_ALIVE_SECS 60").to_text()
    assert "BODHI_KEEP_ALIVE_SECS = 60" in saved
    assert "BODHI_KEEP_ALIVE_SECS: 60" in (isolated_env / "settings.yaml").read_text()
    one = shell.run_line_magic("bodhi", "settings BODHI_KEEP_ALIVE_SECS").to_text()
    assert "60" in one and "file" in one


def test_unknown_command_is_one_line_without_traceback(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("bodhi", "nonsense") is None
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error[command_error-unknown_command]: Unknown command 'nonsense'")
    assert "status" in lines[0] and "help" in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_bad_value_names_the_fix_with_the_magic_prefix(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("bodhi", "settings BODHI_KEEP_ALIVE_SECS soon")
    err = capsys.readouterr().err.strip()
    assert err.startswith("error[setting_service_error-invalid_value]")
    assert "`%bodhi settings BODHI_KEEP_ALIVE_SECS VALUE`" in err


def test_debug_flag_raises_the_real_exception(shell: InteractiveShell) -> None:
    from bodhi_nb.errors import UnknownCommandError

    with pytest.raises(UnknownCommandError):
        shell.run_line_magic("bodhi", "nonsense --debug")


def test_help_version_json_and_quoting(shell: InteractiveShell,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert "status" in shell.run_line_magic("bodhi", "help").to_text()
    assert "--unset" in shell.run_line_magic("bodhi", "help settings").to_text()
    assert "--unset" in shell.run_line_magic("bodhi", "settings --help").to_text()
    assert "duckdb" in shell.run_line_magic("bodhi", "version").to_text()
    data = shell.run_line_magic("bodhi", "status --json").to_json()
    assert data["status"][1]["item"] == "BODHI_HOME"
    shell.run_line_magic("bodhi", "settings 'unclosed")
    assert "error[command_error-bad_arguments]" in capsys.readouterr().err


def test_cell_magic_form_runs_the_same_grammar(shell: InteractiveShell) -> None:
    result = shell.run_cell_magic("bodhi", "version", "# the body is ignored here\n")
    assert "bodhi_nb" in result.to_text()


def test_out_n_shows_the_result(shell: InteractiveShell) -> None:
    outcome = shell.run_cell("%bodhi version", store_history=True)
    assert outcome.success
    assert "bodhi_nb" in repr(shell.user_ns["_"])


def test_status_opens_no_database(python: str, subprocess_env: dict[str, str]) -> None:
    import subprocess

    code = ("import sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "sh = InteractiveShell.instance()\n"
            "sh.run_line_magic('load_ext', 'bodhi_nb')\n"
            "text = sh.run_line_magic('bodhi', 'status').to_text()\n"
            "assert 'master key' in text, text\n"
            "print('duckdb' in sys.modules, 'fluent.runtime' in sys.modules)\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    # No DuckDB (the database is not needed), no fluent.runtime/Babel (plain messages).
    assert proc.stdout.split()[-2:] == ["False", "False"]
