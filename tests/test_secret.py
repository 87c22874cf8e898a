"""SecretService: AES-256-GCM envelopes, tamper and wrong-key detection, rotation."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from _backends import both_backends
from _secret_support import HEADLESS, TEST_ITERATIONS, services

from bodhi_nb.errors import (
    DecryptFailedError,
    EnvKeyRotationError,
    MalformedEnvelopeError,
    MasterKeyMissingError,
    SecretError,
    SecretInvalidNameError,
    UnsupportedEnvelopeError,
)
from bodhi_nb.redact import SecretStr
from bodhi_nb.services import secret as secret_module
from bodhi_nb.services.keyring import KeyringService, KeySource
from bodhi_nb.services.localization import LocalizationService
from bodhi_nb.services.secret import Envelope, SecretService
from bodhi_nb.services.time import FrozenTimeService
from bodhi_nb.store import Store
from bodhi_nb.store.secrets import SecretsTable

VALUE = "hf_sEcReTvAlUe0123456789abcdef"
ENV_A = "first environment key, long enough"
ENV_B = "second environment key, long enough"


def _en(notice: object) -> str:
    """A service's Notice as the user reads it, in English."""
    from bodhi_nb.services.localization import LocalizationService

    return LocalizationService().message(str(notice), dict(getattr(notice, "args", {})))


@pytest.fixture(autouse=True)
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", HEADLESS)


@pytest.fixture
def clock() -> FrozenTimeService:
    return FrozenTimeService()


@pytest.fixture
def stack(isolated_env: Path, clock: FrozenTimeService
          ) -> Iterator[tuple[Store, KeyringService, SecretService]]:
    db, keyring, secret, _ = services(isolated_env, time=clock)
    yield db, keyring, secret
    db.close()


def _row(db: Store, name: str) -> Envelope:
    rows = db.execute("SELECT value, salt, nonce, key_id FROM secrets WHERE name = ?", [name])
    return Envelope(*rows[0])


def _flip(b64: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


# -- basics ---------------------------------------------------------------------------------


@both_backends
def test_round_trip_list_and_delete(stack: tuple[Store, KeyringService, SecretService],
                                    clock: FrozenTimeService) -> None:
    db, _, secret = stack
    assert secret.retrieve_secret("HF_TOKEN") is None
    secret.store_secret("HF_TOKEN", VALUE)
    secret.store_secret("OPENAI_API_KEY", "sk-other-value-0000")
    got = secret.retrieve_secret("HF_TOKEN")
    assert got == VALUE and isinstance(got, SecretStr)
    assert repr(got) == "SecretStr('***cdef')"
    assert VALUE not in repr([got]) and VALUE not in f"{got!r}"

    clock.advance(60)
    secret.store_secret("HF_TOKEN", "hf_replaced_value_99")
    assert secret.retrieve_secret("HF_TOKEN") == "hf_replaced_value_99"
    listing = secret.list_secrets()
    assert [s.name for s in listing] == ["HF_TOKEN", "OPENAI_API_KEY"]  # no internal rows
    token = listing[0]
    assert (token.updated_at - token.created_at).total_seconds() == 60

    assert secret.delete_secret("HF_TOKEN") is True
    assert secret.delete_secret("HF_TOKEN") is False
    assert secret.retrieve_secret("HF_TOKEN") is None
    assert [s.name for s in secret.list_secrets()] == ["OPENAI_API_KEY"]


@both_backends
def test_names_list_in_code_point_order_on_every_backend(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    """A team server sorts text by a language's rules (``a < B``); the list must not
    change order with the backend: code point order, as DuckDB and Python sort."""
    _, _, secret = stack
    names = ["b_token", "HF_TOKEN", "a_key", "B_KEY", "Zeta", "alpha"]
    for name in names:
        secret.store_secret(name, VALUE)
    assert [s.name for s in secret.list_secrets()] == sorted(names)


@both_backends
def test_envelope_format_carries_its_parameters(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, keyring, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    row = _row(db, "HF_TOKEN")
    assert row.value.startswith(f"v2;i={TEST_ITERATIONS}:")
    assert len(base64.b64decode(row.salt)) == 32
    assert len(base64.b64decode(row.nonce)) == 12
    sealed = base64.b64decode(row.value.split(":", 1)[1])
    assert len(sealed) == len(VALUE) + 16  # ciphertext + GCM tag
    key = keyring.preferred()
    assert key is not None and row.key_id == key.key_id
    assert VALUE not in json.dumps(row.__dict__)


@pytest.mark.parametrize("name", ["", "1ABC", "has space", "a=b", "bodhi:key_check",
                                  "x" * 129, "semi;colon"])
def test_invalid_names_are_refused(stack: tuple[Store, KeyringService, SecretService],
                                   name: str) -> None:
    _, _, secret = stack
    with pytest.raises(SecretInvalidNameError):
        secret.store_secret(name, VALUE)


def test_a_pasted_token_as_name_is_not_echoed(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    _, _, secret = stack
    with pytest.raises(SecretInvalidNameError) as info:
        secret.store_secret(f"HF_TOKEN={VALUE}", "x")
    assert VALUE not in str(info.value) and VALUE not in repr(info.value)


# -- nonces ---------------------------------------------------------------------------------


def test_ten_thousand_seals_have_distinct_nonces_salts_and_ciphertexts(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    _, _, secret = stack
    key = secret.ensure_key()
    envelopes = [secret.seal("HF_TOKEN", VALUE, key) for _ in range(10_000)]
    assert len({e.nonce for e in envelopes}) == 10_000
    assert len({e.salt for e in envelopes}) == 10_000
    assert len({e.value for e in envelopes}) == 10_000
    assert secret.open("HF_TOKEN", envelopes[-1], key) == VALUE


@both_backends
def test_every_store_writes_a_fresh_nonce(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, _, secret = stack
    seen = []
    for _ in range(50):
        secret.store_secret("HF_TOKEN", VALUE)
        seen.append(_row(db, "HF_TOKEN"))
    assert len({r.nonce for r in seen}) == 50
    assert len({r.value for r in seen}) == 50


# -- tampering ------------------------------------------------------------------------------


def test_flipping_any_byte_of_ciphertext_nonce_or_salt_fails_cleanly(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, keyring, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    row = _row(db, "HF_TOKEN")
    key = keyring.preferred()
    assert key is not None
    marker, body = row.value.split(":", 1)
    variants = []
    for i in range(len(base64.b64decode(body))):
        variants.append(Envelope(f"{marker}:{_flip(body, i)}", row.salt, row.nonce, row.key_id))
    for i in range(12):
        variants.append(Envelope(row.value, row.salt, _flip(row.nonce, i), row.key_id))
    for i in range(32):
        variants.append(Envelope(row.value, _flip(row.salt, i), row.nonce, row.key_id))
    for envelope in variants:
        with pytest.raises(DecryptFailedError) as info:
            secret.open("HF_TOKEN", envelope, key)
        assert info.value.code == "secret_error-decrypt_failed"


@both_backends
@pytest.mark.parametrize("column", ["value", "salt", "nonce"])
def test_tampered_row_in_the_database(stack: tuple[Store, KeyringService, SecretService],
                                      column: str) -> None:
    db, _, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    row = _row(db, "HF_TOKEN")
    if column == "value":
        marker, body = row.value.split(":", 1)
        tampered = f"{marker}:{_flip(body, 3)}"
    else:
        tampered = _flip(getattr(row, column), 0)
    db.execute(f"UPDATE secrets SET {column} = ? WHERE name = 'HF_TOKEN'", [tampered])
    with pytest.raises(DecryptFailedError) as info:
        secret.retrieve_secret("HF_TOKEN")
    message = LocalizationService().render(info.value, {"prog": "bodhi"})
    assert "wrong master key or corrupted secret" in message
    assert "bodhi secret rm HF_TOKEN" in message


@both_backends
def test_a_value_moved_to_another_name_does_not_decrypt(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, _, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    db.execute("UPDATE secrets SET name = 'HF_TOKEM' WHERE name = 'HF_TOKEN'")
    with pytest.raises(DecryptFailedError):
        secret.retrieve_secret("HF_TOKEM")


@pytest.mark.parametrize(("value", "salt", "nonce", "error", "code"), [
    ("v2:AAAA", None, None, MalformedEnvelopeError, "secret_error-malformed_envelope"),
    ("v2:not base64!", None, None, MalformedEnvelopeError, "secret_error-malformed_envelope"),
    (None, "AAAA", None, MalformedEnvelopeError, "secret_error-malformed_envelope"),
    (None, None, "AAAA", MalformedEnvelopeError, "secret_error-malformed_envelope"),
    ("v2;i=0:AAAA", None, None, MalformedEnvelopeError, "secret_error-malformed_envelope"),
    ("v2;i=99999999999:AAAA", None, None, MalformedEnvelopeError,
     "secret_error-malformed_envelope"),
    ("v3:AAAA", None, None, UnsupportedEnvelopeError, "secret_error-unsupported_envelope"),
    ("bGVnYWN5", None, None, UnsupportedEnvelopeError, "secret_error-unsupported_envelope"),
])
def test_damaged_envelopes(stack: tuple[Store, KeyringService, SecretService],
                           value: str | None, salt: str | None, nonce: str | None,
                           error: type[SecretError], code: str) -> None:
    db, _, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    row = _row(db, "HF_TOKEN")
    db.execute("UPDATE secrets SET value = ?, salt = ?, nonce = ? WHERE name = 'HF_TOKEN'",
               [value or row.value, salt or row.salt, nonce or row.nonce])
    with pytest.raises(error) as info:
        secret.retrieve_secret("HF_TOKEN")
    assert info.value.code == code


# -- master keys ----------------------------------------------------------------------------


@both_backends
def test_wrong_master_key_is_an_error_never_garbage(isolated_env: Path) -> None:
    db, _, first, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_A)
    first.store_secret("HF_TOKEN", VALUE)
    db.close()
    db, _, second, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_B)
    with pytest.raises(SecretError) as info:
        second.retrieve_secret("HF_TOKEN")
    assert info.value.code == "secret_error-decrypt_failed"
    message = LocalizationService().render(info.value, {"prog": "%bodhi"})
    assert "wrong master key or corrupted secret" in message
    # Writing under the wrong key is refused too: the database names a key we lack.
    with pytest.raises(MasterKeyMissingError):
        second.store_secret("OTHER", "value-0123456789")
    db.close()


@both_backends
def test_a_damaged_key_id_still_opens_with_the_right_key(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, _, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    db.execute("UPDATE secrets SET key_id = 'ffffffffffffffff' WHERE name = 'HF_TOKEN'")
    assert secret.retrieve_secret("HF_TOKEN") == VALUE


@both_backends
def test_lost_key_file_then_starting_over(isolated_env: Path) -> None:
    db, keyring, secret, sessions = services(isolated_env)
    secret.store_secret("HF_TOKEN", VALUE)
    sessions.create("u1", {"access_token": "tok-0123456789abcdef"})
    db.close()
    keyring.key_file.unlink()
    db, keyring, secret, sessions = services(isolated_env)
    with pytest.raises(MasterKeyMissingError) as info:
        secret.retrieve_secret("HF_TOKEN")
    assert "the key file" in LocalizationService().render(info.value, {"prog": "bodhi"})
    assert "missing" in _en(secret.master_key_source())
    assert secret.delete_secret("HF_TOKEN") is True
    # With no user secret left, the next write creates a new key and starts over.
    secret.store_secret("HF_TOKEN", "hf_new_value_0123456")
    assert secret.retrieve_secret("HF_TOKEN") == "hf_new_value_0123456"
    assert keyring.take_notice() is not None
    db.close()


@both_backends
def test_kek_is_derived_once_per_process_and_key(
        stack: tuple[Store, KeyringService, SecretService], isolated_env: Path) -> None:
    db, _, secret = stack
    before = secret_module.kek_derivations()
    for i in range(20):
        secret.store_secret(f"S{i}", f"value-{i:04d}-abcdefgh")
    assert all(secret.retrieve_secret(f"S{i}") == f"value-{i:04d}-abcdefgh"
               for i in range(20))
    assert secret_module.kek_derivations() - before == 1
    # A second service on the same key (another registry in this kernel) reuses it.
    other = SecretService(SecretsTable(db), KeyringService(home=isolated_env), FrozenTimeService(),
                          kdf_iterations=TEST_ITERATIONS)
    assert other.retrieve_secret("S0") == "value-0000-abcdefgh"
    assert secret_module.kek_derivations() - before == 1


def test_production_iteration_count(isolated_env: Path) -> None:
    """One test derives with the real 600,000 iterations, and reads a test-count envelope."""
    db, _, fast, _ = services(isolated_env)
    fast.store_secret("FAST", "value-fast-0123456")
    db.close()
    db, _, real, _ = services(isolated_env, iterations=secret_module.KDF_ITERATIONS)
    assert real.kdf_iterations == 600_000
    real.store_secret("HF_TOKEN", VALUE)
    assert _row(db, "HF_TOKEN").value.startswith("v2:")
    assert real.retrieve_secret("HF_TOKEN") == VALUE
    assert real.retrieve_secret("FAST") == "value-fast-0123456"  # the marker says i=1000
    db.close()


def test_status_source_and_reprs_never_show_key_material(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    _, keyring, secret = stack
    assert _en(secret.master_key_source()).startswith("none yet")
    secret.store_secret("HF_TOKEN", VALUE)
    source = _en(secret.master_key_source())
    assert source == f"key file ({keyring.key_file})"
    material = json.loads(keyring.key_file.read_text())["current"]
    for text in (source, repr(secret), repr(keyring), repr(keyring.preferred())):
        assert material not in text and VALUE not in text


# -- rotation (in process; the crash test kills it) -------------------------------------------


@both_backends
def test_rotate_key_reseals_everything_in_the_same_store(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, keyring, secret = stack
    for i in range(5):
        secret.store_secret(f"S{i}", f"value-{i}-0123456789")
    old = keyring.preferred()
    assert old is not None
    rotation = secret.rotate_key()
    assert rotation.secrets == 5 and rotation.rows == 6  # + the key check
    new = keyring.preferred()
    assert new is not None and new.key_id == rotation.key_id != old.key_id
    assert new.source is KeySource.FILE
    doc = json.loads(keyring.key_file.read_text())
    assert set(doc) == {"format", "version", "current"}  # old key forgotten, nothing staged
    key_ids = {r[0] for r in db.execute("SELECT DISTINCT key_id FROM secrets")}
    assert key_ids == {new.key_id}
    fresh = SecretService(SecretsTable(db), KeyringService(home=keyring.home), FrozenTimeService(),
                          kdf_iterations=TEST_ITERATIONS)
    assert [fresh.retrieve_secret(f"S{i}") for i in range(5)] == [
        f"value-{i}-0123456789" for i in range(5)]


@both_backends
def test_interrupted_rotations_are_finished_or_undone(
        stack: tuple[Store, KeyringService, SecretService]) -> None:
    db, keyring, secret = stack
    secret.store_secret("HF_TOKEN", VALUE)
    # Crash after staging, before the transaction committed: the staged key is dropped.
    staged = keyring.stage_next(KeySource.FILE)
    assert secret.retrieve_secret("HF_TOKEN") == VALUE
    secret.rotate_key()
    assert "next" not in json.loads(keyring.key_file.read_text())
    assert secret.retrieve_secret("HF_TOKEN") == VALUE
    # Crash after the commit, before promotion: rows use the staged key, which is kept.
    staged = keyring.stage_next(KeySource.FILE)
    secret._reseal_all(staged, sealed_before=True)
    reader = SecretService(SecretsTable(db), KeyringService(home=keyring.home), FrozenTimeService(),
                           kdf_iterations=TEST_ITERATIONS)
    assert reader.retrieve_secret("HF_TOKEN") == VALUE
    with keyring.store_lock():
        secret._recover_staged()
    doc = json.loads(keyring.key_file.read_text())
    assert "next" not in doc and base64.b64decode(doc["current"]) == staged.material
    assert reader.retrieve_secret("HF_TOKEN") == VALUE


@both_backends
def test_rotation_with_environment_keys(isolated_env: Path) -> None:
    db, _, secret, _ = services(isolated_env)
    secret.store_secret("HF_TOKEN", VALUE)  # sealed with the key file's key
    db.close()
    # Setting BODHI_ENCRYPTION_KEY then rotating moves every secret to it.
    db, _, secret, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_A)
    assert _en(secret.master_key_source()).startswith("key file")
    assert secret.rotate_key().secrets == 1
    assert _en(secret.master_key_source()) == "BODHI_ENCRYPTION_KEY"
    with pytest.raises(EnvKeyRotationError):
        secret.rotate_key()  # bodhi cannot change the environment variable
    db.close()
    # Rotating the environment key itself: old value in _PREVIOUS.
    db, _, secret, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_B,
                                BODHI_ENCRYPTION_KEY_PREVIOUS=ENV_A)
    assert secret.rotate_key().secrets == 1
    db.close()
    db, _, secret, _ = services(isolated_env, BODHI_ENCRYPTION_KEY=ENV_B)
    assert secret.retrieve_secret("HF_TOKEN") == VALUE
    db.close()


@both_backends
def test_two_processes_writing_the_first_secret_agree_on_one_key(
        isolated_env: Path, subprocess_env: dict[str, str], python: str) -> None:
    import subprocess

    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from _secret_support import services\n"
        "db, _, secret, _ = services(Path(sys.argv[1]))\n"
        "secret.store_secret(sys.argv[2], 'value-of-' + sys.argv[2])\n"
        "db.close()\n"
    )
    env = dict(subprocess_env, PYTHON_KEYRING_BACKEND=HEADLESS)
    env["PYTHONPATH"] = f"{Path(__file__).parent}:{env['PYTHONPATH']}"
    procs = [subprocess.Popen([python, "-c", code, str(isolated_env), f"S{i}"], env=env,
                              stderr=subprocess.PIPE, text=True) for i in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    db, _, secret, _ = services(isolated_env)
    assert [secret.retrieve_secret(f"S{i}") for i in range(3)] == [
        f"value-of-S{i}" for i in range(3)]
    assert db.execute("SELECT count(DISTINCT key_id) FROM secrets") == [(1,)]
    db.close()


def test_the_new_key_notice_speaks_the_users_language(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from bodhi_nb.cli import main

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="", stream=None: "v" * 24)
    assert main(["secret", "set", "HF_TOKEN"]) == 0
    out = capsys.readouterr().out
    assert "Nouvelle clé maîtresse créée dans le fichier" in out
    assert "Created a new master key" not in out


def test_where_the_key_lives_speaks_the_users_language(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 8 item 26: status's master-key line was English in every locale."""
    from bodhi_nb.cli import main

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("BODHI_LOCALE", "fr-FR")
    for argv in (["status"], ["status", "--verbose"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "pas encore (le premier `bodhi secret set` la crée" in out, argv
        assert "none yet" not in out, argv
