"""One grammar for ``%bodhi`` and ``bodhi``.

A command line is tokenised with ``shlex`` by the front end, parsed here into a typed request
(a frozen dataclass), dispatched on the command, and answered with a result object
(:mod:`bodhi_nb.commands.results`). Parse errors are ``CommandError``s, never ``SystemExit``.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from bodhi_nb.errors import BadArgumentsError, UnknownCommandError

__all__ = [
    "COMMANDS",
    "Command",
    "Context",
    "Parsed",
    "QuietParser",
    "ask_yes_no",
    "command",
    "parse",
    "split_line",
]


@dataclass(frozen=True)
class Context:
    """What the front end knows that a command may need."""

    #: how the user typed the command: ``%bodhi`` in a notebook, ``bodhi`` in a terminal.
    prog: str = "bodhi"
    #: the notebook's namespace (for ``{var}`` interpolation), when there is one.
    user_ns: Mapping[str, Any] | None = None
    #: the body of a ``%%bodhi`` cell.
    cell: str | None = None
    #: reads a secret without echo (``getpass`` in both front ends; tests inject one).
    ask_secret: Callable[[str], str] | None = None
    #: asks a yes/no question (``input`` in both front ends); None: never confirm (needs -y).
    confirm: Callable[[str], bool] | None = None
    #: makes the live view an answer streams into (a display updated in place in a notebook);
    #: None: the terminal's standard output.
    live: Callable[[str], Any] | None = None


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting."""

    def __init__(self, command: str, **kwargs: Any) -> None:
        super().__init__(add_help=False, allow_abbrev=False, exit_on_error=False, **kwargs)
        self.command = command

    def error(self, message: str) -> NoReturn:
        raise BadArgumentsError(command=self.command, reason=message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise BadArgumentsError(command=self.command, reason=(message or "").strip() or "exit")


class QuietParser(_Parser):
    """For commands whose stray words may be secrets (``secret``, ``api``): an error shows
    the command's usage, never what was typed, and unknown words are collected in
    ``namespace.extra`` for the command to refuse in its own words."""

    def __init__(self, command: str, usage_text: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.usage_text = usage_text

    def error(self, message: str) -> NoReturn:
        raise BadArgumentsError(command=self.command, reason=self.usage_text)

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: Any = None) -> argparse.Namespace:
        try:
            parsed, extra = self.parse_known_args(args, namespace)
        except argparse.ArgumentError:
            raise BadArgumentsError(command=self.command, reason=self.usage_text) from None
        parsed.extra = tuple(getattr(parsed, "extra", None) or ()) + tuple(extra)
        result: argparse.Namespace = parsed
        return result


class Command:
    """A command: a name, a one-line summary, its arguments and a typed request.

    Subclasses declare ``Request`` (a frozen dataclass whose fields are the argparse
    destinations), ``add_arguments`` and ``run``.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    Request: ClassVar[type]
    #: set for commands whose input may hold secrets: errors then show this usage line
    #: instead of echoing what was typed (see QuietParser).
    quiet_usage: ClassVar[str | None] = None

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the arguments (none by default)."""

    def parser(self, prog: str) -> argparse.ArgumentParser:
        kwargs: dict[str, Any] = {"prog": f"{prog} {self.name}", "description": self.summary}
        parser = (QuietParser(self.name, self.quiet_usage, **kwargs) if self.quiet_usage
                  else _Parser(self.name, **kwargs))
        self.add_arguments(parser)
        if any(f.name == "json" for f in dataclasses.fields(self.Request)) and not any(
                "--json" in action.option_strings for action in parser._actions):
            # Every command whose request has a ``json`` field takes --json.
            parser.add_argument("--json", action="store_true", help="print JSON")
        return parser

    def request(self, namespace: argparse.Namespace) -> Any:
        names = {f.name for f in dataclasses.fields(self.Request)}
        return self.Request(**{k: v for k, v in vars(namespace).items() if k in names})

    def run(self, app: Any, request: Any, ctx: Context) -> Any:
        raise NotImplementedError


COMMANDS: dict[str, Command] = {}


def command(cls: type[Command]) -> type[Command]:
    """Class decorator: register a command under its name and aliases."""
    instance = cls()
    for name in (cls.name, *cls.aliases):
        if name in COMMANDS:
            raise RuntimeError(f"command {name!r} registered twice")
        COMMANDS[name] = instance
    return cls


def command_names() -> list[str]:
    return sorted({c.name for c in COMMANDS.values()})


@dataclass(frozen=True)
class Parsed:
    command: Command
    request: Any


def ask_yes_no(question: str) -> bool:
    """The front ends' confirmation: ``input()``; no answer (EOF) means no."""
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def split_line(line: str) -> list[str]:
    """Tokenise a magic line like a shell would (quotes group words)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise BadArgumentsError(command="bodhi", reason=str(exc)) from None


def parse(tokens: Sequence[str], prog: str = "bodhi") -> Parsed:
    """Parse tokens (without the program name) into a command and its typed request."""
    _load_commands()
    tokens = list(tokens)
    if not tokens or tokens[0] in ("-h", "--help"):
        tokens = ["help"]
    name, rest = tokens[0], tokens[1:]
    found = COMMANDS.get(name)
    if found is None:
        raise UnknownCommandError(command=name, commands=command_names())
    if "-h" in rest or "--help" in rest:
        name, rest, found = "help", [found.name], COMMANDS["help"]
    try:
        namespace = found.parser(prog).parse_args(rest)
    except argparse.ArgumentError as exc:
        raise BadArgumentsError(command=found.name, reason=str(exc)) from None
    return Parsed(found, found.request(namespace))


def _load_commands() -> None:
    # Importing the modules registers their commands; cheap after the first call.
    # Each feature's command module is imported here (one line each).
    from bodhi_nb.commands import (
        api,  # noqa: F401
        chat,  # noqa: F401
        core,  # noqa: F401
        hub,  # noqa: F401
        local,  # noqa: F401
        models,  # noqa: F401
        secret,  # noqa: F401
    )
