"""A throw-away PostgreSQL server for tests and benchmarks, from Debian's binaries.

``initdb`` into a temp folder, ``pg_ctl start`` on a free loopback port with the socket in
the temp folder, a superuser with a password (SCRAM over TCP, so a wrong password is really
refused), and everything removed on :meth:`PostgresServer.close`. PostgreSQL refuses to run
as root: as root, the binaries run as the ``postgres`` user (Debian's package creates it) on
folders it owns.

    with PostgresServer() as server:
        url = server.url(server.create_database("t1"))
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["INSTALL_HINT", "PostgresMissingError", "PostgresServer", "find_bin_dir",
           "free_port"]

INSTALL_HINT = ("PostgreSQL's server binaries are missing: install them with "
                "`apt-get install -y postgresql` (Debian/Ubuntu), or run `make peers` as root")

#: Settings for a disposable cluster: durability is not needed, speed and many clients are.
_SERVER_OPTIONS = ("-c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off"
                   " -c synchronous_commit=off -c full_page_writes=off")


class PostgresMissingError(RuntimeError):
    """Debian's PostgreSQL binaries are not installed."""


def find_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``initdb`` and ``pg_ctl``."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
             if Path(p).with_name("pg_ctl").exists()]
    if not found:
        raise PostgresMissingError(INSTALL_HINT)
    return max(found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temp folder, listening on 127.0.0.1:``port``."""

    def __init__(self, *, user: str = "bodhi", bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or find_bin_dir()
        self.user = user
        self.password = secrets.token_urlsafe(18)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="bodhi-pg-"))
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "sock"
        self._run_as: list[str] = []
        self._owner: tuple[int, int] | None = None
        self.running = False
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            self._owner = (entry.pw_uid, entry.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        try:
            self._init()
            self.start()
        except BaseException:
            self.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------------

    def _own(self, path: Path) -> None:
        if self._owner is not None:
            os.chown(path, *self._owner)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self._run_as, *args], capture_output=True, text=True,
                                cwd=self.root, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): "
                               f"{(result.stderr or result.stdout).strip()[-2000:]}")
        return result

    def _init(self) -> None:
        self.root.chmod(0o755)
        self._own(self.root)
        self.socket_dir.mkdir(mode=0o700)
        self._own(self.socket_dir)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        self._own(pwfile)
        try:
            self._run(str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", self.user,
                      f"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                      "--auth-local=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                      "--no-sync")
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        """Start (or restart after :meth:`stop`) the server; returns once it accepts
        connections."""
        if self.running:
            return
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir),
                  "-l", str(self.root / "server.log"),
                  "-o", f"-p {self.port} -k {self.socket_dir} {_SERVER_OPTIONS}",
                  "-w", "-t", "60", "start")
        self.running = True

    def stop(self) -> None:
        """Stop the server at once (``-m fast``: clients are disconnected)."""
        if not self.running:
            return
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast",
                  "-w", "stop", check=False)
        self.running = False

    def close(self) -> None:
        """Stop the server and remove its folder (idempotent)."""
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, root={str(self.root)!r})"

    # -- databases ---------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A ``postgresql://`` URL for ``database`` over TCP (``password`` overrides the
        real one, for tests of a wrong password)."""
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction as the superuser."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql.encode("utf-8"))

    def create_database(self, name: str, *, icu_locale: str | None = None) -> str:
        """Create an empty database; returns its name. ``icu_locale`` (``"en-US"``) gives it
        a language's collation, as team servers usually have, instead of the cluster's
        byte order (C.UTF-8): text then sorts ``a < B < b`` and only ``COLLATE "C"`` sorts
        by code point."""
        if icu_locale is None:
            self.admin(f'CREATE DATABASE "{name}"')
        else:
            if not icu_locale.replace("-", "").isalnum():
                raise ValueError(f"not an ICU locale: {icu_locale!r}")
            self.admin(f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu '
                       f"ICU_LOCALE '{icu_locale}'")
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
