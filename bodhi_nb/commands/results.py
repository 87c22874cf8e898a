"""Result objects: what a command returns, rendered by whoever shows it.

Every result renders as text/plain (terminal IPython, the CLI), text/markdown and text/html
(JupyterLab, VS Code, Colab) and JSON (``--json``, widgets). Printing is the front end's job.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["SHORT_ID", "JsonView", "Message", "Result", "Sections", "Table", "WithJson",
           "format_timestamp", "human_bytes", "inline_html", "short_id"]


def human_bytes(size: float | None) -> str:
    """``253_000_000`` -> ``241.3 MiB``; None -> empty."""
    if size is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"


class Result:
    """Base: subclasses provide ``to_text`` and ``to_json``; the rest derive from them."""

    def to_text(self) -> str:
        raise NotImplementedError

    def to_json(self) -> Any:
        raise NotImplementedError

    def to_markdown(self) -> str:
        return "```\n" + self.to_text() + "\n```"

    def to_html(self) -> str:
        return f"<pre>{html.escape(self.to_text())}</pre>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            "text/plain": self.to_text(),
            "text/markdown": self.to_markdown(),
            "text/html": self.to_html(),
        }

    def __repr__(self) -> str:
        # Plain IPython and `Out[n]` show this.
        return self.to_text()

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True, repr=False)
class Message(Result):
    """One or more lines of text; ``notices`` are secondary lines (warnings, hints).

    In Markdown and HTML, `backticks` in the text mark inline code. ``preformatted`` text
    (a command's help, YAML) keeps its lines and spacing: a code block, ``<pre>``.
    """

    text: str
    notices: tuple[str, ...] = ()
    data: Any = None
    preformatted: bool = False

    def to_text(self) -> str:
        return "\n".join([self.text, *self.notices])

    def to_markdown(self) -> str:
        if self.preformatted:
            fence = "````" if "```" in self.text else "```"
            body = f"{fence}\n{self.text}\n{fence}"
        else:
            body = "  \n".join(_md_inline(line) for line in self.text.split("\n"))
        return "\n\n".join([body, *(f"*{_md_inline(n)}*" for n in self.notices)])

    def to_html(self) -> str:
        if self.preformatted:
            parts = [f"<pre>{html.escape(self.text)}</pre>"]
        else:
            parts = ["<div>" + "<br>".join(inline_html(line) for line in self.text.split("\n"))
                     + "</div>"]
        parts += [f"<div><em>{inline_html(n)}</em></div>" for n in self.notices]
        return "".join(parts)

    def to_json(self) -> Any:
        if self.data is not None:
            return self.data
        return {"message": self.text, "notices": list(self.notices)}


_ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
_NUMERIC = re.compile(r"-?[0-9][0-9,.]*( ?(%|B|KiB|MiB|GiB|TiB|s|ms))?")
#: how many characters of a ULID tables show; commands accept any unique prefix or suffix.
SHORT_ID = 8


def short_id(value: str) -> str:
    """A ULID's last :data:`SHORT_ID` characters (the random part: unique in practice)."""
    return value[-SHORT_ID:] if _ULID.fullmatch(value) else value


def format_timestamp(value: datetime) -> str:
    """The one timestamp format of every table: ``2026-12-01 23:58:36 UTC``."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _cell(value: Any, yes_no: tuple[str, str] = ("yes", "no"), full_ids: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no[0] if value else yes_no[1]
    if isinstance(value, datetime):
        return format_timestamp(value)
    text = str(value)
    return text if full_ids else short_id(text)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) or bool(
        isinstance(value, str) and _NUMERIC.fullmatch(value))


def _md_inline(text: str) -> str:
    """Markdown for a line of text whose `backticks` mark code: kept, the rest escaped."""
    parts = text.split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: nothing is code
        parts = [text]
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"`{part}`")
        else:
            out.append(re.sub(r"([\\*_\[\]<>#|])", r"\\\1", part))
    return "".join(out)


def inline_html(text: str) -> str:
    """HTML for a line of text whose `backticks` mark code: ``<code>`` for those parts."""
    parts = text.split("`")
    if len(parts) % 2 == 0:
        return html.escape(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))


@dataclass(frozen=True, repr=False)
class Table(Result):
    """Rows under named columns; ``title`` is optional.

    Text columns are left-aligned and number columns (numbers, sizes, percentages)
    right-aligned; timestamps show in one format (:func:`format_timestamp`); ULIDs show by
    their last characters (:func:`short_id`) unless ``full_ids``. JSON gets the full values,
    keyed by ``keys`` (stable, English) when the visible ``columns`` are localized.
    """

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str | None = None
    empty: str = "(none)"
    #: what ``--json`` and widgets get, when richer than the visible columns.
    records: Any = None
    #: JSON keys for the columns (default: the column headings).
    keys: Sequence[str] | None = None
    #: how booleans read in this table's language.
    yes_no: tuple[str, str] = ("yes", "no")
    full_ids: bool = False

    def _cells(self) -> list[list[str]]:
        return [[_cell(v, self.yes_no, self.full_ids) for v in row] for row in self.rows]

    def _numeric(self) -> list[bool]:
        """Per column: every non-empty value is a number."""
        out = []
        for i in range(len(self.columns)):
            values = [row[i] for row in self.rows if row[i] not in (None, "")]
            out.append(bool(values) and all(_is_number(v) for v in values))
        return out

    def to_text(self) -> str:
        cells = self._cells()
        lines = [self.title] if self.title else []
        if not cells:
            return "\n".join([*lines, self.empty])
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(self.columns)]
        numeric = self._numeric()

        def line(values: Sequence[str], align: bool = True) -> str:
            return "  ".join(v.rjust(w) if align and n else v.ljust(w)
                             for v, w, n in zip(values, widths, numeric, strict=True)).rstrip()

        lines += [line(self.columns, align=False), line(["-" * w for w in widths])]
        lines += [line(r) for r in cells]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        cells = self._cells()
        head = [f"**{_md_inline(self.title)}**", ""] if self.title else []
        if not cells:
            return "\n".join([*head, _md_inline(self.empty)])

        def esc(v: str) -> str:
            return v.replace("|", "\\|").replace("\n", " ")

        rows = ["| " + " | ".join(esc(c) for c in self.columns) + " |",
                "|" + "|".join("---:" if n else ":---" for n in self._numeric()) + "|"]
        rows += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells]
        return "\n".join(head + rows)

    def to_html(self) -> str:
        cells = self._cells()
        title = f"<h4>{inline_html(self.title)}</h4>" if self.title else ""
        if not cells:
            return f"{title}<p>{inline_html(self.empty)}</p>"
        # JupyterLab right-aligns table cells: say the alignment on every cell. Short columns
        # (ids, sizes, dates) never wrap, so a file name is not squeezed behind them.
        styles = []
        for i, numeric in enumerate(self._numeric()):
            longest = max(len(r[i]) for r in cells)
            style = f"text-align:{'right' if numeric else 'left'}"
            if longest <= 32:
                style += ";white-space:nowrap"
            styles.append(style)
        head = "".join(f'<th style="{st}">{html.escape(c)}</th>'
                       for c, st in zip(self.columns, styles, strict=True))
        body = "".join("<tr>" + "".join(f'<td style="{st}">{html.escape(v)}</td>'
                                        for v, st in zip(r, styles, strict=True)) + "</tr>"
                       for r in cells)
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def to_json(self) -> Any:
        if self.records is not None:
            return self.records
        return [dict(zip(self.keys or self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True, repr=False)
class Serving(Message):
    """The answer of a command that starts a server in this process's background threads
    (``hub serve``, ``serve``). A terminal keeps the process alive until Ctrl-C, then calls
    :meth:`stop` and prints ``stopped``; a notebook shows it and returns at once."""

    stopped: str = ""

    def stop(self) -> None:
        """Stop the server this result started."""
        raise NotImplementedError


@dataclass(frozen=True, repr=False)
class Sections(Result):
    """Several results one after the other, each keyed by a name in JSON."""

    parts: Sequence[tuple[str, Result]] = field(default_factory=tuple)

    def to_text(self) -> str:
        return "\n\n".join(p.to_text() for _, p in self.parts)

    def to_markdown(self) -> str:
        return "\n\n".join(p.to_markdown() for _, p in self.parts)

    def to_html(self) -> str:
        return "".join(p.to_html() for _, p in self.parts)

    def to_json(self) -> Any:
        return {name: p.to_json() for name, p in self.parts}


def _json_value(value: Any) -> Any:
    """JSON for what json cannot write: timestamps as ISO 8601 in UTC (``...Z``)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat().replace("+00:00", "") + "Z"
    return str(value)


@dataclass(frozen=True, repr=False)
class WithJson(Result):
    """``inner`` shown as it is, with its own JSON (``--json``): a table whose JSON is more
    than its rows (a page of users with the page's counts)."""

    inner: Result
    data: Any

    def to_text(self) -> str:
        return self.inner.to_text()

    def to_markdown(self) -> str:
        return self.inner.to_markdown()

    def to_html(self) -> str:
        return self.inner.to_html()

    def to_json(self) -> Any:
        return self.data


@dataclass(frozen=True, repr=False)
class JsonView(Result):
    """A result shown as its JSON (``--json``)."""

    inner: Result

    def to_text(self) -> str:
        return json.dumps(self.inner.to_json(), indent=2, sort_keys=True, default=_json_value)

    def to_json(self) -> Any:
        return self.inner.to_json()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.to_text(),
                "application/json": json.loads(self.to_text())}
