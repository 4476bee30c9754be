"""The work queue: de-duplication, no concurrent runs of one key, retries."""

from __future__ import annotations

import asyncio

from fwop import store, workqueue


async def test_duplicates_collapse_and_a_key_never_runs_twice_at_once() -> None:
    runs: list[tuple[str, str]] = []
    active: set[tuple[str, str]] = set()
    overlap = False
    gate = asyncio.Event()

    async def worker(key: tuple[str, str]) -> float | None:
        nonlocal overlap
        overlap = overlap or key in active
        active.add(key)
        runs.append(key)
        await gate.wait()
        active.discard(key)
        return None

    queue = workqueue.WorkQueue(worker, concurrency=4)
    queue.start()
    for _ in range(5):
        queue.add(("ns", "a"))
    await asyncio.sleep(0.05)
    queue.add(("ns", "a"))  # arrives while running: exactly one more run afterwards
    queue.add(("ns", "a"))
    gate.set()
    await queue.join()
    await queue.stop()
    assert runs == [("ns", "a"), ("ns", "a")]
    assert not overlap


async def test_retry_after_delay_and_crash_does_not_kill_the_queue() -> None:
    calls = 0

    async def worker(key: tuple[str, str]) -> float | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")
        return 0.01 if calls == 2 else None

    queue = workqueue.WorkQueue(worker, concurrency=1)
    queue.start()
    queue.add(("ns", "b"))
    await asyncio.sleep(0.05)
    assert calls == 1  # crashed: counted, and retried after the backoff (0.5 s)
    assert queue.failures == {("ns", "b"): 1}
    queue.add(("ns", "b"))  # a new event brings it back at once
    for _ in range(100):
        if calls >= 3:
            break
        await asyncio.sleep(0.01)
    await queue.stop()
    assert calls == 3
    assert queue.failures == {}  # forgotten on success


def test_backoff_doubles_and_is_capped() -> None:
    assert [workqueue.backoff(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert workqueue.backoff(50) == workqueue.MAX_DELAY


def test_newer_keeps_the_latest_version_whatever_arrives_last() -> None:
    cached = {"metadata": {"resourceVersion": "101"}}
    assert not store.newer({"resourceVersion": "100"}, cached)  # a late write response
    assert store.newer({"resourceVersion": "102"}, cached)
    assert store.newer({"resourceVersion": "101"}, cached)
    assert store.newer({"resourceVersion": "100"}, None)
    assert store.newer({"resourceVersion": "opaque"}, cached)  # not an integer: take it
