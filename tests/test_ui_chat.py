"""The chat panel driven from Python (no browser), against a real llama.cpp server running
the real Gemma 3 270M GGUF (the demo model) through LocalLlmService.

Values set on the answer being streamed are recorded by a trait observer (the worker thread
sets them); a test waits for the panel's worker thread to end, never for a time. Stop is
made deterministic by clicking it from the first observation that holds answer text.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from _secret_support import HEADLESS
from llama_fixtures import _model_path

from bodhi_nb.app import DefaultAppService
from bodhi_nb.commands import Context, execute, render_error
from bodhi_nb.commands.panel import PanelView
from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache

REPO, FILE = "bodhi-test/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"
#: the demo model has no chat template: it runs in the fallback prompt format, and the
#: alias says its answers are Markdown (else a base model's answers show as plain text)
ALIAS = ["alias", "create", "tiny", "--repo", REPO, "--file", FILE, "--format", "markdown",
         "--ctx", "n_ctx=1024"]
PROMPT = "What is the capital of France?"
#: generous: the machine is shared and the model server starts on one thread
JOIN = 600.0


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test machine is shared: every llama.cpp server here runs on one thread."""
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def tiny(app: DefaultAppService, isolated_env: Path) -> Iterator[str]:
    """The demo model in the HF cache and the user alias ``tiny`` on it."""
    put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", REPO, FILE, _model_path())
    execute(ALIAS, Context(prog="%bodhi"), lambda: app)
    yield "tiny"


def _finish(panel: Any) -> None:
    """Wait for the panel's answer to be in (or to have failed)."""
    assert panel.worker is not None, "Send started no generation: " + panel.error.text
    panel.worker.join(JOIN)
    assert not panel.worker.is_alive(), "the generation never ended"


def _answer_text(value: str) -> str:
    """What an answer widget shows, without its role line and stopped mark."""
    value = re.sub(r'<div class="bodhi-chat-(role|stopped)">.*?</div>', "", value)
    return html.unescape(re.sub(r"<[^>]+>", "", value)).strip()


def _history_text(app: DefaultAppService, *args: str) -> str:
    return execute(["history", *args], Context(prog="%bodhi"), lambda: app).to_text()


def test_send_streams_into_the_transcript_logs_and_continues_the_thread(
        app: DefaultAppService, tiny: str) -> None:
    from bodhi_nb import ui
    from bodhi_nb.ui.chat_panel import NEW_THREAD, ChatPanel, render_markdown

    panel = ui.chat(tiny, app)
    assert isinstance(panel, ChatPanel) and panel.error.text == ""
    assert panel.alias.value == "tiny"
    assert f"{REPO}:Q4_K_M" in [v for _, v in panel.alias.options]  # model aliases too
    assert panel.thread.value == NEW_THREAD and panel.thread_name in panel.thread_label.value
    assert panel.stop_button.disabled and not panel.send_button.disabled
    assert panel.text() == _history_text(app)  # no exchange yet: recent history

    panel.temperature.value, panel.seed.value, panel.max_tokens.value = "0", "7", "24"
    answer = panel.streaming
    seen: list[str] = []
    stop_enabled: list[bool] = []

    def record(change: dict[str, Any]) -> None:
        seen.append(change["new"])
        stop_enabled.append(not panel.stop_button.disabled)

    answer.observe(record, names="value")
    panel.prompt.value = PROMPT  # the box syncs on leaving it: that alone sends nothing
    assert panel.worker is None
    panel.send_button.click()
    assert panel.prompt.value == ""
    _finish(panel)
    assert panel.error.text == ""
    reply = panel.last_reply
    assert reply is not None and reply.text.strip() and reply.thread == panel.thread_name

    # The answer grew over several observations, Stop enabled all along, and ends whole.
    texts = [_answer_text(v) for v in seen]
    grown = list(dict.fromkeys(t for t in texts if t))
    assert len(grown) >= 2, texts
    assert len(grown[0]) < len(grown[-1])
    assert grown[-1] == _answer_text(render_markdown(reply.text))
    assert all(stop_enabled)
    assert panel.stop_button.disabled and not panel.send_button.disabled
    assert "bodhi-chat-streaming" not in answer._dom_classes
    assert "bodhi-chat-assistant" in answer._dom_classes
    assert panel.streaming is not answer  # the next answer gets a widget of its own
    assert html.escape(PROMPT) in panel.transcript_html()
    assert "tiny" in panel.status.value

    # The request carried the boxes' params; the exchange is in the history, in the thread.
    assert (reply.params["temperature"], reply.params["seed"],
            reply.params["max_tokens"]) == (0, 7, 24)
    [entry] = app.chat_service().history(5)
    assert (entry.prompt, entry.answer, entry.thread, entry.alias) == (
        PROMPT, reply.text, panel.thread_name, "tiny")
    assert entry.finish_reason is None
    thread = panel.thread_name
    assert panel.thread.value == thread
    assert [label for label, value in panel.thread.options if value == thread] == [
        f"{thread} · tiny · 1 exchange"]
    assert panel.text() == _history_text(app, "--thread", thread)
    assert repr(panel) == panel.text() and reply.text[:20] in " ".join(panel.text().split())

    # A new panel: choosing the thread loads its transcript; Enter sends in that thread.
    other = ui.chat(app=app)
    assert other.thread.value == NEW_THREAD and other.thread_name != thread
    other.thread.value = thread
    assert other.thread_name == thread and other.error.text == ""
    assert html.escape(PROMPT) in other.transcript_html()
    assert _answer_text(render_markdown(reply.text)) in _answer_text(other.transcript_html())
    assert other.alias.value == "tiny"  # the thread's alias
    other.max_tokens.value = "8"
    other.prompt._handle_custom_msg({"event": "submit"}, [])  # Enter, then its text
    other.prompt.value = "And about the mountains?"
    _finish(other)
    assert other.error.text == ""
    assert [e.prompt for e in app.chat_service().history(5, thread=thread)] == [
        "And about the mountains?", PROMPT]
    assert other.transcript_html().count("bodhi-chat-role") == 4

    # New thread: an empty transcript; the same prompt and params give the same answer.
    other.thread.value = NEW_THREAD
    assert other.thread_name not in (thread, "") and other.transcript_html() == ""
    other.temperature.value, other.seed.value, other.max_tokens.value = "0", "7", "24"
    other.prompt.value = PROMPT
    assert other.send()
    _finish(other)
    assert other.last_reply is not None and other.last_reply.text == reply.text
    assert len(app.chat_service().threads(named_only=True)) == 2


def test_stop_ends_the_answer_keeps_it_and_logs_it_as_stopped(
        app: DefaultAppService, tiny: str) -> None:
    from bodhi_nb import ui

    panel = ui.chat(tiny, app)
    panel.max_tokens.value = "200"
    answer = panel.streaming
    at_stop: list[str] = []

    def stop_at_first_text(change: dict[str, Any]) -> None:
        if _answer_text(change["new"]) and not at_stop:
            at_stop.append(change["new"])
            panel.stop_button.click()

    answer.observe(stop_at_first_text, names="value")
    prompt = "<script>alert(1)</script> Tell me a long story about a dragon."
    panel.prompt.value = prompt
    panel.send_button.click()
    _finish(panel)
    assert at_stop, "no answer text was ever shown"
    reply = panel.last_reply
    assert reply is not None and reply.finish_reason == "stopped"
    assert reply.text.strip()
    assert (reply.usage or {}).get("completion_tokens", 200) < 200  # it ended early
    assert panel.error.text == "" and panel.stop_button.disabled
    assert not panel.send_button.disabled

    # The partial answer stays in the transcript, marked; the prompt's HTML shows as text.
    assert answer.value == panel._answer_html("tiny", reply.text, markdown=True, stopped=True)
    assert 'class="bodhi-chat-stopped">stopped<' in answer.value
    transcript = panel.transcript_html()
    assert "<script>" not in transcript and "&lt;script&gt;alert(1)&lt;/script&gt;" in transcript

    [entry] = app.chat_service().history(5)
    assert entry.finish_reason == "stopped" and entry.answer == reply.text
    assert "(stopped)" in _history_text(app)

    # Loaded from history, the stopped answer keeps its mark.
    again = ui.chat(app=app)
    again.thread.value = entry.thread
    assert "bodhi-chat-stopped" in again.transcript_html()
    assert "<script>" not in again.transcript_html()


def test_markdown_escapes_html_and_drops_script_links() -> None:
    from bodhi_nb.ui.chat_panel import render_markdown

    shown = render_markdown("**bold** <b>raw</b> <img src=x onerror=alert(1)>\n\n"
                            "[click](javascript:alert(1))\n\n```\n<script>x</script>\n```")
    assert "<strong>bold</strong>" in shown
    assert "<b>" not in shown and "<img" not in shown and "<script>" not in shown
    assert "&lt;b&gt;raw&lt;/b&gt;" in shown and "javascript:" not in shown


def test_bad_input_is_one_coded_line(app: DefaultAppService, tiny: str) -> None:
    from bodhi_nb import ui

    panel = ui.chat("no-such-alias", app)
    assert panel.error.text.startswith("error[data_service_error-alias_not_found]")
    assert "no-such-alias" in panel.error.text and "Traceback" not in panel.error.text
    assert panel.alias.value is None
    panel.prompt.value = "hello"
    assert not panel.send()
    assert panel.error.text.startswith("error[command_error-no_alias_chosen]")

    panel.alias.value = "tiny"
    panel.temperature.value = "hot"
    assert not panel.send()
    assert panel.error.text.startswith("error[chat_service_error-bad_param]")
    assert "temperature" in panel.error.text
    panel.temperature.value = ""
    panel.max_tokens.value = "1.5"
    assert not panel.send()
    assert panel.error.text.startswith("error[chat_service_error-bad_param]")
    assert panel.worker is None and app.chat_service().history(5) == []
    assert panel.prompt.value == "hello"  # kept, to send once fixed

    panel.max_tokens.value = ""
    panel.prompt.value = "   "
    assert not panel.send() and panel.worker is None  # a blank prompt sends nothing


def test_enter_without_new_text_sends_the_text_the_kernel_has(
        app: DefaultAppService, tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb import ui
    from bodhi_nb.ui import chat_panel

    monkeypatch.setattr(chat_panel, "SUBMIT_GRACE", 0.0)
    panel = ui.chat(tiny, app)
    panel.max_tokens.value = "4"
    panel.prompt.value = "Hello"  # synced when the user left the box
    assert panel.worker is None
    panel.prompt._handle_custom_msg({"event": "submit"}, [])  # back in the box, Enter
    assert panel.submit_timer is not None
    panel.submit_timer.join(JOIN)
    _finish(panel)
    assert panel.error.text == ""
    assert [e.prompt for e in app.chat_service().history(5)] == ["Hello"]


def test_panel_chat_command_and_magic(tiny: str) -> None:
    from bodhi_nb.app import app as default_app
    from bodhi_nb.notebook.magic import _shown
    from bodhi_nb.ui.chat_panel import ChatPanel

    registry = default_app()
    result = execute(["panel", "chat", "tiny"], Context(prog="bodhi"), lambda: registry)
    assert isinstance(result, PanelView) and result.kind == "chat"
    assert result.args == ("tiny",)
    assert result.to_text() == _history_text(registry)
    widget = _shown(result, SimpleNamespace(kernel=object()))
    assert isinstance(widget, ChatPanel) and widget.alias.value == "tiny"
    assert repr(widget) == result.to_text()
    assert _shown(result, SimpleNamespace()) is result
    assert execute(["panel", "chat"], Context(prog="bodhi"), lambda: registry).args == ()

    with pytest.raises(Exception) as caught:
        execute(["panel", "chat", "nope"], Context(prog="bodhi"), lambda: registry)
    line = render_error(caught.value, prog="bodhi", app_factory=lambda: registry)
    assert line.startswith("error[data_service_error-alias_not_found]") and "nope" in line
    text = execute(["help", "panel"], Context(prog="bodhi"), lambda: registry).to_text()
    assert "chat" in text


def test_the_classes_a_browser_finds(app: DefaultAppService, tiny: str) -> None:
    from bodhi_nb import ui

    panel = ui.chat(tiny, app)
    assert "bodhi-chat-panel" in panel._dom_classes
    assert "bodhi-chat-transcript" in panel.transcript._dom_classes
    assert "bodhi-chat-prompt" in panel.prompt._dom_classes
    assert "bodhi-chat-send" in panel.send_button._dom_classes
    assert "bodhi-chat-stop" in panel.stop_button._dom_classes
    assert (panel.send_button.description, panel.stop_button.description) == ("Send", "Stop")


def test_chat_panel_speaks_french(tiny: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb import ui
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    registry = build_app_service(SettingService())
    try:
        panel = ui.chat(app=registry)
        assert (panel.send_button.description, panel.stop_button.description) == (
            "Envoyer", "Arrêter")
        assert panel.thread.options[0][0] == "nouveau fil"
        panel.alias.value = None
        panel.prompt.value = "bonjour"
        panel.send()
        assert panel.error.text.startswith("error[command_error-no_alias_chosen]: Aucun")
    finally:
        registry.close()


# -- the models panel's Chat ------------------------------------------------------------------


def test_models_panel_chat_opens_the_chat_panel_on_the_row(app: DefaultAppService,
                                                           tmp_path: Path) -> None:
    from bodhi_nb import ui
    from bodhi_nb.ui.chat_panel import ChatPanel

    hub = Path(os.environ["HF_HOME"]) / "hub"
    small = make_gguf(tmp_path / "small.gguf", arch="llama", context_length=2048,
                      file_type=15, size_bytes=1 << 20)
    put_in_hf_cache(hub, "acme/small-GGUF", "small-Q4_K_M.gguf", small)
    put_in_hf_cache(hub, "acme/small-GGUF", "mmproj-small-f16.gguf", small)
    panel = ui.models(app)
    panel.table.sort_by("file")
    assert [m.file.filename for m in panel.table.visible()] == [
        "mmproj-small-f16.gguf", "small-Q4_K_M.gguf"]
    assert not panel.table.row_buttons[1]["chat"].disabled

    panel.table.row_buttons[1]["chat"].click()
    assert panel.error.text == ""
    first = panel.chat
    assert isinstance(first, ChatPanel) and panel.chat_area.children == (first,)
    assert first.alias.value == "acme/small-GGUF:Q4_K_M"  # its model alias

    # With a user alias on the file, Chat opens on it, in place of the panel open.
    panel.table.row_buttons[1]["alias"].click()
    panel.alias_name.value = "small:chat"
    panel.alias_create.click()
    panel.table.sort_by("file", descending=False)
    panel.table.row_buttons[1]["chat"].click()
    assert panel.chat is not first and panel.chat_area.children == (panel.chat,)
    assert panel.chat is not None and panel.chat.alias.value == "small:chat"

    # A vision projector has no alias: one coded line asks for one.
    panel.table.row_buttons[0]["chat"].click()
    assert panel.error.text.startswith("error[command_error-no_alias_for_file]")
    assert "mmproj-small-f16.gguf" in panel.error.text
    assert panel.chat_area.children == (panel.chat,)
