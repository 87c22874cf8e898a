"""A display updated in place while an answer streams (Jupyter kernels only)."""

from __future__ import annotations

import time
from typing import Any

__all__ = ["DisplayLive"]


class DisplayLive:
    """One output, re-rendered at most ``fps`` times a second as deltas arrive."""

    def __init__(self, fmt: str = "markdown", fps: float = 10.0) -> None:
        from IPython.display import display

        self.format = fmt
        self.text = ""
        self._interval = 1.0 / fps
        self._last = 0.0
        self._handle = display(self._bundle(), raw=True, display_id=True)  # type: ignore[no-untyped-call]

    def _bundle(self) -> dict[str, Any]:
        if self.format == "text":
            return {"text/plain": self.text}
        body = f"```\n{self.text}\n```" if self.format == "code" else self.text
        return {"text/plain": self.text, "text/markdown": body}

    def write(self, delta: str) -> None:
        self.text += delta
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._handle.update(self._bundle(), raw=True)

    def close(self) -> None:
        self._handle.update(self._bundle(), raw=True)
