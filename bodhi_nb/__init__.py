"""bodhi_nb: BodhiApp's service layer inside a Jupyter kernel.

``%load_ext bodhi_nb`` registers the ``%bodhi`` magic; ``bodhi_nb.app()`` returns this
kernel's service registry; ``bodhi_nb.chat``, ``chat_many`` and ``history`` are the batch
API for analysis (:mod:`bodhi_nb.batch`). Importing the package is cheap: services, DuckDB,
httpx and the Hub client are imported by the commands that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bodhi_nb._version import __version__

# Imported eagerly (it is light) so that the name ``bodhi_nb.app`` is the function, not the
# submodule of the same name, whatever is imported later.
from bodhi_nb.app import app

if TYPE_CHECKING:
    from bodhi_nb.batch import Answer, chat, chat_many, history

__all__ = ["Answer", "__version__", "app", "chat", "chat_many", "history",
           "load_ipython_extension", "unload_ipython_extension"]

#: The batch API (issue 14), imported on first use: ``%load_ext bodhi_nb`` stays cheap.
_BATCH = frozenset({"Answer", "chat", "chat_many", "history"})


def __getattr__(name: str) -> Any:
    if name in _BATCH:
        from bodhi_nb import batch

        return getattr(batch, name)
    raise AttributeError(f"module 'bodhi_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext bodhi_nb``: register ``%bodhi`` and ``%%bodhi``, and their Tab
    completion (computed on the first Tab, not here)."""
    from bodhi_nb.notebook.completer import register
    from bodhi_nb.notebook.magic import BodhiMagics

    ipython.register_magics(BodhiMagics)
    register(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext bodhi_nb``: stop the ``serve`` endpoint, hand the database back to
    other kernels."""
    from bodhi_nb.app import reset_apps
    from bodhi_nb.notebook.completer import unregister
    from bodhi_nb.server import serving

    unregister(ipython)
    serving.stop()
    reset_apps()
