"""SessionService: ids, sealed tokens, expiry on a frozen clock, rotation, clearing."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backends import both_backends
from _secret_support import HEADLESS, services

from bodhi_nb.errors import SessionExpiredError, SessionInvalidDataError, SessionNotFoundError
from bodhi_nb.services.secret import SecretService
from bodhi_nb.services.session import SessionService
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.store import Store
from bodhi_nb.store.sessions import SessionsTable

TOKEN = "eyJhbGciOiJSUzI1NiJ9.access-token-value.signature"
REFRESH = "refresh-token-value-0123456789"


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def clock() -> FrozenTimeService:
    return FrozenTimeService()


@pytest.fixture
def stack(isolated_env: Path, clock: FrozenTimeService
          ) -> Iterator[tuple[Store, SecretService, SessionService]]:
    db, _, secret, _ = services(isolated_env, time=clock)
    yield db, secret, SessionService(SessionsTable(db), secret, clock, ttl_secs=60)
    db.close()


def _raw_tables(db: Store) -> str:
    rows = db.execute("SELECT * FROM sessions") + db.execute("SELECT * FROM secrets")
    return json.dumps(rows, default=str)


@both_backends
def test_ids_are_long_random_and_not_stored(
        stack: tuple[Store, SecretService, SessionService]) -> None:
    db, _, sessions = stack
    ids = [sessions.create(f"user{i % 3}").id for i in range(300)]
    assert len(set(ids)) == 300
    raw = base64.urlsafe_b64decode(ids[0] + "=" * (-len(ids[0]) % 4))
    assert len(raw) * 8 >= 128
    stored = {r[0] for r in db.execute("SELECT id FROM sessions")}
    assert len(stored) == 300 and not stored & set(ids)  # only digests are stored


@both_backends
def test_tokens_are_sealed_never_in_clear(
        stack: tuple[Store, SecretService, SessionService]) -> None:
    db, _, sessions = stack
    data = {"client:access_token": TOKEN, "state": "s-1",
            "oauth": {"refresh_token": REFRESH, "scope": "openid"}}
    session = sessions.create("alice", data)
    assert session.data == data
    raw = _raw_tables(db)
    assert TOKEN not in raw and REFRESH not in raw
    assert "s-1" in raw  # plain fields stay readable
    loaded = sessions.get(session.id)
    assert loaded is not None and loaded.data == data and loaded.user_id == "alice"
    text = repr(loaded)
    assert TOKEN not in text and REFRESH not in text and session.id not in text
    assert "'client:access_token': '***'" in text and "'state': 's-1'" in text


@both_backends
def test_expiry_follows_the_frozen_clock(
        stack: tuple[Store, SecretService, SessionService],
        clock: FrozenTimeService) -> None:
    db, _, sessions = stack
    session = sessions.create("alice", {"access_token": TOKEN})
    clock.advance(59)
    assert sessions.get(session.id) is not None
    touched = sessions.touch(session.id)  # another 60 s from now
    assert (touched.expires_at - clock.utc_now()).total_seconds() == 60
    clock.advance(59)
    assert sessions.get(session.id) is not None
    clock.advance(1)
    assert sessions.get(session.id) is None  # expires_at <= now
    with pytest.raises(SessionNotFoundError):  # get already dropped it
        sessions.touch(session.id)
    assert db.execute("SELECT count(*) FROM secrets WHERE name LIKE 'bodhi:session:%'") == [
        (0,)]


@both_backends
def test_touch_on_expired_and_purge(
        stack: tuple[Store, SecretService, SessionService],
        clock: FrozenTimeService) -> None:
    db, _, sessions = stack
    short = sessions.create("alice", {"access_token": TOKEN}, ttl_secs=10)
    long = sessions.create("alice", {"access_token": TOKEN}, ttl_secs=1000)
    clock.advance(10)
    with pytest.raises(SessionExpiredError) as info:
        sessions.touch(short.id)
    assert info.value.code == "session_error-expired"
    sessions.create("bob", ttl_secs=5)
    clock.advance(10)
    assert sessions.purge_expired() == 2  # alice's short one and bob's
    assert sessions.get(long.id) is not None
    assert db.execute("SELECT count(*) FROM sessions") == [(1,)]
    assert db.execute("SELECT count(*) FROM secrets WHERE name LIKE 'bodhi:session:%'") == [
        (1,)]


@both_backends
def test_rotate_gives_a_new_id_with_the_same_data(
        stack: tuple[Store, SecretService, SessionService],
        clock: FrozenTimeService) -> None:
    _, _, sessions = stack
    before = sessions.create(None, {"access_token": TOKEN, "state": "s"})
    clock.advance(5)
    after = sessions.rotate(before.id, user_id="alice")
    assert after.id != before.id
    assert after.user_id == "alice" and after.data == before.data
    assert after.expires_at == before.expires_at
    assert sessions.get(before.id) is None
    with pytest.raises(SessionNotFoundError):
        sessions.rotate(before.id)
    loaded = sessions.get(after.id)
    assert loaded is not None and loaded.data["access_token"] == TOKEN


@both_backends
def test_update_replaces_data(stack: tuple[Store, SecretService, SessionService]) -> None:
    db, _, sessions = stack
    session = sessions.create("alice", {"access_token": TOKEN})
    sessions.update(session.id, {"state": "plain only"})
    loaded = sessions.get(session.id)
    assert loaded is not None and loaded.data == {"state": "plain only"}
    assert db.execute("SELECT count(*) FROM secrets WHERE name LIKE 'bodhi:session:%'") == [
        (0,)]


@both_backends
def test_clear_and_count_for_user(stack: tuple[Store, SecretService, SessionService],
                                  clock: FrozenTimeService) -> None:
    db, _, sessions = stack
    alice = [sessions.create("alice", {"access_token": f"{TOKEN}{i}"}) for i in range(3)]
    bob = sessions.create("bob", {"access_token": TOKEN})
    sessions.create("alice", ttl_secs=1)
    clock.advance(1)
    assert sessions.count_sessions_for_user("alice") == 3  # the expired one is not counted
    assert sessions.clear_sessions_for_user("alice") == 4
    assert sessions.count_sessions_for_user("alice") == 0
    assert all(sessions.get(s.id) is None for s in alice)
    assert sessions.count_sessions_for_user("bob") == 1
    assert sessions.get(bob.id) is not None
    assert db.execute("SELECT count(*) FROM secrets WHERE name LIKE 'bodhi:session:%'") == [
        (1,)]
    assert sessions.clear_all_sessions() == 1


def test_invalid_data_is_refused(stack: tuple[Store, SecretService, SessionService]) -> None:
    _, _, sessions = stack
    with pytest.raises(SessionInvalidDataError):
        sessions.create("alice", {"blob": b"bytes"})
    with pytest.raises(SessionInvalidDataError):
        sessions.create("alice", {"$sealed": []})


@both_backends
def test_sealed_tokens_follow_a_key_rotation(
        stack: tuple[Store, SecretService, SessionService]) -> None:
    _, secret, sessions = stack
    session = sessions.create("alice", {"access_token": TOKEN})
    rotation = secret.rotate_key()
    assert rotation.rows == 2 and rotation.secrets == 0  # token row + key check
    loaded = sessions.get(session.id)
    assert loaded is not None and loaded.data["access_token"] == TOKEN
