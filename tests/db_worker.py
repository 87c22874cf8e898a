"""Child process for the DuckDB lease tests (run as a script, not collected by pytest).

    python tests/db_worker.py writes HOME TAG N   # N mixed writes, prints "OK n" or "ERR code"
    python tests/db_worker.py hold HOME           # take the lease, print HOLDING, sleep
    python tests/db_worker.py secrets HOME TAG N  # N `secret set`s through a full registry,
                                                  # prints {"errors": [codes], "latencies": [s]}
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from bodhi_nb.errors import BodhiError
from bodhi_nb.objs import new_ulid
from bodhi_nb.services.time import DefaultTimeService
from bodhi_nb.store.base import to_db_ts
from bodhi_nb.store.duckdb import DuckDbStore


def writes(home: Path, tag: str, count: int) -> int:
    clock = DefaultTimeService()
    db = DuckDbStore(home / "bodhi.duckdb", clock, busy_timeout=60)
    errors = 0
    last_download = None
    for i in range(count):
        now = to_db_ts(clock.utc_now())
        try:
            with db.transaction() as conn:
                kind = i % 3
                if kind == 0:
                    last_download = f"{tag}-{i}"
                    conn.execute(
                        "INSERT INTO download_requests (id, repo, filename, status, created_at,"
                        " updated_at) VALUES (?, 'o/n', ?, 'pending', ?, ?)",
                        [last_download, f"{tag}-{i}.gguf", now, now])
                elif kind == 1:
                    conn.execute(
                        "INSERT INTO user_access_requests (id, username, user_id, created_at,"
                        " updated_at) VALUES (?, ?, ?, ?, ?)", [f"{tag}-{i}", tag, tag, now, now])
                else:
                    conn.execute(
                        "INSERT INTO chat_messages (id, thread, exchange, seq, role, content,"
                        " created_at) VALUES (?, ?, ?, ?, 'user', 'hi', ?)",
                        [new_ulid(), tag, f"{tag}-{i}", i, now])
                    # and a read-modify-write of an earlier row in the same unit of work
                    conn.execute("UPDATE download_requests SET downloaded_bytes ="
                                 " downloaded_bytes + 1, updated_at = ? WHERE id = ?",
                                 [now, last_download])
        except BodhiError as exc:
            errors += 1
            print(f"ERR {exc.code}", flush=True)
    db.close()
    print(f"OK {count - errors}", flush=True)
    return 1 if errors else 0


def hold(home: Path) -> int:
    db = DuckDbStore(home / "bodhi.duckdb", DefaultTimeService())
    with db.transaction() as conn:
        conn.execute("SELECT 1")
        print("HOLDING", flush=True)
        time.sleep(3600)
    return 0


def secrets(home: Path, tag: str, count: int) -> int:
    """What a kernel does: build the registry (production key derivation, the key chain of
    the environment) and store secrets one by one, timing each."""
    os.environ["BODHI_HOME"] = str(home)
    from bodhi_nb.app import build_app_service
    from bodhi_nb.services.settings import SettingService

    registry = build_app_service(SettingService())
    service = registry.secret_service()
    errors: list[str] = []
    latencies: list[float] = []
    for i in range(count):
        started = time.perf_counter()
        try:
            service.store_secret(f"S_{tag}_{i}", f"value-{tag}-{i}-0123456789")
        except BodhiError as exc:
            errors.append(exc.code)
        latencies.append(time.perf_counter() - started)
    registry.close()
    print(json.dumps({"errors": errors, "latencies": latencies}), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    mode, home = sys.argv[1], Path(sys.argv[2])
    if mode == "writes":
        sys.exit(writes(home, sys.argv[3], int(sys.argv[4])))
    if mode == "secrets":
        sys.exit(secrets(home, sys.argv[3], int(sys.argv[4])))
    sys.exit(hold(home))
