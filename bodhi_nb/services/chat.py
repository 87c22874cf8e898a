"""ChatService: one chat path for local and API aliases, with history in DuckDB.

A request names an alias. ``DataService.find_alias`` resolves it (user > model > API); a
local alias (user or model) runs in LocalLlmService's llama.cpp server, an API alias goes to
its provider; both end as a :class:`~bodhi_nb.objs.ChatTarget` and the same streaming call
of AiApiService. The alias's request params apply only where the request is silent.

History: every exchange is two rows of ``chat_messages`` (user, assistant) sharing an
``exchange`` id, with the alias, model, params, token usage and timings. A *thread* is a
name: a request on a thread sends the thread's earlier messages as context, across cells
and kernel restarts. Without a thread a request is a single turn (so a notebook re-run
gives the same answer).
"""

from __future__ import annotations

import json
import time as _time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from bodhi_nb.errors import AliasNotFoundError, ModelNotDownloadedError, NoModelError
from bodhi_nb.objs import ApiAlias, ChatTarget, Repo, UserAlias, new_ulid
from bodhi_nb.services.db import DbService, to_db_ts
from bodhi_nb.services.time import TimeService

__all__ = ["ChatReply", "ChatRequest", "ChatService", "HistoryEntry"]


@dataclass(frozen=True)
class ChatRequest:
    alias: str
    prompt: str
    system: str | None = None
    #: request fields set by the user (``-o temperature=0``); they beat the alias's.
    params: dict[str, Any] = field(default_factory=dict)
    thread: str | None = None
    stream: bool = True
    log: bool = True


@dataclass(frozen=True)
class ChatReply:
    text: str
    alias: str
    model: str
    thread: str | None
    exchange: str
    params: dict[str, Any]
    usage: dict[str, Any] | None
    #: ``ttft_ms`` (time to first token) and ``total_ms``.
    timings: dict[str, float]
    finish_reason: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    exchange: str
    thread: str
    alias: str | None
    model: str | None
    prompt: str
    answer: str
    created_at: Any
    usage: dict[str, Any] | None
    timings: dict[str, Any] | None


class ChatService:
    def __init__(self, db: DbService, time: TimeService, *, data: Any, ai_api: Any,
                 local_llm: Any, hf_cache: Any) -> None:
        self.db = db
        self.time = time
        self.data = data
        self.ai_api = ai_api
        self.local_llm = local_llm
        self.hf_cache = hf_cache

    # -- chatting ---------------------------------------------------------------------------

    def chat(self, request: ChatRequest,
             on_delta: Callable[[str], None] | None = None) -> ChatReply:
        """Send one prompt; ``on_delta`` receives the answer as it streams."""
        alias = self.data.find_alias(request.alias)
        if alias is None:
            raise AliasNotFoundError(alias=request.alias)
        messages = self._context(request)
        body: dict[str, Any] = {**request.params, "messages": messages}
        with self._target(alias, request.alias) as target:
            if isinstance(alias, UserAlias):
                body = alias.request_params.apply(body)
                if "max_completion_tokens" in body and "max_tokens" not in body:
                    # BodhiApp writes OpenAI's newer name; llama.cpp's servers read only
                    # max_tokens and would otherwise generate without limit.
                    body["max_tokens"] = body.pop("max_completion_tokens")
            body["model"] = target.model
            reply = self._send(target, body, request, on_delta)
        if request.log:
            self._log(request, reply, body)
        return reply

    @contextmanager
    def _target(self, alias: UserAlias | ApiAlias, name: str) -> Iterator[ChatTarget]:
        if isinstance(alias, ApiAlias):
            target = self.ai_api.resolve(name)
            if target is None and name == alias.id and alias.models:
                # Chat with the API alias's name itself: its first model.
                target = self.ai_api.resolve((alias.prefix or "") + alias.models[0])
            if target is None:
                raise NoModelError(alias=name)
            yield target
            return
        try:
            local = self.hf_cache.find_local_file(Repo.parse(alias.repo), alias.filename,
                                                  alias.snapshot)
        except Exception as exc:
            raise ModelNotDownloadedError(alias=alias.alias, repo=alias.repo,
                                          filename=alias.filename) from exc
        with self.local_llm.using(alias, local.path) as target:
            yield target

    def _context(self, request: ChatRequest) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        if request.thread:
            rows = self.db.execute(
                "SELECT role, content FROM chat_messages WHERE thread = ? AND role <> 'system'"
                " ORDER BY created_at, exchange, seq", [request.thread])
            messages += [{"role": str(r), "content": str(c)} for r, c in rows]
        messages.append({"role": "user", "content": request.prompt})
        return messages

    def _send(self, target: ChatTarget, body: dict[str, Any], request: ChatRequest,
              on_delta: Callable[[str], None] | None) -> ChatReply:
        start = _time.perf_counter()
        first: float | None = None
        usage: dict[str, Any] | None = None
        finish: str | None = None
        model = target.model
        if request.stream:
            parts: list[str] = []
            for delta in self.ai_api.stream_chat_completion(target, {**body, "stream": True}):
                if delta.text:
                    if first is None:
                        first = _time.perf_counter()
                    parts.append(delta.text)
                    if on_delta is not None:
                        on_delta(delta.text)
                usage = delta.usage or usage
                finish = delta.finish_reason or finish
                model = delta.model or model
            text = "".join(parts)
            if usage is None and parts:
                # llama.cpp's servers ignore stream_options.include_usage; they stream one
                # token per chunk, so the chunk count is the completion's token count.
                usage = {"completion_tokens": len(parts), "counted_from": "stream"}
        else:
            data = self.ai_api.chat_completion(target, {**body, "stream": False})
            first = _time.perf_counter()
            choice = (data.get("choices") or [{}])[0]
            text = str((choice.get("message") or {}).get("content") or "")
            finish = choice.get("finish_reason")
            usage = data.get("usage")
            model = data.get("model") or model
            if on_delta is not None and text:
                on_delta(text)
        end = _time.perf_counter()
        timings = {"ttft_ms": round(((first or end) - start) * 1000, 1),
                   "total_ms": round((end - start) * 1000, 1)}
        params = {k: v for k, v in body.items() if k not in ("messages", "stream", "model")}
        return ChatReply(text, request.alias, str(model), request.thread,
                         new_ulid(self.time.utc_now()), params, usage, timings, finish)

    # -- history ----------------------------------------------------------------------------

    def _log(self, request: ChatRequest, reply: ChatReply, body: dict[str, Any]) -> None:
        now = to_db_ts(self.time.utc_now())
        thread = request.thread or reply.exchange
        rows = [("user", request.prompt, None, None), ("assistant", reply.text,
                                                       json.dumps(reply.usage),
                                                       json.dumps(reply.timings))]
        with self.db.transaction() as conn:
            for seq, (role, content, usage, timings) in enumerate(rows):
                conn.execute(
                    "INSERT INTO chat_messages (id, thread, exchange, seq, role, content, alias,"
                    " model, params, usage, timings, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [new_ulid(), thread, reply.exchange, seq, role, content, request.alias,
                     reply.model, json.dumps(reply.params, sort_keys=True, default=str),
                     usage, timings, now])

    def history(self, limit: int = 10, thread: str | None = None,
                query: str | None = None) -> list[HistoryEntry]:
        """Newest exchanges first."""
        where: list[str] = []
        args: list[Any] = []
        if thread:
            where.append("u.thread = ?")
            args.append(thread)
        if query:
            where.append("(u.content ILIKE ? OR a.content ILIKE ?)")
            args += [f"%{query}%", f"%{query}%"]
        rows = self.db.execute(
            "SELECT u.exchange, u.thread, a.alias, a.model, u.content, a.content, u.created_at,"
            " a.usage, a.timings FROM chat_messages u JOIN chat_messages a"
            " ON a.exchange = u.exchange AND a.role = 'assistant'"
            f" WHERE u.role = 'user' {('AND ' + ' AND '.join(where)) if where else ''}"
            " ORDER BY u.created_at DESC, u.exchange DESC LIMIT ?", [*args, limit])
        return [HistoryEntry(str(e), str(t), al, m, str(p), str(an), c,
                             json.loads(us) if us else None, json.loads(ti) if ti else None)
                for e, t, al, m, p, an, c, us, ti in rows]

    def threads(self) -> list[str]:
        rows = self.db.execute("SELECT DISTINCT thread FROM chat_messages ORDER BY thread")
        return [str(r[0]) for r in rows]
