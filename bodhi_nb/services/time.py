"""TimeService: every timestamp and every wait in bodhi_nb goes through here."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["DefaultTimeService", "FrozenTimeService", "TimeService"]


@runtime_checkable
class TimeService(Protocol):
    def utc_now(self) -> datetime:
        """Current UTC time, second precision, timezone-aware."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes back."""

    def sleep(self, seconds: float) -> None: ...


class DefaultTimeService:
    def utc_now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class FrozenTimeService:
    """A clock that moves only when told: ``sleep`` and ``advance`` move it instantly."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = (now or datetime(2025, 1, 1, tzinfo=UTC)).replace(microsecond=0)
        self._mono = 1000.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def utc_now(self) -> datetime:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._mono += seconds
            self._now = (self._now + timedelta(seconds=seconds)).replace(microsecond=0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(max(seconds, 0.0))
