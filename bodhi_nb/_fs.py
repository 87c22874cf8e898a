"""Small file-system helpers shared by services and the store."""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from pathlib import Path

__all__ = ["FlockFile", "atomic_write_text", "make_private_dir"]


def atomic_write_text(path: Path, text: str, *, shared: bool = False) -> None:
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never a part.

    The file is private (0600) by default: settings, aliases and keys. ``shared=True`` gives
    it 0666 less the process umask instead, as huggingface_hub's cache files get, so another
    user of a shared ``HF_HOME`` can read a ref bodhi wrote.
    """
    if shared:
        tmp = str(path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp"))
        # O_CREAT's mode goes through the umask (thread-safe, unlike reading os.umask).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o666)
    else:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) with the leaf 0700 whatever the umask; an existing
    folder is left as it is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        if not path.is_dir():
            raise
        return
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


class FlockFile:
    """An exclusive lock between processes on a file (``flock(2)``, as the ``filelock``
    package takes it, without its import cost): the kernel drops it when the process dies,
    so a killed holder never blocks anyone. Any thread may release what another took."""

    def __init__(self, path: Path, mode: int = 0o600) -> None:
        self.path = Path(path)
        self.mode = mode
        self._fd: int | None = None
        self._guard = threading.Lock()

    @property
    def is_locked(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; never waits. OSError if the file cannot be made."""
        import fcntl

        with self._guard:
            if self._fd is not None:
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self.mode)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            except OSError:
                os.close(fd)
                raise
            self._fd = fd
            return True

    def acquire(self, timeout: float, poll: float = 0.005) -> bool:
        """Wait up to ``timeout`` seconds for the lock; False if it stayed taken."""
        import time

        deadline = time.monotonic() + timeout
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)
        return True

    def release(self) -> None:
        import fcntl

        with self._guard:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
