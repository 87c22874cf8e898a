"""The ``chat_messages`` table: chat history, one row per message, grouped in exchanges
(a prompt and its answer) and threads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bodhi_nb.objs import ChatMessage, HistoryEntry, HistoryRecord, ThreadInfo
from bodhi_nb.store.base import to_db_ts
from bodhi_nb.store.table import Table

__all__ = ["ChatMessagesTable"]

_COLUMNS = ("id", "thread", "exchange", "seq", "role", "content", "alias", "model", "params",
            "usage", "timings", "input_key", "repo", "filename", "model_commit",
            "finish_reason", "created_at")
#: An exchange as a :class:`HistoryRecord` (``u``: the user row, ``a``: the assistant's).
_RECORD = ("SELECT u.exchange, u.thread, a.alias, a.model, u.content, a.content, u.created_at,"
           " a.params, a.usage, a.timings, a.finish_reason, a.repo, a.filename,"
           " a.model_commit, a.input_key FROM chat_messages u JOIN chat_messages a"
           " ON a.exchange = u.exchange AND a.role = 'assistant' WHERE u.role = 'user'")


class ChatMessagesTable(Table):
    def add(self, messages: Sequence[ChatMessage]) -> None:
        """Insert ``messages`` in one unit of work."""
        marks = ", ".join("?" for _ in _COLUMNS)
        with self.store.transaction() as tx:
            for message in messages:
                values = [getattr(message, c) for c in _COLUMNS]
                values[-1] = to_db_ts(message.created_at)
                tx.execute(f"INSERT INTO chat_messages ({', '.join(_COLUMNS)}) "
                           f"VALUES ({marks})", values)

    def context(self, thread: str, *, reset_params: str) -> list[tuple[str, str]]:
        """(role, content) of the thread's user and assistant messages since its last
        reset marker (a system row whose params are ``reset_params``), oldest first."""
        rows = self.store.execute(
            "SELECT role, content FROM chat_messages WHERE thread = ? AND role <> 'system'"
            " AND exchange > COALESCE((SELECT max(exchange) FROM chat_messages"
            "  WHERE thread = ? AND role = 'system' AND params = ?), '')"
            " ORDER BY created_at, exchange, seq", [thread, thread, reset_params])
        return [(str(r), str(c)) for r, c in rows]

    def history(self, *, limit: int = 10, thread: str | None = None,
                query: str | None = None, offset: int = 0) -> list[HistoryEntry]:
        """Exchanges, newest first; ``query`` matches prompt or answer, any case; ``limit``
        of them after the first ``offset``."""
        where: list[str] = []
        args: list[object] = []
        if thread:
            where.append("u.thread = ?")
            args.append(thread)
        if query:
            where.append("(u.content ILIKE ? ESCAPE '\\' OR a.content ILIKE ? ESCAPE '\\')")
            pattern = f"%{_like_escape(query)}%"
            args += [pattern, pattern]
        rows = self.store.execute(
            "SELECT u.exchange, u.thread, a.alias, a.model, u.content, a.content, u.created_at,"
            " a.usage, a.timings FROM chat_messages u JOIN chat_messages a"
            " ON a.exchange = u.exchange AND a.role = 'assistant'"
            f" WHERE u.role = 'user' {('AND ' + ' AND '.join(where)) if where else ''}"
            " ORDER BY u.created_at DESC, u.exchange DESC LIMIT ? OFFSET ?",
            [*args, max(limit, 0), max(offset, 0)])
        return [HistoryEntry(str(e), str(t), al, m, str(p), str(an), c,
                             json.loads(us) if us else None, json.loads(ti) if ti else None)
                for e, t, al, m, p, an, c, us, ti in rows]

    def answer_for(self, input_keys: Sequence[str]) -> dict[str, HistoryRecord]:
        """The newest complete answer logged for each of ``input_keys`` (those with one):
        an assistant row whose finish reason is known and is not a stop by the user."""
        found: dict[str, HistoryRecord] = {}
        keys = list(dict.fromkeys(input_keys))
        for start in range(0, len(keys), 500):  # bounded statements, one round trip each
            chunk = keys[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.store.execute(
                f"{_RECORD} AND a.input_key IN ({marks}) AND a.finish_reason IS NOT NULL"
                " AND a.finish_reason <> 'stopped'"
                " ORDER BY u.created_at DESC, u.exchange DESC", chunk)
            for row in rows:
                record = _record(row)
                if record.input_key is not None:
                    found.setdefault(record.input_key, record)
        return found

    def records(self) -> list[HistoryRecord]:
        """Every logged exchange, oldest first (what ``bodhi_nb.history()`` queries)."""
        rows = self.store.execute(f"{_RECORD} ORDER BY u.created_at, u.exchange")
        return [_record(row) for row in rows]

    def threads(self, *, limit: int = 20, offset: int = 0,
                named_only: bool = False) -> list[ThreadInfo]:
        """Threads, the most recently active first (ties: the newest exchange, then the
        name); reset markers are not counted. A one-off exchange is a thread named by its
        exchange id; ``named_only`` leaves those out."""
        where = " AND m.thread <> m.exchange" if named_only else ""
        rows = self.store.execute(
            "SELECT m.thread, max(m.created_at), count(DISTINCT m.exchange), count(*),"
            " (SELECT l.alias FROM chat_messages l WHERE l.thread = m.thread"
            "  AND l.role <> 'system' ORDER BY l.created_at DESC, l.exchange DESC,"
            "  l.seq DESC LIMIT 1),"
            " sum(CASE WHEN m.thread = m.exchange THEN 1 ELSE 0 END)"
            f" FROM chat_messages m WHERE m.role <> 'system'{where}"
            " GROUP BY m.thread"
            " ORDER BY max(m.created_at) DESC, max(m.exchange) DESC, m.thread DESC"
            " LIMIT ? OFFSET ?", [max(limit, 0), max(offset, 0)])
        return [ThreadInfo(str(t), last, int(ex), int(n), None if al is None else str(al),
                           int(one_off) == 0)
                for t, last, ex, n, al, one_off in rows]


def _like_escape(text: str) -> str:
    """``text`` matched literally inside a LIKE pattern (escape character ``\\``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _json(text: object) -> dict[str, object] | None:
    if not text:
        return None
    value = json.loads(str(text))
    return value if isinstance(value, dict) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _record(row: tuple[object, ...]) -> HistoryRecord:
    (exchange, thread, alias, model, prompt, answer, created_at, params, usage, timings,
     finish, repo, filename, commit, key) = row
    when = (created_at if isinstance(created_at, datetime)
            else datetime.fromisoformat(str(created_at)))
    return HistoryRecord(str(exchange), str(thread), _text(alias), _text(model), str(prompt),
                         str(answer), when, _json(params), _json(usage), _json(timings),
                         _text(finish), _text(repo), _text(filename), _text(commit),
                         _text(key))
