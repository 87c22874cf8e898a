"""The access-request dashboard (issue 12, part 2), kernel side, against the real OpenID test
server and the real AccessRequestService, on DuckDB and on PostgreSQL: people log in and
ask for access through the service; a manager's panel shows them in tabs with counts,
approves with a chosen role (the role lands at the provider), rejects with a reason, says a
provider failure on the row and keeps it pending, notices changes made by another registry
(another kernel) on its own, and keeps a reason that is markup as text. Buttons are pressed
with ``click()``; the waits are liveness bounds only (a worker or the timer ends, or the
test fails).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _access_support import HOSTILE, USERS, Deployment, deploy
from _secret_support import HEADLESS

from bodhi_nb.app import DefaultAppService, app
from bodhi_nb.commands import Context, execute
from bodhi_nb.commands.panel import PanelView
from bodhi_nb.commands.results import Table as TextTable
from bodhi_nb.errors import AuthInsufficientRoleError
from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus
from bodhi_nb.testing.oidc import OidcServer
from bodhi_nb.ui import make
from bodhi_nb.ui.access_panel import PAGE, AccessPanel
from bodhi_nb.ui.kit import Column, RowAction, RowField, Table, widget_tree

#: liveness bound for a worker or the timer (nothing is asserted about durations)
LONG = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[OidcServer]:
    with OidcServer(usernames=USERS) as started:
        yield started


@pytest.fixture
def team(db_url: str | None, server: OidcServer, isolated_env: Path,
         monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """A fresh client of the provider on the test's BODHI_HOME, its database DuckDB or
    PostgreSQL (``db_url``: every test runs on both); the kernel's registry
    (``bodhi_nb.app()``) is logged in as dave, a manager."""
    import os

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", "a-test-key-of-twenty-chars-or-more")
    made = deploy(server, dict(os.environ))
    monkeypatch.setenv("BODHI_PROFILE", "dave")
    return made


@pytest.fixture
def kernel(team: Deployment) -> DefaultAppService:
    return app()


@dataclass
class Asked:
    alice: UserAccessRequest
    bob: UserAccessRequest
    carol: UserAccessRequest


@pytest.fixture
def asked(team: Deployment) -> Asked:
    return Asked(team.ask("alice", "I run the evals"), team.ask("bob", "chat with llama"),
                 team.ask("carol", HOSTILE))


@pytest.fixture
def opened() -> Iterator[Callable[..., AccessPanel]]:
    panels: list[AccessPanel] = []

    def open_(reg: DefaultAppService, **kwargs: object) -> AccessPanel:
        panel = AccessPanel(reg, **kwargs)  # type: ignore[arg-type]
        panels.append(panel)
        return panel

    yield open_
    for panel in panels:
        panel.close()


def _users(panel: AccessPanel, status: str) -> list[str]:
    tab = {"pending": panel.pending, "approved": panel.approved,
           "rejected": panel.rejected}[status]
    return [r.username for r in tab.rows]


def _cells(panel: AccessPanel, status: str, column: str) -> list[str]:
    tab = {"pending": panel.pending, "approved": panel.approved,
           "rejected": panel.rejected}[status]
    k = [c.key for c in tab.table.columns].index(column)
    return [row[k] for row in tab.table.cells()]


def _row(panel: AccessPanel, username: str) -> int:
    return _users(panel, "pending").index(username)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LONG
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


# -- the kit's row fields ----------------------------------------------------------------------


def test_row_fields_go_with_their_rows_click() -> None:
    ctx = Context(prog="%bodhi")
    picked: list[tuple[str, str, str]] = []
    table: Table[str] = Table(ctx, (Column("name", lambda s: s),), actions=(
        RowAction("go", "Go", lambda s: picked.append(
            (s, table.field(s, "pick"), table.field(s, "say")))),
    ), fields=(RowField("pick", "select", "pick", (("One", "1"), ("Two", "2")), before="go"),
               RowField("say", "text", "say")), row_key=lambda s: s, sortable=False)
    table.set_rows(["a", "b"])
    assert table.grid.row_keys == ["a", "b"]
    assert table.grid.columns[0]["sortable"] is False
    assert [f["key"] for f in table.grid.fields] == ["pick", "say"]
    assert table.grid.fields[0]["value"] == "1"  # a select's default: its first option
    assert table.row_fields[1]["pick"].options == ["1", "2"]
    # As from the page: the click carries what the row's fields hold.
    table._on_view_msg(None, {"kind": "action", "key": "go", "row": 1,
                              "version": table.grid.version,
                              "fields": {"pick": "2", "say": "hi", "other": "x"}}, None)
    table.row_fields[0]["say"].value = "typed"
    table.row_buttons[0]["go"].click()
    assert picked == [("b", "2", "hi"), ("a", "1", "typed")]
    table.set_rows(["b"])  # a's values are forgotten, b's kept
    assert table.field("b", "say") == "hi" and table._values.keys() == {"b"}


# -- the dashboard -------------------------------------------------------------------------------


def test_tabs_show_counts_and_the_pending_rows_oldest_first(
        kernel: DefaultAppService, asked: Asked, opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    assert panel.tabs.titles == ("Pending (3)", "Approved (0)", "Rejected (0)")
    assert _users(panel, "pending") == ["alice", "bob", "carol"]
    assert _cells(panel, "pending", "reason") == ["I run the evals", "chat with llama",
                                                  HOSTILE]
    assert _cells(panel, "pending", "requested") == ["just now"] * 3
    assert panel.pending.where.value == "page 1 of 1 · 3 requests"
    assert panel.pending.previous.disabled and panel.pending.next.disabled
    # The role select offers what a manager may give: manager and below, user first.
    assert panel.roles == panel.service.assignable_roles()
    assert "admin" not in panel.roles and {"user", "power_user", "manager"} <= set(panel.roles)
    assert panel.pending.row_fields[0]["role"].options == panel.roles
    assert panel.pending.row_fields[0]["role"].value == "user"
    assert panel.error.text == ""
    # make("access") is the same panel; its text form is the pending list.
    again = make("access", kernel)
    try:
        assert isinstance(again, AccessPanel) and again.polling
        text = again.text()
        assert "alice" in text and "I run the evals" in text and "dave" not in text
    finally:
        again.close()
    assert not again.polling or again._stop.is_set()


def test_approve_with_a_role_moves_the_row_to_approved(
        team: Deployment, kernel: DefaultAppService, asked: Asked,
        opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    i = _row(panel, "bob")
    panel.pending.row_fields[i]["role"].value = "power_user"
    panel.pending.row_buttons[i]["approve"].click()
    assert panel.wait(LONG)
    assert panel.status.value == "Approved bob as power_user."
    assert panel.error.text == ""
    assert _users(panel, "pending") == ["alice", "carol"]
    assert _users(panel, "approved") == ["bob"]
    assert _cells(panel, "approved", "role") == ["power_user"]
    assert _cells(panel, "approved", "reviewer") == ["dave"]
    assert panel.tabs.titles == ("Pending (2)", "Approved (1)", "Rejected (0)")
    # The role is at the provider: bob's next login says so.
    team.login("bob")
    with team.registry("bob") as reg:
        who = reg.auth_service().current()
        assert who is not None and who.role == "resource_power_user"


def test_reject_with_a_reason_moves_the_row_to_rejected(
        kernel: DefaultAppService, asked: Asked, opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    i = _row(panel, "alice")
    panel.pending.row_fields[i]["note"].value = "  ask your lead first  "
    panel.pending.row_buttons[i]["reject"].click()
    assert panel.wait(LONG)
    assert panel.status.value == "Rejected alice's request."
    assert _users(panel, "rejected") == ["alice"]
    assert _cells(panel, "rejected", "rejection") == ["ask your lead first"]
    assert _cells(panel, "rejected", "reviewer") == ["dave"]
    assert panel.tabs.titles == ("Pending (2)", "Approved (0)", "Rejected (1)")
    stored = panel.service.get(asked.alice.id)
    assert stored.status is UserAccessRequestStatus.REJECTED
    assert stored.review_note == "ask your lead first"
    # Without a reason: none is stored.
    panel.pending.row_buttons[_row(panel, "bob")]["reject"].click()
    assert panel.wait(LONG)
    assert panel.service.get(asked.bob.id).review_note is None


def test_a_role_above_the_reviewers_is_refused_on_its_row(
        kernel: DefaultAppService, asked: Asked, opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    i = _row(panel, "alice")
    panel.pending.row_fields[i]["role"].value = "admin"  # not offered; typed by hand
    panel.pending.row_buttons[i]["approve"].click()
    assert panel.wait(LONG)
    [line] = [n for n in _cells(panel, "pending", "state") if n]
    assert line.startswith("error[auth_error-insufficient_role]")
    assert _users(panel, "pending") == ["alice", "bob", "carol"]
    assert _cells(panel, "pending", "state")[_row(panel, "alice")] == line
    assert panel.service.get(asked.alice.id).status is UserAccessRequestStatus.PENDING


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_provider_failure_shows_one_line_on_the_row_and_a_retry_works(
        team: Deployment, server: OidcServer, asked: Asked,
        opened: Callable[..., AccessPanel], fault: str) -> None:
    import os

    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    # The kernel's registry with a short provider timeout (the hang outlasts it).
    reg = build_app_service(SettingService(env={**os.environ,
                                                "BODHI_AUTH_TIMEOUT_SECS": "1"}))
    try:
        panel = opened(reg, poll=False)  # closed by ``opened``
        i = _row(panel, "carol")
        panel.pending.row_fields[i]["role"].value = "user"
        if fault == "500":
            server.fail_assign(1, status=500)
        else:
            server.fail_assign(1, status=500, delay=3.0)
        panel.pending.row_buttons[i]["approve"].click()
        assert panel.pending.row_buttons[i]["approve"].disabled  # while it runs
        assert _cells(panel, "pending", "state")[i] == "approving…"
        assert panel.wait(LONG)
        notes = _cells(panel, "pending", "state")
        line = notes[_row(panel, "carol")]
        assert [n for n in notes if n] == [line]  # one line, on that row
        assert line.startswith("error[auth_error-") and "\n" not in line
        assert "Traceback" not in line
        assert _users(panel, "pending") == ["alice", "bob", "carol"]
        assert reg.access_request_service().get(asked.carol.id).status \
            is UserAccessRequestStatus.PENDING
        assert panel.status.value == "" and panel.error.text == ""
        # The buttons are back on; a retry succeeds and the line goes with the row.
        again = _row(panel, "carol")
        assert not panel.pending.row_buttons[again]["approve"].disabled
        panel.pending.row_buttons[again]["approve"].click()
        assert panel.wait(LONG)
        assert _users(panel, "pending") == ["alice", "bob"]
        assert _users(panel, "approved") == ["carol"]
        assert not any(_cells(panel, "pending", "state"))
    finally:
        reg.close()


def test_a_row_approved_elsewhere_leaves_pending_without_a_click(
        team: Deployment, kernel: DefaultAppService, asked: Asked,
        opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll_every=0.05)
    assert _users(panel, "pending") == ["alice", "bob", "carol"]
    with team.registry("admin") as other:  # another kernel, its own registry
        other.access_request_service().approve(asked.alice.id, "user")
    _until(lambda: _users(panel, "pending") == ["bob", "carol"], "the timer saw no change")
    assert _users(panel, "approved") == ["alice"]
    assert _cells(panel, "approved", "reviewer") == ["admin"]
    assert panel.tabs.titles == ("Pending (2)", "Approved (1)", "Rejected (0)")
    # Rejecting the row another manager approved meanwhile: one coded line, not a crash.
    stale = next(r for r in panel.pending.rows if r.username == "bob")
    with team.registry("admin") as other:
        other.access_request_service().reject(asked.bob.id, "no")
    panel.reject(stale)
    assert panel.wait(LONG)
    assert panel.error.text.startswith("error[access_error-already_processed]")
    panel.close()
    assert not panel.polling or panel._stop.is_set()


def test_a_reason_that_is_markup_stays_text(kernel: DefaultAppService, asked: Asked,
                                            opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    # The page gets the text as data (drawn with textContent); no HTML widget holds it.
    assert HOSTILE in _cells(panel, "pending", "reason")
    html_values = [str(w.value) for w in widget_tree(panel)
                   if type(w).__name__ in ("HTML", "HTMLMath")]
    assert html_values and not any("<img" in v for v in html_values)
    i = _row(panel, "carol")
    panel.pending.row_fields[i]["note"].value = HOSTILE
    panel.pending.row_buttons[i]["reject"].click()
    assert panel.wait(LONG)
    assert _cells(panel, "rejected", "rejection") == [HOSTILE]
    state = "\n".join(json.dumps(w.get_state(), default=str) for w in widget_tree(panel))
    assert "<img" in state  # as a string in the table's data...
    assert not any("<img" in str(w.value) for w in widget_tree(panel)
                   if type(w).__name__ in ("HTML", "HTMLMath"))  # ...never as HTML


def test_filter_and_pages_go_to_the_service(team: Deployment, kernel: DefaultAppService,
                                            asked: Asked,
                                            opened: Callable[..., AccessPanel]) -> None:
    panel = opened(kernel, poll=False)
    panel.filter.value = "LLAMA"
    assert _users(panel, "pending") == ["bob"]
    assert panel.pending.where.value == "page 1 of 1 · 1 requests"
    assert panel.tabs.titles == ("Pending (3)", "Approved (0)", "Rejected (0)")
    panel.filter.value = "nobody-matches"
    assert _users(panel, "pending") == [] and panel.pending.table.cells() == []
    panel.filter.value = ""
    assert len(_users(panel, "pending")) == 3 and PAGE == 50


def test_panel_command_and_its_text_form(kernel: DefaultAppService, asked: Asked) -> None:
    result = execute(["panel", "access"], Context(prog="%bodhi"), lambda: kernel)
    assert isinstance(result, PanelView) and result.kind == "access"
    assert isinstance(result.text, TextTable)
    text = result.to_text()
    assert "alice" in text and "I run the evals" in text and HOSTILE in text
    assert result.to_json()["panel"] == "access"
    assert [r["username"] for r in result.to_json()["listing"]] == ["alice", "bob", "carol"]


def test_a_user_without_the_role_gets_the_gates_line(team: Deployment,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     opened: Callable[..., AccessPanel]
                                                     ) -> None:
    team.ask("erin", "please")
    monkeypatch.setenv("BODHI_PROFILE", "erin")
    panel = opened(app(), poll=False)
    assert panel.error.text.startswith("error[auth_error-insufficient_role]")
    assert panel.pending.rows == [] and not panel.polling
    assert panel.tabs.titles == ("Pending (0)", "Approved (0)", "Rejected (0)")
    with pytest.raises(AuthInsufficientRoleError):
        execute(["panel", "access"], Context(prog="%bodhi"), app)
