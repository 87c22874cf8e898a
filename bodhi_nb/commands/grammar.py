"""One grammar for ``%bodhi`` and ``bodhi``.

A command line is tokenised with ``shlex`` by the front end, parsed here into a typed request
(a frozen dataclass), dispatched on the command, and answered with a result object
(:mod:`bodhi_nb.commands.results`). Parse errors are ``CommandError``s, never ``SystemExit``.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import functools
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn

from bodhi_nb.commands.results import Table
from bodhi_nb.errors import BadArgumentsError, UnknownCommandError

__all__ = [
    "COMMANDS",
    "unknown_command",
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
    #: ``time.perf_counter()`` when the user pressed Enter (the front end's entry), so
    #: timings such as time to first token include building the registry.
    started_at: float | None = None
    #: the LocalizationService of the user's locale (set by ``execute``); None: en-US.
    localization: Any = None

    def _messages(self) -> Any:
        if self.localization is not None:
            return self.localization
        from bodhi_nb.services.localization import LocalizationService

        return LocalizationService()

    def t(self, message_id: str, **args: Any) -> str:
        """The user-facing text ``message_id`` in the user's language (``{ $prog }`` is
        filled in): every word a command shows goes through here."""
        text: str = self._messages().message(message_id, {"prog": self.prog, **args})
        return text

    def heading(self, key: str) -> str:
        """A column heading: message ``col-KEY``, or KEY itself when there is none."""
        text: str = self._messages().message(f"col-{key}", default=key)
        return text

    def table(self, keys: Sequence[str], rows: Sequence[Sequence[Any]], *,
              title: str | None = None, empty: str | None = None,
              records: Any = None) -> Table:
        """A :class:`Table` with localized headings (``col-KEY``) and yes/no; JSON keeps
        the English ``keys``."""
        return Table(tuple(self.heading(k) for k in keys), rows, title=title,
                     empty=empty if empty is not None else self.t("ui-none"),
                     records=records, keys=tuple(keys),
                     yes_no=(self.t("ui-yes"), self.t("ui-no")))


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
    #: False for commands that need no registry (help, version): ``run`` gets ``app=None``,
    #: and no database, keyring or HTTP client is imported for them.
    needs_app: ClassVar[bool] = True

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

    def summary_text(self, ctx: Context) -> str:
        """The one-line summary in the user's language (message ``cmd-NAME``)."""
        text: str = ctx._messages().message(f"cmd-{self.name}", default=self.summary)
        return text

    def help_text(self, ctx: Context) -> str:
        """``help COMMAND``: argparse's help, with the summary, each argument's help
        (message ``arg-COMMAND-DEST``, ``arg-COMMAND-SUB-DEST`` in a sub-command) and the
        section titles in the user's language."""
        parser = self.parser(ctx.prog)
        parser.description = self.summary_text(ctx)
        _localize_parser(parser, ctx, f"arg-{self.name}")
        return parser.format_help().rstrip()

    def request(self, namespace: argparse.Namespace) -> Any:
        names = {f.name for f in dataclasses.fields(self.Request)}
        return self.Request(**{k: v for k, v in vars(namespace).items() if k in names})

    def run(self, app: Any, request: Any, ctx: Context) -> Any:
        raise NotImplementedError


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with a translated ``usage:`` prefix."""

    def __init__(self, prog: str, usage_prefix: str = "usage: ", **kwargs: Any) -> None:
        super().__init__(prog, **kwargs)
        self._usage_prefix = usage_prefix

    def add_usage(self, usage: Any, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups,
                          self._usage_prefix if prefix is None else prefix)


def _localize_parser(parser: argparse.ArgumentParser, ctx: Context, prefix: str) -> None:
    messages = ctx._messages()
    parser.formatter_class = functools.partial(
        _HelpFormatter, usage_prefix=messages.message("ui-help-usage", default="usage:") + " ")
    for group in parser._action_groups:
        if group.title in ("positional arguments", "options", "optional arguments"):
            key = "positionals" if group.title == "positional arguments" else "options"
            group.title = messages.message(f"ui-help-{key}", default=group.title)
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if isinstance(action, argparse._SubParsersAction):
            shown = {c.dest: c for c in action._choices_actions}
            for name, sub in action.choices.items():
                if name in shown and shown[name].help is not None:
                    shown[name].help = messages.message(
                        f"{prefix}-{name}", {"prog": ctx.prog},
                        default=shown[name].help).replace("%", "%%")
                _localize_parser(sub, ctx, f"{prefix}-{name}")
            continue
        if not action.option_strings and action.metavar is None and not action.choices:
            # A positional's name in the usage line: `[key]` reads `[clé]` in French.
            action.metavar = messages.message(f"meta-{action.dest}", default=action.dest)
        generic = f"arg-{action.dest}"  # e.g. arg-json, shared by every command
        text = messages.message(f"{prefix}-{action.dest}", {"prog": ctx.prog},
                                default=messages.message(generic, {"prog": ctx.prog},
                                                         default=""))
        if text:
            action.help = text.replace("%", "%%")  # argparse formats help with %


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
        # The question is in the user's language; so may the answer be (oui).
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "o", "oui")
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
        tokens = ["help", *tokens[1:2]]
    elif tokens[0] in ("-V", "--version"):
        tokens = ["version", *tokens[1:]]
    name, rest = tokens[0], tokens[1:]
    found = COMMANDS.get(name)
    if found is None:
        raise unknown_command(name)
    if "-h" in rest or "--help" in rest:
        name, rest, found = "help", [found.name], COMMANDS["help"]
    try:
        namespace = found.parser(prog).parse_args(rest)
    except argparse.ArgumentError as exc:
        raise BadArgumentsError(command=found.name, reason=str(exc)) from None
    return Parsed(found, found.request(namespace))


def suggest(name: str) -> str:
    """The command name closest to a mistyped one (``stauts`` -> ``status``), or ""."""
    close = difflib.get_close_matches(name, sorted(COMMANDS), n=1, cutoff=0.6)
    return COMMANDS[close[0]].name if close else ""


def unknown_command(name: str) -> UnknownCommandError:
    _load_commands()
    suggestion = suggest(name)
    return UnknownCommandError(command=name, commands=command_names(), suggestion=suggestion,
                               has_suggestion="yes" if suggestion else "no")


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
