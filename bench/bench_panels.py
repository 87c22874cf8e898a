"""The widget panels: how long they take to build and show, and what live progress costs.

* Kernel side: building the models panel over 1,000 local GGUF files and the downloads
  panel over 10,000 download requests (the widget state of the first page), against the
  text of the matching command (``ls``, ``downloads``) over the same data, in the same run.
* Browser side: from the execute request to the first table row visible in JupyterLab in
  Debian's Chromium (Playwright), against a plain ``print`` cell in the same page.
* Progress cost: the kernel's CPU during a 512 MiB pull from a loopback Hub with a
  download row displayed (its updates sent to the front end through the kernel), against
  the same pull with no display; both in a real ipykernel driven by jupyter_client.

Goals (issue 10): first page visible under 1 s; progress under 5 % of the pull's CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._util import line, median

MODELS = int(os.environ.get("BENCH_PANEL_MODELS", "1000"))
REQUESTS = int(os.environ.get("BENCH_PANEL_REQUESTS", "10000"))
PULL_MIB = int(os.environ.get("BENCH_PANEL_PULL_MIB", "512"))
RUNS = int(os.environ.get("BENCH_PANEL_RUNS", "3"))


@contextmanager
def _home(root: Path) -> Iterator[dict[str, str]]:
    """A fresh BODHI_HOME and HF_HOME under ``root``, set for this process while inside."""
    env = {"BODHI_HOME": str(root / "bodhi"), "HF_HOME": str(root / "hf"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
           "BODHI_ENCRYPTION_KEY": "bench-" + "k" * 40}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _timed(build: Callable[[], object], runs: int = RUNS) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        build()
        samples.append(time.perf_counter() - t0)
    return median(samples)


def _seed_models(hf_home: Path, n: int) -> None:
    from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache

    src = Path(tempfile.mkdtemp(prefix="bodhi-bench-gguf-"))
    try:
        for i in range(n):
            path = make_gguf(src / f"m{i}.gguf", arch=("llama", "qwen2", "gemma3")[i % 3],
                             context_length=2048 << (i % 4), file_type=(15, 7, 1)[i % 3],
                             size_bytes=4096 + 64 * i)
            put_in_hf_cache(hf_home / "hub", f"bench{i // 10}/model-{i}-GGUF",
                            f"model-{i}-Q4_K_M.gguf", path)
    finally:
        shutil.rmtree(src, ignore_errors=True)


def _seed_requests(n: int) -> None:
    from bodhi_nb.app import app
    from bodhi_nb.objs import DownloadRequest, DownloadStatus, new_ulid

    rows = app().db_service().tables.downloads
    start = datetime(2026, 1, 1, tzinfo=UTC)
    statuses = (DownloadStatus.COMPLETED, DownloadStatus.ERROR, DownloadStatus.COMPLETED)
    with rows.transaction():
        for i in range(n):
            at = start + timedelta(seconds=i)
            status = statuses[i % 3]
            rows.create(DownloadRequest(
                new_ulid(at), f"bench{i % 97}/repo-{i % 997}-GGUF", f"file-{i}-Q4_K_M.gguf",
                status, at, at, total_bytes=1 << 20, downloaded_bytes=1 << 20,
                error=(json.dumps({"code": "interrupted", "params": {}})
                       if status is DownloadStatus.ERROR else None)))


def _kernel_side() -> list[dict[str, Any]]:
    from bodhi_nb import ui
    from bodhi_nb.app import app, reset_apps
    from bodhi_nb.commands import Context, execute

    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bodhi-bench-panels-") as tmp:
        root = Path(tmp)
        with _home(root):
            reset_apps()
            _seed_models(root / "hf", MODELS)
            ctx = Context(prog="%bodhi")
            registry = app()
            first = _timed(lambda: ui.models(registry), runs=1)  # GGUF headers read here
            panel_s = _timed(lambda: ui.models(registry))
            text_s = _timed(lambda: execute(["ls"], ctx, lambda: registry).to_text())
            out.append(line("panel_models_build", panel_s * 1000, "ms",
                            baseline="`ls` text, same models", baseline_value=text_s * 1000,
                            models=MODELS, first_build_ms=round(first * 1000, 1),
                            goal_ms=1000))
            _seed_requests(REQUESTS)
            panel_s = _timed(lambda: ui.downloads(registry))
            text_s = _timed(lambda: execute(["downloads"], ctx, lambda: registry).to_text())
            out.append(line("panel_downloads_build", panel_s * 1000, "ms",
                            baseline="`downloads` text (its newest 100 rows)",
                            baseline_value=text_s * 1000, requests=REQUESTS, goal_ms=1000))
            reset_apps()
            out += _browser_side(root)
    return out


#: (what, the cell, what must be visible): a tiny HTML output is the baseline, the floor of
#: any cell's round trip (kernel, widget manager, layout) in the same page.
_SHOWN = (
    ("baseline", "from IPython.display import HTML\nHTML('<b class=\"bench-mark\">x</b>')",
     ".bench-mark"),
    ("models", "%bodhi panel models", ".bodhi-models-panel .bodhi-cell"),
    ("downloads", "%bodhi panel downloads", ".bodhi-downloads-panel .bodhi-cell"),
)


def _browser_side(root: Path) -> list[dict[str, Any]]:
    """Time until the first page of each panel is visible in JupyterLab in Chromium."""
    from bodhi_nb.testing.jupyterlab import lab_and_browser, time_to_first_visible

    env = {"BODHI_HOME": str(root / "bodhi"), "HF_HOME": str(root / "hf"),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    samples: dict[str, list[float]] = {name: [] for name, _, _ in _SHOWN}
    with lab_and_browser(root / "lab") as (lab, browser):
        kernel = lab.add_kernel("bench", env)
        cells = ["%load_ext bodhi_nb", "%bodhi status", *(cell for _, cell, _ in _SHOWN)]
        path = lab.write_notebook("bench.ipynb", cells, kernel)
        nb = browser.open(lab, path, kernel, viewport=(1280, 900))
        try:
            assert nb.run_cell(0) and nb.run_cell(1)  # imports and the registry: warm
            for _ in range(RUNS + 1):  # the first round warms the panels' code up
                for i, (name, _, selector) in enumerate(_SHOWN):
                    nb.command("notebook:clear-all-cell-outputs")
                    samples[name].append(time_to_first_visible(nb, 2 + i, selector,
                                                               timeout=120))
                    nb.wait_cells_done()
        finally:
            nb.close()
    base = median(samples["baseline"][1:]) * 1000
    return [line(f"panel_{name}_first_page_visible", median(samples[name][1:]) * 1000, "ms",
                 baseline="a tiny HTML output, same page", baseline_value=base,
                 rows=MODELS if name == "models" else REQUESTS, goal_ms=1000,
                 browser="Chromium (Debian) headless, JupyterLab 4")
            for name in ("models", "downloads")]


# Runs in the kernel: one pull of the big file, the kernel's CPU seconds around it. With
# ``shown`` it is ``%bodhi pull``, whose download row is a widget in a kernel; without, the
# same pull command run with no progress display at all.
_PULL_IN_KERNEL = r"""
import json, resource, time
from bodhi_nb.app import app
from bodhi_nb.objs import Repo
def _cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
_repo = Repo.parse("bench/big")
app().hub_service().forget_local_file(_repo, "big-Q4_K_M.gguf")
_c0, _t0 = _cpu(), time.perf_counter()
if SHOWN:
    get_ipython().run_line_magic("bodhi", "pull bench/big big-Q4_K_M.gguf")
else:
    from bodhi_nb.commands import Context, execute
    execute(["pull", "bench/big", "big-Q4_K_M.gguf"], Context(prog="%bodhi"), app)
print("BENCH " + json.dumps({"cpu": _cpu() - _c0, "seconds": time.perf_counter() - _t0}))
"""


def _in_kernel(env: dict[str, str], shown_runs: list[bool]) -> list[dict[str, float]]:
    """Run the pull in one ipykernel, once per entry of ``shown_runs``; drain iopub (a
    front end would read every message too)."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env={**os.environ, **env})
    try:
        client.execute_interactive("%load_ext bodhi_nb", timeout=120)
        results: list[dict[str, float]] = []
        for shown in shown_runs:
            printed: list[str] = []
            widget_messages = [0]

            def seen(msg: dict[str, Any], printed: list[str] = printed,
                     widget_messages: list[int] = widget_messages) -> None:
                kind = msg["msg_type"]
                if kind == "stream":
                    printed.append(msg["content"]["text"])
                elif kind.startswith("comm_"):
                    widget_messages[0] += 1

            reply = client.execute_interactive(
                f"SHOWN = {shown}\n" + _PULL_IN_KERNEL, timeout=600, output_hook=seen)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"the pull failed in the kernel: {reply['content']}")
            found = [t for t in "".join(printed).splitlines() if t.startswith("BENCH ")]
            results.append({**json.loads(found[-1][6:]), "shown": shown,
                            "widget_messages": widget_messages[0]})
        return results
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _progress_cost() -> list[dict[str, Any]]:
    from bodhi_nb.offline_hub import HubServer

    with tempfile.TemporaryDirectory(prefix="bodhi-bench-progress-") as tmp:
        root = Path(tmp)
        src = root / "big-Q4_K_M.gguf"
        with open(src, "wb") as fh:
            for _ in range(PULL_MIB):
                fh.write(os.urandom(1 << 20))
        with HubServer(root / "hub") as hub:
            hub.add_repo("bench/big", {"big-Q4_K_M.gguf": src})
            hub.warm()
            env = {"BODHI_HOME": str(root / "bodhi"), "HF_HOME": str(root / "hf"),
                   "HF_ENDPOINT": hub.endpoint,
                   "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
            # interleaved, so a noisy machine is fair to both; the first pair warms up
            # (imports, the first widget, the page cache) and is not counted
            runs = _in_kernel(env, [False, True] * (RUNS + 1))[2:]
    plain = [r for r in runs if not r["shown"]]
    shown = [r for r in runs if r["shown"]]
    cpu_plain = median([r["cpu"] for r in plain])
    cpu_shown = median([r["cpu"] for r in shown])
    return [line("panel_progress_cpu", cpu_shown, "CPU-s", baseline="same pull, no display",
                 baseline_value=cpu_plain, file_mib=PULL_MIB, runs=RUNS,
                 overhead_pct=round(100 * (cpu_shown - cpu_plain) / cpu_plain, 1),
                 widget_messages=median([r["widget_messages"] for r in shown]),
                 goal_overhead_pct=5)]


def run() -> list[dict[str, Any]]:
    return [*_kernel_side(), *_progress_cost()]


if __name__ == "__main__":
    for result in run():
        print(json.dumps(result), file=sys.stdout)
