"""``chat`` and ``history``: talk to an alias, streaming; look back at what was said."""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bodhi_nb.commands.grammar import Command, Context, command
from bodhi_nb.commands.results import Result, Table
from bodhi_nb.errors import BadArgumentsError, BadParamError

__all__ = ["ChatCommand", "ChatResponse", "HistoryCommand", "LiveOutput", "StdoutLive",
           "interpolate", "parse_params", "strip_markers"]

_FIELD = re.compile(r"\{([^{}\s][^{}]*)\}")
_MARKER = re.compile(r"^\s*#\s*NBVAL_[A-Z_]+\s*$", re.MULTILINE)
_FORMATTER = string.Formatter()


def interpolate(text: str, namespace: Mapping[str, Any] | None) -> str:
    """Replace ``{name}``, ``{obj.attr}``, ``{seq[0]}`` and ``{x:.2f}`` from the namespace.

    Anything that does not resolve (unknown names, JSON, code) is left exactly as written.
    No calls are evaluated: only attribute and item access, as ``str.format`` allows.
    """
    if not namespace:
        return text

    def replace(match: re.Match[str]) -> str:
        field = match.group(1)
        name, _, spec = field.partition(":")
        name, _, conversion = name.partition("!")
        try:
            value, _ = _FORMATTER.get_field(name.strip(), (), namespace)
            if conversion:
                value = _FORMATTER.convert_field(value, conversion)
            return str(_FORMATTER.format_field(value, spec))
        except Exception:
            return match.group(0)

    return _FIELD.sub(replace, text)


def strip_markers(text: str) -> str:
    """Drop nbval marker lines (``# NBVAL_CHECK_OUTPUT``) from a cell's prompt."""
    return _MARKER.sub("", text).strip("\n")


def parse_params(pairs: list[str] | None) -> dict[str, Any]:
    """``-o temperature=0 -o stop=["\\n"]``: JSON values where they parse, else text;
    the OpenAI parameters bodhi knows are range-checked."""
    from bodhi_nb.objs import OAIRequestParams

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise BadParamError(name=pair, value="", reason="expected KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key] = value
    known = {k: v for k, v in out.items() if k in OAIRequestParams.__dataclass_fields__
             and k not in ("system_prompt", "stop")}
    OAIRequestParams(**known)  # raises OutOfRangeError with the name and range
    return out


class LiveOutput(Protocol):
    """Where an answer streams to while it arrives."""

    def write(self, delta: str) -> None: ...
    def close(self) -> None: ...


class StdoutLive:
    """Terminal: print the deltas as they come."""

    def __init__(self, fmt: str = "text") -> None:
        self.wrote = False

    def write(self, delta: str) -> None:
        sys.stdout.write(delta)
        sys.stdout.flush()
        self.wrote = True

    def close(self) -> None:
        if self.wrote:
            sys.stdout.write("\n")
            sys.stdout.flush()


class ChatResponse(Result):
    """The answer. Renders as Markdown (or text, or a code block) with a text fallback.

    When the answer was already shown live as it streamed, the first rendering (the one
    ``Out[n]`` triggers right after the command) is a one-line summary instead of the
    answer again; any later rendering shows the answer.
    """

    def __init__(self, reply: Any, fmt: str = "markdown", streamed_live: bool = False) -> None:
        self.reply = reply
        self.format = fmt
        self._summary_pending = streamed_live

    @property
    def text(self) -> str:
        return str(self.reply.text)

    def summary(self) -> str:
        usage = self.reply.usage or {}
        tokens = usage.get("completion_tokens")
        parts = [self.reply.alias]
        if tokens is not None:
            parts.append(f"{tokens} tokens")
        parts.append(f"first token {self.reply.timings['ttft_ms']:.0f} ms")
        parts.append(f"total {self.reply.timings['total_ms']:.0f} ms")
        if self.reply.thread:
            parts.append(f"thread {self.reply.thread}")
        return "— " + " · ".join(parts)

    def _take_summary(self) -> bool:
        pending, self._summary_pending = self._summary_pending, False
        return pending

    def to_text(self) -> str:
        return self.summary() if self._take_summary() else self.text

    def to_markdown(self) -> str:
        if self.format == "code":
            return f"```\n{self.text}\n```"
        return self.text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if self._take_summary():
            line = self.summary()
            return {"text/plain": line, "text/markdown": f"*{line}*"}
        if self.format == "text":
            return {"text/plain": self.text}
        return {"text/plain": self.text, "text/markdown": self.to_markdown()}

    def to_json(self) -> Any:
        r = self.reply
        return {"text": r.text, "alias": r.alias, "model": r.model, "thread": r.thread,
                "exchange": r.exchange, "params": r.params, "usage": r.usage,
                "timings": r.timings, "finish_reason": r.finish_reason}

    def __str__(self) -> str:
        return self.text


@command
class ChatCommand(Command):
    name = "chat"
    summary = "chat with a model alias (local GGUF or API), streaming; %%bodhi chat for cells"

    @dataclass(frozen=True)
    class Request:
        alias: str
        prompt: str | None = None
        system: str | None = None
        option: list[str] | None = None
        format: str = "markdown"
        out: str | None = None
        thread: str | None = None
        new: bool = False
        no_stream: bool = False
        no_log: bool = False
        no_interpolate: bool = False
        json: bool = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("alias", help="a model alias, owner/repo:QUANT, or prefix/model")
        parser.add_argument("prompt", nargs="?", help="the prompt (or the cell body)")
        parser.add_argument("--system", help="a system prompt")
        parser.add_argument("-o", "--option", action="append", metavar="KEY=VALUE",
                            help="request parameter, e.g. -o temperature=0 -o seed=7")
        parser.add_argument("--format", choices=("markdown", "text", "code"),
                            default="markdown", help="how the answer renders")
        parser.add_argument("--out", metavar="VAR", help="bind the answer text to VAR")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--thread", metavar="NAME", help="continue the conversation NAME")
        group.add_argument("--new", action="store_true", help="start a new named thread")
        parser.add_argument("--no-stream", action="store_true", help="wait for the whole answer")
        parser.add_argument("--no-log", action="store_true", help="keep it out of history")
        parser.add_argument("--no-interpolate", action="store_true",
                            help="send {braces} as written")

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        from bodhi_nb.objs import new_ulid
        from bodhi_nb.services.chat import ChatRequest

        prompt = request.prompt
        if ctx.cell is not None:
            if prompt is not None:
                raise BadArgumentsError(command=self.name, reason="give the prompt in the "
                                        "cell body or on the line, not both")
            prompt = strip_markers(ctx.cell)
        if not prompt or not prompt.strip():
            raise BadArgumentsError(command=self.name, reason="the prompt is empty")
        if not request.no_interpolate:
            prompt = interpolate(prompt, ctx.user_ns)
        if request.out and ctx.user_ns is None:
            raise BadArgumentsError(command=self.name, reason="--out needs a notebook")
        thread = request.thread or (f"t-{new_ulid()[-8:].lower()}" if request.new else None)
        chat_request = ChatRequest(request.alias, prompt, request.system,
                                   parse_params(request.option), thread,
                                   stream=not request.no_stream, log=not request.no_log)
        live = None
        if chat_request.stream and not request.json:
            live = (ctx.live or StdoutLive)(request.format)
        try:
            reply = app.chat_service().chat(chat_request, live.write if live else None)
        finally:
            if live is not None:
                live.close()
        if request.out and isinstance(ctx.user_ns, dict):
            ctx.user_ns[request.out] = reply.text
        return ChatResponse(reply, request.format, streamed_live=live is not None)


@command
class HistoryCommand(Command):
    name = "history"
    summary = "show logged chat exchanges, newest first"

    @dataclass(frozen=True)
    class Request:
        n: int = 10
        thread: str | None = None
        q: str | None = None
        json: bool = False

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("-n", type=int, default=10, help="how many exchanges")
        parser.add_argument("--thread", help="only this thread")
        parser.add_argument("-q", metavar="TEXT", help="only exchanges containing TEXT")

    def run(self, app: Any, request: Any, ctx: Context) -> Result:
        if request.n < 1:
            raise BadArgumentsError(command=self.name, reason="-n must be at least 1")
        entries = app.chat_service().history(request.n, request.thread, request.q)
        records = [{"exchange": e.exchange, "thread": e.thread, "alias": e.alias,
                    "model": e.model, "prompt": e.prompt, "answer": e.answer,
                    "created_at": e.created_at, "usage": e.usage, "timings": e.timings}
                   for e in entries]
        rows = [(e.created_at, e.thread, e.alias, _clip(e.prompt, 50), _clip(e.answer, 70),
                 (e.usage or {}).get("completion_tokens"),
                 (e.timings or {}).get("total_ms")) for e in entries]
        return Table(("when", "thread", "alias", "prompt", "answer", "tokens", "ms"), rows,
                     title="Chat history", empty="(no chats logged yet)", records=records)


def _clip(text: str, width: int) -> str:
    one = " ".join(text.split())
    return one if len(one) <= width else one[: width - 1] + "…"
