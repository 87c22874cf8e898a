"""The offline Hub: a folder of model repositories served with the Hugging Face Hub's HTTP
protocol, so a classroom or an air-gapped room pulls with ``HF_ENDPOINT`` pointed at it.

* :class:`HubServer` - the server (``with HubServer(root) as hub: hub.endpoint``);
* ``bodhi hub serve DIR`` / ``%bodhi hub serve DIR`` - the command that runs it;
* ``python -m bodhi_nb.offline_hub --root DIR`` - the bare server, for scripts;
* :mod:`bodhi_nb.offline_hub.demo` - the quick start's model source.
"""

from __future__ import annotations

from bodhi_nb.offline_hub.server import HubServer

__all__ = ["HubServer"]
