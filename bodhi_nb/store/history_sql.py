"""SQL over the chat history, away from the real database.

``%bodhi history --sql`` and ``bodhi_nb.history()`` run the user's SQL, and the real database
holds secrets, sessions and tokens (and may be a shared PostgreSQL). So the user's SQL never
reaches it: the history's rows, read through the typed table
(:meth:`~bodhi_nb.store.chat_messages.ChatMessagesTable.records`), are copied into a
private in-memory DuckDB database as the table ``history``, and the SQL runs there. That
database has no external access (no files read or written, no ``ATTACH``, no extension
loaded) and its configuration is locked; only a single query (``SELECT``, ``WITH``,
``FROM history ...``) is accepted. Changing the copy changes nothing else.

The table ``history`` has one row per logged exchange, oldest first:

========================  ===========  =====================================================
column                    type         what
========================  ===========  =====================================================
id                        VARCHAR      the exchange id (``Answer.id``)
thread                    VARCHAR      the thread (a one-off exchange: its own id)
alias                     VARCHAR      the alias asked
model                     VARCHAR      the model the server reported
repo, file, commit        VARCHAR      a local alias's model file (NULL for an API alias)
prompt, answer            VARCHAR      the user's prompt and the answer
params                    JSON         the effective request params (``params->>'seed'``)
prompt_tokens             BIGINT       as the server counted them (NULL when not reported)
completion_tokens         BIGINT
finish_reason             VARCHAR      ``stop``, ``length``, ``stopped`` (by the user), NULL
ttft_ms, total_ms         DOUBLE       time to first token, total time
startup_ms                DOUBLE       the model server's start, when the exchange waited
created_at                TIMESTAMP    when it was logged (UTC)
input_key                 VARCHAR      SHA-256 of the exchange's inputs (batch cache key)
usage, timings            JSON         as the server and the service reported them
========================  ===========  =====================================================
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from bodhi_nb.errors import BadSqlError, NotAQueryError
from bodhi_nb.objs import HistoryRecord
from bodhi_nb.store.base import first_line

if TYPE_CHECKING:
    import duckdb

    #: What ``query`` returns (named here: DuckDB is imported only under the store).
    HistoryRelation: TypeAlias = duckdb.DuckDBPyRelation

__all__ = ["HISTORY_COLUMNS", "HistoryRelation", "fetch", "query"]

#: The columns of ``history``, in order, with their DuckDB types.
HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "VARCHAR"), ("thread", "VARCHAR"), ("alias", "VARCHAR"), ("model", "VARCHAR"),
    ("repo", "VARCHAR"), ("file", "VARCHAR"), ("commit", "VARCHAR"), ("prompt", "VARCHAR"),
    ("answer", "VARCHAR"), ("params", "JSON"), ("prompt_tokens", "BIGINT"),
    ("completion_tokens", "BIGINT"), ("finish_reason", "VARCHAR"), ("ttft_ms", "DOUBLE"),
    ("total_ms", "DOUBLE"), ("startup_ms", "DOUBLE"), ("created_at", "TIMESTAMP"),
    ("input_key", "VARCHAR"), ("usage", "JSON"), ("timings", "JSON"),
)
_CHUNK = 200  # rows per INSERT (a few thousand parameters a statement)
_SANDBOX = {
    "enable_external_access": False,  # no files, no ATTACH, no network
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}


def query(records: Sequence[HistoryRecord], sql: str | None = None) -> HistoryRelation:
    """The relation of ``sql`` over ``records`` copied as the table ``history`` (without
    ``sql``: the whole table, oldest first). ``BadSqlError`` carries DuckDB's message;
    ``NotAQueryError`` refuses anything but one query."""
    import duckdb

    con = duckdb.connect(":memory:", config=dict(_SANDBOX))
    columns = ", ".join(f'"{name}" {kind}' for name, kind in HISTORY_COLUMNS)
    con.execute(f"CREATE TABLE history ({columns})")
    row_marks = "(" + ", ".join("?" for _ in HISTORY_COLUMNS) + ")"
    for start in range(0, len(records), _CHUNK):
        chunk = records[start:start + _CHUNK]
        values: list[Any] = []
        for record in chunk:
            values += _row(record)
        con.execute(f"INSERT INTO history VALUES {', '.join(row_marks for _ in chunk)}",
                    values)
    con.execute("SET lock_configuration = true")
    text = sql if sql is not None and sql.strip() else (
        "SELECT * FROM history ORDER BY created_at, id")
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as exc:
        raise BadSqlError(reason=first_line(exc)) from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements) or "nothing"
        raise NotAQueryError(kind=kinds)
    try:
        return con.sql(text)
    except duckdb.Error as exc:
        raise BadSqlError(reason=first_line(exc)) from None


def fetch(relation: HistoryRelation) -> tuple[list[str], list[tuple[object, ...]]]:
    """The column names and rows of ``relation``; an error while it runs (a bad cast) is
    ``BadSqlError``."""
    import duckdb

    try:
        return list(relation.columns), relation.fetchall()
    except duckdb.Error as exc:
        raise BadSqlError(reason=first_line(exc)) from None


def _row(record: HistoryRecord) -> list[Any]:
    usage = record.usage or {}
    timings = record.timings or {}
    return [record.id, record.thread, record.alias, record.model, record.repo, record.file,
            record.commit, record.prompt, record.answer, _dumps(record.params),
            _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens")),
            record.finish_reason or _str(usage.get("finish_reason")),
            _float(timings.get("ttft_ms")), _float(timings.get("total_ms")),
            _float(timings.get("startup_ms")), record.created_at, record.input_key,
            _dumps(record.usage), _dumps(record.timings)]


def _dumps(value: object) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None
