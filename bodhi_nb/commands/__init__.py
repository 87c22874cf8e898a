"""The command layer shared by the ``%bodhi`` magic and the ``bodhi`` CLI.

A command is a ``Command[SomeRequest]`` (:mod:`bodhi_nb.commands.grammar`): its arguments,
a frozen dataclass request, and ``run(app, request, ctx) -> Result`` checked by mypy. A
command made of verbs (``alias``, ``api``, ``secret``, ``downloads``; ``access``, ``users``,
``token``, ``db``, ``hub`` to come) is a ``Group`` listing ``Verb`` instances, each with its
own request. ``@command`` registers a command; its module's name goes in
``grammar.COMMAND_MODULES`` (the grammar imports none of them itself). What only a front end
can do (ask without echo, stream to a screen, draw a progress bar, fill ``{var}``) reaches a
command through its :class:`Context`, as the protocols ``LiveOutput`` and
``DownloadProgress`` and plain callables.

Words a command shows come from the Fluent catalogues (``bodhi_nb/locales/*/AREA.ftl``, both
locales), never from string literals:

* ``ctx.t("hub-freed", size=human_bytes(n))`` -> one line in the user's language
  (``{ $prog }`` is filled in for you);
* ``ctx.table(("id", "file", "status"), rows, title=ctx.t(...), empty=ctx.t(...))`` -> a
  :class:`~bodhi_nb.commands.results.Table` whose headings are the messages ``col-id``,
  ``col-file``, ... (the key itself if there is none), whose JSON keeps the English keys, and
  whose yes/no cells are translated;
* a command's summary is ``cmd-NAME``, its arguments' help ``arg-NAME-DEST`` (the class
  attributes stay as the English fallback).

``tests/test_localization.py`` fails when an id used in code is missing, or when a message
exists in one locale only.
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Context, Parsed, commands, parse, split_line
from bodhi_nb.commands.results import JsonView, Result
from bodhi_nb.errors import (
    AmbiguousIdError,
    BadArgumentsError,
    BodhiError,
    CommandIsAFolderError,
    CommandNoSpaceError,
    CommandNotAFolderError,
    CommandOsError,
    CommandPathNotFoundError,
    CommandPermissionDeniedError,
    InternalError,
    UnknownCommandError,
)

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.localization import LocalizationService

__all__ = ["Context", "Invocation", "Parsed", "argparse_reason", "execute", "match_id",
           "message_text", "os_error", "parse", "render_error", "split_line"]


@dataclass(frozen=True)
class Invocation:
    """A tokenised command line with the front-end flags taken out."""

    tokens: list[str]
    debug: bool = False

    @classmethod
    def of(cls, tokens: Sequence[str]) -> Invocation:
        rest = [t for t in tokens if t != "--debug"]
        return cls(rest, debug=len(rest) != len(tokens))


def execute(tokens: Sequence[str], ctx: Context,
            app_factory: Callable[[], AppService]) -> Result:
    """Parse, build the registry if needed, run. Raises BodhiError for the front end."""
    parsed = parse(tokens, ctx.prog)
    try:
        if parsed.command.needs_app:
            registry = app_factory()
            ctx = dataclasses.replace(ctx, localization=registry.localization_service())
            if parsed.command.action is not None:
                registry.check(parsed.command.action)
            result = parsed.run(registry, ctx)
        else:
            # help and version need no registry (no database, no keyring): only the locale.
            ctx = dataclasses.replace(ctx, localization=_localization(None))
            result = parsed.answer(ctx)
    except BodhiError:
        raise
    except (KeyboardInterrupt, SystemExit, BrokenPipeError):
        raise
    except OSError as exc:
        # The safety net for environment problems a service did not name itself: a read-only
        # BODHI_HOME, a file where a folder should be, a full disk.
        raise os_error(exc) from exc
    except Exception as exc:
        raise InternalError(kind=type(exc).__name__) from exc
    if getattr(parsed.request, "json", False):
        return JsonView(result)
    return result


_OS_ERRORS: dict[int, type[BodhiError]] = {
    errno.ENOSPC: CommandNoSpaceError,
    errno.EDQUOT: CommandNoSpaceError,
    errno.EFBIG: CommandNoSpaceError,
    errno.EACCES: CommandPermissionDeniedError,
    errno.EPERM: CommandPermissionDeniedError,
    errno.EROFS: CommandPermissionDeniedError,
    errno.ENOTDIR: CommandNotAFolderError,
    errno.EISDIR: CommandIsAFolderError,
    errno.ENOENT: CommandPathNotFoundError,
}


def os_error(exc: OSError) -> BodhiError:
    """A coded error for an ``OSError``: which path, what went wrong, and (in the message)
    the fix."""
    from bodhi_nb.redact import redact_url, strip_control

    path = exc.filename if exc.filename is not None else exc.filename2
    shown = strip_control(redact_url(os.fsdecode(path))) if path is not None else "?"
    reason = strip_control(exc.strerror or type(exc).__name__)
    cls = _OS_ERRORS.get(exc.errno or 0, CommandOsError)
    return cls(path=shown, reason=reason, kind=type(exc).__name__)


def match_id(typed: str, ids: Iterable[str]) -> str:
    """The one id among ``ids`` that ``typed`` names: itself, or a unique prefix or suffix
    (case-insensitive; tables show ULIDs by their last characters). When nothing matches,
    ``typed`` comes back unchanged so the service raises its own not-found error; when
    several match, :class:`AmbiguousIdError` lists them."""
    candidates = list(dict.fromkeys(ids))
    if typed in candidates:
        return typed
    needle = typed.strip().upper()
    if not needle:
        return typed
    found = [i for i in candidates
             if i.upper().startswith(needle) or i.upper().endswith(needle)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise AmbiguousIdError(id=typed, matches=found[:6])
    return typed


def render_error(error: BaseException, *, prog: str = "bodhi",
                 app_factory: Callable[[], AppService] | None = None) -> str:
    """One localized line: ``error[code]: message``. Never a traceback, never a secret."""
    if isinstance(error, OSError) and not isinstance(error, BrokenPipeError):
        error = os_error(error)
    if not isinstance(error, BodhiError):
        error = InternalError(kind=type(error).__name__)
    localization = _localization(app_factory)
    if isinstance(error, BadArgumentsError) and "reason" in error.params:
        # argparse words its complaints in English: say them in the user's language.
        command = error.params.get("command", "")
        error = BadArgumentsError(command=command, reason=argparse_reason(
            error.params["reason"], localization, command))
    message = localization.render(error, {"prog": prog})
    return f"error[{error.code}]: {message}"


_ARGPARSE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), message_id) for pattern, message_id in (
        (r"argument (?P<argument>\S+): invalid choice: '(?P<value>.*)' "
         r"\(choose from (?P<choices>.*)\)", "ui-arg-invalid-choice"),
        (r"the following arguments are required: (?P<arguments>.*)", "ui-arg-required"),
        (r"unrecognized arguments: (?P<arguments>.*)", "ui-arg-unrecognized"),
        (r"argument (?P<argument>\S+): expected one argument", "ui-arg-expected-one"),
        (r"argument (?P<argument>\S+): expected at least one argument",
         "ui-arg-expected-some"),
        (r"argument (?P<argument>\S+): invalid (?P<type>\w+) value: (?P<value>.*)",
         "ui-arg-invalid-value"),
        (r"argument (?P<argument>\S+): not allowed with argument (?P<other>.*)",
         "ui-arg-not-allowed-with"),
        (r"one of the arguments (?P<arguments>.*) is required", "ui-arg-one-required"),
        (r"argument (?P<argument>\S+): ignored explicit argument (?P<value>.*)",
         "ui-arg-ignored-value"),
    ))


def argparse_reason(reason: str, localization: LocalizationService,
                    command: str = "") -> str:
    """argparse's English complaint in the user's language (unchanged if unknown); an
    invalid choice also gets the closest valid one. The usage line a quiet command shows
    instead of what was typed (``secret``, ``api``) is the message ``usage-COMMAND``."""
    found = commands().get(command)
    if found is not None and found.quiet_usage and reason == found.quiet_usage:
        return localization.message(f"usage-{found.name}", default=reason)
    for pattern, message_id in _ARGPARSE:
        match = pattern.fullmatch(reason)
        if match is None:
            continue
        args: dict[str, Any] = dict(match.groupdict())
        if message_id == "ui-arg-invalid-choice":
            choices = re.findall(r"'([^']*)'", args["choices"])
            close = difflib.get_close_matches(args["value"], choices, n=1, cutoff=0.6)
            args["choices"] = ", ".join(choices)
            args["suggestion"] = close[0] if close else ""
            args["has_suggestion"] = "yes" if close else "no"
        return localization.message(message_id, args)
    return reason


def message_text(message_id: str, *, prog: str = "bodhi",
                 app_factory: Callable[[], AppService] | None = None) -> str:
    """A user-facing line outside any command (``interrupted``), in the user's language."""
    return _localization(app_factory).message(message_id, {"prog": prog})


def _localization(app_factory: Callable[[], AppService] | None) -> LocalizationService:
    from bodhi_nb.services.localization import (
        DEFAULT_LOCALE,
        SUPPORTED_LOCALES,
        LocalizationService,
    )

    if app_factory is not None:
        try:
            return app_factory().localization_service()
        except Exception:  # noqa: S110 - the registry itself is what failed; fall back below
            pass
    # No registry (help, version), or it could not be built (a bad setting, say): still
    # speak the user's language, from the settings when they can be read.
    locale = os.environ.get("BODHI_LOCALE", DEFAULT_LOCALE)
    try:
        from bodhi_nb.services.settings import SettingService

        locale = str(SettingService().get("BODHI_LOCALE"))
    except Exception:  # noqa: S110 - a bad settings file: the environment's locale
        pass
    return LocalizationService(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def exit_code(error: BaseException) -> int:
    """CLI exit status: 2 for a line that does not parse, 1 for any other failure."""
    return 2 if isinstance(error, (UnknownCommandError, BadArgumentsError)) else 1
