"""JupyterLab in a real Chromium, for browser tests of the panels (a test helper only).

:class:`JupyterLab` starts ``python -m jupyterlab`` from this interpreter on 127.0.0.1 (a
port the OS picks, a random token, temp config/data/runtime/IPython dirs, no news toast).
Each test gets its own kernelspec (:meth:`JupyterLab.add_kernel`) whose ``env`` carries
that test's BODHI_HOME, HF_HOME, keyring backend, PYTHONPATH...: the server's environment
is fixed when it starts, a kernelspec's is read when a kernel starts, so one server serves
every test and each kernel sees its own test's folders.

:class:`Chromium` drives Debian's ``/usr/bin/chromium`` through Playwright (never a
downloaded browser); :meth:`Chromium.open` opens a notebook in a fresh browser context and
returns a :class:`LabPage` (run cells, click, type, read the DOM, save, screenshot).

    with JupyterLab(tmp) as lab, Chromium() as browser:
        kernel = lab.add_kernel("t1", env={"BODHI_HOME": str(home)})
        path = lab.write_notebook("t1.ipynb", ["%load_ext bodhi_nb", "%bodhi panel models"],
                                  kernel)
        with browser.open(lab, path, kernel) as nb:
            nb.run_all()
            nb.click(".bodhi-models-panel .bodhi-sort-size")
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, WebSocket

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "INSTALL_HINT", "BrowserMissingError", "Chromium",
           "Frame", "JupyterLab", "Kernel", "LabPage", "chromium_path",
           "time_to_first_visible"]

#: Debian's Chromium; Playwright's own browsers cannot be downloaded here.
CHROMIUM = "/usr/bin/chromium"
#: Measured on this platform (shared/reference/platform-facts.md); Playwright adds
#: ``--headless`` itself when ``headless=True``.
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync")
INSTALL_HINT = ("Chromium is missing (/usr/bin/chromium): run `sudo apt-get install -y "
                "chromium` (or `make peers` as root)")

#: What the kernel of a test may need from the test's environment.
KERNEL_ENV = ("BODHI_HOME", "HF_HOME", "BODHI_LOCALE", "BODHI_ENCRYPTION_KEY", "HF_TOKEN",
              "HF_ENDPOINT", "PYTHON_KEYRING_BACKEND", "BODHI_DATABASE_URL",
              "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_DISABLE_XET", "HF_HUB_OFFLINE",
              "XDG_CONFIG_HOME", "PYTHONPATH")

#: JupyterLab settings for tests: no news toast, no update check.
_OVERRIDES = {"@jupyterlab/apputils-extension:notification": {
    "fetchNews": "false", "checkForUpdates": False}}


class BrowserMissingError(RuntimeError):
    """Debian's Chromium is not installed."""


def chromium_path(path: str = CHROMIUM) -> str:
    """``path`` (Debian's Chromium by default) if it can run, else
    :class:`BrowserMissingError` with the line that installs it."""
    if not os.access(path, os.X_OK):
        raise BrowserMissingError(INSTALL_HINT.replace(CHROMIUM, path))
    return path


@dataclass(frozen=True)
class Kernel:
    """A kernelspec made for one test: its name and the name the status bar shows."""

    name: str
    display_name: str


def _kernel_pids(runtime_dir: Path) -> list[int]:
    """Processes whose command line names a connection file in ``runtime_dir``: the kernels
    this server started (they run in sessions of their own, outside its process group)."""
    marker = str(runtime_dir).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if marker in cmdline and b"kernel-" in cmdline:
            pids.append(int(entry.name))
    return pids


class JupyterLab:
    """One JupyterLab server in ``base`` (its notebooks live in ``base/root``)."""

    def __init__(self, base: Path, *, python: str = sys.executable,
                 env: Mapping[str, str] | None = None, timeout: float = 90.0) -> None:
        self.base = Path(base)
        self.python = python
        self.root = self.base / "root"
        self.token = secrets.token_hex(16)
        self.port = 0
        dirs = {name: self.base / sub for name, sub in (
            ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython"))}
        for path in (self.root, *dirs.values()):
            path.mkdir(parents=True, exist_ok=True)
        self.data_dir = dirs["JUPYTER_DATA_DIR"]
        self.runtime_dir = dirs["JUPYTER_RUNTIME_DIR"]
        settings = self.base / "lab-settings"
        settings.mkdir(exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(_OVERRIDES))
        server_env = dict(os.environ if env is None else env)
        # The server's own folders, so a kernel started without a test's kernelspec writes
        # nowhere a test looks; a test's kernelspec sets its own.
        for key in KERNEL_ENV:
            if key != "PYTHONPATH":
                server_env.pop(key, None)
        server_env.update({k: str(v) for k, v in dirs.items()})
        server_env["BODHI_HOME"] = str(self.base / "bodhi_home")
        server_env["HF_HOME"] = str(self.base / "hf_home")
        server_env["HF_HUB_DISABLE_TELEMETRY"] = "1"
        server_env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        server_env.setdefault("PYTHONUNBUFFERED", "1")
        args = [python, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port=0", "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                f"--LabApp.app_settings_dir={settings}", "--LabApp.expose_app_in_browser=True",
                "--LabApp.check_for_updates_class="
                "jupyterlab.handlers.announcements.NeverCheckForUpdate",
                "--ServerApp.terminals_enabled=False"]
        if os.geteuid() == 0:
            args.append("--allow-root")
        self.log_path = self.base / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(args, env=server_env, stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.close()
            raise

    # -- lifetime ---------------------------------------------------------------------------

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        info = self.runtime_dir / f"jpserver-{self.process.pid}.json"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}: "
                                   + self.log_tail())
            if not self.port and info.exists():
                with contextlib.suppress(ValueError):
                    self.port = int(json.loads(info.read_text())["port"])
            if self.port:
                with contextlib.suppress(OSError):
                    self.api("GET", "/api/status")
                    return
            time.sleep(0.2)
        raise TimeoutError(f"JupyterLab not ready after {timeout:.0f} s: " + self.log_tail())

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def close(self) -> None:
        """Shut every kernel and the server down; kill what is left (by process id)."""
        if self.process.poll() is None:
            with contextlib.suppress(Exception):
                self.shutdown_kernels()
            with contextlib.suppress(Exception):
                self.api("POST", "/api/shutdown")
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # anything the server left behind
        for pid in self.leftover_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self._log.close()

    def leftover_pids(self) -> list[int]:
        """Kernels of this server still running (none after :meth:`close`)."""
        return _kernel_pids(self.runtime_dir)

    def __enter__(self) -> JupyterLab:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- REST -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, body: object = None, *,
            timeout: float = 30.0) -> Any:
        """Call the server's REST API with the token; the decoded JSON answer (or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            raw = answer.read()
        return json.loads(raw) if raw else None

    def kernels(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.api("GET", "/api/kernels")
        return found

    def shutdown_kernels(self) -> None:
        """Shut down every session and kernel (a test's kernel holds its BODHI_HOME open)."""
        for session in self.api("GET", "/api/sessions") or []:
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.kernels():
            with contextlib.suppress(urllib.error.HTTPError):
                self.api("DELETE", f"/api/kernels/{kernel['id']}")

    # -- kernels and notebooks --------------------------------------------------------------

    def add_kernel(self, name: str, env: Mapping[str, str], *,
                   display_name: str | None = None) -> Kernel:
        """A kernelspec running this interpreter's ipykernel with ``env`` on top of the
        server's environment (``python -m ipykernel_launcher``; the kernel imports
        bodhi_nb from the PYTHONPATH given, else from this interpreter's site-packages)."""
        name = re.sub(r"[^a-z0-9_.-]", "-", name.lower())[:60]
        spec_dir = self.data_dir / "kernels" / name
        spec_dir.mkdir(parents=True, exist_ok=True)
        display = display_name or f"bodhi {name}"
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [self.python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": display, "language": "python",
            "env": dict(env), "metadata": {"debugger": False}}, indent=1))
        return Kernel(name, display)

    def remove_kernel(self, kernel: Kernel) -> None:
        shutil.rmtree(self.data_dir / "kernels" / kernel.name, ignore_errors=True)

    def write_notebook(self, relpath: str, cells: Sequence[str], kernel: Kernel) -> str:
        """Write a notebook of code cells (sources as given) under the server's root."""
        import nbformat

        nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
        nb.cells = [nbformat.v4.new_code_cell(source)  # type: ignore[no-untyped-call]
                    for source in cells]
        nb.metadata["kernelspec"] = {"name": kernel.name, "display_name": kernel.display_name,
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))  # type: ignore[no-untyped-call]
        return relpath

    def read_notebook(self, relpath: str) -> Any:
        """The notebook file as saved on disk (an ``nbformat`` node)."""
        import nbformat

        return nbformat.read(str(self.root / relpath), as_version=4)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Frame:
    """One websocket frame the page saw: ``sent`` (page to server) or ``received``."""

    direction: Literal["sent", "received"]
    url: str
    payload: bytes


@dataclass
class LabPage:
    """A notebook open in JupyterLab in its own browser context."""

    page: Page
    lab: JupyterLab
    path: str
    kernel: Kernel
    artefacts: Path | None = None
    #: every websocket frame since the page opened (kernel messages included).
    frames: list[Frame] = field(default_factory=list)
    _context: BrowserContext | None = None

    # -- waiting ----------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the status bar says ``<kernel> | Idle`` (the toolbar's indicator says
        idle before the kernel is connected, the status bar does not)."""
        self.page.locator("#jp-main-statusbar").get_by_text(
            f"{self.kernel.display_name} | Idle", exact=True).wait_for(timeout=timeout * 1000)

    def wait_for_text(self, text: str, within: str = "body", *, timeout: float = 30.0) -> None:
        """Wait until ``text`` shows inside the first element matching ``within``."""
        self.page.locator(within).first.get_by_text(text).first.wait_for(
            state="visible", timeout=timeout * 1000)

    def wait_for(self, selector: str, *, state: Literal["attached", "detached", "hidden",
                                                        "visible"] = "visible",
                 timeout: float = 30.0) -> None:
        self.page.locator(selector).first.wait_for(state=state, timeout=timeout * 1000)

    def wait_until(self, expression: str, arg: object = None, *, timeout: float = 30.0) -> Any:
        """Wait until the JavaScript function ``expression`` returns a truthy value."""
        handle = self.page.wait_for_function(expression, arg=arg, timeout=timeout * 1000)
        return handle.json_value()

    # -- running ----------------------------------------------------------------------------

    def start_command(self, command: str, args: Mapping[str, object] | None = None) -> int:
        """Start a JupyterLab command (``notebook:run-cell``, ``docmanager:save``...) without
        waiting; its id for :meth:`wait_command`."""
        started: int = self.page.evaluate("""([c, a]) => {
            const runs = window.__bodhiRuns = window.__bodhiRuns || [];
            const id = runs.length;
            runs.push({done: false});
            window.jupyterapp.commands.execute(c, a).then(
                value => { runs[id] = {done: true, value: ['boolean', 'number', 'string'].includes(
                    typeof value) ? value : null}; },
                error => { runs[id] = {done: true, error: String(error)}; });
            return id;
        }""", [command, dict(args or {})])
        return started

    def wait_command(self, run: int, *, timeout: float = 120.0) -> Any:
        """Wait until command ``run`` has finished; its result if JSON-able (a notebook run
        command says True when every cell ran without an error)."""
        outcome = self.wait_until("(id) => window.__bodhiRuns[id].done && window.__bodhiRuns[id]",
                                  run, timeout=timeout)
        if "error" in outcome:
            raise RuntimeError(f"JupyterLab command failed: {outcome['error']}")
        return outcome.get("value")

    def command(self, command: str, args: Mapping[str, object] | None = None, *,
                timeout: float = 120.0) -> Any:
        """Run a JupyterLab command and wait (at most ``timeout``) until it has finished."""
        return self.wait_command(self.start_command(command, args), timeout=timeout)

    def run_all(self, *, timeout: float = 120.0) -> bool:
        """Run every cell, wait until all have finished and the kernel is idle; True when
        none raised."""
        ok = self.command("notebook:run-all-cells", timeout=timeout)
        self.wait_idle(timeout)
        return bool(ok)

    def select_cell(self, index: int) -> None:
        self.page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content"
                           ".activeCellIndex = i; }", index)

    def start_cell(self, index: int) -> int:
        """Send cell ``index`` to the kernel without waiting (see :meth:`wait_command`)."""
        self.select_cell(index)
        return self.start_command("notebook:run-cell")

    def run_cell(self, index: int, *, timeout: float = 120.0) -> bool:
        """Run cell ``index``, wait until it has finished and the kernel is idle; True when
        it did not raise."""
        ok = self.wait_command(self.start_cell(index), timeout=timeout)
        self.wait_idle(timeout)
        return bool(ok)

    def wait_cells_done(self, *, timeout: float = 120.0) -> None:
        """Wait until every command started here has finished and the kernel is idle."""
        self.wait_until("() => (window.__bodhiRuns || []).every(r => r.done)", timeout=timeout)
        self.wait_idle(timeout)

    # -- reading ----------------------------------------------------------------------------

    def texts(self, selector: str) -> list[str]:
        """The text of every element matching ``selector``, in document order."""
        found: list[str] = self.page.locator(selector).all_inner_texts()
        return [t.strip() for t in found]

    def wait_texts(self, selector: str, expected: Sequence[str], *,
                   timeout: float = 30.0) -> list[str]:
        """Poll :meth:`texts` until it equals ``expected`` (widget updates arrive one
        message at a time) or ``timeout`` passes; the last list seen, for the test to
        assert on."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.texts(selector)
            if seen == list(expected) or time.monotonic() > deadline:
                return seen
            self.page.wait_for_timeout(100)

    def html(self) -> str:
        """The whole page's DOM, serialised."""
        return self.page.content()

    def input_values(self) -> list[str]:
        """The live ``.value`` of every input and textarea (not in the serialised DOM)."""
        values: list[str] = self.page.evaluate(
            "() => Array.from(document.querySelectorAll('input, textarea'), e => e.value)")
        return values

    def outputs_text(self) -> str:
        """The text of every output area of the notebook."""
        return "\n".join(self.texts(".jp-OutputArea-output"))

    # -- acting -----------------------------------------------------------------------------

    def button(self, within: str, description: str | None = None, *, nth: int = 0) -> Any:
        """The ``nth`` ipywidgets button inside ``within`` (a CSS selector; a button's own
        classes count), optionally the one whose text is ``description``."""
        buttons = self.page.locator(f"{within}.widget-button, {within} .widget-button")
        if description is not None:
            buttons = buttons.filter(has_text=re.compile(rf"^\s*{re.escape(description)}"))
        return buttons.nth(nth)

    def click(self, within: str, description: str | None = None, *, nth: int = 0,
              timeout: float = 30.0) -> None:
        """Click a button (see :meth:`button`)."""
        self.button(within, description, nth=nth).click(timeout=timeout * 1000)

    def fill(self, within: str, text: str, *, enter: bool = True,
             timeout: float = 30.0) -> None:
        """Type ``text`` into the text box of the widget matching ``within`` (then Enter,
        which is when a box with ``continuous_update=False`` sends its value)."""
        box = self.page.locator(f"{within} input, {within} textarea").first
        box.fill(text, timeout=timeout * 1000)
        if enter:
            box.press("Enter")

    def save(self) -> Any:
        """Save the notebook (JupyterLab's save command, awaited) and return the file as
        written on disk (an ``nbformat`` node)."""
        self.command("docmanager:save")
        self.wait_until("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        return self.lab.read_notebook(self.path)

    def screenshot(self, name: str) -> Path | None:
        """A full-page PNG ``name.png`` in the artefacts folder (None without one)."""
        if self.artefacts is None:
            return None
        self.artefacts.mkdir(parents=True, exist_ok=True)
        target = self.artefacts / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def frames_received(self, needle: bytes) -> list[Frame]:
        return [f for f in self.frames if f.direction == "received" and needle in f.payload]

    def frames_sent(self, needle: bytes) -> list[Frame]:
        return [f for f in self.frames if f.direction == "sent" and needle in f.payload]

    # -- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        if self._context is not None:
            with contextlib.suppress(Exception):
                self._context.close()
            self._context = None

    def __enter__(self) -> LabPage:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _as_bytes(payload: str | bytes) -> bytes:
    return payload.encode() if isinstance(payload, str) else bytes(payload)


class Chromium:
    """Debian's Chromium, headless, through Playwright's sync API."""

    def __init__(self, *, executable: str | None = None, headless: bool = True,
                 artefacts: Path | None = None) -> None:
        from playwright.sync_api import sync_playwright

        path = chromium_path(executable or CHROMIUM)
        self.artefacts = artefacts
        self._playwright: Playwright = sync_playwright().start()
        try:
            self.browser: Browser = self._playwright.chromium.launch(
                executable_path=path, headless=headless, args=list(CHROMIUM_ARGS))
        except BaseException:
            self._playwright.stop()
            raise
        self._workspaces = 0

    def open(self, lab: JupyterLab, path: str, kernel: Kernel, *,
             viewport: tuple[int, int] = (1280, 900), timeout: float = 90.0) -> LabPage:
        """Open notebook ``path`` (relative to the server's root) in a fresh context and a
        workspace of its own (no notebook of an earlier test is restored), and wait until
        its kernel is idle."""
        context = self.browser.new_context(viewport={"width": viewport[0],
                                                     "height": viewport[1]})
        page = context.new_page()
        lab_page = LabPage(page=page, lab=lab, path=path, kernel=kernel,
                           artefacts=self.artefacts, _context=context)

        def on_socket(socket: WebSocket) -> None:
            url = socket.url.split("?", 1)[0]
            socket.on("framesent", lambda p: lab_page.frames.append(
                Frame("sent", url, _as_bytes(p))))
            socket.on("framereceived", lambda p: lab_page.frames.append(
                Frame("received", url, _as_bytes(p))))

        page.on("websocket", on_socket)
        self._workspaces += 1
        workspace = f"w{os.getpid()}-{self._workspaces}"
        try:
            page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{path}"
                      f"?reset&token={lab.token}", timeout=timeout * 1000)
            page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                                   " && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.content"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext",
                                   timeout=timeout * 1000)
            lab_page.wait_idle(timeout)
        except BaseException:
            lab_page.close()
            raise
        return lab_page

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.browser.close()
        self._playwright.stop()

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def time_to_first_visible(nb: LabPage, cell: int, selector: str, *,
                          timeout: float = 60.0) -> float:
    """Seconds from sending cell ``cell`` to the kernel until an element matching
    ``selector`` (e.g. ``.bodhi-models-panel .bodhi-cell``) is visible, measured in the page
    (``performance.now()`` when the run command is issued, then checked on every animation
    frame), so Playwright's round trips are not counted."""
    nb.select_cell(cell)
    started: float = nb.page.evaluate("""() => {
        const runs = window.__bodhiRuns = window.__bodhiRuns || [];
        const id = runs.length;
        runs.push({done: false});
        const t0 = performance.now();
        window.jupyterapp.commands.execute('notebook:run-cell').then(
            () => { runs[id] = {done: true}; },
            error => { runs[id] = {done: true, error: String(error)}; });
        return t0;
    }""")
    seen = nb.page.wait_for_function("""(sel) => {
        for (const e of document.querySelectorAll(sel)) {
            const r = e.getBoundingClientRect();
            if (r.width > 0 && r.height > 0 && e.offsetParent !== null) return performance.now();
        }
        return 0;
    }""", arg=selector, polling="raf", timeout=timeout * 1000)
    return (float(seen.json_value()) - started) / 1000.0


@contextlib.contextmanager
def lab_and_browser(base: Path, *, artefacts: Path | None = None) -> Iterator[
        tuple[JupyterLab, Chromium]]:
    """A server and a browser, both closed on exit (the browser first)."""
    with JupyterLab(base) as lab, Chromium(artefacts=artefacts) as browser:
        yield lab, browser
