"""UsageService: what this process used, for ``lock`` without names.

Three hooks record into it: a pull that completed (``DownloadService``: the repository, the
file and the commit it resolved to), an alias written (``DataService``: created, copied or
updated) and a chat (``ChatService.chat``: a user alias by name, a model alias as its file).
Nothing is stored: a new kernel starts with nothing used, and a terminal's ``bodhi`` process
has used nothing when ``lock`` runs (it then needs names).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from bodhi_nb.objs import AliasSource, ApiAlias, UserAlias

__all__ = ["UsageService", "UsedModel"]


@dataclass(frozen=True, order=True)
class UsedModel:
    """A model file this process pulled or chatted with, at the revision it was used at."""

    repo: str
    filename: str
    revision: str


class UsageService:
    """Thread-safe, in memory, in the order things were first used."""

    def __init__(self) -> None:
        self._models: dict[UsedModel, None] = {}
        self._aliases: dict[str, None] = {}
        self._lock = threading.Lock()

    def model(self, repo: str, filename: str, revision: str) -> None:
        with self._lock:
            self._models.setdefault(UsedModel(repo, filename, revision))

    def alias(self, name: str) -> None:
        with self._lock:
            self._aliases.setdefault(name)

    def chatted(self, alias: UserAlias | ApiAlias) -> None:
        """A chat with ``alias``: a user alias by name, a model alias as its file; an API
        alias is nothing a lock can pin."""
        if isinstance(alias, ApiAlias):
            return
        if alias.source is AliasSource.MODEL:
            self.model(alias.repo, alias.filename, alias.snapshot)
        else:
            self.alias(alias.alias)

    def models(self) -> list[UsedModel]:
        with self._lock:
            return list(self._models)

    def aliases(self) -> list[str]:
        with self._lock:
            return list(self._aliases)

    def empty(self) -> bool:
        with self._lock:
            return not self._models and not self._aliases
