"""Issue 10 tests (a), (b) and the re-execution test: the pull and downloads panels in
JupyterLab in a real Chromium, against the real offline Hub (``hub``, served from this
process; the kernel reaches it through HF_ENDPOINT).

(a) Type a repository into the pull panel, Enter: its GGUF models are listed with their
sizes (a split model as one entry); Pull: the bar's width, read from the DOM, grows (a
screenshot at each of two widths), the row ends completed and the file is in the HF cache.
(b) Cancel a throttled pull once its bar has moved: the row says cancelled and the partial
file stays; Pull again: it completes, and the Hub's log shows the request resuming with a
Range past 0. (c) Re-execute the cell of ``%bodhi panel downloads`` while a pull runs: one
row for it in the new output, its bar still advancing to completed.

The Hub throttles file bodies so a download takes seconds; every wait polls the page, its
timeout only a liveness bound (nothing is asserted about durations).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from _browser_support import OpenNotebook

from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer
from bodhi_nb.testing.jupyterlab import LabPage

MiB = 1 << 20
REPO = "acme/tiny-GGUF"
FILE = "tiny-Q4_K_M.gguf"
SPLIT = ("tiny-Q8_0-00001-of-00002.gguf", "tiny-Q8_0-00002-of-00002.gguf")
PULL = ".bodhi-pull-panel"
DOWNLOADS = ".bodhi-downloads-panel"
#: seconds: a liveness bound for a throttled download, never part of what is asserted
LONG = 60.0


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Path]:
    """The repository's files: an 8 MiB model, a split one (2 + 1 MiB), a README. (The
    download reports progress once per MiB: the bar moves by eighths.)"""
    out = {FILE: make_gguf(tmp_path / "src" / FILE, size_bytes=8 * MiB),
           SPLIT[0]: make_gguf(tmp_path / "src" / SPLIT[0], size_bytes=2 * MiB),
           SPLIT[1]: make_gguf(tmp_path / "src" / SPLIT[1], size_bytes=1 * MiB)}
    readme = tmp_path / "src" / "README.md"
    readme.write_text("# tiny\n", encoding="utf-8")
    out["README.md"] = readme
    return out


@pytest.fixture
def repo(hub: FaultyHubServer, sources: dict[str, Path]) -> FaultyHubServer:
    hub.add_repo(REPO, sources)
    return hub


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _repo_dir() -> Path:
    return Path(os.environ["HF_HOME"]) / "hub" / f"models--{REPO.replace('/', '--')}"


def _bar_width(nb: LabPage, within: str, *, other_than: float | None = None,
               timeout: float = LONG) -> float:
    """The width (a percentage) of the one download bar inside ``within``, read from the
    DOM once it is above 0 (and, with ``other_than``, once it differs from that)."""
    width: float = nb.wait_until("""([within, other]) => {
        const bars = document.querySelectorAll(
            within + ' .bodhi-download-bar .progress-bar');
        if (bars.length !== 1 || !bars[0].style.width) return null;
        const w = parseFloat(bars[0].style.width);
        return w > 0 && (other === null || w !== other) ? w : null;
    }""", [within, other_than], timeout=timeout)
    return width


def _clipped(nb: LabPage, selector: str) -> list[str]:
    """The texts of the elements matching ``selector`` that are cut off (wider than their
    box)."""
    clipped: list[str] = nb.page.evaluate("""(sel) => Array.from(
        document.querySelectorAll(sel)).filter(e => e.scrollWidth > e.clientWidth + 1)
        .map(e => e.textContent)""", selector)
    return clipped


def _open_pull_panel(open_notebook: OpenNotebook) -> LabPage:
    nb = open_notebook(["%load_ext bodhi_nb", "%bodhi panel pull"])
    assert nb.run_all()
    nb.fill(f"{PULL} .bodhi-pull-repo", REPO)  # Enter lists the files
    files = [FILE, SPLIT[0]]
    assert nb.wait_texts(f"{PULL} .bodhi-pull-files .bodhi-col-file", files) == files
    return nb


def test_pull_panel_lists_pulls_and_shows_the_bar_advance(
        open_notebook: OpenNotebook, repo: FaultyHubServer,
        sources: dict[str, Path]) -> None:
    repo.throttle(MiB, origin="cdn")  # 8 s for the file
    nb = _open_pull_panel(open_notebook)
    table = f"{PULL} .bodhi-pull-files"
    # The split model is one entry of both its parts, its size their sum; no README.
    assert nb.texts(f"{table} .bodhi-col-size") == ["8.0 MiB", "3.0 MiB"]
    assert nb.texts(f"{table} .bodhi-col-parts") == ["1", "2"]
    assert nb.texts(f"{table} .bodhi-col-quant") == ["Q4_K_M", "Q8_0"]
    assert "README.md" not in nb.texts(table)[0]
    # the status line is its own widget: its update may reach the page after the table's
    status = [f"2 GGUF models in {REPO}."]
    assert nb.wait_texts(f"{PULL} .bodhi-panel-status", status) == status
    nb.screenshot("pull-listed")

    nb.click(f"{table} .bodhi-action-pull", nth=0)
    nb.wait_for(f"{PULL} .bodhi-download-row")
    assert nb.texts(f"{PULL} .bodhi-download-file") == [FILE]
    status = [f"Pulling {FILE}."]  # one file: no "(1 files)"
    assert nb.wait_texts(f"{PULL} .bodhi-panel-status", status) == status
    first = _bar_width(nb, PULL)
    assert 0 < first < 100
    nb.screenshot("pull-bar-first")
    second = _bar_width(nb, PULL, other_than=first)
    assert first < second < 100
    nb.screenshot("pull-bar-second")
    # Bytes, speed and ETA show while it runs.
    [shown] = nb.texts(f"{PULL} .bodhi-download-bytes")
    assert shown.endswith("/ 8.0 MiB")
    nb.wait_for_text("ETA ", f"{PULL} .bodhi-download-eta")
    nb.wait_for_text("/s", f"{PULL} .bodhi-download-speed")
    assert _clipped(nb, f"{PULL} .bodhi-download-row .widget-label") == []

    nb.wait_for(f"{PULL} .bodhi-download-state.bodhi-download-completed", timeout=LONG)
    assert nb.texts(f"{PULL} .bodhi-download-state") == ["completed"]
    assert _bar_width(nb, PULL) == 100
    assert len(nb.texts(f"{PULL} .bodhi-download-row")) == 1
    assert nb.page.locator(f"{PULL} .bodhi-download-cancel").is_hidden()
    [cached] = (_repo_dir() / "snapshots").glob(f"*/{FILE}")
    assert _sha(cached) == _sha(sources[FILE])
    assert not list((_repo_dir() / "blobs").glob("*.incomplete"))


def test_cancel_in_the_pull_panel_then_pull_again_resumes_with_a_range(
        open_notebook: OpenNotebook, repo: FaultyHubServer,
        sources: dict[str, Path]) -> None:
    repo.throttle(512 * 1024, origin="cdn")  # 16 s for the file: Cancel comes long before
    nb = _open_pull_panel(open_notebook)
    nb.click(f"{PULL} .bodhi-pull-files .bodhi-action-pull", nth=0)
    moved = _bar_width(nb, PULL)
    assert 0 < moved < 100
    nb.click(f"{PULL} .bodhi-download-cancel")
    nb.wait_for(f"{PULL} .bodhi-download-state.bodhi-download-cancelled", timeout=LONG)
    [state] = nb.texts(f"{PULL} .bodhi-download-state")
    assert state.startswith("cancelled: Pull again to resume")
    stopped = _bar_width(nb, PULL)
    assert moved <= stopped < 100
    nb.screenshot("pull-cancelled")
    # The long state line does not squeeze the row: every label shows its whole text.
    assert _clipped(nb, f"{PULL} .bodhi-download-row .widget-label") == []
    [partial] = list((_repo_dir() / "blobs").glob("*.incomplete"))
    kept = partial.stat().st_size
    total = sources[FILE].stat().st_size
    assert 0 < kept < total
    assert not list((_repo_dir() / "snapshots").glob(f"*/{FILE}"))

    repo.throttle(None)
    repo.clear_log()
    nb.click(f"{PULL} .bodhi-pull-files .bodhi-action-pull", nth=0)
    nb.wait_for(f"{PULL} .bodhi-download-state.bodhi-download-completed", timeout=LONG)
    # One row for the download: the cancelled one was replaced, not added to.
    assert nb.texts(f"{PULL} .bodhi-download-state") == ["completed"]
    nb.screenshot("pull-resumed")
    gets = [r for r in repo.log if r.origin == "cdn" and r.method == "GET"
            and r.path.endswith(FILE)]
    assert [r.range for r in gets] == [f"bytes={kept}-"]
    assert sum(r.bytes_sent for r in gets) == total - kept
    [cached] = (_repo_dir() / "snapshots").glob(f"*/{FILE}")
    assert _sha(cached) == _sha(sources[FILE])
    assert not list((_repo_dir() / "blobs").glob("*.incomplete"))


def test_re_executing_the_downloads_panel_reattaches_to_a_running_pull(
        open_notebook: OpenNotebook, repo: FaultyHubServer,
        sources: dict[str, Path]) -> None:
    repo.throttle(768 * 1024, origin="cdn")  # 11 s for the file
    nb = open_notebook(["%load_ext bodhi_nb", f"%bodhi pull --background {REPO}/{FILE}",
                        "%bodhi panel downloads"])
    assert nb.run_all()
    rows = f"{DOWNLOADS} .bodhi-download-row"
    before = _bar_width(nb, DOWNLOADS)
    assert 0 < before < 100
    assert nb.texts(f"{DOWNLOADS} .bodhi-download-file") == [FILE]
    nb.screenshot("downloads-first-run")

    # The same cell again: its output is replaced by a new panel, which finds the download
    # still running in this kernel and shows one row for it, from where it is.
    assert nb.run_cell(2)
    assert len(nb.texts(DOWNLOADS)) == 1
    nb.wait_for(rows)
    first = _bar_width(nb, DOWNLOADS)
    assert len(nb.texts(rows)) == 1
    assert before <= first < 100  # from where it was (progress comes by the MiB)
    second = _bar_width(nb, DOWNLOADS, other_than=first)
    assert first < second < 100
    assert len(nb.texts(rows)) == 1
    nb.screenshot("downloads-re-attached")
    assert nb.texts(f"{DOWNLOADS} .bodhi-download-file") == [FILE]
    # The table lists it once, as running here.
    table = f"{DOWNLOADS} .bodhi-downloads-table"
    assert nb.texts(f"{table} .bodhi-col-file") == [FILE]
    assert nb.texts(f"{table} .bodhi-col-status") == ["pending (running)"]

    nb.wait_for(f"{DOWNLOADS} .bodhi-download-state.bodhi-download-completed", timeout=LONG)
    assert nb.texts(f"{DOWNLOADS} .bodhi-download-state") == ["completed"]
    assert _bar_width(nb, DOWNLOADS) == 100
    assert len(nb.texts(rows)) == 1
    # The end of the run refreshed the table (from the download's thread).
    done = ["completed"]
    assert nb.wait_texts(f"{table} .bodhi-col-status", done) == done
    assert nb.texts(f"{table} .bodhi-col-progress") == ["8.0 MiB / 8.0 MiB 100%"]
    [cached] = (_repo_dir() / "snapshots").glob(f"*/{FILE}")
    assert _sha(cached) == _sha(sources[FILE])
