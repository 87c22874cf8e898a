"""How results render: alignment, ids, timestamps, inline code, preformatted help."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.commands.results import Message, Table, format_timestamp, short_id

ULID = "01JDX4Q2ZKZ8V9M0N7C3B5T1RA"
WHEN = datetime(2026, 12, 1, 23, 58, 36, tzinfo=UTC)


def _table() -> Table:
    return Table(("id", "file", "size", "updated"),
                 [(ULID, "Llama-3.2-1B-Instruct-Q4_K_M.gguf", "770.3 MiB", WHEN),
                  ("01JDX4Q2ZKZ8V9M0N7C3B5T1RB", "a.gguf", "12 B", None)])


def test_text_columns_left_numbers_right() -> None:
    lines = _table().to_text().splitlines()
    file_col = lines[0].index("file")
    assert lines[2][file_col:].startswith("Llama")
    assert lines[3][file_col:].startswith("a.gguf")   # left-aligned, not padded on the left
    size_end = lines[2].index("MiB") + 3
    assert lines[3][:size_end].endswith("12 B")        # right-aligned under 770.3 MiB


def test_html_says_the_alignment_and_keeps_short_columns_on_one_line() -> None:
    page = _table().to_html()
    cells = re.findall(r'<td style="([^"]*)">([^<]*)</td>', page)
    styles = {value: style for style, value in cells}
    assert "text-align:left" in styles["Llama-3.2-1B-Instruct-Q4_K_M.gguf"]
    assert "text-align:right" in styles["770.3 MiB"]
    assert "white-space:nowrap" in styles[short_id(ULID)]
    markdown = _table().to_markdown().splitlines()
    assert markdown[1] == "|:---|:---|---:|:---|"


def test_ulids_show_short_and_json_keeps_them_whole() -> None:
    table = _table()
    assert short_id(ULID) == ULID[-8:]
    assert ULID not in table.to_text() and ULID[-8:] in table.to_text()
    assert ULID not in table.to_html()
    assert table.to_json()[0]["id"] == ULID
    assert short_id("not-a-ulid") == "not-a-ulid"


def test_one_timestamp_format() -> None:
    paris = timezone(timedelta(hours=1))
    assert format_timestamp(WHEN) == "2026-12-01 23:58:36 UTC"
    assert format_timestamp(WHEN.astimezone(paris)) == "2026-12-01 23:58:36 UTC"
    assert "2026-12-01 23:58:36 UTC" in _table().to_text()
    assert "+00:00" not in _table().to_text()


def test_backticks_are_inline_code_in_html_and_markdown() -> None:
    hint = Message("`%bodhi help COMMAND` shows a command's arguments",
                   ("run `%bodhi ls` <now>",))
    assert "<code>%bodhi help COMMAND</code>" in hint.to_html()
    assert "`" not in hint.to_html()
    assert "&lt;now&gt;" in hint.to_html()
    markdown = hint.to_markdown()
    assert markdown.startswith("`%bodhi help COMMAND`")
    table = Table(("a",), [], title="T", empty="(none; `%bodhi pull X`)")
    assert "<code>%bodhi pull X</code>" in table.to_html()


def test_help_for_a_command_is_preformatted(shell: InteractiveShell) -> None:
    result = shell.run_line_magic("bodhi", "help settings")
    bundle = result._repr_mimebundle_()
    assert bundle["text/markdown"].startswith("```\n") and bundle["text/markdown"].endswith("```")
    assert bundle["text/html"].startswith("<pre>")
    assert "\n" in bundle["text/markdown"].strip("`\n")
    assert "--unset" in bundle["text/plain"]


def test_json_timestamps_are_iso_8601_utc() -> None:
    import json

    from bodhi_nb.commands.results import JsonView

    text = JsonView(_table()).to_text()
    assert json.loads(text)[0]["updated"] == "2026-12-01T23:58:36Z"
