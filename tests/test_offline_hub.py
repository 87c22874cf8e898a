"""The offline Hub as a product command: ``bodhi hub serve`` + ``bodhi pull`` in subprocesses,
``%bodhi hub serve`` in the background of a kernel, and the demo's explicit activation."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bodhi_nb.testing.gguf_files import make_gguf

BODHI = shutil.which("bodhi", path=str(Path(sys.executable).parent))
REPO = "acme/tiny-GGUF"
FILE = "tiny-Q4_K_M.gguf"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder laid out as the offline Hub serves it: OWNER/NAME/files, one real GGUF."""
    root = tmp_path / "classroom"
    make_gguf(root / "acme" / "tiny-GGUF" / FILE, size_bytes=64 * 1024)
    (root / "acme" / "tiny-GGUF" / "README.md").write_text("# tiny\n")
    return root


def _bodhi(*args: str) -> list[str]:
    assert BODHI, "the bodhi console script is installed with the package"
    return [BODHI, *args]


@pytest.fixture
def served(folder: Path, subprocess_env: dict[str, str]) -> Iterator[tuple[
        subprocess.Popen[str], str, list[str]]]:
    """``bodhi hub serve DIR --port P`` running in a subprocess: (process, endpoint, the
    lines it printed up to "Serving until Ctrl-C.")."""
    port = _free_port()
    proc = subprocess.Popen(_bodhi("hub", "serve", str(folder), "--port", str(port)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=subprocess_env)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "Serving until Ctrl-C.":
            line = proc.stdout.readline()
            assert line, f"the server ended early: {proc.communicate(timeout=30)}"
            lines.append(line.rstrip("\n"))
        endpoint = f"http://127.0.0.1:{port}"
        yield proc, endpoint, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_bodhi_hub_serve_then_bodhi_pull_in_another_process(
        served: tuple[subprocess.Popen[str], str, list[str]], folder: Path, tmp_path: Path,
        subprocess_env: dict[str, str]) -> None:
    proc, endpoint, lines = served
    assert lines[0] == f"Offline Hub serving {folder} (1 repository) at {endpoint}"
    assert f"`HF_ENDPOINT={endpoint}`" in lines[1]
    # The server answers as the Hub does before anyone is told to use it.
    assert httpx.get(f"{endpoint}/api/models/{REPO}").json()["id"] == REPO

    student = dict(subprocess_env, HF_ENDPOINT=endpoint,
                   BODHI_HOME=str(tmp_path / "student_home"),
                   HF_HOME=str(tmp_path / "student_hf"))
    pulled = subprocess.run(_bodhi("pull", REPO, FILE), capture_output=True, text=True,
                            env=student, timeout=120)
    assert pulled.returncode == 0, pulled.stderr
    snapshots = tmp_path / "student_hf" / "hub" / "models--acme--tiny-GGUF" / "snapshots"
    (landed,) = snapshots.glob(f"*/{FILE}")
    original = (folder / "acme" / "tiny-GGUF" / FILE).read_bytes()
    assert hashlib.sha256(landed.read_bytes()).digest() == hashlib.sha256(original).digest()
    assert proc.poll() is None, "the server still runs after serving a pull"


def test_ctrl_c_and_sigterm_stop_the_server_cleanly(
        served: tuple[subprocess.Popen[str], str, list[str]]) -> None:
    proc, endpoint, _ = served
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == f"Stopped the offline Hub at {endpoint}."
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{endpoint}/api/models")


def test_sigterm_stops_the_server_too(folder: Path, subprocess_env: dict[str, str]) -> None:
    proc = subprocess.Popen(_bodhi("hub", "serve", str(folder)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"at (http://127\.0\.0\.1:\d+)$", first.strip())
    assert match, first
    while proc.stdout.readline().strip() != "Serving until Ctrl-C.":
        pass
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == f"Stopped the offline Hub at {match.group(1)}."


def test_a_port_in_use_and_a_file_for_a_folder_are_coded_one_line_errors(
        folder: Path, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run(_bodhi("hub", "serve", str(folder), "--port", str(port)),
                              capture_output=True, text=True, env=subprocess_env, timeout=60)
    assert busy.returncode == 1
    assert busy.stdout == ""
    assert busy.stderr.startswith("error[offline_hub_error-port_in_use]: Port "
                                  f"{port} on 127.0.0.1 is already in use")
    assert busy.stderr.count("\n") == 1

    a_file = tmp_path / "weights.gguf"
    a_file.write_bytes(b"GGUF")
    french = dict(subprocess_env, BODHI_LOCALE="fr-FR")
    wrong = subprocess.run(_bodhi("hub", "serve", str(a_file)), capture_output=True,
                           text=True, env=french, timeout=60)
    assert wrong.returncode == 1
    assert wrong.stderr == (f"error[offline_hub_error-root_not_a_folder]: {a_file} n'est pas "
                            "un dossier. Servez un dossier organisé en PROPRIÉTAIRE/NOM/fichiers"
                            " : `bodhi hub serve DOSSIER`.\n")


# -- in the kernel ------------------------------------------------------------------------------


def test_magic_serves_in_the_background_until_stopped(
        shell: InteractiveShell, folder: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from huggingface_hub import hf_hub_download

    result = shell.run_line_magic("bodhi", f"hub serve {folder}")
    endpoint = result.to_json()["endpoint"]
    try:
        assert result.to_text().splitlines()[0] == (
            f"Offline Hub serving {folder} (1 repository) at {endpoint}")
        assert "`%bodhi hub stop` stops it" in result.to_text()
        # The magic returned; the kernel's Hub serves a real huggingface_hub client.
        path = hf_hub_download(REPO, FILE, endpoint=endpoint, token=False,
                               cache_dir=tmp_path / "cache")
        assert Path(path).read_bytes() == (folder / "acme" / "tiny-GGUF" / FILE).read_bytes()

        assert shell.run_line_magic("bodhi", f"hub serve {folder}") is None
        error = capsys.readouterr().err
        assert error.startswith("error[offline_hub_error-already_serving]: An offline Hub "
                                f"already runs here, serving {folder} at {endpoint}.")
        assert "`%bodhi hub stop`" in error
    finally:
        stopped = shell.run_line_magic("bodhi", "hub serve --stop")
    assert stopped.to_text() == f"Stopped the offline Hub at {endpoint}."
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{endpoint}/api/models")
    assert shell.run_line_magic("bodhi", "hub stop").to_text() == "No offline Hub was running."
    # Stopped, a new one may start (on another port).
    again = shell.run_line_magic("bodhi", f"hub serve {folder}")
    try:
        assert httpx.get(f"{again.to_json()['endpoint']}/api/models").status_code == 200
    finally:
        shell.run_line_magic("bodhi", "hub stop")


def test_an_empty_folder_is_served_and_says_how_to_fill_it(
        shell: InteractiveShell, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = shell.run_line_magic("bodhi", f"hub serve {empty} --host 127.0.0.1")
    try:
        assert "(0 repositories)" in result.to_text()
        assert f"{empty} holds no repositories yet" in result.to_text()
        assert result.to_json()["repos"] == []
    finally:
        shell.run_line_magic("bodhi", "hub stop")


# -- the demo's source ---------------------------------------------------------------------------


def test_demo_activate_sets_the_endpoint_for_this_registry_only(isolated_env: Path) -> None:
    from bodhi_nb.app import app
    from bodhi_nb.offline_hub.demo import DEMO_FILE, DEMO_REPO, DemoSource

    registry = app()
    hub_service = registry.hub_service()  # built before: it must follow the change
    demo = DemoSource(DEMO_REPO, DEMO_FILE, "http://127.0.0.1:9", True)
    assert demo.activate() is demo
    setting = registry.setting_service().setting("HF_ENDPOINT")
    assert (setting.value, setting.source.value) == ("http://127.0.0.1:9", "override")
    assert hub_service.endpoint == "http://127.0.0.1:9"
    assert "HF_ENDPOINT" not in os.environ
    assert not (isolated_env / "settings.yaml").exists()
    assert "127.0.0.1:9" not in repr(demo), "a random port would change the notebook's output"
