"""A small read-through cache for admission: values at most about a second old.

No request waits for a refresh once a value is known (stale-while-revalidate). A burst
of admission reviews then costs one API read per key and second, not one each.
Must not: know what it caches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class FreshCache(Generic[V]):
    """Values by key, refreshed in the background when older than `ttl` seconds."""

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._refreshing: dict[Hashable, asyncio.Task[V]] = {}

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> V:
        """The cached value (refreshing it in the background if old), or a fresh read."""
        known = self._values.get(key)
        if known is not None and time.monotonic() - known[0] < self.ttl:
            return known[1]
        task = self._refreshing.get(key)
        if task is None:
            task = asyncio.create_task(self._refresh(key, fetch))
            self._refreshing[key] = task
        if known is not None:
            return known[1]  # slightly old is fine; the next request gets the new value
        return await asyncio.shield(task)

    async def _refresh(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await fetch()
            self._values[key] = (time.monotonic(), value)
            return value
        finally:
            self._refreshing.pop(key, None)
