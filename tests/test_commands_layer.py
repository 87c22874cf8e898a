"""The command layer's infrastructure: the OSError safety net, id matching, the error map."""

from __future__ import annotations

import argparse
import errno
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bodhi_nb.app import AppService
from bodhi_nb.commands import Context, execute, match_id, render_error
from bodhi_nb.commands.grammar import Group, Verb
from bodhi_nb.commands.results import Message, Result
from bodhi_nb.errors import (
    AmbiguousIdError,
    BadArgumentsError,
    BodhiError,
    all_error_classes,
    error_class,
)


def _failing_registry(exc: OSError) -> Any:
    def factory() -> NoReturn:
        raise exc

    return factory


@pytest.mark.parametrize(("exc", "code", "words"), [
    (OSError(errno.ENOSPC, "No space left on device", "/data/hf/blob.incomplete"),
     "command_error-no_space", "rm --partials"),
    (PermissionError(errno.EACCES, "Permission denied", "/srv/bodhi"),
     "command_error-permission_denied", "BODHI_HOME"),
    (OSError(errno.EROFS, "Read-only file system", "/srv/bodhi/bodhi.duckdb"),
     "command_error-permission_denied", "writable"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/srv/file/home"),
     "command_error-not_a_folder", "file where a folder"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/srv/folder"),
     "command_error-is_a_folder", "folder where a file"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/nope"),
     "command_error-path_not_found", "does not exist"),
    (OSError(errno.EIO, "Input/output error", "/dev/weird"), "command_error-os",
     "Input/output error"),
])
def test_an_oserror_escaping_a_command_is_coded_with_its_path(
        exc: OSError, code: str, words: str) -> None:
    with pytest.raises(BodhiError) as caught:
        execute(["status"], Context(), _failing_registry(exc))
    assert caught.value.code == code
    line = render_error(caught.value)
    assert line.startswith(f"error[{code}]: ")
    assert str(exc.filename) in line and words in line
    assert "Unexpected" not in line


def test_the_path_in_the_message_is_redacted_and_stripped() -> None:
    exc = OSError(errno.EACCES, "Permission denied", "http://u:hunter2@host/\x1b[31mx")
    with pytest.raises(BodhiError) as caught:
        execute(["status"], Context(), _failing_registry(exc))
    line = render_error(caught.value)
    assert "hunter2" not in line and "\x1b" not in line


def test_broken_pipe_is_left_to_the_front_end() -> None:
    with pytest.raises(BrokenPipeError):
        execute(["status"], Context(), _failing_registry(BrokenPipeError(errno.EPIPE, "pipe")))


def test_match_id_takes_a_unique_prefix_or_suffix() -> None:
    ids = ["01JDAAAAAAAAAAAAAAAAK7W3XQ", "01JDAAAAAAAAAAAAAAAAM2P9ZT", "01JEBBBBBBBBBBBBBBBBM2P9ZA"]
    assert match_id("01JDAAAAAAAAAAAAAAAAK7W3XQ", ids) == ids[0]
    assert match_id("k7w3xq", ids) == ids[0]           # the short id tables show
    assert match_id("01JE", ids) == ids[2]             # a prefix
    assert match_id("nothing", ids) == "nothing"       # the service reports it not found
    with pytest.raises(AmbiguousIdError) as caught:
        match_id("01JD", ids)
    assert "K7W3XQ" in render_error(caught.value) and "M2P9ZT" in render_error(caught.value)


def test_error_class_maps_every_code_back() -> None:
    for cls in all_error_classes():
        assert error_class(cls.code) is cls
    assert error_class("no_such-code") is None


def test_listing_the_errors_imports_nothing_else(python: str,
                                                 subprocess_env: dict[str, str]) -> None:
    code = ("import sys\n"
            "from bodhi_nb import errors\n"
            "n = len(errors.all_error_classes())\n"
            "assert errors.error_class('db_error-busy') is errors.BusyError\n"
            "print(n, ' '.join(m for m in sys.modules if m.startswith('bodhi_nb')))\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    count, *modules = proc.stdout.split()
    assert int(count) > 50
    assert not [m for m in modules if m.startswith(("bodhi_nb.cli", "bodhi_nb.commands",
                                                     "bodhi_nb.notebook", "bodhi_nb.testing",
                                                     "bodhi_nb.services"))]


def test_params_of_is_gone() -> None:
    import bodhi_nb.errors as errors

    assert not hasattr(errors, "params_of")
    assert "bodhi_nb.commands.render." not in (errors.__doc__ or "")
    assert Path(errors.__file__).exists()


def test_argparse_complaints_are_translated_with_a_suggestion(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb.commands import parse
    from bodhi_nb.errors import BadArgumentsError

    with pytest.raises(BadArgumentsError) as caught:
        parse(["downloads", "retyr"])
    english = render_error(caught.value)
    assert "'retyr' is not one of ls, retry, archive (did you mean 'retry'?)" in english
    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    french = render_error(caught.value)
    assert "« retyr » n'est pas parmi ls, retry, archive (vouliez-vous dire « retry » ?)" \
        in french
    assert "invalid choice" not in french + english
    with pytest.raises(BadArgumentsError) as missing:
        parse(["pull"])
    assert "il manque ref" in render_error(missing.value)


def test_a_stored_download_error_is_rebuilt_without_the_front_ends(
        python: str, subprocess_env: dict[str, str]) -> None:
    """``error_of`` (a service) maps a stored code back to its class through errors.py
    alone: no command module, front end or test helper is imported to do it."""
    code = ("import json, sys\n"
            "from datetime import UTC, datetime\n"
            "import bodhi_nb.services.downloads as downloads\n"
            "from bodhi_nb.objs import DownloadRequest\n"
            "now = datetime.now(UTC)\n"
            "row = DownloadRequest('01JDAAAAAAAAAAAAAAAAAAAAAA', 'acme/tiny', 'x.gguf', 'error',"
            " now, now, error=json.dumps({'code': 'hub_service_error-gated_access',"
            " 'params': {'repo': 'acme/tiny'}}))\n"
            "error = downloads.error_of(row)\n"
            "print(type(error).__name__, error.params['repo'])\n"
            "print(' '.join(m for m in sys.modules if m.startswith('bodhi_nb')))\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    rebuilt, loaded = proc.stdout.splitlines()
    assert rebuilt == "GatedAccessError acme/tiny"
    modules = loaded.split()
    assert "bodhi_nb.services.downloads" in modules
    assert not [m for m in modules if m == "bodhi_nb.cli" or m.startswith((
        "bodhi_nb.commands", "bodhi_nb.notebook", "bodhi_nb.testing"))]


def test_the_grammar_imports_no_command_module(python: str,
                                               subprocess_env: dict[str, str]) -> None:
    """Commands register themselves; the grammar names their modules and imports them on
    the first parse, never when it is imported itself."""
    from bodhi_nb.commands import grammar

    source = Path(grammar.__file__).read_text(encoding="utf-8")
    modules = [m.rpartition(".")[2] for m in grammar.COMMAND_MODULES]
    assert not re.findall(r"from bodhi_nb\.commands(?:\.\w+)? import (?:" + "|".join(modules)
                          + r")\b", source)
    code = ("import sys\n"
            "import bodhi_nb.commands.grammar as g\n"
            "print(sorted(m for m in g.COMMAND_MODULES if m in sys.modules))\n"
            "g.parse(['status'])\n"
            "print(sorted(m for m in g.COMMAND_MODULES if m in sys.modules) =="
            " sorted(g.COMMAND_MODULES))\n")
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120,
                          env=subprocess_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "True"]


@dataclass(frozen=True)
class _GrantRequest:
    user: str
    role: str = "user"
    json: bool = False


@dataclass(frozen=True)
class _ListRequest:
    all: bool = False


class _Grant(Verb[_GrantRequest]):
    name = "grant"
    summary = "give USER a role"
    Request = _GrantRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("user")
        parser.add_argument("--role", default="user")

    def run(self, app: AppService, request: _GrantRequest, ctx: Context) -> Result:
        return Message(f"{request.user} is {request.role}")


class _List(Verb[_ListRequest]):
    name = "ls"
    summary = "list the users"
    Request = _ListRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--all", action="store_true")

    def run(self, app: AppService, request: _ListRequest, ctx: Context) -> Result:
        return Message(f"all={request.all}")


class _Users(Group):
    """A group as the real ones (access, users, token, db, hub) declare theirs, under a
    name no real command has (a real one's help messages would replace these summaries)."""

    name = "crew"
    summary = "manage users"
    verbs = (_Grant(), _List())
    default_verb = "ls"


def test_a_group_declares_its_verbs_arguments_and_requests_one_way() -> None:
    group = _Users()
    parsed = group.parse(["grant", "ann", "--role", "admin", "--json"], "bodhi")
    assert isinstance(parsed.command, _Grant) and parsed.command.group == "crew"
    assert parsed.request == _GrantRequest("ann", "admin", json=True)
    assert group.parse([], "bodhi").request == _ListRequest()  # the default verb
    assert group.parse(["--all"], "bodhi").request == _ListRequest(all=True)
    with pytest.raises(BadArgumentsError) as info:
        group.parse(["grant"], "bodhi")
    assert info.value.params["command"] == "crew"
    with pytest.raises(BadArgumentsError):
        group.parse(["fire", "bob"], "bodhi")
    shown = group.help_text(Context())
    assert "grant" in shown and "give USER a role" in shown and "list the users" in shown


def test_every_group_verb_parses_to_its_own_request() -> None:
    from bodhi_nb.commands.grammar import parse

    for line, verb, request in (
            ("alias show x", "show", "AliasNameRequest"),
            ("api test openai --model m", "test", "ApiTestRequest"),
            ("secret rm HF_TOKEN", "rm", "SecretNameRequest"),
            ("downloads", "ls", "DownloadsLsRequest"),
            ("downloads retry ABC --background", "retry", "DownloadsIdRequest")):
        parsed = parse(line.split())
        assert (parsed.command.name, type(parsed.request).__name__) == (verb, request), line
