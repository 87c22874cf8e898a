"""The local hub against the real huggingface_hub client: downloads, API, every error, faults."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import httpx2
import pytest
from huggingface_hub import (
    HfApi,
    constants,
    get_hf_file_metadata,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from bodhi_nb.offline_hub import HubServer
from bodhi_nb.offline_hub.server import INVALID_CREDENTIALS
from bodhi_nb.testing.hub_faults import FaultyHubServer

ALICE = "hf_alice_has_access"
BOB = "hf_bob_has_no_access"
REPO = "acme/tiny"
CONFIG = '{"architectures": ["Tiny"]}\n'
MiB = 1 << 20


def blob(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture(autouse=True)
def quiet_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_DISABLE_TELEMETRY once, when imported: this module imports
    # it before conftest sets the variable, so keep it from calling huggingface.co here.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


@pytest.fixture
def hub() -> Iterator[FaultyHubServer]:
    with FaultyHubServer(tokens={ALICE: "alice", BOB: "bob"}) as server:
        yield server
    assert server.server_errors == []


@pytest.fixture
def weights() -> bytes:
    return blob(2 * MiB + 17)


@pytest.fixture
def tiny(hub: FaultyHubServer, weights: bytes) -> str:
    """A public repo with an LFS and a non-LFS file; returns main's commit."""
    return hub.add_repo(REPO, {"model.gguf": weights, "config.json": CONFIG,
                               "docs/README.md": "# tiny\n"})


def cache() -> Path:
    # The cache is passed explicitly: huggingface_hub resolved HF_HOME when it was imported.
    return Path(os.environ["HF_HOME"]) / "hub"


def storage() -> Path:
    return cache() / "models--acme--tiny"


def download(hub: HubServer, filename: str, *, repo: str = REPO, token: str | None = None,
             revision: str | None = None, force_download: bool = False) -> Path:
    return Path(hf_hub_download(repo, filename, endpoint=hub.endpoint, cache_dir=cache(),
                                token=token or False, revision=revision,
                                force_download=force_download))


def hf_api(hub: HubServer, token: str | None = None) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=token or False)


# -- downloads and cache layout ---------------------------------------------------------------

def test_lfs_file_is_redirected_to_the_cdn_and_cached_by_sha256(
        hub: FaultyHubServer, tiny: str, weights: bytes) -> None:
    path = download(hub, "model.gguf")

    digest = hashlib.sha256(weights).hexdigest()
    assert path.read_bytes() == weights
    assert (storage() / "blobs" / digest).read_bytes() == weights
    assert (storage() / "refs" / "main").read_text() == tiny
    link = storage() / "snapshots" / tiny / "model.gguf"
    assert link.is_symlink() and os.readlink(link) == f"../../blobs/{digest}"
    head, get = hub.log
    assert (head.origin, head.method, head.path, head.status) == (
        "hub", "HEAD", f"/{REPO}/resolve/main/model.gguf", 302)
    assert (get.origin, get.method, get.status, get.bytes_sent) == ("cdn", "GET", 200, len(weights))
    assert get.path.endswith(f"/{digest}/model.gguf")


def test_small_file_is_served_by_the_hub_and_cached_by_git_blob_sha1(
        hub: FaultyHubServer, tiny: str) -> None:
    path = download(hub, "config.json")

    git_sha1 = hashlib.sha1(f"blob {len(CONFIG)}\0{CONFIG}".encode()).hexdigest()
    assert path.read_text() == CONFIG
    assert os.readlink(storage() / "snapshots" / tiny / "config.json") == f"../../blobs/{git_sha1}"
    assert [(r.origin, r.method, r.status) for r in hub.log] == [
        ("hub", "HEAD", 200), ("hub", "GET", 200)]


def test_file_metadata_headers_and_no_xet(hub: FaultyHubServer, tiny: str, weights: bytes) -> None:
    meta = get_hf_file_metadata(hf_hub_url(REPO, "model.gguf", endpoint=hub.endpoint))
    assert (meta.commit_hash, meta.etag, meta.size) == (
        tiny, hashlib.sha256(weights).hexdigest(), len(weights))
    assert meta.location.startswith(hub.cdn_endpoint + "/repos/")

    with httpx.Client(follow_redirects=True) as client:
        responses = [client.head(hub.url(REPO, "model.gguf")),
                     client.get(hub.url(REPO, "config.json")),
                     client.get(f"{hub.endpoint}/api/models/{REPO}/tree/main?recursive=true"),
                     client.get(f"{hub.endpoint}/api/models/{REPO}?blobs=true")]
    for response in responses:
        assert response.status_code == 200
        assert not [h for h in response.headers if "xet" in h.lower()]
        assert "xet" not in response.text.lower()
    assert responses[0].headers["content-length"] == str(len(weights))


def test_revision_by_name_and_by_commit(hub: FaultyHubServer) -> None:
    main = hub.add_repo(REPO, {"config.json": "new"},
                        revisions={"v1": {"config.json": "old"}}, tags=["v1"])
    v1 = hub.commit(REPO, "v1")
    assert v1 != main

    assert download(hub, "config.json", revision="v1").read_text() == "old"
    assert (storage() / "refs" / "v1").read_text() == v1
    assert download(hub, "config.json", revision=v1).read_text() == "old"
    assert download(hub, "config.json").read_text() == "new"
    api = hf_api(hub)
    assert api.model_info(REPO, revision=v1).sha == v1
    refs = api.list_repo_refs(REPO)
    assert [(b.name, b.target_commit) for b in refs.branches] == [("main", main)]
    assert [(t.name, t.ref, t.target_commit) for t in refs.tags] == [("v1", "refs/tags/v1", v1)]


def test_commit_is_deterministic_and_follows_the_content(tmp_path: Path) -> None:
    files = {"a.txt": "a", "w.gguf": b"\0" * 10}
    with HubServer(tmp_path / "one") as one, HubServer(tmp_path / "two") as two:
        assert one.add_repo(REPO, files) == two.add_repo(REPO, files)
        assert one.add_repo(REPO, {**files, "a.txt": "b"}) != two.commit(REPO)


# -- ranges -----------------------------------------------------------------------------------

def test_range_requests(hub: FaultyHubServer, tiny: str, weights: bytes) -> None:
    size = len(weights)
    with httpx.Client(follow_redirects=True) as client:
        url = hub.url(REPO, "model.gguf")
        r = client.get(url, headers={"Range": "bytes=10-19"})
        assert (r.status_code, r.content, r.headers["content-range"]) == (
            206, weights[10:20], f"bytes 10-19/{size}")
        r = client.get(url, headers={"Range": f"bytes={size - 5}-"})
        assert (r.status_code, r.content) == (206, weights[-5:])
        r = client.get(url, headers={"Range": "bytes=-7"})
        assert (r.status_code, r.content) == (206, weights[-7:])
        r = client.get(url, headers={"Range": f"bytes={size}-"})
        assert r.status_code == 416
        assert r.headers["content-range"] == f"bytes */{size}"
        assert r.headers["x-error-code"] == "RangeNotSatisfiable"
        r = client.get(url, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
        assert (r.status_code, len(r.content)) == (200, size)
        r = client.get(hub.url(REPO, "config.json"), headers={"Range": "bytes=2-5"})
        assert (r.status_code, r.text) == (206, CONFIG[2:6])
    ranges = [r.range for r in hub.log if r.origin == "cdn"]
    assert ranges[:2] == ["bytes=10-19", f"bytes={size - 5}-"]


# -- errors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("token", "status"), [(None, 401), (BOB, 404)])
def test_missing_repo(hub: FaultyHubServer, token: str | None, status: int) -> None:
    with pytest.raises(RepositoryNotFoundError) as raised:
        download(hub, "config.json", token=token)
    assert type(raised.value) is RepositoryNotFoundError
    assert raised.value.response.status_code == status
    for repo_id in ("acme/missing", "legacy-id-without-owner"):
        with pytest.raises(RepositoryNotFoundError) as raised:
            hf_api(hub, token).model_info(repo_id)
        assert raised.value.response.headers["x-error-code"] == "RepoNotFound"
        assert raised.value.response.status_code == status


@pytest.mark.parametrize(("token", "status"), [(None, 401), (BOB, 404)])
def test_private_repo_is_not_found_without_access(
        hub: FaultyHubServer, token: str | None, status: int) -> None:
    hub.add_repo(REPO, {"config.json": CONFIG}, private=True, allowed_tokens=[ALICE])
    with pytest.raises(RepositoryNotFoundError) as raised:
        download(hub, "config.json", token=token)
    assert type(raised.value) is RepositoryNotFoundError
    assert raised.value.response.status_code == status
    assert download(hub, "config.json", token=ALICE).read_text() == CONFIG
    assert [m.id for m in hf_api(hub).list_models(search="tiny")] == []
    assert [m.id for m in hf_api(hub, ALICE).list_models()] == [REPO]


@pytest.mark.parametrize(("token", "status"), [(None, 401), (BOB, 403)])
def test_gated_repo_without_access(hub: FaultyHubServer, token: str | None, status: int) -> None:
    hub.add_repo(REPO, {"model.gguf": b"w" * 100}, gated=True, allowed_tokens=[ALICE])
    with pytest.raises(GatedRepoError) as raised:
        download(hub, "model.gguf", token=token)
    assert raised.value.response.status_code == status
    api = hf_api(hub, token)
    with pytest.raises(GatedRepoError):
        api.auth_check(REPO)
    info = api.model_info(REPO)  # metadata stays public, as on the Hub
    assert (info.gated, [s.rfilename for s in info.siblings or []]) == ("manual", ["model.gguf"])


def test_gated_repo_with_access_keeps_the_token_off_the_cdn(hub: FaultyHubServer) -> None:
    hub.add_repo(REPO, {"model.gguf": b"w" * 100}, gated="auto", allowed_tokens=[ALICE])
    assert download(hub, "model.gguf", token=ALICE).read_bytes() == b"w" * 100
    hf_api(hub, ALICE).auth_check(REPO)
    log = hub.log
    assert [(r.origin, r.authorization) for r in log] == [
        ("hub", True), ("cdn", False), ("hub", True)]
    assert ALICE not in repr(log)


def test_missing_revision(hub: FaultyHubServer, tiny: str) -> None:
    with pytest.raises(RevisionNotFoundError) as raised:
        download(hub, "config.json", revision="nope")
    assert raised.value.response.status_code == 404
    api = hf_api(hub)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(REPO, revision="nope")
    with pytest.raises(RevisionNotFoundError):
        api.list_repo_files(REPO, revision="0" * 40)


def test_missing_file(hub: FaultyHubServer, tiny: str) -> None:
    with pytest.raises(RemoteEntryNotFoundError) as raised:
        download(hub, "missing.bin")
    assert raised.value.response.status_code == 404
    assert raised.value.response.headers["x-repo-commit"] == tiny
    assert (storage() / ".no_exist" / tiny / "missing.bin").exists()
    api = hf_api(hub)
    assert api.file_exists(REPO, "config.json") and not api.file_exists(REPO, "missing.bin")
    assert api.repo_exists(REPO) and not api.repo_exists("acme/missing")
    assert api.revision_exists(REPO, "main") and not api.revision_exists(REPO, "nope")


def test_bad_token(hub: FaultyHubServer, tiny: str) -> None:
    with pytest.raises(HfHubHTTPError) as raised:
        download(hub, "config.json", token="hf_wrong")
    assert not isinstance(raised.value, RepositoryNotFoundError)
    assert raised.value.response.status_code == 401
    assert raised.value.response.headers["x-error-message"] == INVALID_CREDENTIALS
    api = hf_api(hub)
    with pytest.raises(HfHubHTTPError, match="Invalid user token"):
        api.whoami(token="hf_wrong")
    with pytest.raises(HfHubHTTPError) as raised:
        api.model_info(REPO, token="hf_wrong")
    assert not isinstance(raised.value, RepositoryNotFoundError)
    assert api.whoami(token=ALICE)["name"] == "alice"


def test_unknown_route_and_method(hub: FaultyHubServer, tiny: str) -> None:
    with httpx.Client() as client:
        r = client.get(f"{hub.endpoint}/api/spaces/x/y")
        assert (r.status_code, r.headers["x-error-code"]) == (404, "NotFound")
        r = client.delete(hub.url(REPO, "config.json"))
        assert (r.status_code, r.headers["x-error-code"]) == (405, "MethodNotAllowed")


# -- API --------------------------------------------------------------------------------------

def test_model_info_and_listings(hub: FaultyHubServer, tiny: str, weights: bytes) -> None:
    api = hf_api(hub)
    info = api.model_info(REPO, files_metadata=True)
    assert (info.id, info.sha, info.gated, info.private) == (REPO, tiny, False, False)
    siblings = {s.rfilename: s for s in info.siblings or []}
    assert sorted(siblings) == ["config.json", "docs/README.md", "model.gguf"]
    lfs = siblings["model.gguf"].lfs
    assert lfs is not None and lfs.sha256 == hashlib.sha256(weights).hexdigest()
    assert siblings["config.json"].size == len(CONFIG) and siblings["config.json"].lfs is None
    assert api.model_info(REPO).siblings[0].size is None  # type: ignore[index]

    assert sorted(api.list_repo_files(REPO)) == ["config.json", "docs/README.md", "model.gguf"]
    top = list(api.list_repo_tree(REPO))
    assert [(type(e).__name__, e.path) for e in top] == [
        ("RepoFolder", "docs"), ("RepoFile", "config.json"), ("RepoFile", "model.gguf")]
    assert [e.path for e in api.list_repo_tree(REPO, path_in_repo="docs")] == ["docs/README.md"]
    info_paths = api.get_paths_info(REPO, ["model.gguf", "docs", "nope"], expand=True)
    assert [e.path for e in info_paths] == ["model.gguf", "docs"]
    assert info_paths[0].last_commit is not None and info_paths[0].last_commit.oid == tiny
    with pytest.raises(RemoteEntryNotFoundError):
        list(api.list_repo_tree(REPO, path_in_repo="nope"))
    assert [m.id for m in api.list_models(search="TINY", author="acme")] == [REPO]
    assert [m.id for m in api.list_models(author="other")] == []


def test_snapshot_download(hub: FaultyHubServer, tiny: str, weights: bytes) -> None:
    folder = Path(snapshot_download(REPO, endpoint=hub.endpoint, cache_dir=cache(), token=False))
    assert folder == storage() / "snapshots" / tiny
    assert (folder / "model.gguf").read_bytes() == weights
    assert (folder / "docs" / "README.md").read_text() == "# tiny\n"
    assert sum(r.origin == "cdn" for r in hub.log) == 1


def test_tree_pagination_follows_link_next(hub: FaultyHubServer) -> None:
    hub.add_repo(REPO, {f"f{i}.txt": str(i) for i in range(5)})
    hub.tree_page_size = 2
    assert hf_api(hub).list_repo_files(REPO) == [f"f{i}.txt" for i in range(5)]
    pages = [r for r in hub.log if "/tree/" in r.path]
    assert len(pages) == 3
    assert "cursor=" not in pages[0].query and all("cursor=" in p.query for p in pages[1:])


def test_keep_alive_reuses_one_connection(hub: FaultyHubServer, tiny: str) -> None:
    with httpx.Client() as client:
        for _ in range(3):
            assert client.get(hub.url(REPO, "config.json")).status_code == 200
        client.get(hub.url(REPO, "config.json"), headers={"Connection": "close"})
        client.get(hub.url(REPO, "config.json"))
    assert [r.connection for r in hub.log] == [1, 1, 1, 1, 2]


def test_cdn_urls_are_signed_and_expire(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with HubServer(tmp_path, clock=lambda: now[0], url_ttl=60) as hub, \
            httpx.Client() as client:
        hub.add_repo(REPO, {"model.gguf": b"x" * 10})
        location = client.head(hub.url(REPO, "model.gguf")).headers["location"]
        assert client.get(location).content == b"x" * 10
        forged = client.get(location.replace("Signature=", "Signature=0"))
        assert (forged.status_code, forged.headers["x-error-code"]) == (
            403, "SignatureDoesNotMatch")
        now[0] += 61
        expired = client.get(location)
        assert (expired.status_code, expired.headers["x-error-message"]) == (
            403, "Request has expired")


# -- faults -----------------------------------------------------------------------------------

def test_dropped_connection_is_resumed_with_a_range_request(hub: FaultyHubServer) -> None:
    # huggingface_hub writes 10 MiB chunks: cut past the first so that it has bytes to keep.
    data = blob(12 * MiB, seed=1)
    hub.add_repo(REPO, {"big.gguf": data})
    hub.drop_after(11 * MiB, origin="cdn")

    assert download(hub, "big.gguf").read_bytes() == data
    first, second = [r for r in hub.log if r.origin == "cdn"]
    assert (first.status, first.fault, first.bytes_sent, first.range) == (
        200, "drop", 11 * MiB, None)
    assert (second.status, second.range, second.fault) == (206, f"bytes={10 * MiB}-", None)
    assert second.bytes_sent == 2 * MiB


def test_throttle_limits_the_rate(hub: FaultyHubServer) -> None:
    hub.add_repo(REPO, {"w.gguf": blob(200_000)})
    hub.throttle(500_000, origin="cdn")
    started = time.monotonic()
    download(hub, "w.gguf")
    assert time.monotonic() - started >= 0.35  # 200 kB at 500 kB/s takes 0.4 s at least
    (record,) = [r for r in hub.log if r.origin == "cdn"]
    assert record.fault == "throttle" and record.duration >= 0.35

    hub.throttle(None)
    hub.clear_log()
    download(hub, "w.gguf", force_download=True)
    assert [r.fault for r in hub.log] == [None, None]


def test_429_is_retried_by_hf_hub_download(hub: FaultyHubServer, tiny: str) -> None:
    hub.fail_next(429, path="/resolve/", method="HEAD", headers={"Retry-After": "0"})
    assert download(hub, "config.json").read_text() == CONFIG
    heads = [r for r in hub.log if r.method == "HEAD"]
    assert [(r.status, r.fault) for r in heads] == [(429, "status"), (200, None)]


def test_injected_statuses_reach_the_api_caller_then_stop(hub: FaultyHubServer, tiny: str) -> None:
    api = hf_api(hub)
    hub.fail_next(429, path="^/api/models/", headers={"Retry-After": "7"})
    with pytest.raises(HfHubHTTPError) as raised:
        api.model_info(REPO)
    response = raised.value.response
    assert (response.status_code, response.headers["retry-after"]) == (429, "7")
    assert response.headers["x-error-code"] == "TooManyRequests"
    hub.fail_next(500, times=2, path="^/api/models/")
    for _ in range(2):
        with pytest.raises(HfHubHTTPError, match="500"):
            api.model_info(REPO)
    assert api.model_info(REPO).sha == tiny


def test_delay_trips_client_timeouts(hub: FaultyHubServer, tiny: str) -> None:
    hub.delay(0.5, path="^/api/models/")
    with pytest.raises(httpx2.ReadTimeout):
        hf_api(hub).model_info(REPO, timeout=0.1)


# -- a folder on disk, in process and from the CLI --------------------------------------------

def write_folder(root: Path) -> None:
    repo = root / "acme" / "tiny"
    (repo / ".revisions" / "v1").mkdir(parents=True)
    (repo / "config.json").write_text(CONFIG)
    (repo / "model.gguf").write_bytes(b"g" * 1000)
    (repo / ".revisions" / "v1" / "config.json").write_text("{}")
    (repo / ".hub.yaml").write_text("gated: manual\nallowed_tokens:\n  - hf_folder\n")
    (root / "acme" / "open").mkdir()
    (root / "acme" / "open" / "notes.txt").write_text("hello")


def test_serves_a_folder_with_settings(tmp_path: Path) -> None:
    write_folder(tmp_path / "repos")
    with HubServer(tmp_path / "repos") as hub:
        with pytest.raises(GatedRepoError):
            download(hub, "model.gguf")
        assert download(hub, "model.gguf", token="hf_folder").read_bytes() == b"g" * 1000
        assert download(hub, "config.json", revision="v1", token="hf_folder").read_text() == "{}"
        api = hf_api(hub)
        assert api.list_repo_files(REPO) == ["config.json", "model.gguf"]
        assert [m.id for m in api.list_models()] == ["acme/open", REPO]
        assert [m.id for m in api.list_models(gated=True)] == [REPO]


def test_cli_serves_until_terminated(
        tmp_path: Path, python: str, subprocess_env: dict[str, str]) -> None:
    write_folder(tmp_path / "repos")
    command = [python, "-m", "bodhi_nb.offline_hub", "--root", str(tmp_path / "repos"),
               "--token", "hf_teacher=teacher"]
    with subprocess.Popen(command, env=subprocess_env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            ready, endpoint = proc.stdout.readline().split()
            assert ready == "READY" and endpoint.startswith("http://127.0.0.1:")
            api = HfApi(endpoint=endpoint, token=False)
            assert api.whoami(token="hf_teacher")["name"] == "teacher"
            with pytest.raises(GatedRepoError):
                hf_hub_download(REPO, "model.gguf", endpoint=endpoint, token="hf_teacher",
                                cache_dir=cache())
            path = hf_hub_download("acme/open", "notes.txt", endpoint=endpoint, token=False,
                                   cache_dir=cache())
            assert Path(path).read_text() == "hello"
        finally:
            proc.terminate()
            _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert stderr.startswith("cdn http://127.0.0.1:")


# -- issue 8: a classroom at once, and pull requests ------------------------------------------


def test_pull_requests_are_listed_as_pull_requests_not_branches(hub: FaultyHubServer) -> None:
    main = hub.add_repo(REPO, {"config.json": "main"}, revisions={
        "refs/pr/2": {"config.json": "pr two"}, "refs/pr/10": {"config.json": "pr ten"},
        "dev": {"config.json": "dev"}, "v1": {"config.json": "v1"}}, tags=["v1"])
    api = hf_api(hub)
    refs = api.list_repo_refs(REPO, include_pull_requests=True)
    assert sorted(b.name for b in refs.branches) == ["dev", "main"]
    assert [(t.name, t.ref) for t in refs.tags] == [("v1", "refs/tags/v1")]
    assert [(p.name, p.ref, p.target_commit) for p in refs.pull_requests or []] == [
        ("refs/pr/2", "refs/pr/2", hub.commit(REPO, "refs/pr/2")),
        ("refs/pr/10", "refs/pr/10", hub.commit(REPO, "refs/pr/10"))]
    plain = api.list_repo_refs(REPO)
    assert sorted(b.name for b in plain.branches) == ["dev", "main"]
    assert plain.pull_requests is None
    assert download(hub, "config.json", revision="refs/pr/2").read_text() == "pr two"
    assert hub.commit(REPO) == main


def _listen_backlog(port: int) -> int | None:
    """The accept queue length of a listening socket, as ``ss`` reports it (Send-Q)."""
    try:
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        fields = line.split()
        if fields and fields[0] == "LISTEN":
            return int(fields[2])
    return None


def test_sixty_clients_at_once_all_finish_with_the_right_bytes(hub: FaultyHubServer) -> None:
    import http.client
    import threading
    from urllib.parse import urlsplit

    weights = blob(256 * 1024, seed=7)
    hub.add_repo(REPO, {"model.gguf": weights, "config.json": CONFIG})
    port = int(urlsplit(hub.endpoint).port or 0)
    backlog = _listen_backlog(port)
    if backlog is not None:  # Linux with iproute2: the queue a classroom needs
        assert backlog >= 128, backlog

    clients = 60
    barrier = threading.Barrier(clients)
    results: list[bytes | BaseException | None] = [None] * clients

    def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=120)
        try:
            conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def client(i: int) -> None:
        try:
            name = "model.gguf" if i % 2 == 0 else "config.json"
            barrier.wait(timeout=60)
            status, headers, body = fetch(hub.url(REPO, name))
            if status == 302:
                status, headers, body = fetch(headers["Location"])
            assert status == 200, status
            results[i] = body
        except BaseException as exc:  # reported below, with the client's number
            results[i] = exc

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    failures = {i: r for i, r in enumerate(results) if isinstance(r, BaseException) or r is None}
    assert failures == {}
    assert results == [weights if i % 2 == 0 else CONFIG.encode() for i in range(clients)]
    assert len([r for r in hub.log if r.status in (200, 302)]) == clients + clients // 2
