"""A hub that lies: traversal commits, path etags, unverifiable files, escape sequences, HTML.

No real hub tells these lies, so a small hostile server below tells them: every answer comes
from a table the test fills (status, headers, body per path). The cache must stay untouched
and every failure must be one coded error whose arguments hold no credentials and no
control characters.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.errors import BodhiError
from bodhi_nb.objs import Repo
from bodhi_nb.services.settings import SettingService

BODY = b"hello from a hostile hub\n" * 40
SHA256 = hashlib.sha256(BODY).hexdigest()
GIT_SHA1 = hashlib.sha1(f"blob {len(BODY)}\0".encode() + BODY).hexdigest()
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ESC = "\x1b"


class Hostile:
    """Answers each path from ``routes``: path -> (status, headers, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[tuple[str, str]] = []
        hostile = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                path = self.path.split("?", 1)[0]
                hostile.requests.append((self.command, path))
                status, headers, body = hostile.routes.get(path, (404, {}, b"{}"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", headers.get("Content-Length",
                                                                str(len(body))))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def resolve(self, repo: str, filename: str, headers: dict[str, str], body: bytes = BODY,
                status: int = 200) -> None:
        self.routes[f"/{repo}/resolve/main/{filename}"] = (status, headers, body)

    def __enter__(self) -> Hostile:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    with Hostile() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server


@pytest.fixture
def app(hostile: Hostile) -> Iterator[DefaultAppService]:
    registry = build_app_service(SettingService())
    yield registry
    registry.close()


def _written(tmp_path: Path) -> list[str]:
    """Every file or link under the test's folder but bodhi's own home and the lock files."""
    out = []
    for path in sorted(tmp_path.rglob("*")):
        rel = path.relative_to(tmp_path)
        if rel.parts[0] in ("bodhi_home", "xdg_config") or ".locks" in rel.parts:
            continue
        if path.is_symlink() or path.is_file():
            out.append(rel.as_posix())
    return out


def _code(excinfo: pytest.ExceptionInfo[BodhiError]) -> str:
    return excinfo.value.code


def _no_control(error: BodhiError) -> None:
    for value in error.params.values():
        assert ESC not in value and "\n" not in value, error.params


# -- item 1: traversal commits and path etags write nothing ---------------------------------


@pytest.mark.parametrize("commit", ["../../../../X", "../../escape", "main", "0" * 39,
                                    "0123456789ABCDEF0123456789ABCDEF01234567", f"{COMMIT}0"])
def test_a_commit_that_is_not_40_hex_is_refused_and_nothing_is_written(
        hostile: Hostile, app: DefaultAppService, tmp_path: Path, commit: str) -> None:
    hostile.resolve("acme/evil", "m.gguf", {"X-Repo-Commit": commit, "ETag": f'"{SHA256}"'})
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/evil"), "m.gguf")
    assert _code(excinfo) == "hub_service_error-bad_metadata"
    _no_control(excinfo.value)
    assert _written(tmp_path) == []
    assert not (tmp_path / "X").exists() and not (tmp_path / "hf_home" / "X").exists()


@pytest.mark.parametrize("etag", ["/etc/hostname", "../../../../etc/hostname", "not-hex",
                                  "W/\"abc\"", SHA256[:63], SHA256.upper(), f"{SHA256}/x", ""])
def test_an_etag_that_is_not_a_digest_is_refused_and_nothing_is_written(
        hostile: Hostile, app: DefaultAppService, tmp_path: Path, etag: str) -> None:
    hostile.resolve("acme/evil", "m.gguf", {"X-Repo-Commit": COMMIT, "ETag": f'"{etag}"'})
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/evil"), "m.gguf")
    assert _code(excinfo) in ("hub_service_error-bad_metadata",
                              "hub_service_error-bad_response")  # "" is simply missing
    _no_control(excinfo.value)
    assert _written(tmp_path) == []
    assert not Path("/etc/hostname").is_symlink()


def test_an_etag_with_escape_sequences_is_refused_without_echoing_them(
        hostile: Hostile, app: DefaultAppService, tmp_path: Path) -> None:
    hostile.resolve("acme/evil", "m.gguf", {"X-Repo-Commit": COMMIT,
                                            "ETag": f'"{ESC}[2J{ESC}]0;pwned{chr(7)}"'})
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/evil"), "m.gguf")
    assert _code(excinfo) == "hub_service_error-bad_metadata"
    _no_control(excinfo.value)
    assert _written(tmp_path) == []


# -- item 2: never publish on trust ---------------------------------------------------------


def test_an_lfs_file_without_a_sha256_is_refused(hostile: Hostile, app: DefaultAppService,
                                                 tmp_path: Path) -> None:
    # An LFS answer (X-Linked-Etag, a redirect) whose etag is a git SHA-1: what would it check?
    hostile.routes["/cdn/m.gguf"] = (200, {}, BODY)
    hostile.resolve("acme/lfs", "m.gguf", {
        "X-Repo-Commit": COMMIT, "X-Linked-Etag": f'"{GIT_SHA1}"', "ETag": f'"{GIT_SHA1}"',
        "X-Linked-Size": str(len(BODY)), "Location": f"{hostile.endpoint}/cdn/m.gguf"},
        body=b"", status=302)
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/lfs"), "m.gguf")
    assert _code(excinfo) == "hub_service_error-unverifiable_file"
    assert _written(tmp_path) == []
    assert ("GET", "/cdn/m.gguf") not in hostile.requests


def test_a_small_file_is_checked_against_its_git_blob_sha1(
        hostile: Hostile, app: DefaultAppService, tmp_path: Path) -> None:
    hostile.resolve("acme/small", "README.md", {"X-Repo-Commit": COMMIT,
                                                "ETag": f'"{GIT_SHA1}"'})
    got = app.hub_service().download(Repo.parse("acme/small"), "README.md")
    assert got.path.read_bytes() == BODY
    hostile.resolve("acme/lie", "README.md", {"X-Repo-Commit": COMMIT,
                                              "ETag": f'"{"f" * 40}"'})
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/lie"), "README.md")
    assert _code(excinfo) == "hub_service_error-checksum_mismatch"
    assert not (tmp_path / "hf_home" / "hub" / "models--acme--lie" / "blobs" / ("f" * 40)
                ).exists()


@pytest.mark.parametrize("location", ["file:///etc/hostname", "http://127.0.0.1:99999/x",
                                      "ftp://127.0.0.1/x", "http://127.0.0.1:1/a b"])
def test_a_redirect_to_a_location_that_cannot_be_fetched_is_refused(
        hostile: Hostile, app: DefaultAppService, tmp_path: Path, location: str) -> None:
    hostile.resolve("acme/lfs", "m.gguf", {
        "X-Repo-Commit": COMMIT, "X-Linked-Etag": f'"{SHA256}"', "ETag": f'"{SHA256}"',
        "X-Linked-Size": str(len(BODY)), "Location": location},
        body=b"", status=302)
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/lfs"), "m.gguf")
    assert _code(excinfo) == "hub_service_error-bad_metadata"
    assert _written(tmp_path) == []


def test_a_size_that_is_not_a_plain_number_is_refused(hostile: Hostile,
                                                      app: DefaultAppService) -> None:
    hostile.resolve("acme/size", "README.md", {"X-Repo-Commit": COMMIT, "X-Linked-Size": "²",
                                               "ETag": f'"{GIT_SHA1}"'})
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/size"), "README.md")
    assert _code(excinfo) in ("hub_service_error-bad_metadata",
                              "hub_service_error-bad_response")


# -- item 8: server strings are stripped before they are printed ----------------------------


def test_listing_with_escape_sequences_prints_none(hostile: Hostile,
                                                   app: DefaultAppService) -> None:
    from bodhi_nb.commands import Context, execute

    siblings = [{"rfilename": f"{ESC}[31mred{ESC}[0m-Q4_0.gguf", "size": 10},
                {"rfilename": f"title{ESC}]0;pwned{chr(7)}-Q8_0.gguf", "size": 20},
                {"rfilename": "plain-Q5_K_M.gguf", "size": "12 GB\x1b[2J"}]
    hostile.routes["/api/models/acme/esc/revision/main"] = (
        200, {"Content-Type": "application/json"}, json.dumps({"siblings": siblings}).encode())
    result = execute(["pull", "acme/esc"], Context(prog="bodhi"), lambda: app)
    text = result.to_text()
    assert ESC not in text and chr(7) not in text
    assert "red-Q4_0.gguf" in text and "plain-Q5_K_M.gguf" in text
    dumped = json.dumps(result.to_json())  # type: ignore[attr-defined]
    assert "\\u001b" not in dumped and "\\u0007" not in dumped


def test_error_headers_with_escape_sequences_are_not_echoed(hostile: Hostile,
                                                            app: DefaultAppService) -> None:
    hostile.resolve("acme/rl", "m.gguf", {"Retry-After": f"{ESC}[2J5", "X-Error-Message":
                                          f"{ESC}]0;pwned{chr(7)}"}, body=b"{}", status=429)
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().download(Repo.parse("acme/rl"), "m.gguf")
    assert _code(excinfo) == "hub_service_error-rate_limited"
    _no_control(excinfo.value)


# -- item 14: a hub answering HTML, broken JSON, or an endpoint that is no URL --------------


@pytest.mark.parametrize(("content_type", "body", "reason"), [
    ("text/html", b"<!doctype html><html><body>captive portal</body></html>", "HTML"),
    ("application/json", b'{"siblings": [', "JSON"),
    ("application/json", b'["not", "a", "model"]', "JSON"),
    ("application/json", b'{"siblings": [{"size": 3}]}', "JSON"),
])
def test_html_or_malformed_json_is_a_coded_error_with_the_url(
        hostile: Hostile, app: DefaultAppService, content_type: str, body: bytes,
        reason: str) -> None:
    hostile.routes["/api/models/acme/html/revision/main"] = (
        200, {"Content-Type": content_type}, body)
    with pytest.raises(BodhiError) as excinfo:
        app.hub_service().list_repo_files(Repo.parse("acme/html"))
    assert _code(excinfo) == "hub_service_error-bad_response"
    assert excinfo.value.params["url"].startswith(hostile.endpoint + "/api/models/acme/html")
    assert reason in excinfo.value.params["reason"]


@pytest.mark.parametrize("endpoint", ["not a url", "http://[bad", "ftp://example.com",
                                      "http://", "127.0.0.1:8080"])
def test_a_malformed_endpoint_is_a_coded_error_at_request_time(
        monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    from bodhi_nb.services.hf_cache import HfCache
    from bodhi_nb.services.hub import HubService
    from bodhi_nb.services.time import DefaultTimeService

    hub = HubService(HfCache(Path("/nonexistent-cache")), DefaultTimeService(), endpoint=endpoint)
    for call in (lambda: hub.download(Repo.parse("acme/x"), "x.gguf"),
                 lambda: hub.list_repo_files(Repo.parse("acme/x"))):
        with pytest.raises(BodhiError) as excinfo:
            call()
        assert _code(excinfo) == "hub_service_error-invalid_endpoint"
    hub.close()


def test_a_malformed_endpoint_through_the_cli_names_the_fix(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main

    monkeypatch.setenv("HF_ENDPOINT", "http://u:hunter2@[bad")
    assert main(["pull", "acme/x", "x.gguf"]) == 1
    err = capsys.readouterr().err
    # The setting is checked when it is read, before the hub service would refuse it.
    assert err.startswith("error[setting_service_error-invalid_value]") and "Unexpected" not in err
    assert "hunter2" not in err and "settings HF_ENDPOINT" in err


# -- item 8: credentials inside HF_ENDPOINT never reach errors, rows or output ---------------


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_credentials_in_the_endpoint_stay_out_of_errors_rows_and_output(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.cli import main
    from bodhi_nb.testing.hub_faults import FaultyHubServer

    secret = "s3cr3t-pw-do-not-show"
    with FaultyHubServer(tmp_path / "root") as hub:
        hub.add_repo("acme/gated", {"g.gguf": b"x" * 100}, gated=True)
        hub.add_repo("acme/html", {"h.gguf": b"x" * 100})
        endpoint = hub.endpoint.replace("http://", f"http://user:{secret}@")
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        app = build_app_service(SettingService())
        try:
            seen: list[str] = []
            for repo, name in (("acme/gated", "g.gguf"), ("acme/missing", "m.gguf")):
                with pytest.raises(BodhiError) as excinfo:
                    app.download_service().pull(Repo.parse(repo), name)
                seen.append(str(excinfo.value))
            hub.fail_next(500, times=None)
            with pytest.raises(BodhiError) as excinfo:
                app.download_service().pull(Repo.parse("acme/html"), "h.gguf")
            seen.append(str(excinfo.value))
            hub.clear_faults()
            hub.fail_next(503, times=None)
            with pytest.raises(BodhiError) as excinfo:
                app.hub_service().list_repo_files(Repo.parse("acme/html"))
            seen.append(str(excinfo.value))
            hub.clear_faults()
            rows = [row.error or "" for row in app.download_service().list()]
        finally:
            app.close()
        assert len(rows) == 3 and all(rows)
        assert all(secret not in text for text in seen + rows), seen + rows
        assert any("***@" in text for text in seen)
        assert main(["pull", "acme/gated", "g.gguf"]) == 1
        assert main(["downloads"]) == 0
    monkeypatch.setenv("HF_ENDPOINT", f"http://user:{secret}@127.0.0.1:{_dead_port()}")
    app = build_app_service(SettingService())
    app.hub_service().retries = 0
    try:
        with pytest.raises(BodhiError) as excinfo:
            app.hub_service().download(Repo.parse("acme/x"), "x.gguf")
    finally:
        app.close()
    assert excinfo.value.code == "hub_service_error-transport"
    assert secret not in str(excinfo.value)
    out = capsys.readouterr()
    assert secret not in out.out + out.err
