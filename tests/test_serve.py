"""``bodhi serve`` end to end, with the official ``openai`` SDK as the client.

Real peers: llama.cpp (``python -m llama_cpp.server``) serving the real Gemma 3 270M GGUF
for local aliases (one thread, generous timeouts); for API aliases the session's llama.cpp
server behind :class:`~bodhi_nb.testing.fault_proxy.FaultProxy` (errors on demand), and
:class:`~bodhi_nb.testing.echo_llm.EchoLlm` where a test needs each client's own words back
(a small model cannot be relied on to repeat a marker). No timing is asserted.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from llama_fixtures import LlamaServer, _model_path, llama_server  # noqa: F401

from bodhi_nb.app import app, reset_apps
from bodhi_nb.commands import Context, execute, render_error
from bodhi_nb.errors import ServeNeedsAuthError
from bodhi_nb.server import serving
from bodhi_nb.testing.echo_llm import EchoLlm
from bodhi_nb.testing.fault_proxy import FaultProxy
from bodhi_nb.testing.gguf_files import put_in_hf_cache

REPO, FILE = "bodhi-test/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"
ALIAS_LINE = (f"alias create tiny --repo {REPO} --file {FILE} --ctx n_ctx=1024 "
              "-o temperature=0 -o seed=7 -o max_tokens=12")
PROMPT = "What is the capital of France?"
TIMEOUT = 180.0
CLIENTS = 16


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test machine is shared: every llama.cpp server here runs on one thread."""
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")


def history(count: int, limit: int = 50) -> list[Any]:
    """The newest ``limit`` exchanges once at least ``count`` are written: a stream's
    exchange is written just after its response ends."""
    deadline = time.monotonic() + 60
    while True:
        found = app().chat_service().history(limit=limit)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def run(line: str) -> Any:
    return execute(line.split(), Context(prog="%bodhi"), app)


@pytest.fixture
def endpoint(isolated_env: Path) -> Iterator[serving.Endpoint]:
    put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", REPO, FILE, _model_path())
    run(ALIAS_LINE)
    served = serving.serve(app())
    try:
        yield served
    finally:
        serving.stop()
        reset_apps()


def client(endpoint: serving.Endpoint, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=endpoint.url, api_key=key, timeout=TIMEOUT, max_retries=0)


def ask(c: openai.OpenAI, model: str = "tiny", **extra: Any) -> str:
    reply = c.chat.completions.create(model=model, messages=[{"role": "user",
                                                              "content": PROMPT}], **extra)
    return reply.choices[0].message.content or ""


def streamed(c: openai.OpenAI, model: str = "tiny", prompt: str = PROMPT,
             **extra: Any) -> tuple[str, set[str], str | None]:
    """The streamed answer's text, the completion ids its chunks carried, its finish."""
    text, ids, finish = [], set(), None
    with c.chat.completions.create(model=model, stream=True, messages=[
            {"role": "user", "content": prompt}], **extra) as stream:
        for chunk in stream:
            ids.add(chunk.id)
            if chunk.choices:
                text.append(chunk.choices[0].delta.content or "")
                finish = chunk.choices[0].finish_reason or finish
    return "".join(text), ids, finish


# -- local aliases ---------------------------------------------------------------------------


def test_models_chat_and_stream_through_the_openai_sdk(endpoint: serving.Endpoint) -> None:
    c = client(endpoint)
    ids = [m.id for m in c.models.list()]
    assert "tiny" in ids and f"{REPO}:Q4_K_M" in ids  # a user alias and a model alias
    first = ask(c)
    assert first and first == ask(c), "temperature 0 and a seed: the same answer twice"
    text, chunk_ids, finish = streamed(c)
    assert text == first and len(chunk_ids) == 1 and finish in ("stop", "length")
    # the alias's request params apply where the request is silent: max_tokens 12
    longer = ask(c, max_tokens=40)
    assert len(longer) >= len(first)
    logged = history(4, limit=10)
    assert [h.answer for h in logged][-3:] == [text, first, first]
    assert logged[0].alias == "tiny" and logged[-1].prompt == PROMPT
    ask(c, extra_body={"bodhi_no_log": True})
    httpx.post(f"{endpoint.url}/chat/completions", headers={"X-Bodhi-No-Log": "1"},
               json={"model": "tiny", "messages": [{"role": "user", "content": PROMPT}]},
               timeout=TIMEOUT).raise_for_status()
    assert len(app().chat_service().history(limit=10)) == len(logged), "not logged"


def test_embeddings_from_a_local_alias(endpoint: serving.Endpoint) -> None:
    c = client(endpoint)
    floats = c.embeddings.create(model="tiny", input=["hello world", "goodbye"],
                                 encoding_format="float")
    assert [d.index for d in floats.data] == [0, 1]
    one, two = (d.embedding for d in floats.data)
    assert len(one) == len(two) > 100 and all(isinstance(x, float) for x in one)
    assert one != two
    packed = c.embeddings.create(model="tiny", input="hello world")  # the SDK asks base64
    assert packed.data[0].embedding == pytest.approx(one, rel=1e-5, abs=1e-5)
    assert packed.usage.prompt_tokens > 0


def test_errors_come_in_openai_envelopes(endpoint: serving.Endpoint) -> None:
    c = client(endpoint)
    with pytest.raises(openai.NotFoundError) as missing:
        ask(c, model="nope")
    error = missing.value.body
    assert isinstance(error, dict) and error["code"] == "data_service_error-alias_not_found"
    assert error["type"] == "not_found_error" and "nope" in error["message"]
    assert json.loads(error["param"]) == {"alias": "nope"}
    root = endpoint.url.removesuffix("/v1")
    answers = [
        httpx.post(f"{endpoint.url}/chat/completions", content=b"{nope", timeout=30),
        httpx.post(f"{endpoint.url}/chat/completions", json={
            "model": "tiny", "stream": "yes", "messages": []}, timeout=30),
        httpx.post(f"{endpoint.url}/chat/completions", json={
            "model": "tiny", "temperature": 9, "messages": [{"role": "user", "content": "x"}]},
            timeout=30),
        httpx.get(f"{root}/v2/whatever", timeout=30),
        httpx.get(f"{endpoint.url}/chat/completions", timeout=30),
    ]
    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [
        (400, "serve_error-bad_json"), (400, "serve_error-bad_field"),
        (400, "chat_service_error-bad_param"), (404, "serve_error-route_not_found"),
        (405, "serve_error-method_not_allowed")]
    assert httpx.get(f"{root}/health", timeout=30).json() == {"status": "ok"}


def test_sixteen_concurrent_streams_on_one_local_alias(endpoint: serving.Endpoint) -> None:
    c = client(endpoint)
    reference = ask(c, max_tokens=6)
    results: dict[int, tuple[str, set[str], str | None]] = {}
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            results[i] = streamed(c, max_tokens=6, extra_body={"bodhi_no_log": True})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 4)
    assert errors == [] and len(results) == CLIENTS
    all_ids = set()
    for text, ids, finish in results.values():
        assert finish is not None, "every stream ran to its end"
        assert len(ids) == 1, "one completion's chunks only"
        assert text == reference, "no other client's tokens in it"
        all_ids |= ids
    assert len(all_ids) == CLIENTS


# -- API aliases -----------------------------------------------------------------------------


def test_sixteen_concurrent_streams_on_one_api_alias_each_get_their_own(
        endpoint: serving.Endpoint) -> None:
    with EchoLlm(delay=0.01) as echo:
        run(f"api add echo --base-url {echo.base_url} --models echo --prefix e/ --no-api-key")
        c = client(endpoint)
        results: dict[str, tuple[str, set[str], str | None]] = {}
        errors: list[BaseException] = []

        def one(marker: str) -> None:
            try:
                results[marker] = streamed(c, model="e/echo", prompt=marker)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        markers = [f"client {i} marker {uuid.uuid4().hex} over" for i in range(CLIENTS)]
        threads = [threading.Thread(target=one, args=(m,)) for m in markers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert errors == [] and sorted(results) == sorted(markers)
        for marker, (text, ids, finish) in results.items():
            assert text == marker and finish == "stop" and len(ids) == 1
        assert echo.requests == CLIENTS
        assert {h.answer for h in history(CLIENTS)} == set(markers)


def test_api_alias_errors_pass_through_in_openai_shape(
        endpoint: serving.Endpoint, llama_server: LlamaServer,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LLAMA_KEY", llama_server.api_key)
    with FaultProxy(llama_server.url) as proxy:
        run(f"api add loc --base-url {proxy.url}/v1 --prefix loc/ --models "
            f"{llama_server.model_id} --api-key-env TEST_LLAMA_KEY")
        c = client(endpoint)
        model = f"loc/{llama_server.model_id}"
        assert model in [m.id for m in c.models.list()]
        answer = ask(c, model=model, max_tokens=4, temperature=0, seed=1)
        text, _, finish = streamed(c, model=model, max_tokens=4, temperature=0, seed=1)
        assert text == answer and finish is not None
        proxy.fail_next(401, body=b'{"error": {"message": "bad key"}}')
        with pytest.raises(openai.AuthenticationError) as unauthorized:
            ask(c, model=model)
        proxy.fail_next(404)
        with pytest.raises(openai.NotFoundError) as not_found:
            streamed(c, model=model)
        proxy.fail_next(429, headers={"Retry-After": "7"})
        with pytest.raises(openai.RateLimitError) as limited:
            ask(c, model=model)
        codes = [e.value.body["code"] for e in (unauthorized, not_found, limited)]  # type: ignore[index]
        assert codes == ["ai_api_service_error-unauthorized",
                         "ai_api_service_error-model_not_found",
                         "ai_api_service_error-rate_limited"]
        assert limited.value.response.headers["retry-after"] == "7"
        for error in (unauthorized, not_found, limited):
            assert llama_server.api_key not in json.dumps(error.value.body)
        with pytest.raises(openai.BadRequestError) as refused:
            c.embeddings.create(model=model, input="x")
        assert refused.value.body["code"] == "chat_service_error-embeddings_local_only"  # type: ignore[index]


# -- starting and stopping -------------------------------------------------------------------


def test_a_non_loopback_host_without_auth_is_refused(isolated_env: Path) -> None:
    with pytest.raises(ServeNeedsAuthError):
        serving.serve(app(), host="0.0.0.0")
    assert serving.current() is None
    with pytest.raises(ServeNeedsAuthError) as info:
        run("serve --host 0.0.0.0")
    line = render_error(info.value, prog="%bodhi")
    assert line.startswith("error[serve_error-needs_auth]") and "--require-token" in line
    reset_apps()


def test_magic_serve_ps_and_stop(isolated_env: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bodhi_nb")
    try:
        started = shell.run_line_magic("bodhi", "serve")
        url = started.to_json()["url"]
        assert url.startswith("http://127.0.0.1:") and url in started.to_text()
        assert httpx.get(f"{url}/models", timeout=30).json()["object"] == "list"
        capsys.readouterr()
        assert shell.run_line_magic("bodhi", "serve") is None
        assert capsys.readouterr().err.startswith("error[serve_error-already_serving]")
        ps = shell.run_line_magic("bodhi", "ps --json")
        assert ps.to_json()["endpoint"]["url"] == url
        stopped = shell.run_line_magic("bodhi", "serve --stop")
        assert stopped.to_json() == {"stopped": url}
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/models", timeout=5)
        shell.run_line_magic("bodhi", "serve")
        assert serving.current() is not None
    finally:
        shell.run_line_magic("unload_ext", "bodhi_nb")
        InteractiveShell.clear_instance()
    assert serving.current() is None, "unloading the extension stops the endpoint"


def test_cli_serve_runs_in_the_foreground_until_interrupted(
        isolated_env: Path, subprocess_env: dict[str, str]) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "bodhi_nb.cli", "serve"],
                            env=subprocess_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        url = first.split(" at ")[-1].strip()
        assert url.startswith("http://127.0.0.1:"), first
        assert httpx.get(f"{url}/models", timeout=30).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert f"Stopped the endpoint at {url}." in out


# -- tokens ----------------------------------------------------------------------------------


def _token(name: str, scope: str) -> str:
    created = run(f"token create {name} --scope {scope}")
    return str(created.secret)


def _get(url: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(url, headers=headers, timeout=60)


def test_api_tokens_required_revoked_and_scoped(isolated_env: Path) -> None:
    power, user = _token("ci-write", "power_user"), _token("ci-read", "user")
    with EchoLlm() as echo:
        run(f"api add echo --base-url {echo.base_url} --models echo --prefix e/ --no-api-key")
        served = serving.serve(app(), require_token=True)
        try:
            url = served.url
            root = url.removesuffix("/v1")
            downloads = f"{root}/bodhi/v1/downloads"
            missing = _get(f"{url}/models")
            assert missing.status_code == 401
            assert missing.json()["error"]["code"] == "serve_error-token_required"
            assert missing.headers["www-authenticate"] == "Bearer"
            assert _get(f"{root}/health").status_code == 200  # no token needed
            placeholder = _get(f"{url}/models", "sk-no-key-required")
            assert placeholder.json()["error"]["code"] == "serve_error-token_not_accepted"
            broken = _get(f"{url}/models", power[:-1] + ("A" if power[-1] != "A" else "B"))
            assert (broken.status_code, broken.json()["error"]["code"]) == (
                401, "token_error-bad_checksum")
            # a user-scoped token chats, and is refused what needs power_user
            c = client(served, user)
            assert "e/echo" in [m.id for m in c.models.list()]
            assert streamed(c, model="e/echo", prompt="only mine")[0] == "only mine"
            refused = _get(downloads, user)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "auth_error-insufficient_role"
            assert _get(downloads, power).json() == {"object": "list", "data": []}
            run("token revoke ci-read")
            with pytest.raises(openai.AuthenticationError) as revoked:
                c.models.list()
            assert revoked.value.body["code"] == "token_error-revoked"  # type: ignore[index]
            answers = json.dumps([missing.json(), broken.json(), refused.json(),
                                  revoked.value.body])
            assert power not in answers and user not in answers
            assert client(served, power).models.list().data, "the other token still works"
        finally:
            serving.stop()
    for kept in history(1):
        assert user not in json.dumps([kept.prompt, kept.answer])
    reset_apps()


def test_an_open_endpoint_still_refuses_a_revoked_token(isolated_env: Path) -> None:
    token = _token("gone", "user")
    run("token revoke gone")
    served = serving.serve(app())  # loopback, no --require-token: open
    try:
        assert _get(f"{served.url}/models").status_code == 200
        assert _get(f"{served.url}/models", "anything").status_code == 200  # SDK placeholder
        refused = _get(f"{served.url}/models", token)
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            401, "token_error-revoked")
        # with a token, a non-loopback host may be served: every request then needs one
    finally:
        serving.stop()
    wide = serving.serve(app(), host="0.0.0.0", require_token=True)
    try:
        assert wide.require_token and wide.url.startswith("http://127.0.0.1:")
        assert _get(f"{wide.url}/models").status_code == 401
    finally:
        serving.stop()
        reset_apps()


def test_openid_access_tokens_carry_their_role(isolated_env: Path, server: Any) -> None:
    from bodhi_nb.services.oidc_client import OidcClient
    from bodhi_nb.testing.oidc import browser_login

    redirect = "http://127.0.0.1:8123/callback"
    registry = app()
    auth, setting = registry.auth_service(), registry.setting_service()
    auth.setup(server.issuer, "Team notebooks", "tests", [redirect])

    def login(name: str) -> str:
        setting.set("BODHI_PROFILE", name)
        pending = auth.begin_login(redirect)
        user = server.user(name)
        auth.finish_login(pending, browser_login(pending.url, user.username, user.password,
                                                 redirect_uri=redirect))
        return str(auth.access_token())

    admin = login("admin")  # the first login: the admin
    with OidcClient(server.issuer) as oidc:
        oidc.assign_role(admin, server.user("bob").id, "resource_user")
    bob = login("bob")
    served = serving.serve(registry)  # OpenID on: every request needs a token
    try:
        assert served.require_token
        root = served.url.removesuffix("/v1")
        assert _get(f"{served.url}/models").status_code == 401
        assert _get(f"{served.url}/models", bob).status_code == 200
        refused = _get(f"{root}/bodhi/v1/downloads", bob)
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            403, "auth_error-insufficient_role")
        assert _get(f"{root}/bodhi/v1/downloads", admin).status_code == 200
        forged = _get(f"{served.url}/models", bob[:-4] + "AAAA")
        assert forged.status_code == 401
        assert forged.json()["error"]["code"].startswith("auth_error-token_")
    finally:
        serving.stop()
        reset_apps()


def test_the_server_is_a_front_end_over_the_services() -> None:
    """DESIGN.md's layers: bodhi_nb/server calls services, never the store or httpx."""
    import ast

    import bodhi_nb.server

    imported: set[str] = set()
    for path in Path(bodhi_nb.server.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    assert {m for m in imported if m.split(".")[0] in ("httpx", "duckdb", "psycopg")
            or m.startswith("bodhi_nb.store")} == set()
    assert "bodhi_nb.services.chat" in imported  # it does reach the services
