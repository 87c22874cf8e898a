"""A child process of tests/test_access_requests.py: approves access requests as the profile
``BODHI_PROFILE`` names (on the BODHI_HOME / BODHI_DATABASE_URL of its environment), at the
same moment as another such process.

    python access_worker.py IDS_FILE GO_FILE ROLE

Prints ``READY`` once logged in and warmed up, waits until GO_FILE exists, approves every id
of IDS_FILE (a JSON list) in order with ROLE, then prints one JSON object: id -> ``"ok"`` or
the error code it got.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bodhi_nb.app import build_app_service
from bodhi_nb.errors import BodhiError


def main() -> int:
    ids = json.loads(Path(sys.argv[1]).read_text())
    go, role = Path(sys.argv[2]), sys.argv[3]
    registry = build_app_service()
    try:
        service = registry.access_request_service()
        service.counts()  # logged in, a manager: the imports and the first check are done
        print("READY", flush=True)
        deadline = time.monotonic() + 60
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.002)
        outcome: dict[str, str] = {}
        for request_id in ids:
            try:
                service.approve(request_id, role)
            except BodhiError as exc:
                outcome[request_id] = exc.code
            else:
                outcome[request_id] = "ok"
        print(json.dumps(outcome), flush=True)
    finally:
        registry.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
