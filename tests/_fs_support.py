"""A read-only folder for tests, also when the tests run as root (who ignores modes)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` cannot be written while the block runs: mode 0500 for a normal user, a
    read-only bind mount for root (skips the test where mounting is not allowed)."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    mount = shutil.which("mount")
    if mount is None:
        pytest.skip("root, and no mount(8) to make a read-only folder")
    bind = subprocess.run([mount, "--bind", str(folder), str(folder)], capture_output=True)
    if bind.returncode != 0:
        pytest.skip(f"root, and cannot bind-mount: {bind.stderr.decode().strip()}")
    try:
        subprocess.run([mount, "-o", "remount,ro,bind", str(folder)], check=True,
                       capture_output=True)
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
