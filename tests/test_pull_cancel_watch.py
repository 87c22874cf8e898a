"""What the download panels need from DownloadService (issue 10, part 2), against the offline
Hub: a pull cancelled through its token keeps its partial and the next pull resumes it with a
Range request; a second observer re-attaches to a pull already running; the listing pages.

Nothing here waits on the clock to decide an outcome: the pull thread is held inside a
progress callback (an Event) while the test acts, and every wait has a generous timeout only
so that a bug fails the test instead of hanging it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from _backends import both_backends

from bodhi_nb.app import DefaultAppService
from bodhi_nb.commands import Context, execute
from bodhi_nb.errors import HubCancelledError
from bodhi_nb.objs import CancelToken, DownloadRequest, DownloadStatus, Repo, new_ulid
from bodhi_nb.services.downloads import CANCELLED, error_code, error_of
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

FILE = "big-Q4_0.gguf"
LONG = 60.0  # seconds: only a liveness bound, never part of what is asserted


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "src" / FILE
    path.parent.mkdir(parents=True)
    make_gguf(path, size_bytes=12 << 20)
    return path


class Recorder:
    """A Progress that records every call; ``hold_at`` bytes makes ``advance`` wait for
    ``release`` once (so the test acts while the pull is surely under way)."""

    def __init__(self, hold_at: int | None = None) -> None:
        self.calls: list[tuple[str, object]] = []
        self.hold_at = hold_at
        self.reached = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()

    def start(self, filename: str, total: int, initial: int) -> None:
        self.calls.append(("start", (filename, total, initial)))

    def advance(self, done: int) -> None:
        self.calls.append(("advance", done))
        if self.hold_at is not None and done >= self.hold_at and not self.reached.is_set():
            self.reached.set()
            assert self.release.wait(LONG)

    def notice(self, text: str) -> None:
        self.calls.append(("notice", text))

    def finish(self) -> None:
        self.calls.append(("finish", None))
        self.finished.set()

    def kinds(self, kind: str) -> list[object]:
        return [v for k, v in self.calls if k == kind]


def _blobs(app: DefaultAppService) -> Path:
    return app.setting_service().hf_cache / "models--acme--big" / "blobs"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@both_backends
def test_cancelled_pull_keeps_its_partial_and_the_next_pull_resumes_with_range(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 << 20, origin="cdn")
    service = registry.download_service()
    token = CancelToken()
    held = Recorder(hold_at=2 << 20)
    row = service.pull(Repo.parse("acme/big"), FILE, progress=held, background=True,
                       cancel=token)
    assert held.reached.wait(LONG), "the pull got under way"
    token.cancel()
    held.release.set()
    done = service.wait(row.id, timeout=LONG)
    assert not service.running(row.id)

    # The row says cancelled (an error a retry resumes), with its localized message.
    assert done.status is DownloadStatus.ERROR and error_code(done) == CANCELLED
    error = error_of(done)
    assert isinstance(error, HubCancelledError)
    assert error.params == {"repo": "acme/big", "filename": FILE}
    listing = execute(["downloads"], Context(prog="bodhi"), lambda: registry).to_text()
    assert row.id[-8:] in listing and "was cancelled" in listing
    assert "partial file is kept" in listing
    [partial] = list(_blobs(registry).glob("*.incomplete"))
    on_disk = partial.stat().st_size
    assert 2 << 20 <= on_disk < big.stat().st_size
    assert done.downloaded_bytes >= 2 << 20

    # The same pull again resumes from the partial: one ranged GET, a verified file.
    hub.throttle(None, origin="cdn")
    hub.clear_log()
    again = service.pull(Repo.parse("acme/big"), FILE)
    assert again.id == row.id and again.status is DownloadStatus.COMPLETED
    # (the cancelled, throttled request may be logged only as its connection closes)
    gets = [r for r in hub.log if r.origin == "cdn" and r.method == "GET"
            and r.fault != "throttle"]
    assert [r.headers.get("range") for r in gets] == [f"bytes={on_disk}-"]
    assert gets[0].status == 206 and gets[0].bytes_sent == big.stat().st_size - on_disk
    final = registry.hub_service().find_local_file(Repo.parse("acme/big"), FILE)
    assert _sha(final.path) == _sha(big)
    assert not list(_blobs(registry).glob("*.incomplete"))


def test_a_foreground_pull_cancelled_from_another_thread_raises_the_coded_error(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 << 20, origin="cdn")  # the first progress report comes before the end
    service = registry.download_service()
    held = Recorder(hold_at=1)
    outcome: list[BaseException] = []

    def pull() -> None:
        try:
            service.pull(Repo.parse("acme/big"), FILE, progress=held)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=pull)
    worker.start()
    assert held.reached.wait(LONG)
    [row] = service.list()
    assert service.running(row.id)
    assert service.cancel(row.id) is True  # the service's own token for the request
    held.release.set()
    worker.join(LONG)
    assert [type(e) for e in outcome] == [HubCancelledError]
    assert outcome[0].code == "hub_service_error-cancelled"
    assert error_code(service.get(row.id)) == CANCELLED
    assert service.cancel(row.id) is False  # nothing runs any more
    assert list(_blobs(registry).glob("*.incomplete")), "the partial stays"
    # A retry resumes it too.
    assert service.retry(row.id).status is DownloadStatus.COMPLETED
    final = registry.hub_service().find_local_file(Repo.parse("acme/big"), FILE)
    assert _sha(final.path) == _sha(big)


def test_a_second_observer_reattaches_to_a_running_background_pull(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 << 20, origin="cdn")  # the first progress report comes before the end
    service = registry.download_service()
    first = Recorder(hold_at=1)
    row = service.pull(Repo.parse("acme/big"), FILE, progress=first, background=True)
    assert first.reached.wait(LONG)
    # The pull thread is held inside its progress callback: the request runs here.
    assert service.running(row.id)
    again = service.pull(Repo.parse("acme/big"), FILE, background=True)
    assert again.id == row.id  # a re-executed cell does not start a second pull

    second, dropped = Recorder(), Recorder()
    stop_second = service.watch(row.id, second)
    stop_dropped = service.watch(row.id, dropped)
    assert stop_second is not None and stop_dropped is not None
    stop_dropped()
    size = big.stat().st_size
    [(filename, total, initial)] = second.kinds("start")
    assert (filename, total) == (FILE, size) and 0 < initial < size  # where the bar is now
    first.release.set()
    assert second.finished.wait(LONG)
    row = service.wait(row.id, timeout=LONG)
    assert row.status is DownloadStatus.COMPLETED

    advances = second.kinds("advance")
    assert advances and advances[-1] == size
    assert advances == sorted(advances)
    assert second.kinds("finish") == [None] and second.calls[-1] == ("finish", None)
    assert dropped.kinds("advance") == [] and dropped.kinds("finish") == []
    assert first.kinds("finish") == [None]  # the pull's own progress, as before
    assert service.watch(row.id, Recorder()) is None  # finished: show the row instead
    stop_second()  # unsubscribing after the end is harmless
    cdn_gets = [r for r in hub.log if r.origin == "cdn" and r.method == "GET"]
    assert len(cdn_gets) == 1


@both_backends
def test_downloads_listing_pages_newest_first(registry: DefaultAppService) -> None:
    service = registry.download_service()
    base = registry.time_service().utc_now()
    rows = []
    for i in range(7):
        when = base - timedelta(minutes=i)
        # Rows 3 and 4 share one updated_at: the id orders them, so pages never overlap.
        when = base - timedelta(minutes=3) if i == 4 else when
        request = DownloadRequest(new_ulid(when), f"acme/r{i}", f"f{i}.gguf",
                                  DownloadStatus.COMPLETED, when, when)
        service.rows.create(request)
        rows.append(request)
    service.rows.update(dataclasses.replace(rows[6], archived_at=base))
    expected = [r.id for r in sorted(rows[:6], key=lambda r: (r.updated_at, r.id),
                                     reverse=True)]
    pages = [service.list(limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert [[r.id for r in p] for p in pages] == [expected[0:2], expected[2:4],
                                                  expected[4:6], []]
    assert service.count() == 6 and service.count(include_archived=True) == 7
    assert [r.id for r in service.list(include_archived=True, limit=1, offset=6)] == [
        rows[6].id]
    assert [r.id for r in service.list()] == expected  # the default is unchanged


def test_cancel_token_is_one_way_and_runs_its_callbacks_once() -> None:
    token = CancelToken()
    ran: list[str] = []
    forget = token.on_cancel(lambda: ran.append("kept"))
    token.on_cancel(lambda: ran.append("forgotten"))()  # registered, then forgotten
    forget_boom = token.on_cancel(lambda: 1 / 0)
    assert not token.cancelled and token.wait(0) is False
    threads = [threading.Thread(target=token.cancel) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LONG)
    assert token.cancelled and token.wait(0) is True
    assert ran == ["kept"]  # once, despite eight cancels; a failing callback is contained
    token.on_cancel(lambda: ran.append("late"))  # already cancelled: runs at once
    assert ran == ["kept", "late"]
    forget()
    forget_boom()
    assert repr(token) == "CancelToken(cancelled=True)"
