"""A real, file-based ``keyring`` backend for tests (selected with PYTHON_KEYRING_BACKEND).

``PYTHON_KEYRING_BACKEND=_secret_keyring_backend.FileKeyring`` plus
``BODHI_TEST_KEYRING_FILE=<path>`` stores entries as JSON in that file, written atomically.
Without the file variable the backend is not viable (its priority raises RuntimeError, as
keyring's own unusable backends do), so keyring's auto-detection never picks it by accident.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

PATH_ENV = "BODHI_TEST_KEYRING_FILE"
NAME = f"{__name__}.FileKeyring"


def _path() -> Path:
    raw = os.environ.get(PATH_ENV)
    if not raw:
        raise RuntimeError(f"{PATH_ENV} is not set")
    return Path(raw)


def read_entries(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        _path()
        return 1.0

    def _load(self) -> dict[str, Any]:
        return read_entries(_path())

    def _save(self, entries: dict[str, Any]) -> None:
        path = _path()
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def get_password(self, service: str, username: str) -> str | None:
        value = self._load().get(f"{service}/{username}")
        return None if value is None else str(value)

    def set_password(self, service: str, username: str, password: str) -> None:
        entries = self._load()
        entries[f"{service}/{username}"] = password
        self._save(entries)

    def delete_password(self, service: str, username: str) -> None:
        entries = self._load()
        if entries.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such entry")
        self._save(entries)
