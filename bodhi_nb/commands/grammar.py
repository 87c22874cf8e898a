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
import importlib
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NoReturn, Protocol, TypeVar

from bodhi_nb.commands.results import Table
from bodhi_nb.errors import BadArgumentsError, UnknownCommandError
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result
    from bodhi_nb.services.localization import LocalizationService

__all__ = [
    "COMMANDS",
    "COMMAND_MODULES",
    "Command",
    "Context",
    "DownloadProgress",
    "Group",
    "LiveOutput",
    "Parsed",
    "QuietParser",
    "Verb",
    "command",
    "confirmed",
    "parse",
    "split_line",
    "unknown_command",
]

RequestT = TypeVar("RequestT")

#: The modules whose commands register themselves (``@command``) when imported. The grammar
#: imports them by name on first use and never otherwise: a new command group adds its
#: module's name here.
COMMAND_MODULES: tuple[str, ...] = (
    "bodhi_nb.commands.core",
    "bodhi_nb.commands.hub",
    "bodhi_nb.commands.models",
    "bodhi_nb.commands.api",
    "bodhi_nb.commands.secret",
    "bodhi_nb.commands.chat",
    "bodhi_nb.commands.local",
    "bodhi_nb.commands.offline_hub",
    "bodhi_nb.commands.db",
    "bodhi_nb.commands.panel",
    "bodhi_nb.commands.auth",
    "bodhi_nb.commands.access",
    "bodhi_nb.commands.serve",
    "bodhi_nb.commands.token",
    "bodhi_nb.commands.lock",
)


# -- what the front ends hand a command ---------------------------------------------------


class LiveOutput(Protocol):
    """Where an answer streams to while it arrives (the terminal, a display in place)."""

    def status(self, text: str, done: bool = False) -> None:
        """A line about the wait (``starting the model server…``); ``done`` for the last
        one. The first answer text replaces it."""

    def set_format(self, fmt: str) -> None:
        """How the answer renders (``markdown``/``text``/``code``), known once the model is."""

    def write(self, delta: str) -> None: ...
    def close(self) -> None: ...

    @property
    def persistent(self) -> bool:
        """True when the streamed answer stays on screen (a terminal), so the result need
        not show it again; False for a transient view (a notebook display)."""


class DownloadProgress(Protocol):
    """A download's progress as a front end shows it (a tqdm bar); the notices it was told
    (already in the user's language) are kept for the result."""

    notices: list[str]

    def start(self, filename: str, total: int, initial: int) -> None: ...
    def advance(self, done: int) -> None: ...
    def notice(self, text: str) -> None: ...
    def finish(self) -> None: ...


@dataclass(frozen=True)
class Context:
    """What the front end knows that a command may need."""

    #: how the user typed the command: ``%bodhi`` in a notebook, ``bodhi`` in a terminal.
    prog: str = "bodhi"
    #: the notebook's namespace (``chat --out VAR`` binds VAR in it), when there is one.
    user_ns: dict[str, object] | None = None
    #: fills ``{var}`` from the notebook's namespace (the notebook front end); None: none.
    interpolate: Callable[[str], str] | None = None
    #: the body of a ``%%bodhi`` cell (the front end has dropped its own markers).
    cell: str | None = None
    #: reads a secret without echo (``getpass`` in both front ends; tests inject one).
    ask_secret: Callable[[str], str] | None = None
    #: asks a yes/no question (``input`` in both front ends); None: never confirm (needs -y).
    confirm: Callable[[str], bool] | None = None
    #: makes the live view an answer streams into (the terminal, or a display updated in
    #: place in a notebook), given the answer's format; None: nothing streams.
    live: Callable[[str], LiveOutput] | None = None
    #: makes a download's progress bar (tqdm in both front ends), given this context (for
    #: the language of its notices); None: no bar, notices are kept for the result.
    progress: Callable[[Context], DownloadProgress] | None = None
    #: ``time.perf_counter()`` when the user pressed Enter (the front end's entry), so
    #: timings such as time to first token include building the registry.
    started_at: float | None = None
    #: shows a line at once, while the command still runs (``login`` prints the address
    #: to open before it waits); None: the line is not shown.
    say: Callable[[str], None] | None = None
    #: opens an address in the user's browser, where there is one (``login``); None: never.
    open_url: Callable[[str], None] | None = None
    #: the LocalizationService of the user's locale (set by ``execute``); None: en-US.
    localization: LocalizationService | None = None

    def _messages(self) -> LocalizationService:
        if self.localization is not None:
            return self.localization
        from bodhi_nb.services.localization import LocalizationService

        return LocalizationService()

    def t(self, message_id: str, **args: Any) -> str:
        """The user-facing text ``message_id`` in the user's language (``{ $prog }`` is
        filled in): every word a command shows goes through here."""
        return self._messages().message(message_id, {"prog": self.prog, **args})

    def heading(self, key: str) -> str:
        """A column heading: message ``col-KEY``, or KEY itself when there is none."""
        return self._messages().message(f"col-{key}", default=key)

    def table(self, keys: Sequence[str], rows: Sequence[Sequence[object]], *,
              title: str | None = None, empty: str | None = None,
              records: object = None) -> Table:
        """A :class:`Table` with localized headings (``col-KEY``) and yes/no; JSON keeps
        the English ``keys``."""
        return Table(tuple(self.heading(k) for k in keys), rows, title=title,
                     empty=empty if empty is not None else self.t("ui-none"),
                     records=records, keys=tuple(keys),
                     yes_no=(self.t("ui-yes"), self.t("ui-no")))

    def progress_view(self) -> DownloadProgress:
        """The front end's progress bar, or one that only keeps the notices."""
        return self.progress(self) if self.progress is not None else KeptNotices(self)


class KeptNotices:
    """No bar: a download's notices in the user's language, kept for the result."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self.notices: list[str] = []

    def start(self, filename: str, total: int, initial: int) -> None:
        pass

    def advance(self, done: int) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(said(self._ctx, text))

    def finish(self) -> None:
        pass


def said(ctx: Context, text: str) -> str:
    """A :class:`~bodhi_nb.objs.Notice` (a message id and its arguments) in the user's
    language; any other text unchanged."""
    args = getattr(text, "args", None)
    return ctx.t(str(text), **args) if args is not None else text


def confirmed(ctx: Context, question: str, *, yes: bool, command: str,
              needs_yes: str) -> bool:
    """Whether a destructive step may go ahead: ``-y`` was given, or the user said yes to
    ``question``. Where nobody can be asked, BadArgumentsError with ``needs_yes`` (the
    message that says to add ``-y``)."""
    if yes:
        return True
    if ctx.confirm is None:
        raise BadArgumentsError(command=command, reason=needs_yes)
    return ctx.confirm(question)


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


class Command(Generic[RequestT]):
    """A command: a name, a one-line summary, its arguments and a typed request.

    Subclasses set ``Request`` (a frozen dataclass whose fields are the argparse
    destinations; the class's type argument), declare ``add_arguments`` and implement
    ``run``. Register one with :func:`command`.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    Request: type[RequestT]
    #: set for commands whose input may hold secrets: errors then show this usage line
    #: instead of echoing what was typed (see QuietParser).
    quiet_usage: ClassVar[str | None] = None
    #: the policy's name for what this command does (bodhi_nb.services.policy): with
    #: authentication on, ``execute`` checks it before the command runs (so nobody is asked
    #: for a value they may not store); the services check it again where the work is done.
    action: ClassVar[Action | None] = None
    #: False for commands that need no registry (help, version): they implement
    #: ``answer`` instead of ``run``, and no database, keyring or HTTP client is imported.
    needs_app: ClassVar[bool] = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the arguments (none by default)."""

    def _new_parser(self, prog: str) -> argparse.ArgumentParser:
        kwargs: dict[str, Any] = {"prog": f"{prog} {self.name}", "description": self.summary}
        return (QuietParser(self.name, self.quiet_usage, **kwargs) if self.quiet_usage
                else _Parser(self.name, **kwargs))

    def parser(self, prog: str) -> argparse.ArgumentParser:
        parser = self._new_parser(prog)
        self.add_arguments(parser)
        _add_json(parser, self.Request)
        return parser

    def summary_text(self, ctx: Context) -> str:
        """The one-line summary in the user's language (message ``cmd-NAME``)."""
        return ctx._messages().message(f"cmd-{self.name}", default=self.summary)

    def help_text(self, ctx: Context) -> str:
        """``help COMMAND``: argparse's help, with the summary, each argument's help
        (message ``arg-COMMAND-DEST``, ``arg-COMMAND-VERB-DEST`` in a group's verb) and the
        section titles in the user's language."""
        parser = self.parser(ctx.prog)
        parser.description = self.summary_text(ctx)
        _localize_parser(parser, ctx, f"arg-{self.name}")
        return parser.format_help().rstrip()

    def parse(self, tokens: Sequence[str], prog: str) -> Parsed[Any]:
        """The typed request for the words after the command's name."""
        try:
            namespace = self.parser(prog).parse_args(list(tokens))
        except argparse.ArgumentError as exc:
            raise BadArgumentsError(command=self.name, reason=str(exc)) from None
        return Parsed(self, self.request(namespace))

    def request(self, namespace: argparse.Namespace) -> RequestT:
        names = {f.name for f in dataclasses.fields(self.Request)}  # type: ignore[arg-type]
        return self.Request(**{k: v for k, v in vars(namespace).items() if k in names})

    def run(self, app: AppService, request: RequestT, ctx: Context) -> Result:
        raise NotImplementedError

    def answer(self, request: RequestT, ctx: Context) -> Result:
        """What a command that needs no registry (``needs_app = False``) says."""
        raise NotImplementedError


def _add_json(parser: argparse.ArgumentParser, request: type) -> None:
    # Every command whose request has a ``json`` field takes --json.
    if any(f.name == "json" for f in dataclasses.fields(request)) and not any(
            "--json" in action.option_strings for action in parser._actions):
        parser.add_argument("--json", action="store_true", help="print JSON")


class Verb(Command[RequestT]):
    """One verb of a :class:`Group` (``alias create``, ``api add``): a command of its own,
    with its arguments, its typed request and its ``run``, reached through its group.

    ``name`` is the verb; ``group`` the group's name, which its errors name
    (``BadArgumentsError(command=self.group, ...)``)."""

    group: str = ""

    def run(self, app: AppService, request: RequestT, ctx: Context) -> Result:
        raise NotImplementedError


@dataclass(frozen=True)
class GroupRequest:
    """A group named without a verb (and none by default): only for ``help``."""


class Group(Command[GroupRequest]):
    """A command made of verbs: ``alias create|ls|show|copy|rm``, ``api add|ls|...``.

    A group lists ``verbs`` (instances of :class:`Verb` subclasses); the grammar gives each
    a sub-parser (its help is ``arg-GROUP-VERB``, its arguments' ``arg-GROUP-VERB-DEST``,
    falling back to ``arg-GROUP-DEST``), and parsing yields the verb and its own typed
    request, so ``execute`` runs the verb directly. ``default_verb`` is taken when the line
    names none (``downloads`` lists). With ``quiet_usage``, the group and every verb parse
    quietly (a stray word is collected in the request's ``extra``, never echoed).
    """

    Request = GroupRequest
    verbs: ClassVar[tuple[Verb[Any], ...]] = ()
    default_verb: ClassVar[str | None] = None

    def __init__(self) -> None:
        for verb in self.verbs:
            verb.group = self.name

    def verb(self, name: str) -> Verb[Any] | None:
        return next((v for v in self.verbs if v.name == name), None)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        # Verbs parse (and fail) as the group does: they take the group's name for errors.
        parser_class: Any = (functools.partial(QuietParser, self.name, self.quiet_usage)
                             if self.quiet_usage else functools.partial(_Parser, self.name))
        sub = parser.add_subparsers(dest="action", required=self.default_verb is None,
                                    metavar="ACTION", parser_class=parser_class)
        for verb in self.verbs:
            verb_parser = sub.add_parser(verb.name, help=verb.summary)
            verb.add_arguments(verb_parser)
            _add_json(verb_parser, verb.Request)

    def parse(self, tokens: Sequence[str], prog: str) -> Parsed[Any]:
        tokens = list(tokens)
        if self.default_verb is not None and (not tokens or tokens[0].startswith("-")):
            tokens = [self.default_verb, *tokens]  # `downloads --all` is `downloads ls --all`
        try:
            namespace = self.parser(prog).parse_args(tokens)
        except argparse.ArgumentError as exc:
            raise BadArgumentsError(command=self.name, reason=str(exc)) from None
        verb = self.verb(str(namespace.action))
        if verb is None:  # argparse checked the choice; the usage line says which exist
            raise BadArgumentsError(command=self.name, reason=self.quiet_usage
                                    or f"invalid choice: {namespace.action!r}")
        return Parsed(verb, verb.request(namespace))

    def run(self, app: AppService, request: GroupRequest, ctx: Context) -> Result:
        raise NotImplementedError("a group runs through its verbs")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter with a translated ``usage:`` prefix."""

    def __init__(self, prog: str, usage_prefix: str = "usage: ", **kwargs: Any) -> None:
        super().__init__(prog, **kwargs)
        self._usage_prefix = usage_prefix

    def add_usage(self, usage: Any, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups,
                          self._usage_prefix if prefix is None else prefix)


def _localize_parser(parser: argparse.ArgumentParser, ctx: Context, prefix: str,
                     fallbacks: tuple[str, ...] = ()) -> None:
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
                # A verb's argument reads arg-GROUP-VERB-DEST, else the group's arg-GROUP-DEST.
                _localize_parser(sub, ctx, f"{prefix}-{name}", (prefix, *fallbacks))
            continue
        if not action.option_strings and action.metavar is None and not action.choices:
            # A positional's name in the usage line: `[key]` reads `[clé]` in French.
            action.metavar = messages.message(f"meta-{action.dest}", default=action.dest)
        text = ""
        # e.g. arg-alias-create-name, then arg-alias-name, then arg-json (every command's)
        for candidate in (prefix, *fallbacks, "arg"):
            text = messages.message(f"{candidate}-{action.dest}", {"prog": ctx.prog},
                                    default="")
            if text:
                break
        if text:
            action.help = text.replace("%", "%%")  # argparse formats help with %


COMMANDS: dict[str, Command[Any]] = {}

CommandT = TypeVar("CommandT", bound=type[Command[Any]])


def command(cls: CommandT) -> CommandT:
    """Class decorator: register a command (or a group) under its name and aliases."""
    instance = cls()
    for name in (cls.name, *cls.aliases):
        if name in COMMANDS:
            raise RuntimeError(f"command {name!r} registered twice")
        COMMANDS[name] = instance
    return cls


def command_names() -> list[str]:
    _load_commands()
    return sorted({c.name for c in COMMANDS.values()})


@dataclass(frozen=True)
class Parsed(Generic[RequestT]):
    """A parsed line: the command (a verb for a group) and its typed request."""

    command: Command[RequestT]
    request: RequestT

    def run(self, app: AppService, ctx: Context) -> Result:
        return self.command.run(app, self.request, ctx)

    def answer(self, ctx: Context) -> Result:
        return self.command.answer(self.request, ctx)


def split_line(line: str) -> list[str]:
    """Tokenise a magic line like a shell would (quotes group words)."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise BadArgumentsError(command="bodhi", reason=str(exc)) from None


def parse(tokens: Sequence[str], prog: str = "bodhi") -> Parsed[Any]:
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
        found, rest = COMMANDS["help"], [found.name]
    return found.parse(rest, prog)


def commands() -> dict[str, Command[Any]]:
    """Every command by name and alias (their modules imported on first use)."""
    _load_commands()
    return COMMANDS


def suggest(name: str) -> str:
    """The command name closest to a mistyped one (``stauts`` -> ``status``), or ""."""
    close = difflib.get_close_matches(name, sorted(commands()), n=1, cutoff=0.6)
    return COMMANDS[close[0]].name if close else ""


def unknown_command(name: str) -> UnknownCommandError:
    suggestion = suggest(name)
    return UnknownCommandError(command=name, commands=command_names(), suggestion=suggestion,
                               has_suggestion="yes" if suggestion else "no")


_LOADED: list[bool] = []


def _load_commands() -> None:
    # Importing a module registers its commands; after the first call this is one check.
    if _LOADED:
        return
    for module in COMMAND_MODULES:
        importlib.import_module(module)
    _LOADED.append(True)
