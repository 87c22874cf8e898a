"""SecretService: the one-time KEK derivation, and store/retrieve once the KEK is cached.

* KEK derivation: PBKDF2-HMAC-SHA256 at the production 600,000 iterations, the cost paid
  once per process and master key (the first secret touched), against hashlib's PBKDF2 of
  the same parameters as a baseline.
* store / retrieve p50 and p99 on a warm lease, after the KEK is derived, against the same
  upsert / select of an equally sized plaintext row on the same DbService (what the
  encryption adds: HKDF, AES-GCM, fresh salt and nonce, the key-check read).
* seal / open: the cryptography alone, without the database.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._util import line, percentile

_VALUE = "hf_" + "x" * 37


def _kek_cost(secret_module: Any, key: Any, rounds: int) -> tuple[list[float], list[float]]:
    ours, baseline = [], []
    for _ in range(rounds):
        secret_module.forget_keks()
        t0 = time.perf_counter()
        secret_module._kek(key, secret_module.KDF_ITERATIONS)
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        hashlib.pbkdf2_hmac("sha256", key.material, b"bodhi_nb:kek:v2",
                            secret_module.KDF_ITERATIONS, 32)
        baseline.append(time.perf_counter() - t0)
    return ours, baseline


def run() -> list[dict[str, Any]]:
    from bodhi_nb.services import secret as secret_module
    from bodhi_nb.services.keyring import KeyringService
    from bodhi_nb.services.secret import SecretService
    from bodhi_nb.services.time import DefaultTimeService
    from bodhi_nb.store.base import to_db_ts
    from bodhi_nb.store.duckdb import DuckDbStore
    from bodhi_nb.store.secrets import SecretsTable

    n = 300
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = {"XDG_CONFIG_HOME": str(root / "config"), "HOME": str(root),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        clock = DefaultTimeService()
        db = DuckDbStore(root / "home" / "bodhi.duckdb", clock, idle_close=60, max_hold=3600)
        db.migrate()
        keyring = KeyringService(env=env, home=root / "home")
        secrets = SecretService(SecretsTable(db), keyring, clock)  # production iteration count
        key = secrets.ensure_key()

        kek, kek_base = _kek_cost(secret_module, key, 5)
        out.append(line("secrets.kek_derivation_600k", statistics.median(kek) * 1000, "ms",
                        baseline="hashlib.pbkdf2_hmac same parameters",
                        baseline_value=statistics.median(kek_base) * 1000, rounds=5,
                        cpus=os.cpu_count()))

        secrets.store_secret("WARMUP", _VALUE)  # KEK derived, lease warm
        store, retrieve, plain_put, plain_get = [], [], [], []
        for i in range(n):
            name = f"S{i % 20}"
            t0 = time.perf_counter()
            secrets.store_secret(name, _VALUE)
            store.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            got = secrets.retrieve_secret(name)
            retrieve.append(time.perf_counter() - t0)
            assert got == _VALUE
            now = to_db_ts(clock.utc_now())
            t0 = time.perf_counter()
            db.execute(
                "INSERT INTO secrets (name, value, salt, nonce, key_id, created_at, updated_at)"
                " VALUES (?, ?, '', '', '', ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                [f"bodhi:plain{i % 20}", _VALUE, now, now])
            plain_put.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            db.execute("SELECT value, salt, nonce, key_id FROM secrets WHERE name = ?",
                       [f"bodhi:plain{i % 20}"])
            plain_get.append(time.perf_counter() - t0)
        for label, ours, base, what in (
                ("store", store, plain_put, "plaintext upsert on the same lease"),
                ("retrieve", retrieve, plain_get, "plaintext select on the same lease")):
            out.append(line(f"secrets.{label}_p50", percentile(ours, 50) * 1000, "ms",
                            baseline=what, baseline_value=percentile(base, 50) * 1000,
                            samples=n))
            out.append(line(f"secrets.{label}_p99", percentile(ours, 99) * 1000, "ms",
                            baseline=what, baseline_value=percentile(base, 99) * 1000,
                            samples=n))

        seal, opened = [], []
        for _ in range(2000):
            t0 = time.perf_counter()
            envelope = secrets.seal("HF_TOKEN", _VALUE, key)
            seal.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            secrets.open("HF_TOKEN", envelope, key)
            opened.append(time.perf_counter() - t0)
        out.append(line("secrets.seal_p50", percentile(seal, 50) * 1e6, "us", samples=2000))
        out.append(line("secrets.open_p50", percentile(opened, 50) * 1e6, "us", samples=2000))
        db.close()
    return out
