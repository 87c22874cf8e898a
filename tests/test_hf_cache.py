"""HfCache over the Hugging Face cache layout, as huggingface_hub writes it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from huggingface_hub import constants, hf_hub_download, scan_cache_dir, try_to_load_from_cache

from bodhi_nb.errors import (
    InvalidLocalFilenameError,
    InvalidLocalRevisionError,
    LocalFileNotFoundError,
)
from bodhi_nb.objs import Repo
from bodhi_nb.services.hf_cache import HfCache
from bodhi_nb.testing.gguf_files import make_gguf, put_in_hf_cache

REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "hf_home" / "hub"


@pytest.fixture
def cache(root: Path) -> HfCache:
    return HfCache(root)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_gguf(tmp_path / "src" / "model.gguf", chat_template="{{ x }}")


@pytest.fixture
def quiet_client(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub read these when first imported, before conftest set the environment.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


@pytest.fixture
def hub(quiet_client: None) -> Iterator[object]:
    from bodhi_nb.offline_hub import HubServer

    with HubServer() as server:
        yield server


def test_file_downloaded_by_hf_hub_download_is_found(hub: object, root: Path,
                                                     cache: HfCache, model: Path) -> None:
    commit = hub.add_repo(REPO, {FILE: model.read_bytes(),  # type: ignore[attr-defined]
                                 "Q8_0/part-Q8_0.gguf": model.read_bytes(),
                                 "config.json": "{}"})
    for name in (FILE, "Q8_0/part-Q8_0.gguf", "config.json"):
        hf_hub_download(REPO, name, endpoint=hub.endpoint,  # type: ignore[attr-defined]
                        cache_dir=root, token=False)

    assert cache.resolve_revision(REPO, "main") == commit
    found = cache.find_local_file(REPO, FILE)
    assert found.snapshot == commit and found.size == model.stat().st_size
    assert found.path.read_bytes() == model.read_bytes()
    assert cache.find_local_file(REPO, "Q8_0/part-Q8_0.gguf", commit).filename == \
        "Q8_0/part-Q8_0.gguf"
    assert [(f.repo, f.filename) for f in cache.list_local_models()] == [
        (REPO, FILE), (REPO, "Q8_0/part-Q8_0.gguf")]
    assert cache.local_file_exists(REPO, "config.json")
    assert not cache.local_file_exists(REPO, "missing.gguf")


def test_layout_helper_matches_huggingface_hub(root: Path, cache: HfCache, model: Path) -> None:
    link = put_in_hf_cache(root, REPO, FILE, model)
    put_in_hf_cache(root, REPO, "sub/other-Q8_0.gguf", model.read_bytes())
    # huggingface_hub's own cache readers accept what the helper wrote...
    assert try_to_load_from_cache(REPO, FILE, cache_dir=root) == str(link)
    assert hf_hub_download(REPO, FILE, cache_dir=root, local_files_only=True) == str(link)
    info = scan_cache_dir(root)
    assert info.warnings == []
    (repo_info,) = info.repos
    assert repo_info.repo_id == REPO and set(repo_info.refs) == {"main"}
    assert {f.file_name for rev in repo_info.revisions for f in rev.files} == {
        FILE, "other-Q8_0.gguf"}
    # ...and HfCache reads the same files from it.
    assert {f.path for f in cache.list_local_models()} == {
        Path(f.file_path) for rev in repo_info.revisions for f in rev.files}
    assert os.readlink(link).startswith("../../blobs/")


def test_partial_downloads_are_ignored(root: Path, cache: HfCache, model: Path) -> None:
    put_in_hf_cache(root, REPO, FILE, model)
    storage = root / Repo.parse(REPO).cache_folder
    commit = cache.resolve_revision(REPO)
    assert commit is not None
    snap = storage / "snapshots" / commit
    # huggingface_hub writes blobs/<etag>.<uuid8>.incomplete and links only when done; a
    # dangling link (blob gone) and a partial file in the snapshot are not models either.
    (storage / "blobs" / ("e" * 64 + ".1a2b3c4d.incomplete")).write_bytes(b"GGUF partial")
    (snap / "dangling-Q8_0.gguf").symlink_to("../../blobs/" + "f" * 64)
    (snap / "partial-Q6_K.gguf.incomplete").write_bytes(b"GGUF")
    (snap / "writing-Q5_0.gguf").symlink_to("../../blobs/" + "e" * 64 + ".1a2b3c4d.incomplete")
    assert [f.filename for f in cache.list_local_models()] == [FILE]
    for name in ("dangling-Q8_0.gguf", "partial-Q6_K.gguf.incomplete", "writing-Q5_0.gguf"):
        assert not cache.local_file_exists(REPO, name)
    with pytest.raises(LocalFileNotFoundError) as err:
        cache.find_local_file(REPO, "dangling-Q8_0.gguf")
    assert err.value.code == "data_service_error-local_file_not_found"
    assert err.value.params == {"repo": REPO, "filename": "dangling-Q8_0.gguf",
                                "revision": "main"}


def test_refs_resolution(root: Path, cache: HfCache, model: Path) -> None:
    main, pr, old = "1" * 40, "2" * 40, "3" * 40
    put_in_hf_cache(root, REPO, FILE, model, commit=main)
    put_in_hf_cache(root, REPO, FILE, model, commit=pr, ref="refs/pr/1")
    put_in_hf_cache(root, REPO, FILE, model, commit=old, ref=None)
    refs = root / Repo.parse(REPO).cache_folder / "refs"
    (refs / "v1.0").write_text(old + "\n")  # tolerate a trailing newline
    (refs / "stale").write_text("4" * 40)  # a ref whose snapshot is gone
    assert cache.resolve_revision(REPO) == main
    assert cache.resolve_revision(REPO, "refs/pr/1") == pr
    assert cache.resolve_revision(REPO, "v1.0") == old
    assert cache.resolve_revision(REPO, old) == old  # a commit with no ref: its snapshot
    assert cache.resolve_revision(REPO, "stale") is None
    assert cache.resolve_revision(REPO, "nope") is None
    assert cache.resolve_revision("someone/else") is None
    assert cache.find_local_file(REPO, FILE, "refs/pr/1").snapshot == pr
    # Every snapshot's copy is listed, sorted.
    assert [f.snapshot for f in cache.list_local_models()] == [main, pr, old]
    local = {r.repo.id: r.refs for r in cache.local_repos()}
    assert local[REPO]["main"] == main and local[REPO]["refs/pr/1"] == pr


@pytest.mark.parametrize("filename", [
    "../x.gguf", "a/../../b.gguf", "x..gguf", "a\\b.gguf", "/etc/passwd", "a//b.gguf",
    "./a.gguf", "a/./b.gguf", "", "a\x00b.gguf", "dir/", "new\nline.gguf",
])
def test_unsafe_filenames_are_refused(cache: HfCache, filename: str) -> None:
    with pytest.raises(InvalidLocalFilenameError) as err:
        cache.find_local_file(REPO, filename)
    assert err.value.code == "data_service_error-invalid_local_filename"
    with pytest.raises(InvalidLocalFilenameError):
        cache.local_file_exists(REPO, filename)


@pytest.mark.parametrize("revision", ["../main", "..", "a\\b", "/abs", "", "refs//x"])
def test_unsafe_revisions_are_refused(cache: HfCache, revision: str) -> None:
    with pytest.raises(InvalidLocalRevisionError) as err:
        cache.resolve_revision(REPO, revision)
    assert err.value.code == "data_service_error-invalid_local_revision"


def test_subfolders_are_supported(root: Path, cache: HfCache, model: Path) -> None:
    put_in_hf_cache(root, REPO, "Q8_0/model-Q8_0-00001-of-00002.gguf", model)
    found = cache.find_local_file(REPO, "Q8_0/model-Q8_0-00001-of-00002.gguf")
    assert found.path.is_file()
    assert found.path.parent.name == "Q8_0"


def test_other_folders_are_ignored(root: Path, cache: HfCache, model: Path) -> None:
    put_in_hf_cache(root, REPO, FILE, model)
    (root / "datasets--acme--data" / "snapshots" / "x").mkdir(parents=True)
    (root / "datasets--acme--data" / "snapshots" / "x" / "d.gguf").write_bytes(b"GGUF")
    (root / "models--noname").mkdir()
    (root / "models--bad owner--x").mkdir()
    (root / ".locks").mkdir()
    (root / "version.txt").write_text("1")
    (root / "models--acme--empty").mkdir()  # no snapshots yet
    assert [r.repo.id for r in cache.local_repos()] == ["acme/empty", REPO]
    assert [f.repo for f in cache.list_local_models()] == [REPO]
    assert HfCache(root / "does-not-exist").list_local_models() == []


def test_symlinked_snapshot_folders_are_followed(root: Path, cache: HfCache,
                                                 model: Path, tmp_path: Path) -> None:
    storage = root / Repo.parse(REPO).cache_folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked-Q4_0.gguf").write_bytes(model.read_bytes())
    (storage / "snapshots").mkdir(parents=True)
    (storage / "snapshots" / ("9" * 40)).symlink_to(elsewhere, target_is_directory=True)
    (storage / "refs").mkdir()
    (storage / "refs" / "main").write_text("9" * 40)
    (listed,) = cache.list_local_models()
    assert (listed.filename, listed.snapshot) == ("linked-Q4_0.gguf", "9" * 40)
    assert cache.find_local_file(REPO, "linked-Q4_0.gguf").size == model.stat().st_size


def test_repo_folder_names_round_trip() -> None:
    for repo_id in ("o/n", "bartowski/Llama-3.2-1B-Instruct-GGUF", "a.b/c_d-e"):
        repo = Repo.parse(repo_id)
        assert HfCache.repo_from_folder(repo.cache_folder) == repo
    for folder in ("datasets--a--b", "spaces--a--b", "models--a", "models--a--b c", "x"):
        assert HfCache.repo_from_folder(folder) is None
