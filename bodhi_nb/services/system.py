"""Facts about this machine that the services and panels need (no front-end code here)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MEMINFO", "available_memory"]

#: Linux's memory report: ``MemAvailable`` is what can be used without swapping.
MEMINFO = Path("/proc/meminfo")


def available_memory(meminfo: Path = MEMINFO) -> int | None:
    """Bytes of memory a new process can use now without swapping: ``MemAvailable`` from
    ``/proc/meminfo`` (Linux), else the free physical pages ``os.sysconf`` reports (an
    underestimate: it leaves out the page cache), else None when the platform cannot say."""
    try:
        for line in meminfo.read_text(encoding="ascii", errors="replace").splitlines():
            name, _, rest = line.partition(":")
            if name.strip() == "MemAvailable":
                number, _, unit = rest.strip().partition(" ")
                scale = 1024 if unit.strip().lower() == "kb" else 1
                return int(number) * scale
    except (OSError, ValueError):
        pass
    try:
        pages, page_size = os.sysconf("SC_AVPHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf; macOS lacks one
        return None
    return pages * page_size if pages > 0 and page_size > 0 else None
