"""Download rows whose pull died (issue 8, item 13) and settings that services follow at
once (item 21), against the local hub server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _backends import both_backends

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.commands import Context, execute
from bodhi_nb.errors import DownloadActiveError
from bodhi_nb.objs import DownloadRequest, DownloadStatus, Repo, new_ulid
from bodhi_nb.services.downloads import INTERRUPTED, owner_alive, this_owner
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

FILE = "big-Q4_0.gguf"


@pytest.fixture
def big(tmp_path: Path) -> Path:
    path = tmp_path / "src" / FILE
    path.parent.mkdir(parents=True)
    make_gguf(path, size_bytes=12 << 20)
    return path


def _partials(app: DefaultAppService, repo: str) -> list[Path]:
    blobs = app.setting_service().hf_cache / f"models--{repo.replace('/', '--')}" / "blobs"
    return list(blobs.glob("*.incomplete")) if blobs.exists() else []


def _downloads_text(app: DefaultAppService) -> str:
    return execute(["downloads"], Context(prog="bodhi"), lambda: app).to_text()


@both_backends
def test_a_pull_killed_with_sigkill_is_interrupted_and_retryable(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService,
        subprocess_env: dict[str, str]) -> None:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(2 << 20, origin="cdn")
    child = subprocess.Popen([sys.executable, "-m", "bodhi_nb.cli", "pull", "acme/big", FILE],
                             env={**subprocess_env, "HF_ENDPOINT": hub.endpoint},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = _partials(registry, "acme/big")
        if partial and partial[0].stat().st_size > 3 << 20:
            break
        time.sleep(0.05)
    service = registry.download_service()
    [row] = service.list()
    assert row.status is DownloadStatus.PENDING, "a live pull is pending, not interrupted"
    with pytest.raises(DownloadActiveError):
        service.archive(row.id)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)

    [row] = service.list()
    assert service.state(row) == INTERRUPTED
    text = _downloads_text(registry)
    assert "interrupted" in text and f"downloads retry {row.id[-8:]}" in text
    hub.throttle(None, origin="cdn")
    # The user types what the table shows: the id's last characters.
    after = execute(["downloads", "retry", row.id[-8:]], Context(prog="bodhi"),
                    lambda: registry).to_text()
    assert "completed" in after
    [done] = service.list()
    assert done.status is DownloadStatus.COMPLETED
    assert done.downloaded_bytes == big.stat().st_size


@both_backends
def test_archive_no_longer_calls_a_dead_pull_running(registry: DefaultAppService,
                                                     python: str) -> None:
    service = registry.download_service()
    db = registry.db_service().tables.downloads
    now = registry.time_service().utc_now()
    row = DownloadRequest(new_ulid(now), "acme/x", FILE, DownloadStatus.PENDING, now, now,
                          started_at=now, downloaded_bytes=5, total_bytes=10)
    db.create(row)
    sleeper = subprocess.Popen([python, "-c", "import time; time.sleep(600)"])
    try:
        owner = this_owner().rsplit("|", 2)[0] + f"|{sleeper.pid}|"
        assert owner_alive(owner) is True
        db.set_owner(row.id, owner)
        assert service.list()[0].status is DownloadStatus.PENDING
        with pytest.raises(DownloadActiveError):
            service.archive(row.id)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert owner_alive(owner) is False
    assert service.state(service.list()[0]) == INTERRUPTED
    assert service.archive(row.id).archived_at is not None


@both_backends
def test_a_kernel_interrupt_leaves_an_interrupted_row_with_the_bytes_on_disk(
        hub: FaultyHubServer, big: Path, registry: DefaultAppService) -> None:
    hub.add_repo("acme/big", {FILE: big})
    hub.throttle(4 << 20, origin="cdn")

    class StopButton:
        """The kernel's interrupt, raised from inside the pull once some bytes are in."""

        def start(self, filename: str, total: int, initial: int) -> None:
            pass

        def advance(self, done: int) -> None:
            if done > 2 << 20:
                raise KeyboardInterrupt

        def notice(self, text: str) -> None:
            pass

        def finish(self) -> None:
            pass

    service = registry.download_service()
    with pytest.raises(KeyboardInterrupt):
        service.pull(Repo.parse("acme/big"), FILE, progress=StopButton())
    [row] = service.list()
    assert row.status is DownloadStatus.ERROR and service.state(row) == INTERRUPTED
    [partial] = _partials(registry, "acme/big")
    assert row.downloaded_bytes == partial.stat().st_size > 2 << 20
    assert not service.running(row.id)
    hub.throttle(None, origin="cdn")
    assert service.retry(row.id).status is DownloadStatus.COMPLETED


def test_settings_reach_the_running_services_at_once(
        hub: FaultyHubServer, big: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = Context(prog="bodhi")
    # Settings from settings.yaml, not the environment (which would shadow any change).
    monkeypatch.delenv("HF_ENDPOINT")
    monkeypatch.delenv("HF_HOME")
    SettingService().set("HF_ENDPOINT", hub.endpoint)
    registry = build_app_service(SettingService())
    assert registry.hub_service().endpoint == hub.endpoint
    with FaultyHubServer(tmp_path / "second_root") as second:
        second.add_repo("acme/only-second", {FILE: big})

        def run(*tokens: str) -> None:
            execute(list(tokens), ctx, lambda: registry)

        run("settings", "HF_ENDPOINT", second.endpoint)
        new_home = tmp_path / "new_hf_home"
        run("settings", "HF_HOME", str(new_home))
        run("settings", "BODHI_DB_BUSY_TIMEOUT_SECS", "7.5")
        run("pull", "acme/only-second", FILE)
        assert any(r.method == "GET" for r in second.log), "the pull went to the new hub"
        assert not [r for r in hub.log if "only-second" in r.path]
        found = registry.hub_service().find_local_file(Repo.parse("acme/only-second"), FILE)
        assert Path(found.path).is_relative_to(new_home / "hub")
        assert registry.db_service().store.busy_timeout == 7.5  # type: ignore[attr-defined]
    registry.close()
