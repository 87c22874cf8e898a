"""``chat`` and ``history``: talk to an alias, streaming; look back at what was said."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bodhi_nb.commands.grammar import Command, Context, LiveOutput, command
from bodhi_nb.commands.results import Result
from bodhi_nb.errors import BadArgumentsError, BadParamError, InvalidValueError
from bodhi_nb.objs import parse_options
from bodhi_nb.services.policy import Action

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.services.chat import ChatEvent, ChatReply

__all__ = ["ChatCommand", "ChatResponse", "HistoryCommand", "empty_explanation",
           "parse_params"]

#: renders a chat.ftl message (id, arguments) in the user's locale
Say = Callable[[str, dict[str, Any]], str]


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``-o temperature=0 -o stop=["\\n"]``: read as every ``-o`` is
    (:func:`bodhi_nb.objs.parse_options`); the OpenAI parameters bodhi knows are type- and
    range-checked (``BadParamError``)."""
    from bodhi_nb.services.chat import check_request_params

    try:
        options = parse_options(pairs or [])
    except InvalidValueError as exc:
        raise BadParamError(name=exc.params["value"], value="",
                            reason="expected KEY=VALUE") from None
    return check_request_params(options)


class ChatResponse(Result):
    """The answer. Renders as Markdown (or text, or a code block) with a text fallback.

    Every rendering is the same (a ``repr()`` never changes what a notebook shows later):
    the notes (a fallback format in use), then the answer, then, with ``summarize``, a
    one-line summary (tokens, time to first token, server start, total). The front end that
    streamed decides: ``streamed_live`` says the answer already stayed on screen as it
    streamed (a terminal), so it is left out and the summary stands alone. An empty answer
    is never shown as nothing: ``empty`` says why (finish reason, tokens, and the fix).
    """

    def __init__(self, reply: ChatReply, fmt: str = "markdown", streamed_live: bool = False,
                 notes: tuple[str, ...] = (), empty: str | None = None,
                 summarize: bool = False, message: Say | None = None) -> None:
        self.reply = reply
        #: renders a chat.ftl message in the user's locale (English without one)
        self._message = message
        self.format = fmt
        self.notes = notes
        self._empty = empty
        #: the answer is on screen already (streamed to a terminal)
        self.streamed_live = streamed_live
        self.summarize = streamed_live or summarize

    @property
    def text(self) -> str:
        return str(self.reply.text)

    @property
    def is_empty(self) -> bool:
        return not self.text.strip()

    def explanation(self) -> str:
        """Why the answer is empty (only meaningful when it is)."""
        if self._empty is not None:
            return self._empty
        usage = self.reply.usage or {}
        return (f"(empty answer: finish reason {self.reply.finish_reason or 'unknown'}, "
                f"{usage.get('completion_tokens') or 0} tokens)")

    def summary(self) -> str:
        usage = self.reply.usage or {}
        tokens = usage.get("completion_tokens")
        timings = self.reply.timings
        say = self._message or _english
        parts = [self.reply.alias]
        if tokens is not None:
            parts.append(say("chat-summary-tokens", {"tokens": str(tokens)}))
        first = say("chat-summary-first-token", {"ms": f"{timings['ttft_ms']:.0f}"})
        if timings.get("startup_ms") is not None:
            first += " " + say("chat-summary-server-start",
                               {"ms": f"{timings['startup_ms']:.0f}"})
        parts.append(first)
        parts.append(say("chat-summary-total", {"ms": f"{timings['total_ms']:.0f}"}))
        if self.reply.thread:
            parts.append(say("chat-summary-thread", {"thread": self.reply.thread}))
        return "— " + " · ".join(parts)

    def _parts(self) -> tuple[list[str], str | None, list[str]]:
        """Lines before the answer, the answer (None: not shown), lines after it."""
        before = list(self.notes)
        after = [self.summary()] if self.summarize else []
        if self.is_empty:
            return [*before, self.explanation()], None, after
        if self.streamed_live:
            return before, None, after
        return before, self.text.rstrip("\n") if after else self.text, after

    def to_text(self) -> str:
        before, answer, after = self._parts()
        return "\n".join([*before, *([answer] if answer is not None else []), *after])

    def to_markdown(self) -> str:
        if self.format == "code":
            return f"```\n{self.text}\n```"
        return self.text

    def _repr_mimebundle_(self, include: object = None,
                          exclude: object = None) -> dict[str, Any]:
        before, answer, after = self._parts()
        plain = "\n".join([*before, *([answer] if answer is not None else []), *after])
        if self.format == "text":  # a base model's answer: its `###` lines are not headings
            return {"text/plain": plain}
        blocks = [*before, *([self.to_markdown()] if answer is not None else []),
                  *(f"*{line}*" for line in after)]
        return {"text/plain": plain, "text/markdown": "\n\n".join(blocks)}

    def to_json(self) -> Any:
        r = self.reply
        return {"text": r.text, "alias": r.alias, "model": r.model, "thread": r.thread,
                "exchange": r.exchange, "params": r.params, "usage": r.usage,
                "timings": r.timings, "finish_reason": r.finish_reason,
                "markdown": r.markdown, "fallback": r.fallback, "notes": list(self.notes),
                **({"empty": self.explanation()} if self.is_empty else {})}

    def __str__(self) -> str:
        return self.text


_ENGLISH = {
    "chat-summary-tokens": "{tokens} tokens",
    "chat-summary-first-token": "first token {ms} ms",
    "chat-summary-server-start": "(model server start {ms} ms)",
    "chat-summary-total": "total {ms} ms",
    "chat-summary-thread": "thread {thread}",
}


def _english(code: str, args: dict[str, Any]) -> str:
    """The en-US text of a summary part, for a response built without a localizer."""
    return _ENGLISH[code].format(**args)


def empty_explanation(reply: ChatReply, message: Say, prog: str) -> str:
    """Why an answer is empty, and the fix, from its finish reason and token count."""
    usage = reply.usage or {}
    args: dict[str, Any] = {"finish": reply.finish_reason or "unknown",
                            "tokens": str(int(usage.get("completion_tokens") or 0)),
                            "alias": reply.alias, "prog": prog}
    if reply.finish_reason == "length":
        return message("chat-empty-length", args)
    if reply.markdown is False and not reply.fallback:
        return message("chat-empty-base-model", args)
    return message("chat-empty-stop", args)


@dataclass(frozen=True)
class ChatCommandRequest:
    alias: str
    prompt: str | None = None
    system: str | None = None
    option: list[str] | None = None
    format: str = "auto"
    out: str | None = None
    thread: str | None = None
    new: bool = False
    reset: bool = False
    no_stream: bool = False
    no_log: bool = False
    no_interpolate: bool = False
    json: bool = False


@command
class ChatCommand(Command[ChatCommandRequest]):
    name = "chat"
    summary = "chat with a model alias (local GGUF or API), streaming; %%bodhi chat for cells"
    action = Action.CHAT
    Request = ChatCommandRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("alias", help="a model alias, owner/repo:QUANT, or prefix/model")
        parser.add_argument("prompt", nargs="?", help="the prompt (or the cell body)")
        parser.add_argument("--system", help="a system prompt")
        parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                            help="request parameter, e.g. -o temperature=0 -o seed=7")
        parser.add_argument("--format", choices=("auto", "markdown", "text", "code"),
                            default="auto", help="how the answer renders (auto: Markdown, "
                            "plain text for a base model without a chat template)")
        parser.add_argument("--out", metavar="VAR", help="bind the answer text to VAR")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--thread", metavar="NAME", help="continue the conversation NAME")
        group.add_argument("--new", action="store_true", help="start a new named thread")
        parser.add_argument("--reset", action="store_true",
                            help="with --thread: start NAME afresh (earlier exchanges stay in "
                                 "history but are not sent), so a notebook re-run gives the "
                                 "same answers")
        parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
        parser.add_argument("--no-log", action="store_true", help="keep it out of history")
        parser.add_argument("--no-interpolate", action="store_true",
                            help="send {braces} as written")

    def run(self, app: AppService, request: ChatCommandRequest, ctx: Context) -> Result:
        from bodhi_nb.objs import new_ulid
        from bodhi_nb.services.chat import ChatRequest

        # The user's Enter: timings run from here (a front end that stamps the time it read
        # the line in its Context, before building the registry, is more exact still).
        entered = ctx.started_at or time.perf_counter()
        prompt = request.prompt
        if ctx.cell is not None:
            if prompt is not None:
                raise BadArgumentsError(command=self.name, reason=ctx.t("chat-prompt-twice"))
            prompt = ctx.cell  # the front end has dropped its own marker lines
        if not prompt or not prompt.strip():
            raise BadArgumentsError(command=self.name, reason=ctx.t("chat-prompt-empty"))
        if request.reset and not request.thread:
            raise BadArgumentsError(command=self.name, reason=ctx.t("chat-reset-needs-thread"))
        alias = request.alias
        if not request.no_interpolate and ctx.interpolate is not None:
            # The magic leaves chat lines alone (--no-interpolate must reach the prompt),
            # so the alias is interpolated here too: `chat {demo.repo}:Q4_K_M ...`.
            prompt = ctx.interpolate(prompt)
            alias = ctx.interpolate(alias)
        if request.out and ctx.user_ns is None:
            raise BadArgumentsError(command=self.name, reason=ctx.t("chat-out-needs-notebook"))
        thread = request.thread or (f"t-{new_ulid()[-8:].lower()}" if request.new else None)
        chat_request = ChatRequest(alias, prompt, request.system,
                                   parse_params(request.option), thread,
                                   stream=not request.no_stream, log=not request.no_log,
                                   reset=request.reset, started_at=entered)
        service = app.chat_service()
        localization = app.localization_service()

        def message(code: str, args: dict[str, Any]) -> str:
            return str(localization.message(code, {"prog": ctx.prog, **args}))

        fmt = request.format
        notes: list[str] = []
        # The live view shows the wait (a server start) even without --stream's deltas.
        live: LiveOutput | None = (None if request.json or ctx.live is None
                                   else ctx.live(fmt))
        streamed = live is not None and chat_request.stream

        def on_event(event: ChatEvent) -> None:
            nonlocal fmt
            data = event.data
            if event.kind == "format":
                if fmt == "auto":
                    fmt = "markdown" if data["markdown"] else "text"
                    if live is not None:
                        live.set_format(fmt)
            elif event.kind == "template_fallback":
                notes.append(message("chat-template-fallback", data))
            elif live is not None and event.kind in ("starting", "started"):
                text = message(f"chat-server-{event.kind}",
                               {**data, "seconds": f"{float(data['seconds']):.0f}"
                                if event.kind == "starting"
                                else f"{float(data['seconds']):.1f}"})
                live.status(text, done=event.kind == "started")

        try:
            reply = service.chat(chat_request, live.write if live is not None and streamed
                             else None, on_event)
        finally:
            if live is not None:
                live.close()
        if fmt == "auto":
            fmt = "markdown" if reply.markdown else "text"
        if request.out and isinstance(ctx.user_ns, dict):
            ctx.user_ns[request.out] = reply.text
        empty = (empty_explanation(reply, message, ctx.prog) if not reply.text.strip()
                 else None)
        # A terminal keeps the streamed answer on screen; a notebook's live view is a
        # transient one (what nbval and nbclient store must not depend on its updates), so
        # there the result shows the answer itself, with its summary.
        kept = streamed and live is not None and live.persistent
        return ChatResponse(reply, fmt, streamed_live=kept, notes=tuple(notes), empty=empty,
                            summarize=streamed, message=message)


@dataclass(frozen=True)
class HistoryRequest:
    n: int = 10
    thread: str | None = None
    q: str | None = None
    sql: str | None = None
    json: bool = False


@command
class HistoryCommand(Command[HistoryRequest]):
    name = "history"
    summary = "show logged chat exchanges, newest first"
    action = Action.HISTORY
    Request = HistoryRequest

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-n", type=int, default=10, help="how many exchanges")
        parser.add_argument("--thread", help="only this thread")
        parser.add_argument("-q", metavar="TEXT", help="only exchanges containing TEXT")
        parser.add_argument("--sql", metavar="QUERY",
                            help="run a SQL query over the table `history` (a private "
                                 "in-memory copy) and show its result")

    def run(self, app: AppService, request: HistoryRequest, ctx: Context) -> Result:
        if request.sql is not None:
            return _sql_table(app, request.sql, ctx)
        if request.n < 1:
            raise BadArgumentsError(command=self.name, reason=ctx.t("history-n-too-small"))
        entries = app.chat_service().history(request.n, request.thread, request.q)
        records = [{"exchange": e.exchange, "thread": e.thread, "alias": e.alias,
                    "model": e.model, "prompt": e.prompt, "answer": e.answer,
                    "created_at": e.created_at, "usage": e.usage, "timings": e.timings}
                   for e in entries]
        rows = [(e.created_at, e.thread, e.alias, _clip(e.prompt, 50),
                 _clip(e.answer, 70) if e.finish_reason is None
                 else f"{_clip(e.answer, 70)} {ctx.t(f'history-{e.finish_reason}')}",
                 (e.usage or {}).get("completion_tokens"),
                 _ms((e.timings or {}).get("total_ms"))) for e in entries]
        return ctx.table(("when", "thread", "alias", "prompt", "answer", "tokens", "total"), rows,
                         title=ctx.t("history-title"), empty=ctx.t("history-empty"),
                         records=records)


def _sql_table(app: AppService, sql: str, ctx: Context) -> Result:
    """``history --sql``: the query's columns as they are named, every value in full."""
    from bodhi_nb.commands.results import Table

    columns, rows = app.chat_service().history_rows(sql)
    return Table(tuple(columns), rows, title=ctx.t("history-sql-title"),
                 empty=ctx.t("ui-none"), full_ids=True,
                 records=[dict(zip(columns, row, strict=True)) for row in rows],
                 yes_no=(ctx.t("ui-yes"), ctx.t("ui-no")))


def _ms(value: object) -> str | None:
    """``3552.04`` -> ``3552 ms``: the unit shows, and a notebook's sanitizer finds it."""
    return f"{float(value):.0f} ms" if isinstance(value, (int, float)) else None


def _clip(text: str, width: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"
