"""Issue 11, part 5: ``%bodhi login --device`` in JupyterLab in a real Chromium, against the
real OpenID test server (this module's, from tests/conftest.py).

The cell returns at once showing the code (its run is over while the status still waits);
the test approves the code on the provider's device page as a user would on their phone
(``approve_device``); the status in the page turns to "logged in as admin". No token is in
the page, the saved notebook or any frame the page received.

The deployment is set up from the test (``auth setup`` on the test's BODHI_HOME, as an
admin would once); the kernel gets BODHI_HOME, BODHI_ENCRYPTION_KEY and BODHI_AUTH_ISSUER
through its kernelspec's environment, nothing from inside a cell.
"""

from __future__ import annotations

import json

import pytest
from _browser_support import HEADLESS_KEYRING, OpenNotebook

from bodhi_nb.app import build_app_service
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.oidc import OidcServer, approve_device

VIEW = ".bodhi-device-login"
KEY = "a-browser-test-key-of-twenty-chars-or-more"
#: liveness bound for the provider's answer to reach the page (nothing asserted on time)
LONG = 60.0


@pytest.fixture
def deployment(server: OidcServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's BODHI_HOME registered with the provider; the issuer."""
    monkeypatch.setenv("BODHI_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS_KEYRING)
    registry = build_app_service(SettingService())
    try:
        registry.auth_service().setup(server.issuer, "Team notebooks", "browser test",
                                      ["http://127.0.0.1/callback"])
    finally:
        registry.close()  # the kernel opens the database next
    return server.issuer


def _session_tokens() -> list[str]:
    """The tokens the kernel stored (read from this process, as the service reads them)."""
    registry = build_app_service(SettingService())
    try:
        pointer = registry.secret_service().retrieve_internal("bodhi:auth:session:default")
        assert pointer is not None
        session = registry.session_service().get(str.__str__(pointer))
        assert session is not None
        return [str(session.data[k]) for k in ("access_token", "refresh_token")]
    finally:
        registry.close()


def test_login_device_cell_returns_at_once_and_its_status_turns_to_logged_in(
        open_notebook: OpenNotebook, server: OidcServer, deployment: str) -> None:
    nb = open_notebook(["%load_ext bodhi_nb", "%bodhi login --device", "%bodhi whoami"],
                       env={"BODHI_AUTH_ISSUER": deployment})
    assert nb.run_cell(0) and nb.run_cell(1)
    # The cell's run is over and nobody has approved yet: it did not wait for the login.
    nb.wait_for(f"{VIEW} .bodhi-device-code")
    assert nb.texts(f"{VIEW} .bodhi-device-status") == ["waiting for approval…"]
    code = nb.texts(f"{VIEW} .bodhi-device-code")[0]
    assert len(code) >= 6
    assert f"enter the code: {code}" in nb.texts(f"{VIEW} .bodhi-device-lines")[0]
    link = nb.page.locator(f"{VIEW} .bodhi-device-link a")
    assert link.get_attribute("target") == "_blank"
    assert (link.get_attribute("href") or "").startswith(f"{deployment}/device")
    nb.screenshot("device-login-waiting")

    admin = server.user("admin")
    assert approve_device(server.issuer, code, admin.username, admin.password) == "Approved"
    nb.wait_for_text("logged in as admin (role: admin)", f"{VIEW} .bodhi-device-status",
                     timeout=LONG)
    nb.wait_for(f"{VIEW} .bodhi-device-cancel", state="hidden")  # nothing left to cancel
    nb.screenshot("device-login-done")

    # The kernel has the login: `whoami` in the next cell names the user.
    assert nb.run_cell(2)
    assert "admin" in nb.outputs_text() and "access token expires" in nb.outputs_text()

    saved = nb.save()
    on_disk = (nb.lab.root / nb.path).read_text()
    outputs = json.dumps([cell.get("outputs", []) for cell in saved.cells])
    assert "application/vnd.jupyter.widget-view+json" in outputs and code in on_disk
    page = nb.html()
    assert "logged in as admin" in page
    tokens = _session_tokens()
    assert all(len(t) > 20 for t in tokens)
    # Counts, not the texts: a failing assertion must not print a token.
    leaks = sum((token in page) + (token in on_disk) + len(nb.frames_received(token.encode()))
                for token in tokens)
    assert leaks == 0, "a token is in the page, the notebook or a frame"
