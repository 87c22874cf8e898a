"""Result objects: what a command returns, rendered by whoever shows it.

Every result renders as text/plain (terminal IPython, the CLI), text/markdown and text/html
(JupyterLab, VS Code, Colab) and JSON (``--json``, widgets). Printing is the front end's job.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["JsonView", "Message", "Result", "Sections", "Table", "human_bytes"]


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
    """One or more lines of text; ``notices`` are secondary lines (warnings, hints)."""

    text: str
    notices: tuple[str, ...] = ()
    data: Any = None

    def to_text(self) -> str:
        return "\n".join([self.text, *self.notices])

    def to_markdown(self) -> str:
        return "\n\n".join([self.text, *(f"*{n}*" for n in self.notices)])

    def to_html(self) -> str:
        parts = [f"<div>{html.escape(self.text)}</div>"]
        parts += [f"<div><em>{html.escape(n)}</em></div>" for n in self.notices]
        return "".join(parts)

    def to_json(self) -> Any:
        if self.data is not None:
            return self.data
        return {"message": self.text, "notices": list(self.notices)}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True, repr=False)
class Table(Result):
    """Rows under named columns; ``title`` is optional."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]
    title: str | None = None
    empty: str = "(none)"
    #: what ``--json`` and widgets get, when richer than the visible columns.
    records: Any = None

    def _cells(self) -> list[list[str]]:
        return [[_cell(v) for v in row] for row in self.rows]

    def to_text(self) -> str:
        cells = self._cells()
        lines = [self.title] if self.title else []
        if not cells:
            return "\n".join([*lines, self.empty])
        widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(self.columns)]

        def line(values: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

        lines += [line(self.columns), line(["-" * w for w in widths])]
        lines += [line(r) for r in cells]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        cells = self._cells()
        head = [f"**{self.title}**", ""] if self.title else []
        if not cells:
            return "\n".join([*head, self.empty])

        def esc(v: str) -> str:
            return v.replace("|", "\\|").replace("\n", " ")

        rows = ["| " + " | ".join(esc(c) for c in self.columns) + " |",
                "|" + "|".join("---" for _ in self.columns) + "|"]
        rows += ["| " + " | ".join(esc(c) for c in r) + " |" for r in cells]
        return "\n".join(head + rows)

    def to_html(self) -> str:
        cells = self._cells()
        title = f"<h4>{html.escape(self.title)}</h4>" if self.title else ""
        if not cells:
            return f"{title}<p>{html.escape(self.empty)}</p>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>"
                       for r in cells)
        return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def to_json(self) -> Any:
        if self.records is not None:
            return self.records
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


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


@dataclass(frozen=True, repr=False)
class JsonView(Result):
    """A result shown as its JSON (``--json``)."""

    inner: Result

    def to_text(self) -> str:
        return json.dumps(self.inner.to_json(), indent=2, sort_keys=True, default=str)

    def to_json(self) -> Any:
        return self.inner.to_json()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.to_text(),
                "application/json": json.loads(self.to_text())}
