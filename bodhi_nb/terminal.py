"""What the two front ends show in a terminal: an answer streamed to standard output, a
download's progress bar (``tqdm.auto``: a widget in a notebook, text in a terminal) and the
yes/no question. The ``bodhi`` CLI uses all three; the ``%bodhi`` magic uses the bar and the
question, and the streamed answer outside a Jupyter kernel (terminal IPython).

They implement the protocols of :mod:`bodhi_nb.commands.grammar` (``LiveOutput``,
``DownloadProgress``) and reach a command through its ``Context``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Never

from bodhi_nb.commands.grammar import Context, said

if TYPE_CHECKING:
    from tqdm.auto import tqdm

__all__ = ["StdoutLive", "TqdmProgress", "ask_yes_no", "open_browser", "say_now"]


def ask_yes_no(question: str) -> bool:
    """The front ends' confirmation: ``input()``; no answer (EOF) means no."""
    try:
        # The question is in the user's language; so may the answer be (oui).
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes", "o", "oui")
    except EOFError:
        return False


def say_now(line: str) -> None:
    """A line shown at once, while the command goes on (``login``'s address)."""
    print(line, flush=True)


def open_browser(url: str) -> None:
    """Opens ``url`` in the user's browser when this machine has one the user can see: a
    desktop session (``DISPLAY``, ``WAYLAND_DISPLAY``), macOS or Windows, or the browser
    ``BROWSER`` names. Over ssh, in a container or on a remote kernel nothing is started
    (a text browser would take the terminal over): the address is printed anyway."""
    import os
    import webbrowser

    desktop = (sys.platform in ("darwin", "win32") or bool(os.environ.get("BROWSER"))
               or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")))
    if not desktop:
        return
    try:
        webbrowser.open(url)
    except webbrowser.Error:
        pass  # no usable browser: the address was printed


class StdoutLive:
    """Terminal: the answer to standard output as it comes; the wait on standard error
    (one line rewritten in place on a terminal, each stage on its own line otherwise)."""

    #: the streamed answer stays on screen: the result need not show it again
    persistent = True

    def __init__(self, fmt: str = "text") -> None:
        self.wrote = False
        self._status = False
        self._printed: set[str] = set()
        self._tty = sys.stderr.isatty()

    def status(self, text: str, done: bool = False) -> None:
        if self.wrote:
            return
        if self._tty:
            sys.stderr.write("\r\x1b[K" + text + ("\n" if done else ""))
            self._status = not done
        else:
            stage = "done" if done else "wait"
            if stage in self._printed:
                return
            self._printed.add(stage)
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def set_format(self, fmt: str) -> None:
        pass

    def _clear(self) -> None:
        if self._status:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._status = False

    def write(self, delta: str) -> None:
        self._clear()
        sys.stdout.write(delta)
        sys.stdout.flush()
        self.wrote = True

    def close(self) -> None:
        self._clear()
        if self.wrote:
            sys.stdout.write("\n")
            sys.stdout.flush()


class TqdmProgress:
    """A progress bar per file: a widget in a notebook, text in a terminal (tqdm.auto).

    A download's notices (:class:`~bodhi_nb.objs.Notice`: a message id and its arguments)
    are shown in the language of ``ctx`` (en-US without one) and kept in ``notices``."""

    def __init__(self, ctx: Context | None = None) -> None:
        self._bar: tqdm[Never] | None = None
        self._ctx = ctx or Context()
        self.notices: list[str] = []

    def start(self, filename: str, total: int, initial: int) -> None:
        from tqdm.auto import tqdm

        self.finish()
        self._bar = tqdm(total=total, initial=initial, desc=filename, unit="B",
                         unit_scale=True, unit_divisor=1024, mininterval=0.1,
                         file=sys.stderr, leave=True, dynamic_ncols=True)

    def advance(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(done - self._bar.n)

    def notice(self, text: str) -> None:
        text = said(self._ctx, text)
        self.notices.append(text)
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
