"""``rotate-key`` survives SIGKILL at any point: afterwards every secret still decrypts.

A child process rotates the master key in a loop (stage the new key, re-seal every row in
one transaction, promote) and is killed with SIGKILL after a random delay, many times. After
each kill a fresh process-level stack must read every secret and every sealed session token
with whatever key the store now holds, and a final rotation must tidy up what a kill left
staged.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _secret_keyring_backend import NAME as FILE_KEYRING
from _secret_keyring_backend import PATH_ENV, read_entries
from _secret_support import HEADLESS, TESTS_DIR, services

from bodhi_nb.services.keyring import KEYRING_SERVICE, NEXT_KEY_ENTRY

CHILD = """
import sys
from pathlib import Path
from _secret_support import services

db, keyring, secret, sessions = services(Path(sys.argv[1]))
secret.active_key()
print("READY", flush=True)
count = 0
while True:
    secret.rotate_key()
    count += 1
    print("ROTATED", count, flush=True)
"""
TOKEN = "access-token-for-the-crash-test-0123"


def _kill_during_rotation(home: Path, env: dict[str, str], delay: float,
                          after_first: bool = False) -> int:
    """Start a rotating child, SIGKILL it after ``delay`` s (counted from its first finished
    rotation when ``after_first``); returns rotations it finished."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(home)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("READY"), proc.stderr.read() if proc.stderr else ready
        if after_first:
            # However slow a busy machine makes a rotation, one kill lands after a finished
            # one, so the run always covers "killed in the middle of a later rotation".
            first = proc.stdout.readline()
            assert first.startswith("ROTATED"), proc.stderr.read() if proc.stderr else first
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    out = proc.stdout.read()
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    return out.count("ROTATED") + (1 if after_first else 0)


@pytest.mark.slow
@pytest.mark.parametrize(("db_url", "store", "kills"), [
    ("duckdb", "key file", 20), ("duckdb", "keyring", 6),
    # PostgreSQL: the server rolls back the killed client's open transaction.
    ("postgresql", "key file", 8)], indirect=["db_url"])
def test_sigkill_at_random_points_of_rotation(db_url: str | None, store: str, kills: int,
                                              isolated_env: Path,
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              subprocess_env: dict[str, str]) -> None:
    env = dict(subprocess_env)
    if store == "keyring":
        env.update(PYTHON_KEYRING_BACKEND=FILE_KEYRING, **{PATH_ENV: str(tmp_path / "kr.json")})
    else:
        env["PYTHON_KEYRING_BACKEND"] = HEADLESS
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env["PYTHONPATH"]])
    for key in ("PYTHON_KEYRING_BACKEND", PATH_ENV):
        if key in env:
            monkeypatch.setenv(key, env[key])

    expected = {f"SECRET_{i:02d}": f"value-{i:02d}-{secrets.token_hex(8)}" for i in range(40)}
    db, keyring, secret, sessions = services(isolated_env)
    for name, value in expected.items():
        secret.store_secret(name, value)
    session = sessions.create("alice", {"access_token": TOKEN})
    first = keyring.preferred()
    assert first is not None and first.source.value == store
    # The key before any kill counts: a run whose rotations all landed before the first
    # kill still changed the key.
    key_ids = {r[0] for r in db.execute("SELECT DISTINCT key_id FROM secrets")}
    db.close()

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    finished = []
    for attempt in range(kills):
        finished.append(_kill_during_rotation(isolated_env, env, rng.uniform(0.0, 0.35),
                                              after_first=attempt == kills - 1))
        db, keyring, secret, sessions = services(isolated_env)
        got = {name: secret.retrieve_secret(name) for name in expected}
        assert got == expected, f"seed {seed}, kill {attempt}"
        loaded = sessions.get(session.id)
        assert loaded is not None and loaded.data["access_token"] == TOKEN, f"seed {seed}"
        key_ids |= {r[0] for r in db.execute("SELECT DISTINCT key_id FROM secrets")}
        db.close()

    assert sum(finished) > 0, "no rotation ever completed: the kills hit nothing"
    assert len(key_ids) > 1
    # A final rotation finishes or undoes whatever the last kill left staged.
    db, keyring, secret, _ = services(isolated_env)
    secret.rotate_key()
    if store == "keyring":
        assert f"{KEYRING_SERVICE}/{NEXT_KEY_ENTRY}" not in read_entries(tmp_path / "kr.json")
    else:
        assert "next" not in json.loads(keyring.key_file.read_text())
    assert {n: secret.retrieve_secret(n) for n in expected} == expected
    assert db.execute("SELECT count(DISTINCT key_id) FROM secrets") == [(1,)]
    db.close()
