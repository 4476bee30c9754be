"""The cluster policy in force, and the status the operator reports on it.

Holds the parsed FinancialWorkloadPolicy named `default` (or the documented deny-all
defaults when there is none), remembers which workloads break it, and writes the
policy's status (Valid condition, nonCompliant count) when that changes. An invalid
policy object keeps the last valid one in force and says so in its Valid condition.
Must not: judge workloads itself (fwop.admission does) or touch workloads.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from fwop import errors, freshness, logs, metrics
from fwop.api import policy as policy_api
from fwop.kube import api as kube_api
from fwop.kube import kinds
from fwop.reconcile import conditions as cond

_log = logs.get(__name__)
POLICY_NAME = "default"
FRESH_SECONDS = 1.0
Key = tuple[str, str]


class PolicyState:
    """The policy, the violations it finds, and its status writer."""

    def __init__(self, api: kube_api.Api, now: Callable[[], str]) -> None:
        self.api = api
        self.now = now
        self.spec: policy_api.FinancialWorkloadPolicySpec = policy_api.DEFAULTS
        self.body: dict[str, Any] | None = None
        self.invalid: str | None = None
        self.violations: dict[Key, int] = {}
        self._dirty = asyncio.Event()
        self._fresh: freshness.FreshCache[policy_api.FinancialWorkloadPolicySpec] = (
            freshness.FreshCache(FRESH_SECONDS)
        )
        self._task: asyncio.Task[None] | None = None

    def seen(self, body: Mapping[str, Any] | None) -> bool:
        """Take a new policy object (None: deleted); True if the policy in force changed."""
        before = self.spec
        if body is None or body["metadata"]["name"] != POLICY_NAME:
            if body is None:
                self.body, self.spec, self.invalid = None, policy_api.DEFAULTS, None
                self._fresh.invalidate(POLICY_NAME)
            return before != self.spec
        self.body = dict(body)
        self._fresh.invalidate(POLICY_NAME)  # admission sees the change at once
        try:
            self.spec, self.invalid = policy_api.parse(body), None
        except errors.InvalidSpecError as exc:
            self.invalid = str(exc)  # keep the last valid policy in force
            _log.error("invalid cluster policy; keeping the last valid one", problems=str(exc))
        self._dirty.set()
        return before != self.spec

    async def load(self) -> None:
        """Read the policy once before any workload is judged.

        Watch events come in no particular order at start-up: without this, a workload
        listed before the policy would be judged by the deny-all defaults and its status
        rewritten twice on a plain restart.
        """
        body = await self.api.get(kinds.POLICY, None, POLICY_NAME)
        self.seen(body)

    async def fresh(self) -> policy_api.FinancialWorkloadPolicySpec:
        """The policy as the API server has it, at most about a second old.

        Admission uses this rather than the watch: a standby replica (leader election) keeps
        serving the webhook while its watches are paused, and must not judge by a stale
        or empty cache.
        """
        return await self._fresh.get(POLICY_NAME, self._read)

    async def _read(self) -> policy_api.FinancialWorkloadPolicySpec:
        body = await self.api.get(kinds.POLICY, None, POLICY_NAME)
        if body is None:
            return policy_api.DEFAULTS
        try:
            return policy_api.parse(body)
        except errors.InvalidSpecError:
            return self.spec  # the last valid policy stays in force

    def record(self, key: Key, problems: int) -> None:
        """Remember how many policy problems a workload has (0: complies)."""
        if problems:
            changed = self.violations.get(key) != problems
            self.violations[key] = problems
        else:
            changed = self.violations.pop(key, None) is not None
        if changed:
            metrics.NON_COMPLIANT.set(len(self.violations))
            self._dirty.set()

    def forget(self, key: Key) -> None:
        """A workload was deleted."""
        self.record(key, 0)

    def start(self) -> None:
        """Start the status writer."""
        self._task = asyncio.create_task(self._writer(), name="fwop-policy-status")

    async def stop(self) -> None:
        """Stop the status writer."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _writer(self) -> None:
        while True:
            await self._dirty.wait()
            await asyncio.sleep(0.5)  # let a burst of reconciles settle into one write
            self._dirty.clear()
            try:
                await self._write()
            except errors.ApiError as exc:
                _log.warning("policy status not written", error=str(exc))
                self._dirty.set()
                await asyncio.sleep(5)

    async def _write(self) -> None:
        if self.body is None:
            return
        previous = self.body.get("status") or {}
        generation = self.body["metadata"].get("generation", 0)
        valid = (
            cond.Condition(
                "Valid",
                cond.FALSE,
                "InvalidPolicy",
                f"{self.invalid}; the last valid policy stays in force",
            )
            if self.invalid
            else cond.Condition("Valid", cond.TRUE, "Accepted", "the operator enforces this policy")
        )
        status = {
            "observedGeneration": generation,
            "conditions": cond.merge(previous.get("conditions"), [valid], generation, self.now()),
            "nonCompliant": len(self.violations),
        }
        if all(previous.get(k) == v for k, v in status.items()):
            return
        written = await self.api.apply_status(kinds.POLICY, None, POLICY_NAME, status)
        self.body["status"] = written.get("status", status)
        _log.info("policy status written", non_compliant=status["nonCompliant"], valid=valid.status)
