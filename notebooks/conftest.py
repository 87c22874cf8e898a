"""Strict nbval over notebooks/ (``make notebooks``): every notebook starts from a clean state
of its own, whoever runs ``pytest --nbval notebooks/``.

Before a notebook's kernel starts, fresh temp folders become its ``BODHI_HOME``, ``HF_HOME``
and ``XDG_CONFIG_HOME`` (where a master key file would go), and the settings that would
point it elsewhere are dropped (``HF_ENDPOINT``, a demo repo on the real Hub, a login, a
database, a master key): each notebook then runs offline, as a first run does, and as its
stored outputs were made (``notebooks/run.py --save`` from fresh folders). The folders are
removed once the notebook's kernel has stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

#: the variables given a fresh folder per notebook, and their folders' name prefixes
FRESH = {"BODHI_HOME": "bodhi-nb-home-", "HF_HOME": "bodhi-nb-hf-",
         "XDG_CONFIG_HOME": "bodhi-nb-config-"}
#: settings from the caller's environment that would make a run differ from a first run
DROPPED = ("HF_ENDPOINT", "HF_TOKEN", "BODHI_DEMO_REPO", "BODHI_DEMO_FILE", "BODHI_PROFILE",
           "BODHI_AUTH_ISSUER", "BODHI_DATABASE_URL", "BODHI_ENCRYPTION_KEY", "BODHI_LOCALE",
           "BODHI_LOCK_FILE", "BROWSER")

_notebook: object = None
_folders: list[str] = []


def _remove_folders() -> None:
    while _folders:
        shutil.rmtree(_folders.pop(), ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At a notebook's first cell, before nbval starts its kernel (which inherits this
    environment): the previous notebook's kernel has stopped, its folders go."""
    global _notebook
    if item.parent is _notebook:
        return
    _notebook = item.parent
    _remove_folders()
    for name in DROPPED:
        os.environ.pop(name, None)
    for name, prefix in FRESH.items():
        folder = tempfile.mkdtemp(prefix=prefix)
        _folders.append(folder)
        os.environ[name] = folder


def pytest_sessionfinish(session: pytest.Session) -> None:
    _remove_folders()
