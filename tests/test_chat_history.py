"""Chat history and thread context in the store, on both backends.

ChatService talks to a small OpenAI-compatible server in this file that records what it was
sent and answers (no model: what is under test is what the service logs and which earlier
messages it sends back as a thread's context): at once, or streamed word by word, holding
the stream after a few words when a test asks, so it can stop an answer while the server
still has more to say. The clock is frozen, so rows share one ``created_at`` unless a test
advances it, and the order comes from the exchange ids.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from _backends import both_backends

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.commands import Context, execute
from bodhi_nb.objs import ApiAlias, CancelToken
from bodhi_nb.services.chat import ChatRequest
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import FrozenTimeService


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        #: a streamed answer waits for ``release`` after this many words (None: never)
        self.hold_after: int | None = None
        self.release = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        prompt = body["messages"][-1]["content"]
        if body.get("stream"):
            self._stream(body["model"], [f"w{i} " for i in range(8)])
            return
        answer = "It is Paris." if "capital" in prompt else f"echo: {prompt}"
        data = json.dumps({
            "id": "c1", "object": "chat.completion", "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": answer}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, model: str, words: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def event(delta: dict[str, str], finish: str | None) -> bytes:
            chunk = {"id": "c1", "object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(chunk)}\n\n".encode()

        try:
            for i, word in enumerate(words):
                if i == self.server.hold_after:
                    self.server.release.wait(60)
                self.wfile.write(event({"content": word}, None))
                self.wfile.flush()
            self.wfile.write(event({}, "stop") + b"data: [DONE]\n\n")
        except OSError:
            pass  # the client went away (a stopped answer)


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> FrozenTimeService:
    return FrozenTimeService()


@pytest.fixture
def registry(db_url: str | None, clock: FrozenTimeService,
             recorder: _Recorder) -> Iterator[DefaultAppService]:
    app = build_app_service(SettingService(), time=clock)
    app.ai_api_service().add_api_alias(ApiAlias("rec", recorder.base_url, models=("m",)), None)
    yield app
    app.close()


def _ask(app: DefaultAppService, prompt: str, **kwargs: Any) -> str:
    request = ChatRequest("rec", prompt, stream=False, params={"max_tokens": 8}, **kwargs)
    return app.chat_service().chat(request).text


def _sent(recorder: _Recorder) -> list[tuple[str, str]]:
    """(role, content) of the messages of the last request."""
    return [(m["role"], m["content"]) for m in recorder.bodies[-1]["messages"]]


@both_backends
def test_threads_send_their_context_since_the_last_reset(registry: DefaultAppService,
                                                         recorder: _Recorder) -> None:
    assert _ask(registry, "one-off") == "echo: one-off"
    assert _ask(registry, "first", thread="geo") == "echo: first"
    _ask(registry, "second", thread="geo")
    assert _sent(recorder) == [("user", "first"), ("assistant", "echo: first"),
                               ("user", "second")]
    _ask(registry, "unrelated", thread="other")
    assert _sent(recorder) == [("user", "unrelated")]  # another thread's rows stay out
    _ask(registry, "again", thread="geo", reset=True)
    assert _sent(recorder) == [("user", "again")]
    _ask(registry, "next", thread="geo", system="Be brief.")
    assert _sent(recorder) == [("system", "Be brief."), ("user", "again"),
                               ("assistant", "echo: again"), ("user", "next")]
    _ask(registry, "unlogged", thread="geo", log=False)
    _ask(registry, "last", thread="geo")
    assert [c for _, c in _sent(recorder)] == ["again", "echo: again", "next", "echo: next",
                                               "last"]


@both_backends
def test_history_newest_first_by_thread_query_and_limit(registry: DefaultAppService,
                                                        clock: FrozenTimeService) -> None:
    for prompt in ("a1", "a2", "What is the capital of France?", "a3"):
        _ask(registry, prompt, thread="t")
    _ask(registry, "b1", thread="u", reset=True)
    _ask(registry, "loose")
    chat = registry.chat_service()
    clock.advance(1)
    everything = chat.history(limit=50)
    assert [h.prompt for h in everything] == ["loose", "b1", "a3",
                                              "What is the capital of France?", "a2", "a1"]
    assert [h.prompt for h in chat.history(limit=2)] == ["loose", "b1"]
    assert [h.prompt for h in chat.history(thread="t", limit=3)] == [
        "a3", "What is the capital of France?", "a2"]
    # The query matches prompt or answer, in any case; ``%`` and ``_`` are only text.
    assert [h.answer for h in chat.history(query="pARIS")] == ["It is Paris."]
    assert [h.prompt for h in chat.history(query="CAPITAL OF")] == [
        "What is the capital of France?"]
    assert chat.history(query="nothing like this") == []
    assert chat.history(query="a_") == [] and chat.history(query="100%") == []
    _ask(registry, "a_b 100% sure \\o/")
    assert [h.prompt for h in chat.history(query="A_B 100% SURE \\O")] == [
        "a_b 100% sure \\o/"]
    assert chat.history(query="\\\\") == []
    [loose] = [h for h in everything if h.prompt == "loose"]
    assert loose.thread == loose.exchange  # a one-off is a thread of its own
    assert (loose.alias, loose.model, loose.answer) == ("rec", "m", "echo: loose")
    assert loose.usage == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert loose.timings is not None and loose.timings["total_ms"] >= 0
    # Timestamps come back as the same naive-UTC datetime from either backend.
    assert loose.created_at == (clock.utc_now() - timedelta(seconds=1)).astimezone(
        UTC).replace(tzinfo=None)
    assert len({h.exchange for h in everything}) == 6


@both_backends
def test_a_stopped_answer_keeps_its_words_and_is_logged_as_stopped(
        registry: DefaultAppService, recorder: _Recorder) -> None:
    chat = registry.chat_service()
    recorder.hold_after = 3  # the server has more to say, but waits
    token = CancelToken()
    seen: list[str] = []

    def on_delta(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            token.cancel()  # Stop, pressed while the third word shows

    reply = chat.chat(ChatRequest("rec", "tell me", thread="s", params={"max_tokens": 8}),
                      on_delta=on_delta, cancel=token)
    # chat() returned while the server still held the rest: it read no further.
    assert not recorder.release.is_set()
    recorder.release.set()
    assert seen == ["w0 ", "w1 ", "w2 "]
    assert (reply.text, reply.finish_reason) == ("w0 w1 w2 ", "stopped")
    [entry] = chat.history(thread="s")
    assert (entry.answer, entry.finish_reason) == ("w0 w1 w2 ", "stopped")
    assert entry.usage == {"completion_tokens": 3, "counted_from": "stream",
                           "finish_reason": "stopped"}
    shown = execute(["history", "--thread", "s"], Context(prog="bodhi"),
                    lambda: registry).to_text()
    assert "w0 w1 w2 (stopped)" in shown
    # The thread goes on from the partial answer.
    recorder.hold_after = None
    whole = chat.chat(ChatRequest("rec", "go on", thread="s"))
    assert (whole.text, whole.finish_reason) == ("".join(f"w{i} " for i in range(8)), "stop")
    assert _sent(recorder) == [("user", "tell me"), ("assistant", "w0 w1 w2 "),
                               ("user", "go on")]
    newest = chat.history(thread="s", limit=1)[0]
    assert newest.finish_reason is None and "finish_reason" not in (newest.usage or {})
    # A generation stopped before it was sent sends nothing, and logs an empty stopped answer.
    sent = len(recorder.bodies)
    early = CancelToken()
    early.cancel()
    nothing = chat.chat(ChatRequest("rec", "never mind"), cancel=early)
    assert (nothing.text, nothing.finish_reason) == ("", "stopped")
    assert len(recorder.bodies) == sent
    assert chat.history(limit=1)[0].finish_reason == "stopped"


@both_backends
def test_threads_newest_activity_first_with_counts_last_alias_and_paging(
        registry: DefaultAppService, recorder: _Recorder, clock: FrozenTimeService) -> None:
    registry.ai_api_service().add_api_alias(ApiAlias("other", recorder.base_url,
                                                     models=("m2",)), None)
    chat = registry.chat_service()
    _ask(registry, "a1", thread="t")
    _ask(registry, "loose")
    clock.advance(5)
    _ask(registry, "b1", thread="u", reset=True)
    _ask(registry, "b2", thread="u")
    clock.advance(5)
    _ask(registry, "a2", thread="t")
    chat.chat(ChatRequest("other", "a3", thread="t", stream=False))
    threads = chat.threads()
    assert [t.thread for t in threads[:2]] == ["t", "u"]
    t, u, loose = threads
    assert (t.exchanges, t.messages, t.last_alias, t.named) == (3, 6, "other", True)
    assert (u.exchanges, u.messages, u.last_alias, u.named) == (2, 4, "rec", True)
    assert (loose.exchanges, loose.messages, loose.named) == (1, 2, False)
    [one_off] = chat.history(query="loose")
    assert loose.thread == one_off.thread
    now = clock.utc_now().astimezone(UTC).replace(tzinfo=None)
    assert t.last_at == now and u.last_at == now - timedelta(seconds=5)
    assert loose.last_at == now - timedelta(seconds=10)
    assert [x.thread for x in chat.threads(named_only=True)] == ["t", "u"]
    assert [x.thread for x in chat.threads(limit=1, offset=1)] == ["u"]
    assert chat.threads(limit=5, offset=3) == []
    # History pages the same way: newest first, ``limit`` after the first ``offset``.
    prompts = [h.prompt for h in chat.history(limit=50)]
    assert prompts == ["a3", "a2", "b2", "b1", "loose", "a1"]
    assert [h.prompt for h in chat.history(limit=2, offset=1)] == ["a2", "b2"]
    assert [h.prompt for h in chat.history(thread="t", limit=2, offset=1)] == ["a2", "a1"]
    assert chat.history(limit=2, offset=6) == []
