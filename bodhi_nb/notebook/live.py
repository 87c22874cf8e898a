"""A display updated in place while an answer streams (Jupyter kernels only)."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["DisplayLive"]


class DisplayLive:
    """One output, re-rendered at most ``fps`` times a second as deltas arrive.

    Before the first token it shows the wait (``starting the model server for demo… 3 s``);
    the answer replaces it. ``auto`` renders as Markdown until the chat says which format
    the model's answers take (a base model's are plain text).

    The view is transient: it starts empty and ends empty, and the command's result shows
    the answer. A saved notebook therefore holds the answer once, and its outputs do not
    depend on display updates (nbclient applies them, nbval ignores them).
    """

    #: the answer does not stay in this view (the result shows it)
    persistent = False

    def __init__(self, fmt: str = "markdown", fps: float = 10.0) -> None:
        from IPython.display import display

        self.format = fmt
        self.text = ""
        self._status = ""
        self._closed = False
        self._shown: dict[str, Any] | None = {}
        self._interval = 1.0 / fps
        self._last = 0.0
        self._handle = display(self._bundle(), raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def _bundle(self) -> dict[str, Any]:
        if self._closed or not (self.text or self._status):
            return {}
        if not self.text:
            return {"text/plain": self._status}
        if self.format == "text":
            return {"text/plain": self.text}
        body = f"```\n{self.text}\n```" if self.format == "code" else self.text
        return {"text/plain": self.text, "text/markdown": body}

    def _update(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self._interval:
            return
        bundle = self._bundle()
        if bundle == self._shown:
            return
        self._last = now
        self._shown = bundle
        self._handle.update(bundle, raw=True)

    def status(self, text: str, done: bool = False) -> None:
        self._status = text
        self._update(force=done)

    def set_format(self, fmt: str) -> None:
        self.format = fmt

    def write(self, delta: str) -> None:
        first = not self.text
        self.text += delta
        self._update(force=first)  # the first token replaces the wait at once

    def close(self) -> None:
        self._closed = True
        self._update(force=True)
