"""Several kernels storing secrets at once on one BODHI_HOME (issue 8, item 6).

Each child builds a full registry (the production 600,000-round key derivation, the key
chain of a headless machine) and stores secrets one by one, timing each ``store_secret``.
Reported: lease waits that ran out (``db_error-busy``) and the p50 / p99 / max latency of
one store while 4 (and 8) processes are busy, the first store of each process (which pays
the imports and the key derivation) included, and the same without those first stores; the
last scenario leaves 20 ms between two stores, as a kernel doing other work would. No
baseline: compare with the same run on an older checkout (``PYTHONPATH``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench._util import line, percentile

_CHILD = r"""
import json, os, sys, time
from pathlib import Path
os.environ["BODHI_HOME"] = sys.argv[1]
from bodhi_nb.app import build_app_service
from bodhi_nb.errors import BodhiError
from bodhi_nb.services.settings import SettingService
registry = build_app_service(SettingService())
service = registry.secret_service()
errors, lat = [], []
for i in range(int(sys.argv[3])):
    t0 = time.perf_counter()
    try:
        service.store_secret(f"S_{sys.argv[2]}_{i}", f"value-{sys.argv[2]}-{i}-0123456789")
    except BodhiError as exc:
        errors.append(exc.code)
    lat.append(time.perf_counter() - t0)
    time.sleep(float(sys.argv[4]))  # what the kernel does between two stores
registry.close()
print(json.dumps({"errors": errors, "latencies": lat}))
"""


def contention(procs: int, each: int,
               think: float = 0.0) -> tuple[int, list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = dict(os.environ, XDG_CONFIG_HOME=str(root / "config"),
                   PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
        children = [subprocess.Popen([sys.executable, "-c", _CHILD, str(root / "home"),
                                      f"p{n}", str(each), str(think)],
                                     stdout=subprocess.PIPE, text=True, env=env)
                    for n in range(procs)]
        errors, latencies, later = 0, [], []
        for child in children:
            out, _ = child.communicate(timeout=1200)
            result = json.loads(out.strip().splitlines()[-1])
            errors += len(result["errors"])
            latencies += result["latencies"]
            later += result["latencies"][1:]
    return errors, latencies, later


def run() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for procs, each, think in ((4, 50, 0.0), (8, 25, 0.0), (4, 50, 0.02)):
        errors, lat, later = contention(procs, each, think)
        ms = 1000
        tag = f"{procs}procs" + (f"_think{think * ms:g}ms" if think else "")
        out += [
            line(f"secret_set_{tag}_busy_errors", errors, "errors", writes=procs * each),
            line(f"secret_set_{tag}_p50_ms", percentile(lat, 50) * ms, "ms"),
            line(f"secret_set_{tag}_p99_ms", percentile(lat, 99) * ms, "ms"),
            line(f"secret_set_{tag}_max_ms", max(lat) * ms, "ms"),
            # without each process's first store (the one that derives the key)
            line(f"secret_set_{tag}_later_p99_ms", percentile(later, 99) * ms, "ms"),
            line(f"secret_set_{tag}_later_max_ms", max(later) * ms, "ms"),
        ]
    return out
