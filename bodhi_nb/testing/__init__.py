"""Helpers for tests of bodhi_nb and of code built on it (not imported by the package).

* :class:`AppServiceStub` - a registry of real services on a temp dir, any one swappable;
* :class:`bodhi_nb.testing.hub_faults.FaultyHubServer` - the offline Hub
  (:mod:`bodhi_nb.offline_hub`) with fault injection and a request log;
* :mod:`bodhi_nb.testing.fault_proxy` - a proxy that misbehaves between a client and a server;
* :mod:`bodhi_nb.testing.gguf_files` - small real GGUF files for tests;
* :mod:`bodhi_nb.testing.oidc` - a real OpenID provider (Node, tests/oidc_server) and
  helpers that fill its login, consent and device pages;
* :mod:`bodhi_nb.testing.jupyterlab` - JupyterLab and Debian's Chromium (Playwright) for
  browser tests of the panels (imports Playwright only when a browser starts).
"""

from __future__ import annotations

from bodhi_nb.testing.stub import AppServiceStub

__all__ = ["AppServiceStub"]
