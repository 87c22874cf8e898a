"""Browser tests: one JupyterLab server and one headless Chromium for the whole session,
a fresh kernel and notebook per test.

Each test's kernel runs from a kernelspec of its own whose ``env`` holds that test's
BODHI_HOME, HF_HOME, keyring backend, HF_ENDPOINT..., read from ``os.environ`` when the test
calls ``open_notebook`` (so after its fixtures and monkeypatches): the server's environment
is fixed when the session starts, a kernelspec's is read when its kernel starts. Nothing is
set from inside a cell, so the notebooks (and their screenshots) show only what a user types.

Screenshots go to ``$BODHI_BROWSER_ARTEFACTS`` (default ``build/browser-artefacts``): one
``<test>.png`` per test, taken when it ends (pass or fail), plus any a test takes itself.
A missing Chromium fails every browser test with the line that installs it (no skip).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from _browser_support import ROOT, OpenNotebook, artefacts_dir, kernel_env

from bodhi_nb.testing.jupyterlab import BrowserMissingError, Chromium, JupyterLab, LabPage

_USED: list[Path] = []


@pytest.fixture(scope="session")
def browser_artefacts() -> Path:
    """The artefacts folder, emptied of the previous run's screenshots."""
    folder = artefacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    _USED.append(folder)
    return folder


@pytest.fixture(scope="session")
def chromium(browser_artefacts: Path) -> Iterator[Chromium]:
    try:
        browser = Chromium(artefacts=browser_artefacts)
    except BrowserMissingError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def jupyter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterLab]:
    """One JupyterLab server for the session; every kernel and process it started is gone
    after it closes (checked)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    lab = JupyterLab(tmp_path_factory.mktemp("jupyterlab"), env=env)
    yield lab
    lab.close()
    assert lab.process.poll() is not None, "the JupyterLab server outlived close()"
    assert lab.leftover_pids() == [], "kernels outlived the JupyterLab server"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:80]


@pytest.fixture
def open_notebook(request: pytest.FixtureRequest, jupyter_lab: JupyterLab,
                  chromium: Chromium) -> Iterator[OpenNotebook]:
    """``open_notebook(cells, env=None, viewport=(1280, 900)) -> LabPage``: write a notebook
    of these code cells for a kernel with this test's environment (plus ``env``), open it in
    a fresh browser context and wait for the kernel to be idle. Cells are not run.

    On teardown: a screenshot ``<test>.png``, then the page, the kernel (so it lets go of
    the test's BODHI_HOME) and the kernelspec are closed."""
    opened: list[tuple[LabPage, str]] = []
    test = _slug(request.node.name)

    def open_(cells: Sequence[str], *, env: Mapping[str, str] | None = None,
              viewport: tuple[int, int] = (1280, 900)) -> LabPage:
        name = f"{test}-{len(opened)}" if opened else test
        kernel = jupyter_lab.add_kernel(name, kernel_env(**dict(env or {})))
        path = jupyter_lab.write_notebook(f"{name}.ipynb", cells, kernel)
        try:
            page = chromium.open(jupyter_lab, path, kernel, viewport=viewport)
        except BaseException:
            jupyter_lab.remove_kernel(kernel)
            raise
        opened.append((page, name))
        return page

    yield open_
    for page, name in opened:
        with contextlib.suppress(Exception):
            page.screenshot(name)
        page.close()
        jupyter_lab.remove_kernel(page.kernel)
    jupyter_lab.shutdown_kernels()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for folder in _USED:
        shots = len(list(folder.glob("*.png")))
        terminalreporter.write_line(f"browser artefacts: {folder} ({shots} screenshots)")
