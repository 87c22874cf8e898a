"""KeyringService: credentials in the OS keyring, and where the master key lives.

The master key (32 random bytes) seals every secret (see :mod:`bodhi_nb.services.secret`).
It is resolved along one chain, first match wins:

1. ``BODHI_ENCRYPTION_KEY`` (at least 20 characters; the key is its SHA-256), plus
   ``BODHI_ENCRYPTION_KEY_PREVIOUS`` as an extra key for reading while rotating it;
2. the OS keyring (service ``bodhi_nb``, entry ``master_key``), when a real backend exists;
3. a key file outside BODHI_HOME: ``$XDG_CONFIG_HOME/bodhi_nb/master.key`` (else
   ``~/.config/bodhi_nb/master.key``), mode 0600 in a 0700 folder.

Nothing is created until the first secret is written; then the key goes to the keyring if a
real backend exists, else to the key file, and the caller gets a one-time notice. On a
headless machine (JupyterHub, containers) ``keyring`` has only its ``fail`` backend, which
raises ``NoKeyringError``: that is the normal case and selects the key file, not an error.

A key store (keyring or key file) has a ``current`` slot and, during a key rotation, a
``next`` slot: the new key is staged there before any secret uses it and promoted after the
database commits, so a crash at any point leaves every secret readable (rows name the key
that sealed them by ``key_id``). Stores are changed only under :meth:`store_lock`.

The ``keyring`` package is imported on first use, never at import time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets as _random
import stat
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bodhi_nb._fs import atomic_write_text
from bodhi_nb.errors import (
    EnvKeyPlaceholderError,
    EnvKeyTooShortError,
    KeyFileAccessError,
    KeyFileInsecureError,
    KeyFileInsideHomeError,
    KeyFileInvalidError,
    KeyringBackendFailedError,
    KeyringError,
    KeyringUnavailableError,
)
from bodhi_nb.objs import Notice
from bodhi_nb.redact import MASK, get_logger, register_secret, scrub

__all__ = [
    "ENV_KEY",
    "ENV_KEY_PREVIOUS",
    "KEYRING_SERVICE",
    "MASTER_KEY_ENTRY",
    "MIN_ENV_KEY_LENGTH",
    "KeySource",
    "KeyringService",
    "MasterKey",
    "Slot",
    "default_config_dir",
    "key_id_of",
]

ENV_KEY = "BODHI_ENCRYPTION_KEY"
ENV_KEY_PREVIOUS = "BODHI_ENCRYPTION_KEY_PREVIOUS"
MIN_ENV_KEY_LENGTH = 20
KEYRING_SERVICE = "bodhi_nb"
MASTER_KEY_ENTRY = "master_key"
NEXT_KEY_ENTRY = "master_key.next"
KEY_FILE_NAME = "master.key"
_KEY_FILE_FORMAT = "bodhi_nb master key"
_KEY_BYTES = 32
# Example values from .env templates and docs that people leave in place.
_PLACEHOLDERS = ("changeme", "replaceme", "yourencryptionkey", "encryptionkey", "placeholder",
                 "secretkey", "xxxxxxxx", "example")
_ENV_NAMES = (ENV_KEY, ENV_KEY_PREVIOUS, "PYTHON_KEYRING_BACKEND", "XDG_CONFIG_HOME", "HOME")

_log = get_logger("bodhi_nb.keyring")


class KeySource(StrEnum):
    """Where a master key comes from (what ``status`` shows; never the key)."""

    ENV = "BODHI_ENCRYPTION_KEY"
    ENV_PREVIOUS = "BODHI_ENCRYPTION_KEY_PREVIOUS"
    KEYRING = "keyring"
    FILE = "key file"


class Slot(StrEnum):
    CURRENT = "current"
    NEXT = "next"


def key_id_of(material: bytes) -> str:
    """A short public fingerprint of a master key: names it without revealing it."""
    return hmac.new(material, b"bodhi_nb:key-id:v1", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True, repr=False, eq=False)
class MasterKey:
    """A master key, where it came from and its fingerprint. Its repr never shows it."""

    material: bytes
    source: KeySource
    slot: Slot = Slot.CURRENT
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.material) != _KEY_BYTES:
            raise ValueError("a master key is 32 bytes")
        object.__setattr__(self, "key_id", key_id_of(self.material))

    def __repr__(self) -> str:
        return (f"MasterKey(key_id={self.key_id!r}, source={self.source.value!r}, "
                f"slot={self.slot.value!r}, material={MASK!r})")


def default_config_dir(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/bodhi_nb``, else ``~/.config/bodhi_nb`` (XDG: relative is ignored)."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path(
        env.get("HOME") or Path.home()) / ".config"
    return base / "bodhi_nb"


def _first_line(exc: BaseException) -> str:
    return scrub((str(exc).strip().splitlines() or [type(exc).__name__])[0])


class KeyringService:
    """Credentials over the ``keyring`` package, and the master-key chain.

    ``env`` is the environment as it was when the registry was built; ``config_dir`` holds
    the key file; ``home`` is BODHI_HOME (the key file must not be inside it).
    """

    def __init__(self, *, env: Mapping[str, str] | None = None, config_dir: Path | None = None,
                 home: Path | None = None) -> None:
        self._env = dict(os.environ if env is None else env)
        self.config_dir = Path(config_dir) if config_dir else default_config_dir(self._env)
        self.home = Path(home) if home else None
        self._lock = threading.RLock()
        self._backend: Any = None
        self._backend_reason = ""
        self._backend_checked = False
        self._notice: Notice | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> KeyringService:
        env = {k: v for k in _ENV_NAMES if (v := settings.env(k)) is not None}
        return cls(env=env, home=settings.home)

    def __repr__(self) -> str:
        return f"KeyringService(config_dir={str(self.config_dir)!r})"

    # -- the keyring backend -----------------------------------------------------------------

    def backend(self) -> Any | None:
        """The usable keyring backend, or None (headless, or a non-viable choice).

        Never raises: ``PYTHON_KEYRING_BACKEND`` naming a missing or non-viable backend makes
        ``keyring`` raise RuntimeError/ImportError, and that only means "no keyring here".
        """
        with self._lock:
            if self._backend_checked:
                return self._backend
            self._backend_checked = True
            name = self._env.get("PYTHON_KEYRING_BACKEND")
            try:
                import keyring
                from keyring import core

                found = core.load_keyring(name) if name else keyring.get_keyring()
            except Exception as exc:  # any failure here means "no keyring"
                self._backend_reason = f"{name or 'keyring'}: {_first_line(exc)}"
                _log.info("no usable keyring backend (%s)", self._backend_reason)
                return None
            if not _viable(found):
                self._backend_reason = f"{_backend_name(found)} stores nothing"
                return None
            self._backend = found
            return found

    @property
    def available(self) -> bool:
        return self.backend() is not None

    def backend_name(self) -> str:
        found = self.backend()
        return _backend_name(found) if found is not None else "none"

    def get_credential(self, account: str) -> str | None:
        """The credential stored for ``account`` (None when absent)."""
        backend = self._require_backend()
        try:
            value = backend.get_password(KEYRING_SERVICE, account)
        except Exception as exc:  # translated at this one boundary
            raise self._translate(exc) from exc
        if value is not None:
            register_secret(value)
        return None if value is None else str(value)

    def set_credential(self, account: str, value: str) -> None:
        backend = self._require_backend()
        register_secret(value)
        try:
            backend.set_password(KEYRING_SERVICE, account, value)
        except Exception as exc:
            raise self._translate(exc) from exc

    def delete_credential(self, account: str) -> bool:
        """Remove ``account``; False when there was nothing to remove."""
        backend = self._require_backend()
        from keyring.errors import PasswordDeleteError

        try:
            backend.delete_password(KEYRING_SERVICE, account)
        except PasswordDeleteError:
            return False
        except Exception as exc:
            raise self._translate(exc) from exc
        return True

    def _require_backend(self) -> Any:
        backend = self.backend()
        if backend is None:
            raise KeyringUnavailableError(reason=self._backend_reason or "no backend")
        return backend

    def _translate(self, exc: Exception) -> Exception:
        from keyring.errors import NoKeyringError

        if isinstance(exc, NoKeyringError):
            return KeyringUnavailableError(reason=_first_line(exc))
        return KeyringBackendFailedError(backend=self.backend_name(), reason=_first_line(exc))

    # -- the master key chain -----------------------------------------------------------------

    def env_keys(self) -> list[MasterKey]:
        """Keys from the environment: BODHI_ENCRYPTION_KEY, then the _PREVIOUS one."""
        keys = []
        for name, source in ((ENV_KEY, KeySource.ENV), (ENV_KEY_PREVIOUS, KeySource.ENV_PREVIOUS)):
            raw = self._env.get(name)
            if raw:
                keys.append(MasterKey(_env_material(raw), source))
        return keys

    @property
    def key_file(self) -> Path:
        return self.config_dir / KEY_FILE_NAME

    def preferred(self) -> MasterKey | None:
        """The chain's master key: env > keyring > key file; None when none exists yet."""
        for key in self.env_keys():
            if key.source is KeySource.ENV:
                return key
        if self.available:
            found = self._keyring_slots().get(Slot.CURRENT)
            if found is not None:
                return found
        return self._file_slots().get(Slot.CURRENT)

    def likely_key(self) -> MasterKey | None:
        """The key found without asking the OS keyring (the environment's, else the key
        file's), or None. A guess to check against the database's key check, for a writer
        that would rather not load a keyring backend (a third of a second) first."""
        for key in self.env_keys():
            if key.source is KeySource.ENV:
                return key
        try:
            return self._file_slots().get(Slot.CURRENT)
        except KeyringError:
            return None

    def known_keys(self) -> Iterator[MasterKey]:
        """Every key this machine can reach, cheapest source first, read lazily (so a
        caller looking for one key id stops before asking a slow keyring)."""
        yield from self.env_keys()
        yield from self._file_slots().values()
        if self.available:
            yield from self._keyring_slots().values()

    def create(self) -> MasterKey:
        """Create the master key where the chain puts new keys; sets the one-time notice.

        Call under :meth:`store_lock` after checking :meth:`preferred` returned None.
        """
        material = _random.token_bytes(_KEY_BYTES)
        source = self.new_key_source()
        self._write_slot(source, Slot.CURRENT, material)
        key = MasterKey(material, source)
        if source is KeySource.KEYRING:
            self._notice = Notice("keyring-created-in-keyring", backend=self.backend_name(),
                                  service=KEYRING_SERVICE, entry=MASTER_KEY_ENTRY)
        else:
            self._notice = Notice("keyring-created-key-file", path=str(self.key_file))
        _log.info("created master key %s in %s", key.key_id, source.value)
        return key

    def new_key_source(self) -> KeySource:
        """Where a generated key goes: the keyring if a real one exists, else the key file."""
        return KeySource.KEYRING if self.available else KeySource.FILE

    def take_notice(self) -> Notice | None:
        """The notice about a newly created key, once."""
        with self._lock:
            notice, self._notice = self._notice, None
            return notice

    def describe_source(self, *, probe: bool = True) -> Notice:
        """Which source holds the master key, for ``status`` (a :class:`Notice` the front end
        renders in the user's language); never raises, never the key.

        With ``probe=False`` the OS keyring is not asked (loading a keyring backend can take
        a third of a second): the environment and the key file are enough to say where a key
        is, and otherwise that none is in use yet."""
        try:
            if probe or self._backend_checked:
                key = self.preferred()
            else:
                key = next((k for k in self.env_keys() if k.source is KeySource.ENV),
                           None) or self._file_slots().get(Slot.CURRENT)
        except Exception as exc:  # status must always render
            return Notice("keysrc-unusable", reason=type(exc).__name__)
        if key is None:
            if not probe and not self._backend_checked:
                return Notice("keysrc-none-yet")
            if self.available:
                return Notice("keysrc-none-yet-keyring", backend=self.backend_name())
            return Notice("keysrc-none-yet-file", path=str(self.key_file))
        return self.describe(key)

    def describe(self, key: MasterKey) -> Notice:
        """Where ``key`` lives, as a :class:`Notice` (never the key)."""
        if key.source is KeySource.KEYRING:
            return Notice("keysrc-keyring", backend=self.backend_name())
        if key.source is KeySource.FILE:
            return Notice("keysrc-file", path=str(self.key_file))
        return Notice("keysrc-env", name=key.source.value)

    # -- staging for rotation -----------------------------------------------------------------

    @contextmanager
    def store_lock(self) -> Iterator[None]:
        """Serialises changes to the key stores across processes (released on crash)."""
        from filelock import FileLock

        self._ensure_config_dir()
        with FileLock(str(self.config_dir / f"{KEY_FILE_NAME}.lock"), thread_local=False):
            yield

    def staged(self, source: KeySource) -> MasterKey | None:
        return self._slots(source).get(Slot.NEXT)

    def stage_next(self, source: KeySource) -> MasterKey:
        """Generate a key and store it in ``source``'s next slot (before any row uses it)."""
        material = _random.token_bytes(_KEY_BYTES)
        self._write_slot(source, Slot.NEXT, material)
        return MasterKey(material, source, Slot.NEXT)

    def promote_next(self, source: KeySource) -> None:
        """Make the staged key current and forget the old one (after the commit)."""
        if source is KeySource.FILE:
            slots = self._file_slots()
            staged = slots.get(Slot.NEXT)
            if staged is not None:
                self._write_file({Slot.CURRENT: staged.material})
            return
        staged = self._keyring_slots().get(Slot.NEXT)
        if staged is not None:
            # Two steps; a crash between them leaves current == next, which is harmless.
            self._write_slot(source, Slot.CURRENT, staged.material)
            self.delete_credential(NEXT_KEY_ENTRY)

    def discard_next(self, source: KeySource) -> None:
        """Drop a staged key that no row uses (a rotation that never committed)."""
        if source is KeySource.FILE:
            current = self._file_slots().get(Slot.CURRENT)
            if current is not None:
                self._write_file({Slot.CURRENT: current.material})
            return
        self.delete_credential(NEXT_KEY_ENTRY)

    def stores(self) -> list[KeySource]:
        """The key stores on this machine that can hold a key (keyring only if real)."""
        return [KeySource.KEYRING, KeySource.FILE] if self.available else [KeySource.FILE]

    # -- slots in each store ------------------------------------------------------------------

    def _slots(self, source: KeySource) -> dict[Slot, MasterKey]:
        if source is KeySource.KEYRING:
            return self._keyring_slots() if self.available else {}
        if source is KeySource.FILE:
            return self._file_slots()
        return {}

    def _keyring_slots(self) -> dict[Slot, MasterKey]:
        slots: dict[Slot, MasterKey] = {}
        for slot, entry in ((Slot.CURRENT, MASTER_KEY_ENTRY), (Slot.NEXT, NEXT_KEY_ENTRY)):
            raw = self.get_credential(entry)
            if raw is None:
                continue
            try:
                material = base64.b64decode(raw, validate=True)
                slots[slot] = MasterKey(material, KeySource.KEYRING, slot)
            except (binascii.Error, ValueError):
                raise KeyringBackendFailedError(
                    backend=self.backend_name(),
                    reason=f"the entry {entry!r} of service {KEYRING_SERVICE!r} is not a "
                           "bodhi master key") from None
        return slots

    def _file_slots(self) -> dict[Slot, MasterKey]:
        path = self.key_file
        try:
            info = path.stat()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KeyFileAccessError(path=path, reason=_first_line(exc)) from exc
        if info.st_mode & 0o077:
            raise KeyFileInsecureError(path=path, mode=f"{stat.S_IMODE(info.st_mode):04o}")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise KeyFileAccessError(path=path, reason=_first_line(exc)) from exc
        except ValueError:
            raise KeyFileInvalidError(path=path, reason="not JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != _KEY_FILE_FORMAT:
            raise KeyFileInvalidError(path=path, reason="unknown format")
        slots: dict[Slot, MasterKey] = {}
        for slot in Slot:
            raw = doc.get(slot.value)
            if raw is None:
                continue
            try:
                slots[slot] = MasterKey(base64.b64decode(str(raw), validate=True),
                                        KeySource.FILE, slot)
            except (binascii.Error, ValueError):
                raise KeyFileInvalidError(path=path, reason=f"bad {slot.value} key") from None
        if Slot.CURRENT not in slots:
            raise KeyFileInvalidError(path=path, reason="no current key")
        return slots

    def _write_slot(self, source: KeySource, slot: Slot, material: bytes) -> None:
        encoded = base64.b64encode(material).decode("ascii")
        if source is KeySource.KEYRING:
            self.set_credential(MASTER_KEY_ENTRY if slot is Slot.CURRENT else NEXT_KEY_ENTRY,
                                encoded)
            return
        if source is not KeySource.FILE:
            raise ValueError(f"cannot store a key in {source.value}")
        slots = {s: k.material for s, k in self._file_slots().items()}
        slots[slot] = material
        self._write_file(slots)

    def _write_file(self, slots: Mapping[Slot, bytes]) -> None:
        path = self.key_file
        self._ensure_config_dir()
        doc: dict[str, Any] = {"format": _KEY_FILE_FORMAT, "version": 1}
        doc.update({s.value: base64.b64encode(m).decode("ascii") for s, m in slots.items()})
        try:
            # mkstemp creates the temp file 0600; os.replace keeps that mode.
            atomic_write_text(path, json.dumps(doc, indent=1) + "\n")
            os.chmod(path, 0o600)
        except OSError as exc:
            raise KeyFileAccessError(path=path, reason=_first_line(exc)) from exc

    def _ensure_config_dir(self) -> None:
        folder = self.config_dir
        if self.home is not None:
            home = self.home.expanduser().resolve()
            target = folder.expanduser().resolve()
            if target == home or home in target.parents:
                raise KeyFileInsideHomeError(path=self.key_file, home=home)
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if stat.S_IMODE(folder.stat().st_mode) != 0o700:
                os.chmod(folder, 0o700)
        except OSError as exc:
            raise KeyFileAccessError(path=self.key_file, reason=_first_line(exc)) from exc


def _env_material(raw: str) -> bytes:
    """BodhiApp's rule: the master key is the SHA-256 of the variable's value."""
    if len(raw) < MIN_ENV_KEY_LENGTH:
        raise EnvKeyTooShortError(length=len(raw), min=MIN_ENV_KEY_LENGTH)
    squashed = "".join(c for c in raw.lower() if c.isalnum())
    if len(set(raw)) < 4 or any(squashed.startswith(p) for p in _PLACEHOLDERS):
        raise EnvKeyPlaceholderError()
    register_secret(raw)
    return hashlib.sha256(raw.encode("utf-8")).digest()


def _backend_name(backend: Any) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _viable(backend: Any) -> bool:
    """The ``fail`` and ``null`` backends (and an empty chainer) store nothing."""
    module = type(backend).__module__
    if module in ("keyring.backends.fail", "keyring.backends.null"):
        return False
    return getattr(backend, "backends", None) != []
