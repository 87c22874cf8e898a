"""``python -m bodhi_nb.offline_hub --root DIR``: serve a folder until SIGINT or SIGTERM."""

from __future__ import annotations

from bodhi_nb.offline_hub.server import main

if __name__ == "__main__":
    raise SystemExit(main())
