"""A de-duplicating work queue: many events for one workload become one reconcile.

Keys are (namespace, name). A key queued twice runs once; a key that changes while it is
being reconciled runs again right after, never twice at the same time. The queue owns
retries: a worker returns None (done), a delay, or ``RETRY``; a worker that raises is a
crash, counted in a metric and retried like any failure; failures come back after one
capped exponential backoff per key (0.5 s doubling to 60 s), forgotten on success. This
is the controller-runtime queue contract, small enough to read in one sitting. Must not:
know what a reconcile does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from fwop import logs, metrics

_log = logs.get(__name__)

Key = tuple[str, str]
RETRY = -1.0
"""A worker's answer: the pass failed, retry after this key's backoff."""
Worker = Callable[[Key], Awaitable[float | None]]
"""Reconciles one key; returns None when done, RETRY on failure, or seconds to wait."""
BASE_DELAY, MAX_DELAY = 0.5, 60.0


def backoff(failures: int) -> float:
    """Seconds before the next try after ``failures`` failures in a row."""
    return min(BASE_DELAY * 2.0 ** (failures - 1), MAX_DELAY)


class WorkQueue:
    """Runs `worker` for queued keys on `concurrency` tasks."""

    def __init__(self, worker: Worker, concurrency: int = 4) -> None:
        self._worker = worker
        self._concurrency = concurrency
        self._queue: asyncio.Queue[Key] = asyncio.Queue()
        self._queued: set[Key] = set()
        self._running: set[Key] = set()
        self._dirty: set[Key] = set()
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.failures: dict[Key, int] = {}

    def start(self) -> None:
        """Start the worker tasks (idempotent)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name=f"fwop-worker-{i}")
                for i in range(self._concurrency)
            ]

    async def stop(self) -> None:
        """Cancel the workers and pending retries."""
        for timer in self._timers.values():
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def add(self, key: Key) -> None:
        """Ask for a reconcile of `key` as soon as possible."""
        timer = self._timers.pop(key, None)
        if timer:
            timer.cancel()
        if key in self._running:
            self._dirty.add(key)
        elif key not in self._queued:
            self._queued.add(key)
            self._queue.put_nowait(key)

    def forget(self, key: Key) -> None:
        """A key is gone for good (its workload was deleted): drop its failure count."""
        self.failures.pop(key, None)

    def add_after(self, key: Key, delay: float) -> None:
        """Ask for a reconcile of `key` in `delay` seconds (unless one comes sooner)."""
        if key in self._timers or key in self._queued:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._fire, key)

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def busy(self) -> bool:
        """Whether any key is queued, running or due again."""
        return bool(self._queued or self._running or self._dirty)

    async def join(self) -> None:
        """Wait until nothing is queued or running (for tests and shutdown)."""
        while self._queued or self._running or self._dirty:  # noqa: ASYNC110 - test helper
            await asyncio.sleep(0.01)

    async def _run(self) -> None:
        while True:
            key = await self._queue.get()
            self._queued.discard(key)
            self._running.add(key)
            try:
                retry = await self._worker(key)
            except Exception:  # a bug in the worker must not kill the queue
                metrics.RECONCILES.labels("crash").inc()
                _log.exception("reconcile crashed", key=list(key))
                retry = RETRY
            finally:
                self._running.discard(key)
            if retry == RETRY:
                count = self.failures[key] = self.failures.get(key, 0) + 1
                retry = backoff(count)
                _log.warning("reconcile will be retried", key=list(key), retry_in=retry)
            elif retry is None:
                self.failures.pop(key, None)
            if key in self._dirty:
                self._dirty.discard(key)
                self.add(key)
            elif retry is not None:
                self.add_after(key, retry)
