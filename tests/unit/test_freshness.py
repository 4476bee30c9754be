"""FreshCache: one read per key and period, no waiting once a value is known."""

from __future__ import annotations

import asyncio

from fwop import freshness


async def test_reads_once_then_serves_and_refreshes_in_background() -> None:
    reads = 0

    async def fetch() -> int:
        nonlocal reads
        reads += 1
        await asyncio.sleep(0.01)
        return reads

    cache: freshness.FreshCache[int] = freshness.FreshCache(ttl=0.05)
    first = await asyncio.gather(*(cache.get("k", fetch) for _ in range(8)))
    assert first == [1] * 8  # a burst shares one read
    assert reads == 1
    await asyncio.sleep(0.06)  # now old: served as is, refreshed behind the scenes
    assert await cache.get("k", fetch) == 1
    await asyncio.sleep(0.02)
    assert await cache.get("k", fetch) == 2
    assert reads == 2


async def test_values_older_than_twice_the_ttl_are_read_again_first() -> None:
    reads = 0

    async def fetch() -> int:
        nonlocal reads
        reads += 1
        return reads

    cache: freshness.FreshCache[int] = freshness.FreshCache(ttl=0.02)
    assert await cache.get("k", fetch) == 1
    await asyncio.sleep(0.05)  # beyond 2 x ttl: never served stale
    assert await cache.get("k", fetch) == 2
    cache.invalidate("k")
    assert await cache.get("k", fetch) == 3
