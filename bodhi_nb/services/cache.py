"""CacheService: an in-process TTL and size-bounded cache, safe to use from threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from bodhi_nb.services.time import TimeService

__all__ = ["CacheService"]

T = TypeVar("T")
_MISSING = object()


class CacheService:
    """Repo metadata, discovery documents and the like. TTL runs on the TimeService clock."""

    def __init__(self, time: TimeService, maxsize: int = 1024, ttl: float = 300.0) -> None:
        from cachetools import TTLCache

        self._cache: TTLCache[Hashable, Any] = TTLCache(maxsize=maxsize, ttl=ttl,
                                                        timer=time.monotonic)
        self._lock = threading.RLock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            return self._cache.get(key, default)

    def set(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._cache[key] = value

    def remove(self, key: Hashable) -> None:
        with self._lock:
            self._cache.pop(key, None)

    def remove_entries_containing(self, text: str) -> int:
        with self._lock:
            doomed = [k for k in self._cache if text in str(k)]
            for k in doomed:
                del self._cache[k]
            return len(doomed)

    def get_or_set(self, key: Hashable, factory: Callable[[], T]) -> T:
        with self._lock:
            value = self._cache.get(key, _MISSING)
        if value is _MISSING:
            value = factory()
            self.set(key, value)
        return value  # type: ignore[no-any-return]

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
