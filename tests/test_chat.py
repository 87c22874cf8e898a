"""%bodhi chat end to end: a real llama.cpp server running the real Gemma 3 270M GGUF."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from llama_fixtures import LlamaServer, _model_path, llama_server  # noqa: F401

from bodhi_nb.app import reset_apps
from bodhi_nb.commands.chat import ChatResponse
from bodhi_nb.testing.gguf_files import put_in_hf_cache

REPO, FILE = "bodhi-test/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"
ALIAS_LINE = (f"alias create tiny --repo {REPO} --file {FILE} --ctx chat_format=alpaca "
              "--ctx n_ctx=1024 -o temperature=0 -o seed=7 -o max_tokens=12 -o 'stop=\\n'")
PROMPT = "What is the capital of France?"


def _pids(alias: str = "tiny") -> list[int]:
    """llama_cpp.server processes serving ``alias`` on a model in this test's HF_HOME (the
    machine may be shared with other test runs serving an alias of the same name)."""
    out = subprocess.run(["pgrep", "-f", f"llama_cpp.server.*{os.environ['HF_HOME']}.*"
                                         f"--model_alias {alias}"],
                         capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test machine is shared: every llama.cpp server here runs on one thread."""
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")


@pytest.fixture
def model_in_cache(isolated_env: Path) -> Path:
    return put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", REPO, FILE, _model_path())


@pytest.fixture
def shell(model_in_cache: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[InteractiveShell]:
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "bodhi_nb")
    assert sh.run_line_magic("bodhi", ALIAS_LINE) is not None, capsys.readouterr().err
    yield sh
    sh.run_line_magic("unload_ext", "bodhi_nb")
    InteractiveShell.clear_instance()


def test_stream_and_no_stream_are_deterministic_and_logged(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}" --no-log')  # warm the server up
    capsys.readouterr()
    first = shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}"')
    streamed = capsys.readouterr().out
    second = shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}" --no-stream')
    assert isinstance(first, ChatResponse) and isinstance(second, ChatResponse)
    assert first.text and first.text == second.text
    assert first.text in streamed, "the answer streamed to the output as it came"
    assert capsys.readouterr().out == "", "--no-stream prints nothing while waiting"
    # after a live stream to the terminal, the rendering is a summary, not the answer again
    shown = repr(first)
    assert shown.startswith("— tiny") and "first token" in shown
    assert repr(first) == shown, "every rendering is the same"
    assert str(first) == first.text
    assert repr(second) == second.text

    history = shell.run_line_magic("bodhi", "history --json").to_json()
    assert [h["answer"] for h in history] == [second.text, first.text]
    assert history[0]["alias"] == "tiny" and history[0]["prompt"] == PROMPT
    assert history[1]["usage"]["completion_tokens"] >= 1
    assert history[0]["timings"]["total_ms"] > 0


def test_first_chat_shows_the_server_start_and_times_from_enter(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8 item 24: the first chat was silent while llama.cpp started, and its time to
    first token was counted from when the server was up."""
    capsys.readouterr()
    first = shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}" --no-log')
    err = capsys.readouterr().err
    assert "starting the model server for tiny…" in err
    assert "model server for tiny ready in" in err
    assert isinstance(first, ChatResponse)
    timings = first.reply.timings
    assert timings["startup_ms"] > 0 and timings["ttft_ms"] >= timings["startup_ms"]
    assert timings["total_ms"] >= timings["ttft_ms"]
    assert "(model server start" in repr(first)
    again = shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}" --no-log')
    assert "startup_ms" not in again.reply.timings
    assert "starting the model server" not in capsys.readouterr().err  # already running
    shell.run_line_magic("bodhi", "ps --stop")
    capsys.readouterr()
    waited = shell.run_line_magic("bodhi", f'chat tiny "{PROMPT}" --no-log --no-stream')
    out, err = capsys.readouterr()
    assert "starting the model server for tiny…" in err and out == ""  # the wait, not deltas
    assert waited.reply.timings["startup_ms"] > 0


def test_thread_reset_makes_a_rerun_give_the_same_answers(shell: InteractiveShell) -> None:
    """Issue 8 item 23: a notebook cell on ``--thread geography`` sent every earlier run's
    exchanges along, so its answer drifted run after run; ``--reset`` starts it afresh."""
    from bodhi_nb.services.chat import ChatRequest

    service = __import__("bodhi_nb").app().chat_service()
    runs = []
    for _ in range(2):
        opening = shell.run_cell_magic("bodhi", "chat tiny --thread geography --reset "
                                       "--no-stream", "Name one famous river in Europe.\n")
        context = service._context(ChatRequest("tiny", "And one in Africa?",
                                               thread="geography"))
        assert [m["role"] for m in context] == ["user", "assistant", "user"]
        follow = shell.run_cell_magic("bodhi", "chat tiny --thread geography --no-stream",
                                      "And one in Africa?\n")
        runs.append((opening.text, follow.text))
    assert runs[0] == runs[1]
    history = shell.run_line_magic("bodhi", "history --thread geography --json").to_json()
    assert len(history) == 4, "earlier exchanges stay in the history"
    assert shell.run_line_magic("bodhi", 'chat tiny "x" --reset') is None  # needs --thread


def test_model_alias_on_a_base_gguf_answers_in_text_and_says_why_once(
        shell: InteractiveShell) -> None:
    """Issue 8 items 22 and 24: ``owner/repo:QUANT`` on a GGUF without a chat template
    answered nothing (llama.cpp's Llama 2 frame); now the Alpaca frame gives the base model
    text to complete, a note says so once, and the answer renders as text, not headings."""
    line = f'chat {REPO}:Q4_K_M "{PROMPT}" -o max_tokens=24 -o temperature=0 -o seed=7'
    first = shell.run_line_magic("bodhi", line)
    assert isinstance(first, ChatResponse)
    assert first.text.strip(), "the base model answers under the fallback format"
    data = first.to_json()
    assert data["fallback"] == "alpaca" and data["markdown"] is False
    assert data["params"]["stop"] == ["\n###"]
    shown = repr(first)
    assert "has no chat template" in shown and "chat_format=FORMAT" in shown
    assert first._repr_mimebundle_() == {"text/plain": shown}  # text, never headings
    second = shell.run_line_magic("bodhi", line)
    assert second.notes == () and "no chat template" not in repr(second)
    assert second.text == first.text


def test_an_alias_that_says_markdown_renders_markdown_on_a_base_model(
        shell: InteractiveShell, isolated_env: Path) -> None:
    """Issue 8 item 24: a base model's answers render as text *unless the alias says
    markdown*; the choice is stored in the alias file and read back."""
    shell.run_line_magic("bodhi", f"alias create md --repo {REPO} --file {FILE} "
                         "--format markdown -o max_tokens=12 -o temperature=0")
    assert "format: markdown" in (isolated_env / "aliases" / "md.yaml").read_text()
    reply = shell.run_line_magic("bodhi", f'chat md "{PROMPT}" --no-stream')
    assert isinstance(reply, ChatResponse)
    data = reply.to_json()
    assert data["fallback"] == "alpaca"  # still a base model, framed as one ...
    assert data["markdown"] is True and "text/markdown" in reply._repr_mimebundle_()  # ...
    # ... but shown as the alias says


def test_an_empty_answer_says_why(shell: InteractiveShell,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 8 item 22: an empty answer was shown as nothing at all. Llama 2's frame on a
    base model is the real case: it ends its turn at once."""
    shell.run_line_magic("bodhi", f"alias create l2 --repo {REPO} --file {FILE} "
                         "--ctx chat_format=llama-2 -o temperature=0 -o max_tokens=12")
    reply = shell.run_line_magic("bodhi", f'chat l2 "{PROMPT}" --no-stream')
    assert isinstance(reply, ChatResponse) and reply.text == ""
    shown = repr(reply)
    assert "empty answer: finish reason stop, 0 tokens" in shown
    assert "--ctx chat_format=alpaca" in shown
    assert reply.to_json()["empty"] == shown


def test_interpolation_out_thread_and_param_merge(shell: InteractiveShell) -> None:
    shell.user_ns["country"] = "France"
    reply = shell.run_cell_magic(
        "bodhi", "chat tiny --thread geo --out answer -o max_tokens=6 --no-stream",
        "# NBVAL_CHECK_OUTPUT\nWhat is the capital of {country}?\n")
    assert shell.user_ns["answer"] == reply.text
    data = reply.to_json()
    # the request's max_tokens beats the alias's 12; the alias's temperature and seed apply
    assert data["params"]["max_tokens"] == 6
    assert data["params"]["temperature"] == 0 and data["params"]["seed"] == 7
    assert data["usage"]["completion_tokens"] <= 6
    chat = shell.run_line_magic("bodhi", "history --thread geo --json").to_json()
    assert chat[0]["prompt"] == "What is the capital of France?"

    app = __import__("bodhi_nb").app()
    follow = app.chat_service()._context(
        __import__("bodhi_nb.services.chat", fromlist=["ChatRequest"]).ChatRequest(
            "tiny", "And of Italy?", thread="geo"))
    assert [m["role"] for m in follow] == ["user", "assistant", "user"]
    assert follow[1]["content"] == reply.text

    shell.run_line_magic("bodhi", 'chat tiny "not logged" --no-log --no-stream')
    assert len(shell.run_line_magic("bodhi", "history --json").to_json()) == 1
    literal = shell.run_line_magic("bodhi", 'chat tiny "{country}" --no-interpolate '
                                   "--no-stream --json").to_json()
    assert literal["exchange"]
    logged = shell.run_line_magic("bodhi", "history -n 1 --json").to_json()
    assert logged[0]["prompt"] == "{country}"


def test_server_stops_after_keep_alive_and_when_the_shell_closes(
        model_in_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "1")
    sh = InteractiveShell.instance()
    try:
        sh.run_line_magic("load_ext", "bodhi_nb")
        sh.run_line_magic("bodhi", ALIAS_LINE)
        sh.run_line_magic("bodhi", 'chat tiny "Hi" --no-stream --no-log')
        running = __import__("bodhi_nb").app().local_llm_service().running()
        assert len(running) == 1
        assert _gone(running[0].pid), "stopped after the 1 s keep-alive"
        monkeypatch.setenv("BODHI_KEEP_ALIVE_SECS", "300")
        reset_apps()
        sh.run_line_magic("bodhi", 'chat tiny "Hi" --no-stream --no-log')
        pid = __import__("bodhi_nb").app().local_llm_service().running()[0].pid
        sh.run_line_magic("unload_ext", "bodhi_nb")  # closing the extension closes bodhi
        assert _gone(pid)
    finally:
        InteractiveShell.clear_instance()
        reset_apps()


def test_cli_chat_streams_to_stdout_and_leaves_no_server(
        model_in_cache: Path, subprocess_env: dict[str, str]) -> None:
    env = {**subprocess_env, "BODHI_KEEP_ALIVE_SECS": "300"}
    bodhi = [sys.executable, "-m", "bodhi_nb.cli"]
    made = subprocess.run([*bodhi, *_split(ALIAS_LINE)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    before = set(_pids())
    proc = subprocess.run([*bodhi, "chat", "tiny", PROMPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("— tiny") and any("Paris" in line for line in lines[:-1])
    time.sleep(0.5)
    assert set(_pids()) <= before, "the CLI's server exits with the CLI"
    bad = subprocess.run([*bodhi, "chat", "nope", "hi"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error[data_service_error-alias_not_found]")


def test_api_alias_chat_through_the_same_path(
        llama_server: LlamaServer, isolated_env: Path,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main

    monkeypatch.setenv("TEST_LLAMA_KEY", llama_server.api_key)
    assert main(["api", "add", "local", "--base-url", llama_server.base_url, "--prefix", "loc/",
                 "--models", llama_server.model_id, "--api-key-env", "TEST_LLAMA_KEY"]) == 0
    capsys.readouterr()
    assert main(["chat", f"loc/{llama_server.model_id}", "Say hello.", "-o", "max_tokens=8",
                 "-o", "temperature=0", "-o", "seed=1"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith(f"— loc/{llama_server.model_id}")
    monkeypatch.setenv("TEST_LLAMA_KEY", "wrong")
    assert main(["api", "set-key", "local", "--api-key-env", "TEST_LLAMA_KEY"]) == 0
    capsys.readouterr()
    assert main(["chat", f"loc/{llama_server.model_id}", "Say hello."]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[ai_api_service_error-unauthorized]")
    assert llama_server.api_key not in err


def _split(line: str) -> list[str]:
    import shlex

    return shlex.split(line)
