"""Leader election on a coordination.k8s.io Lease: only the holder reconciles and writes.

Every replica watches (its store stays fresh) and serves the admission webhook; only the
replica holding the Lease runs the work queue, the periodic resync and the policy status
writer. The holder renews the Lease every third of its duration and steps down when it
could not renew for two thirds of it, before any other replica may take over; a standby
takes the Lease once it has seen no renewal for a whole duration, by its own clock (as
client-go does: clocks of different machines are never compared). Must not: decide what to
reconcile, or touch anything but its own Lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fwop import errors, logs
from fwop.kube import api as kube_api
from fwop.kube import kinds

_log = logs.get(__name__)
Hook = Callable[[], Awaitable[None]]


def micro_now() -> str:
    """RFC 3339 with microseconds, as metav1.MicroTime serialises."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Election:
    """Acquires, renews and gives up one Lease for this replica."""

    def __init__(
        self,
        api: kube_api.Api,
        namespace: str,
        name: str,
        identity: str,
        *,
        duration: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.duration = duration
        self.renew_every = duration / 3
        self.renew_deadline = duration * 2 / 3
        self.retry_every = max(duration / 7, 0.5)
        self.clock = clock
        self.leading = False
        self._renewed = 0.0
        self._observed: tuple[Any, Any] | None = None
        self._observed_at = 0.0
        self._task: asyncio.Task[None] | None = None

    def valid(self) -> bool:
        """Whether this replica holds the Lease now (renewed within the renew deadline)."""
        return self.leading and self.clock() - self._renewed < self.renew_deadline

    def _spec(self, lease: dict[str, Any] | None, now: str) -> dict[str, Any]:
        before = (lease or {}).get("spec", {})
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(int(self.duration), 1),
            "renewTime": now,
            "acquireTime": before.get("acquireTime", now),
            "leaseTransitions": before.get("leaseTransitions", 0),
        }
        if before.get("holderIdentity") != self.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(before.get("leaseTransitions", 0)) + (1 if lease else 0)
        return spec

    def _expired(self, lease: dict[str, Any]) -> bool:
        spec = lease.get("spec", {})
        seen = (spec.get("holderIdentity"), spec.get("renewTime"))
        if seen != self._observed:
            self._observed, self._observed_at = seen, self.clock()
        return not spec.get("holderIdentity") or self.clock() - self._observed_at >= self.duration

    async def attempt(self) -> bool:
        """Try to take or renew the Lease once; True when this replica holds it."""
        lease = await self.api.get(kinds.LEASE, self.namespace, self.name)
        mine = lease is not None and lease.get("spec", {}).get("holderIdentity") == self.identity
        if lease is not None and not mine and not self._expired(lease):
            return False
        metadata: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        body = {
            "apiVersion": kinds.LEASE.api_version,
            "kind": kinds.LEASE.kind,
            "metadata": metadata,
            "spec": self._spec(lease, micro_now()),
        }
        try:
            if lease is None:
                await self.api.create(kinds.LEASE, self.namespace, body)
            else:
                metadata["resourceVersion"] = lease["metadata"]["resourceVersion"]
                await self.api.replace(body)
        except errors.ApiError as exc:
            if exc.status in (409, 422):  # another replica was faster
                return False
            raise
        self._renewed = self.clock()
        return True

    async def run(self, on_start: Hook, on_stop: Hook) -> None:
        """Campaign forever: call on_start when the Lease is won, on_stop when it is lost."""
        while True:
            try:
                held = await self.attempt()
            except errors.ApiError as exc:
                _log.warning("lease not renewed", error=str(exc))
                held = self.leading and self.valid()
            if held and not self.leading:
                self.leading = True
                _log.info("leading", lease=f"{self.namespace}/{self.name}", identity=self.identity)
                await on_start()
            elif not held and self.leading:
                self.leading = False
                _log.warning("no longer leading", lease=f"{self.namespace}/{self.name}")
                await on_stop()
            await asyncio.sleep(self.renew_every if self.leading else self.retry_every)

    def start(self, on_start: Hook, on_stop: Hook) -> None:
        """Run the campaign in the background."""
        self._task = asyncio.create_task(self.run(on_start, on_stop), name="fwop-lease")

    async def stop(self) -> None:
        """Stop campaigning and hand the Lease back, so a standby takes over at once."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.leading:
            self.leading = False
            with contextlib.suppress(errors.ApiError):
                await self._release()

    async def _release(self) -> None:
        lease = await self.api.get(kinds.LEASE, self.namespace, self.name)
        if lease is None or lease.get("spec", {}).get("holderIdentity") != self.identity:
            return
        lease["spec"] = {**lease["spec"], "holderIdentity": None, "leaseDurationSeconds": 1}
        await self.api.replace(lease)
