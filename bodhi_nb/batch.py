"""The batch API for analysis notebooks: ``bodhi_nb.chat``, ``bodhi_nb.chat_many`` and
``bodhi_nb.history``.

::

    import bodhi_nb
    answers = bodhi_nb.chat_many("tiny", texts, cache=True, temperature=0, seed=7,
                                 max_tokens=8)
    bodhi_nb.history("SELECT answer, count(*) FROM history GROUP BY answer").df()

Each call goes through this kernel's registry (:func:`bodhi_nb.app`) and ChatService, as
``%bodhi chat`` does: the alias's request params apply where the call is silent, and every
answer is logged to the chat history as it completes (a single turn, no thread). Keyword
params are request params (``temperature``, ``seed``, ``max_tokens``, ``top_p``, ``stop``,
...: :data:`~bodhi_nb.services.chat.KNOWN_PARAMS`); an unknown or invalid one is
``chat_service_error-bad_param`` before anything is sent. Answers are not streamed (the
server's token counts are exact; ``ttft_ms`` is then the time to the whole answer).

``cache``: False (the default) sends every prompt, and logs every answer. True first reuses,
for each prompt, the newest logged complete answer whose inputs are identical (model file
and commit, effective params, system prompt, prompt: ChatService's input key), marked
``cached=True`` and not logged again; only the others are sent. So a ``chat_many`` that was
interrupted (Ctrl-C, a dead kernel) and is run again with ``cache=True`` answers only what
is missing, and a re-run of a finished notebook asks nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bodhi_nb.errors import BadParamError

if TYPE_CHECKING:
    from bodhi_nb.services.chat import ChatReply
    from bodhi_nb.store.history_sql import HistoryRelation

__all__ = ["Answer", "Progress", "chat", "chat_many", "history"]

#: ``progress=callback``: called as ``callback(done, total)`` after each answer.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, repr=False)
class Answer:
    """One answer, with what reproduces and explains it."""

    #: the answer's text
    text: str
    #: the prompt it answers
    prompt: str
    #: the alias asked
    alias: str
    #: the model the server reported
    model: str
    #: a local alias's model file: repo, file and the commit it resolved to (None for an
    #: API alias)
    repo: str | None
    file: str | None
    commit: str | None
    #: the effective request params (the alias's merged under the call's)
    params: dict[str, Any] = field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: ``stop``, ``length``, ...
    finish_reason: str | None = None
    #: time to first token (the whole answer: batch answers are not streamed) and total
    ttft_ms: float | None = None
    total_ms: float | None = None
    #: taken from the history (``cache=True``), not asked for now
    cached: bool = False
    #: the logged exchange's id (``history``'s ``id`` column)
    id: str = ""
    #: when the exchange was logged (UTC)
    created_at: datetime | None = None

    @classmethod
    def from_reply(cls, reply: ChatReply, prompt: str) -> Answer:
        usage = reply.usage or {}
        timings = reply.timings or {}
        return cls(text=reply.text, prompt=prompt, alias=reply.alias, model=reply.model,
                   repo=reply.repo, file=reply.file, commit=reply.commit,
                   params=dict(reply.params), prompt_tokens=_int(usage.get("prompt_tokens")),
                   completion_tokens=_int(usage.get("completion_tokens")),
                   finish_reason=reply.finish_reason, ttft_ms=_float(timings.get("ttft_ms")),
                   total_ms=_float(timings.get("total_ms")), cached=reply.cached,
                   id=reply.exchange, created_at=_utc(reply.created_at))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (``pandas.DataFrame([a.to_dict() for a in answers])``)."""
        return asdict(self)

    def summary(self) -> str:
        """``tiny · gemma-3-270m-Q4_K_M.gguf@0123abcd · 3+5 tokens · 120 ms · cached``."""
        parts = [self.alias]
        if self.file is not None:
            parts.append(f"{self.file}@{(self.commit or '')[:8]}")
        elif self.model:
            parts.append(self.model)
        if self.prompt_tokens is not None or self.completion_tokens is not None:
            parts.append(f"{self.prompt_tokens or 0}+{self.completion_tokens or 0} tokens")
        if self.total_ms is not None:
            parts.append(f"{self.total_ms:.0f} ms")
        if self.cached:
            parts.append("cached")
        return " · ".join(parts)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        text = self.text if len(self.text) <= 200 else self.text[:199] + "…"
        return f"Answer({text!r}, {self.summary()})"

    def _repr_markdown_(self) -> str:
        return f"{self.text}\n\n*— {self.summary()}*"


def chat(alias: str, prompt: str, *, system: str | None = None, cache: bool = False,
         **params: Any) -> Answer:
    """Ask ``alias`` one ``prompt`` (a single turn, logged); ``params`` are request params
    (``temperature=0, seed=7, max_tokens=32``). With ``cache``, a logged complete answer
    with identical inputs is returned instead (``cached=True``)."""
    from bodhi_nb.app import app
    from bodhi_nb.services.chat import ChatRequest, check_request_params

    checked = check_request_params(params, known_only=True)
    _check_prompt(prompt, "prompt")
    reply = app().chat_service().chat(ChatRequest(alias, prompt, system, checked,
                                                  stream=False, cache=cache))
    return Answer.from_reply(reply, prompt)


def chat_many(alias: str, prompts: Iterable[str], *, system: str | None = None,
              cache: bool = False, progress: bool | Progress = True,
              **params: Any) -> list[Answer]:
    """Ask ``alias`` each of ``prompts`` in turn; the answers in the prompts' order.

    Each answer is logged as it completes, so an interruption keeps what was done; with
    ``cache`` a re-run reuses logged answers with identical inputs and sends only the rest
    (a prompt repeated in the batch is asked once). ``progress``: a ``tqdm.auto`` bar (True),
    none (False), or a callable ``progress(done, total)`` called after each answer."""
    from bodhi_nb.app import app
    from bodhi_nb.services.chat import ChatRequest, check_request_params

    checked = check_request_params(params, known_only=True)
    texts = [prompts] if isinstance(prompts, str) else list(prompts)
    for i, prompt in enumerate(texts):
        _check_prompt(prompt, f"prompts[{i}]")
    service = app().chat_service()
    requests = [ChatRequest(alias, p, system, checked, stream=False) for p in texts]
    replies: list[ChatReply | None] = [None] * len(texts)
    if cache:
        replies = service.lookup(requests)
    total, done = len(texts), sum(r is not None for r in replies)
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=done, desc=alias, unit="prompt")
    callback = progress if callable(progress) else None
    asked: dict[str, int] = {}  # prompt -> the index that asked it (cache: asked once)
    repeats: dict[int, int] = {}
    writes: list[tuple[int, Future[ChatReply]]] = []
    # Each answer is logged on a worker while the next prompt is asked: the write (a
    # transaction, and DuckDB's hand-back) costs the batch no time. An interruption waits
    # for the writes under way, so every answer received is in the history.
    holding = (service.holding(alias) if done < total else contextlib.nullcontext())
    with holding, ThreadPoolExecutor(max_workers=1,
                                     thread_name_prefix="bodhi-batch-log") as writer:
        try:
            for i, request in enumerate(requests):
                if replies[i] is not None:
                    continue
                if cache and request.prompt in asked:
                    repeats[i] = asked[request.prompt]
                else:
                    reply = service.chat(dataclasses.replace(request, log=False))
                    writes.append((i, writer.submit(service.record, request, reply)))
                    asked[request.prompt] = i
                done += 1
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(done, total)
        finally:
            for i, write in writes:
                replies[i] = write.result()
            if bar is not None:
                bar.close()
    for i, first in repeats.items():
        again = replies[first]
        replies[i] = dataclasses.replace(again, cached=True) if again is not None else None
    return [Answer.from_reply(r, p) for r, p in zip(replies, texts, strict=True)
            if r is not None]


def history(sql: str | None = None) -> HistoryRelation:
    """The chat history as a DuckDB relation: ``sql`` run over the table ``history``, or
    the whole table (oldest first) without it. The SQL runs on a private in-memory copy,
    never on the database itself. ``.df()`` makes a pandas DataFrame (pandas installed),
    ``.fetchall()`` tuples. Columns: :mod:`bodhi_nb.store.history_sql`."""
    from bodhi_nb.app import app

    return app().chat_service().query_history(sql)


def _check_prompt(prompt: object, name: str) -> None:
    if not isinstance(prompt, str) or not prompt.strip():
        raise BadParamError(name=name, value=repr(prompt)[:80], reason="expected a non-empty text")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _utc(value: datetime | None) -> datetime | None:
    """Aware UTC (the store keeps naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
