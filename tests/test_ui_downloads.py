"""The download row, the pull panel and the downloads panel, driven from Python against the
real offline Hub (no browser): values set, buttons clicked, the widget tree read.

Nothing here decides an outcome by the clock. A pull the test must catch mid-way is either
held inside its own progress callback (an Event; the pull's ``progress``, which
DownloadService calls outside its watcher lock, so panels can still attach meanwhile) or
throttled by the Hub to a rate far below what the test needs; each wait is on an Event and
its timeout is only a liveness bound, so a bug fails the test instead of hanging it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.app import DefaultAppService
from bodhi_nb.commands import Context, execute
from bodhi_nb.objs import CancelToken, DownloadRequest, DownloadStatus, Repo, new_ulid
from bodhi_nb.services.downloads import CANCELLED, error_code
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

FILE = "big-Q4_0.gguf"
LONG = 60.0  # seconds: only a liveness bound, never part of what is asserted
MiB = 1 << 20


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "src" / FILE
    path.parent.mkdir(parents=True)
    make_gguf(path, size_bytes=12 * MiB)
    return path


@pytest.fixture
def parts(tmp_path: Path) -> dict[str, Path]:
    """A repository as the Hub lists it: a single file, a split model, a projector, a README."""
    out: dict[str, Path] = {}
    for name, size in (("m-Q4_K_M.gguf", 2 * MiB), ("m-Q8_0-00001-of-00002.gguf", 3 * MiB),
                       ("m-Q8_0-00002-of-00002.gguf", 1 * MiB), ("mmproj-m-f16.gguf", MiB)):
        out[name] = make_gguf(tmp_path / "src" / name, size_bytes=size)
    readme = tmp_path / "src" / "README.md"
    readme.write_text("# m\n", encoding="utf-8")
    out["README.md"] = readme
    return out


def _ctx(app: DefaultAppService) -> Context:
    return Context(prog="%bodhi", localization=app.localization_service())


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _blobs(app: DefaultAppService, repo: str) -> Path:
    return app.setting_service().hf_cache / f"models--{repo.replace('/', '--')}" / "blobs"


class Held:
    """A pull's own progress that stops the pull thread at ``hold_at`` bytes until released
    (DownloadService calls it outside the lock its watchers attach under)."""

    def __init__(self, hold_at: int) -> None:
        self.hold_at = hold_at
        self.reached = threading.Event()
        self.release = threading.Event()

    def start(self, filename: str, total: int, initial: int) -> None:
        pass

    def advance(self, done: int) -> None:
        if done >= self.hold_at and not self.reached.is_set():
            self.reached.set()
            assert self.release.wait(LONG)

    def notice(self, text: str) -> None:
        pass

    def finish(self) -> None:
        pass


class Reached:
    """A watcher that only notes when the download passed ``at`` bytes (never blocks)."""

    def __init__(self, at: int) -> None:
        self.at = at
        self.event = threading.Event()

    def start(self, filename: str, total: int, initial: int) -> None:
        self.advance(initial)

    def advance(self, done: int) -> None:
        if done >= self.at:
            self.event.set()

    def notice(self, text: str) -> None:
        pass

    def finish(self) -> None:
        self.event.set()


# -- the row ---------------------------------------------------------------------------------


def test_row_throttles_to_ten_updates_a_second_and_flushes_the_last(
        app: DefaultAppService) -> None:
    from bodhi_nb.ui.download_row import DownloadRow

    now = [100.0]
    row = DownloadRow(_ctx(app), clock=lambda: now[0])
    row.start("a-Q4_0.gguf", 1_000_000, 0)
    assert row.updates == 1 and row.bar.value == 0.0
    etas: list[str] = []
    for i in range(1, 201):  # 200 reports over two seconds, 5,000 B each: 500 kB/s
        now[0] += 0.01
        row.advance(i * 5_000)
        if row.eta.value:
            etas.append(row.eta.value)
    assert 19 <= row.updates <= 23  # ~10 a second, not 200
    shown = row.bar.value
    assert shown < 100.0
    row.finish()
    # The update held back is flushed: every byte shows, and the row ends completed.
    assert row.bar.value == pytest.approx(100.0) and row.outcome == "completed"
    assert row.bytes.value == "976.6 KiB / 976.6 KiB"
    assert row.state.value == "completed" and row.cancel_button.layout.display == "none"
    # Smoothed speed: a steady 500 kB/s reads as such, and the ETA only ever goes down.
    assert row.speed == pytest.approx(500_000, rel=0.02)
    seconds = [int(e.removeprefix("ETA ").split(":")[0]) * 60
               + int(e.removeprefix("ETA ").split(":")[1]) for e in etas]
    assert seconds and seconds == sorted(seconds, reverse=True)
    assert "completed" in row.text() and "a-Q4_0.gguf" in repr(row)
    assert row._repr_mimebundle_()["text/plain"] == row.text()


def test_row_speed_does_not_jump_with_one_burst(app: DefaultAppService) -> None:
    from bodhi_nb.ui.download_row import DownloadRow

    now = [0.0]
    row = DownloadRow(_ctx(app), clock=lambda: now[0])
    row.start("f.gguf", 100_000_000, 0)
    done = 0
    for _ in range(30):  # 3 s at 1 MB/s
        now[0] += 0.1
        done += 100_000
        row.advance(done)
    steady = row.speed
    assert steady is not None and steady == pytest.approx(1_000_000, rel=0.05)
    now[0] += 0.1
    row.advance(done + 1_000_000)  # one 10x burst
    assert row.speed is not None and row.speed < 2 * steady


def test_row_as_the_progress_of_a_pull_advances_and_completes(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb.ui.download_row import DownloadRow

    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(8 * MiB, origin="cdn")  # long enough for the hub to report progress
    row = DownloadRow(_ctx(registry), per_second=1000.0)
    seen: list[float] = []
    row.bar.observe(lambda change: seen.append(change["new"]), names="value")
    request = registry.download_service().pull(Repo.parse("acme/big"), FILE, progress=row)
    assert request.status is DownloadStatus.COMPLETED
    assert row.outcome == "completed" and row.bar.value == pytest.approx(100.0)
    assert len(seen) >= 3 and seen == sorted(seen) and 0 < seen[0] < 100
    assert row.file.value == FILE and row.total == big.stat().st_size
    assert "bodhi-download-row" in row._dom_classes
    assert "bodhi-download-bar" in row.bar._dom_classes
    assert "bodhi-download-cancel" in row.cancel_button._dom_classes


# -- the pull panel --------------------------------------------------------------------------


def test_pull_panel_lists_a_repo_with_a_split_model_as_one_entry(
        hub: FaultyHubServer, parts: dict[str, Path], registry: DefaultAppService) -> None:
    from bodhi_nb import ui
    from bodhi_nb.ui.pull_panel import PullPanel

    hub.add_repo("acme/m-GGUF", parts)
    memory = 3 * MiB  # the split model (4 MiB in all) does not fit; Q4_K_M (2 MiB) does
    panel = PullPanel(registry, memory=lambda: memory)
    assert "bodhi-pull-panel" in panel._dom_classes
    panel.repo.value = "acme/m-GGUF"  # Enter (continuous_update=False)
    assert panel.error.text == "", panel.error.text
    entries = {e.name: e for e in panel.table.rows}
    assert sorted(entries) == ["m-Q4_K_M.gguf", "m-Q8_0-00001-of-00002.gguf"]
    split = entries["m-Q8_0-00001-of-00002.gguf"]
    assert split.files == ("m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf")
    assert split.size == sum(parts[f].stat().st_size for f in split.files)
    assert split.quant == "Q8_0" and entries["m-Q4_K_M.gguf"].quant == "Q4_K_M"
    assert split.fits is False and entries["m-Q4_K_M.gguf"].fits is True
    cells = [c for row in panel.table.cells() for c in row]
    assert "✓ fits in memory" in cells and "✗ larger than free memory" in cells
    assert panel.memory.value == "Available memory: 3.0 MiB"
    assert panel.status.value == "2 GGUF models in acme/m-GGUF."
    # Without a memory figure nothing is marked.
    unknown = PullPanel(registry, memory=lambda: None)
    unknown.repo.value = "acme/m-GGUF"
    assert {e.fits for e in unknown.table.rows} == {None}
    assert unknown.memory.value == "Available memory: unknown"
    # A repository that is not there: one coded line.
    panel.repo.value = "acme/nothing-here"
    assert panel.error.text.startswith("error[hub_service_error-"), panel.error.text
    # the default memory figure is this machine's
    assert ui.pull(registry).memory.value.startswith("Available memory: ")


def test_available_memory_reads_meminfo_and_falls_back(tmp_path: Path) -> None:
    from bodhi_nb.services.system import available_memory

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemFree:  100 kB\n"
                       "MemAvailable:    8000000 kB\n", encoding="ascii")
    assert available_memory(meminfo) == 8_000_000 * 1024
    fallback = available_memory(tmp_path / "missing")
    assert fallback is None or fallback > 0
    real = available_memory()
    assert real is None or real > 0


def test_pull_panel_pulls_a_split_model_as_two_rows_and_a_file_as_a_third(
        hub: FaultyHubServer, parts: dict[str, Path], registry: DefaultAppService) -> None:
    from bodhi_nb.ui.pull_panel import PullPanel

    hub.add_repo("acme/m-GGUF", parts)
    panel = PullPanel(registry, memory=lambda: None)
    panel.repo.value = "acme/m-GGUF"
    panel.table.sort_by("file")
    assert [e.name for e in panel.table.visible()] == ["m-Q4_K_M.gguf",
                                                       "m-Q8_0-00001-of-00002.gguf"]
    panel.table.row_buttons[1]["pull"].click()  # the split model: both parts at once
    panel.table.row_buttons[0]["pull"].click()
    assert panel.error.text == "", panel.error.text
    assert len(panel.rows) == 3 and len(panel.rows_box.children) == 3
    for row in panel.rows.values():
        assert row.ended.wait(LONG)
        assert row.outcome == "completed", row.state.value
        assert row.bar.value == pytest.approx(100.0)
    hubs = registry.hub_service()
    for name in ("m-Q4_K_M.gguf", "m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf"):
        found = hubs.find_local_file(Repo.parse("acme/m-GGUF"), name)
        assert _sha(found.path) == _sha(parts[name])
    service = registry.download_service()
    assert {service.get(i).status for i in panel.rows} == {DownloadStatus.COMPLETED}


def test_cancel_in_the_pull_panel_keeps_the_partial_and_pull_again_resumes_with_range(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb.ui.pull_panel import PullPanel

    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(512 * 1024, origin="cdn")  # 24 s for the file: Cancel comes long before
    panel = PullPanel(registry, memory=lambda: None)
    panel.repo.value = "acme/big"
    panel.table.row_buttons[0]["pull"].click()
    [(request_id, row)] = list(panel.rows.items())
    under_way = Reached(256 * 1024)
    assert registry.download_service().watch(request_id, under_way) is not None
    assert under_way.event.wait(LONG)
    assert row.outcome is None and not row.cancel_button.disabled
    row.cancel_button.click()
    assert row.ended.wait(LONG)
    assert row.outcome == "cancelled"
    assert row.state.value.startswith("cancelled: Pull again to resume")
    assert row.cancel_button.layout.display == "none"
    assert error_code(registry.download_service().get(request_id)) == CANCELLED
    [partial] = list(_blobs(registry, "acme/big").glob("*.incomplete"))
    kept = partial.stat().st_size
    assert 256 * 1024 <= kept < big.stat().st_size

    hub.throttle(None)
    hub.clear_log()
    panel.table.row_buttons[0]["pull"].click()
    again = panel.rows[request_id]
    assert again is not row and len(panel.rows_box.children) == 1  # replaced, not added
    assert again.ended.wait(LONG)
    assert again.outcome == "completed", again.state.value
    gets = [r for r in hub.log if r.origin == "cdn" and r.method == "GET"
            and r.fault != "throttle"]
    assert [r.range for r in gets] == [f"bytes={kept}-"]
    final = registry.hub_service().find_local_file(Repo.parse("acme/big"), FILE)
    assert _sha(final.path) == _sha(big)
    assert not list(_blobs(registry, "acme/big").glob("*.incomplete"))


# -- the downloads panel ---------------------------------------------------------------------


def _cancelled_midway(hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> str:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 * MiB, origin="cdn")  # progress reports come before the end
    service = registry.download_service()
    token = CancelToken()
    held = Held(2 * MiB)
    request = service.pull(Repo.parse("acme/big"), FILE, progress=held, background=True,
                           cancel=token)
    assert held.reached.wait(LONG)
    token.cancel()
    held.release.set()
    assert service.wait(request.id, timeout=LONG).status is DownloadStatus.ERROR
    hub.throttle(None)
    return request.id


def test_downloads_panel_retries_a_cancelled_pull_which_resumes_then_archives_it(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb import ui

    request_id = _cancelled_midway(hub, big, registry)
    [partial] = list(_blobs(registry, "acme/big").glob("*.incomplete"))
    kept = partial.stat().st_size
    panel = ui.downloads(registry)
    assert "bodhi-downloads-panel" in panel._dom_classes
    assert [r.id for r in panel.table.rows] == [request_id]
    cells = [c for row in panel.table.cells() for c in row]
    assert "error" in cells and any("was cancelled" in str(c) for c in cells)
    buttons = panel.table.row_buttons[0]
    assert not buttons["retry"].disabled and not buttons["archive"].disabled
    assert panel.rows == {}  # nothing runs here

    hub.clear_log()
    buttons["retry"].click()
    assert panel.error.text == "", panel.error.text
    [row] = panel.rows.values()
    assert row.ended.wait(LONG) and row.outcome == "completed", row.state.value
    assert [r.range for r in hub.log if r.origin == "cdn" and r.method == "GET"] == [
        f"bytes={kept}-"]
    # The end of the run refreshed the table from the download's thread.
    assert registry.download_service().get(request_id).status is DownloadStatus.COMPLETED
    panel.refresh()
    assert [panel.state_of(r) for r in panel.table.rows] == ["completed"]
    buttons = panel.table.row_buttons[0]
    assert buttons["retry"].disabled and not buttons["archive"].disabled
    buttons["retry"].disabled = False
    buttons["retry"].click()  # completed: the service says why, in one coded line
    assert panel.error.text.startswith("error[hub_service_error-download_not_failed]")
    panel.table.row_buttons[0]["archive"].click()
    assert panel.error.text == ""
    assert panel.table.rows == [] and panel.status.value == f"Archived {FILE}."
    assert registry.download_service().get(request_id).archived_at is not None


def test_a_new_downloads_panel_reattaches_to_a_running_pull_once(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb import ui

    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 * MiB, origin="cdn")  # progress reports come before the end
    service = registry.download_service()
    held = Held(2 * MiB)
    request = service.pull(Repo.parse("acme/big"), FILE, progress=held, background=True)
    assert held.reached.wait(LONG)
    first = ui.downloads(registry)
    [first_row] = first.rows.values()
    # The cell run again: a new panel object, one row for the download, where its bar is.
    second = ui.downloads(registry)
    second.refresh()
    second.refresh()
    assert list(second.rows) == [request.id] and len(second.rows_box.children) == 1
    [row] = second.rows.values()
    attached_at = row.bar.value
    assert 0.0 < attached_at < 100.0 and row.outcome is None
    assert row.file.value == FILE
    assert second.running_here(request.id)
    assert second.table.row_buttons[0]["retry"].disabled  # running: nothing to retry
    assert second.table.row_buttons[0]["archive"].disabled  # running: nothing to archive
    # The table's progress cell points at the live row (the database lags by seconds).
    assert "live, above" in second.table.cells()[0]
    held.release.set()
    assert row.ended.wait(LONG) and first_row.ended.wait(LONG)
    assert row.outcome == first_row.outcome == "completed"
    assert row.bar.value > attached_at and row.bar.value == pytest.approx(100.0)
    assert len(second.rows_box.children) == 1
    assert service.get(request.id).status is DownloadStatus.COMPLETED
    first.close()
    second.close()


def test_downloads_panel_polls_while_another_kernel_downloads_and_stops(
        registry: DefaultAppService) -> None:
    from bodhi_nb.ui.downloads_panel import DownloadsPanel

    service = registry.download_service()
    now = registry.time_service().utc_now()
    # A pending row with no owner, written just now: another kernel's, still fresh.
    elsewhere = DownloadRequest(new_ulid(now), "acme/other", "o-Q4_0.gguf",
                                DownloadStatus.PENDING, now, now, total_bytes=1000,
                                downloaded_bytes=10, started_at=now)
    service.rows.create(elsewhere)
    panel = DownloadsPanel(registry, refresh_every=0.01)
    assert panel.polling and panel.rows == {}
    assert panel.watching.value.startswith("Refreshing every 0.01 s")
    assert [panel.state_of(r) for r in panel.table.rows] == ["pending"]
    assert panel.polled.wait(LONG)
    assert panel.polling  # still pending: it goes on
    service.rows.update(dataclasses.replace(elsewhere, status=DownloadStatus.COMPLETED,
                                            downloaded_bytes=1000,
                                            updated_at=registry.time_service().utc_now()))
    assert panel.idle.wait(LONG)
    assert not panel.polling and panel.watching.value == ""
    assert [panel.state_of(r) for r in panel.table.rows] == ["completed"]

    # Closing the panel stops its timer too.
    second = DownloadRequest(new_ulid(now), "acme/other", "p-Q4_0.gguf",
                             DownloadStatus.PENDING, now, registry.time_service().utc_now())
    service.rows.create(second)
    closing = DownloadsPanel(registry, refresh_every=0.01)
    assert closing.polling
    closing.close()
    assert closing.idle.wait(LONG)


def test_downloads_panel_builds_only_one_page_of_widgets(
        app: DefaultAppService) -> None:
    from bodhi_nb.ui.downloads_panel import DownloadsPanel
    from bodhi_nb.ui.kit import widget_tree

    # 1,500 rows (the bench times 10,000; a row's insert costs milliseconds here).
    service = app.download_service()
    now = app.time_service().utc_now()
    error = '{"code": "hub_service_error-cancelled", "params": {"repo": "a/b", "filename": "f"}}'
    rows = [DownloadRequest(new_ulid(now), f"org/r{i % 50}", f"f{i:05d}-Q4_0.gguf",
                            DownloadStatus.ERROR if i % 3 else DownloadStatus.COMPLETED,
                            now, now, total_bytes=1000, downloaded_bytes=500,
                            error=error if i % 3 else None)
            for i in range(1_500)]
    with service.rows.transaction():
        for row in rows:
            service.rows.create(row)
    panel = DownloadsPanel(app)
    assert len(panel.table.rows) == 1_500
    assert len(panel.table.row_buttons) == 25
    assert len(widget_tree(panel)) < 2000  # one page of widgets (with layouts, styles)
    assert not panel.polling
    panel.table.filter.value = "f01499"
    assert [r.filename for r in panel.table.matching()] == ["f01499-Q4_0.gguf"]
    assert panel.table.row_buttons[0]["retry"].disabled is False  # 1499 % 3: an error
    panel.table.filter.value = "f01500"
    assert panel.table.matching() == []
    panel.table.filter.value = "f01497"  # completed: nothing to retry
    assert panel.table.row_buttons[0]["retry"].disabled is True


# -- text forms and the command --------------------------------------------------------------


def test_text_forms_are_the_downloads_table(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb import ui
    from bodhi_nb.commands.panel import PanelView

    hub.add_repo("acme/big", {FILE: big})
    registry.download_service().pull(Repo.parse("acme/big"), FILE)
    table = execute(["downloads"], Context(prog="%bodhi"), lambda: registry).to_text()
    assert FILE in table
    downloads = ui.downloads(registry)
    assert downloads.text() == table == repr(downloads)
    assert downloads._repr_mimebundle_()["text/plain"] == table
    pull = ui.pull(registry)
    assert pull.text().startswith("The pull panel lists a repository's GGUF files")
    assert table in pull.text()
    for kind in ("pull", "downloads"):
        result = execute(["panel", kind], Context(prog="bodhi"), lambda: registry)
        assert isinstance(result, PanelView) and result.kind == kind
        assert FILE in result.to_text()
    help_text = execute(["help", "panel"], Context(prog="bodhi"), lambda: registry).to_text()
    assert "pull" in help_text and "downloads" in help_text


def test_panels_speak_french(monkeypatch: pytest.MonkeyPatch, hub: FaultyHubServer) -> None:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService
    from bodhi_nb.ui.downloads_panel import DownloadsPanel
    from bodhi_nb.ui.pull_panel import PullPanel

    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    registry = build_app_service(SettingService())
    try:
        pull = PullPanel(registry, memory=lambda: None)
        assert pull.list_button.description == "Lister les fichiers"
        assert pull.memory.value == "Mémoire disponible : inconnue"
        assert pull.text().startswith("Le panneau pull")
        downloads = DownloadsPanel(registry)
        assert downloads.table.actions[0].label == "Relancer"
    finally:
        registry.close()


# -- the magic -------------------------------------------------------------------------------


def _displayed_widgets(outputs: list[Any]) -> list[Any]:
    from ipywidgets.widgets.widget import _instances

    found = []
    for output in outputs:
        view = output.data.get("application/vnd.jupyter.widget-view+json")
        if view is not None:
            found.append(_instances[view["model_id"]])
    return found


def test_magic_pull_in_a_kernel_shows_a_download_row(
        shell: InteractiveShell, hub: FaultyHubServer, big: Path) -> None:
    from IPython.utils.capture import capture_output

    from bodhi_nb.ui.download_row import DownloadRow

    hub.add_repo("acme/big", {FILE: big})
    shell.kernel = object()  # what ipykernel's shell has; widgets can be shown
    try:
        with capture_output() as captured:
            shell.run_line_magic("bodhi", f"pull acme/big/{FILE}")
    finally:
        del shell.kernel
    [row] = _displayed_widgets(captured.outputs)
    assert isinstance(row, DownloadRow)
    assert row.outcome == "completed" and row.bar.value == pytest.approx(100.0)
    assert row.cancel_button.layout.display == "none"  # a foreground pull: interrupt instead
    assert "%" not in captured.stderr  # no tqdm bar
    # A file already in the cache shows no row, as it showed no bar.
    shell.kernel = object()
    try:
        with capture_output() as again:
            shell.run_line_magic("bodhi", f"pull acme/big/{FILE}")
    finally:
        del shell.kernel
    assert _displayed_widgets(again.outputs) == []


def test_magic_pull_elsewhere_keeps_tqdm(shell: InteractiveShell, hub: FaultyHubServer,
                                         big: Path) -> None:
    from IPython.utils.capture import capture_output

    hub.add_repo("acme/big", {FILE: big})
    with capture_output() as captured:
        shell.run_line_magic("bodhi", f"pull acme/big/{FILE}")
    assert _displayed_widgets(captured.outputs) == []
    assert "100%" in captured.stderr and FILE in captured.stderr


def test_an_interrupted_foreground_pull_ends_its_row_interrupted(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    from bodhi_nb.notebook.magic import _KernelRows, _rows_end

    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 * MiB, origin="cdn")  # the first progress report comes before the end
    rows = _KernelRows()
    shown: list[Any] = []
    row = rows(_ctx(registry))
    row._on_start = shown.append  # type: ignore[attr-defined]

    class Interrupting:
        def start(self, filename: str, total: int, initial: int) -> None:
            row.start(filename, total, initial)

        def advance(self, done: int) -> None:
            row.advance(done)
            raise KeyboardInterrupt  # what the kernel's stop button raises

        def notice(self, text: str) -> None:
            pass

        def finish(self) -> None:
            row.finish()

    with pytest.raises(KeyboardInterrupt) as caught:
        registry.download_service().pull(Repo.parse("acme/big"), FILE,
                                         progress=Interrupting())
    row.finish()  # PullCommand's finally
    assert row.outcome is None  # not every byte came: no verdict yet
    _rows_end(rows, caught.value)
    assert shown == [row] and row.outcome == "interrupted"
    assert row.state.value.startswith("interrupted: pull again to resume")
    [request] = registry.download_service().list()
    assert registry.download_service().state(request) == "interrupted"
