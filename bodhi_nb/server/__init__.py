"""``bodhi serve``: the kernel's models as an OpenAI-compatible HTTP endpoint.

A front end beside the magic and the CLI (DESIGN.md, Layers): :mod:`bodhi_nb.server.app`
is a Starlette application that calls the registry's services and nothing below them;
:mod:`bodhi_nb.server.serving` runs it with uvicorn in a background thread of the process
(the kernel's, or the terminal's until Ctrl-C). Starlette and uvicorn are imported only
when the endpoint starts, never by ``%load_ext``.
"""

from __future__ import annotations

__all__: list[str] = []
