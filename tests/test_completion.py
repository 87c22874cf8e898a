"""Tab completion of ``%bodhi`` lines in a real IPython InteractiveShell."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell


def _complete(shell: InteractiveShell, line: str) -> list[str]:
    """What Tab offers at the end of ``line``: each completion applied to the line, the
    last word of the result (as a front end shows it)."""
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        found = list(shell.Completer.completions(line, len(line)))
    return [(line[:c.start] + c.text).split(" ")[-1] for c in found]


def test_commands_complete(shell: InteractiveShell) -> None:
    assert "status" in _complete(shell, "%bodhi sta")
    assert "settings" in _complete(shell, "%bodhi se")
    assert "secret" in _complete(shell, "%bodhi se")
    assert "pull" not in _complete(shell, "%bodhi se")
    assert "chat" in _complete(shell, "%%bodhi ch")


def test_subcommands_and_options_complete(shell: InteractiveShell) -> None:
    assert set(_complete(shell, "%bodhi alias ")) >= {"create", "ls", "show", "copy", "rm"}
    assert "rotate-key" in _complete(shell, "%bodhi secret ro")
    assert "--verbose" in _complete(shell, "%bodhi status --")
    assert "--replace" in _complete(shell, "%bodhi alias create x --re")
    assert "BODHI_LOCALE" in _complete(shell, "%bodhi settings BODHI_LO")


def test_alias_names_and_cached_repos_complete(shell: InteractiveShell, tmp_path: Path) -> None:
    hub = tmp_path / "hf_home" / "hub"
    (hub / "models--bartowski--Llama-3.2-1B-Instruct-GGUF").mkdir(parents=True)
    (hub / "datasets--someone--data").mkdir()
    from bodhi_nb import app
    from bodhi_nb.objs import UserAlias

    app().data_service().create_alias(
        UserAlias("tiny:chat", "bartowski/Llama-3.2-1B-Instruct-GGUF", "x.gguf", "main"))
    assert "tiny:chat" in _complete(shell, "%bodhi alias show ti")
    assert "bartowski/Llama-3.2-1B-Instruct-GGUF" in _complete(shell, "%bodhi pull bart")
    assert not [m for m in _complete(shell, "%bodhi pull ") if "someone" in m]
    chat = _complete(shell, "%bodhi chat ")
    assert "tiny:chat" in chat and "bartowski/Llama-3.2-1B-Instruct-GGUF" in chat


def test_secret_names_complete(shell: InteractiveShell,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb import app

    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")
    app().secret_service().store_secret("HF_TOKEN", "hf_not_a_real_token_value")
    assert _complete(shell, "%bodhi secret rm HF") == ["HF_TOKEN"]
    assert "hf_not_a_real" not in " ".join(_complete(shell, "%bodhi secret rm "))


def test_loading_the_extension_computes_nothing(python: str,
                                                subprocess_env: dict[str, str]) -> None:
    code = ("import sys\n"
            "from IPython.core.interactiveshell import InteractiveShell\n"
            "sh = InteractiveShell.instance()\n"
            "sh.run_line_magic('load_ext', 'bodhi_nb')\n"
            "print(' '.join(m for m in sys.modules if m.startswith('bodhi_nb.')))\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    assert "bodhi_nb.notebook.completer" in loaded
    assert not [m for m in loaded if m.startswith(("bodhi_nb.commands", "bodhi_nb.services"))]
