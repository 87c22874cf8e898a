"""Several processes, several hosts, one database: through the services, in subprocesses.

* Two hosts, one PostgreSQL: two BODHI_HOMEs, one BODHI_DATABASE_URL, one
  BODHI_ENCRYPTION_KEY. What one adds (an API alias, a secret), the other lists at once,
  a long-running kernel included (its cached alias list is invalidated across hosts).
* Load: 16 processes x 200 mixed writes on PostgreSQL, 4 x 200 on DuckDB (one BODHI_HOME):
  every row is there afterwards and no caller saw an error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WORKER = str(Path(__file__).with_name("store_worker.py"))
KEY = "team-master-key-0123456789abcdef-0123456789"


def _env(base: dict[str, str], home: Path, url: str | None) -> dict[str, str]:
    env = dict(base, BODHI_HOME=str(home), BODHI_ENCRYPTION_KEY=KEY,
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    env.pop("BODHI_DATABASE_URL", None)
    if url is not None:
        env["BODHI_DATABASE_URL"] = url
    return env


def _bodhi(env: dict[str, str], *args: str) -> Any:
    proc = subprocess.run([sys.executable, "-m", "bodhi_nb.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


class Host:
    """A long-running kernel on one host (tests/store_worker.py host)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, WORKER, "host"], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        assert self._read() == "ready"

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read() if self.proc.stderr else ""
        return json.loads(line)

    def ask(self, word: str) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(word + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> str:
        _, err = self.proc.communicate("quit\n", timeout=60)
        assert self.proc.returncode == 0, err
        return err


def test_two_hosts_one_postgres_see_each_other_at_once(
        pg_url: str, tmp_path: Path, subprocess_env: dict[str, str]) -> None:
    host_a = _env(subprocess_env, tmp_path / "host_a", pg_url)
    host_b = _env(subprocess_env, tmp_path / "host_b", pg_url)
    kernel_b = Host(host_b)
    try:
        assert kernel_b.ask("aliases") == []  # B's alias list is now cached
        assert kernel_b.ask("secrets") == []

        _bodhi(dict(host_a, TEAM_API_KEY="sk-team-0123456789abcdef"), "api", "add",
               "team-openai", "--base-url", "http://127.0.0.1:9/v1", "--models", "gpt-x",
               "--api-key-env", "TEAM_API_KEY")
        stored = subprocess.run(
            [sys.executable, "-c",
             "from bodhi_nb.app import build_app_service\n"
             "from bodhi_nb.services.settings import SettingService\n"
             "r = build_app_service(SettingService())\n"
             "r.secret_service().store_secret('TEAM_TOKEN', 'hf_team_0123456789abcdef')\n"
             "r.close()\n"], env=host_a, capture_output=True, text=True, timeout=120)
        assert stored.returncode == 0, stored.stderr

        # The long-running kernel on B sees both at once (no restart, no waiting).
        assert kernel_b.ask("aliases") == [["team-openai", True]]
        assert kernel_b.ask("secrets") == ["TEAM_TOKEN"]
    finally:
        err = kernel_b.close()
    assert "hf_team_0123456789abcdef" not in err

    # And the CLI on B, a fresh process on the other BODHI_HOME, lists them.
    aliases = _bodhi(host_b, "api", "ls", "--json")
    assert [(a["name"], a["has_api_key"]) for a in aliases] == [("team-openai", True)]
    secrets = _bodhi(host_b, "secret", "ls", "--json")
    assert [s["name"] for s in secrets] == ["TEAM_TOKEN"]
    # Nothing of the shared data lives under either BODHI_HOME.
    assert not list((tmp_path / "host_b").glob("*.duckdb"))


def _load(envs: list[dict[str, str]], each: int) -> None:
    procs = len(envs)
    children = [subprocess.Popen([sys.executable, WORKER, "mixed", f"p{n}", str(each)],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for n, env in enumerate(envs)]
    reports = []
    for child in children:
        out, err = child.communicate(timeout=900)
        assert child.returncode == 0, (out, err)
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["errors"] for r in reports] == [[]] * procs
    assert [r["done"] for r in reports] == [each] * procs


def _check_rows(env: dict[str, str], procs: int, each: int) -> None:
    code = r"""
import json
from bodhi_nb.app import build_app_service
from bodhi_nb.services.settings import SettingService
r = build_app_service(SettingService())
tables = r.db_service().tables
out = {
    "secrets": sorted(s.name for s in r.secret_service().list_secrets()),
    "aliases": sorted(a.id for a in r.ai_api_service().list_api_aliases()
                      if r.ai_api_service().get_api_alias(a.id).has_api_key),
    "downloads": sorted(d.id for d in tables.downloads.list(limit=100000)),
}
store = r.db_service().store
out["chat"] = {t: n for t, n in store.execute(
    "SELECT thread, count(*) FROM chat_messages GROUP BY thread")}
r.close()
print(json.dumps(out))
"""
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    tags = [f"p{n}" for n in range(procs)]
    assert rows["secrets"] == sorted(f"S_{t}_{i}" for t in tags for i in range(0, each, 4))
    assert rows["aliases"] == sorted(f"api-{t}-{i}" for t in tags for i in range(1, each, 4))
    assert rows["downloads"] == sorted(f"d-{t}-{i}" for t in tags for i in range(2, each, 4))
    assert rows["chat"] == {f"t-{t}": 2 * len(range(3, each, 4)) for t in tags}


@pytest.mark.parametrize("backend, procs", [("postgresql", 16), ("duckdb", 4)])
def test_load_mixed_writes_lose_nothing(backend: str, procs: int, tmp_path: Path,
                                        subprocess_env: dict[str, str],
                                        request: pytest.FixtureRequest) -> None:
    """PostgreSQL: each process has a BODHI_HOME of its own (a host each); DuckDB: the
    processes share one BODHI_HOME (kernels of one user)."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    homes = [tmp_path / (f"home_{n}" if url else "shared_home") for n in range(procs)]
    _load([_env(subprocess_env, home, url) for home in homes], 200)
    _check_rows(_env(subprocess_env, tmp_path / "checker_home", url) if url
                else _env(subprocess_env, homes[0], None), procs, 200)
