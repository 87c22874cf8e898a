"""Shared fixtures: every test runs with its own BODHI_HOME, HF_HOME and Jupyter dirs."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# huggingface_hub reads these once, at import, and a test module may import it before any
# fixture runs: set them now so no test can write to ~/.cache or call the real Hub.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="bodhi-tests-hf-")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_OFFLINE"] = "0"
os.environ.pop("HF_TOKEN", None)

import uuid

import pytest

from bodhi_nb.app import build_app_service, reset_apps
from bodhi_nb.services.settings import SettingService
from bodhi_nb.testing.postgres import PostgresMissingError, PostgresServer

ISOLATED_ENV = ("BODHI_HOME", "HF_HOME", "BODHI_LOCALE", "BODHI_ENCRYPTION_KEY", "HF_TOKEN",
                "HF_ENDPOINT", "PYTHON_KEYRING_BACKEND", "BODHI_DATABASE_URL")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point every location bodhi or Jupyter could write to at a temp dir."""
    for key in (*ISOLATED_ENV, "BODHI_AUTH_ISSUER", "BODHI_PROFILE", "BROWSER"):
        monkeypatch.delenv(key, raising=False)
    home = tmp_path / "bodhi_home"
    monkeypatch.setenv("BODHI_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg_config"))
    for var, sub in (("JUPYTER_CONFIG_DIR", "jupyter_config"), ("JUPYTER_DATA_DIR", "jupyter_data"),
                     ("JUPYTER_RUNTIME_DIR", "jupyter_runtime"), ("IPYTHONDIR", "ipython")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    yield home
    reset_apps()


@pytest.fixture
def settings() -> SettingService:
    return SettingService()


@pytest.fixture
def app(settings: SettingService):  # type: ignore[no-untyped-def]
    """A fully built registry on the test's BODHI_HOME."""
    registry = build_app_service(settings)
    yield registry
    registry.close()


@pytest.fixture
def shell() -> Iterator[Any]:
    """A real IPython InteractiveShell with the extension loaded (unloaded afterwards)."""
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "bodhi_nb")
    yield sh
    sh.run_line_magic("unload_ext", "bodhi_nb")
    InteractiveShell.clear_instance()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """The environment for a child Python process running bodhi_nb from this checkout."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The offline Hub on 127.0.0.1, serving ``tmp_path/hub_root``, as ``HF_ENDPOINT``; it
    must end the test without a server-side error. A module may override it (tokens...)."""
    from bodhi_nb.testing.hub_faults import FaultyHubServer

    with FaultyHubServer(tmp_path / "hub_root") as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server
        assert server.server_errors == []


@pytest.fixture
def registry(hub: Any) -> Iterator[Any]:
    """A registry built after ``hub`` points HF_ENDPOINT at the offline Hub."""
    app = build_app_service(SettingService())
    yield app
    app.close()


@pytest.fixture
def python() -> str:
    return sys.executable


# -- PostgreSQL, a real peer ----------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (Debian's binaries, a temp folder, a free
    port). Missing binaries fail the test with the line that installs them: no skip."""
    try:
        server = PostgresServer()
    except PostgresMissingError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's server (dropped afterwards).
    It sorts text like a typical team server (ICU en-US: ``a < B < b``), not by bytes like
    DuckDB, so an order that depends on the collation shows up as a difference."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    postgres.create_database(name, icu_locale="en-US")
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(params=["duckdb", "postgresql"])
def db_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
           isolated_env: Path) -> Iterator[str | None]:
    """Runs the test on both backends: ``BODHI_DATABASE_URL`` unset (DuckDB under the test's
    BODHI_HOME), then set to a fresh PostgreSQL database. Request it before ``settings`` /
    ``app`` (or list it first; ``_backends.both_backends`` does) so they see the variable.
    A PostgreSQL run that left a DuckDB file in BODHI_HOME fails: some store was built
    without the URL, so that part of the test ran on DuckDB twice."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        monkeypatch.setenv("BODHI_DATABASE_URL", url)
        yield url
        assert not (isolated_env / "bodhi.duckdb").exists(), "a store ignored the URL"
        return
    monkeypatch.delenv("BODHI_DATABASE_URL", raising=False)
    yield None


# -- the OpenID test server (issue 11): one per test module --------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    """panva's oidc-provider (tests/oidc_server) on a free loopback port, one per module
    (a module's key rotations and failing token responses stay in that module)."""
    from bodhi_nb.testing.oidc import OidcServer

    with OidcServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def discovery(server: Any) -> dict[str, Any]:
    """The OpenID test server's discovery document."""
    doc: dict[str, Any] = server.http.get("/.well-known/openid-configuration").json()
    return doc
