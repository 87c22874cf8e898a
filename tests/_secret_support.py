"""Builders shared by the secret, keyring, session and rotation tests."""

from __future__ import annotations

import os
from pathlib import Path

from bodhi_nb.services.keyring import KeyringService
from bodhi_nb.services.secret import SecretService
from bodhi_nb.services.session import SessionService
from bodhi_nb.services.time import FrozenTimeService, TimeService
from bodhi_nb.store import Store, open_store
from bodhi_nb.store.secrets import SecretsTable
from bodhi_nb.store.sessions import SessionsTable

#: Tests derive KEKs with few iterations; one test uses the real 600,000.
TEST_ITERATIONS = 1000
HEADLESS = "keyring.backends.fail.Keyring"
TESTS_DIR = Path(__file__).resolve().parent


def keyring_for(home: Path, **env: str) -> KeyringService:
    """A KeyringService over the current environment plus ``env``."""
    merged = {**os.environ, **env}
    return KeyringService(env=merged, home=home)


def services(home: Path, *, time: TimeService | None = None, iterations: int = TEST_ITERATIONS,
             url: str | None = None,
             **env: str) -> tuple[Store, KeyringService, SecretService, SessionService]:
    """The secret stack on the store ``url`` names; by default the one
    ``BODHI_DATABASE_URL`` selects (DuckDB under ``home`` when unset), so a test run on both
    backends (``_backends.both_backends``) and its child processes build on the same one."""
    clock = time or FrozenTimeService()
    if url is None:
        url = os.environ.get("BODHI_DATABASE_URL", "")
    db = open_store(url, home, clock)
    keyring = keyring_for(home, **env)
    secret = SecretService(SecretsTable(db), keyring, clock, kdf_iterations=iterations)
    return db, keyring, secret, SessionService(SessionsTable(db), secret, clock)
