"""``%load_ext bodhi_nb`` inside a running IPython, against a bare ``import IPython``.

Each sample is a fresh interpreter (so nothing is already imported): the baseline imports
IPython and creates a shell; the measured run does the same and then ``%load_ext bodhi_nb``.
The difference is what loading the extension adds (target: under 150 ms). A third line
measures the first command (``%bodhi status``), which is where the heavy imports happen.
The last line is the wall time of ``bodhi --version`` through the console script (target:
under 250 ms), against a bare ``python -c pass``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._util import line, median

_SHELL = ("import time; t0 = time.perf_counter()\n"
          "from IPython.core.interactiveshell import InteractiveShell\n"
          "sh = InteractiveShell.instance()\n"
          "t1 = time.perf_counter()\n")
_LOAD = "sh.run_line_magic('load_ext', 'bodhi_nb')\nt2 = time.perf_counter()\n"
_FIRST = "sh.run_line_magic('bodhi', 'status')\nt3 = time.perf_counter()\n"


def _sample(code: str, out: str) -> float:
    proc = subprocess.run([sys.executable, "-c", code + f"print({out})"],
                          capture_output=True, text=True, check=True)
    return float(proc.stdout.strip().splitlines()[-1])


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - start


def run(samples: int = 7) -> list[dict[str, Any]]:
    baseline = [_sample(_SHELL, "t1 - t0") for _ in range(samples)]
    loads, firsts = [], []
    for _ in range(samples):
        proc = subprocess.run(
            [sys.executable, "-c", _SHELL + _LOAD + _FIRST + "print(t1-t0, t2-t1, t3-t2)"],
            capture_output=True, text=True, check=True)
        _shell, load, first = map(float, proc.stdout.strip().splitlines()[-1].split())
        loads.append(load)
        firsts.append(first)
    base = median(baseline)
    added = median(loads)
    bodhi = shutil.which("bodhi", path=str(Path(sys.executable).parent)) or "bodhi"
    bare = [_wall([sys.executable, "-c", "pass"]) for _ in range(samples)]
    version = [_wall([bodhi, "--version"]) for _ in range(samples)]
    return [
        line("cli_version_ms", median(version) * 1000, "ms", baseline="python -c pass",
             baseline_value=median(bare) * 1000, target_ms=250, samples=samples),
        line("load_ext_added_ms", added * 1000, "ms", baseline="import IPython + shell",
             baseline_value=base * 1000, target_ms=150, samples=samples),
        line("load_ext_total_ms", (base + added) * 1000, "ms",
             baseline="import IPython + shell", baseline_value=base * 1000),
        line("first_status_command_ms", median(firsts) * 1000, "ms",
             baseline="import IPython + shell", baseline_value=base * 1000),
    ]
