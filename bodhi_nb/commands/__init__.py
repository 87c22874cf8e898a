"""The command layer shared by the ``%bodhi`` magic and the ``bodhi`` CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bodhi_nb.commands.grammar import Context, Parsed, parse, split_line
from bodhi_nb.commands.results import JsonView, Result
from bodhi_nb.errors import BadArgumentsError, BodhiError, InternalError, UnknownCommandError

__all__ = ["Context", "Invocation", "Parsed", "execute", "parse", "render_error", "split_line"]


@dataclass(frozen=True)
class Invocation:
    """A tokenised command line with the front-end flags taken out."""

    tokens: list[str]
    debug: bool = False

    @classmethod
    def of(cls, tokens: Sequence[str]) -> Invocation:
        rest = [t for t in tokens if t != "--debug"]
        return cls(rest, debug=len(rest) != len(tokens))


def execute(tokens: Sequence[str], ctx: Context, app_factory: Callable[[], Any]) -> Result:
    """Parse, build the registry if needed, run. Raises BodhiError for the front end."""
    parsed = parse(tokens, ctx.prog)
    try:
        result: Result = parsed.command.run(app_factory(), parsed.request, ctx)
    except BodhiError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        raise InternalError(kind=type(exc).__name__) from exc
    if getattr(parsed.request, "json", False):
        return JsonView(result)
    return result


def render_error(error: BaseException, *, prog: str = "bodhi",
                 app_factory: Callable[[], Any] | None = None) -> str:
    """One localized line: ``error[code]: message``. Never a traceback, never a secret."""
    if not isinstance(error, BodhiError):
        error = InternalError(kind=type(error).__name__)
    message = _localization(app_factory).render(error, {"prog": prog})
    return f"error[{error.code}]: {message}"


def _localization(app_factory: Callable[[], Any] | None) -> Any:
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
    # The registry could not be built (a bad setting, say): still speak the user's language.
    locale = os.environ.get("BODHI_LOCALE", DEFAULT_LOCALE)
    return LocalizationService(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


def exit_code(error: BaseException) -> int:
    """CLI exit status: 2 for a line that does not parse, 1 for any other failure."""
    return 2 if isinstance(error, (UnknownCommandError, BadArgumentsError)) else 1
