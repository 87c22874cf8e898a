"""bodhi's cache writes against huggingface_hub's own tools: scan_cache_dir, hf_hub_download,
the cache deletion ``hf cache rm`` runs, and its Xet shared blob store."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import constants, hf_hub_download, scan_cache_dir

from bodhi_nb.commands import Context, execute
from bodhi_nb.objs import HubFile, Repo
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.services.hub import HubService
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer


@pytest.fixture(autouse=True)
def quiet_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub read these when first imported, before conftest set the environment.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tiny-Q4_K_M.gguf"
    path.parent.mkdir(parents=True)
    make_gguf(path, arch="llama", context_length=2048, size_bytes=3 << 20)
    return path


def _service(cache: Path, endpoint: str) -> HubService:
    return HubService(HfCache(cache), DefaultTimeService(), endpoint=endpoint)


# -- item 17: the repository is never "corrupt" to scan_cache_dir ---------------------------


def test_scan_cache_dir_sees_the_repo_during_a_pull_and_after_a_kill(
        hub: FaultyHubServer, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    big = tmp_path / "src" / "big-Q4_0.gguf"
    big.parent.mkdir(parents=True, exist_ok=True)
    make_gguf(big, size_bytes=12 << 20)
    commit = hub.add_repo("acme/scan", {"big-Q4_0.gguf": big})
    hub.throttle(2 << 20, origin="cdn")
    env = {**subprocess_env, "HF_ENDPOINT": hub.endpoint}
    child = subprocess.Popen([sys.executable, "-m", "bodhi_nb.cli", "pull", "acme/scan",
                              "big-Q4_0.gguf"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    cache = Path(os.environ["HF_HOME"]) / "hub"
    blobs = cache / "models--acme--scan" / "blobs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        partial = list(blobs.glob("*.incomplete")) if blobs.exists() else []
        if partial and partial[0].stat().st_size > 1 << 20:
            break
        time.sleep(0.05)
    try:
        during = scan_cache_dir(cache)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    after = scan_cache_dir(cache)
    hub.throttle(None, origin="cdn")
    for info in (during, after):
        assert [str(w) for w in info.warnings] == []
        [repo] = [r for r in info.repos if r.repo_id == "acme/scan"]
        assert [(r.commit_hash, set(r.refs)) for r in repo.revisions] == [(commit, {"main"})]
    assert (cache / "models--acme--scan" / "refs" / "main").read_text() == commit


# -- item 16: the umask, and CACHEDIR.TAG ----------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_cache_files_follow_the_umask_like_huggingface_hub(
        hub: FaultyHubServer, model: Path, tmp_path: Path, umask: int) -> None:
    hub.add_repo("acme/perm", {"p-Q4_0.gguf": model, "README.md": "# r"})
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    service = _service(ours, hub.endpoint)
    old = os.umask(umask)
    try:
        for name in ("p-Q4_0.gguf", "README.md"):
            service.download(Repo.parse("acme/perm"), name)
            hf_hub_download("acme/perm", name, endpoint=hub.endpoint, cache_dir=theirs,
                            token=False)
    finally:
        os.umask(old)
        service.close()

    def modes(root: Path) -> dict[str, int]:
        repo = root / "models--acme--perm"
        found = {p.relative_to(repo).as_posix(): stat.S_IMODE(p.lstat().st_mode)
                 for p in repo.rglob("*") if not p.is_symlink()}
        return {("blobs/*" if k.startswith("blobs/") else k): v for k, v in found.items()}

    assert modes(ours) == modes(theirs)
    assert modes(ours)["refs/main"] == 0o666 & ~umask
    assert (ours / "CACHEDIR.TAG").read_bytes() == (theirs / "CACHEDIR.TAG").read_bytes()


# -- item 18: rm removes what `hf cache rm` removes, Xet shared blobs included ---------------


def _tree(root: Path) -> dict[str, str]:
    """Every entry under ``root``: links by target, files by content (lock files aside)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.name.endswith(".lock") or rel.startswith(".locks"):
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes().decode("latin-1")
        else:
            out[rel] = "dir"
    return out


def _xet_cache(root: Path, hub: FaultyHubServer, repos: list[str], filename: str) -> None:
    """A cache as huggingface_hub 2.x leaves it after Xet downloads: each repository's blob
    is a link into the shared store, listed in the store entry's manifest."""
    from huggingface_hub.utils._shared_blobs import publish_blob_to_shared_store

    xet_hash = "ab" + "0123456789abcdef" * 3 + "0123456789abcd"
    for repo in repos:
        local = Path(hf_hub_download(repo, filename, endpoint=hub.endpoint, cache_dir=root,
                                     token=False))
        blob = local.parent / os.readlink(local)
        assert publish_blob_to_shared_store(
            blob_path=str(os.path.abspath(blob)), xet_hash=xet_hash, cache_dir=root,
            expected_size=blob.stat().st_size)
    assert (root / "blobs" / "ab" / xet_hash).is_file()


def test_rm_frees_xet_shared_blobs_exactly_as_hf_cache_rm(hub: FaultyHubServer, model: Path,
                                                          tmp_path: Path) -> None:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    name = "m-Q4_K_M.gguf"
    for repo in ("acme/one", "acme/two"):
        hub.add_repo(repo, {name: model})
    theirs = tmp_path / "theirs_cache"
    ours = Path(os.environ["HF_HOME"]) / "hub"
    for root in (theirs, ours):
        _xet_cache(root, hub, ["acme/one", "acme/two"], name)
    assert _tree(theirs) == _tree(ours)

    app = build_app_service(SettingService())
    ctx = Context(prog="bodhi")
    try:
        for repo, freed, shown in (("acme/one", 0, "0 B"),
                                   ("acme/two", model.stat().st_size, "3.0 MiB")):
            info = scan_cache_dir(theirs)
            files = [f for r in info.repos if r.repo_id == repo for rev in r.revisions
                     for f in rev.files]
            strategy = info.delete_files(*files)
            assert strategy.expected_freed_size == freed
            strategy.execute()
            out = str(execute(["rm", f"{repo}/{name}", "-y"], ctx, lambda: app))
            assert f"freed {shown}" in out
            assert _tree(ours) == _tree(theirs)
    finally:
        app.close()
    assert not list((ours / "blobs" / "ab").glob("ab*[0-9a-f]"))
    assert scan_cache_dir(ours).warnings == []


def test_rm_of_a_repository_removes_what_hf_cache_rm_removes(hub: FaultyHubServer, model: Path,
                                                              tmp_path: Path) -> None:
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    name = "m-Q4_K_M.gguf"
    for repo in ("acme/one", "acme/two"):
        # (distinct READMEs: the local hub's commit hashes only its files, and
        # delete_revisions takes commit hashes, which must not be shared across repos)
        hub.add_repo(repo, {name: model, "README.md": f"# {repo}\n"},
                     revisions={"v1": {name: model, "README.md": f"old {repo}"}})
    theirs = tmp_path / "theirs_cache"
    ours = Path(os.environ["HF_HOME"]) / "hub"
    for root in (theirs, ours):
        _xet_cache(root, hub, ["acme/one", "acme/two"], name)
        for repo in ("acme/one", "acme/two"):
            for revision in ("main", "v1"):
                hf_hub_download(repo, "README.md", revision=revision, endpoint=hub.endpoint,
                                cache_dir=root, token=False)
        (root / "models--acme--one" / "blobs" / ("c" * 64 + ".incomplete")).write_bytes(b"x")
    assert _tree(theirs) == _tree(ours)

    app = build_app_service(SettingService())
    try:
        for repo in ("acme/one", "acme/two"):
            info = scan_cache_dir(theirs)
            [cached] = [r for r in info.repos if r.repo_id == repo]
            strategy = info.delete_revisions(*(r.commit_hash for r in cached.revisions))
            strategy.execute()
            out = str(execute(["rm", repo, "-y"], Context(prog="bodhi"), lambda: app))
            assert "README.md" in out and name in out
            assert _tree(ours) == _tree(theirs)
    finally:
        app.close()
    assert not (ours / "models--acme--one").exists()
    assert not list((ours / "blobs" / "ab").glob("ab*[0-9a-f]"))


def test_removing_a_file_keeps_a_blob_other_snapshots_use(hub: FaultyHubServer, model: Path,
                                                         tmp_path: Path) -> None:
    hub.add_repo("acme/keep", {"a-Q4_0.gguf": model, "b-Q8_0.gguf": model})
    cache = tmp_path / "cache"
    service = _service(cache, hub.endpoint)
    try:
        a = service.download(Repo.parse("acme/keep"), "a-Q4_0.gguf")
        b = service.download(Repo.parse("acme/keep"), "b-Q8_0.gguf")
        assert service.remove_local_file(a) == 0
        assert b.path.read_bytes() == model.read_bytes()
        assert service.remove_local_file(b) == model.stat().st_size
        assert list((cache / "models--acme--keep" / "blobs").iterdir()) == []
    finally:
        service.close()


def test_remove_never_leaves_the_repository_folder(tmp_path: Path) -> None:
    from bodhi_nb.errors import BodhiError

    cache = tmp_path / "cache"
    outside = tmp_path / "precious"
    outside.write_text("keep me")
    snap = cache / "models--acme--x" / "snapshots" / ("0" * 40)
    snap.mkdir(parents=True)
    os.symlink(os.path.relpath(outside, snap), snap / "f.gguf")
    service = _service(cache, "http://127.0.0.1:9")
    try:
        assert service.remove_local_file(HubFile(str(cache), "acme/x", "f.gguf", "0" * 40)) == 0
        with pytest.raises(BodhiError):
            service.remove_local_file(HubFile(str(cache), "acme/x", "../../../precious",
                                              "0" * 40))
    finally:
        service.close()
    assert outside.read_text() == "keep me"
