"""ChatService: one chat path for local and API aliases, with history in DuckDB.

A request names an alias. ``DataService.find_alias`` resolves it (user > model > API); a
local alias (user or model) runs in LocalLlmService's llama.cpp server, an API alias goes to
its provider; both end as a :class:`~bodhi_nb.objs.ChatTarget` and the same streaming call
of AiApiService. The alias's request params apply only where the request is silent.

History: every exchange is two rows of ``chat_messages`` (user, assistant) sharing an
``exchange`` id, with the alias, model, params, token usage and timings. A *thread* is a
name: a request on a thread sends the thread's earlier messages as context, across cells
and kernel restarts. Without a thread a request is a single turn (so a notebook re-run
gives the same answer). A request with ``reset`` starts its thread afresh: a marker row
(role ``system``, empty content, params ``{"reset": true}``) is logged with the exchange,
and only exchanges after the newest marker are sent as context; the earlier ones stay in
the history. So a notebook cell ``--thread NAME --reset`` gives the same answer run after
run, and the cells after it continue that thread. (With ``log`` off nothing is written,
so such a reset holds for that one request.)

Parameters are checked before anything is sent (:func:`check_request_params`): a coded
``chat_service_error-bad_param`` names the first bad one.

A local model whose GGUF has no chat template (a base model) is served with a fallback
prompt format (see :mod:`bodhi_nb.services.local_llm`); the service then stops the answer
where the model starts the next turn (unless the request or alias names stop sequences),
marks the reply as plain text (``ChatReply.markdown`` False: a base model's ``###`` lines
are not headings), and says so once per alias through ``on_event``.

Events (``chat(..., on_event=callback)``; ``callback(ChatEvent)``): ``starting`` and
``started`` while the llama.cpp server for a local alias starts (``alias``, ``seconds``),
``template_fallback`` once per alias and service (``alias``, ``format``, ``file``,
``repo``), and ``format`` (``markdown``: bool) just before the request is sent.
Stopping (issue 10's panels): ``chat(..., cancel=token)`` takes a
:class:`~bodhi_nb.objs.CancelToken`; once it is cancelled the service reads no further delta
of the stream (the connection closes), keeps the partial answer, and returns and logs it
with finish reason :data:`STOPPED` (``HistoryEntry.finish_reason``; stored in the assistant
row's usage, as ``{"finish_reason": "stopped"}``). ``threads`` lists the threads of the
history, newest activity first; ``history`` and ``threads`` page with ``limit``/``offset``.

OpenAI requests (``bodhi serve``): :meth:`ChatService.complete` and
:meth:`ChatService.open_stream` take a body as an OpenAI client sends it (``model``,
``messages``, any other field, which travels on) and follow the same path: resolution, the
alias's request params where the body is silent, the local server (held while the stream
runs), API forwarding. A stream is relayed event by event as the server sent it (for a local
alias ``model`` names the alias, not the GGUF file). The history gets the last user message
and the answer, one exchange per request (a thread of its own). :meth:`ChatService.embed`
asks a local alias's server for embeddings.

Inputs and the cache (issue 14): every logged answer keeps :func:`input_key`, the SHA-256 of
a canonical JSON of what decides it: the model (a local alias: repo, file, the resolved
commit and its context params; an API alias: base URL and model), the effective request
params (the alias's merged under the request's, without the fallback format's stop
sequences, which follow from the model file), and the messages sent (system prompt, thread
context, prompt). A request with ``cache`` (and no thread) whose key has a logged, complete
answer (a finish reason other than :data:`STOPPED`) gets that answer back without a request
(``ChatReply.cached``; nothing new is logged). :meth:`ChatService.lookup` does that for many
requests in one query (``bodhi_nb.chat_many``), which also asks its prompts inside
:meth:`ChatService.holding` (the alias resolved and its server held once for the batch) and
logs each answer with :meth:`ChatService.record` on a worker while it asks the next.
:meth:`ChatService.query_history` runs SQL over a private in-memory copy of the history
(:mod:`bodhi_nb.store.history_sql`).

Timings run from ``ChatRequest.started_at`` (the front end's Enter) when given: the time to
first token includes the server's start, which ``startup_ms`` reports on its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import threading
import time as _time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bodhi_nb.errors import (
    AliasNotFoundError,
    BadParamError,
    BadResponseError,
    EmbeddingsLocalOnlyError,
    ModelNotDownloadedError,
    NoModelError,
)
from bodhi_nb.objs import (
    ApiAlias,
    CancelToken,
    ChatMessage,
    ChatTarget,
    HistoryEntry,
    HistoryRecord,
    HubFile,
    Repo,
    ThreadInfo,
    UserAlias,
    new_ulid,
)
from bodhi_nb.services.policy import Action, Gate, allow_all
from bodhi_nb.services.time import TimeService
from bodhi_nb.store.chat_messages import ChatMessagesTable

if TYPE_CHECKING:
    from datetime import datetime

    from bodhi_nb.services.ai_api import AiApiService, StreamEvent
    from bodhi_nb.services.data import DataService
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.local_llm import LocalLlmService
    from bodhi_nb.store.history_sql import HistoryRelation

__all__ = ["KNOWN_PARAMS", "STOPPED", "ChatEvent", "ChatReply", "ChatRequest", "ChatService",
           "CompletionRequest", "CompletionStream", "EmbeddingRequest", "Embeddings",
           "HistoryEntry", "ThreadInfo", "check_request_params", "input_key"]

#: The finish reason of an answer stopped through a ``CancelToken`` (kept and logged).
STOPPED = "stopped"

#: What stops an answer under the fallback format: the frame's next ``###`` section.
FALLBACK_STOPS = ("\n###",)
_RESET = json.dumps({"reset": True})

#: OpenAI parameters with a numeric range: name -> (low, high).
_RANGES = {"temperature": (0.0, 2.0), "top_p": (0.0, 1.0),
           "frequency_penalty": (-2.0, 2.0), "presence_penalty": (-2.0, 2.0)}
#: Whole-number parameters: name -> (low, high). llama.cpp reads token counts as int32.
_WHOLE = {"max_tokens": (1, 2**31 - 1), "max_completion_tokens": (1, 2**31 - 1),
          "seed": (-(2**63), 2**64 - 1), "n": (1, 128)}
_TEXT = ("user", "system_prompt")


#: The request params the Python API (``bodhi_nb.chat``, ``chat_many``) takes as keywords:
#: OpenAI's, and the sampling extras llama.cpp's servers read. A misspelt keyword there is
#: refused (``known_only``) rather than silently ignored by the server.
KNOWN_PARAMS = frozenset({
    "frequency_penalty", "presence_penalty", "temperature", "top_p", "max_tokens",
    "max_completion_tokens", "seed", "n", "stop", "user", "logit_bias", "logprobs",
    "top_logprobs", "response_format", "tools", "tool_choice", "parallel_tool_calls",
    "reasoning_effort", "min_p", "top_k", "typical_p", "repeat_penalty", "mirostat_mode",
    "mirostat_tau", "mirostat_eta", "grammar",
})


def check_request_params(params: Mapping[str, Any], *,
                         known_only: bool = False) -> dict[str, Any]:
    """Request parameters checked before they travel: known ones typed and in range, every
    number finite (JSON has no infinity). Raises ``BadParamError`` naming the first bad one;
    whole numbers written as floats (``1e3``) come back as ints. ``known_only`` refuses a
    name outside :data:`KNOWN_PARAMS`."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if known_only and name not in KNOWN_PARAMS:
            close = difflib.get_close_matches(str(name), sorted(KNOWN_PARAMS), n=1)
            raise BadParamError(name=str(name), value=str(value)[:80],
                                reason=f"not a request parameter (did you mean {close[0]}?)"
                                if close else "not a request parameter")
        out[name] = _checked(str(name), value)
    return out


def _checked(name: str, value: Any) -> Any:
    def bad(reason: str) -> BadParamError:
        shown = value if isinstance(value, str) else json.dumps(value, default=str)
        return BadParamError(name=name, value=shown[:80], reason=reason)

    if name in _RANGES:
        low, high = _RANGES[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"expected a number from {low:g} to {high:g}")
        if not (math.isfinite(value) and low <= value <= high):
            raise bad(f"expected a number from {low:g} to {high:g}")
        return value
    if name in _WHOLE:
        low, high = _WHOLE[name]
        whole = (not isinstance(value, bool) and isinstance(value, (int, float))
                 and math.isfinite(value) and value == int(value))
        if not whole or not low <= int(value) <= high:
            raise bad(f"expected a whole number from {low} to {high}")
        return int(value)
    if name == "stop":
        stops = [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
            raise bad("expected a text or a list of texts")
        return stops
    if name in _TEXT:
        if not isinstance(value, str):
            raise bad("expected a text")
        return value
    if not _finite(value):
        raise bad("numbers must be finite")
    return value


def _finite(value: Any, depth: int = 0) -> bool:
    if depth > 32:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_finite(v, depth + 1) for v in value)
    return True


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
    #: start ``thread`` afresh (its earlier exchanges are not sent; they stay in history)
    reset: bool = False
    #: ``time.perf_counter()`` when the user asked (Enter); timings run from it
    started_at: float | None = None
    #: reuse a logged, complete answer with the same inputs (without a thread only)
    cache: bool = False


@dataclass(frozen=True)
class ChatEvent:
    """Something the front end may show while a chat runs (see the module docstring)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChatReply:
    text: str
    alias: str
    model: str
    thread: str | None
    exchange: str
    params: dict[str, Any]
    usage: dict[str, Any] | None
    #: ``ttft_ms`` (time to first token) and ``total_ms`` from the user's Enter, and
    #: ``startup_ms`` when the request had to start the model server.
    timings: dict[str, float]
    finish_reason: str | None = None
    #: False for a base model's answer (no chat template): show it as plain text.
    markdown: bool = True
    #: the fallback chat format the model ran under, if any
    fallback: str | None = None
    #: SHA-256 of the inputs (:func:`input_key`); None for an OpenAI client's request
    input_key: str | None = None
    #: a local alias's model file: repo, file and the resolved commit (None: an API alias)
    repo: str | None = None
    file: str | None = None
    commit: str | None = None
    #: the answer was taken from the history (``ChatRequest.cache``), not asked for
    cached: bool = False
    #: when the exchange was logged (None: not logged)
    created_at: datetime | None = None


class ChatService:
    def __init__(self, messages: ChatMessagesTable, time: TimeService, *, data: DataService,
                 ai_api: AiApiService, local_llm: LocalLlmService, hf_cache: HfCache,
                 gate: Gate = allow_all) -> None:
        self._gate = gate
        self.messages = messages
        self.time = time
        self.data = data
        self.ai_api = ai_api
        self.local_llm = local_llm
        self.hf_cache = hf_cache
        #: aliases whose template fallback was already announced
        self._told: set[str] = set()
        #: per thread: the aliases held by :meth:`holding` (name -> _Held)
        self._holds = threading.local()

    # -- chatting ---------------------------------------------------------------------------

    def chat(self, request: ChatRequest, on_delta: Callable[[str], None] | None = None,
             on_event: Callable[[ChatEvent], None] | None = None,
             cancel: CancelToken | None = None) -> ChatReply:
        """Send one prompt; ``on_delta`` receives the answer as it streams, ``on_event``
        what happens meanwhile (a server start, a fallback format). Cancelling ``cancel``
        ends a streamed answer after the delta being handled: the reply (and the history)
        keeps the text so far, with finish reason :data:`STOPPED`."""
        self._gate(Action.CHAT)
        started = request.started_at if request.started_at is not None else _time.perf_counter()
        held: _Held | None = getattr(self._holds, "by_name", {}).get(request.alias)
        reset = new_ulid(self.time.utc_now()) if request.reset and request.thread else None
        alias, params, messages, located, key = self._inputs(request, held,
                                                             fresh=reset is not None)
        if request.cache and request.log and request.thread is None:
            hit = self.messages.answer_for([key]).get(key)
            if hit is not None:
                return _from_history(hit, request.alias)
        body: dict[str, Any] = {**params, "messages": messages}
        model: dict[str, Any] = {}

        def local_event(kind: str, data: Mapping[str, Any]) -> None:
            if kind == "model":
                model.update(data)
            else:
                if kind == "started":
                    model["startup_ms"] = round(float(data["seconds"]) * 1000, 1)
                if on_event is not None:
                    on_event(ChatEvent(kind, dict(data)))

        if held is not None:
            model.update(held.model)
        with (nullcontext(held.target) if held is not None
              else self._target(alias, request.alias, local_event, located)) as target:
            body = _merged(alias, body, model)
            fallback = model.get("fallback")
            if fallback and isinstance(alias, UserAlias):
                if alias.alias not in self._told and on_event is not None:
                    self._told.add(alias.alias)
                    on_event(ChatEvent("template_fallback", {
                        "alias": alias.alias, "format": fallback, "repo": alias.repo,
                        "file": alias.filename}))
            markdown = model.get("chat_template") is not False
            if isinstance(alias, UserAlias) and alias.format is not None:
                markdown = alias.format == "markdown"  # the alias says how it renders
            if on_event is not None:
                on_event(ChatEvent("format", {"markdown": markdown}))
            body["model"] = target.model
            reply = self._send(target, body, request, on_delta, started, cancel)
        timings = dict(reply.timings)
        if model.get("startup_ms") is not None:
            timings["startup_ms"] = model["startup_ms"]
        reply = dataclasses.replace(
            reply, timings=timings, markdown=markdown, fallback=fallback, input_key=key,
            repo=located.repo if located else None, file=located.filename if located else None,
            commit=located.snapshot if located else None)
        if request.log:
            reply = dataclasses.replace(reply, created_at=self._log(request, reply, body, reset))
        return reply

    @contextmanager
    def holding(self, name: str) -> Iterator[None]:
        """In this thread, within the block, every :meth:`chat` on alias ``name`` reuses one
        resolution of the alias and its model file, and one hold of its model server (kept
        busy, so never stopped for idleness, from the block's start to its end): a batch
        pays for them once, not per prompt. The server starts here if it must."""
        self._gate(Action.CHAT)
        alias = self.data.find_alias(name)
        if alias is None:
            raise AliasNotFoundError(alias=name)
        located = self._locate(alias) if isinstance(alias, UserAlias) else None
        model: dict[str, Any] = {}
        holds: dict[str, _Held] = getattr(self._holds, "by_name", None) or {}
        self._holds.by_name = holds
        with self._target(alias, name, _keep_model(model), located) as target:
            holds[name] = _Held(alias, located, target, model)
            try:
                yield
            finally:
                holds.pop(name, None)

    def record(self, request: ChatRequest, reply: ChatReply) -> ChatReply:
        """Log an exchange :meth:`chat` answered with ``log`` off (``bodhi_nb.chat_many``
        writes each answer on a worker thread while it asks the next one); the reply comes
        back with its ``created_at``. Not for a thread reset (single turns only)."""
        self._gate(Action.CHAT)
        return dataclasses.replace(reply, created_at=self._log(request, reply, {}))

    def lookup(self, requests: Sequence[ChatRequest]) -> list[ChatReply | None]:
        """For each request (in order), the logged complete answer with the same inputs
        (``cached`` True), or None: what :meth:`chat` with ``cache`` would reuse, found for
        all of them in one query. Requests on a thread are never answered from the history."""
        self._gate(Action.CHAT)
        keys: list[str | None] = []
        for request in requests:
            if request.thread is not None:
                keys.append(None)
                continue
            keys.append(self._inputs(request)[-1])
        found = self.messages.answer_for([k for k in keys if k is not None])
        return [_from_history(found[k], r.alias) if k is not None and k in found else None
                for k, r in zip(keys, requests, strict=True)]

    def query_history(self, sql: str | None = None) -> HistoryRelation:
        """``sql`` over a private in-memory copy of the history, the table ``history`` (see
        :mod:`bodhi_nb.store.history_sql` for its columns); without ``sql`` the whole table.
        The real database never sees the SQL. ``history_error-bad_sql`` /
        ``history_error-not_a_query`` for SQL that fails or is not one query."""
        from bodhi_nb.store import history_sql

        self._gate(Action.HISTORY)
        return history_sql.query(self.messages.records(), sql)

    def history_rows(self, sql: str) -> tuple[list[str], list[tuple[object, ...]]]:
        """:meth:`query_history` run to its end: the column names and every row."""
        from bodhi_nb.store import history_sql

        return history_sql.fetch(self.query_history(sql))

    def _inputs(self, request: ChatRequest, held: _Held | None = None, *, fresh: bool = False
                ) -> tuple[UserAlias | ApiAlias, dict[str, Any], list[dict[str, str]],
                           HubFile | None, str]:
        """What decides ``request``'s answer: its alias (``held``'s in a batch), checked
        params, the messages to send, a local alias's model file, and their input key. The
        alias counts as used (``lock`` without names), even for an answer from the history."""
        found = held.alias if held is not None else self.data.find_alias(request.alias)
        if found is None:
            raise AliasNotFoundError(alias=request.alias)
        self.data.used(found)
        params = check_request_params(request.params)
        messages = self._context(request, fresh=fresh)
        located = (held.located if held is not None
                   else self._locate(found) if isinstance(found, UserAlias) else None)
        return (found, params, messages, located,
                self._key(found, request.alias, params, messages, located))

    def _key(self, alias: UserAlias | ApiAlias, name: str, params: Mapping[str, Any],
             messages: list[dict[str, str]], located: HubFile | None) -> str:
        """The request's :func:`input_key`: its model, effective params and messages."""
        model: dict[str, Any]
        if isinstance(alias, ApiAlias):
            sent = (alias.models[0] if name == alias.id and not alias.supports(name)
                    and alias.models else alias.strip_prefix(name))
            model = {"base_url": alias.base_url, "model": sent}
        else:
            local = located if located is not None else self._locate(alias)
            model = {"repo": local.repo, "file": local.filename, "commit": local.snapshot,
                     "context": list(alias.context_params)}
        effective = _merged(alias, {**params, "messages": messages}, {})
        sent_messages = effective.pop("messages")  # with the alias's system prompt if any
        return input_key(model, effective, sent_messages)

    # -- OpenAI requests as a client sent them (``bodhi serve``) ---------------------------

    def complete(self, request: CompletionRequest) -> dict[str, Any]:
        """A chat completion without streaming, for a body as an OpenAI client sends it:
        the same alias resolution, parameter merge, local server and history as
        :meth:`chat`. Returns the OpenAI JSON answer (for a local alias, ``model`` is the
        alias the client named)."""
        self._gate(Action.CHAT)
        started = _time.perf_counter()
        name, alias, body = self._openai(request)
        model: dict[str, Any] = {}
        with self._target(alias, name, _keep_model(model)) as target:
            body = _merged(alias, body, model)
            data = self.ai_api.chat_completion(target, body)
        if not isinstance(alias, ApiAlias):
            data["model"] = name
        choice = (data.get("choices") or [{}])[0]
        text = str((choice.get("message") or {}).get("content") or "")
        if request.log:
            end = _time.perf_counter()
            ms = round((end - started) * 1000, 1)
            self._log_openai(request, name, body, text, str(data.get("model") or name),
                             data.get("usage"), {"ttft_ms": ms, "total_ms": ms},
                             choice.get("finish_reason"))
        return data

    def open_stream(self, request: CompletionRequest) -> CompletionStream:
        """A streamed chat completion for a body as an OpenAI client sends it (see
        :meth:`complete`). Returns once the server's first event has arrived, so that an
        unknown alias, a refused key or a failed start raise here, before anything is
        streamed. Iterate the result for each event's JSON text; close it when done (the
        history is written then, and the local server released)."""
        self._gate(Action.CHAT)
        started = _time.perf_counter()
        name, alias, body = self._openai(request)
        model: dict[str, Any] = {}
        stack = ExitStack()
        try:
            target = stack.enter_context(self._target(alias, name, _keep_model(model)))
            body = _merged(alias, body, model)
            events = self.ai_api.stream_chat_events(target, body)
            stack.callback(events.close)
            first = next(events, None)
        except BaseException:
            stack.close()
            raise
        rename = None if isinstance(alias, ApiAlias) else name

        def finish(text: str, usage: dict[str, Any] | None, served: str | None,
                   finish_reason: str | None, first_at: float | None) -> None:
            if not request.log:
                return
            end = _time.perf_counter()
            timings = {"ttft_ms": round(((first_at or end) - started) * 1000, 1),
                       "total_ms": round((end - started) * 1000, 1)}
            self._log_openai(request, name, body, text, served or name, usage, timings,
                             finish_reason)

        return CompletionStream(first, events, stack, rename, finish)

    def embed(self, request: EmbeddingRequest) -> Embeddings:
        """Embeddings of ``request.input`` from a local alias's llama.cpp server (started
        with embeddings on). An API alias is refused (``embeddings_local_only``)."""
        self._gate(Action.CHAT)
        alias = self.data.find_alias(request.model)
        if alias is None:
            raise AliasNotFoundError(alias=request.model)
        if isinstance(alias, ApiAlias):
            raise EmbeddingsLocalOnlyError(alias=request.model)
        texts = [request.input] if isinstance(request.input, str) else list(request.input)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise BadParamError(name="input", value=str(request.input)[:80],
                                reason="expected a text or a list of texts")
        with self._target(alias, request.model, _keep_model({})) as target:
            data = self.ai_api.embeddings(target, {"input": texts})
        vectors: list[list[float]] = []
        for item in sorted(data["data"], key=lambda d: int(d.get("index", 0))):
            vectors.append(_pooled(item.get("embedding"), request.model))
        usage = data.get("usage")
        tokens = int(usage.get("prompt_tokens") or 0) if isinstance(usage, dict) else 0
        return Embeddings(model=request.model, vectors=vectors, prompt_tokens=tokens)

    def _openai(self, request: CompletionRequest
                ) -> tuple[str, UserAlias | ApiAlias, dict[str, Any]]:
        body = dict(request.body)
        name = body.pop("model", None)
        if not isinstance(name, str) or not name:
            raise BadParamError(name="model", value=json.dumps(name)[:80],
                                reason="expected the name of an alias")
        messages = body.pop("messages", None)
        if (not isinstance(messages, list) or not messages
                or not all(isinstance(m, dict) and isinstance(m.get("role"), str)
                           for m in messages)):
            raise BadParamError(name="messages", value=json.dumps(messages, default=str)[:80],
                                reason="expected a list of messages, each with a role")
        body.pop("stream", None)
        alias = self.data.find_alias(name)
        if alias is None:
            raise AliasNotFoundError(alias=name)
        return name, alias, {**check_request_params(body), "messages": messages}

    def _log_openai(self, request: CompletionRequest, name: str, body: dict[str, Any],
                    text: str, model: str, usage: Any, timings: dict[str, float],
                    finish_reason: Any) -> None:
        prompt = _prompt_of(body.get("messages") or [])
        logged = ChatRequest(alias=name, prompt=prompt, log=True)
        params = {k: v for k, v in body.items() if k not in ("messages", "stream", "model")}
        reply = ChatReply(text, name, model, None, new_ulid(self.time.utc_now()), params,
                          usage if isinstance(usage, dict) else None, timings,
                          str(finish_reason) if finish_reason is not None else None)
        self._log(logged, reply, body)

    def _locate(self, alias: UserAlias) -> HubFile:
        """The local alias's model file in the HF cache (its snapshot resolved to a commit)."""
        try:
            return self.hf_cache.find_local_file(Repo.parse(alias.repo), alias.filename,
                                                 alias.snapshot)
        except Exception as exc:
            raise ModelNotDownloadedError(alias=alias.alias, repo=alias.repo,
                                          filename=alias.filename) from exc

    @contextmanager
    def _target(self, alias: UserAlias | ApiAlias, name: str,
                on_event: Callable[[str, Mapping[str, Any]], None],
                located: HubFile | None = None) -> Iterator[ChatTarget]:
        if isinstance(alias, ApiAlias):
            target = self.ai_api.resolve(name)
            if target is None and name == alias.id and alias.models:
                # Chat with the API alias's name itself: its first model.
                target = self.ai_api.resolve((alias.prefix or "") + alias.models[0])
            if target is None:
                raise NoModelError(alias=name)
            yield target
            return
        local = located if located is not None else self._locate(alias)
        with self.local_llm.using(alias, local.path, on_event=on_event) as target:
            yield target

    def _context(self, request: ChatRequest, fresh: bool = False) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        if request.thread and not fresh:
            rows = self.messages.context(request.thread, reset_params=_RESET)
            messages += [{"role": r, "content": c} for r, c in rows]
        messages.append({"role": "user", "content": request.prompt})
        return messages

    def _send(self, target: ChatTarget, body: dict[str, Any], request: ChatRequest,
              on_delta: Callable[[str], None] | None, start: float,
              cancel: CancelToken | None = None) -> ChatReply:
        first: float | None = None
        usage: dict[str, Any] | None = None
        finish: str | None = None
        model = target.model
        if request.stream:
            parts: list[str] = []
            if cancel is not None and cancel.cancelled:
                finish = STOPPED  # stopped before anything was sent
            else:
                finish, usage, streamed_model, first = self._stream(target, body, parts,
                                                                    on_delta, cancel)
                model = streamed_model or model
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

    def _stream(self, target: ChatTarget, body: dict[str, Any], parts: list[str],
                on_delta: Callable[[str], None] | None,
                cancel: CancelToken | None
                ) -> tuple[str | None, dict[str, Any] | None, str | None, float | None]:
        """Read the streamed answer into ``parts``; returns its finish reason (STOPPED when
        ``cancel`` ended it), usage, model and the time of its first token."""
        usage: dict[str, Any] | None = None
        finish: str | None = None
        model: str | None = None
        first: float | None = None
        stream = self.ai_api.stream_chat_completion(target, {**body, "stream": True})
        try:
            for delta in stream:
                if cancel is not None and cancel.cancelled:
                    finish = STOPPED
                    break
                if delta.text:
                    if first is None:
                        first = _time.perf_counter()
                    parts.append(delta.text)
                    if on_delta is not None:
                        on_delta(delta.text)
                usage = delta.usage or usage
                finish = delta.finish_reason or finish
                model = delta.model or model
                if cancel is not None and cancel.cancelled and delta.finish_reason is None:
                    finish = STOPPED
                    break
        finally:
            stream.close()  # an early stop closes the connection: the server stops too
        return finish, usage, model, first

    # -- history ----------------------------------------------------------------------------

    def _log(self, request: ChatRequest, reply: ChatReply, body: dict[str, Any],
             reset: str | None = None) -> datetime:
        """Write the exchange (one transaction); returns its timestamp."""
        now = self.time.utc_now()
        thread = request.thread or reply.exchange
        params = json.dumps(reply.params, sort_keys=True, default=str)
        messages: list[ChatMessage] = []
        if reset is not None:
            messages.append(ChatMessage(new_ulid(), thread, reset, 0, "system", "", now,
                                        params=_RESET))
        messages.append(ChatMessage(new_ulid(), thread, reply.exchange, 0, "user",
                                    request.prompt, now, request.alias, reply.model, params))
        usage = reply.usage
        if reply.finish_reason == STOPPED:  # no column of its own: kept with the usage
            usage = {**(usage or {}), "finish_reason": STOPPED}
        messages.append(ChatMessage(new_ulid(), thread, reply.exchange, 1, "assistant",
                                    reply.text, now, request.alias, reply.model, params,
                                    json.dumps(usage), json.dumps(reply.timings),
                                    reply.input_key, reply.repo, reply.file, reply.commit,
                                    reply.finish_reason))
        self.messages.add(messages)
        return now

    def history(self, limit: int = 10, thread: str | None = None,
                query: str | None = None, offset: int = 0) -> list[HistoryEntry]:
        """Newest exchanges first; ``limit`` of them after the first ``offset``."""
        self._gate(Action.HISTORY)
        return self.messages.history(limit=limit, thread=thread, query=query, offset=offset)

    def threads(self, limit: int = 20, offset: int = 0,
                named_only: bool = False) -> list[ThreadInfo]:
        """Threads of the history, the most recently active first (``named_only``: leave out
        one-off exchanges, which are threads of their own)."""
        self._gate(Action.HISTORY)
        return self.messages.threads(limit=limit, offset=offset, named_only=named_only)


# -- OpenAI requests (``bodhi serve``) --------------------------------------------------------


@dataclass(frozen=True)
class CompletionRequest:
    """A chat completion body as an OpenAI client sent it (``model``, ``messages`` and any
    other fields, which travel on); ``log`` False keeps it out of the history."""

    body: dict[str, Any]
    log: bool = True


@dataclass(frozen=True)
class EmbeddingRequest:
    model: str
    input: str | list[str]


@dataclass(frozen=True)
class Embeddings:
    """One vector per input, in order; ``prompt_tokens`` as the server counted them."""

    model: str
    vectors: list[list[float]]
    prompt_tokens: int = 0


class CompletionStream:
    """The events of a streamed completion (see :meth:`ChatService.open_stream`): iterate
    for each event's JSON text (OpenAI's ``chat.completion.chunk``); a failure mid-stream
    raises from the iteration. :meth:`close` (idempotent, from any thread) releases the
    server and writes the history: the whole answer, or the text so far with finish reason
    :data:`STOPPED` when the stream was closed before its end."""

    def __init__(self, first: StreamEvent | None, events: Iterator[StreamEvent],
                 stack: ExitStack, rename: str | None,
                 finish: Callable[[str, dict[str, Any] | None, str | None, str | None,
                                   float | None], None]) -> None:
        self._pending = first
        self._events = events
        self._stack = stack
        self._rename = rename
        self._finish = finish
        self._parts: list[str] = []
        self._usage: dict[str, Any] | None = None
        self._model: str | None = None
        self._reason: str | None = None
        self._first_at: float | None = None
        self._ended = first is None
        self._closed = False
        self._lock = threading.Lock()

    def __iter__(self) -> CompletionStream:
        return self

    def __next__(self) -> str:
        if self._ended or self._closed:
            raise StopIteration
        event = self._pending
        self._pending = None
        if event is None:
            try:
                event = next(self._events)
            except StopIteration:
                self._ended = True
                raise
        delta = event.delta
        if delta is not None:
            if delta.text:
                if self._first_at is None:
                    self._first_at = _time.perf_counter()
                self._parts.append(delta.text)
            self._usage = delta.usage or self._usage
            self._reason = delta.finish_reason or self._reason
            self._model = delta.model or self._model
        if self._rename is not None and event.chunk.get("model") != self._rename:
            # llama_cpp.server names the model file; the client named the alias
            return json.dumps({**event.chunk, "model": self._rename})
        return event.data

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._stack.close()
        finally:
            reason = self._reason if self._ended else STOPPED
            if self._ended or self._parts:
                self._finish("".join(self._parts), self._usage, self._model, reason,
                             self._first_at)


def input_key(model: Mapping[str, Any], params: Mapping[str, Any],
              messages: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 (hex) of the canonical JSON of a request's inputs: sorted keys, no spaces,
    UTF-8, whole floats written as integers (``temperature=0`` and ``0.0`` ask the same)."""
    document = {"v": 1, "model": model, "params": params, "messages": list(messages)}
    text = json.dumps(_canonical(document), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _from_history(record: HistoryRecord, alias: str) -> ChatReply:
    """A logged answer, reused (``cached``)."""
    return ChatReply(record.answer, alias, record.model or "", None, record.id,
                     dict(record.params or {}), record.usage, dict(record.timings or {}),
                     record.finish_reason, input_key=record.input_key, repo=record.repo,
                     file=record.file, commit=record.commit, cached=True,
                     created_at=record.created_at)


@dataclass(frozen=True)
class _Held:
    """An alias held by :meth:`ChatService.holding`: resolved, located, its server held."""

    alias: UserAlias | ApiAlias
    located: HubFile | None
    target: ChatTarget
    #: the local server's ``model`` event (chat template, fallback format)
    model: dict[str, Any]


def _keep_model(model: dict[str, Any]) -> Callable[[str, Mapping[str, Any]], None]:
    """The local server's events: only ``model`` (template, fallback) matters here."""
    def on_event(kind: str, data: Mapping[str, Any]) -> None:
        if kind == "model":
            model.update(data)
    return on_event


def _merged(alias: UserAlias | ApiAlias, body: dict[str, Any],
            model: Mapping[str, Any]) -> dict[str, Any]:
    """The request body with the alias's request params where it is silent (a local alias),
    and the fallback format's stop sequences for a base model."""
    if not isinstance(alias, UserAlias):
        return body
    body = alias.request_params.apply(body)
    if "max_completion_tokens" in body and "max_tokens" not in body:
        # BodhiApp writes OpenAI's newer name; llama.cpp's servers read only max_tokens and
        # would otherwise generate without limit.
        body["max_tokens"] = body.pop("max_completion_tokens")
    if model.get("fallback"):
        body.setdefault("stop", list(FALLBACK_STOPS))
    return body


def _prompt_of(messages: list[Any]) -> str:
    """The last user message's text (a content list's text parts joined), for the history."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return "".join(str(p.get("text") or "") for p in content
                               if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _pooled(embedding: Any, alias: str) -> list[float]:
    """One vector: llama_cpp.server gives a generative GGUF's embeddings per token (its
    pooling is "none"); they are averaged (mean pooling), as llama.cpp's ``--pooling
    mean`` would."""
    if isinstance(embedding, list) and embedding and all(
            isinstance(row, list) for row in embedding):
        width = len(embedding[0])
        if width and all(len(row) == width for row in embedding):
            return [sum(float(row[i]) for row in embedding) / len(embedding)
                    for i in range(width)]
    if isinstance(embedding, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in embedding):
        return [float(x) for x in embedding]
    raise BadResponseError(alias=alias, url="/embeddings", reason="an embedding is not a "
                           "list of numbers")
