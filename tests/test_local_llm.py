"""LocalLlmService: argument merging, runtime choice, and the server's whole life.

Two peers run here. Upstream's ``llama-server`` is not installable on this platform, so its
code path runs against ``tests/local_llm_child.py fake-server`` (a stdlib stand-in speaking
its flags and health route). Everything else runs the real ``python -m llama_cpp.server``
with the real Gemma 3 270M GGUF; like every llama.cpp test here they fail, not skip, when
``bodhi_nb[local]`` or the model package is missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bodhi_nb.app import build_app_service
from bodhi_nb.commands import Context, execute, render_error
from bodhi_nb.errors import (
    InvalidServerArgsError,
    ModelFileMissingError,
    RuntimeMissingError,
    ServerBinaryNotFoundError,
    StartFailedError,
)
from bodhi_nb.objs import AliasSource, UserAlias
from bodhi_nb.services.local_llm import (
    FORCE_PYTHON_RUNTIME,
    LocalLlmService,
    Runtime,
    RuntimeKind,
    free_port,
    merge_args,
    parse_args,
    resolve_runtime,
    server_args,
    server_argv,
)
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import DefaultTimeService, FrozenTimeService

CHILD = Path(__file__).with_name("local_llm_child.py")
PY = Runtime(RuntimeKind.LLAMA_CPP_PYTHON, ("python", "-m", "llama_cpp.server"))
BIN = Runtime(RuntimeKind.LLAMA_SERVER, ("/opt/llama-server",))


def alive(pid: int) -> bool:
    """Running (a zombie nobody has reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_until(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def get_json(url: str, key: str | None = None) -> object:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def executable(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


# -- arguments ------------------------------------------------------------------------------


def test_parse_accepts_spaces_equals_synonyms_and_negative_values() -> None:
    assert parse_args(["-c", "4096", "--n_threads=3", "--flash-attn", "--seed", "-1",
                       "--tensor_split", "0.5", "0.5"]) == [
        ("--ctx-size", ("4096",)), ("--threads", ("3",)), ("--flash-attn", ()),
        ("--seed", ("-1",)), ("--tensor-split", ("0.5", "0.5"))]
    with pytest.raises(InvalidServerArgsError):
        parse_args(["4096"])


def test_later_layers_win_per_flag_and_managed_flags_are_ours(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    args = server_args(PY.kind, "my-model",
                       settings_args="--ctx-size 1024 -t 3 --port 1 --verbose false",
                       context_params=("-c 512", "--chat-template gemma", "--no-jinja",
                                       "--model /elsewhere.gguf"), threads=2)
    argv = server_argv(PY, args, model, "my-model", 4242)
    assert argv[:3] == ["python", "-m", "llama_cpp.server"]
    text = " ".join(argv)
    # defaults (threads 2, ctx 2048) < settings (ctx 1024, threads 3) < alias (ctx 512)
    assert "--n_threads 3" in text and "--n_ctx 512" in text and "2048" not in text
    assert argv[3:] == ["--logits_all", "false", "--interrupt_requests", "false",
                        "--embedding", "true", "--n_threads", "3", "--verbose", "false",
                        "--n_ctx", "512", "--chat_format", "gemma",  # --no-jinja: dropped
                        "--model", str(model), "--host", "127.0.0.1", "--port", "4242",
                        "--model_alias", "my-model"]
    assert "/elsewhere.gguf" not in text and "--port 1 " not in text
    upstream = server_argv(BIN, server_args(BIN.kind, "my-model", context_params=(
        "--n_ctx 4096", "--no-jinja", "--chat-template gemma"), threads=2),
        model, "my-model", 4242)
    assert upstream == ["/opt/llama-server", "--threads", "2", "--embeddings",
                        "--ctx-size", "4096",
                        "--no-jinja", "--chat-template", "gemma", "--model", str(model),
                        "--host", "127.0.0.1", "--port", "4242", "--alias", "my-model"]


def test_merge_moves_a_flag_set_again_to_its_latest_place() -> None:
    assert list(merge_args([("--a", ("1",)), ("--b", ())], [("--a", ("2",))]).items()) == [
        ("--b", ()), ("--a", ("2",))]


def test_bad_quoting_in_the_setting_names_its_source() -> None:
    with pytest.raises(InvalidServerArgsError) as info:
        server_args(PY.kind, "a", settings_args="--chat-template 'gemma")
    assert info.value.params["source"] == "BODHI_LLAMACPP_ARGS"


def test_free_port_is_bindable_on_loopback() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
    assert 0 < port < 65536


# -- runtime choice -------------------------------------------------------------------------


def test_runtime_choice(tmp_path: Path) -> None:
    binary = executable(tmp_path / "llama-server", "exit 0")
    assert resolve_runtime(str(binary)) == Runtime(RuntimeKind.LLAMA_SERVER, (str(binary),))
    assert resolve_runtime("", which=lambda name: str(binary)).kind is RuntimeKind.LLAMA_SERVER
    forced = resolve_runtime(FORCE_PYTHON_RUNTIME, python="/x/python",
                             which=lambda name: str(binary))
    assert forced.program == ("/x/python", "-m", "llama_cpp.server")
    with pytest.raises(ServerBinaryNotFoundError) as info:
        resolve_runtime(str(tmp_path / "nope"))
    assert info.value.params == {"path": str(tmp_path / "nope")}
    assert "bodhi_nb[local]" in render_error(info.value)


def test_python_without_llama_cpp_is_runtime_missing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # An interpreter without site-packages: the module is missing, found out by starting it.
    bare = executable(tmp_path / "python", f'exec "{sys.executable}" -I -S "$@"')
    monkeypatch.setenv("BODHI_LLAMA_SERVER", FORCE_PYTHON_RUNTIME)
    service = LocalLlmService(SettingService(), DefaultTimeService(), python=str(bare))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(RuntimeMissingError) as info:
        service.target_for(UserAlias("a", "test/a", "m.gguf"), model)
    assert info.value.params["module"] == "llama_cpp"
    assert service.running() == []
    assert "pip install 'bodhi_nb[local]'" in render_error(info.value, prog="%bodhi")


def test_missing_model_file(tmp_path: Path) -> None:
    service = LocalLlmService(SettingService(), FrozenTimeService())
    with pytest.raises(ModelFileMissingError) as info:
        service.target_for(UserAlias("a", "test/a", "m.gguf"), tmp_path / "m.gguf")
    assert info.value.params == {"alias": "a", "path": str(tmp_path / "m.gguf")}


# -- lifecycle against the llama-server stand-in ---------------------------------------------


@pytest.fixture
def fake_model(tmp_path: Path) -> Path:
    path = tmp_path / "fake-Q4_K_M.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    return path


@pytest.fixture
def fake_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "bin").mkdir()
    binary = executable(tmp_path / "bin" / "llama-server",
                        f'exec "{sys.executable}" "{CHILD}" fake-server "$@"')
    monkeypatch.setenv("BODHI_LLAMA_SERVER", str(binary))
    return binary


def test_fake_llama_server_args_reuse_and_frozen_keep_alive(
        fake_server: Path, fake_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--ctx-size 1024 -t 3")
    monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "300")
    clock = FrozenTimeService()
    service = LocalLlmService(SettingService(), clock, poll_interval=0.05)
    alias = UserAlias("fake", "test/fake", fake_model.name, context_params=("-c 512",
                                                                            "--flash-attn"),
                      source=AliasSource.MODEL)
    try:
        target = service.target_for(alias, fake_model)
        assert target.base_url.startswith("http://127.0.0.1:") and target.base_url.endswith("/v1")
        assert (target.model, target.alias, target.source) == ("fake", "fake", AliasSource.MODEL)
        root = target.base_url.removesuffix("/v1")
        with pytest.raises(urllib.error.HTTPError, match="401"):
            get_json(f"{root}/argv")  # the port is open to every local user; the key is not
        assert target.api_key and "***" in repr(target)
        argv = get_json(f"{root}/argv", target.api_key)
        assert isinstance(argv, list) and target.api_key not in " ".join(argv)
        assert " ".join(argv[1:]).startswith(
            "--embeddings --threads 3 --ctx-size 512 --flash-attn --model ")
        [info] = service.running()
        assert (info.alias, info.state, info.runtime) == ("fake", "idle", "llama-server")
        assert service.target_for(alias, fake_model) == target  # reused: same port
        assert service.running()[0].pid == info.pid
        clock.advance(299)
        assert service.reap_idle() is False and alive(info.pid)
        with service.using(alias, fake_model):
            clock.advance(600)
            assert service.reap_idle() is False  # busy is never idle
        clock.advance(299)
        assert service.reap_idle() is False
        clock.advance(2)  # the keep-alive thread notices within a second
        assert wait_until(lambda: service.running() == [], timeout=10)
        assert not alive(info.pid) and service.reap_idle() is False
    finally:
        service.close()


def test_a_gguf_without_chat_template_gets_the_fallback_format(
        fake_server: Path, tmp_path: Path) -> None:
    """Issue 8 item 22: llama.cpp frames a template-less GGUF as Llama 2's [INST] chat and a
    base model answers nothing; bodhi serves it with the Alpaca frame instead, and says so."""
    from bodhi_nb.services.local_llm import ALPACA_JINJA
    from bodhi_nb.testing.gguf_files import make_gguf

    base = make_gguf(tmp_path / "base-Q4_0.gguf")
    chat = make_gguf(tmp_path / "chat-Q4_0.gguf", chat_template="{{ messages }}")
    service = LocalLlmService(SettingService(), DefaultTimeService(), poll_interval=0.05)
    events: list[tuple[str, dict[str, object]]] = []
    try:
        with service.using(UserAlias("base", "t/base", base.name), base,
                           on_event=lambda kind, data: events.append((kind, dict(data)))
                           ) as target:
            argv = get_json(f"{target.base_url.removesuffix('/v1')}/argv", target.api_key)
        assert isinstance(argv, list)
        assert argv[argv.index("--chat-template") + 1] == ALPACA_JINJA and "--jinja" in argv
        assert service.running()[0].chat_format_fallback == "alpaca"
        kinds = [k for k, _ in events]
        assert kinds[0] == "starting" and kinds[-2:] == ["started", "model"]
        assert events[-1][1] == {"alias": "base", "chat_template": False, "fallback": "alpaca"}
        assert float(events[-2][1]["seconds"]) >= 0  # type: ignore[arg-type]

        events.clear()
        with service.using(UserAlias("chat", "t/chat", chat.name), chat,
                           on_event=lambda kind, data: events.append((kind, dict(data)))
                           ) as target:
            argv = get_json(f"{target.base_url.removesuffix('/v1')}/argv", target.api_key)
        assert isinstance(argv, list) and "--chat-template" not in argv
        assert events[-1][1]["chat_template"] is True and events[-1][1]["fallback"] is None

        # `alias create --ctx chat_format=gemma` stores --chat-format: the same option
        named = UserAlias("named", "t/base", base.name, context_params=("--chat-format gemma",))
        with service.using(named, base) as target:
            argv = get_json(f"{target.base_url.removesuffix('/v1')}/argv", target.api_key)
        assert isinstance(argv, list)
        assert argv[argv.index("--chat-template") + 1] == "gemma"  # the alias's choice wins
        assert service.running()[0].chat_format_fallback is None
    finally:
        service.close()


def test_a_thread_that_started_the_server_may_end(fake_server: Path, fake_model: Path) -> None:
    # Linux sends the parent-death signal when the forking *thread* ends.
    service = LocalLlmService(SettingService(), DefaultTimeService(), poll_interval=0.05)
    alias = UserAlias("fake", "test/fake", fake_model.name)
    worker = threading.Thread(target=service.target_for, args=(alias, fake_model))
    worker.start()
    worker.join()
    try:
        [info] = service.running()
        time.sleep(0.5)
        assert alive(info.pid)
    finally:
        service.close()
    assert not alive(info.pid)


def test_stop_kills_a_server_that_ignores_sigterm(
        fake_server: Path, fake_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LLAMA_IGNORE_TERM", "1")
    service = LocalLlmService(SettingService(), DefaultTimeService(), stop_grace=0.3,
                              poll_interval=0.05)
    service.target_for(UserAlias("fake", "test/fake", fake_model.name), fake_model)
    pid = service.running()[0].pid
    assert service.stop() is True
    assert not alive(pid)
    assert service.stop() is False


def test_ps_command_and_registry_close(fake_server: Path, fake_model: Path) -> None:
    registry = build_app_service(SettingService())
    ctx = Context(prog="%bodhi")
    try:
        assert "no local model server running" in execute(["ps"], ctx, lambda: registry).to_text()
        service = registry.local_llm_service()
        service.target_for(UserAlias("fake", "test/fake", fake_model.name), fake_model)
        pid = service.running()[0].pid
        text = execute(["ps"], ctx, lambda: registry).to_text()
        assert "fake" in text and str(pid) in text and fake_model.name in text
        shown = execute(["ps", "--json"], ctx, lambda: registry)
        [row] = shown.to_json()
        assert row["pid"] == pid and row["state"] == "idle" and row["runtime"] == "llama-server"
        key = service.target_for(UserAlias("fake", "test/fake", fake_model.name),
                                 fake_model).api_key
        assert key and key not in shown.to_text()
    finally:
        registry.close()
    assert not alive(pid)
    assert registry.local_llm_service().running() == []


def test_ps_stop(fake_server: Path, fake_model: Path) -> None:
    registry = build_app_service(SettingService())
    try:
        registry.local_llm_service().target_for(UserAlias("fake", "test/fake", fake_model.name),
                                                fake_model)
        pid = registry.local_llm_service().running()[0].pid
        result = execute(["ps", "--stop"], Context(), lambda: registry)
        assert f"fake (pid {pid})" in result.to_text() and not alive(pid)
        assert "No local model server" in execute(["ps", "--stop"], Context(),
                                                  lambda: registry).to_text()
    finally:
        registry.close()


# -- the real llama.cpp server and Gemma 3 270M ----------------------------------------------


@pytest.fixture(scope="session")
def gemma() -> Path:
    """The real model, shared with llama_fixtures; a missing peer fails, never skips."""
    from llama_fixtures import _model_path

    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:  # pragma: no cover - the message is the point
        pytest.fail("llama.cpp is missing: pip install -e '.[test,local,demo]' (make test does)")
    return _model_path()


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], LocalLlmService]]:
    # The Python runtime even if a llama-server happens to be on PATH.
    monkeypatch.setenv("BODHI_LLAMA_SERVER", FORCE_PYTHON_RUNTIME)
    made: list[LocalLlmService] = []

    def make() -> LocalLlmService:
        made.append(LocalLlmService(SettingService(), DefaultTimeService(), poll_interval=0.1))
        return made[-1]

    yield make
    for service in made:
        service.close()


def gemma_alias(name: str, gemma: Path) -> UserAlias:
    # The GGUF is a base model without a chat template: name one (llama-server spelling,
    # translated for llama_cpp.server; --no-jinja has no counterpart there and is dropped).
    return UserAlias(name, "test/gemma-3-270m", gemma.name,
                     context_params=("--chat-template gemma", "--no-jinja"))


def test_real_server_answers_is_reused_and_closed(
        gemma: Path, real: Callable[[], LocalLlmService]) -> None:
    import httpx

    service = real()
    alias = gemma_alias("gemma", gemma)
    started = time.monotonic()
    target = service.target_for(alias, gemma)
    ready_after = time.monotonic() - started
    [info] = service.running()
    assert client_refused(f"{target.base_url}/models")  # no key, no answer
    with httpx.Client(trust_env=False, timeout=120,
                      headers={"Authorization": f"Bearer {target.api_key}"}) as client:
        models = client.get(f"{target.base_url}/models").json()
        assert [m["id"] for m in models["data"]] == ["gemma"]
        with service.using(alias, gemma) as same:
            assert same == target
            reply = client.post(f"{target.base_url}/chat/completions", json={
                "model": target.model, "max_tokens": 8, "temperature": 0, "seed": 1,
                "messages": [{"role": "user", "content": "What is the capital of France?"}]})
            assert service.running()[0].state == "busy"
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert isinstance(body["choices"][0]["message"]["content"], str)
    assert 0 < body["usage"]["completion_tokens"] <= 8
    assert service.running()[0].pid == info.pid and alive(info.pid)
    assert "--n_ctx 2048" in " ".join(info.command) and "--chat_format gemma" in " ".join(
        info.command)
    print(f"\nllama_cpp.server ready after {ready_after:.1f} s, RSS {_rss_mb(info.pid)} MB")
    service.close()
    assert service.running() == [] and not alive(info.pid)


def client_refused(url: str) -> bool:
    try:
        get_json(url)
    except urllib.error.HTTPError as exc:
        return exc.code in (401, 403)
    return False


def _rss_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return -1


def test_real_keep_alive_zero_and_switching_alias(
        gemma: Path, real: Callable[[], LocalLlmService],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "0")
    service = real()
    first, second = gemma_alias("first", gemma), gemma_alias("second", gemma)
    with service.using(first, gemma):
        pid = service.running()[0].pid
    assert service.running() == [] and not alive(pid)  # 0: stopped when the request ended
    service.target_for(first, gemma)
    old = service.running()[0].pid
    target = service.target_for(second, gemma)
    new = service.running()[0].pid
    assert new != old and not alive(old) and alive(new)
    assert target.model == "second"


def test_real_keep_alive_expiry(gemma: Path, real: Callable[[], LocalLlmService],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "1")
    service = real()
    service.target_for(gemma_alias("gemma", gemma), gemma)
    pid = service.running()[0].pid
    assert wait_until(lambda: not alive(pid), timeout=60)
    assert service.running() == []


def test_real_bad_model_file_fails_with_its_log(tmp_path: Path, gemma: Path,
                                                real: Callable[[], LocalLlmService]) -> None:
    bad = tmp_path / "x.gguf"
    bad.write_text("this is not a model\n")
    service = real()
    with pytest.raises(StartFailedError) as info:
        service.target_for(UserAlias("bad", "test/bad", "x.gguf"), bad)
    assert info.value.code == "local_llm_service_error-start_failed"
    tail = info.value.params["stderr_tail"]
    assert "x.gguf" in tail and not any(set(ln.strip()) <= {"^", "~"} for ln in
                                        tail.splitlines())
    assert info.value.params["exit_code"] not in ("0", "none")
    assert Path(info.value.params["log"]).is_file()
    assert service.running() == []


def _orphan_check(model: Path, env: dict[str, str]) -> None:
    parent = subprocess.Popen([sys.executable, str(CHILD), "parent", str(model)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()  # the child prints once the server is ready
        assert line.startswith("PID "), line
        server = int(line.split()[1])
        assert alive(server)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
    gone = wait_until(lambda: not alive(server), timeout=30)
    if not gone:  # pragma: no cover - never leave it behind, even on failure
        os.kill(server, signal.SIGKILL)
    assert gone, "orphaned llama.cpp server"


def test_fake_server_dies_with_a_sigkilled_parent(fake_server: Path, fake_model: Path,
                                                  subprocess_env: dict[str, str]) -> None:
    _orphan_check(fake_model, {**subprocess_env, "BODHI_LLAMA_SERVER": str(fake_server)})


@pytest.mark.slow
def test_real_server_dies_with_a_sigkilled_parent(gemma: Path,
                                                  subprocess_env: dict[str, str]) -> None:
    _orphan_check(gemma, {**subprocess_env, "BODHI_LLAMA_SERVER": FORCE_PYTHON_RUNTIME})


def test_the_llama_server_fallback_template_is_llama_cpp_pythons_alpaca() -> None:
    """The two runtimes frame a template-less model the same way: the Jinja template given
    to llama-server renders what llama_cpp.server's built-in ``alpaca`` format writes."""
    import jinja2
    from llama_cpp.llama_chat_format import format_alpaca

    from bodhi_nb.services.local_llm import ALPACA_JINJA

    for messages in (
        [{"role": "user", "content": "What is the capital of France?"}],
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
         {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}],
    ):
        ours = jinja2.Template(ALPACA_JINJA).render(messages=messages,
                                                    add_generation_prompt=True)
        assert ours == format_alpaca(messages).prompt  # type: ignore[arg-type]


def test_requests_for_other_aliases_queue_fairly_for_the_one_server(
        fake_server: Path, fake_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: a request for alias B while A's requests run waits for them (it used to stop
    A's server under them); an A request arriving after B waits behind B (FIFO); requests
    for the alias being served share the server."""
    monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "-1")
    service = LocalLlmService(SettingService(), DefaultTimeService(), poll_interval=0.05)
    a = UserAlias("a", "test/fake", fake_model.name, source=AliasSource.MODEL)
    b = UserAlias("b", "test/fake", fake_model.name, source=AliasSource.MODEL)
    order: list[str] = []
    release = {name: threading.Event() for name in ("b", "a2")}

    def run(alias: UserAlias, tag: str) -> None:
        with service.using(alias, fake_model) as target:
            order.append(f"{tag}:{target.alias}:{service.running()[0].pid}")
            release[tag].wait(30)

    try:
        with service.using(a, fake_model) as first, service.using(a, fake_model) as shared:
            assert shared.base_url == first.base_url  # same alias: shared, at once
            pid_a = service.running()[0].pid
            wait_b = threading.Thread(target=run, args=(b, "b"))
            wait_b.start()
            deadline = time.monotonic() + 10
            while not service._waiting and time.monotonic() < deadline:
                time.sleep(0.01)
            wait_a = threading.Thread(target=run, args=(a, "a2"))
            wait_a.start()
            time.sleep(0.3)
            assert order == [], "both wait: B for A's requests, the later A behind B"
            assert service.running()[0].pid == pid_a and alive(pid_a)
        deadline = time.monotonic() + 30
        while not order and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(order) == 1 and order[0].startswith("b:b:")
        assert not alive(pid_a) or service.running()[0].pid != pid_a
        release["b"].set()
        wait_b.join(30)
        release["a2"].set()
        wait_a.join(30)
        assert [o.split(":")[:2] for o in order] == [["b", "b"], ["a2", "a"]]
    finally:
        for event in release.values():
            event.set()
        service.close()
