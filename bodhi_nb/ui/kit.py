"""The shared kit of the panels: a table, a confirm strip, an error line and a base Panel.

Everything here is core ipywidgets 8, imported when a panel is made (never by
``%load_ext``). A panel is thin: it asks typed services, shows their records, and says
what went wrong as one coded, localized line (:func:`bodhi_nb.commands.render_error`).
Its ``text/plain`` form is the table the matching command prints, so terminal IPython,
VS Code without a widget manager and nbconvert show text, never ``VBox(...)``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anywidget
import ipywidgets as widgets
import traitlets

from bodhi_nb.commands.grammar import Context
from bodhi_nb.commands.results import _cell

if TYPE_CHECKING:
    from bodhi_nb.app import AppService
    from bodhi_nb.commands.results import Result

__all__ = ["PAGE_SIZES", "Column", "ConfirmStrip", "ErrorLine", "HeaderButton", "Panel",
           "RowAction", "RowButton", "RowField", "RowInput", "SecretBox", "Table", "TableView",
           "Throttle", "widget_tree"]

RowT = TypeVar("RowT")

#: the page sizes a table offers; the first page is all a 1,000-row table builds.
PAGE_SIZES: tuple[int, ...] = (10, 25, 50, 100)


def widget_tree(root: Any) -> list[Any]:
    """``root`` and every widget under it (children, and widgets held in traits)."""
    seen: dict[int, Any] = {}
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen or not isinstance(widget, widgets.Widget):
            continue
        seen[id(widget)] = widget
        for name in widget.keys:
            value = getattr(widget, name, None)
            if isinstance(value, widgets.Widget):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(v for v in value if isinstance(v, widgets.Widget))
    return list(seen.values())


class Throttle:
    """Lets an update through at most ``per_second`` times a second (the last one is never
    lost: ``flush`` sends it). Worker threads call it; it only sets traits."""

    def __init__(self, apply: Callable[[], None], per_second: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._apply = apply
        self._interval = 1.0 / per_second
        self._clock = clock
        self._last = float("-inf")
        self._pending = False
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """Apply now if the last update is old enough; else remember that one is due."""
        with self._lock:
            now = self._clock()
            if now - self._last < self._interval:
                self._pending = True
                return False
            self._last, self._pending = now, False
        self._apply()
        return True

    def flush(self) -> None:
        """Apply the update held back, if any (at the end of a download, say)."""
        with self._lock:
            due, self._pending = self._pending, False
            self._last = self._clock()
        if due:
            self._apply()


@dataclass(frozen=True)
class Column(Generic[RowT]):
    """A table column: its English key (the heading is the message ``col-KEY``), the value
    it sorts by, and optionally how that value shows (else as ``%bodhi`` tables show it)."""

    key: str
    value: Callable[[RowT], object]
    text: Callable[[RowT], str] | None = None

    def shown(self, row: RowT) -> str:
        return self.text(row) if self.text is not None else _cell(self.value(row))


@dataclass(frozen=True)
class RowAction(Generic[RowT]):
    """A button on every row: its label (already localized) and what it does to the row."""

    key: str
    label: str
    run: Callable[[RowT], None]
    disabled: bool = False
    tooltip: str = ""
    #: whether the button is enabled on a given row (when drawn); None: on every row
    enabled: Callable[[RowT], bool] | None = None


@dataclass(frozen=True)
class RowField:
    """A select (``options``: (label, value) pairs) or a text box on every row, drawn just
    before the button of action ``before``. What it holds reaches the kernel with a click
    on a button of its row; an action reads it with :meth:`Table.field`."""

    key: str
    kind: str = "text"  # "text" or "select"
    placeholder: str = ""
    options: tuple[tuple[str, str], ...] = ()
    #: what it holds on a new row (a select: the first option when empty)
    value: str = ""
    before: str | None = None

    @property
    def default(self) -> str:
        if not self.value and self.kind == "select" and self.options:
            return self.options[0][1]
        return self.value


def _sort_key(value: object) -> tuple[int, float, str]:
    # Numbers before text, blanks last, so a size or context column sorts as numbers.
    if value is None or value == "":
        return (2, 0.0, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value).casefold())


class Table(Generic[RowT]):
    """Rows of typed records: headers that sort on click (again: the other way), a filter
    box, paging. The kernel keeps the records, the filter, the order and the page; the page
    itself is one widget (:class:`TableView`) drawn by a few lines of JavaScript shipped in
    the package. A page of 25 rows as labels and buttons was some 350 widget models for the
    front end to make one by one: four seconds before a 1,000-model panel showed."""

    def __init__(self, ctx: Context, columns: Sequence[Column[RowT]], *,
                 actions: Sequence[RowAction[RowT]] = (), page_size: int = 25,
                 fields: Sequence[RowField] = (), row_key: Callable[[RowT], str] | None = None,
                 sortable: bool = True) -> None:
        self._ctx = ctx
        self.columns = tuple(columns)
        self.actions = tuple(actions)
        self.fields = tuple(fields)
        self._row_key = row_key
        #: what each row's fields hold, by row key (sent with a click, or set by
        #: :class:`RowInput`); a row not in it holds the fields' defaults
        self._values: dict[str, dict[str, str]] = {}
        self._rows: list[RowT] = []
        self._texts: list[tuple[str, ...]] = []
        self._haystacks: list[str] = []
        #: indices (into the records) of the rows on the page drawn last
        self._shown: list[int] = []
        self.sort_key: str | None = None
        self.descending = False
        self.page = 0
        self.headers: dict[str, HeaderButton] = {
            c.key: HeaderButton(self, c.key) for c in self.columns}
        self.filter = widgets.Text(placeholder=ctx.t("panel-filter"),
                                   continuous_update=True)
        self.filter.observe(self._on_filter, names="value")
        self.filter.add_class("bodhi-filter")
        self.page_size = widgets.Dropdown(
            options=[(str(n), n) for n in sorted({*PAGE_SIZES, page_size})], value=page_size,
            description=ctx.t("panel-page-size"), layout=widgets.Layout(width="12em"))
        self.page_size.observe(self._on_page_size, names="value")
        self.previous = widgets.Button(description=ctx.t("panel-previous"))
        self.next = widgets.Button(description=ctx.t("panel-next"))
        self.previous.on_click(lambda _b: self.go(self.page - 1))
        self.next.on_click(lambda _b: self.go(self.page + 1))
        # CSS classes name the parts for browser tests and themes (bodhi-sort-size...).
        self.previous.add_class("bodhi-previous")
        self.next.add_class("bodhi-next")
        self.where = widgets.Label()
        self.where.add_class("bodhi-table-where")
        self.grid = TableView(
            columns=[{"key": c.key, "heading": ctx.heading(c.key),
                      **({} if sortable else {"sortable": False})} for c in self.columns],
            actions=[{"key": a.key, "label": a.label, "tooltip": a.tooltip}
                     for a in self.actions],
            fields=[{"key": f.key, "kind": f.kind, "placeholder": f.placeholder,
                     "options": [list(o) for o in f.options], "value": f.default,
                     "before": f.before} for f in self.fields],
            empty=ctx.t("panel-no-rows"))
        self.grid.on_msg(self._on_view_msg)
        #: the buttons of the visible rows, by action key (what a click on them does).
        self.row_buttons: list[dict[str, RowButton]] = []
        #: the fields of the visible rows, by field key
        self.row_fields: list[dict[str, RowInput]] = []
        self.widget = widgets.VBox([
            self.filter, self.grid,
            widgets.HBox([self.previous, self.next, self.where, self.page_size]),
        ])

    # -- data -------------------------------------------------------------------------------

    def set_rows(self, rows: Sequence[RowT]) -> None:
        """Show these records (the filter, sort and page size stay; the page is clamped)."""
        self._rows = list(rows)
        self._texts = [tuple(c.shown(r) for c in self.columns) for r in self._rows]
        # What the filter searches, folded once (cells apart: a match never spans two).
        self._haystacks = ["\x00".join(t).casefold() for t in self._texts]
        if self._row_key is not None and self._values:  # forget rows that have gone
            present = {self._row_key(r) for r in self._rows}
            self._values = {k: v for k, v in self._values.items() if k in present}
        self._render()

    @property
    def rows(self) -> list[RowT]:
        return list(self._rows)

    def matching(self) -> list[RowT]:
        """The rows the filter lets through, in the current order."""
        return [self._rows[i] for i in self._matching()]

    def _matching(self) -> list[int]:
        needle = str(self.filter.value).strip().casefold()
        picked = [i for i, hay in enumerate(self._haystacks) if needle in hay]
        if self.sort_key is not None:
            column = next(c for c in self.columns if c.key == self.sort_key)
            picked.sort(key=lambda i: _sort_key(column.value(self._rows[i])),
                        reverse=self.descending)
        return picked

    def visible(self) -> list[RowT]:
        """The rows of the current page."""
        size = int(self.page_size.value)
        return self.matching()[self.page * size:(self.page + 1) * size]

    def pages(self) -> int:
        return max(1, -(-len(self.matching()) // int(self.page_size.value)))

    def cells(self) -> list[list[str]]:
        """The text of the visible page's cells, row by row (what the browser draws)."""
        return [list(row) for row in self.grid.rows]

    # -- what the controls do ---------------------------------------------------------------

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort by column ``key``; without ``descending``, a second click reverses."""
        if descending is None:
            descending = not self.descending if self.sort_key == key else False
        self.sort_key, self.descending = key, descending
        self.page = 0
        self._render()

    def go(self, page: int) -> None:
        self.page = page
        self._render()

    def redraw(self) -> None:
        """Draw the page again (a row's enabled buttons may have changed)."""
        self._render()

    def key_of(self, row: RowT) -> str:
        """The row's key (``row_key``; else its place among the records)."""
        return self._row_key(row) if self._row_key is not None else str(self._rows.index(row))

    def field(self, row: RowT, key: str) -> str:
        """What field ``key`` of ``row`` holds (its default until a value came)."""
        spec = next(f for f in self.fields if f.key == key)
        return self._values.get(self.key_of(row), {}).get(key, spec.default)

    def set_field(self, row: RowT, key: str, value: str) -> None:
        self._values.setdefault(self.key_of(row), {})[key] = str(value)

    def press(self, index: int, key: str, fields: Mapping[str, object] | None = None) -> None:
        """What a click on button ``key`` of visible row ``index`` does (nothing when that
        button is disabled there, as in the browser); ``fields``: what the row's fields
        held in the page."""
        if not 0 <= index < len(self._shown):
            return
        k = next((n for n, a in enumerate(self.actions) if a.key == key), None)
        if k is None or self.grid.disabled[index][k]:
            return
        row = self._rows[self._shown[index]]
        known = {f.key for f in self.fields}
        for name, value in (fields or {}).items():
            if name in known and isinstance(value, str):
                self.set_field(row, name, value)
        self.actions[k].run(row)

    def _on_view_msg(self, _view: object, content: dict[str, Any], _buffers: object) -> None:
        if not isinstance(content, dict) or content.get("version") != self.grid.version:
            return  # a click on a page drawn before the last change: dropped
        kind, key = content.get("kind"), content.get("key")
        if kind == "sort" and key in self.headers:
            self.sort_by(str(key))
        elif kind == "action" and isinstance(content.get("row"), int):
            fields = content.get("fields")
            self.press(int(content["row"]), str(key),
                       fields if isinstance(fields, dict) else None)

    def _on_filter(self, _change: dict[str, Any]) -> None:
        self.page = 0
        self._render()

    def _on_page_size(self, _change: dict[str, Any]) -> None:
        self.page = 0
        self._render()

    # -- drawing ----------------------------------------------------------------------------

    def heading(self, key: str) -> str:
        """Column ``key``'s heading with the sort mark when it is the sort column."""
        mark = (" ▼" if self.descending else " ▲") if key == self.sort_key else ""
        return self._ctx.heading(key) + mark

    def _render(self) -> None:
        matching = self._matching()
        size = int(self.page_size.value)
        pages = max(1, -(-len(matching) // size))
        self.page = min(max(self.page, 0), pages - 1)
        shown = matching[self.page * size:(self.page + 1) * size]
        self._shown = shown
        disabled = [[a.disabled or (a.enabled is not None and not a.enabled(self._rows[i]))
                     for a in self.actions] for i in shown]
        with self.grid.hold_sync():  # one message for the whole page
            self.grid.sort_key = self.sort_key
            self.grid.descending = self.descending
            self.grid.rows = [list(self._texts[i]) for i in shown]
            self.grid.disabled = disabled
            if self._row_key is not None:
                self.grid.row_keys = [self._row_key(self._rows[i]) for i in shown]
            self.grid.version += 1
        self.row_buttons = [{a.key: RowButton(self, n, a) for a in self.actions}
                            for n in range(len(shown))]
        self.row_fields = [{f.key: RowInput(self, self._rows[i], f.key) for f in self.fields}
                           for i in shown]
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= pages - 1
        self.where.value = self._ctx.t("panel-page", page=self.page + 1, pages=pages,
                                       rows=len(matching), total=len(self._rows))


class TableView(anywidget.AnyWidget):
    """The visible page of a :class:`Table`, as one widget (``table.js`` draws it)."""

    _esm = Path(__file__).with_name("table.js")
    _css = """
    .bodhi-table { overflow-x: auto; max-width: 100%; }
    .bodhi-table-page { border-collapse: collapse; font-family: var(--jp-ui-font-family);
      font-size: var(--jp-widgets-font-size); color: var(--jp-widgets-color); }
    .bodhi-table-page th { text-align: left; padding: 0 8px 2px 0; }
    .bodhi-table-page td { padding: 1px 12px 1px 0; white-space: nowrap; }
    .bodhi-table-page .bodhi-row-actions { padding-right: 0; }
    .bodhi-table-page .bodhi-row-actions button { margin: 0 2px 0 0; width: auto; }
    .bodhi-table-page th button { width: auto; margin: 0; }
    .bodhi-table-page .bodhi-no-rows { font-style: italic; }
    .bodhi-table-page .bodhi-field { margin: 0 2px 0 0; font: inherit; max-width: 10em; }
    """
    columns = traitlets.List(traitlets.Dict()).tag(sync=True)
    actions = traitlets.List(traitlets.Dict()).tag(sync=True)
    rows = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    disabled = traitlets.List(traitlets.List(traitlets.Bool())).tag(sync=True)
    sort_key = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    descending = traitlets.Bool(False).tag(sync=True)
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)
    #: a key per visible row: what a row's fields hold is kept across redraws by it
    row_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
    empty = traitlets.Unicode("").tag(sync=True)
    #: which page a click was made on (a click on an older one is dropped)
    version = traitlets.Int(0).tag(sync=True)


class HeaderButton:
    """A column heading of a :class:`Table`: ``click()`` sorts as a click in the browser."""

    def __init__(self, table: Table[Any], key: str) -> None:
        self._table = table
        self.key = key

    @property
    def description(self) -> str:
        return self._table.heading(self.key)

    def click(self) -> None:
        self._table.sort_by(self.key)


class RowButton:
    """A button of a visible row: ``click()`` does what a click in the browser does;
    ``disabled`` can be set (the page is drawn again)."""

    def __init__(self, table: Table[Any], index: int, action: RowAction[Any]) -> None:
        self._table = table
        self.index = index
        self.action = action

    @property
    def description(self) -> str:
        return self.action.label

    @property
    def tooltip(self) -> str:
        return self.action.tooltip

    @property
    def _k(self) -> int:
        return self._table.actions.index(self.action)

    @property
    def disabled(self) -> bool:
        return bool(self._table.grid.disabled[self.index][self._k])

    @disabled.setter
    def disabled(self, value: bool) -> None:
        grid = self._table.grid
        matrix = [list(r) for r in grid.disabled]
        matrix[self.index][self._k] = bool(value)
        grid.disabled = matrix

    def click(self) -> None:
        self._table.press(self.index, self.action.key)


class RowInput:
    """A field of a visible row: ``value`` is what the kernel will read at the next click
    on that row's buttons (set it as a user would choose or type in the page)."""

    def __init__(self, table: Table[Any], row: object, key: str) -> None:
        self._table = table
        self._row = row
        self.key = key

    @property
    def options(self) -> list[str]:
        return [value for _label, value in
                next(f for f in self._table.fields if f.key == self.key).options]

    @property
    def value(self) -> str:
        return self._table.field(self._row, self.key)

    @value.setter
    def value(self, value: str) -> None:
        self._table.set_field(self._row, self.key, value)


class ConfirmStrip:
    """A question with Yes and No in the panel (never ``input()``); hidden until asked."""

    def __init__(self, ctx: Context) -> None:
        self.question = widgets.Label()
        self.yes = widgets.Button(description=ctx.t("panel-yes"), button_style="danger")
        self.no = widgets.Button(description=ctx.t("panel-no"))
        self.yes.on_click(lambda _b: self._answer(True))
        self.no.on_click(lambda _b: self._answer(False))
        self.widget = widgets.HBox([self.question, self.yes, self.no],
                                   layout=widgets.Layout(display="none"))
        self.widget.add_class("bodhi-confirm")
        self.question.add_class("bodhi-confirm-question")
        self.yes.add_class("bodhi-confirm-yes")
        self.no.add_class("bodhi-confirm-no")
        self._then: Callable[[], None] | None = None

    @property
    def asking(self) -> bool:
        return self._then is not None

    def ask(self, question: str, then: Callable[[], None]) -> None:
        """Show ``question``; Yes runs ``then``, No forgets it."""
        self.question.value = question
        self._then = then
        self.widget.layout.display = "flex"

    def _answer(self, yes: bool) -> None:
        then, self._then = self._then, None
        self.question.value = ""
        self.widget.layout.display = "none"
        if yes and then is not None:
            then()


class ErrorLine:
    """Where a panel says what went wrong: one coded, localized line, never a traceback."""

    def __init__(self, ctx: Context, app: AppService) -> None:
        self._ctx = ctx
        self._app = app
        self.widget = widgets.Label(style={"text_color": "#b00020"})
        self.widget.add_class("bodhi-error")

    @property
    def text(self) -> str:
        return str(self.widget.value)

    def show(self, error: BaseException) -> None:
        from bodhi_nb.commands import render_error

        self.widget.value = render_error(error, prog=self._ctx.prog,
                                         app_factory=lambda: self._app)

    def clear(self) -> None:
        self.widget.value = ""


class SecretBox(widgets.Password):  # type: ignore[misc]
    """A ``Password`` box whose value the kernel never echoes back to the front ends
    (ipywidgets 8 echoes every value a front end sends, to keep other views in step): what
    was typed goes one way, into the kernel, and the panel empties the box once read."""

    value = traitlets.Unicode("", help="the typed value").tag(sync=True, echo_update=False)


class Panel(widgets.VBox):  # type: ignore[misc]
    """Base of the panels: a VBox with a status line and an error line, whose text/plain
    form is :meth:`listing`'s text (the table the matching command prints)."""

    def __init__(self, app: AppService, *, prog: str = "%bodhi") -> None:
        super().__init__()
        self.app = app
        self.ctx = Context(prog=prog, localization=app.localization_service())
        self.status = widgets.Label()
        self.status.add_class("bodhi-status")
        self.error = ErrorLine(self.ctx, app)
        self.confirm = ConfirmStrip(self.ctx)

    def t(self, message_id: str, **args: Any) -> str:
        return self.ctx.t(message_id, **args)

    def listing(self) -> Result:
        """The result object the matching command returns (its text is this panel's)."""
        raise NotImplementedError

    def text(self) -> str:
        try:
            return self.listing().to_text()
        except Exception as exc:  # the text form says what failed, in one line
            from bodhi_nb.commands import render_error

            return render_error(exc, prog=self.ctx.prog, app_factory=lambda: self.app)

    def attempt(self, step: Callable[[], str | None]) -> bool:
        """Run a user's step: its message (if any) goes to the status line; a failure to the
        error line. True when it succeeded."""
        self.error.clear()
        try:
            said = step()
        except Exception as exc:
            self.status.value = ""
            self.error.show(exc)
            return False
        self.status.value = said or ""
        return True

    def attempt_then_refresh(self, step: Callable[[], str | None]) -> None:
        """:meth:`attempt`; after a failure, show the list as it is now (another kernel may
        have changed it) while keeping the error line."""
        if not self.attempt(step):
            with contextlib.suppress(Exception):
                self.refresh()

    def refresh(self) -> None:
        """Read the records again from the services."""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.text()
        return bundle

    def __repr__(self) -> str:
        return self.text()
