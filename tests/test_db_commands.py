"""``bodhi db status|migrate|migrate --down N`` on both backends, and the store's coded
errors as a user meets them through the CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bodhi_nb.cli import main
from bodhi_nb.store.migrate import load_migrations
from bodhi_nb.testing.postgres import PostgresServer

HEAD = max(m.version for m in load_migrations())


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main([*argv, "--json"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.usefixtures("isolated_env")
def test_status_migrate_down_and_up(db_url: str | None, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    status = _json(capsys, "db", "status")
    db = status["database"]
    assert isinstance(db, dict)
    assert db["backend"] == ("postgresql" if db_url else "duckdb")
    assert (db["schema_version"], len(db["pending"])) == (0, HEAD)  # status never migrates

    applied = _json(capsys, "db", "migrate")
    assert [m["version"] for m in applied] == list(range(1, HEAD + 1))  # type: ignore[index]
    assert _json(capsys, "db", "migrate") == {"applied": []}

    # Undoing asks first; "no" leaves the schema as it was.
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["db", "migrate", "--down", "1"]) == 0
    out = capsys.readouterr().out
    assert "Undo 1 migration(s)" in out and "Nothing was undone." in out
    undone = _json(capsys, "db", "migrate", "--down", "1", "-y")
    assert [(m["version"], m["state"]) for m in undone] == [(HEAD, "undone")]  # type: ignore[index]
    db = _json(capsys, "db")["database"]  # `db` alone is `db status`
    assert isinstance(db, dict)
    newest = load_migrations()[-1]
    assert (db["schema_version"], db["pending"]) == (HEAD - 1, [f"{HEAD:04d}_{newest.name}"])

    # This process keeps the version it was taken down to; the next process (a new kernel,
    # the next `bodhi` command) migrates up again on its first use of a table.
    from bodhi_nb.app import reset_apps

    reset_apps()
    assert main(["secret", "ls"]) == 0
    capsys.readouterr()
    db = _json(capsys, "db")["database"]
    assert isinstance(db, dict)
    assert (db["schema_version"], db["pending"]) == (HEAD, [])


@pytest.mark.usefixtures("isolated_env")
def test_a_database_newer_than_the_code_is_refused(db_url: str | None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from bodhi_nb.app import app, reset_apps

    registry = app()
    registry.db_service().migrate()
    registry.db_service().store.execute(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
        "VALUES (?, 'from_the_future', 'x', ?)", [HEAD + 7, "2030-01-01 00:00:00"])
    reset_apps()
    assert main(["secret", "ls"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error[db_error-schema_too_new]")
    assert f"version {HEAD + 7}" in err and "Upgrade bodhi_nb" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("isolated_env")
def test_postgres_errors_are_coded_and_hide_the_password(
        postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    good = postgres.url("postgres")
    user_part, _, host_part = good.partition("@")
    password = user_part.rsplit(":", 1)[1]
    cases = {
        "db_error-auth_failed": good.replace(f":{password}@", ":not-the-password@"),
        "db_error-database_missing": good.rsplit("/", 1)[0] + "/no_such_db",
        "db_error-bad_url": "mysql://me:hunter22@127.0.0.1/bodhi",
    }
    from bodhi_nb.app import reset_apps

    for code, url in cases.items():
        monkeypatch.setenv("BODHI_DATABASE_URL", url)
        reset_apps()  # the URL is read when a kernel's registry is built
        assert main(["secret", "ls"]) != 0
        err = capsys.readouterr().err
        assert err.startswith(f"error[{code}]"), (code, err)
        assert len(err.strip().splitlines()) == 1
        for secret in ("not-the-password", "hunter22", password):
            assert secret not in err
    # status shows the backend and where, password masked, without connecting
    monkeypatch.setenv("BODHI_DATABASE_URL", good)
    reset_apps()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "postgresql: postgresql://" in out and ":***@" in out and password not in out


def test_unreachable_server_then_back(tmp_path: Path, isolated_env: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A server stopped under a running kernel: the next command is one coded line; once it
    is back, commands work again in the same process."""
    from bodhi_nb.app import reset_apps

    server = PostgresServer()
    try:
        server.create_database("bodhi")
        monkeypatch.setenv("BODHI_DATABASE_URL", server.url("bodhi"))
        reset_apps()
        assert main(["secret", "ls"]) == 0
        server.stop()
        assert main(["secret", "ls"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error[db_error-unreachable]") and len(err.splitlines()) == 1
        server.start()
        assert main(["secret", "ls"]) == 0
    finally:
        reset_apps()
        server.close()


def test_a_database_password_never_lands_in_settings_yaml(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://team:s3cret-pw@db.example:5432/bodhi"
    assert main(["settings", "BODHI_DATABASE_URL", url]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error[setting_service_error-invalid_value]")
    assert "s3cret-pw" not in err and "PGPASSWORD" in err
    settings_file = isolated_env / "settings.yaml"
    assert not settings_file.exists() or "s3cret-pw" not in settings_file.read_text()
    # without the password it is saved, and the notice says when it takes effect
    assert main(["settings", "BODHI_DATABASE_URL", "postgresql://team@db.example/bodhi"]) == 0
    out = capsys.readouterr().out
    assert "restart the kernel" in out
    assert "postgresql://team@db.example/bodhi" in settings_file.read_text()
