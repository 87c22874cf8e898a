"""The widget panels driven from Python (no browser): set values, click, read the tree.

A real registry on the test's BODHI_HOME, real GGUF files in the HF cache; buttons are
pressed with ``button.click()`` as ipywidgets' own tests do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _secret_support import HEADLESS
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.app import DefaultAppService
from bodhi_nb.commands import Context, execute
from bodhi_nb.commands.panel import PanelView
from bodhi_nb.commands.results import Result
from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache

VALUE = "hf_pAnElSeCrEt_0123456789abcdef"


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    # The master key lives in a file under BODHI_HOME: no desktop keyring in tests.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def hf_cache(isolated_env: Path) -> Path:
    return Path(os.environ["HF_HOME"]) / "hub"


@pytest.fixture
def two_models(hf_cache: Path, tmp_path: Path) -> list[Path]:
    small = make_gguf(tmp_path / "small.gguf", arch="llama", context_length=2048,
                      file_type=15, size_bytes=1 << 20)
    big = make_gguf(tmp_path / "big.gguf", arch="qwen2", context_length=32768,
                    file_type=7, size_bytes=3 << 20)
    return [put_in_hf_cache(hf_cache, "acme/small-GGUF", "small-Q4_K_M.gguf", small),
            put_in_hf_cache(hf_cache, "zeta/big-GGUF", "big-Q8_0.gguf", big)]


def _tree(panel: Any) -> list[Any]:
    from bodhi_nb.ui.kit import widget_tree

    return widget_tree(panel)


def _state_text(panel: Any) -> str:
    """Every widget's state, as the front end would receive it."""
    return "\n".join(json.dumps(w.get_state(), default=str) for w in _tree(panel))


# -- kit ---------------------------------------------------------------------------------------


def test_table_sorts_filters_and_pages_typed_records(app: DefaultAppService) -> None:
    from bodhi_nb.ui.kit import Column, RowAction, Table

    ctx = Context(localization=app.localization_service())
    pressed: list[int] = []
    rows = [(i, f"model-{i:04d}", (i * 7919) % 1000) for i in range(1000)]
    table = Table(ctx, (Column("id", lambda r: r[0]), Column("name", lambda r: r[1]),
                        Column("size", lambda r: r[2])),
                  actions=(RowAction("pick", "Pick", lambda r: pressed.append(r[0])),),
                  page_size=25)
    table.set_rows(rows)
    # Only the page is sent to the browser: 25 rows of 3 cells, in one widget.
    assert len(table.cells()) == 25 and table.cells()[0] == ["0", "model-0000", "0"]
    assert table.grid.columns[1] == {"key": "name", "heading": "name"}
    assert [r[0] for r in table.visible()] == list(range(25))
    assert table.where.value == "page 1 of 40 · 1000 of 1000 rows"
    assert table.previous.disabled and not table.next.disabled

    table.headers["size"].click()
    assert [r[2] for r in table.visible()][:3] == [0, 1, 2]
    assert table.headers["size"].description.endswith("▲")
    table.headers["size"].click()
    assert [r[2] for r in table.visible()][:3] == [999, 998, 997]
    assert table.headers["size"].description.endswith("▼")

    from ipywidgets.widgets.widget import _instances

    made = len(_instances)
    version = table.grid.version
    table.next.click()
    assert table.page == 1 and table.visible()[0][2] == 974
    assert table.cells()[0][2] == "974" and table.grid.version > version
    assert len(_instances) == made  # paging and sorting make no widget
    table.filter.value = "model-00"  # 0..99, still sorted by size, descending
    assert table.page == 0
    assert len(table.matching()) == 100
    assert all(r[0] < 100 for r in table.visible())
    sizes = [r[2] for r in table.matching()]
    assert sizes == sorted(sizes, reverse=True)
    assert len(_instances) == made
    table.page_size.value = 10
    assert table.pages() == 10 and len(table.visible()) == 10

    table.row_buttons[2]["pick"].click()
    assert pressed == [table.visible()[2][0]]

    table.filter.value = "no such model"
    assert table.visible() == [] and table.next.disabled
    assert table.where.value.startswith("page 1 of 1 · 0 of 1000")


def test_confirm_strip_runs_only_on_yes(app: DefaultAppService) -> None:
    from bodhi_nb.ui.kit import ConfirmStrip

    strip = ConfirmStrip(Context(localization=app.localization_service()))
    done: list[str] = []
    assert strip.widget.layout.display == "none"
    strip.ask("Really?", lambda: done.append("first"))
    assert strip.asking and strip.question.value == "Really?"
    assert strip.widget.layout.display == "flex"
    strip.no.click()
    assert done == [] and not strip.asking and strip.widget.layout.display == "none"
    strip.ask("Really?", lambda: done.append("second"))
    strip.yes.click()
    strip.yes.click()  # a second click has nothing left to confirm
    assert done == ["second"]


def test_throttle_lets_ten_a_second_through_and_flushes_the_last() -> None:
    from bodhi_nb.ui.kit import Throttle

    now = [0.0]
    applied: list[float] = []
    throttle = Throttle(lambda: applied.append(now[0]), per_second=10, clock=lambda: now[0])
    for _ in range(100):  # 100 updates over one second
        throttle()
        now[0] += 0.01
    assert 9 <= len(applied) <= 11
    throttle.flush()
    assert applied[-1] == pytest.approx(1.0)
    throttle.flush()  # nothing held back any more
    assert applied[-1] == pytest.approx(1.0) and len(applied) <= 12


# -- secrets -------------------------------------------------------------------------------


def test_secrets_panel_sets_without_keeping_the_value(app: DefaultAppService) -> None:
    from bodhi_nb import ui

    panel = ui.secrets(app)
    assert panel.table.rows == []
    panel.name.value = "HF_TOKEN"
    panel.password.value = VALUE
    panel.set_button.click()
    assert panel.error.text == ""
    assert panel.password.value == ""
    assert "HF_TOKEN" in panel.status.value
    assert [s.name for s in panel.table.rows] == ["HF_TOKEN"]
    assert app.secret_service().retrieve_secret("HF_TOKEN") == VALUE

    # The value is nowhere the front end, a notebook or a log could see it.
    text = panel.text()
    assert "HF_TOKEN" in text and VALUE not in text
    assert VALUE not in repr(panel)
    bundle = panel._repr_mimebundle_()
    assert VALUE not in json.dumps(bundle, default=str)
    assert bundle["text/plain"] == text
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert VALUE not in _state_text(panel)
    assert len(_tree(panel)) > 10  # the walk really went through the panel's tree


def test_a_typed_value_goes_one_way_into_the_kernel(app: DefaultAppService,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The front end sends the typed value (``set_state``, as a comm message would); the
    # kernel must not echo it back (ipywidgets 8 echoes values by default), and the state
    # it sends once the secret is stored holds an empty value.
    from bodhi_nb import ui

    panel = ui.secrets(app)
    sent: list[Any] = []
    monkeypatch.setattr(panel.password, "_send", lambda msg, buffers=None: sent.append(msg))
    panel.name.value = "HF_TOKEN"
    panel.password.set_state({"value": VALUE})
    assert panel.password.value == VALUE  # the kernel has it ...
    panel.set_button.click()
    assert app.secret_service().retrieve_secret("HF_TOKEN") == VALUE
    assert panel.password.value == ""  # ... and no longer
    assert sent, "the emptied value is sent to the front end"
    assert VALUE not in json.dumps(sent, default=str)
    assert {"value": ""} in [m.get("state") for m in sent]


def test_secrets_panel_refuses_bad_input_in_one_line(app: DefaultAppService) -> None:
    from bodhi_nb import ui

    panel = ui.secrets(app)
    panel.name.value = "not a name!"
    panel.password.value = VALUE
    panel.set_button.click()
    assert panel.error.text.startswith("error[secret_error-invalid_name]")
    assert "Traceback" not in panel.error.text and VALUE not in panel.error.text
    assert panel.password.value == ""  # emptied even when the step failed
    panel.name.value = "EMPTY"
    panel.password.value = "   "
    panel.set_button.click()
    assert panel.error.text.startswith("error[")
    assert app.secret_service().list_secrets() == []
    assert VALUE not in _state_text(panel)


def test_secrets_panel_deletes_and_rotates_through_the_confirm_strip(
        app: DefaultAppService) -> None:
    from bodhi_nb import ui

    service = app.secret_service()
    service.store_secret("A_ONE", "first-value")
    service.store_secret("B_TWO", "second-value")
    panel = ui.secrets(app)
    assert [s.name for s in panel.table.rows] == ["A_ONE", "B_TWO"]

    panel.table.row_buttons[0]["delete"].click()
    assert "A_ONE" in panel.confirm.question.value
    panel.confirm.no.click()
    assert [s.name for s in service.list_secrets()] == ["A_ONE", "B_TWO"]
    panel.table.row_buttons[0]["delete"].click()
    panel.confirm.yes.click()
    assert [s.name for s in service.list_secrets()] == ["B_TWO"]
    assert [s.name for s in panel.table.rows] == ["B_TWO"]
    assert "A_ONE" in panel.status.value

    panel.rotate_button.click()
    assert panel.confirm.asking
    panel.confirm.yes.click()
    assert panel.error.text == ""
    assert panel.status.value.startswith("Re-encrypted 1 secret")
    assert service.retrieve_secret("B_TWO") == "second-value"

    # Deleted in the meantime elsewhere: the panel says so in one coded line and catches up.
    panel.table.row_buttons[0]["delete"].click()
    service.delete_secret("B_TWO")
    panel.confirm.yes.click()
    assert panel.error.text.startswith("error[secret_error-not_found]")
    assert panel.table.rows == []


def test_secrets_panel_speaks_french(monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb import ui
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    registry = build_app_service(SettingService())
    try:
        panel = ui.secrets(registry)
        assert panel.set_button.description == "Enregistrer"
        assert panel.table.filter.placeholder == "filtrer…"
        assert panel.confirm.yes.description == "Oui"
        panel.name.value = "mauvais nom"
        panel.set_button.click()
        assert panel.error.text.startswith("error[secret_error-invalid_name]: ")
        assert "Invalid" not in panel.error.text
    finally:
        registry.close()


# -- models --------------------------------------------------------------------------------


def test_models_panel_lists_sorts_and_filters_local_files(
        app: DefaultAppService, two_models: list[Path]) -> None:
    from bodhi_nb import ui

    panel = ui.models(app)
    assert panel.error.text == ""
    assert sorted(m.file.filename for m in panel.table.rows) == [
        "big-Q8_0.gguf", "small-Q4_K_M.gguf"]
    panel.table.headers["size"].click()
    assert [m.file.filename for m in panel.table.visible()] == [
        "small-Q4_K_M.gguf", "big-Q8_0.gguf"]
    panel.table.headers["size"].click()
    assert [m.file.filename for m in panel.table.visible()] == [
        "big-Q8_0.gguf", "small-Q4_K_M.gguf"]
    labels = [c for row in panel.table.cells() for c in row]
    assert "qwen2" in labels and "32768" in labels and "Q8_0" in labels
    panel.table.filter.value = "qwen"
    assert [m.file.repo for m in panel.table.visible()] == ["zeta/big-GGUF"]
    # Chat opens the chat panel (tests/test_ui_chat.py): every row's button is live.
    assert not any(b["chat"].disabled for b in panel.table.row_buttons)

    # The text form is the table `%bodhi ls` prints.
    listed = execute(["ls"], Context(prog="%bodhi"), lambda: app)
    assert panel.text() == listed.to_text() == repr(panel)
    assert "big-Q8_0.gguf" in panel.text()


def test_models_panel_aliases_and_deletes_a_row(app: DefaultAppService,
                                                two_models: list[Path]) -> None:
    from bodhi_nb import ui

    panel = ui.models(app)
    panel.table.filter.value = "small"
    panel.table.row_buttons[0]["alias"].click()
    assert panel.alias_strip.layout.display == "flex"
    panel.alias_name.value = "small:chat"
    panel.alias_create.click()
    assert panel.error.text == "", panel.error.text
    assert panel.alias_strip.layout.display == "none"
    assert app.data_service().find_alias("small:chat") is not None
    assert "small:chat" in panel.table.visible()[0].aliases

    # The same name again: one coded line in the panel.
    panel.table.row_buttons[0]["alias"].click()
    panel.alias_name.value = "small:chat"
    panel.alias_create.click()
    assert panel.error.text.startswith("error[data_service_error-alias_exists]")

    panel.table.filter.value = ""
    panel.table.sort_by("file")
    assert panel.table.visible()[0].file.filename == "big-Q8_0.gguf"
    panel.table.row_buttons[0]["delete"].click()
    assert "big-Q8_0.gguf" in panel.confirm.question.value
    panel.confirm.no.click()
    assert two_models[1].exists()
    panel.table.row_buttons[0]["delete"].click()
    panel.confirm.yes.click()
    assert panel.error.text == "", panel.error.text
    assert not two_models[1].exists()
    assert [m.file.filename for m in panel.table.rows] == ["small-Q4_K_M.gguf"]
    assert "big-Q8_0.gguf" in panel.status.value
    assert "big-Q8_0.gguf" not in panel.text()


def test_models_panel_builds_a_thousand_rows_one_page_at_a_time(
        app: DefaultAppService, two_models: list[Path]) -> None:
    from bodhi_nb import ui
    from bodhi_nb.objs import HubFile
    from bodhi_nb.services.data import LocalModel

    panel = ui.models(app)
    base = panel.table.rows[0]
    synthetic = [LocalModel(file=HubFile(hf_cache=base.file.hf_cache, repo=f"org/m{i:04d}-GGUF",
                                         filename=f"m{i:04d}-Q4_K_M.gguf",
                                         snapshot=base.file.snapshot, size=i * 1000),
                            metadata=base.metadata, problem=None, aliases=())
                 for i in range(1000)]
    panel.table.set_rows(synthetic)
    assert len(panel.table.row_buttons) == 25
    # One page is sent (25 rows of 7 cells, in one widget), not 1,000 rows.
    assert len(panel.table.cells()) == 25 and all(len(r) == 7 for r in panel.table.cells())
    assert len(_tree(panel)) < 100
    panel.table.headers["size"].click()
    panel.table.headers["size"].click()
    assert panel.table.visible()[0].file.repo == "org/m0999-GGUF"
    panel.table.filter.value = "m050"
    assert [m.file.repo for m in panel.table.matching()][:1] == ["org/m0509-GGUF"]
    assert len(panel.table.matching()) == 10


# -- the command --------------------------------------------------------------------------


def test_panel_command_prints_the_table_in_a_terminal(
        app: DefaultAppService, two_models: list[Path]) -> None:
    result = execute(["panel", "models"], Context(prog="bodhi"), lambda: app)
    assert isinstance(result, PanelView) and result.kind == "models"
    assert result.to_text() == execute(["ls"], Context(prog="bodhi"), lambda: app).to_text()
    app.secret_service().store_secret("HF_TOKEN", VALUE)
    secrets = execute(["panel", "secrets"], Context(prog="bodhi"), lambda: app)
    assert "HF_TOKEN" in secrets.to_text() and VALUE not in secrets.to_text()
    assert VALUE not in json.dumps(secrets.to_json(), default=str)


def test_magic_shows_the_widget_only_where_a_kernel_can(
        shell: InteractiveShell, two_models: list[Path]) -> None:
    from types import SimpleNamespace

    from bodhi_nb.notebook.magic import _shown
    from bodhi_nb.ui.models_panel import ModelsPanel

    result = shell.run_line_magic("bodhi", "panel models")
    assert isinstance(result, Result) and "small-Q4_K_M.gguf" in result.to_text()
    widget = _shown(result, SimpleNamespace(kernel=object()))
    assert isinstance(widget, ModelsPanel)
    assert repr(widget) == result.to_text()
    assert _shown(result, SimpleNamespace()) is result


def test_help_lists_the_panels(app: DefaultAppService) -> None:
    text = execute(["help", "panel"], Context(prog="bodhi"), lambda: app).to_text()
    assert "secrets" in text and "models" in text



def _browser_click(table: Any, content: dict[str, Any]) -> None:
    """A message from the page's JavaScript, through the widget's own message path."""
    table.grid._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                            "buffers": []})


def test_the_browser_page_clicks_reach_the_table_unless_the_page_is_stale(
        app: DefaultAppService) -> None:
    from bodhi_nb.ui.kit import Column, RowAction, Table

    ctx = Context(localization=app.localization_service())
    pressed: list[str] = []
    table = Table(ctx, (Column("name", lambda r: r[0]), Column("size", lambda r: r[1])),
                  actions=(RowAction("pick", "Pick", lambda r: pressed.append(r[0])),
                           RowAction("drop", "Drop", lambda r: pressed.append("drop " + r[0]),
                                     enabled=lambda r: r[1] > 1)))
    table.set_rows([("a", 1), ("b", 3), ("c", 2)])
    assert table.grid.disabled == [[False, True], [False, False], [False, False]]
    drawn = table.grid.version
    _browser_click(table, {"kind": "action", "key": "pick", "row": 1, "version": drawn})
    assert pressed == ["b"]
    _browser_click(table, {"kind": "action", "key": "drop", "row": 0, "version": drawn})
    assert pressed == ["b"]  # disabled on that row, as in the browser
    _browser_click(table, {"kind": "sort", "key": "size", "version": drawn})
    assert table.sort_key == "size" and table.cells()[1] == ["c", "2"]
    assert table.grid.version > drawn
    # A click made on the page drawn before the sort would name another record: dropped.
    _browser_click(table, {"kind": "action", "key": "pick", "row": 1, "version": drawn})
    assert pressed == ["b"]
    _browser_click(table, {"kind": "action", "key": "pick", "row": 1,
                           "version": table.grid.version})
    assert pressed == ["b", "c"]
    for junk in ({"kind": "action", "key": "pick", "row": 9, "version": table.grid.version},
                 {"kind": "action", "key": "nope", "row": 0, "version": table.grid.version},
                 {"kind": "sort", "key": "nope", "version": table.grid.version}):
        _browser_click(table, junk)
    assert pressed == ["b", "c"] and table.sort_key == "size"
