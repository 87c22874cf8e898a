"""What every table module shares: the store it runs on and its transactions."""

from __future__ import annotations

from contextlib import AbstractContextManager

from bodhi_nb.store.base import Store, Tx

__all__ = ["Table"]


class Table:
    """A table's SQL over a :class:`Store`. Every method runs in a unit of work of its own,
    or joins the caller's: ``with table.transaction(): ...`` makes several calls (of this or
    any table on the same store) one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def transaction(self) -> AbstractContextManager[Tx]:
        return self.store.transaction()

    def hand_back(self) -> None:
        """Before slow work that needs no database (see :meth:`Store.hand_back`)."""
        self.store.hand_back()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store.backend})"
