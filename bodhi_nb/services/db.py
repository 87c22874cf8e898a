"""DbService: the registry's handle on the store (``bodhi_nb.store``).

It owns the :class:`~bodhi_nb.store.Store` chosen by ``BODHI_DATABASE_URL`` and the typed
tables the other services are built with, and answers ``db status``, ``db migrate`` and
``db migrate --down``. It holds no SQL and imports no database driver.
"""

from __future__ import annotations

import functools

from bodhi_nb.store import Tables
from bodhi_nb.store.base import MigrationInfo, Store, StoreInfo

__all__ = ["DbService"]


class DbService:
    def __init__(self, store: Store) -> None:
        self.store = store

    @functools.cached_property
    def tables(self) -> Tables:
        """The typed tables (built on first use: `status` needs none)."""
        return Tables.on(self.store)

    def __repr__(self) -> str:
        return f"DbService({self.store.backend})"

    @property
    def backend(self) -> str:
        return self.store.backend

    @property
    def location(self) -> str:
        """Where the data lives (a path, or a URL without its password)."""
        return self.store.location

    def info(self) -> StoreInfo:
        return self.store.info()

    def migrate(self) -> list[MigrationInfo]:
        return self.store.migrate()

    def migrate_down(self, steps: int) -> list[MigrationInfo]:
        return self.store.migrate_down(steps)

    def close(self) -> None:
        self.store.close()
