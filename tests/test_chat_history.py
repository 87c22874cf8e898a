"""Chat history and thread context in the store, on both backends.

ChatService talks to a small OpenAI-compatible server in this file that records what it was
sent and answers at once (no model: what is under test is what the service logs and which
earlier messages it sends back as a thread's context). The clock is frozen, so every row has
the same ``created_at`` and the order comes from the exchange ids alone.
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
from bodhi_nb.objs import ApiAlias
from bodhi_nb.services.chat import ChatRequest
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import FrozenTimeService


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []

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


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
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
