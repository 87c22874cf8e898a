"""The access-request dashboard over 10,000 requests, and what an approval costs end to end.

A deployment is set up against the real OpenID test server (tests/oidc_server, ``make
peers``): the admin logs in (PKCE, the browser played over HTTP); 10,000 requests are
written through the store's table module (100 of real provider users, pending and oldest,
the rest spread over pending / approved / rejected). Then:

* kernel: building the dashboard (counts, the first page of each tab) against the text of
  ``access ls --status pending`` (its first 100 rows) in the same run; the timer's cost per
  tick (``version()``) and a full re-read (what a change elsewhere costs);
* browser: from the execute request to the first pending row visible in JupyterLab in
  Debian's Chromium, against a tiny HTML output in the same page (bench_panels' baseline);
* approve latency against the local provider, p50/p99: ``AccessRequestService.approve``
  (claim, assign the role at the provider, mark approved, clear the user's sessions), and
  the dashboard's Approve from the click until the row has left Pending and the pages have
  been read again.

Goal (issue 12): the first page visible under 1 s.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._util import line, median, percentile

REQUESTS = int(os.environ.get("BENCH_ACCESS_REQUESTS", "10000"))
APPROVALS = int(os.environ.get("BENCH_ACCESS_APPROVALS", "50"))
RUNS = int(os.environ.get("BENCH_ACCESS_RUNS", "3"))
REDIRECT = "http://127.0.0.1/callback"
PANEL = ".bodhi-access-panel"


def _timed(build: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        build()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def _registry(env: dict[str, str]) -> Any:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    return build_app_service(SettingService(env=env))


def _deploy(server: Any, env: dict[str, str]) -> None:
    """Register the deployment with the provider; the admin logs in (first: made admin)."""
    from bodhi_nb.testing.oidc import browser_login

    reg = _registry(env)
    try:
        auth = reg.auth_service()
        auth.setup(server.issuer, "Bench", "bench", [REDIRECT])
        pending = auth.begin_login(REDIRECT)
        admin = server.user("admin")
        auth.finish_login(pending, browser_login(pending.url, admin.username, admin.password,
                                                 redirect_uri=REDIRECT))
    finally:
        reg.close()


def _seed(reg: Any, real: list[tuple[str, str]], n: int) -> None:
    """``real`` (username, provider id) pending and oldest, then fake users up to ``n``."""
    from bodhi_nb.objs import UserAccessRequest, UserAccessRequestStatus, new_ulid

    rows = reg.db_service().tables.access_requests
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with rows.transaction():
        for i in range(n):
            at = start + timedelta(seconds=i)
            name, user_id = real[i] if i < len(real) else (f"person{i}", str(uuid.uuid4()))
            made = UserAccessRequest(new_ulid(at), name, user_id,
                                     UserAccessRequestStatus.PENDING, at, at,
                                     reason=f"bench request {i}: team {i % 37}")
            rows.insert_pending(made)
            kind = i % 3 if i >= len(real) else 0
            later = at + timedelta(hours=1)
            if kind == 1:
                rows.claim(made.id, "bench", later, later)
                rows.approve(made.id, "bench", "resource_user", "admin", later)
            elif kind == 2:
                rows.reject(made.id, "admin", f"not this quarter ({i})", later, later)


def _kernel_side(env: dict[str, str], server: Any) -> list[dict[str, Any]]:
    from bodhi_nb.commands import Context, execute
    from bodhi_nb.objs import UserAccessRequestStatus
    from bodhi_nb.ui.access_panel import AccessPanel

    out: list[dict[str, Any]] = []
    reg = _registry(env)
    try:
        real = [(f"u{i:03d}", server.user(f"u{i:03d}").id) for i in range(2 * APPROVALS)]
        t0 = time.perf_counter()
        _seed(reg, real, REQUESTS)
        seeded = time.perf_counter() - t0
        service = reg.access_request_service()
        counts = service.counts()
        ctx = Context(prog="%bodhi")

        def build() -> None:
            AccessPanel(reg, poll=False).close()

        build()  # warm: imports, the first widgets
        panel_s = _timed(build)
        text_s = _timed(lambda: execute(["access", "ls", "--status", "pending"], ctx,
                                        lambda: reg).to_text())
        out.append(line("access_panel_build", panel_s * 1000, "ms",
                        baseline="`access ls --status pending` text (first 100 rows)",
                        baseline_value=text_s * 1000, requests=REQUESTS,
                        pending=counts[UserAccessRequestStatus.PENDING],
                        seed_s=round(seeded, 1), goal_ms=1000))
        panel = AccessPanel(reg, poll=False)
        tick_s = _timed(service.version, runs=50)
        reread_s = _timed(panel.refresh)
        out.append(line("access_panel_poll_tick", tick_s * 1000, "ms",
                        baseline="a full re-read (counts, three pages)",
                        baseline_value=reread_s * 1000, every_s=panel.poll_every))

        # Approvals: through the dashboard (click until the row left Pending and the pages
        # were read again), then straight through the service.
        clicks = []
        for _ in range(APPROVALS):
            first = panel.pending.rows[0]
            assert first.username.startswith("u"), first.username
            t0 = time.perf_counter()
            panel.pending.row_buttons[0]["approve"].click()
            assert panel.wait(60)
            clicks.append(time.perf_counter() - t0)
            assert panel.error.text == "" and panel.notes == {}, panel.notes
            assert all(r.id != first.id for r in panel.pending.rows)
        panel.close()
        direct = []
        for request in service.list(UserAccessRequestStatus.PENDING, limit=APPROVALS):
            assert request.username.startswith("u"), request.username
            t0 = time.perf_counter()
            service.approve(request.id, "user")
            direct.append(time.perf_counter() - t0)
        out.append(line("access_approve_p50", percentile(direct, 50) * 1000, "ms",
                        p99_ms=round(percentile(direct, 99) * 1000, 2), approvals=len(direct),
                        what="AccessRequestService.approve against the local provider"))
        out.append(line("access_panel_approve_p50", percentile(clicks, 50) * 1000, "ms",
                        baseline="AccessRequestService.approve p50",
                        baseline_value=percentile(direct, 50) * 1000,
                        p99_ms=round(percentile(clicks, 99) * 1000, 2), approvals=len(clicks),
                        what="dashboard Approve: click until the row left Pending, "
                             "pages read again"))
    finally:
        reg.close()
    return out


_SHOWN = (
    ("baseline", "from IPython.display import HTML\nHTML('<b class=\"bench-mark\">x</b>')",
     ".bench-mark"),
    ("access", "%bodhi panel access", f"{PANEL} .bodhi-access-pending .bodhi-cell"),
)


def _browser_side(env: dict[str, str], root: Path) -> list[dict[str, Any]]:
    from bodhi_nb.testing.jupyterlab import lab_and_browser, time_to_first_visible

    kernel_env = {k: env[k] for k in ("BODHI_HOME", "HF_HOME", "BODHI_ENCRYPTION_KEY",
                                      "PYTHON_KEYRING_BACKEND", "XDG_CONFIG_HOME")}
    kernel_env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    samples: dict[str, list[float]] = {name: [] for name, _, _ in _SHOWN}
    with lab_and_browser(root / "lab") as (lab, browser):
        kernel = lab.add_kernel("bench-access", kernel_env)
        cells = ["%load_ext bodhi_nb", "%bodhi status", *(cell for _, cell, _ in _SHOWN)]
        path = lab.write_notebook("bench.ipynb", cells, kernel)
        nb = browser.open(lab, path, kernel, viewport=(1280, 900))
        try:
            assert nb.run_cell(0) and nb.run_cell(1)  # imports and the registry: warm
            for _ in range(RUNS + 1):  # the first round warms the panel's code up
                for i, (name, _, selector) in enumerate(_SHOWN):
                    nb.command("notebook:clear-all-cell-outputs")
                    samples[name].append(time_to_first_visible(nb, 2 + i, selector,
                                                               timeout=120))
                    nb.wait_cells_done()
            assert nb.texts(f"{PANEL} .bodhi-panel-error") in ([""], [])
        finally:
            nb.close()
    base = median(samples["baseline"][1:]) * 1000
    return [line("access_panel_first_page_visible", median(samples["access"][1:]) * 1000,
                 "ms", baseline="a tiny HTML output, same page", baseline_value=base,
                 requests=REQUESTS, goal_ms=1000,
                 browser="Chromium (Debian) headless, JupyterLab 4")]


def run() -> list[dict[str, Any]]:
    from bodhi_nb.testing.oidc import OidcServer

    users = (("admin", "Ada", "Admin"),
             *((f"u{i:03d}", "Bench", f"User{i}") for i in range(2 * APPROVALS)))
    with tempfile.TemporaryDirectory(prefix="bodhi-bench-access-") as tmp, \
            OidcServer(usernames=users) as server:
        root = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BODHI_", "HF_"))}
        env |= {"BODHI_HOME": str(root / "bodhi"), "HF_HOME": str(root / "hf"),
                "XDG_CONFIG_HOME": str(root / "xdg"),
                "BODHI_ENCRYPTION_KEY": "a-bench-key-of-twenty-chars-or-more",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        _deploy(server, env)
        out = _kernel_side(env, server)
        out += _browser_side(env, root)
    return out


if __name__ == "__main__":
    import json

    for result in run():
        print(json.dumps(result), file=sys.stdout)
