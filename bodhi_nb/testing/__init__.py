"""Helpers for tests of bodhi_nb and of code built on it (not imported by the package).

* :class:`AppServiceStub` - a registry of real services on a temp dir, any one swappable;
* :mod:`bodhi_nb.testing.hub_server` - a local Hugging Face Hub (tests, air-gapped rooms);
* :mod:`bodhi_nb.testing.gguf_files` - small real GGUF files for tests.
"""

from __future__ import annotations

from bodhi_nb.testing.stub import AppServiceStub

__all__ = ["AppServiceStub"]
