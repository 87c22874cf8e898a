"""Running a test on both store backends.

``@both_backends`` (or ``pytestmark = both_backends`` for a whole module) runs the test twice:
with ``BODHI_DATABASE_URL`` unset (DuckDB under the test's BODHI_HOME) and set to a fresh
PostgreSQL database on the session's server (conftest's ``db_url``). The variable is set
before any other fixture of the test builds a registry or a store, and child processes
inherit it.
"""

from __future__ import annotations

import pytest

__all__ = ["both_backends"]

#: usefixtures runs ``db_url`` before the test's own fixtures (``settings``, ``app``...).
both_backends = pytest.mark.usefixtures("db_url")
