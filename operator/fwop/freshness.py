"""A small read-through cache for admission: values at most about a second old.

A value up to `ttl` old is served as is; one up to twice that is served while a refresh
runs in the background (stale-while-revalidate); an older one is read again first, so no
answer is ever more than 2 x ttl behind. A burst of admission reviews costs one API read
per key and period, not one each. Watches that see a change call `invalidate`. At most
`limit` keys are kept (the oldest go first), so hostile keys cannot grow it without bound.
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

    def __init__(self, ttl: float = 1.0, limit: int = 4096) -> None:
        self.ttl = ttl
        self.limit = limit
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._refreshing: dict[Hashable, asyncio.Task[V]] = {}

    async def get(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> V:
        """The cached value (refreshing it in the background if old), or a fresh read."""
        known = self._values.get(key)
        age = time.monotonic() - known[0] if known is not None else None
        if known is not None and age is not None and age < self.ttl:
            return known[1]
        task = self._refreshing.get(key)
        if task is None:
            task = asyncio.create_task(self._refresh(key, fetch))
            self._refreshing[key] = task
        if known is not None and age is not None and age < 2 * self.ttl:
            return known[1]  # slightly old is fine; the next request gets the new value
        return await asyncio.shield(task)

    def invalidate(self, key: Hashable) -> None:
        """Forget a value (its source changed): the next `get` reads it again."""
        self._values.pop(key, None)

    async def _refresh(self, key: Hashable, fetch: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await fetch()
            self._values.pop(key, None)  # re-insert: the dict's order is the age order
            self._values[key] = (time.monotonic(), value)
            while len(self._values) > self.limit:
                del self._values[next(iter(self._values))]
            return value
        finally:
            self._refreshing.pop(key, None)
