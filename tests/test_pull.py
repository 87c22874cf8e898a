"""%bodhi pull against the local hub server, with the real huggingface_hub client beside it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from _backends import both_backends
from hypothesis import given
from hypothesis import strategies as st

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.errors import (
    GatedAccessError,
    GatedNoTokenError,
    HubServiceError,
    InvalidReferenceError,
    InvalidTokenError,
    MayNotExistError,
    RemoteFileNotFoundError,
    RepoNotFoundError,
    RevisionNotFoundError,
    TransportError,
)
from bodhi_nb.objs import DownloadStatus, ModelRef, Repo
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.gguf_files import make_gguf
from bodhi_nb.testing.hub_faults import FaultyHubServer

GOOD_TOKEN = "hf_good_token_0123456789"


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyHubServer]:
    with FaultyHubServer(tmp_path / "hub_root", tokens={GOOD_TOKEN: "ann"}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server
        assert server.server_errors == []


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "tiny-Q4_K_M.gguf"
    path.parent.mkdir(parents=True)
    make_gguf(path, arch="llama", context_length=2048, size_bytes=3 << 20)
    return path


def _hf_cache(app: DefaultAppService) -> Path:
    return app.setting_service().hf_cache


def _dirty(app: DefaultAppService) -> list[Path]:
    """Anything in the cache besides lock files: must be empty after a failed pull."""
    root = _hf_cache(app)
    return [p for p in root.rglob("*") if p.is_file() and ".locks" not in p.parts] \
        if root.exists() else []


@both_backends
def test_pull_small_gguf_layout_hash_and_db_row(hub: FaultyHubServer, model: Path,
                                                registry: DefaultAppService) -> None:
    commit = hub.add_repo("acme/tiny-GGUF", {"tiny-Q4_K_M.gguf": model, "README.md": "# t"})
    row = registry.download_service().pull(Repo.parse("acme/tiny-GGUF"), "tiny-Q4_K_M.gguf")
    assert row.status is DownloadStatus.COMPLETED
    assert row.total_bytes == row.downloaded_bytes == model.stat().st_size
    assert row.started_at is not None

    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    repo_dir = _hf_cache(registry) / "models--acme--tiny-GGUF"
    blob = repo_dir / "blobs" / sha
    link = repo_dir / "snapshots" / commit / "tiny-Q4_K_M.gguf"
    assert blob.read_bytes() == model.read_bytes()
    assert link.is_symlink() and os.readlink(link) == f"../../blobs/{sha}"
    assert (repo_dir / "refs" / "main").read_text() == commit
    assert not list(repo_dir.glob("blobs/*.incomplete"))


def test_interop_both_ways_with_huggingface_hub(hub: FaultyHubServer, model: Path,
                                                registry: DefaultAppService) -> None:
    from huggingface_hub import hf_hub_download

    hub.add_repo("acme/a", {"a-Q8_0.gguf": model})
    hub.add_repo("acme/b", {"b-Q8_0.gguf": model})
    hub_service = registry.hub_service()
    ours = hub_service.download(Repo.parse("acme/a"), "a-Q8_0.gguf")
    found = hf_hub_download("acme/a", "a-Q8_0.gguf", local_files_only=True,
                            cache_dir=str(_hf_cache(registry)))
    assert Path(found) == ours.path

    theirs = hf_hub_download("acme/b", "b-Q8_0.gguf", endpoint=hub.endpoint,
                             cache_dir=str(_hf_cache(registry)))
    hub.clear_log()
    again = hub_service.download(Repo.parse("acme/b"), "b-Q8_0.gguf")
    assert again.path == Path(theirs)
    assert hub.log == [], "a file huggingface_hub downloaded is found without any request"


def test_connection_dropped_mid_body_resumes_with_range(hub: FaultyHubServer, model: Path,
                                                        registry: DefaultAppService) -> None:
    hub.add_repo("acme/drop", {"d.gguf": model})
    hub.drop_after(1 << 20, times=1, origin="cdn")
    notices: list[str] = []

    class Recorder:
        def start(self, filename: str, total: int, initial: int) -> None:
            pass

        def advance(self, done: int) -> None:
            pass

        def notice(self, text: str) -> None:
            notices.append(text)

        def finish(self) -> None:
            pass

    got = registry.hub_service().download(Repo.parse("acme/drop"), "d.gguf", progress=Recorder())
    assert got.path.read_bytes() == model.read_bytes()
    ranges = [r.headers.get("range") for r in hub.log if r.origin == "cdn"]
    assert ranges[0] is None and ranges[1] is not None and ranges[1].startswith("bytes=")
    assert int(ranges[1].removeprefix("bytes=").rstrip("-")) >= 1 << 20
    assert len(notices) == 1 and "resuming" in notices[0]


def test_sigkill_midway_then_pull_again_resumes(hub: FaultyHubServer, tmp_path: Path,
                                                registry: DefaultAppService,
                                                subprocess_env: dict[str, str]) -> None:
    big = tmp_path / "src" / "big-Q4_0.gguf"
    big.parent.mkdir(parents=True, exist_ok=True)
    make_gguf(big, size_bytes=12 << 20)
    hub.add_repo("acme/big", {"big-Q4_0.gguf": big})
    hub.throttle(2 << 20, origin="cdn")
    env = {**subprocess_env, "HF_ENDPOINT": hub.endpoint}
    bodhi = [sys.executable, "-m", "bodhi_nb.cli", "pull", "acme/big", "big-Q4_0.gguf"]
    child = subprocess.Popen(bodhi, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    blobs = _hf_cache(registry) / "models--acme--big" / "blobs"
    deadline = time.monotonic() + 60
    partial: list[Path] = []
    while time.monotonic() < deadline:
        partial = list(blobs.glob("*.incomplete")) if blobs.exists() else []
        if partial and partial[0].stat().st_size > 3 << 20:
            break
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert partial, "the child had started writing its partial file"
    on_disk = partial[0].stat().st_size
    assert 0 < on_disk < big.stat().st_size

    hub.throttle(None, origin="cdn")
    hub.clear_log()
    row = registry.download_service().pull(Repo.parse("acme/big"), "big-Q4_0.gguf")
    assert row.status is DownloadStatus.COMPLETED
    # (the killed child's own request may still be logged as its connection closes)
    gets = [r for r in hub.log if r.origin == "cdn" and r.method == "GET"
            and r.fault != "throttle"]
    assert [r.headers.get("range") for r in gets] == [f"bytes={on_disk}-"]
    assert gets[0].status == 206 and gets[0].bytes_sent == big.stat().st_size - on_disk
    final = registry.hub_service().find_local_file(Repo.parse("acme/big"), "big-Q4_0.gguf")
    assert hashlib.sha256(final.path.read_bytes()).hexdigest() == hashlib.sha256(
        big.read_bytes()).hexdigest()
    assert not list(blobs.glob("*.incomplete"))


def test_corrupt_partial_is_discarded_and_downloaded_again(
        hub: FaultyHubServer, model: Path, registry: DefaultAppService,
        capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    hub.add_repo("acme/c", {"c-Q4_K_M.gguf": model})
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    blobs = _hf_cache(registry) / "models--acme--c" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / f"{sha}.incomplete").write_bytes(b"\0" * (1 << 20))  # wrong bytes

    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "bodhi_nb")
        result = shell.run_line_magic("bodhi", "pull acme/c c-Q4_K_M.gguf")
    finally:
        InteractiveShell.clear_instance()
    assert result is not None and "downloaded" in result.to_text()
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if "did not match" in line] != []
    assert sum("did not match" in line for line in err.splitlines()) == 1
    assert (blobs / sha).read_bytes() == model.read_bytes()
    assert not (blobs / f"{sha}.incomplete").exists()


@pytest.mark.parametrize(("setup", "ref", "token", "error"), [
    ("gated", "acme/gated g.gguf", None, GatedNoTokenError),
    ("gated", "acme/gated g.gguf", GOOD_TOKEN, GatedAccessError),
    ("none", "acme/missing g.gguf", None, MayNotExistError),
    ("none", "acme/missing g.gguf", GOOD_TOKEN, RepoNotFoundError),
    ("plain", "acme/plain nope.gguf", None, RemoteFileNotFoundError),
    ("plain", "acme/plain g.gguf --revision v9", None, RevisionNotFoundError),
    ("plain", "acme/plain g.gguf", "hf_bad_token", InvalidTokenError),
])
def test_error_paths_have_distinct_codes_and_leave_the_cache_clean(
        hub: FaultyHubServer, model: Path, monkeypatch: pytest.MonkeyPatch, setup: str, ref: str,
        token: str | None, error: type[HubServiceError],
        capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main

    if setup == "gated":
        hub.add_repo("acme/gated", {"g.gguf": model}, gated=True)
    elif setup == "plain":
        hub.add_repo("acme/plain", {"g.gguf": model})
    if token:
        monkeypatch.setenv("HF_TOKEN", token)
    app = build_app_service(SettingService())
    with pytest.raises(error):
        parts = ref.split()
        revision = parts[parts.index("--revision") + 1] if "--revision" in parts else "main"
        app.hub_service().download(Repo.parse(parts[0]), parts[1], revision)
    assert _dirty(app) == []
    app.close()
    assert main(["pull", *ref.split()]) == 1
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith(f"error[{error.code}]: ")
    if error is GatedNoTokenError:
        assert "secret set HF_TOKEN" in line and hub.endpoint + "/acme/gated" in line


def test_network_down_is_a_transport_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    app = build_app_service(SettingService())
    with pytest.raises(TransportError):
        app.hub_service().download(Repo.parse("acme/x"), "x.gguf")
    assert _dirty(app) == []
    app.close()


@both_backends
def test_token_from_stored_secret_opens_a_gated_repo(hub: FaultyHubServer, model: Path,
                                                     registry: DefaultAppService) -> None:
    hub.add_repo("acme/gated2", {"g.gguf": model}, gated=True, allowed_tokens=[GOOD_TOKEN])
    registry.secret_service().store_secret("HF_TOKEN", GOOD_TOKEN)
    got = registry.hub_service().download(Repo.parse("acme/gated2"), "g.gguf")
    assert got.path.read_bytes() == model.read_bytes()
    assert any(r.authorization for r in hub.log if r.origin == "hub")
    assert not any(r.authorization for r in hub.log if r.origin == "cdn")


@both_backends
def test_quant_shorthand_alias_dry_run_and_hf_url(hub: FaultyHubServer, model: Path,
                                                  registry: DefaultAppService) -> None:
    from bodhi_nb.commands import Context, execute

    hub.add_repo("acme/multi", {"m-Q4_K_M.gguf": model, "m-Q8_0.gguf": model,
                                "README.md": "x"})
    ctx = Context(prog="bodhi")

    def run(line: str) -> object:
        return execute(line.split(), ctx, lambda: registry)

    listing = run("pull acme/multi")
    assert "m-Q4_K_M.gguf" in str(listing) and "Q8_0" in str(listing)
    dry = run("pull acme/multi:q4_k_m --dry-run")
    assert "would download" in str(dry) and "3.0 MiB" in str(dry)
    assert not registry.hub_service().local_file_exists(Repo.parse("acme/multi"),
                                                        "m-Q4_K_M.gguf")
    done = run("pull acme/multi:Q4_K_M --alias tiny")
    assert "downloaded" in str(done)
    alias = registry.data_service().get_alias("tiny")
    assert (alias.repo, alias.filename) == ("acme/multi", "m-Q4_K_M.gguf")
    again = run("pull hf://acme/multi/m-Q4_K_M.gguf")
    assert "already in the cache" in str(again)
    data = run("downloads --json").to_json()  # type: ignore[attr-defined]
    assert [d["status"] for d in data] == ["completed"]


@both_backends
def test_background_pull_and_downloads_listing(hub: FaultyHubServer, model: Path,
                                               registry: DefaultAppService) -> None:
    from bodhi_nb.commands import Context, execute

    hub.add_repo("acme/bg", {"bg-Q4_0.gguf": model})
    ctx = Context(prog="%bodhi")
    started = execute(["pull", "acme/bg", "bg-Q4_0.gguf", "--background", "--json"], ctx,
                      lambda: registry).to_json()  # type: ignore[attr-defined]
    request_id = started["files"][0]["id"]
    row = registry.download_service().wait(request_id, timeout=60)
    assert row.status is DownloadStatus.COMPLETED
    listing = execute(["downloads"], ctx, lambda: registry).to_text()
    assert request_id[-8:] in listing and "completed" in listing and "100%" in listing


@both_backends
def test_failed_download_retry_and_archive_rules(hub: FaultyHubServer, model: Path,
                                                 registry: DefaultAppService) -> None:
    from bodhi_nb.errors import DownloadNotFailedError, DownloadNotFoundError

    service = registry.download_service()
    with pytest.raises(MayNotExistError):
        service.pull(Repo.parse("acme/later"), "l.gguf")
    failed = service.list()[0]
    assert failed.status is DownloadStatus.ERROR
    assert json.loads(failed.error or "{}")["code"] == "hub_service_error-may_not_exist"
    hub.add_repo("acme/later", {"l.gguf": model})
    retried = service.retry(failed.id)
    assert retried.status is DownloadStatus.COMPLETED
    with pytest.raises(DownloadNotFailedError):
        service.retry(failed.id)
    archived = service.archive(failed.id)
    assert archived.archived_at is not None and service.list() == []
    with pytest.raises(DownloadNotFoundError):
        service.archive("nope")


def test_rm_with_confirmation_and_partials(hub: FaultyHubServer, model: Path,
                                           registry: DefaultAppService) -> None:
    from bodhi_nb.commands import Context, execute
    from bodhi_nb.errors import BadArgumentsError

    hub.add_repo("acme/rm", {"r-Q4_K_M.gguf": model, "r-Q8_0.gguf": model})
    hub_service = registry.hub_service()
    for name in ("r-Q4_K_M.gguf", "r-Q8_0.gguf"):
        hub_service.download(Repo.parse("acme/rm"), name)
    blobs = _hf_cache(registry) / "models--acme--rm" / "blobs"
    (blobs / "deadbeef.incomplete").write_bytes(b"x")

    asked: list[str] = []
    no = Context(prog="bodhi", confirm=lambda q: asked.append(q) or False)
    assert str(execute(["rm", "acme/rm:Q8_0"], no, lambda: registry)) == "nothing removed"
    assert "r-Q8_0.gguf" in asked[0] and "3.0 MiB" in asked[0]
    with pytest.raises(BadArgumentsError):
        execute(["rm", "acme/rm:Q8_0"], Context(prog="bodhi"), lambda: registry)
    # both quants share one blob (same bytes): removing one keeps the blob for the other
    execute(["rm", "acme/rm:Q8_0", "-y"], no, lambda: registry)
    assert not hub_service.local_file_exists(Repo.parse("acme/rm"), "r-Q8_0.gguf")
    assert hub_service.local_file_exists(Repo.parse("acme/rm"), "r-Q4_K_M.gguf")
    out = str(execute(["rm", "acme/rm/r-Q4_K_M.gguf", "-y"], no, lambda: registry))
    assert "freed 3.0 MiB" in out
    assert str(execute(["rm", "--partials"], no, lambda: registry)).count(".incomplete") == 1
    assert [p.name for p in blobs.iterdir()] == []


_PART = st.from_regex(r"[A-Za-z0-9_.-]{1,12}", fullmatch=True).filter(
    lambda s: s not in (".", ".."))
# What the Hub accepts as each half of a repo id (no "..", no "--", no leading/trailing . -).
_REPO_PART = st.from_regex(r"[A-Za-z0-9_]([A-Za-z0-9_.-]{0,10}[A-Za-z0-9_])?",
                           fullmatch=True).filter(lambda s: ".." not in s and "--" not in s)


@given(owner=_REPO_PART, name=_REPO_PART, file=st.lists(_PART, min_size=1, max_size=3))
def test_reference_parser_round_trips(owner: str, name: str, file: list[str]) -> None:
    path = "/".join(file)
    by_url = ModelRef.parse(f"hf://{owner}/{name}/{path}")
    by_pair = ModelRef.parse(f"{owner}/{name}", path)
    by_path = ModelRef.parse(f"{owner}/{name}/{path}")
    assert by_url == by_pair == by_path
    assert by_url.repo.id == f"{owner}/{name}" and by_url.filename == path
    quant = ModelRef.parse(f"{owner}/{name}:{file[0]}")
    assert quant.quant == file[0] and quant.filename is None


@given(st.text(max_size=40))
def test_reference_parser_never_accepts_escaping_paths(text: str) -> None:
    try:
        ref = ModelRef.parse(text)
    except (InvalidReferenceError, HubServiceError):
        return
    except Exception as exc:  # pragma: no cover - the property's failure message
        raise AssertionError(f"unexpected {type(exc).__name__} for {text!r}") from exc
    if ref.filename is not None:
        parts = ref.filename.split("/")
        assert ".." not in parts and "" not in parts and not ref.filename.startswith("/")


# -- issue 8 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "acme/..", "../x", "acme/a..b", "acme/x\n", "acme\n/x", "acme/x--y", "acme/.hidden",
    "acme/x.", "-acme/x", "acme/" + "x" * 97, "acme/x/y", "acme/", "/x", "acme/x y",
    "acme/\x1b[31mx",
])
def test_repo_ids_the_hub_refuses_are_refused(value: str) -> None:
    from bodhi_nb.errors import InvalidRepoError

    with pytest.raises(InvalidRepoError) as excinfo:
        Repo.parse(value)
    shown = excinfo.value.params["value"]
    assert "\n" not in shown and "\x1b" not in shown


@pytest.mark.parametrize("value", ["TheBloke/Llama-2-7B-GGUF", "a/b", "user_1/model.v2",
                                   "Qwen/Qwen2.5-0.5B-Instruct-GGUF", "acme/" + "x" * 96])
def test_repo_ids_the_hub_accepts_are_accepted(value: str) -> None:
    assert Repo.parse(value).id == value


def _run(app: DefaultAppService, line: str) -> object:
    from bodhi_nb.commands import Context, execute

    return execute(line.split(), Context(prog="bodhi"), lambda: app)


def test_truncated_file_in_the_cache_is_caught_and_force_downloads_it_again(
        hub: FaultyHubServer, model: Path, registry: DefaultAppService) -> None:
    from bodhi_nb.commands import render_error
    from bodhi_nb.errors import BodhiError

    hub.add_repo("acme/trunc", {"t-Q4_0.gguf": model})
    assert "downloaded" in str(_run(registry, "pull acme/trunc t-Q4_0.gguf"))
    local = registry.hub_service().find_local_file(Repo.parse("acme/trunc"), "t-Q4_0.gguf")
    with open(local.path, "r+b") as fh:  # a copy cut short (a full disk, a copy by hand)
        fh.truncate(4096)
    with pytest.raises(BodhiError) as excinfo:
        _run(registry, "pull acme/trunc t-Q4_0.gguf")
    assert excinfo.value.code == "hub_service_error-cached_file_truncated"
    line = render_error(excinfo.value, prog="bodhi", app_factory=lambda: registry)
    assert "bodhi pull acme/trunc t-Q4_0.gguf --force" in line and "4096" in line
    dry = str(_run(registry, "pull acme/trunc t-Q4_0.gguf --dry-run"))
    assert "truncated" in dry and "--force" in dry
    done = str(_run(registry, "pull acme/trunc t-Q4_0.gguf --force"))
    assert "downloaded" in done
    assert local.path.read_bytes() == model.read_bytes()
    assert "already in the cache" in str(_run(registry, "pull acme/trunc t-Q4_0.gguf"))


def test_rm_removes_a_non_gguf_file_that_pull_fetched(hub: FaultyHubServer, model: Path,
                                                     registry: DefaultAppService) -> None:
    hub.add_repo("acme/cfg", {"c-Q4_0.gguf": model, "config.json": '{"a": 1}'})
    _run(registry, "pull acme/cfg config.json")
    hub_service = registry.hub_service()
    assert hub_service.local_file_exists(Repo.parse("acme/cfg"), "config.json")
    out = str(_run(registry, "rm acme/cfg/config.json -y"))
    assert "config.json" in out and "freed 8 B" in out
    assert not hub_service.local_file_exists(Repo.parse("acme/cfg"), "config.json")
    blobs = _hf_cache(registry) / "models--acme--cfg" / "blobs"
    assert list(blobs.iterdir()) == []


def test_remote_file_exists_says_yes_no_or_cannot_tell(hub: FaultyHubServer, model: Path,
                                                      registry: DefaultAppService) -> None:
    hub.add_repo("acme/there", {"t.gguf": model})
    hub.add_repo("acme/gated3", {"g.gguf": model}, gated=True)
    service = registry.hub_service()
    assert service.remote_file_exists(Repo.parse("acme/there"), "t.gguf") is True
    assert service.remote_file_exists(Repo.parse("acme/there"), "nope.gguf") is False
    assert service.remote_file_exists(Repo.parse("acme/there"), "t.gguf", "v9") is False
    # anonymous "not found" may be a private repository: cannot tell
    assert service.remote_file_exists(Repo.parse("acme/nobody"), "t.gguf") is None
    assert service.remote_file_exists(Repo.parse("acme/gated3"), "g.gguf") is None
    service.endpoint = "http://127.0.0.1:9"
    assert service.remote_file_exists(Repo.parse("acme/there"), "t.gguf") is None


@contextmanager
def _tmpfs(path: Path, options: str) -> Iterator[bool]:
    """A small tmpfs at ``path`` when we may mount one (root); yields whether it is there."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


FSIZE_LIMIT = 24 << 20  # above what the database of a fresh BODHI_HOME needs


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("how", ["tmpfs", "rlimit"])
def test_disk_full_is_reported_at_once_with_the_partial_and_the_fix(
        hub: FaultyHubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        subprocess_env: dict[str, str], how: str) -> None:
    big = tmp_path / "src" / "big-Q4_0.gguf"
    big.parent.mkdir(parents=True, exist_ok=True)
    make_gguf(big, size_bytes=FSIZE_LIMIT + (8 << 20))
    hub.add_repo("acme/full", {"big-Q4_0.gguf": big})
    hf_home = tmp_path / "small_disk"
    env = {**subprocess_env, "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(hf_home),
           "COLUMNS": "400"}
    command = [sys.executable, "-m", "bodhi_nb.cli", "pull", "acme/full", "big-Q4_0.gguf"]

    def pull(limit: Callable[[], None] | None = None) -> tuple[Any, int]:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                              preexec_fn=limit)
        partials = list(hf_home.glob("hub/models--acme--full/blobs/*.incomplete"))
        return done, (partials[0].stat().st_size if partials else -1)

    if how == "tmpfs":
        with _tmpfs(hf_home, "size=2m") as mounted:
            if not mounted:
                pytest.skip("mounting a tmpfs needs root; the rlimit case covers a full disk")
            done, partial_size = pull()
    else:  # a file-size limit: write() fails with EFBIG, the same "no space" for a pull
        done, partial_size = pull(_limit_file_size(FSIZE_LIMIT))
    assert done.returncode == 1, done.stderr
    [line] = [t for t in done.stderr.splitlines() if t.startswith("error[")] or [done.stderr]
    assert line.startswith("error[hub_service_error-no_space]: No space left on "), line
    assert "rm --partials" in line and str(hf_home / "hub") in line
    assert partial_size > 0 and f"{partial_size / (1 << 20):.1f} MiB" in line
    gets = [r for r in hub.log if r.origin == "cdn" and r.method == "GET"]
    assert len(gets) == 1, "a full disk is not a dropped connection: no retry"


def test_read_only_hf_home_is_a_coded_error_naming_the_path(
        hub: FaultyHubServer, model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main

    hub.add_repo("acme/ro", {"ro-Q4_0.gguf": model})
    hf_home = tmp_path / "ro_home"
    with _tmpfs(hf_home, "size=1m,ro") as mounted:
        if not mounted:
            if os.geteuid() == 0:
                pytest.skip("cannot mount a read-only tmpfs; root ignores file modes")
            hf_home.chmod(0o555)
        monkeypatch.setenv("HF_HOME", str(hf_home))
        try:
            assert main(["pull", "acme/ro", "ro-Q4_0.gguf"]) == 1
        finally:
            hf_home.chmod(0o755) if not mounted else None
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error[hub_service_error-cannot_write]: "), err
    assert str(hf_home) in line and "HF_HOME" in line and "Unexpected" not in err


def test_rm_on_a_read_only_cache_is_a_coded_error(hub: FaultyHubServer, model: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from bodhi_nb.errors import BodhiError

    hub.add_repo("acme/rorm", {"r-Q4_0.gguf": model})
    hf_home = tmp_path / "rorm_home"
    with _tmpfs(hf_home, "size=16m") as mounted:
        if not mounted:
            pytest.skip("needs a tmpfs to remount read-only (root)")
        monkeypatch.setenv("HF_HOME", str(hf_home))
        app = build_app_service(SettingService())
        try:
            _run(app, "pull acme/rorm r-Q4_0.gguf")
            blobs = hf_home / "hub" / "models--acme--rorm" / "blobs"
            (blobs / ("e" * 64 + ".incomplete")).write_bytes(b"x")
            subprocess.run(["mount", "-o", "remount,ro", str(hf_home)], check=True)
            for line in ("rm acme/rorm/r-Q4_0.gguf -y", "rm --partials"):
                with pytest.raises(BodhiError) as excinfo:
                    _run(app, line)
                assert excinfo.value.code == "hub_service_error-cannot_write", line
                assert str(hf_home) in excinfo.value.params["path"]
        finally:
            app.close()


def test_a_blob_of_the_wrong_size_is_fetched_again_not_linked(
        hub: FaultyHubServer, model: Path, registry: DefaultAppService) -> None:
    hub.add_repo("acme/short", {"s-Q4_0.gguf": model})
    sha = hashlib.sha256(model.read_bytes()).hexdigest()
    blobs = _hf_cache(registry) / "models--acme--short" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / sha).write_bytes(model.read_bytes()[:1000])  # a copy cut short, by name only
    got = registry.hub_service().download(Repo.parse("acme/short"), "s-Q4_0.gguf")
    assert got.path.read_bytes() == model.read_bytes()
    assert [r.method for r in hub.log if r.origin == "cdn"] == ["GET"]
