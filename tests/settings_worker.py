"""Child process for the settings race test (run as a script, not collected by pytest).

    python tests/settings_worker.py KEY N

Writes KEY = 1..N to the settings.yaml of $BODHI_HOME, one ``set`` at a time. Before each
write it reads KEY back: a value other than the one it wrote last means another process
wrote a stale copy of the file over it (a lost update). Prints {"lost": n} as JSON.
"""

from __future__ import annotations

import json
import sys

from bodhi_nb.services.settings import SettingService


def main(key: str, count: int) -> int:
    service = SettingService()
    lost = 0
    for value in range(1, count + 1):
        seen = str(service.get(key))
        if value > 1 and seen != str(value - 1):
            lost += 1
        service.set(key, str(value))
    print(json.dumps({"lost": lost}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
