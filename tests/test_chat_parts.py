"""The chat command's own pieces: interpolation, parameters, markers, rendering."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bodhi_nb.commands.chat import ChatResponse, interpolate, parse_params, strip_markers
from bodhi_nb.errors import BadParamError, OutOfRangeError
from bodhi_nb.services.chat import ChatReply


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
    with pytest.raises(OutOfRangeError) as info:
        parse_params(["temperature=3"])
    assert info.value.params["name"] == "temperature"
    with pytest.raises(BadParamError):
        parse_params(["temperature"])


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


def test_streamed_answer_is_summarised_once_then_shown_in_full() -> None:
    response = ChatResponse(_reply(), "markdown", streamed_live=True)
    first = response._repr_mimebundle_()["text/plain"]
    assert first.startswith("— tiny") and "3 tokens" in first and "thread t1" in first
    assert response._repr_mimebundle_()["text/plain"] == "**Paris**"
    assert response.to_json()["usage"] == {"completion_tokens": 3}
