"""Carry out the planner's steps through the kube layer; decide nothing.

Each step is at most one write: server-side apply to create a child (or to set the
namespace's Pod Security labels), one PUT to replace it (update or heal), one delete with
a uid precondition to prune it. Every answer goes back into the store, with the child's
new reference. Events, JSON log lines and metrics record what was done (AUD-1). Must not:
choose what to write (``fwop.reconcile.plan`` does) or decide status.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fwop import errors, evidence, metrics, store
from fwop.kube import api as kube_api
from fwop.kube import kinds
from fwop.reconcile import compare, drift, fields, plan

HTTP_CONFLICT = 409
# The API server's words when a namespace is being deleted: nothing may be created in it.
_TERMINATING = "because it is being terminated"


class NamespaceTerminatingError(errors.RejectedError):
    """The workload's namespace is being deleted; its children must not come back."""


class ChildConflictError(errors.FwopError):
    """A child's name turned out to be taken by someone else's object (OWN-1)."""


class EventSink(Protocol):
    """Posts Kubernetes Events on a FinancialWorkload without blocking the caller."""

    def __call__(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Record one event."""

    async def drain(self) -> None:
        """Wait for the events in flight."""


@dataclasses.dataclass
class Results:
    """What one pass did, for status."""

    failures: list[str] = dataclasses.field(default_factory=list)
    conflicts: list[str] = dataclasses.field(default_factory=list)
    findings: list[drift.Finding] = dataclasses.field(default_factory=list)
    live: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    missing_kind: bool = False
    open_drift: set[tuple[str, str, str]] = dataclasses.field(default_factory=set)
    """Findings already reported (audit mode reports each once)."""
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)


class Executor:
    """Writes children and keeps the store up to date with the answers."""

    def __init__(
        self,
        api: kube_api.Api,
        events: EventSink,
        live: store.Store,
        trail: Callable[..., None] | None = None,
    ) -> None:
        self.api = api
        self.events = events
        self.trail: Callable[..., None] = trail or evidence.silent()
        """The evidence trail: one record per heal, drift found and prune."""
        self.store = live
        self._namespace_locks: dict[str, asyncio.Lock] = {}

    async def expected(self, child: plan.Child, ctx: plan.Context) -> dict[str, Any]:
        """The normalized object a heal would write (server-side dry-run of the replacement)."""
        assert child.live is not None
        exc = plan.exceptions(child.desired, ctx)
        body = fields.replacement(child.desired, child.live, exc)
        answer = await self.api.replace(body, dry_run=True)
        return fields.normalize(answer, exc)

    async def run(  # noqa: PLR0917 - one step's context
        self, body: Mapping[str, Any], child: plan.Child, decided: plan.Step, ctx: plan.Context,
        results: Results, log: Any,
    ) -> None:  # fmt: skip
        """Carry out one step, recording failures instead of raising them (but transients)."""
        try:
            live = await self._run(body, child, decided, ctx, results, log)
        except ChildConflictError as conflict:
            results.conflicts.append(str(conflict))
            self.events(body, "Warning", "ChildConflict", str(conflict))
            log.warning("child conflict", kind=decided.kind, child=decided.name)
            return
        except errors.KindMissingError:
            if decided.kind != "SecretProviderClass":
                raise
            results.missing_kind = True
            return
        except (errors.RejectedError, errors.NotFoundError) as exc:
            if _TERMINATING in exc.message:
                raise NamespaceTerminatingError(exc.what, exc.status, exc.message) from None
            failure = f"{decided.kind}/{decided.name}: {exc.message}"
            results.failures.append(failure)
            self.events(body, "Warning", "ApplyFailed", failure)
            log.error("apply rejected", kind=decided.kind, error=exc.message)
            return
        if live is not None and decided.kind != plan.NAMESPACE:
            results.live.append(live)

    async def _run(  # noqa: PLR0917 - one step's context
        self, body: Mapping[str, Any], child: plan.Child, decided: plan.Step, ctx: plan.Context,
        results: Results, log: Any,
    ) -> dict[str, Any] | None:  # fmt: skip
        action = decided.action
        if action is plan.Action.KEEP:
            if decided.adopt and child.live is not None:
                exc = plan.exceptions(child.desired, ctx)
                self._remember(child.rendering, child.live, decided.adopt, exc)
            return dict(child.live) if child.live is not None else None
        if action is plan.Action.CONFLICT:
            results.conflicts.append(decided.message)
            self.events(body, "Warning", "ChildConflict", decided.message)
            log.warning("child conflict", kind=decided.kind, child=decided.name)
            return None
        if action is plan.Action.REPORT:
            self._drift(body, decided.findings, results, log)
            return dict(child.live) if child.live is not None else None
        if action is plan.Action.APPLY:
            return await self._namespace(body, decided, results, log)
        written, before = await self._write(child, decided, ctx)
        owner = ctx.owner
        newest = self.store.written(written, owner)
        exc = plan.exceptions(child.desired, ctx)
        self._remember(child.rendering, written, fields.live_digest(written, exc), exc)
        metrics.CHILD_WRITES.labels(decided.kind, str(decided.why)).inc()
        if decided.why is plan.Why.HEAL:
            found = (
                list(decided.findings)
                if before is None
                else plan.healed_findings(child.desired, before, written, ctx)
            )
            self._drift(body, found, results, log)
        else:
            verb = "created" if decided.why is plan.Why.CREATE else "updated"
            (results.created if verb == "created" else results.updated).append(
                f"{decided.kind} {decided.name}"
            )
            log.info("child applied", verb=verb, kind=decided.kind, child=decided.name)
        return newest

    async def _write(
        self, child: plan.Child, decided: plan.Step, ctx: plan.Context
    ) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
        """Write one child; returns what the server stored and what it replaced (if any)."""
        if decided.action is plan.Action.CREATE or child.live is None:
            return await self._create(child, ctx)
        exc = plan.exceptions(child.desired, ctx)
        try:
            body = fields.replacement(child.desired, child.live, exc)
            return await self.api.replace(body), child.live
        except errors.TransientApiError as error:
            if error.status != HTTP_CONFLICT:
                raise
        # The object moved on since the store saw it (often only its status): read it once
        # more and replace that version; a second conflict goes back to the queue.
        kind, meta = kinds.of(dict(child.desired)), child.desired["metadata"]
        fresh = await self.api.get(kind, meta.get("namespace"), meta["name"])
        if fresh is None:
            raise errors.TransientApiError(decided.kind, HTTP_CONFLICT, "deleted during the write")
        return await self.api.replace(fields.replacement(child.desired, fresh, exc)), fresh

    async def _create(
        self, child: plan.Child, ctx: plan.Context
    ) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
        """Create a child; if something took the name meanwhile, judge that instead.

        The store may simply not know the object (it is not labelled as a child, or the
        watch has not delivered it): the create fails, the object is read, and either it
        is this workload's (replaced if it differs) or it is someone else's (a conflict).
        """
        try:
            return await self.api.create_object(dict(child.desired)), None
        except errors.TransientApiError as error:
            if error.status != HTTP_CONFLICT:
                raise
        meta = child.desired["metadata"]
        found = await self.api.get(
            kinds.of(dict(child.desired)), meta.get("namespace"), meta["name"]
        )
        if found is None:
            raise errors.TransientApiError(str(child.desired["kind"]), HTTP_CONFLICT, "gone again")
        if not self.store.ours(store.child_key(found), found, ctx.owner):
            raise ChildConflictError(
                plan.step(plan.Child(child.desired, found, False), ctx).message
            )
        known = plan.Child(child.desired, found, True, child.reference, None, child.desired_key)
        if plan.in_sync(known, ctx)[0]:
            return found, found  # only the store did not know it: nothing to write
        exc = plan.exceptions(child.desired, ctx)
        return await self.api.replace(fields.replacement(child.desired, found, exc)), found

    def _remember(
        self, rendering: str, live: Mapping[str, Any], digest: str, exc: fields.Exceptions
    ) -> None:
        ckey = store.child_key(live)
        self.store.references[ckey] = store.Reference(
            object_uid=str(live["metadata"].get("uid", "")),
            desired=rendering,
            digest=digest,
            exceptions=exc,
        )

    async def _namespace(
        self, body: Mapping[str, Any], decided: plan.Step, results: Results, log: Any
    ) -> dict[str, Any] | None:
        # Every workload of a namespace renders its labels: one heals, the others then find
        # the healed labels in the store instead of writing them again.
        name = decided.name
        lock = self._namespace_locks.setdefault(name, asyncio.Lock())
        async with lock:
            current = self.store.namespaces.get(name)
            if current is not None and not compare.differences(decided.desired, current):
                return None
            written = await self.api.apply(dict(decided.desired))
            self.store.namespace_written(written)
        metrics.CHILD_WRITES.labels(plan.NAMESPACE, str(decided.why)).inc()
        if decided.findings:
            self._drift(body, decided.findings, results, log)
        return None

    def _drift(self, body: Mapping[str, Any], found: Any, results: Results, log: Any) -> None:
        """One Warning Event per drifted child and pass (an incident); one log line per field."""
        found = list(found)
        results.findings.extend(found)
        new = [f for f in found if f.healed or f.key not in results.open_drift]
        if new:
            healed = new[0].healed
            self.events(
                body,
                "Warning",
                "DriftHealed" if healed else "DriftDetected",
                "; ".join(drift.message(f, f.healed) for f in new),
            )
        for finding in new:
            self.trail(
                "drift-healed" if finding.healed else "drift-detected",
                workload=evidence.workload(body),
                kind=finding.kind,
                name=finding.name,
                field=finding.field,
                before=finding.actual,
                after=finding.expected if finding.healed else finding.actual,
                expected=finding.expected,
            )
        for finding in found:
            metrics.DRIFT.labels(finding.kind, "healed" if finding.healed else "reported").inc()
            log.warning(
                "drift",
                healed=finding.healed,
                kind=finding.kind,
                child=finding.name,
                field=finding.field,
                expected=finding.expected,
                actual=finding.actual,
            )

    async def heal_pod(
        self,
        body: Mapping[str, Any],
        pod: Mapping[str, Any],
        found: list[drift.Finding],
        results: Results,
        log: Any,
    ) -> None:
        """Pod drift: report it and, when healing, delete the pod (its ReplicaSet replaces it)."""
        self._drift(body, found, results, log)
        if not all(f.healed for f in found):
            return
        meta = pod["metadata"]
        await self.api.delete(kinds.POD, meta["namespace"], meta["name"], uid=meta.get("uid"))
        metrics.CHILD_WRITES.labels("Pod", "heal").inc()
        self.store.pod_gone((str(meta["namespace"]), str(meta["name"])))

    async def delete(self, body: Mapping[str, Any], gone: plan.Delete, log: Any) -> None:
        """Prune one child that is no longer rendered (only that very object)."""
        kind = kinds.child(gone.kind)
        await self.api.delete(kind, gone.namespace, gone.name, uid=gone.uid)
        metrics.CHILD_WRITES.labels(gone.kind, "prune").inc()
        self.store.forget((gone.kind, gone.namespace, gone.name))
        self.events(
            body, "Normal", "Deleted", f"Deleted {gone.kind} {gone.name}: no longer declared"
        )
        log.info("child deleted", kind=gone.kind, child=gone.name)
        self.trail(
            "child-pruned",
            workload=evidence.workload(body),
            kind=gone.kind,
            name=gone.name,
            uid=gone.uid,
        )
