"""AiApiService and the ``api`` command, against a real llama.cpp server.

The server is ``llama_cpp.server`` serving Gemma 3 270M (``llama_fixtures``), started once per
session with an API key. What a real server cannot do on demand (answer 429, cut a stream,
send garbage) goes through :class:`~bodhi_nb.testing.fault_proxy.FaultProxy` in front of it.

What llama_cpp.server 0.3.36 answers, as these tests pin down:

* a wrong or missing key: ``401 {"detail": "Invalid API key"}`` on every /v1 route;
* an unknown model name: nothing special: a single-model server ignores ``model`` and answers
  with its model (so a 404 is tested on a path that really is missing, and through the proxy
  with OpenAI's ``model_not_found`` body);
* a prompt longer than ``n_ctx``: ``400`` with code ``context_length_exceeded`` ("This
  model's maximum context length is 2048 tokens...") without streaming; with streaming it
  answers 200, sends an empty body and closes the connection a moment later (a request
  sent at once on that pooled connection gets "connection reset").
"""

from __future__ import annotations

import getpass
import json
import logging
import secrets
import socket
from pathlib import Path
from typing import Any

import pytest
from _backends import both_backends
from IPython.core.interactiveshell import InteractiveShell
from llama_fixtures import LlamaServer, llama_server  # noqa: F401 - a fixture

from bodhi_nb.app import app, reset_apps
from bodhi_nb.cli import main
from bodhi_nb.errors import (
    AiAliasExistsError,
    AiAliasNotFoundError,
    AiModelNotFoundError,
    AiRateLimitedError,
    AiUnauthorizedError,
    AiUnreachableError,
    BadResponseError,
    BodhiError,
    ContextTooLongError,
    EndpointNotFoundError,
    InvalidBaseUrlError,
    InvalidValueError,
    PrefixExistsError,
    StreamInterruptedError,
    UpstreamFailedError,
)
from bodhi_nb.objs import AliasSource, ApiAlias, ChatTarget
from bodhi_nb.services.ai_api import AiApiService, ChatDelta, check_base_url
from bodhi_nb.testing.fault_proxy import FaultProxy

MASTER_KEY = "bodhi-test-master-key-" + "x" * 24
PROMPT = [{"role": "user", "content": "Q: What is the capital of France? A:"}]


@pytest.fixture(autouse=True)
def master_key(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One master key for the module: the 600,000-iteration KEK is derived once per process.
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", MASTER_KEY)


@pytest.fixture
def service(app: Any) -> AiApiService:
    svc: AiApiService = app.ai_api_service()
    return svc


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _text(deltas: list[ChatDelta]) -> str:
    return "".join(d.text for d in deltas)


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


# -- alias storage (no server needed) -------------------------------------------------------


@both_backends
def test_add_list_get_remove_with_the_key_sealed(service: AiApiService, app: Any,
                                                 isolated_env: Path) -> None:
    key = "sk-stored-" + secrets.token_hex(12)
    added = service.add_api_alias(ApiAlias("openai", "https://api.example.com/v1/",
                                           models=("gpt-4o", "gpt-4o-mini"),
                                           prefix="openai/"), key)
    assert added.base_url == "https://api.example.com/v1"  # trailing slash dropped
    assert added.has_api_key and added.created_at is not None
    assert service.add_api_alias(ApiAlias("local", "http://127.0.0.1:1/v1", models=("m",)),
                                 None).has_api_key is False
    assert [(a.id, a.has_api_key) for a in service.list_api_aliases()] == [
        ("local", False), ("openai", True)]
    assert service.get_api_alias("openai").models == ("gpt-4o", "gpt-4o-mini")
    stored = service.api_key("openai")
    assert stored == key and key not in repr(stored)
    assert service.api_key("local") is None

    db = app.db_service().store
    row = db.execute("SELECT id, encrypted_api_key FROM api_model_aliases WHERE name = ?",
                     ["openai"])[0]
    assert row[1] is None  # the key lives in `secrets`, sealed, under an internal name
    sealed = db.execute("SELECT value FROM secrets WHERE name = ?",
                        [f"bodhi:api_key:{row[0]}"])[0][0]
    assert sealed.startswith("v2") and key not in sealed
    assert app.secret_service().list_secrets() == []  # internal: not a user secret

    removed = service.remove_api_alias("openai")
    assert removed.id == "openai"
    with pytest.raises(AiAliasNotFoundError):
        service.get_api_alias("openai")
    with pytest.raises(AiAliasNotFoundError):
        service.api_key("openai")
    assert db.execute("SELECT count(*) FROM secrets WHERE name LIKE 'bodhi:api_key:%'") == [
        (0,)]
    app.close()
    for path in _files_under(isolated_env):
        assert key.encode() not in path.read_bytes(), path


@both_backends
def test_names_and_non_empty_prefixes_are_unique(service: AiApiService) -> None:
    service.add_api_alias(ApiAlias("a", "http://h/v1", models=("m",), prefix="p/"), None)
    with pytest.raises(AiAliasExistsError) as exists:
        service.add_api_alias(ApiAlias("a", "http://other/v1", models=("m",)), None)
    assert exists.value.code == "ai_api_service_error-alias_exists"
    with pytest.raises(PrefixExistsError) as taken:
        service.add_api_alias(ApiAlias("b", "http://h/v1", models=("m",), prefix="p/"), None)
    assert taken.value.params == {"prefix": "p/", "alias": "a"}
    # Without a prefix (or with an empty one) any number of aliases coexist.
    service.add_api_alias(ApiAlias("c", "http://h/v1", models=("m",), prefix=""), None)
    service.add_api_alias(ApiAlias("d", "http://h/v1", models=("m",)), None)
    assert [a.id for a in service.list_api_aliases()] == ["a", "c", "d"]
    # Code point order on every backend (a team server's collation would put "B" after "a").
    service.add_api_alias(ApiAlias("B", "http://h/v1", models=("m",)), None)
    service.add_api_alias(ApiAlias("Z", "http://h/v1", models=("m",)), None)
    assert [a.id for a in service.list_api_aliases()] == ["B", "Z", "a", "c", "d"]
    with pytest.raises(InvalidValueError):
        service.add_api_alias(ApiAlias("e", "http://h/v1", forward_all_with_prefix=True), None)


def test_hosts_adding_the_same_names_at_once_never_race(pg_url: str, tmp_path: Path) -> None:
    """Four registries (four hosts' kernels) on one PostgreSQL add the same aliases and
    prefixes at once: each name is added exactly once, every other caller gets the
    service's own error (never a raw constraint error), and no prefix is shared."""
    import threading

    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    registries = [build_app_service(SettingService(overrides={
        "BODHI_HOME": str(tmp_path / f"host{i}"), "BODHI_DATABASE_URL": pg_url}))
        for i in range(4)]
    names = [f"team-{n}" for n in range(12)]
    start = threading.Barrier(len(registries))
    outcomes: list[tuple[str, str]] = []

    def add_all(registry: Any) -> None:
        service = registry.ai_api_service()
        service.list_api_aliases()  # connected and migrated before the race starts
        start.wait()
        for i, name in enumerate(names):
            alias = ApiAlias(name, "http://h/v1", models=("m",), prefix=f"p{i % 6}/")
            try:
                service.add_api_alias(alias, None)
                outcomes.append((name, "added"))
            except (AiAliasExistsError, PrefixExistsError) as exc:
                outcomes.append((name, exc.code))

    threads = [threading.Thread(target=add_all, args=(r,)) for r in registries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert len(outcomes) == len(names) * len(registries)  # no thread died on an error
        listed = registries[0].ai_api_service().list_api_aliases()
        prefixes = [a.prefix for a in listed]
        assert len(prefixes) == len(set(prefixes)) == 6  # p0/..p5/, each on one alias
        added = sorted(n for n, what in outcomes if what == "added")
        assert added == sorted(a.id for a in listed)
        assert {what for _, what in outcomes} <= {
            "added", "ai_api_service_error-alias_exists",
            "ai_api_service_error-prefix_exists"}
    finally:
        for registry in registries:
            registry.close()


@pytest.mark.parametrize("url, shown", [
    ("ftp://example.com/v1", "ftp://example.com/v1"),
    ("https://user:sk-in-url@example.com/v1", "https://***@example.com"),
    ("https://example.com/v1?key=sk-in-query", "https://example.com/v1"),
    ("https:///v1", "https:///v1"),
    ("http://example.com:port/v1", "http://example.com:port/v1"),
])
def test_base_url_must_be_plain_http(url: str, shown: str) -> None:
    with pytest.raises(InvalidBaseUrlError) as caught:
        check_base_url(url)
    assert caught.value.params["url"] == shown
    assert "sk-in" not in str(caught.value)


@both_backends
def test_resolve_matches_and_strips_the_prefix(service: AiApiService, app: Any) -> None:
    key = "sk-resolve-" + secrets.token_hex(8)
    service.add_api_alias(ApiAlias("openai", "https://api.example.com/v1",
                                   models=("gpt-4o",), prefix="openai/"), key)
    service.add_api_alias(ApiAlias("router", "https://router.example.com/v1",
                                   prefix="fw/", forward_all_with_prefix=True), None)
    service.add_api_alias(ApiAlias("plain", "http://127.0.0.1:9/v1", models=("m1", "m2")),
                          None)

    target = service.resolve("openai/gpt-4o")
    assert target == ChatTarget("https://api.example.com/v1", "gpt-4o", "openai",
                                AliasSource.API, api_key=key, timeout=service.read_timeout)
    assert key not in repr(target) and "'***'" in repr(target)
    assert service.resolve("gpt-4o") is None  # listed only under its prefix
    assert service.resolve("openai/gpt-3") is None
    forwarded = service.resolve("fw/anything/at-all")
    assert forwarded is not None and forwarded.model == "anything/at-all"
    assert forwarded.api_key is None
    assert service.resolve("fw") is None
    plain = service.resolve("m2")
    assert plain is not None and (plain.alias, plain.model) == ("plain", "m2")
    by_name = service.resolve("plain")  # the alias's own name: its first model
    assert by_name is not None and by_name.model == "m1"
    # The registry hands DataService the same aliases (find_alias order: ... > api).
    found = app.data_service().find_alias("openai/gpt-4o")
    assert isinstance(found, ApiAlias) and found.id == "openai"


@both_backends
def test_api_keys_survive_a_master_key_rotation(isolated_env: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from _secret_support import services

    from bodhi_nb.services.time import FrozenTimeService

    monkeypatch.delenv("BODHI_ENCRYPTION_KEY")  # rotation needs a key bodhi may replace
    isolated_env.mkdir(parents=True, exist_ok=True)
    clock = FrozenTimeService()
    db, _keyring, secret, _session = services(isolated_env, time=clock)
    from bodhi_nb.store import API_KEY_PREFIX
    from bodhi_nb.store.api_aliases import ApiAliasesTable

    service = AiApiService(ApiAliasesTable(db, key_prefix=API_KEY_PREFIX), secret, clock)
    key = "sk-rotate-" + secrets.token_hex(8)
    service.add_api_alias(ApiAlias("a", "http://h/v1", models=("m",)), key)
    before = db.execute("SELECT value FROM secrets WHERE name LIKE 'bodhi:api_key:%'")
    rotation = secret.rotate_key()
    assert rotation.rows >= 2  # the key check and the API key were re-sealed
    after = db.execute("SELECT value FROM secrets WHERE name LIKE 'bodhi:api_key:%'")
    assert len(after) == 1 and before != after
    assert service.api_key("a") == key
    db.close()


def test_unreachable_server(service: AiApiService) -> None:
    port = _closed_port()
    key = "sk-unreach-" + secrets.token_hex(8)
    service.add_api_alias(ApiAlias("down", f"http://127.0.0.1:{port}/v1", models=("m",)), key)
    with pytest.raises(AiUnreachableError) as caught:
        service.test_api_key("down")
    assert caught.value.code == "ai_api_service_error-unreachable"
    assert caught.value.params["url"] == f"http://127.0.0.1:{port}/v1"
    target = service.target("down")
    with pytest.raises(AiUnreachableError):
        list(service.stream_chat_completion(target, {"messages": PROMPT}))
    assert key not in f"{caught.value} {caught.value!r} {caught.value.params}"
    service.close()


def test_injected_answers_map_to_their_errors(service: AiApiService) -> None:
    """Statuses and bodies only a misbehaving server sends: the proxy answers them itself
    (its upstream is a closed port and is never contacted)."""
    with FaultProxy(f"http://127.0.0.1:{_closed_port()}") as proxy:
        target = ChatTarget(f"{proxy.url}/v1", "m", "flaky", AliasSource.API, api_key="sk-x1")
        body = {"messages": PROMPT, "max_tokens": 4}
        proxy.fail_next(500)
        with pytest.raises(UpstreamFailedError) as failed:
            service.chat_completion(target, body)
        assert failed.value.params["status"] == "500"
        proxy.fail_next(200, body="<html>not json</html>", headers={"Content-Type":
                                                                    "text/html"})
        with pytest.raises(BadResponseError) as bad:
            service.chat_completion(target, body)
        assert "not JSON" in bad.value.params["reason"]
        proxy.fail_next(404, body={"error": {"message": "The model `m` does not exist",
                                             "code": "model_not_found"}})
        with pytest.raises(AiModelNotFoundError) as missing:
            service.chat_completion(target, body)
        assert missing.value.params == {"alias": "flaky", "model": "m"}
        proxy.fail_next(429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})
        with pytest.raises(AiRateLimitedError) as limited:
            service.chat_completion(target, body)
        assert int(limited.value.params["retry_after"]) > 0
        # A stream that stops without [DONE] and without a finish reason was cut short.
        proxy.fail_next(200, headers={"Content-Type": "text/event-stream"},
                        body='data: {"choices": [{"delta": {"content": "Hi"}}]}\n\n')
        got: list[ChatDelta] = []
        with pytest.raises(StreamInterruptedError) as cut:
            for delta in service.stream_chat_completion(target, body):
                got.append(delta)
        assert _text(got) == "Hi" and cut.value.params["received"] == "2"
        assert [e.fault for e in proxy.log] == ["status"] * 5


def test_api_command_refuses_keys_on_the_command_line(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    leaked = "sk-typed-" + secrets.token_hex(10)
    asked: list[str] = []

    def fake_getpass(prompt: str = "", stream: object = None) -> str:
        asked.append(prompt)
        return ""

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    base = ["api", "add", "x", "--base-url", "http://127.0.0.1:9/v1", "--models", "m"]
    assert main([*base, leaked]) == 1
    assert main([*base, "--api-key", leaked]) == 1
    assert main([*base, f"--api-key={leaked}"]) == 1
    assert main(["api", leaked]) == 2
    assert main(["api", "ls", leaked]) == 1
    assert main([*base, "--verbose"]) == 2  # an unknown flag is named: it holds no key
    out, err = capsys.readouterr()
    assert leaked not in out + err
    assert err.count("error[ai_api_service_error-api_key_on_command_line]") == 4
    assert "never taken on the command line" in err and "bodhi api add x" in err
    assert "unknown option(s) --verbose" in err
    assert asked == []  # refused before any prompt
    assert app().ai_api_service().list_api_aliases() == []


def test_api_add_needs_a_prompt_or_an_env_var(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    base = ["api", "add", "x", "--base-url", "http://127.0.0.1:9/v1", "--models", "m"]
    assert main([*base, "--api-key-env", "BODHI_TEST_NO_SUCH_VAR"]) == 1

    def closed(prompt: str = "", stream: object = None) -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", closed)
    assert main(base) == 1
    assert main(["api", "add", "y", "--base-url", "file:///etc/passwd", "--models", "m"]) == 1
    err = capsys.readouterr().err
    assert "error[ai_api_service_error-api_key_env_missing]" in err
    assert "BODHI_TEST_NO_SUCH_VAR" in err
    assert "error[ai_api_service_error-api_key_no_prompt]" in err
    assert "error[ai_api_service_error-invalid_base_url]" in err
    assert main([*base, "--no-api-key", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "x" and data["has_api_key"] is False


# -- against the real llama.cpp server --------------------------------------------------------


@pytest.fixture
def gemma(service: AiApiService, llama_server: LlamaServer) -> ApiAlias:  # noqa: F811
    return service.add_api_alias(ApiAlias("gemma", llama_server.base_url,
                                          models=(llama_server.model_id,), prefix="g/"),
                                 llama_server.api_key)


def test_right_key_lists_models_and_chats(service: AiApiService, gemma: ApiAlias,
                                          llama_server: LlamaServer) -> None:  # noqa: F811
    assert service.test_api_key("gemma") == [llama_server.model_id]
    assert service.fetch_models("gemma") == [llama_server.model_id]
    target = service.resolve(f"g/{llama_server.model_id}")
    assert target is not None and target.model == llama_server.model_id
    body = {"messages": PROMPT, "max_tokens": 12, "temperature": 0, "seed": 42}
    first = service.chat_completion(target, body)
    second = service.chat_completion(target, body)
    assert first["object"] == "chat.completion"
    assert first["usage"]["completion_tokens"] > 0
    texts = [r["choices"][0]["message"]["content"] for r in (first, second)]
    assert texts[0] == texts[1]  # temperature 0 and a fixed seed: the same answer
    assert isinstance(service.test_model("gemma"), str)


def test_streaming_is_parsed_and_deterministic(service: AiApiService, gemma: ApiAlias,
                                               llama_server: LlamaServer) -> None:  # noqa: F811
    target = service.target("gemma", f"g/{llama_server.model_id}")
    body = {"messages": PROMPT, "max_tokens": 12, "temperature": 0, "seed": 42}
    runs = [list(service.stream_chat_completion(target, body)) for _ in range(2)]
    for deltas in runs:
        assert all(isinstance(d, ChatDelta) for d in deltas)
        assert deltas[-1].finish_reason in ("length", "stop")
        assert sum(d.finish_reason is not None for d in deltas) == 1
        assert len(deltas) >= 2 and _text(deltas)
        assert {d.model for d in deltas} == {llama_server.model_id}
    assert _text(runs[0]) == _text(runs[1])
    # Stopping early closes the response; the service stays usable.
    stream = service.stream_chat_completion(target, body)
    assert isinstance(next(stream), ChatDelta)
    stream.close()
    response = service.forward_chat_completion(target, {**body, "stream": True})
    try:
        raw = b"".join(response.iter_bytes())
    finally:
        response.close()
    assert response.status_code == 200 and raw.rstrip().endswith(b"data: [DONE]")


def test_wrong_key_is_unauthorized(service: AiApiService,
                                   llama_server: LlamaServer) -> None:  # noqa: F811
    wrong = "sk-wrong-" + secrets.token_hex(12)
    service.add_api_alias(ApiAlias("bad", llama_server.base_url,
                                   models=(llama_server.model_id,)), wrong)
    service.add_api_alias(ApiAlias("nokey", llama_server.base_url,
                                   models=(llama_server.model_id,), prefix="n/"), None)
    for alias in ("bad", "nokey"):
        with pytest.raises(AiUnauthorizedError) as caught:
            service.test_api_key(alias)
        assert caught.value.code == "ai_api_service_error-unauthorized"
        assert caught.value.params == {"alias": alias, "status": "401"}
        assert caught.value.status == 401
    with pytest.raises(AiUnauthorizedError) as chat:
        service.chat_completion(service.target("bad"), {"messages": PROMPT, "max_tokens": 4})
    assert wrong not in f"{chat.value} {chat.value!r}"
    with pytest.raises(AiUnauthorizedError):
        list(service.stream_chat_completion(service.target("bad"),
                                            {"messages": PROMPT, "max_tokens": 4}))


def test_unknown_model_and_missing_paths(service: AiApiService, gemma: ApiAlias,
                                         llama_server: LlamaServer) -> None:  # noqa: F811
    # llama_cpp.server (one model) ignores the model name: no 404 from it for a model.
    target = service.target("gemma", "g/no-such-model")
    assert target.model == "no-such-model"
    reply = service.chat_completion(target, {"messages": PROMPT, "max_tokens": 4})
    assert reply["choices"]
    # A path the server really does not have: 404 -> model not found / endpoint not found.
    service.add_api_alias(ApiAlias("wrongpath", f"{llama_server.url}/nope/v1",
                                   models=("gemma",)), llama_server.api_key)
    with pytest.raises(AiModelNotFoundError) as missing:
        service.chat_completion(service.target("wrongpath"),
                                {"messages": PROMPT, "max_tokens": 4})
    assert missing.value.code == "ai_api_service_error-model_not_found"
    assert missing.value.params == {"alias": "wrongpath", "model": "gemma"}
    with pytest.raises(EndpointNotFoundError):
        service.fetch_models("wrongpath")


def test_context_too_long(service: AiApiService, gemma: ApiAlias) -> None:
    target = service.target("gemma")
    long_prompt = [{"role": "user", "content": "hello " * 2100}]  # > n_ctx 2048 tokens
    with pytest.raises(ContextTooLongError) as caught:
        service.chat_completion(target, {"messages": long_prompt, "max_tokens": 4})
    assert caught.value.code == "ai_api_service_error-context_too_long"
    assert "maximum context length is 2048" in caught.value.params["reason"]
    assert caught.value.status == 400
    # Streaming: llama_cpp.server answers 200, sends no event, ends the body and closes the
    # connection. The service asks again without streaming (one token) to name the cause,
    # and never reuses that connection: the next request right after it works.
    with pytest.raises(ContextTooLongError) as streamed:
        list(service.stream_chat_completion(target, {"messages": long_prompt,
                                                     "max_tokens": 4}))
    assert streamed.value.params["model"] == target.model
    assert service.chat_completion(target, {"messages": PROMPT, "max_tokens": 2})["choices"]
    assert service.fetch_models("gemma") == [target.model]


def test_rate_limit_and_dropped_stream_through_the_fault_proxy(
        service: AiApiService, llama_server: LlamaServer) -> None:  # noqa: F811
    with FaultProxy(llama_server.url) as proxy:
        service.add_api_alias(ApiAlias("proxied", f"{proxy.url}/v1",
                                       models=(llama_server.model_id,)),
                              llama_server.api_key)
        target = service.target("proxied")
        body = {"messages": PROMPT, "max_tokens": 16, "temperature": 0, "seed": 42}

        proxy.fail_next(429, headers={"Retry-After": "7"}, path="/chat/completions")
        with pytest.raises(AiRateLimitedError) as limited:
            service.chat_completion(target, body)
        assert limited.value.code == "ai_api_service_error-rate_limited"
        assert limited.value.params["retry_after"] == "7"
        assert service.chat_completion(target, body)["choices"]  # passes through again

        proxy.drop_after(600, path="/chat/completions")
        got: list[ChatDelta] = []
        with pytest.raises(StreamInterruptedError) as cut:
            for delta in service.stream_chat_completion(target, body):
                got.append(delta)
        assert cut.value.code == "ai_api_service_error-stream_interrupted"
        assert got and all(d.finish_reason is None for d in got)
        assert cut.value.params["received"] == str(len(_text(got)))
        assert [(e.status, e.fault) for e in proxy.log] == [
            (429, "status"), (200, None), (200, "drop")]
        assert proxy.log[-1].sent == 600

        # A strict server refusing stream_options: asked once more without it, remembered.
        proxy.fail_next(400, body={"error": {"message": "Unrecognized request argument "
                                                        "supplied: stream_options"}})
        assert list(service.stream_chat_completion(target, body))[-1].finish_reason
        assert list(service.stream_chat_completion(target, body))[-1].finish_reason
        assert [e.status for e in proxy.log[3:]] == [400, 200, 200]


# -- the api command through the magic and the CLI, and nothing leaks --------------------------


def test_magic_api_commands_never_leak_the_key(
        shell: InteractiveShell, llama_server: LlamaServer,  # noqa: F811
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = llama_server.api_key
    wrong = "sk-wrong-" + secrets.token_hex(12)
    answers = [key, wrong]
    asked: list[str] = []

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        asked.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    base = llama_server.base_url
    lines = [
        f"api add gemma --base-url {base} --prefix g/",      # models fetched with the key
        "api ls",
        "api ls --json",
        "api test gemma",
        f"api add other --base-url {base} {key}",            # refused: a key as a word
        f"api add other --base-url {base} --api-key {key}",  # refused
        f"api {key}",                                        # not an action: not echoed
        f"api add bad --base-url {base} --models {llama_server.model_id}",
        "api test bad",                                      # 401
        "status",
    ]
    results = [shell.run_cell(f"%bodhi {line}") for line in lines]
    out, err = capsys.readouterr()
    assert asked == ["API key for gemma: ", "API key for bad: "]
    assert "Added API alias gemma" in out and "1 model(s) listed by the server" in out
    listing = results[2].result.to_json()
    assert [(r["name"], r["has_api_key"]) for r in listing] == [("gemma", True)]
    assert listing[0]["models"] == llama_server.model_id and listing[0]["prefix"] == "g/"
    assert "API alias gemma: OK" in out
    assert err.count("error[ai_api_service_error-api_key_on_command_line]") == 2
    assert "error[ai_api_service_error-unauthorized]" in err
    assert "`%bodhi api set-key bad`" in err

    service = app().ai_api_service()
    target = service.resolve(f"g/{llama_server.model_id}")
    assert target is not None and target.api_key == key  # stored and usable
    streamed = list(service.stream_chat_completion(target, {"messages": PROMPT,
                                                            "max_tokens": 4}))
    errors: list[BodhiError] = []
    try:
        service.chat_completion(service.target("bad"), {"messages": PROMPT, "max_tokens": 4})
    except BodhiError as exc:
        errors.append(exc)
    assert shell.run_cell("%bodhi api rm bad").result is not None

    for secret in (key, wrong):
        assert secret not in out and secret not in err
        for output in shell.user_ns["Out"].values():
            assert secret not in repr(output)
            assert all(secret not in str(v) for v in output._repr_mimebundle_().values())
        for result in results:
            for raised in (result.error_before_exec, result.error_in_exec):
                assert raised is None or secret not in f"{raised!r} {raised}"
        for error in errors:
            assert secret not in f"{error!r} {error} {error.__cause__!r} {error.__context__!r}"
        assert secret not in repr(target) + repr(service) + repr(streamed)
        for record in caplog.records:
            assert secret not in record.getMessage()
            assert secret not in repr(record.args)
            assert secret not in (record.exc_text or "")
    assert errors and errors[0].code == "ai_api_service_error-unauthorized"

    reset_apps()  # close the database so everything is on disk
    files = _files_under(isolated_env)
    assert any(p.name == "bodhi.duckdb" for p in files)
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data and wrong.encode() not in data, path


@both_backends
def test_cli_api_add_ls_test_rm(llama_server: LlamaServer,  # noqa: F811
                                monkeypatch: pytest.MonkeyPatch, isolated_env: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BODHI_TEST_LLAMA_KEY", llama_server.api_key)
    assert main(["api", "add", "cli", "--base-url", llama_server.base_url, "--models",
                 llama_server.model_id, "--prefix", "cli/",
                 "--api-key-env", "BODHI_TEST_LLAMA_KEY"]) == 0
    assert main(["api", "ls", "--json"]) == 0
    captured = capsys.readouterr()
    listing = json.loads(captured.out[captured.out.index("["):])
    assert listing[0]["name"] == "cli" and listing[0]["has_api_key"] is True
    assert main(["api", "test", "cli", "--model", f"cli/{llama_server.model_id}",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["key_accepted"] is True and report["models"] == [llama_server.model_id]
    assert isinstance(report["reply"], str)
    assert main(["api", "add", "cli", "--base-url", llama_server.base_url,
                 "--no-api-key"]) == 1
    assert main(["api", "rm", "cli"]) == 0
    assert main(["api", "rm", "cli"]) == 1
    out, err = capsys.readouterr()
    assert "Removed API alias cli" in out
    assert "error[ai_api_service_error-alias_exists]" in err
    assert "error[ai_api_service_error-alias_not_found]" in err and "bodhi api ls" in err
    assert llama_server.api_key not in out + err


def test_api_add_over_plain_http_to_another_host_warns(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_TEST_KEY", "sk-test-" + "k" * 30)
    common = ["--models", "m", "--api-key-env", "BODHI_TEST_KEY"]
    assert main(["api", "add", "far", "--base-url", "http://10.9.8.7:8080/v1", *common]) == 0
    far = capsys.readouterr().out
    assert "will travel in clear" in far
    for name, url in (("near", "http://127.0.0.1:9/v1"), ("lh", "http://localhost:9/v1"),
                      ("tls", "https://10.9.8.7/v1")):
        assert main(["api", "add", name, "--base-url", url, *common]) == 0
        assert "in clear" not in capsys.readouterr().out, url
