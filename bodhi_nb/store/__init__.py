"""The store floor: the only home of SQL in bodhi_nb.

``open_store`` picks the backend from ``BODHI_DATABASE_URL``: unset, the embedded DuckDB
file under BODHI_HOME (one machine); ``postgresql://`` (or ``postgres://``), PostgreSQL
(teams: several users on several hosts). :class:`Tables` hands the services one typed object
per table; nothing above this package sees a connection, a row or a SQL string.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bodhi_nb.errors import BadUrlError
from bodhi_nb.store.base import BACKENDS, Store, StoreInfo

if TYPE_CHECKING:
    from bodhi_nb.store.access_requests import AccessRequestsTable
    from bodhi_nb.store.api_aliases import ApiAliasesTable
    from bodhi_nb.store.api_tokens import ApiTokensTable
    from bodhi_nb.store.base import Clock
    from bodhi_nb.store.chat_messages import ChatMessagesTable
    from bodhi_nb.store.downloads import DownloadsTable
    from bodhi_nb.store.secrets import SecretsTable
    from bodhi_nb.store.sessions import SessionsTable

__all__ = ["BACKENDS", "DUCKDB_FILE", "Store", "StoreInfo", "Tables", "backend_of",
           "open_store", "redact_password"]

#: The embedded database's file name under BODHI_HOME.
DUCKDB_FILE = "bodhi.duckdb"
_QUERY_PASSWORD = re.compile(r"(?i)(password=)[^&#\s]*")
#: Internal secret names of API keys: ``bodhi:api_key:<alias row id>``.
API_KEY_PREFIX = "bodhi:api_key:"


@dataclass(frozen=True)
class Tables:
    """Every table on one store."""

    store: Store
    downloads: DownloadsTable
    api_aliases: ApiAliasesTable
    secrets: SecretsTable
    sessions: SessionsTable
    chat_messages: ChatMessagesTable
    access_requests: AccessRequestsTable
    api_tokens: ApiTokensTable

    @classmethod
    def on(cls, store: Store) -> Tables:
        from bodhi_nb.store.access_requests import AccessRequestsTable
        from bodhi_nb.store.api_aliases import ApiAliasesTable
        from bodhi_nb.store.api_tokens import ApiTokensTable
        from bodhi_nb.store.chat_messages import ChatMessagesTable
        from bodhi_nb.store.downloads import DownloadsTable
        from bodhi_nb.store.secrets import SecretsTable
        from bodhi_nb.store.sessions import SessionsTable

        return cls(store, DownloadsTable(store),
                   ApiAliasesTable(store, key_prefix=API_KEY_PREFIX), SecretsTable(store),
                   SessionsTable(store), ChatMessagesTable(store), AccessRequestsTable(store),
                   ApiTokensTable(store))


def redact_password(url: str) -> str:
    """``url`` as it may be shown: the password masked, in the authority
    (``postgresql://me:***@host/db``, the user kept: messages name it anyway) and in a
    ``password=`` query parameter."""
    from bodhi_nb.redact import MASK, redact_url

    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        shown = redact_url(url)
    else:
        shown = url
        if parts.password is not None:
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            netloc = f"{parts.username or ''}:{MASK}@{host}"
            if port is not None:
                netloc += f":{port}"
            shown = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return _QUERY_PASSWORD.sub(rf"\g<1>{MASK}", shown)


def backend_of(url: str) -> str:
    """The backend a ``BODHI_DATABASE_URL`` selects; BadUrlError for anything else."""
    text = url.strip()
    if not text:
        return "duckdb"
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise BadUrlError(url=redact_password(text),
                      reason=f"unsupported scheme {scheme!r}" if scheme else "not a URL")


def open_store(url: str, home: Path, time: Clock, *, busy_timeout: float = 30.0,
               idle_close: float = 0.1) -> Store:
    """The store ``url`` names (empty: DuckDB under ``home``). Nothing is opened yet: the
    first unit of work connects (and migrates)."""
    if backend_of(url) == "postgresql":
        from bodhi_nb.store.postgres import PostgresStore

        return PostgresStore(url.strip(), time)
    from bodhi_nb.store.duckdb import DuckDbStore, prepare_home

    prepare_home(home)
    return DuckDbStore(home / DUCKDB_FILE, time, busy_timeout=busy_timeout,
                       idle_close=idle_close)
