"""Issue 10 test (e): a secret set through the secrets panel's Password box in JupyterLab
in a real Chromium appears nowhere the front end, the notebook or the kernel's messages
could show it; it reached the kernel (checked by its SHA-256, printed by the kernel)."""

from __future__ import annotations

import hashlib
import json

from _browser_support import OpenNotebook

PANEL = ".bodhi-secrets-panel"
VALUE = "hf_bRoWsErSeCrEt_9f8e7d6c5b4a3210"
#: the kernel prints the stored value's digest, never the value.
CHECK = ("import hashlib\nfrom bodhi_nb.app import app\n"
         "stored = app().secret_service().retrieve_secret('HF_TOKEN')\n"
         "print('sha256', hashlib.sha256(str(stored).encode()).hexdigest())")


def test_secret_set_in_the_browser_is_nowhere_to_be_seen(open_notebook: OpenNotebook) -> None:
    nb = open_notebook(["%load_ext bodhi_nb", "%bodhi panel secrets", CHECK])
    assert nb.run_cell(0) and nb.run_cell(1)
    nb.wait_for(f"{PANEL} .bodhi-secret-set")
    assert nb.texts(f"{PANEL} .bodhi-col-name") == []

    nb.fill(f"{PANEL} .bodhi-secret-name", "HF_TOKEN")
    nb.fill(f"{PANEL} .bodhi-secret-value", VALUE)
    assert nb.page.locator(f"{PANEL} .bodhi-secret-value input").get_attribute(
        "type") == "password"
    nb.click(f"{PANEL} .bodhi-secret-set")
    assert nb.wait_texts(f"{PANEL} .bodhi-col-name", ["HF_TOKEN"]) == ["HF_TOKEN"]
    nb.wait_for_text("HF_TOKEN", f"{PANEL} .bodhi-status")
    assert nb.texts(f"{PANEL} .bodhi-error") == [""]
    # The kernel emptied the box: its value comes back empty to the page.
    assert nb.wait_until(f"() => document.querySelector('{PANEL} .bodhi-secret-value input')"
                         ".value === ''")
    nb.screenshot("secrets-after-set")

    assert nb.run_cell(2)
    digest = hashlib.sha256(VALUE.encode()).hexdigest()
    assert f"sha256 {digest}" in nb.outputs_text()  # the value did reach the secret store

    # Not in the page: neither the serialised DOM nor any input's live value.
    html = nb.html()
    assert "HF_TOKEN" in html and VALUE not in html
    values = nb.input_values()
    assert "HF_TOKEN" in values and not any(VALUE in v for v in values)

    # Not in the notebook file, outputs and widget state included.
    saved = nb.save()
    on_disk = (nb.lab.root / nb.path).read_text()
    assert "HF_TOKEN" in on_disk and VALUE not in on_disk
    outputs = json.dumps([cell.get("outputs", []) for cell in saved.cells])
    assert "application/vnd.jupyter.widget-view+json" in outputs and digest in outputs
    assert VALUE not in outputs

    # Not in any message from the server: the page sent the value once, over the kernel's
    # websocket (which shows the capture works); no frame that came back holds it.
    sent = nb.frames_sent(VALUE.encode())
    assert len(sent) >= 1 and all("/api/kernels/" in f.url for f in sent)
    received = [f for f in nb.frames if f.direction == "received"]
    assert any(b"HF_TOKEN" in f.payload for f in received)
    leaks = len(nb.frames_received(VALUE.encode()))  # a count: a failure must not print it
    assert leaks == 0, "a frame from the server holds the secret's value"
