"""Issue 15: a large file pulled over several ranged connections, against the offline Hub.

What is asserted comes from the server's request log (which ranges were asked for, how many
requests were in flight at once) and from the bytes published, never from timings: the
throttle only makes the pulls last long enough to overlap or to be killed midway.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bodhi_nb.app import DefaultAppService
from bodhi_nb.commands import Context, execute
from bodhi_nb.errors import (
    BadArgumentsError,
    HubCancelledError,
    RemoteFileChangedError,
    SettingInvalidValueError,
    TransportError,
    UrlExpiredError,
)
from bodhi_nb.objs import CancelToken, DownloadStatus, Repo
from bodhi_nb.services.hub import RANGED_THRESHOLD, ConnectionBudget
from bodhi_nb.services.ranged import ranges_path
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.hub_faults import FaultyHubServer, RequestRecord

SIZE = RANGED_THRESHOLD  # the smallest file pulled in ranges
FILE = "big-Q4_0.gguf"
REPO = Repo.parse("acme/big")
LONG = 60.0  # seconds: a liveness bound only


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 64 MiB file of random bytes (every range differs) and its SHA-256."""
    path = tmp_path_factory.mktemp("src") / FILE
    rng = random.Random(15)
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for _ in range(SIZE >> 20):
            block = rng.randbytes(1 << 20)
            digest.update(block)
            fh.write(block)
    return path, digest.hexdigest()


@pytest.fixture
def big(hub: FaultyHubServer, source: tuple[Path, str]) -> str:
    hub.add_repo(REPO.id, {FILE: source[0]})
    hub.warm()
    return source[1]


class Recorder:
    """A Progress keeping what it was told; ``on_advance`` runs at each advance."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, int, int]] = []
        self.advances: list[int] = []
        self.notices: list[str] = []
        self.on_advance = lambda done: None

    def start(self, filename: str, total: int, initial: int) -> None:
        self.starts.append((filename, total, initial))

    def advance(self, done: int) -> None:
        self.advances.append(done)
        self.on_advance(done)

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def finish(self) -> None:
        pass


def _blobs(app: DefaultAppService) -> Path:
    return app.setting_service().hf_cache / "models--acme--big" / "blobs"


def _gets(hub: FaultyHubServer) -> list[RequestRecord]:
    return [r for r in hub.log if r.origin == "cdn" and r.method == "GET"]


def _covered(records: list[RequestRecord]) -> list[tuple[int, int]]:
    """The byte ranges the 206 answers carried, sorted."""
    return sorted(r.byte_range for r in records if r.byte_range is not None)


def _exactly_once(pieces: list[tuple[int, int]], start: int, end: int) -> bool:
    at = start
    for a, b in pieces:
        if a != at:
            return False
        at = b
    return at == end


def _published(app: DefaultAppService, sha: str) -> bool:
    found = app.hub_service().find_local_file(REPO, FILE)
    return hashlib.sha256(found.path.read_bytes()).hexdigest() == sha


def _no_range_threads() -> bool:
    return not any(t.name == "bodhi-pull-range" and t.is_alive() for t in threading.enumerate())


def test_eight_connections_at_once_cover_the_file_exactly_once(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    hub.throttle(8 << 20, origin="cdn")
    progress = Recorder()
    got = registry.hub_service().download(REPO, FILE, progress=progress, connections=8)
    gets = _gets(hub)
    assert max(r.concurrent for r in gets) > 1, "several connections were open at once"
    assert len({r.connection for r in gets}) > 1
    assert all(r.status == 206 for r in gets)
    assert _exactly_once(_covered(gets), 0, SIZE)
    assert hashlib.sha256(got.path.read_bytes()).hexdigest() == big
    assert progress.starts == [(FILE, SIZE, 0)]
    assert progress.advances == sorted(progress.advances) and progress.advances[-1] == SIZE
    assert progress.notices == []
    assert sorted(p.name for p in _blobs(registry).iterdir()) == [big], "no partial, no sidecar"
    assert _no_range_threads()


def test_kill_9_with_eight_connections_then_only_the_missing_ranges(
        hub: FaultyHubServer, big: str, registry: DefaultAppService,
        subprocess_env: dict[str, str]) -> None:
    hub.throttle(3 << 20, origin="cdn")
    env = {**subprocess_env, "HF_ENDPOINT": hub.endpoint}
    child = subprocess.Popen([sys.executable, "-m", "bodhi_nb.cli", "pull", REPO.id, FILE,
                              "--connections", "8"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    sidecar = ranges_path(_blobs(registry) / f"{big}.incomplete")
    deadline = time.monotonic() + LONG
    listed = 0
    try:
        while time.monotonic() < deadline and child.poll() is None:
            try:
                listed = sum(b - a for a, b in json.loads(sidecar.read_text())["done"])
            except (OSError, ValueError):
                listed = 0
            if listed >= 12 << 20:
                break
            time.sleep(0.05)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert listed >= 12 << 20, "the child recorded completed ranges before it was killed"
    done = [tuple(p) for p in json.loads(sidecar.read_text())["done"]]
    assert 0 < sum(b - a for a, b in done) < SIZE
    missing, at = [], 0
    for a, b in sorted(done):
        if a > at:
            missing.append((at, a))
        at = b
    if at < SIZE:
        missing.append((at, SIZE))

    hub.throttle(None)
    hub.clear_log()
    progress = Recorder()
    row = registry.download_service().pull(REPO, FILE, progress=progress, connections=8)
    assert row.status is DownloadStatus.COMPLETED
    # (the killed child's own requests may still be logged as its connections close)
    gets = [r for r in _gets(hub) if r.fault != "throttle"]
    asked = _covered(gets)
    assert all(r.status == 206 for r in gets)
    # Every byte asked for lies in a range the sidecar did not list, and every such byte
    # was asked for exactly once.
    pos = 0
    for a, b in missing:
        inside = [(x, y) for x, y in asked if a <= x and y <= b]
        assert _exactly_once(inside, a, b), (a, b, inside)
        pos += len(inside)
    assert pos == len(asked)
    assert progress.starts[0][2] == SIZE - sum(b - a for a, b in missing)
    assert _published(registry, big)
    assert not sidecar.exists() and not sidecar.with_suffix("").exists()


def test_a_server_answering_ranges_with_200_falls_back_to_one_stream(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    hub.ignore_ranges(origin="cdn")
    progress = Recorder()
    registry.hub_service().download(REPO, FILE, progress=progress, connections=8)
    assert _published(registry, big)
    assert [n for n in progress.notices if n == "hub-no-ranges"] == ["hub-no-ranges"]
    full = [r for r in _gets(hub) if r.status == 200 and r.bytes_sent == SIZE]
    assert len(full) == 1, "the file came whole over one connection"
    assert not ranges_path(_blobs(registry) / f"{big}.incomplete").exists()


def test_connections_dropped_at_random_still_end_verified(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    rng = random.Random(4)
    for _ in range(6):
        hub.drop_after(rng.randrange(1 << 16, 2 << 20), times=1, origin="cdn")
    progress = Recorder()
    registry.hub_service().download(REPO, FILE, progress=progress, connections=8)
    assert _published(registry, big)
    dropped = [r for r in _gets(hub) if r.fault == "drop"]
    assert len(dropped) >= 3  # (a rule waits for a body longer than its cut)
    assert sum(n.startswith("hub-resuming") for n in progress.notices) == len(dropped)
    # What a dropped answer carried is kept: no byte was asked for twice.
    assert _exactly_once(_covered(_gets(hub)), 0, SIZE)


def test_a_server_that_keeps_failing_is_a_transport_error_and_nothing_is_published(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    service = registry.hub_service()
    service.retries = 2
    hub.fail_next(503, times=None, origin="cdn", method="GET")
    with pytest.raises(TransportError):
        service.download(REPO, FILE, connections=8)
    assert not (_blobs(registry) / big).exists()
    assert not service.local_file_exists(REPO, FILE)
    assert ranges_path(_blobs(registry) / f"{big}.incomplete").exists(), "kept for a resume"
    assert _no_range_threads()
    hub.clear_faults()
    service.download(REPO, FILE, connections=8)
    assert _published(registry, big)


@pytest.mark.parametrize("status", [403, 410])
def test_an_expiring_signed_url_is_resolved_again(hub: FaultyHubServer, big: str,
                                                  registry: DefaultAppService,
                                                  status: int) -> None:
    hub.expire_urls(3, status=status)
    registry.hub_service().download(REPO, FILE, connections=8)
    assert _published(registry, big)
    gets = _gets(hub)
    assert any(r.fault == "expired" and r.status == status for r in gets)
    heads = [r for r in hub.log if r.origin == "hub" and r.method == "HEAD"]
    assert len(heads) > 1, "the Hub was asked for a new URL"
    assert _exactly_once(_covered(gets), 0, SIZE)


def test_a_url_that_expires_at_once_is_a_coded_error(hub: FaultyHubServer, big: str,
                                                     registry: DefaultAppService) -> None:
    service = registry.hub_service()
    service.retries = 2
    hub.expire_urls(0)
    with pytest.raises(UrlExpiredError) as caught:
        service.download(REPO, FILE, connections=8)
    assert str(caught.value.params["status"]) == "403"
    assert not service.local_file_exists(REPO, FILE)
    with pytest.raises(UrlExpiredError):  # one stream handles it the same way
        service.download(REPO, FILE, connections=1)
    assert not (_blobs(registry) / big).exists()


def test_a_file_that_changes_on_the_hub_midway_is_refused(
        hub: FaultyHubServer, big: str, registry: DefaultAppService, tmp_path: Path) -> None:
    other = tmp_path / "other.gguf"
    with open(other, "wb") as fh:
        fh.truncate(SIZE)
    hub.throttle(8 << 20, origin="cdn")
    hub.expire_urls(2)
    progress = Recorder()
    swapped: list[bool] = []

    def swap(done: int) -> None:
        if not swapped:
            swapped.append(True)
            hub.add_repo(REPO.id, {FILE: other})

    progress.on_advance = swap
    with pytest.raises(RemoteFileChangedError):
        registry.hub_service().download(REPO, FILE, progress=progress, connections=4)
    assert not registry.hub_service().local_file_exists(REPO, FILE)
    assert not (_blobs(registry) / big).exists()


def test_each_range_redirected_elsewhere_still_lands_in_place(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    hub.redirect_cdn()
    registry.hub_service().download(REPO, FILE, connections=8)
    assert _published(registry, big)
    gets = _gets(hub)
    hops = [r for r in gets if "hop=" in r.query]
    assert [r.status for r in gets if r.fault == "redirect"] == [302] * len(hops)
    assert len({r.query for r in hops}) == len(hops) > 1, "each range went to a URL of its own"
    assert _exactly_once(_covered(hops), 0, SIZE)


def _cancel_after_8_mib(hub: FaultyHubServer, registry: DefaultAppService) -> None:
    """An 8-connection pull on a throttled link, cancelled once 8 MiB have arrived."""
    hub.throttle(4 << 20, origin="cdn")
    token = CancelToken()
    progress = Recorder()
    progress.on_advance = lambda done: token.cancel() if done >= 8 << 20 else None
    with pytest.raises(HubCancelledError):
        registry.hub_service().download(REPO, FILE, progress=progress, cancel=token,
                                        connections=8)


def test_cancel_stops_every_connection_and_the_next_pull_resumes(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    _cancel_after_8_mib(hub, registry)
    assert _no_range_threads(), "no connection outlives the cancel"
    partial = _blobs(registry) / f"{big}.incomplete"
    listed = json.loads(ranges_path(partial).read_text())["done"]
    kept = sum(b - a for a, b in listed)
    assert kept >= 8 << 20
    # Damage a byte the sidecar lists: the final digest catches it, and the pull starts over.
    a, b = listed[-1]
    with open(partial, "r+b") as fh:
        fh.seek((a + b) // 2)
        byte = fh.read(1)
        fh.seek((a + b) // 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    hub.throttle(None)
    hub.clear_log()
    progress = Recorder()
    registry.hub_service().download(REPO, FILE, progress=progress, connections=8)
    assert _published(registry, big)
    assert progress.starts[0][2] == kept
    assert progress.notices == ["hub-discarded-partial"]
    assert sum(r.bytes_sent for r in _gets(hub)) == 2 * SIZE - kept


def test_one_connection_continues_a_partial_left_by_several(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    _cancel_after_8_mib(hub, registry)
    partial = _blobs(registry) / f"{big}.incomplete"
    listed = json.loads(ranges_path(partial).read_text())["done"]
    prefix = listed[0][1] if listed[0][0] == 0 else 0
    hub.throttle(None)
    hub.clear_log()
    registry.hub_service().download(REPO, FILE, connections=1)
    assert _published(registry, big)
    assert [r.range for r in _gets(hub)] == [f"bytes={prefix}-" if prefix else None]


def test_pull_connections_caps_the_connections_and_rm_partials_takes_the_sidecar(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    hub.throttle(8 << 20, origin="cdn")
    execute(["pull", REPO.id, FILE, "--connections", "3"], Context(), lambda: registry)
    assert _published(registry, big)
    assert 1 < max(r.concurrent for r in _gets(hub)) <= 3
    execute(["rm", f"{REPO.id}/{FILE}", "-y"], Context(), lambda: registry)
    token = CancelToken()
    progress = Recorder()
    progress.on_advance = lambda done: token.cancel() if done >= 4 << 20 else None
    with pytest.raises(HubCancelledError):
        registry.hub_service().download(REPO, FILE, progress=progress, cancel=token)
    partial = _blobs(registry) / f"{big}.incomplete"
    assert partial.exists() and ranges_path(partial).exists()
    execute(["rm", "--partials"], Context(), lambda: registry)
    assert not partial.exists() and not ranges_path(partial).exists()


def test_downloads_holding_one_budget_share_it(hub: FaultyHubServer, source: tuple[Path, str],
                                               registry: DefaultAppService,
                                               tmp_path: Path) -> None:
    zeros = tmp_path / "zeros.gguf"
    with open(zeros, "wb") as fh:
        fh.truncate(SIZE)  # another content: another blob, another lock
    hub.add_repo("acme/split", {"m-00001-of-00002.gguf": source[0],
                                "m-00002-of-00002.gguf": zeros})
    hub.throttle(8 << 20, origin="cdn")
    budget = ConnectionBudget(4)
    downloads = registry.download_service()
    rows = [downloads.pull(Repo.parse("acme/split"), name, background=True, connections=budget)
            for name in ("m-00001-of-00002.gguf", "m-00002-of-00002.gguf")]
    done = [downloads.wait(row.id, LONG) for row in rows]
    assert [r.status for r in done] == [DownloadStatus.COMPLETED] * 2
    gets = _gets(hub)
    assert 1 < max(r.concurrent for r in gets) <= 4 + 1
    # both files were under way at the same time, sharing the four
    spans = {}
    for r in gets:
        first, last = spans.get(r.path, (r.started, r.started))
        spans[r.path] = (min(first, r.started), max(last, r.started))
    (a0, a1), (b0, b1) = spans.values()
    assert a0 < b1 and b0 < a1


def test_connections_are_checked_in_the_command_and_the_setting(
        hub: FaultyHubServer, big: str, registry: DefaultAppService,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BadArgumentsError) as caught:
        execute(["pull", REPO.id, FILE, "--connections", "0"], Context(), lambda: registry)
    assert "1 to 32" in caught.value.params["reason"]
    assert not registry.hub_service().local_file_exists(REPO, FILE)
    monkeypatch.setenv("BODHI_PULL_CONNECTIONS", "33")
    with pytest.raises(SettingInvalidValueError):
        SettingService().get("BODHI_PULL_CONNECTIONS")
    registry.setting_service().set("BODHI_PULL_CONNECTIONS", 3)
    assert registry.hub_service().connections == 3, "a written setting takes effect at once"


def test_setting_one_connection_is_todays_single_stream(
        hub: FaultyHubServer, big: str, registry: DefaultAppService) -> None:
    registry.setting_service().set("BODHI_PULL_CONNECTIONS", 1)
    assert registry.hub_service().connections == 1
    execute(["pull", REPO.id, FILE], Context(), lambda: registry)
    assert [(r.status, r.range) for r in _gets(hub)] == [(200, None)]
    assert _published(registry, big)


_CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from bodhi_nb.objs import Repo
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.hub import HubService
    from bodhi_nb.services.time import DefaultTimeService
    hub = HubService(HfCache(Path(sys.argv[2])), DefaultTimeService(), endpoint=sys.argv[1])
    found = hub.download(Repo.parse("acme/sparse"), sys.argv[3], connections=8)
    status = Path("/proc/self/status").read_text()
    hwm = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))
    print(json.dumps({"kib": hwm, "size": found.size}))
""")


@pytest.fixture
def sparse_hub(tmp_path: Path) -> Iterator[FaultyHubServer]:
    files = {}
    for name, size in (("small.gguf", 64 << 20), ("large.gguf", 1 << 30)):
        path = tmp_path / "sparse" / name
        path.parent.mkdir(exist_ok=True)
        with open(path, "wb") as fh:
            fh.truncate(size)  # sparse: nothing on the server's disk
        files[name] = path
    with FaultyHubServer(tmp_path / "root") as server:
        server.add_repo("acme/sparse", files)
        server.warm()
        yield server
        assert server.server_errors == []


def test_memory_stays_flat_from_64_mib_to_1_gib(sparse_hub: FaultyHubServer, tmp_path: Path,
                                                subprocess_env: dict[str, str]) -> None:
    peaks = {}
    for name in ("small.gguf", "large.gguf"):
        cache = tmp_path / f"cache-{name}"
        out = subprocess.run([sys.executable, "-c", _CHILD, sparse_hub.endpoint, str(cache),
                              name], env=subprocess_env, capture_output=True, text=True,
                             timeout=300, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        peaks[name] = result["kib"] / 1024
        (blob,) = (cache / "models--acme--sparse" / "blobs").iterdir()
        assert blob.stat().st_size == result["size"]
        blob.unlink()  # a GiB of page cache and disk given back at once
    assert peaks["large.gguf"] < 150 and peaks["small.gguf"] < 150, peaks
    assert peaks["large.gguf"] - peaks["small.gguf"] < 24, peaks
