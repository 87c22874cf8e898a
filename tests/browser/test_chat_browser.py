"""Issue 10 test (d): the chat panel in JupyterLab in a real Chromium, on the real demo model
(Gemma 3 270M through llama.cpp, one thread).

Send a prompt: the streamed answer's text is read from the DOM again and again and must grow
over several observations before the answer completes. Send a long one and click Stop while
it streams: it ends, marked stopped, keeping its partial text. Both exchanges are in
``%bodhi history``, the stopped one logged as such.
"""

from __future__ import annotations

import os
import time
from itertools import pairwise
from pathlib import Path

import pytest
from _browser_support import OpenNotebook
from llama_fixtures import _model_path

from bodhi_nb.testing.gguf_files import put_in_hf_cache

REPO, FILE = "bodhi-test/gemma-3-270m-GGUF", "gemma-3-270m-Q4_K_M.gguf"
PANEL = ".bodhi-chat-panel"
STREAMING = f"{PANEL} .bodhi-chat-assistant.bodhi-chat-streaming"
ANSWERS = f"{PANEL} .bodhi-chat-assistant"
#: the model server starts on one thread of a shared machine: generous, never asserted on
START = 300.0


@pytest.fixture
def demo_model(monkeypatch: pytest.MonkeyPatch) -> None:
    put_in_hf_cache(Path(os.environ["HF_HOME"]) / "hub", REPO, FILE, _model_path())
    monkeypatch.setenv("BODHI_LLAMACPP_ARGS", "--threads 1")


def _observe_stream(nb: object, *, until_chars: int | None = None,
                    timeout: float = START) -> list[str]:
    """The streamed answer's text, read from the page each time it changes, until the
    answer stops streaming (or, with ``until_chars``, until it holds that many)."""
    page = nb.page  # type: ignore[attr-defined]
    page.wait_for_selector(STREAMING, state="attached", timeout=timeout * 1000)
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = page.locator(STREAMING).all_inner_texts()
        if not texts:  # the class goes when the answer ends
            break
        text = texts[-1].strip()
        if text and (not seen or text != seen[-1]):
            seen.append(text)
            if until_chars is not None and len(text) >= until_chars:
                break
        page.wait_for_timeout(30)
    return seen


def test_chat_panel_streams_stops_and_logs_in_the_browser(
        open_notebook: OpenNotebook, demo_model: None) -> None:
    nb = open_notebook([
        "%load_ext bodhi_nb",
        f"%bodhi alias create tiny --repo {REPO} --file {FILE} --format markdown "
        "--ctx n_ctx=1024 -o temperature=0 -o seed=7",
        "%bodhi panel chat tiny",
        "%bodhi history -n 5",
    ])
    assert nb.run_cell(0) and nb.run_cell(1) and nb.run_cell(2)
    nb.wait_for(f"{PANEL} .bodhi-chat-send")
    assert nb.page.locator(f"{PANEL} button.bodhi-chat-stop").is_disabled()

    # (1) a short answer streams: several growing observations, then it completes.
    nb.fill(f"{PANEL} .bodhi-chat-max-tokens", "40", enter=False)
    nb.fill(f"{PANEL} .bodhi-chat-prompt", "What is the capital of France?", enter=False)
    nb.click(f"{PANEL} .bodhi-chat-send")
    grown = _observe_stream(nb)
    assert len(grown) >= 3, f"the answer did not stream: {grown}"
    assert all(a != b and b.startswith(a[:-1]) for a, b in pairwise(grown)), grown
    nb.wait_for(STREAMING, state="detached", timeout=START)
    first = nb.texts(ANSWERS)
    assert len(first) == 1 and first[0].startswith("tiny") and "stopped" not in first[0]
    nb.screenshot("chat-answered")

    # (2) a long answer, stopped while it streams: it ends at once, marked, text kept.
    nb.fill(f"{PANEL} .bodhi-chat-max-tokens", "400", enter=False)
    nb.fill(f"{PANEL} .bodhi-chat-prompt", "Write a long story about a cat and a dog.",
            enter=False)
    nb.click(f"{PANEL} .bodhi-chat-send")
    partial = _observe_stream(nb, until_chars=40)
    assert partial and len(partial[-1]) >= 40
    nb.click(f"{PANEL} .bodhi-chat-stop")
    nb.wait_for(f"{PANEL} .bodhi-chat-stopped", timeout=120)
    nb.wait_for(STREAMING, state="detached", timeout=120)
    answers = nb.texts(ANSWERS)
    assert len(answers) == 2 and "stopped" in answers[1]
    assert nb.page.locator(f"{PANEL} button.bodhi-chat-stop").is_disabled()
    nb.screenshot("chat-stopped")

    # (3) both exchanges are in the history, the stopped one as stopped.
    assert nb.run_cell(3)
    out = nb.outputs_text()
    assert "What is the capital of France?" in out
    assert "Write a long story about a cat and a dog." in out
    assert "stopped" in out
