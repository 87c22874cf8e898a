"""The ``bodhi`` console script: the same grammar as ``%bodhi``, printed to a terminal."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bodhi_nb.commands.results import Serving

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 1 failed, 2 bad command line)."""
    entered = time.perf_counter()
    tokens = list(sys.argv[1:] if argv is None else argv)
    if tokens in (["--version"], ["-V"]):
        # The flag every CLI user types first: answered before anything else is imported.
        from bodhi_nb._version import __version__

        return _emit(f"bodhi_nb {__version__}")
    import getpass

    from bodhi_nb.app import app
    from bodhi_nb.commands import (
        Context,
        Invocation,
        execute,
        exit_code,
        message_text,
        render_error,
    )
    from bodhi_nb.terminal import StdoutLive, TqdmProgress, ask_yes_no, open_browser, say_now

    invocation = Invocation.of(tokens)
    # The terminal front end: answers stream to standard output, downloads draw a bar.
    ctx = Context(prog="bodhi", ask_secret=getpass.getpass, confirm=ask_yes_no,
                  live=StdoutLive, progress=TqdmProgress, started_at=entered,
                  say=say_now, open_url=open_browser)
    try:
        result = execute(invocation.tokens, ctx, app)
        from bodhi_nb.commands.auth import DeviceLogin

        if isinstance(result, DeviceLogin):
            # `bodhi login --device`: the address and code at once, then wait for the end.
            say_now(result.to_text())
            result = result.wait()
        from bodhi_nb.commands.panel import PanelView

        if isinstance(result, PanelView):
            result = result.text  # made lazily (a notebook shows the widget): its errors here
    except KeyboardInterrupt:
        print(message_text("ui-interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away while the command streamed (`bodhi chat ... | head`).
        return _quiet_broken_pipe()
    except Exception as exc:
        if invocation.debug:
            raise
        # The locale comes from the settings, not the registry: a line that does not parse
        # (or a registry that cannot be built) must not wait for the database or keyring.
        print(render_error(exc, prog="bodhi"), file=sys.stderr)
        return exit_code(exc)
    from bodhi_nb.commands.results import Serving
    from bodhi_nb.commands.token import TokenCreated

    if isinstance(result, Serving):
        return _hold(result)
    if isinstance(result, TokenCreated):
        # The token alone on standard output (`TOKEN=$(bodhi token create ci)`); the words
        # around it on standard error, where a person at the terminal reads them too.
        print("\n".join([result.head, *result.notes]), file=sys.stderr, flush=True)
        return _emit(str(result.secret))
    return _emit(result.to_text())


def _hold(serving: Serving) -> int:
    """``bodhi hub serve``, ``bodhi serve``: the server runs in this process's background
    threads; the terminal keeps the process alive until Ctrl-C (or SIGTERM), then stops
    it."""
    import signal
    import threading

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    status = 0
    try:
        status = _emit(serving.to_text())
        if status == 0:
            threading.Event().wait()  # interrupted by Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        serving.stop()
    return status if status else _emit(serving.stopped)


def _emit(text: str) -> int:
    """Print the answer; a reader that stops early (``| head``) is not an error to report."""
    try:
        if text:
            print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return _quiet_broken_pipe()
    return 0


def _quiet_broken_pipe() -> int:
    # As Python's documentation on SIGPIPE advises: point stdout at devnull so the flush at
    # interpreter exit cannot raise (and print) a second BrokenPipeError, then exit 1.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
