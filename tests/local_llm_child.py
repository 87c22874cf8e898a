"""Child processes for tests/test_local_llm.py.

``fake-server ARGS...``
    A stand-in for upstream's ``llama-server`` binary (stdlib only): it reads --host, --port,
    --model and --alias, refuses a model file that does not start with ``GGUF`` the way the
    real one does (a message on stderr, exit 1), and answers ``GET /health`` (public),
    ``GET /v1/models`` and ``GET /argv`` (its own command line, as JSON); like the real one,
    it wants ``Authorization: Bearer $LLAMA_API_KEY`` when that variable is set. With
    FAKE_LLAMA_IGNORE_TERM=1 it ignores SIGTERM, so only SIGKILL stops it.

``parent MODEL_PATH``
    A kernel stand-in: starts a server for MODEL_PATH through LocalLlmService (settings
    from the environment), prints ``PID <server pid>`` and sleeps until it is killed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def fake_server(argv: list[str]) -> int:
    opts: dict[str, str] = {}
    for i, token in enumerate(argv):
        if token.startswith("--") and i + 1 < len(argv):
            opts[token] = argv[i + 1]
    model = Path(opts.get("--model", ""))
    try:
        magic = model.read_bytes()[:4]
    except OSError as exc:
        print(f"error: failed to open model '{model}': {exc}", file=sys.stderr)
        return 1
    if magic != b"GGUF":
        print("llama_model_load: error loading model: invalid magic", file=sys.stderr)
        print(f"error: failed to load model '{model}'", file=sys.stderr)
        return 1
    if os.environ.get("FAKE_LLAMA_IGNORE_TERM") == "1":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    alias = opts.get("--alias", str(model))
    full_argv = [sys.argv[0], *argv]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            routes = {"/health": {"status": "ok"},
                      "/v1/models": {"object": "list", "data": [{"id": alias}]},
                      "/argv": full_argv}
            if self.path not in routes:
                self.send_error(404)
                return
            key = os.environ.get("LLAMA_API_KEY")
            if (key and self.path != "/health"
                    and self.headers.get("Authorization") != f"Bearer {key}"):
                self.send_error(401)
                return
            body = json.dumps(routes[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            print(format % args, file=sys.stderr)

    server = ThreadingHTTPServer((opts.get("--host", "127.0.0.1"), int(opts["--port"])), Handler)
    print(f"main: server is listening on {opts.get('--port')}", file=sys.stderr, flush=True)
    server.serve_forever()
    return 0


def parent(model_path: str) -> int:
    from bodhi_nb.objs import UserAlias
    from bodhi_nb.services.local_llm import LocalLlmService
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.services.time import DefaultTimeService

    service = LocalLlmService(SettingService(), DefaultTimeService())
    alias = UserAlias("orphan-test", "test/orphan", Path(model_path).name)
    service.target_for(alias, model_path)
    print(f"PID {service.running()[0].pid}", flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    sys.exit(fake_server(rest) if mode == "fake-server" else parent(rest[0]))
