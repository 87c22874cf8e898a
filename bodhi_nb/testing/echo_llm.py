"""A tiny OpenAI-compatible server that echoes the prompt back (tests and benchmarks only).

A real model cannot be relied on to repeat a marker, so the concurrency tests of ``bodhi
serve`` put an API alias in front of this server: ``POST /v1/chat/completions`` answers
with the last user message, split into words; streamed, one word per chunk, ``delay``
seconds apart, so that many concurrent streams overlap. ``GET /v1/models`` lists
:data:`MODEL`. Standard library only; one thread per connection::

    with EchoLlm() as echo:
        ... an API alias with base URL echo.base_url ...
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["MODEL", "EchoLlm"]

MODEL = "echo"


class EchoLlm:
    """The echo server on ``127.0.0.1:<free port>``; ``requests`` counts what it answered."""

    def __init__(self, *, delay: float = 0.005) -> None:
        self.delay = delay
        self.requests = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="echo-llm")
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def count(self) -> None:
        with self._lock:
            self.requests += 1

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> EchoLlm:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: sixteen clients connecting at once on a
    # loaded machine had the kernel reset the overflow ("Connection reset by peer").
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that closed its stream early is no error of the server's


def _words(body: dict[str, Any]) -> list[str]:
    text = ""
    for message in reversed(body.get("messages") or []):
        if isinstance(message, dict) and message.get("role") == "user":
            text = str(message.get("content") or "")
            break
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _handler(echo: EchoLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # small SSE writes go out at once (no Nagle wait for the client's delayed ACK)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _json(self, status: int, data: object) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.path.rstrip("/") == "/v1/models":
                self._json(200, {"object": "list", "data": [
                    {"id": MODEL, "object": "model", "created": 0, "owned_by": "echo"}]})
            else:
                self._json(404, {"error": {"message": "no such route", "type": "not_found"}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._json(404, {"error": {"message": "no such route", "type": "not_found"}})
                return
            echo.count()
            words = _words(body)
            ident = f"chatcmpl-{uuid.uuid4().hex}"
            model = str(body.get("model") or MODEL)
            usage = {"prompt_tokens": len(words), "completion_tokens": len(words),
                     "total_tokens": 2 * len(words)}
            if not body.get("stream"):
                self._json(200, {
                    "id": ident, "object": "chat.completion", "created": int(time.time()),
                    "model": model, "usage": usage, "choices": [{
                        "index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "".join(words)}}]})
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def event(delta: dict[str, Any], finish: str | None) -> None:
                chunk = {"id": ident, "object": "chat.completion.chunk",
                         "created": int(time.time()), "model": model,
                         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                self._chunk(f"data: {json.dumps(chunk)}\n\n".encode())

            event({"role": "assistant", "content": ""}, None)
            for word in words:
                time.sleep(echo.delay)
                event({"content": word}, None)
            event({}, "stop")
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler
