"""Helpers for benchmarks: percentiles and the result line's shape."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any


def percentile(samples: Sequence[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def line(name: str, value: float, unit: str, *, baseline: str | None = None,
         baseline_value: float | None = None, **extra: Any) -> dict[str, Any]:
    """One benchmark line; ``ratio`` is value / baseline_value when a baseline was measured."""
    out: dict[str, Any] = {"name": name, "value": round(value, 4), "unit": unit}
    if baseline is not None and baseline_value is not None:
        out["baseline"] = baseline
        out["baseline_value"] = round(baseline_value, 4)
        out["ratio"] = round(value / baseline_value, 3) if baseline_value else None
    out.update(extra)
    return out
