"""Run every benchmark (or those named) and print one JSON line per measurement."""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or names
    machine = {"machine": f"{platform.machine()} {os.cpu_count()} cores",
               "python": platform.python_version()}
    print(json.dumps({"name": "machine", **machine}), flush=True)
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        for line in module.run():
            print(json.dumps(line, sort_keys=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
