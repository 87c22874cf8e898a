"""Issue 12: the access-request dashboard in JupyterLab in a real Chromium, against the real
OpenID test server.

Three people (alice, bob, carol) log in and ask for access; carol's reason is markup. A
manager (dave; the kernel's profile) opens ``%bodhi panel access``: three pending rows.
Carol's reason shows as text (no img element, no dialog). He picks power_user in bob's role
select and clicks Approve; types a reason in alice's box and clicks Reject: the rows move to
the Approved and Rejected tabs and the counts in the tab titles change. Then an admin
approves carol from a terminal (a ``bodhi access approve`` subprocess): her row leaves
Pending without a click. Screenshots at each step.

Every wait polls the page; its timeout is a liveness bound, nothing asserted on time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from _access_support import HOSTILE, USERS, Deployment, deploy
from _browser_support import HEADLESS_KEYRING, ROOT, OpenNotebook

from bodhi_nb.testing.jupyterlab import LabPage
from bodhi_nb.testing.oidc import OidcServer

PANEL = ".bodhi-access-panel"
PENDING = f"{PANEL} .bodhi-access-pending"
APPROVED = f"{PANEL} .bodhi-access-approved"
REJECTED = f"{PANEL} .bodhi-access-rejected"
TITLES = f"{PANEL} .lm-TabBar-tabLabel"
KEY = "a-browser-test-key-of-twenty-chars-or-more"
#: liveness bound for a provider call and the 2 s poll to reach the page
LONG = 60.0


@pytest.fixture(scope="module")
def server() -> Iterator[OidcServer]:
    with OidcServer(usernames=USERS) as started:
        yield started


@pytest.fixture
def team(server: OidcServer, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS_KEYRING)
    made = deploy(server, dict(os.environ))
    return made


def _tab(nb: LabPage, title: str) -> None:
    nb.page.locator(f"{PANEL} .lm-TabBar-tab", has_text=title).first.click()


def _row(nb: LabPage, username: str) -> object:
    return nb.page.locator(f"{PENDING} tbody tr", has_text=username).first


def test_a_manager_reviews_requests_in_the_dashboard(open_notebook: OpenNotebook,
                                                     team: Deployment) -> None:
    asked = {name: team.ask(name, reason) for name, reason in (
        ("alice", "I run the evals"), ("bob", "chat with llama"), ("carol", HOSTILE))}
    nb = open_notebook(["%load_ext bodhi_nb", "%bodhi panel access"],
                       env={"BODHI_PROFILE": "dave", "BODHI_AUTH_ISSUER": team.server.issuer})
    dialogs: list[str] = []
    nb.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert nb.run_all()

    users = f"{PENDING} .bodhi-col-username"
    assert nb.wait_texts(users, ["alice", "bob", "carol"]) == ["alice", "bob", "carol"]
    assert nb.wait_texts(TITLES, ["Pending (3)", "Approved (0)", "Rejected (0)"]) == [
        "Pending (3)", "Approved (0)", "Rejected (0)"]
    assert nb.texts(f"{PENDING} .bodhi-col-requested") == ["just now"] * 3
    # The role select offers the manager's roles and below; user first.
    options = nb.page.locator(f"{PENDING} tbody tr").first.locator(
        "select.bodhi-field-role option").all_inner_texts()
    assert options[0] == "user" and "power_user" in options and "admin" not in options
    # Carol's reason is text: the markup shows as typed, no element made of it, no alert.
    assert nb.texts(f"{PENDING} .bodhi-col-reason") == ["I run the evals", "chat with llama",
                                                        HOSTILE]
    assert nb.page.locator(f"{PANEL} img").count() == 0
    assert "&lt;img src=x onerror=alert(1)&gt;" in nb.page.locator(PENDING).inner_html()
    nb.screenshot("access-pending")

    bob = _row(nb, "bob")
    bob.locator("select.bodhi-field-role").select_option("power_user")  # type: ignore[attr-defined]
    bob.locator(".bodhi-action-approve").click()  # type: ignore[attr-defined]
    assert nb.wait_texts(users, ["alice", "carol"], timeout=LONG) == ["alice", "carol"]
    assert nb.wait_texts(TITLES, ["Pending (2)", "Approved (1)", "Rejected (0)"]) == [
        "Pending (2)", "Approved (1)", "Rejected (0)"]
    nb.wait_for_text("Approved bob as power_user.", f"{PANEL} .bodhi-panel-status")

    alice = _row(nb, "alice")
    alice.locator("input.bodhi-field-note").fill("ask your lead first")  # type: ignore[attr-defined]
    alice.locator(".bodhi-action-reject").click()  # type: ignore[attr-defined]
    assert nb.wait_texts(users, ["carol"], timeout=LONG) == ["carol"]
    assert nb.wait_texts(TITLES, ["Pending (1)", "Approved (1)", "Rejected (1)"]) == [
        "Pending (1)", "Approved (1)", "Rejected (1)"]
    assert nb.texts(f"{PANEL} .bodhi-panel-error") == [""]
    nb.screenshot("access-after-review")

    _tab(nb, "Approved")
    assert nb.wait_texts(f"{APPROVED} .bodhi-col-username", ["bob"]) == ["bob"]
    assert nb.texts(f"{APPROVED} .bodhi-col-role") == ["power_user"]
    assert nb.texts(f"{APPROVED} .bodhi-col-reviewer") == ["dave"]
    nb.screenshot("access-approved-tab")
    _tab(nb, "Rejected")
    assert nb.wait_texts(f"{REJECTED} .bodhi-col-username", ["alice"]) == ["alice"]
    assert nb.texts(f"{REJECTED} .bodhi-col-rejection") == ["ask your lead first"]
    nb.screenshot("access-rejected-tab")

    # Another process (an admin in a terminal) approves carol: her row leaves Pending.
    _tab(nb, "Pending")
    assert nb.wait_texts(users, ["carol"]) == ["carol"]
    env = {**os.environ, "BODHI_PROFILE": "admin", "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, "-m", "bodhi_nb.cli", "access", "approve",
                           asked["carol"].id, "--role", "user"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert nb.wait_texts(users, [], timeout=LONG) == []
    assert nb.wait_texts(TITLES, ["Pending (0)", "Approved (2)", "Rejected (1)"]) == [
        "Pending (0)", "Approved (2)", "Rejected (1)"]
    nb.screenshot("access-approved-elsewhere")
    _tab(nb, "Approved")
    assert nb.wait_texts(f"{APPROVED} .bodhi-col-username", ["carol", "bob"]) == [
        "carol", "bob"]  # newest change first

    assert dialogs == []
    assert nb.page.locator(f"{PANEL} img").count() == 0
