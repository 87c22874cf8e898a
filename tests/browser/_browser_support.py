"""What the browser tests share besides fixtures (tests import it; conftest is pytest's)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from bodhi_nb.testing.jupyterlab import KERNEL_ENV, LabPage

ROOT = Path(__file__).resolve().parents[2]
HEADLESS_KEYRING = "keyring.backends.fail.Keyring"

OpenNotebook = Callable[..., LabPage]


def artefacts_dir() -> Path:
    """Where screenshots go: ``$BODHI_BROWSER_ARTEFACTS``, else ``build/browser-artefacts``."""
    return Path(os.environ.get("BODHI_BROWSER_ARTEFACTS")
                or ROOT / "build" / "browser-artefacts").resolve()


def kernel_env(**extra: str) -> dict[str, str]:
    """The variables a test's kernel gets: the test's own (see ``KERNEL_ENV``), a headless
    keyring, and this checkout first on PYTHONPATH, plus ``extra``."""
    env = {key: os.environ[key] for key in KERNEL_ENV if key in os.environ}
    env.setdefault("PYTHON_KEYRING_BACKEND", HEADLESS_KEYRING)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env.update(extra)
    return env
