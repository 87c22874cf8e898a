"""The ``bodhi`` console script: the same grammar as ``%bodhi``, printed to a terminal."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 failed, 2 bad command line)."""
    from bodhi_nb.app import app
    from bodhi_nb.commands import Context, Invocation, execute, exit_code, render_error
    from bodhi_nb.commands.grammar import ask_yes_no

    invocation = Invocation.of(list(sys.argv[1:] if argv is None else argv))
    ctx = Context(prog="bodhi", ask_secret=getpass.getpass,
                  confirm=ask_yes_no)
    try:
        result = execute(invocation.tokens, ctx, app)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if invocation.debug:
            raise
        print(render_error(exc, prog="bodhi", app_factory=app), file=sys.stderr)
        return exit_code(exc)
    text = result.to_text()
    if text:
        print(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
