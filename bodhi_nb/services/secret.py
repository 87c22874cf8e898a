"""SecretService: values encrypted at rest in DuckDB's ``secrets`` table.

Scheme (envelope version ``v2``, BodhiApp's HEAD scheme without its nonce reuse):

* master key: 32 bytes from :class:`~bodhi_nb.services.keyring.KeyringService`;
* KEK = PBKDF2-HMAC-SHA256(master key, salt ``bodhi_nb:kek:v2``, 600,000 iterations),
  derived once per process and master key, on first use (never at import);
* per value: a fresh random 32-byte salt and 12-byte nonce on *every* write; data key =
  HKDF-SHA256(KEK, salt, info ``bodhi_nb:secret:v2``); AES-256-GCM with the secret's name as
  associated data, so a value moved to another name does not decrypt;
* stored as ``value = "v2:" + base64(ciphertext+tag)``, base64 ``salt`` and ``nonce``, and
  ``key_id``, the public fingerprint of the master key that sealed the row. The version
  names the algorithm suite; a non-default iteration count is written into the marker
  (``v2;i=1000:``), so an envelope always carries what is needed to open it.

Tampering with any stored byte, or a wrong master key, raises ``SecretError``; a value is
never returned unless it authenticates.

The row ``bodhi:key_check`` records which master key new rows are sealed with (its
``key_id``). Writers read it inside their transaction, and key rotation re-seals every row and
moves it in one transaction, then promotes the new key in the key store: at every instant
each row names a key that the key store still holds. Names starting with ``bodhi:`` are
internal (session tokens, API keys) and never listed.

When the key check names a key this machine cannot find (a lost key file, a different
BODHI_ENCRYPTION_KEY), only session tokens are disposable: they are dropped and the store
starts over with the key at hand. Any other row (a user secret, an API key) makes every
write refuse with ``master_key_missing`` and the rows stay as they are.

Slow steps never run under the database lease: key derivation (PBKDF2), looking up the key
stores (the OS keyring), creating a key and sealing a value all happen before or between
units of work, and a unit of work only reads the key check and writes the row.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets as _random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from bodhi_nb.errors import (
    DecryptFailedError,
    EnvKeyRotationError,
    MalformedEnvelopeError,
    MasterKeyMissingError,
    SecretInvalidNameError,
    UnsupportedEnvelopeError,
)
from bodhi_nb.objs import Envelope, Notice, SecretInfo
from bodhi_nb.redact import SecretStr, get_logger, redact, register_secret
from bodhi_nb.services.keyring import KeyringService, KeySource, MasterKey
from bodhi_nb.services.policy import Action, Gate, allow_all
from bodhi_nb.services.time import TimeService
from bodhi_nb.store.secrets import SecretsTable

__all__ = [
    "DISPOSABLE_PREFIX",
    "ENVELOPE_VERSION",
    "INTERNAL_PREFIX",
    "KDF_ITERATIONS",
    "NONCE_BYTES",
    "SALT_BYTES",
    "Envelope",
    "Rotation",
    "SecretInfo",
    "SecretService",
    "check_name",
]

ENVELOPE_VERSION = "v2"
KDF_ITERATIONS = 600_000
SALT_BYTES = 32
NONCE_BYTES = 12
INTERNAL_PREFIX = "bodhi:"
KEY_CHECK = "bodhi:key_check"
#: Rows that may be dropped when their key is lost: a session ends, nothing else is lost.
DISPOSABLE_PREFIX = "bodhi:session:"
_KEY_CHECK_TEXT = "bodhi_nb key check"
_KEK_SALT = b"bodhi_nb:kek:v2"
_HKDF_INFO = b"bodhi_nb:secret:v2"
_TAG_BYTES = 16
_MAX_ITERATIONS = 10_000_000
#: from this many PBKDF2 rounds a derivation outlasts a close and a reopen of the database
_SLOW_KDF = 50_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,127}")
_ENVELOPE = re.compile(r"(v\d+)((?:;[a-z]+=[0-9a-z]+)*):(.*)", re.DOTALL)

_log = get_logger("bodhi_nb.secret")

# KEKs by (key id, iterations): PBKDF2 runs once per process and master key.
_KEKS: dict[tuple[str, int], bytes] = {}
_KEKS_LOCK = threading.Lock()
_STATS = {"kek_derivations": 0}


def _kek(key: MasterKey, iterations: int) -> bytes:
    cache_key = (key.key_id, iterations)
    with _KEKS_LOCK:  # held while deriving, so two threads never derive the same KEK
        kek = _KEKS.get(cache_key)
        if kek is None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

            kek = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=_KEK_SALT,
                             iterations=iterations).derive(key.material)
            _KEKS[cache_key] = kek
            _STATS["kek_derivations"] += 1
        return kek


def _kek_cached(key: MasterKey, iterations: int) -> bool:
    with _KEKS_LOCK:
        return (key.key_id, iterations) in _KEKS


def kek_derivations() -> int:
    """How many KEKs this process has derived (for tests and benchmarks)."""
    return _STATS["kek_derivations"]


def forget_keks() -> None:
    """Drop every cached KEK (benchmarks measure the one-time derivation with it)."""
    with _KEKS_LOCK:
        _KEKS.clear()


def check_name(name: str) -> str:
    """A user secret name: letters, digits, ``_ . -``, starting with a letter or ``_``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SecretInvalidNameError(name=_shown_name(name))
    return name


def _shown_name(name: object) -> str:
    # A rejected "name" may be a pasted token: show it only if it looks like a name.
    text = str(name)
    if len(text) <= 64 and not any(c.isspace() or c in "=:" for c in text):
        return text
    return redact(text)


@dataclass(frozen=True)
class Rotation:
    """The outcome of :meth:`SecretService.rotate_key`."""

    secrets: int
    rows: int
    key_id: str
    source: Notice


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SecretService:
    """Store, retrieve, delete and list encrypted secrets; rotate the master key.

    ``kdf_iterations`` is for tests only (the default is 600,000); envelopes record it.
    """

    def __init__(self, secrets: SecretsTable, keyring: KeyringService, time: TimeService, *,
                 kdf_iterations: int | None = None, gate: Gate = allow_all) -> None:
        self._gate = gate
        self._secrets = secrets
        self._keyring = keyring
        self._time = time
        self.kdf_iterations = int(kdf_iterations or KDF_ITERATIONS)
        if not 1 <= self.kdf_iterations <= _MAX_ITERATIONS:
            raise ValueError("kdf_iterations out of range")
        self._keys: dict[str, MasterKey] = {}
        #: the key the last write used; the key check read in each write confirms it.
        self._active: MasterKey | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return (f"SecretService(store={self._secrets.store.backend}, "
                f"kdf_iterations={self.kdf_iterations})")

    # -- public API -----------------------------------------------------------------------------

    def store_secret(self, name: str, value: str) -> None:
        """Encrypt and store ``value`` under ``name`` (replacing any previous value)."""
        self._gate(Action.SECRETS)
        self._put(check_name(name), value)

    def retrieve_secret(self, name: str) -> SecretStr | None:
        """The decrypted value (a ``str`` with a redacted repr), or None when absent."""
        return self._get(check_name(name))

    def delete_secret(self, name: str) -> bool:
        """Remove ``name``; False when there was no such secret."""
        self._gate(Action.SECRETS)
        rows = self._secrets.delete([check_name(name)])
        _log.debug("deleted secret %s: %s", name, bool(rows))
        return bool(rows)

    def list_secrets(self) -> list[SecretInfo]:
        """Names and timestamps of the user's secrets, by name."""
        self._gate(Action.SECRETS)
        return self._secrets.list_info(hidden_prefix=INTERNAL_PREFIX)

    # Internal names (``bodhi:...``) hold values other services seal, e.g. session tokens.

    def store_internal(self, name: str, value: str) -> None:
        self._put(_internal(name), value)

    def retrieve_internal(self, name: str) -> SecretStr | None:
        return self._get(_internal(name))

    def delete_internal(self, names: Iterable[str]) -> int:
        wanted = [_internal(n) for n in names]
        if not wanted:
            return 0
        return len(self._secrets.delete(wanted))

    # -- the master key -------------------------------------------------------------------------

    def active_key(self) -> MasterKey | None:
        """The key new rows are sealed with (None before the first secret)."""
        with self._secrets.transaction():
            row = self._key_check_row()
        if row is None:
            return None
        key = self._find_key(row.key_id)
        if key is None:
            raise MasterKeyMissingError(key_id=row.key_id)
        return key

    def master_key_source(self) -> Notice:
        """Which source holds the master key in use, for ``status``. Never raises.

        Asks the OS keyring only when the key in use is neither in the environment nor in
        the key file (probing a keyring can take a third of a second)."""
        try:
            with self._secrets.transaction():
                row = self._key_check_row()
            if row is None:
                return self._keyring.describe_source(probe=False)
            active = self._find_key(row.key_id)
        except Exception as exc:  # status must always render
            return Notice("keysrc-unusable", reason=getattr(exc, "code", type(exc).__name__))
        if active is None:
            return Notice("keysrc-missing", key_id=row.key_id)
        return self._keyring.describe(active)

    def ensure_key(self) -> MasterKey:
        """The active key, creating the master key on the very first write.

        The database lease is held only to read and write the key check: key stores are
        read, a key created (under the key-store lock) and the KEK derived outside it.
        When the key check names a lost key and only session tokens depend on it, the store
        starts over with the key at hand; any other row makes it refuse.
        """
        for _attempt in range(3):
            with self._secrets.transaction():
                row = self._key_check_row()
            if row is not None:
                # (a key not met yet is looked up with the lease handed back: a keyring
                # may be slow)
                key = self._find_key(row.key_id, hand_back=True)
                if key is not None:
                    self._prime(key)
                    self._active = key
                    return key
                with self._secrets.transaction():
                    if self._kept_rows():
                        raise MasterKeyMissingError(key_id=row.key_id)
            self._secrets.hand_back()
            candidate = self._keyring.preferred()
            if candidate is None:
                with self._keyring.store_lock():
                    candidate = self._keyring.preferred() or self._keyring.create()
            self._remember(candidate)
            self._prime(candidate)
            check = self.seal(KEY_CHECK, _KEY_CHECK_TEXT, candidate)
            with self._secrets.transaction():
                now = self._key_check_row()
                if (now.key_id if now else None) != (row.key_id if row else None):
                    continue  # another process got there first: use what it wrote
                if row is not None:
                    if self._kept_rows():
                        raise MasterKeyMissingError(key_id=row.key_id)
                    dropped = self._secrets.delete_prefixed(DISPOSABLE_PREFIX)
                    _log.warning("master key %s is lost: %d session(s) ended, starting over "
                                 "with key %s", row.key_id, len(dropped), candidate.key_id)
                self._upsert(KEY_CHECK, check)
            self._active = candidate
            return candidate
        raise MasterKeyMissingError(key_id="?")

    def rotate_key(self) -> Rotation:
        """Re-seal every stored value with a new master key, crash-safely.

        1. (under the key-store lock) finish or undo an interrupted rotation;
        2. generate the new key into the store's ``next`` slot (or, with
           BODHI_ENCRYPTION_KEY set, take that key as the target);
        3. one transaction re-seals every row, and the key check, with the new key;
        4. promote the new key to ``current`` and forget the old one.

        A crash before 3 commits leaves rows under the old key, which is still current; a
        crash after leaves rows under the new key, which is staged or current.
        """
        self._gate(Action.SECRETS)
        with self._keyring.store_lock():
            self._recover_staged()
            active = self.active_key()
            env_key = next((k for k in self._keyring.env_keys()
                            if k.source is KeySource.ENV), None)
            staged_in: KeySource | None = None
            if env_key is not None:
                if active is None or active.key_id == env_key.key_id:
                    raise EnvKeyRotationError()
                target = env_key
            else:
                store: KeySource
                if active is not None and active.source in (KeySource.KEYRING, KeySource.FILE):
                    store = active.source
                else:
                    existing = self._keyring.preferred()
                    store = (existing.source if existing is not None
                             and existing.source in (KeySource.KEYRING, KeySource.FILE)
                             else self._keyring.new_key_source())
                    if existing is None:
                        self._keyring.create()
                target = self._keyring.stage_next(store)
                staged_in = store
            self._remember(target)
            # Derive the KEKs before the one long transaction, not inside it.
            self._prime(target)
            if active is not None:
                self._prime(active)
            secrets, rows = self._reseal_all(target, sealed_before=active is not None)
            if staged_in is not None:
                self._keyring.promote_next(staged_in)
        self._remember(target)
        self._active = target
        _log.info("rotated master key to %s: %d rows re-sealed", target.key_id, rows)
        return Rotation(secrets, rows, target.key_id, self._keyring.describe(target))

    # -- sealing --------------------------------------------------------------------------------

    def seal(self, name: str, value: str, key: MasterKey) -> Envelope:
        """Encrypt ``value`` for ``name`` with a fresh salt and nonce."""
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        salt = _random.token_bytes(SALT_BYTES)
        nonce = _random.token_bytes(NONCE_BYTES)
        data_key = self._data_key(key, salt, self.kdf_iterations)
        sealed = AESGCM(data_key).encrypt(nonce, value.encode("utf-8"), name.encode("utf-8"))
        marker = (ENVELOPE_VERSION if self.kdf_iterations == KDF_ITERATIONS
                  else f"{ENVELOPE_VERSION};i={self.kdf_iterations}")
        return Envelope(f"{marker}:{_b64(sealed)}", _b64(salt), _b64(nonce), key.key_id)

    def open(self, name: str, envelope: Envelope, key: MasterKey) -> str:
        """Decrypt ``envelope`` stored under ``name``; SecretError unless it authenticates."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        iterations, sealed, salt, nonce = _parse(name, envelope)
        data_key = self._data_key(key, salt, iterations)
        try:
            plain = AESGCM(data_key).decrypt(nonce, sealed, name.encode("utf-8"))
            return plain.decode("utf-8")
        except (InvalidTag, UnicodeDecodeError):
            raise DecryptFailedError(name=name) from None

    @staticmethod
    def _data_key(key: MasterKey, salt: bytes, iterations: int) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                    info=_HKDF_INFO).derive(_kek(key, iterations))

    # -- internals ------------------------------------------------------------------------------

    def _prime(self, key: MasterKey, iterations: int | None = None) -> None:
        """Derive the KEK for ``key`` now, with the lease handed back first (PBKDF2 takes
        a good part of a second, and other kernels must not wait for it)."""
        rounds = iterations or self.kdf_iterations
        if not _kek_cached(key, rounds):
            if rounds >= _SLOW_KDF:
                self._secrets.hand_back()  # not for a test's cheap KEK: a hand-back costs more
            _kek(key, rounds)

    def _put(self, name: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a secret value is a str")
        register_secret(value)
        key = self._active
        first = False  # whether this write may start a fresh store (write the key check)
        if key is None:
            # The key at hand is, nearly always, the one the key check names: seal with it
            # before taking the lease, and confirm it in the same unit of work. The key
            # file or the environment first: loading a keyring backend is slow.
            key = self._keyring.likely_key()
            if key is None:
                key = self._keyring.preferred()
                first = key is not None
            if key is None:
                key = self.ensure_key()
            else:
                self._remember(key)
        for _attempt in range(3):
            self._prime(key)
            envelope = self.seal(name, value, key)  # sealed before the lease is taken
            check = self.seal(KEY_CHECK, _KEY_CHECK_TEXT, key) if first else None
            with self._secrets.transaction():
                row = self._key_check_row()
                fresh_store = row is None and check is not None
                if row is None and check is not None:
                    self._upsert(KEY_CHECK, check)  # the very first secret here
                if fresh_store or (row is not None and row.key_id == key.key_id):
                    self._upsert(name, envelope)
                    self._active = key
                    _log.debug("stored secret %s with key %s", name, key.key_id)
                    return
            # The store names another key (rotated elsewhere, lost) or was started over:
            # the full path decides, outside the lease.
            self._active = None
            first = False
            key = self.ensure_key()
        raise MasterKeyMissingError(key_id="?")

    def _get(self, name: str) -> SecretStr | None:
        envelope = self._secrets.get(name)
        if envelope is None:
            return None
        key = self._find_key(envelope.key_id, hand_back=True)
        if key is None:
            # The key id itself may be what was damaged; the chain's key decides.
            self._secrets.hand_back()
            key = self._keyring.preferred()
            if key is None:
                raise MasterKeyMissingError(key_id=envelope.key_id)
        iterations = _parse(name, envelope)[0]
        self._prime(key, iterations)
        plain = self.open(name, envelope, key)
        register_secret(plain)
        return SecretStr(plain)

    def _upsert(self, name: str, envelope: Envelope) -> None:
        self._secrets.upsert(name, envelope, self._time.utc_now())

    def _write_key_check(self, key: MasterKey) -> None:
        self._upsert(KEY_CHECK, self.seal(KEY_CHECK, _KEY_CHECK_TEXT, key))

    def _key_check_row(self) -> _KeyCheck | None:
        key_id = self._secrets.key_id(KEY_CHECK)
        return _KeyCheck(key_id) if key_id is not None else None

    def _kept_rows(self) -> int:
        """Rows that must never be dropped for a lost key: all but session tokens and the
        key check (user secrets, API keys, any internal value but a session's)."""
        return self._secrets.count_except(KEY_CHECK, prefix=DISPOSABLE_PREFIX)

    def _remember(self, key: MasterKey) -> None:
        with self._lock:
            self._keys[key.key_id] = key

    def _find_key(self, key_id: str, *, hand_back: bool = False) -> MasterKey | None:
        with self._lock:
            found = self._keys.get(key_id)
            if found is not None:
                return found
            if hand_back:
                self._secrets.hand_back()
            for key in self._keyring.known_keys():
                self._keys.setdefault(key.key_id, key)
                if key.key_id == key_id:
                    return key
            return None

    def _recover_staged(self) -> None:
        """Finish (promote) or undo (discard) a rotation a crash interrupted.

        Caller holds the key-store lock. A staged key that the key check names was committed
        to; any other staged key sealed nothing (writers only use the key-check key).
        """
        with self._secrets.transaction():
            row = self._key_check_row()
        active_id = row.key_id if row is not None else None
        for store in self._keyring.stores():
            staged = self._keyring.staged(store)
            if staged is None:
                continue
            if staged.key_id == active_id:
                self._keyring.promote_next(store)
            else:
                self._keyring.discard_next(store)
            _log.info("recovered an interrupted key rotation in %s", store.value)

    def _reseal_all(self, target: MasterKey, *, sealed_before: bool) -> tuple[int, int]:
        with self._secrets.transaction():
            rows = self._secrets.all()
            user = 0
            for name, envelope in rows:
                key = self._find_key(envelope.key_id)
                if key is None:
                    raise MasterKeyMissingError(key_id=envelope.key_id)
                self._secrets.reseal(name, self.seal(name, self.open(name, envelope, key), target))
                user += not name.startswith(INTERNAL_PREFIX)
            if sealed_before and not any(r[0] == KEY_CHECK for r in rows):
                self._write_key_check(target)
        return user, len(rows)


@dataclass(frozen=True)
class _KeyCheck:
    key_id: str


def _internal(name: str) -> str:
    if not name.startswith(INTERNAL_PREFIX) or name == KEY_CHECK:
        raise SecretInvalidNameError(name=_shown_name(name))
    return name


def _parse(name: str, envelope: Envelope) -> tuple[int, bytes, bytes, bytes]:
    match = _ENVELOPE.fullmatch(envelope.value)
    if match is None:
        raise UnsupportedEnvelopeError(name=name, version="legacy (no version marker)")
    if match[1] != ENVELOPE_VERSION:
        raise UnsupportedEnvelopeError(name=name, version=match[1])
    iterations = KDF_ITERATIONS
    for part in filter(None, match[2].split(";")):
        key, _, raw = part.partition("=")
        if key != "i" or not raw.isdigit() or not 1 <= int(raw) <= _MAX_ITERATIONS:
            raise MalformedEnvelopeError(name=name, reason=f"bad parameter {key!r}")
        iterations = int(raw)
    try:
        sealed = base64.b64decode(match[3], validate=True)
        salt = base64.b64decode(envelope.salt, validate=True)
        nonce = base64.b64decode(envelope.nonce, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEnvelopeError(name=name, reason="not base64") from None
    if len(salt) != SALT_BYTES:
        raise MalformedEnvelopeError(name=name, reason=f"salt of {len(salt)} bytes")
    if len(nonce) != NONCE_BYTES:
        raise MalformedEnvelopeError(name=name, reason=f"nonce of {len(nonce)} bytes")
    if len(sealed) < _TAG_BYTES:
        raise MalformedEnvelopeError(name=name, reason="truncated ciphertext")
    return iterations, sealed, salt, nonce
