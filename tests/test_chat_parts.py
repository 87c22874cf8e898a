"""The chat command's own pieces: interpolation, parameters, markers, rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bodhi_nb.commands.chat import ChatResponse, empty_explanation, parse_params
from bodhi_nb.errors import BadParamError
from bodhi_nb.notebook.text import interpolate, strip_markers
from bodhi_nb.services.chat import ChatReply, check_request_params
from bodhi_nb.terminal import StdoutLive


class Frame:
    shape = (120, 4)
    name = "sales"


NS = {"df": Frame(), "n": 3, "rows": [10, 20], "pi": 3.14159}


@pytest.mark.parametrize(("text", "expected"), [
    ("Summarise {df.shape} rows of {df.name}", "Summarise (120, 4) rows of sales"),
    ("first {rows[0]}, pi {pi:.2f}, n={n!r}", "first 10, pi 3.14, n=3"),
    ("unknown {missing} and {df.nope} stay", "unknown {missing} and {df.nope} stay"),
    ('json {"a": 1} and code {x for x in y} stay', 'json {"a": 1} and code {x for x in y} stay'),
    ("no calls {n.__class__.__init__()}", "no calls {n.__class__.__init__()}"),
    ("{{n}} keeps its braces around", "{3} keeps its braces around"),
])
def test_interpolation(text: str, expected: str) -> None:
    assert interpolate(text, NS) == expected


def test_interpolation_off_without_namespace() -> None:
    assert interpolate("{n}", None) == "{n}"


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_interpolation_leaves_text_without_known_names_unchanged(text: str) -> None:
    assert interpolate(text, {"zz_unused_name": 1}) == text.replace("{zz_unused_name}", "1")


def test_params_parse_json_values_and_check_ranges() -> None:
    assert parse_params(["temperature=0", "seed=7", "stop=[\"\\n\"]", "user=ann"]) == {
        "temperature": 0, "seed": 7, "stop": ["\n"], "user": "ann"}
    with pytest.raises(BadParamError) as info:
        parse_params(["temperature=3"])
    assert info.value.params["name"] == "temperature"
    with pytest.raises(BadParamError):
        parse_params(["temperature"])
    assert parse_params(["max_tokens=1e3", "stop=END"]) == {"max_tokens": 1000,
                                                            "stop": ["END"]}


@pytest.mark.parametrize(("option", "name"), [
    ("max_tokens=1e999", "max_tokens"),     # inf: OverflowError escaped before issue 8
    ("temperature=abc", "temperature"),     # text: ValueError escaped
    ("top_p=[1]", "top_p"),                 # a list: TypeError escaped
    ("max_tokens=0", "max_tokens"),
    ("max_tokens=2.5", "max_tokens"),
    ("max_tokens=true", "max_tokens"),
    ("seed=NaN", "seed"),
    ("temperature=-Infinity", "temperature"),
    ("stop=[1]", "stop"),
    ("logit_bias={\"1\": 1e999}", "logit_bias"),  # any number sent must be finite
])
def test_bad_values_are_coded_bad_param_errors(option: str, name: str) -> None:
    with pytest.raises(BadParamError) as info:
        parse_params([option])
    assert info.value.code == "chat_service_error-bad_param"
    assert info.value.params["name"] == name and info.value.params["reason"]


def test_the_service_checks_params_from_python_too() -> None:
    with pytest.raises(BadParamError):
        check_request_params({"max_tokens": float("inf")})
    assert check_request_params({"top_p": 1, "n": 2.0}) == {"top_p": 1, "n": 2}


def test_nbval_markers_are_stripped_from_cell_prompts() -> None:
    cell = "# NBVAL_CHECK_OUTPUT\nWhat is 2+2?\n  # NBVAL_IGNORE_OUTPUT\n"
    assert strip_markers(cell) == "What is 2+2?"


def _reply(text: str = "**Paris**") -> ChatReply:
    return ChatReply(text, "tiny", "m", "t1", "01X", {"temperature": 0},
                     {"completion_tokens": 3}, {"ttft_ms": 40.0, "total_ms": 120.0}, "stop")


def test_response_renders_markdown_with_text_fallback() -> None:
    response = ChatResponse(_reply(), "markdown")
    bundle = response._repr_mimebundle_()
    assert bundle == {"text/plain": "**Paris**", "text/markdown": "**Paris**"}
    assert str(response) == "**Paris**"
    code = ChatResponse(_reply("x = 1"), "code")._repr_mimebundle_()
    assert code["text/markdown"] == "```\nx = 1\n```"
    assert ChatResponse(_reply(), "text")._repr_mimebundle_() == {"text/plain": "**Paris**"}


def test_an_answer_streamed_to_a_terminal_is_summarised_not_repeated() -> None:
    response = ChatResponse(_reply(), "markdown", streamed_live=True)
    first = response._repr_mimebundle_()["text/plain"]
    assert first.startswith("— tiny") and "3 tokens" in first and "thread t1" in first
    assert "Paris" not in first and str(response) == "**Paris**"
    assert response.to_json()["usage"] == {"completion_tokens": 3}


def test_after_a_transient_live_view_the_answer_comes_with_its_summary() -> None:
    response = ChatResponse(_reply(), "markdown", summarize=True)
    first = response._repr_mimebundle_()
    assert first["text/plain"].startswith("**Paris**\n— tiny · 3 tokens")
    assert first["text/markdown"].startswith("**Paris**\n\n*— tiny")


@pytest.mark.parametrize("kwargs", [
    {}, {"streamed_live": True}, {"summarize": True}, {"notes": ("Note: x",)},
    {"fmt": "text", "summarize": True}, {"fmt": "code"},
])
def test_every_rendering_of_a_response_is_the_same(kwargs: dict[str, object]) -> None:
    """A ``repr()`` (a debugger, ``_``, a second display) never changes what shows next."""
    response = ChatResponse(_reply(), **kwargs)  # type: ignore[arg-type]
    first = (repr(response), response._repr_mimebundle_(), response.to_text(),
             response.to_markdown(), response.to_html())
    again = (repr(response), response._repr_mimebundle_(), response.to_text(),
             response.to_markdown(), response.to_html())
    assert first == again
    assert response._repr_mimebundle_()["text/plain"] == response.to_text() == repr(response)


def test_an_empty_answer_is_never_shown_as_nothing() -> None:
    """Issue 8 item 22: the reason, the finish reason and the token count, in every form."""
    import dataclasses

    empty = dataclasses.replace(_reply(""), usage={"completion_tokens": 0})
    for streamed in (True, False):
        response = ChatResponse(empty, "markdown", streamed_live=streamed)
        bundle = response._repr_mimebundle_()
        assert "empty answer: finish reason stop, 0 tokens" in bundle["text/plain"]
        assert "empty answer" in bundle["text/markdown"]
        assert "empty answer" in response.to_text()  # every rendering, not only the first
    assert "empty" in ChatResponse(empty).to_json()
    assert "empty" not in ChatResponse(_reply()).to_json()


@pytest.mark.parametrize(("finish", "markdown", "fallback", "message_id"), [
    ("length", True, None, "chat-empty-length"),
    ("stop", True, None, "chat-empty-stop"),
    ("stop", False, "alpaca", "chat-empty-stop"),
    ("stop", False, None, "chat-empty-base-model"),
])
def test_the_fix_for_an_empty_answer_follows_its_cause(
        finish: str, markdown: bool, fallback: str | None, message_id: str) -> None:
    import dataclasses

    from bodhi_nb.services.localization import LocalizationService

    reply = dataclasses.replace(_reply(""), finish_reason=finish, markdown=markdown,
                                fallback=fallback, usage=None)
    seen: list[str] = []

    def message(code: str, args: dict[str, object]) -> str:
        seen.append(code)
        return LocalizationService("fr-FR").message(code, {k: str(v) for k, v in args.items()})

    text = empty_explanation(reply, message, "%bodhi")
    assert seen == [message_id] and "réponse vide" in text and "0 jetons" in text
    assert "{" not in text  # every placeholder filled


def test_notes_lead_and_base_model_answers_render_as_text() -> None:
    response = ChatResponse(_reply("### Instruction:\nParis"), "text", streamed_live=True,
                            notes=("Note: no chat template.",))
    first = response._repr_mimebundle_()
    assert first["text/plain"].startswith("Note: no chat template.\n— tiny")
    assert "text/markdown" not in first and "### Instruction" not in first["text/plain"]
    again = ChatResponse(_reply(), "text", notes=("Note: x",))
    assert again.to_text() == "Note: x\n**Paris**"
    assert again._repr_mimebundle_() == {"text/plain": "Note: x\n**Paris**"}
    text = ChatResponse(_reply("### Answer: Nile"), "text", summarize=True)
    bundle = text._repr_mimebundle_()
    assert bundle == {"text/plain": "### Answer: Nile\n— tiny · 3 tokens · first token 40 ms "
                                    "· total 120 ms · thread t1"}


def test_display_live_shows_the_wait_then_the_answer(shell: object) -> None:
    """Issue 8 item 24: the notebook showed nothing while llama.cpp started."""
    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from bodhi_nb.notebook.live import DisplayLive

    sh = InteractiveShell.instance()
    sh.display_pub = CapturingDisplayPublisher()
    live = DisplayLive("auto")
    live.status("starting the model server for demo… 0 s")
    live.status("starting the model server for demo… 0 s")  # unchanged: no update
    live.status("model server for demo ready in 4.1 s", done=True)
    live.set_format("text")
    live.write("### Instruction")
    live.write(": Paris")
    live.close()
    shown = [o["data"] for o in sh.display_pub.outputs]
    assert shown[0] == {} and shown[-1] == {}  # transient: the result shows the answer
    assert shown.count({"text/plain": "starting the model server for demo… 0 s"}) == 1
    assert {"text/plain": "model server for demo ready in 4.1 s"} in shown
    # the first token replaces the wait at once (later ones at most fps times a second)
    assert shown[-2] == {"text/plain": "### Instruction"}
    assert not any("text/markdown" in bundle for bundle in shown)  # text, not a heading
    assert all(o["transient"]["display_id"] == sh.display_pub.outputs[0]["transient"][
        "display_id"] for o in sh.display_pub.outputs)


def test_stdout_live_puts_the_wait_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    live = StdoutLive()
    for seconds in range(3):
        live.status(f"starting the model server for demo… {seconds} s")
    live.status("model server for demo ready in 2.5 s", done=True)
    live.write("Paris")
    live.close()
    out, err = capsys.readouterr()
    assert out == "Paris\n"
    assert err == ("starting the model server for demo… 0 s\n"
                   "model server for demo ready in 2.5 s\n")  # not a terminal: one line each


def test_the_summary_line_speaks_the_users_language() -> None:
    from bodhi_nb.services.localization import LocalizationService

    french = LocalizationService("fr-FR")
    reply = _reply()
    reply.timings["startup_ms"] = 4100.0
    response = ChatResponse(reply, "text", summarize=True,
                            message=lambda code, args: french.message(code, args))
    assert response.summary() == ("— tiny · 3 jetons · premier jeton 40 ms (démarrage du "
                                  "serveur de modèle 4100 ms) · total 120 ms · fil t1")
    english = ChatResponse(reply, "text", summarize=True,
                           message=lambda code, args: LocalizationService("en-US").message(
                               code, args))
    assert english.summary() == ChatResponse(reply).summary()  # catalogue == built-in text
