"""The fault proxy itself, in front of a small real HTTP server (stdlib, on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bodhi_nb.testing.fault_proxy import FaultProxy

EVENTS = [f'data: {{"n": {i}}}\n\n'.encode() for i in range(20)] + [b"data: [DONE]\n\n"]


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "auth": self.headers.get("Authorization"),
                           "host": self.headers.get("Host")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Upstream", "yes")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Received", str(len(received)))
        self.end_headers()
        try:
            for event in EVENTS:  # one chunk per event, with a pause, like a model streaming
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                self.wfile.flush()
                time.sleep(0.002)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the proxy cut the stream (drop_after)


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/base"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    with FaultProxy(upstream) as p:
        yield p


def test_forwards_requests_with_the_upstream_path_and_headers(proxy: FaultProxy) -> None:
    with httpx.Client() as client:
        response = client.get(f"{proxy.url}/v1/models?x=1",
                              headers={"Authorization": "Bearer abc"})
    assert response.status_code == 200
    assert response.headers["x-upstream"] == "yes"
    data = response.json()
    assert data["path"] == "/base/v1/models?x=1"
    assert data["auth"] == "Bearer abc"
    assert data["host"].startswith("127.0.0.1:") and data["host"] != proxy.url[7:]
    assert [(e.method, e.path, e.status, e.fault) for e in proxy.log] == [
        ("GET", "/v1/models?x=1", 200, None)]


def test_relays_a_chunked_stream_as_it_comes(proxy: FaultProxy) -> None:
    with httpx.Client() as client, client.stream("POST", f"{proxy.url}/v1/chat/completions",
                                                 json={"stream": True}) as response:
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.headers["x-received"] == str(len(b'{"stream":true}'))
        body = b"".join(response.iter_bytes())
    assert body == b"".join(EVENTS)
    assert proxy.log[-1].sent == len(body) and proxy.log[-1].fault is None


def test_fail_next_answers_k_requests_then_forwards_again(proxy: FaultProxy) -> None:
    proxy.fail_next(429, times=2, headers={"Retry-After": "7"}, path=r"/models")
    with httpx.Client() as client:
        first = client.get(f"{proxy.url}/v1/models")
        other = client.post(f"{proxy.url}/v1/chat/completions", json={})  # path differs
        second = client.get(f"{proxy.url}/v1/models")
        third = client.get(f"{proxy.url}/v1/models")
    assert (first.status_code, second.status_code, third.status_code) == (429, 429, 200)
    assert first.headers["retry-after"] == "7"
    assert first.json()["error"]["message"] == "injected HTTP 429"
    assert other.status_code == 200
    assert [e.fault for e in proxy.log] == ["status", None, "status", None]


def test_drop_after_cuts_the_stream_after_n_bytes(proxy: FaultProxy) -> None:
    proxy.drop_after(100, path=r"/chat/completions")
    received = b""
    with httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            with client.stream("POST", f"{proxy.url}/v1/chat/completions",
                               json={}) as response:
                for part in response.iter_bytes():
                    received += part
        again = client.get(f"{proxy.url}/v1/models")  # the next request is not affected
    assert received == b"".join(EVENTS)[:100]
    assert proxy.log[0].fault == "drop" and proxy.log[0].sent == 100
    assert again.status_code == 200


def test_close_ends_open_keep_alive_connections(upstream: str) -> None:
    proxy = FaultProxy(upstream)
    client = httpx.Client()
    try:
        assert client.get(f"{proxy.url}/v1/models").status_code == 200
        started = time.monotonic()
        proxy.close()  # the client still holds an idle keep-alive connection
        assert time.monotonic() - started < 5
        with pytest.raises(httpx.TransportError):
            client.get(f"{proxy.url}/v1/models")
    finally:
        client.close()


def test_upstream_down_is_a_502(upstream: str) -> None:
    with FaultProxy("http://127.0.0.1:9") as proxy, httpx.Client() as client:
        response = client.get(f"{proxy.url}/v1/models")
    assert response.status_code == 502
    assert "upstream" in response.json()["error"]["message"]
