"""Stored API keys survive a wrong or missing master key (issue 8, item 3).

Only session tokens may be dropped when the key that sealed them is gone; an API key
(``bodhi:api_key:*``) or any other stored value makes every key-storing command refuse with
``master_key_missing``, and the rows stay untouched for the day the right key is back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _backends import both_backends
from _secret_support import HEADLESS, services

from bodhi_nb.app import DefaultAppService, build_app_service
from bodhi_nb.commands import Context, execute
from bodhi_nb.errors import MasterKeyMissingError
from bodhi_nb.services.db import DbService
from bodhi_nb.services.settings import SettingService
from bodhi_nb.services.time import FrozenTimeService

ENV_A = "first environment key, long enough"
ENV_B = "second environment key, long enough"
API_KEY = "sk-live-0123456789abcdefghij"


def _registry(home: Path, **env: str) -> DefaultAppService:
    clock = FrozenTimeService()
    db, keyring, secret, session = services(home, time=clock, **env)
    return build_app_service(SettingService(), time=clock, db=DbService(db), keyring=keyring,
                             secret=secret, session=session)


def _run(registry: DefaultAppService, *tokens: str) -> object:
    ctx = Context(prog="bodhi", ask_secret=lambda prompt: "hf_typed_value_0123456789")
    return execute(list(tokens), ctx, lambda: registry)


def _rows(registry: DefaultAppService) -> list[tuple[object, ...]]:
    return registry.db_service().store.execute(
        'SELECT name, value, salt, nonce, key_id FROM secrets ORDER BY name COLLATE "C"')


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)
    monkeypatch.setenv("MY_API_KEY", API_KEY)
    yield


@both_backends
@pytest.mark.parametrize("lost", ["wrong env key", "lost key file"])
def test_only_api_keys_stored_and_no_right_key_refuses_and_keeps_them(
        isolated_env: Path, lost: str) -> None:
    first_env = {"BODHI_ENCRYPTION_KEY": ENV_A} if lost == "wrong env key" else {}
    first = _registry(isolated_env, **first_env)
    _run(first, "api", "add", "openai", "--base-url", "http://127.0.0.1:9/v1",
         "--models", "m", "--api-key-env", "MY_API_KEY")
    before = _rows(first)
    names = [str(r[0]) for r in before]
    assert len(names) == 2 and names[0].startswith("bodhi:api_key:")
    assert names[1] == "bodhi:key_check"
    key_file = first.keyring_service().key_file
    first.close()

    if lost == "wrong env key":
        second = _registry(isolated_env, BODHI_ENCRYPTION_KEY=ENV_B)
    else:
        key_file.rename(key_file.with_name("master.key.elsewhere"))
        second = _registry(isolated_env)
    for tokens in (("api", "add", "other", "--base-url", "http://127.0.0.1:9/v1", "--models",
                    "m", "--api-key-env", "MY_API_KEY"),
                   ("api", "set-key", "openai", "--api-key-env", "MY_API_KEY"),
                   ("secret", "set", "HF_TOKEN")):
        with pytest.raises(MasterKeyMissingError):
            _run(second, *tokens)
    assert _rows(second) == before, "the stored API key is untouched"
    assert [a.id for a in second.ai_api_service().list_api_aliases()] == ["openai"]
    second.close()

    # With the right key back, the API key reads as it was stored.
    if lost == "lost key file":
        key_file.with_name("master.key.elsewhere").rename(key_file)
    again = _registry(isolated_env, **first_env)
    alias = again.ai_api_service().get_api_alias("openai")
    assert alias.has_api_key
    assert _rows(again) == before
    again.close()


@both_backends
def test_only_session_tokens_are_dropped_for_a_lost_key(isolated_env: Path) -> None:
    first = _registry(isolated_env, BODHI_ENCRYPTION_KEY=ENV_A)
    first.session_service().create("u1", {"access_token": "tok-0123456789abcdef"})
    assert len(_rows(first)) == 2  # the sealed token and the key check
    first.close()
    second = _registry(isolated_env, BODHI_ENCRYPTION_KEY=ENV_B)
    _run(second, "secret", "set", "HF_TOKEN")  # starts over: only a session depended on A
    names = [r[0] for r in _rows(second)]
    assert names == ["HF_TOKEN", "bodhi:key_check"]
    assert second.secret_service().retrieve_secret("HF_TOKEN") == "hf_typed_value_0123456789"
    second.close()
