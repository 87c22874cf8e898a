"""``%bodhi`` / ``%%bodhi``: the notebook front end over :mod:`bodhi_nb.commands`.

Only IPython's magic machinery is imported here; the command layer and every service are
imported on the first command, so ``%load_ext bodhi_nb`` stays cheap.
"""

from __future__ import annotations

import dataclasses
import getpass
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

if TYPE_CHECKING:
    from bodhi_nb.commands.grammar import Context, DownloadProgress, LiveOutput
    from bodhi_nb.ui.download_row import DownloadRow

__all__ = ["BodhiMagics"]


@magics_class
class BodhiMagics(Magics):
    @no_var_expand
    @line_cell_magic
    def bodhi(self, line: str, cell: str | None = None) -> Any:
        """Run a bodhi command: ``%bodhi help`` lists them."""
        entered = time.perf_counter()
        from bodhi_nb.app import app
        from bodhi_nb.commands import (
            Context,
            Invocation,
            execute,
            message_text,
            render_error,
            split_line,
        )
        from bodhi_nb.notebook.text import interpolate, strip_markers
        from bodhi_nb.terminal import TqdmProgress, ask_yes_no, open_browser, say_now

        debug = "--debug" in line.split()
        progress: Callable[[Context], DownloadProgress] | None = None
        try:
            invocation = Invocation.of(split_line(line))
            if self.shell is not None and invocation.tokens[:1] != ["chat"]:
                # {var} in arguments, as IPython does for magics (chat prompts interpolate
                # themselves, honouring --no-interpolate).
                invocation = dataclasses.replace(invocation, tokens=[
                    interpolate(t, self.shell.user_ns) for t in invocation.tokens])
            namespace: dict[str, object] | None = (self.shell.user_ns if self.shell
                                                   else None)

            def fill(text: str) -> str:
                return interpolate(text, namespace)

            progress = _progress_factory(self.shell, TqdmProgress)
            ctx = Context(prog="%bodhi", user_ns=namespace, interpolate=fill,
                          cell=strip_markers(cell) if cell is not None else None,
                          ask_secret=getpass.getpass, confirm=ask_yes_no,
                          live=_live_factory(self.shell), progress=progress,
                          started_at=entered, say=say_now, open_url=open_browser)
            return _shown(execute(invocation.tokens, ctx, app), self.shell)
        except KeyboardInterrupt as exc:
            _rows_end(progress, exc)
            print(message_text("ui-interrupted", prog="%bodhi", app_factory=app),
                  file=sys.stderr)
        except Exception as exc:
            _rows_end(progress, exc)
            if debug:
                raise
            print(render_error(exc, prog="%bodhi", app_factory=app), file=sys.stderr)
        return None


def _shown(result: object, shell: object) -> object:
    """A panel's widget where a kernel can show widgets; its table elsewhere (terminal
    IPython, tests), which is also the widget's own text/plain form."""
    from bodhi_nb.commands.auth import DeviceLogin
    from bodhi_nb.commands.panel import PanelView

    if isinstance(result, DeviceLogin):
        if getattr(shell, "kernel", None) is not None:
            # A widget with the code, a link and a live status; it waits in a worker
            # thread, so the cell returns at once.
            from bodhi_nb.ui.login_panel import DeviceLoginView

            return DeviceLoginView(result, prog="%bodhi")
        # Outside a kernel (terminal IPython): the address and code, then wait, as `bodhi`.
        print(result.to_text(), flush=True)
        return result.wait()
    if isinstance(result, PanelView) and getattr(shell, "kernel", None) is not None:
        from bodhi_nb.ui import make

        return make(result.kind, prog="%bodhi", args=result.args)
    from bodhi_nb.commands.results import JsonView
    from bodhi_nb.commands.token import TokenCreated

    if isinstance(result, TokenCreated) or (isinstance(result, JsonView)
                                            and isinstance(result.inner, TokenCreated)):
        # Shown once, and not kept: ``Out[n]`` and ``_`` would hold the token for the rest
        # of the session.
        _display(result)
        return None
    return result


def _progress_factory(shell: object, fallback: Callable[[Context], DownloadProgress]
                      ) -> Callable[[Context], DownloadProgress]:
    """In a Jupyter kernel a download shows as a DownloadRow (the pull panel's row), made
    when the pull starts; elsewhere (terminal IPython, tests) as ``fallback`` (tqdm)."""
    if getattr(shell, "kernel", None) is None:
        return fallback
    return _KernelRows()


class _KernelRows:
    """Makes the rows of one ``%bodhi pull``; each is displayed when its download starts (a
    file already in the cache shows none), and :meth:`end` shows how a failed pull ended.

    The pull runs in the kernel's shell thread, which also handles widget clicks: a click on
    Cancel would wait for the pull's end. So these rows have no Cancel; they say to
    interrupt the kernel (the stop button), which stops the pull at once (the row then says
    ``interrupted``; the next pull resumes). Cancel works on the pull and downloads panels,
    whose downloads run in background threads."""

    def __init__(self) -> None:
        self.rows: list[DownloadRow] = []

    def __call__(self, ctx: Context) -> DownloadProgress:
        from bodhi_nb.app import app
        from bodhi_nb.ui.download_row import DownloadRow

        row = DownloadRow(ctx, app_factory=app, cancellable=False, on_start=_display)
        self.rows.append(row)
        return row

    def end(self, error: BaseException) -> None:
        for row in self.rows:
            if row.outcome is None and row.total > 0:
                row.fail(error)


def _display(widget: object) -> None:
    from IPython.display import display

    display(widget)  # type: ignore[no-untyped-call]


def _rows_end(progress: object, error: BaseException) -> None:
    """The rows of a pull that failed (or was interrupted) say how it ended."""
    if isinstance(progress, _KernelRows):
        progress.end(error)


def _live_factory(shell: object) -> Callable[[str], LiveOutput]:
    """In a Jupyter kernel answers stream into a display updated in place; elsewhere
    (terminal IPython, tests) to standard output."""
    if getattr(shell, "kernel", None) is None:
        from bodhi_nb.terminal import StdoutLive

        return StdoutLive
    from bodhi_nb.notebook.live import DisplayLive

    return DisplayLive
