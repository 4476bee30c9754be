"""The reconcile loop: gather, decide, write, for one FinancialWorkload at a time.

Every event (the workload changed, a child changed or vanished, the namespace was
relabelled) funnels into one idempotent `reconcile(key)`, which never asks why it runs.
It gathers the rendering and the live children from the store (falling back to a GET),
lets the pure planner (``fwop.reconcile.plan``) decide each child's step, has the
executor carry the steps out, prunes children no longer rendered, and writes status only
when it changed: a pass over an unchanged workload writes nothing. Must not: import kopf
(handlers do), build manifests (render does), or decide a child's step itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import functools
import itertools
import json
import random
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from fwop import (
    accessreview,
    errors,
    evidence,
    execute,
    freshness,
    leader,
    logs,
    metrics,
    policystate,
    store,
    workqueue,
)
from fwop.admission import neighbours, permissions
from fwop.admission import review as admission_review
from fwop.api import spec as spec_api
from fwop.api import workload as workload_api
from fwop.compliance import policyreport, summary, trail, verdicts
from fwop.kube import api as kube_api
from fwop.kube import kinds, watch
from fwop.reconcile import conditions as cond
from fwop.reconcile import drift, fields, gate, plan, pods
from fwop.reconcile import status as status_core
from fwop.render import meta
from fwop.render import workload as render

_log = logs.get(__name__)
Key = workqueue.Key


def utc_now() -> str:
    """RFC 3339 time with second precision, as metav1.Time serialises."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Controller:
    """Holds the watch caches and the queue, and reconciles keys."""

    def __init__(  # noqa: PLR0917 - the controller's collaborators
        self,
        api: kube_api.Api,
        events: execute.EventSink,
        now: Callable[[], str] = utc_now,
        resync_seconds: float = 600.0,
        workers: int = 16,
        trail: Callable[..., None] | None = None,
    ) -> None:
        self.api = api
        self.events = events
        self.trail = trail or evidence.silent()
        """The evidence trail (fwop.evidence): one hash-chained record per change."""
        self.now = now
        self.store = store.Store()
        self.election: leader.Election | None = None
        self.resync_seconds = resync_seconds
        self._resync_task: asyncio.Task[None] | None = None
        self._leading_task: asyncio.Task[None] | None = None
        self._memo: dict[Key, _Judged] = {}
        self._reported: dict[Key, tuple[str, str]] = {}
        """Per workload: the digest of the verdicts in its PolicyReport, and the report's name."""
        self._reports_missing_until = 0.0
        self._unpublished: dict[Key, tuple[float, bool, tuple[verdicts.Verdict, ...]]] = {}
        # PolicyReports as they are (from their watch) and as the operator last wrote or
        # confirmed them, by content (policyreport.content): a difference is an edit by
        # someone else, and the report is written again.
        self._report_live: dict[Key, str] = {}
        self._report_known: dict[Key, str] = {}
        self._report_written: dict[Key, str] = {}
        self._publishing: set[Key] = set()
        """The resourceVersion of the operator's last write of each report: watch events
        older than it are its own earlier writes arriving late, not someone's edit."""
        """Verdicts waiting for the publisher: since when, whether a report exists, what."""
        self._publisher_task: asyncio.Task[None] | None = None
        self.standing = _Standing()
        self.tally = summary.Tally()
        """Every workload's verdicts in short, for the cluster's summary report."""
        self._summary_live: dict[str, Any] | None = None
        self._summary_task: asyncio.Task[None] | None = None
        self._first_seen: dict[Key, tuple[int, float]] = {}
        self.watchers = self._watchers()
        self.synced = False
        """The store holds a full list (the leader's first resync): a child it does not
        hold does not exist, or is not the operator's (a create then finds out)."""
        self.executor = execute.Executor(api, events, self.store, self.trail)
        self.queue = workqueue.WorkQueue(self.reconcile, concurrency=workers)
        self.policy = policystate.PolicyState(api, now)
        self.access = accessreview.AccessReviewer(api)
        self._admission_namespaces: freshness.FreshCache[dict[str, str] | None] = (
            freshness.FreshCache(policystate.FRESH_SECONDS)
        )
        # The runs (Jobs) of CronJobs, by uid: their templates never change; a read that
        # failed is tried again after RUN_RETRY_SECONDS.
        self._runs: freshness.FreshCache[dict[str, Any] | None] = freshness.FreshCache(
            RUN_RETRY_SECONDS, limit=RUNS_KEPT
        )

    def _watchers(self) -> list[watch.Watcher]:
        """The operator's own watches (see fwop.kube.watch).

        Workloads, children, pods, namespaces. kopf watches
        only the cluster policy: its per-event processing (a diff-base deep copy per event)
        was a tenth of the operator's CPU under load when it also watched the workloads.
        """
        workloads = watch.Watcher(
            self.api,
            kinds.WORKLOAD,
            on_event=lambda type_, obj: self.workload_seen(obj, deleted=type_ == "DELETED"),
            on_listed=self._workloads_listed,
        )
        children = [
            watch.Watcher(
                self.api,
                kind,
                on_event=lambda type_, obj: self.child_seen(obj, deleted=type_ == "DELETED"),
                on_listed=functools.partial(self._children_listed, kind.kind),
                label_selector=f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}",
            )
            for kind in kinds.CHILDREN
        ]
        pods = watch.Watcher(
            self.api,
            kinds.POD,
            on_event=lambda type_, obj: self.pod_seen(obj, deleted=type_ == "DELETED"),
            on_listed=self.store.pods_relisted,
            label_selector=f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}",
        )
        namespaces = watch.Watcher(
            self.api,
            kinds.NAMESPACE,
            on_event=lambda type_, obj: self.namespace_seen(obj, deleted=type_ == "DELETED"),
            on_listed=self.store.namespaces_relisted,
        )
        reports = watch.Watcher(
            self.api,
            kinds.POLICY_REPORT,
            on_event=lambda type_, obj: self.report_seen(obj, deleted=type_ == "DELETED"),
            on_listed=self._reports_listed,
            label_selector=f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}",
        )
        return [workloads, namespaces, *children, pods, reports]

    def _workloads_listed(self, seen: set[tuple[str, str]]) -> None:
        for key in [k for k in self.store.workloads if k not in seen]:
            self.workload_seen(self.store.workloads[key], deleted=True)  # gone while unwatched
        self.store.workloads_listed()

    def report_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """A PolicyReport event: a report that is not what the operator wrote queues its workload.

        Edited or deleted by someone else, it is written again by the workload's pass
        (_comply).
        """
        meta_ = body["metadata"]
        owner = store.workload_owner(body)
        key = self.store.key_of(owner) if owner else None
        if key is None or meta_.get("name") != policyreport.name(str(owner)):
            return  # not a workload's own report
        if deleted:
            self._report_live.pop(key, None)
            if key in self._report_known and key in self.store.workloads:
                self.queue.add(key)
            return
        written = self._report_written.get(key)
        seen = {"metadata": {"resourceVersion": meta_.get("resourceVersion")}}
        if written is not None and store.newer({"resourceVersion": written}, seen):
            return  # the operator's own write, or an earlier one of its own, seen late
        found = policyreport.content(body)
        self._report_live[key] = found
        if self._report_known.get(key) != found:
            self.queue.add(key)

    def _reports_listed(self, seen: set[tuple[str, str]]) -> None:
        """A fresh list of reports: one deleted while unwatched is missing (queued)."""
        for key in list(self._report_live):
            body = self.store.workloads.get(key)
            uid = str(body["metadata"].get("uid", "")) if body else ""
            if body is None or (key[0], policyreport.name(uid)) not in seen:
                del self._report_live[key]
                if body is not None and key in self._report_known:
                    self.queue.add(key)

    def _children_listed(self, kind: str, seen: set[tuple[str, str]]) -> None:
        for key in self.store.relisted(kind, seen):
            self.queue.add(key)

    def holders(self) -> dict[str, object]:
        """What the operator keeps per workload, by holder (fwop.memory reports their sizes)."""
        st = self.store
        return {
            "store.workloads": st.workloads,
            "store.children": st.children,
            "store.references": st.references,
            "store.pods": st.pods,
            "runs' templates": self._runs._values,
            "store.namespaces": st.namespaces,
            "store.indexes": [st._keys, st._by_namespace, st._owner, st._objects, st._owned,
                              st._tombstones, st._pod_owner, st._pods_of],
            "verdict and render memo": self._memo,
            "compliance report digests": [self._reported, self._report_live, self._report_known,
                                          self._report_written],
            "queue": [self._first_seen, self.queue.__dict__],
        }  # fmt: skip

    async def start(self, election: leader.Election | None = None) -> None:
        """Load the cluster policy, then lead (standalone) or campaign for the Lease.

        Only the leader runs the work queue, the resync and the policy status writer; a
        standby keeps its store fresh from the watches and serves admission.
        """
        await self.policy.load()
        for watcher in self.watchers:
            watcher.start()
        self.election = election
        if election is None:
            await self._lead_soon()
        else:
            election.start(self._lead_soon, self._follow)

    async def stop(self) -> None:
        """Stop leading, post the Events in flight, close connections."""
        if self.election is not None:
            await self.election.stop()
        await self._follow()
        for watcher in self.watchers:
            await watcher.stop()
        await self.events.drain()
        self.api.close()

    def leading(self) -> bool:
        """Whether this replica may write (it holds the Lease, or runs standalone)."""
        return self.election is None or self.election.valid()

    async def _lead_soon(self) -> None:
        """Start leading in the background.

        The first full list can take a while, and neither start-up (the webhook starts
        after it) nor the Lease renewals may wait for it.
        """
        self._leading_task = asyncio.create_task(self._lead(), name="fwop-lead")

    async def _lead(self) -> None:
        """Won the Lease (or standalone): once every watch has listed, reconcile everything.

        The watches' first lists are the fresh start (a standby's are done long before it
        leads); listing everything again here doubled a restart's time and memory.
        """
        for watcher in self.watchers:
            await watcher.listed()
        self.synced = True
        for key in self.store.workloads:
            self.queue.add(key)
        _log.info("leading", workloads=len(self.store.workloads))
        metrics.LEADER.set(1)
        self.queue.start()
        self.policy.start()
        self._resync_task = asyncio.create_task(self._resync_loop(), name="fwop-resync")
        self._summary_task = asyncio.create_task(self._summary_loop(), name="fwop-summary")
        self._publisher_task = asyncio.create_task(self._publisher(), name="fwop-publisher")

    async def _follow(self) -> None:
        """Lost the Lease (or stopping): no reconcile, resync or status write from here."""
        self.synced = False
        if self._leading_task is not None:
            self._leading_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._leading_task
            self._leading_task = None
        for task in (self._resync_task, self._summary_task, self._publisher_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._resync_task = self._summary_task = self._publisher_task = None
        self.tally, self._summary_live = summary.Tally(), None  # a new leader judges anew
        self._unpublished.clear()
        metrics.REPORTS_PENDING.set(0)
        self._reported.clear()  # a new leader starts from the digests in status
        self._report_known.clear()  # ...and checks each live report once
        self.standing.clear()  # a standby exports no verdicts (they would go stale)
        metrics.LEADER.set(0)
        await self.queue.stop()
        await self.policy.stop()

    async def _summary_loop(self) -> None:
        """Keep the cluster's ClusterPolicyReport in step with the tally.

        At most every SUMMARY_SECONDS, and only while the queue is idle (never a cluster
        judged by half).
        """
        while True:
            await asyncio.sleep(SUMMARY_SECONDS)
            if self.queue.busy() or not self.leading():
                continue
            try:
                await self.write_summary()
            except errors.ApiError as exc:
                _log.warning("summary report not written; the next round retries", error=str(exc))

    async def write_summary(self) -> None:
        """Write the ClusterPolicyReport when it would change; nothing otherwise."""
        if time.monotonic() < self._reports_missing_until:
            return
        kind = kinds.CLUSTER_POLICY_REPORT
        try:
            if self._summary_live is None:
                self._summary_live = await self.api.get(kind, None, summary.NAME) or {}
            live = self._summary_live or None
            new = summary.build(self.tally, _epoch(self.now()), self._uid_of, live)
            if summary.unchanged(live, new):
                return
            if live is None:
                self._summary_live = await self.api.create_object(new)
            else:
                new["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
                self._summary_live = await self.api.replace(new)
        except errors.KindMissingError:
            self._reports_missing_until = time.monotonic() + watch.MISSING_KIND_SECONDS * 10
            return
        except errors.TransientApiError:
            self._summary_live = None  # a conflict: read it again next round
            raise
        self.trail("summary-written", summary=new["summary"])

    def _uid_of(self, key: Key) -> str | None:
        found = self.store.workloads.get(key)
        return str(found["metadata"].get("uid")) if found else None

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_seconds * random.uniform(0.9, 1.1))
            try:
                await self.resync()
            except errors.ApiError as exc:
                _log.warning("resync failed; the next one retries", error=str(exc))

    async def resync(self) -> None:
        """A fresh list of everything the store holds; then every workload is judged again.

        Catches what a watch can miss: an object deleted while a watch was being re-listed
        gets no DELETED event. Writes nothing by itself: the reconciles that follow write
        only what differs.
        """
        keys: set[Key] = set()
        async for page in self.api.pages(kinds.WORKLOAD):
            keys.update(self.store.workload_seen(body, deleted=False) for body in page)
        vanished: list[str] = []
        for key in [k for k in self.store.workloads if k not in keys]:
            vanished.append(f"{kinds.WORKLOAD.kind}/{key[0]}/{key[1]}")
            self.workload_seen(self.store.workloads[key], deleted=True)
        async for page in self.api.pages(kinds.NAMESPACE):
            for body in page:
                self.store.namespace_seen(body, deleted=False)
        for kind in kinds.CHILDREN:
            vanished += await self._relist(kind)
        for key in self.store.workloads:
            self.queue.add(key)
        _log.info("resync", workloads=len(self.store.workloads), vanished=vanished[:50])

    async def _relist(self, kind: kinds.Kind) -> list[str]:
        """Relist one child kind; returns the stored objects that had vanished."""
        seen: set[store.ChildKey] = set()
        try:
            async for page in self.api.pages(kind, f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}"):
                for body in page:
                    seen.add(store.child_key(body))
                    self.store.child_seen(body, deleted=False)
        except errors.KindMissingError:
            return []
        vanished: list[str] = []
        for ckey in [c for c in self.store.children if c[0] == kind.kind and c not in seen]:
            # Not in the labelled list: gone, or its labels were stripped. Look once.
            live = await self.api.get(kind, ckey[1], ckey[2])
            if live is None:
                vanished.append("/".join(ckey))
                owner = self.store.owner_of(ckey)
                self.store.forget(ckey)
                key = self.store.key_of(owner) if owner else None
                if key is not None:
                    self.queue.add(key)
            else:
                self.store.child_seen(live, deleted=False)
        return vanished

    # ---- the watch side: handlers feed the caches -------------------------------------------

    def workload_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """A FinancialWorkload event: refresh the store and queue a reconcile.

        The echo of the operator's own status write (same generation, same status) needs
        no pass.
        """
        meta = body["metadata"]
        before = self.store.workloads.get((str(meta["namespace"]), str(meta["name"])))
        echo = (
            not deleted
            and before is not None
            and before["metadata"].get("generation") == meta.get("generation")
            and before.get("status") == body.get("status")
        )
        key = self.store.workload_seen(body, deleted)
        if echo:
            return
        if deleted:  # children go through garbage collection (ownerReferences)
            self._memo.pop(key, None)
            self._reported.pop(key, None)
            self._unpublished.pop(key, None)
            self._report_live.pop(key, None)
            self._report_known.pop(key, None)
            self._report_written.pop(key, None)
            if self.tally.drop(key):
                self.standing.failing(self.tally)
            self.standing.drop(key)
            self._first_seen.pop(key, None)
            self.store.drop_workload_children(str(body["metadata"].get("uid", "")))
            self.queue.forget(key)
            self.policy.forget(key)
            return
        self.queue.add(key)

    def child_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """An event on an object of a child kind: route it to its workload by owner uid.

        The echo of the operator's own write (the object equals its reference) needs no
        pass; a Deployment always does (its status says whether the workload is Ready).
        """
        ckey = store.child_key(body)
        deployment = body.get("kind") == "Deployment"
        progress = _rollout(self.store.children.get(ckey)) if deployment else None
        key = self.store.child_seen(body, deleted)
        if key is None:
            return
        live = None if deleted else self.store.children.get(ckey)  # one decode per event
        if (
            live is None
            or not self._echo(ckey, live)
            or (deployment and progress != _rollout(live))
        ):
            self.queue.add(key)

    def _echo(self, ckey: store.ChildKey, live: Mapping[str, Any]) -> bool:
        ref = self.store.references.get(ckey)
        if ref is None or not isinstance(ref.exceptions, fields.Exceptions):
            return False
        if ref.object_uid != live["metadata"].get("uid"):
            return False
        return fields.live_digest(live, ref.exceptions) == ref.digest

    def pod_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """A pod event: a pod of a workload (or one that was) queues its workload."""
        key = self.store.pod_seen(body, deleted)
        if key is not None and not deleted:
            self.queue.add(key)

    def namespace_seen(self, body: Mapping[str, Any], deleted: bool = False) -> None:
        """A namespace changed: store it and re-check the workloads in it.

        Admission reads its labels (PRF-1); its workloads own its Pod Security labels.
        """
        name = self.store.namespace_seen(body, deleted)
        self._admission_namespaces.invalidate(name)
        if not deleted:
            for key in self.store.workloads_in(name):
                self.queue.add(key)

    def policy_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """The cluster policy changed: every workload is judged again."""
        if self.policy.seen(None if deleted else store.plain(body)):
            meta = body.get("metadata") or {}
            self.trail(
                "policy-changed",
                name=str(meta.get("name", "")),
                deleted=deleted,
                generation=meta.get("generation"),
                resourceVersion=str(meta.get("resourceVersion", "")),
                spec=trail.capped(body.get("spec") or {}),
            )
            for key in self.store.workloads:
                self.queue.add(key)

    async def admission_problems(
        self, doc: Mapping[str, Any], namespace: str, user: Mapping[str, Any] | None = None
    ) -> tuple[errors.Problem, ...]:
        """What the webhook refuses in a FinancialWorkload (empty: admit it).

        With the requester's ``user`` (AdmissionReview userInfo), a workload that passes
        every rule is also checked for RBAC-4: the requester holds what it grants.
        """
        policy = await self.policy.fresh()
        labels = await self._fresh_namespace_labels(namespace)
        problems = admission_review.review(doc, policy, labels, default_namespace=namespace)
        if problems or user is None:
            return problems
        parsed = workload_api.parse(doc, namespace)
        beside = await self._neighbours(parsed.name, parsed.namespace)
        if beside:
            return beside
        if not parsed.spec.permissions and not permissions.volume_accesses(parsed.spec):
            return ()  # nothing granted, nothing read through the pods: no question to ask
        return await self.access.problems(parsed.spec, parsed.namespace, user)

    async def _neighbours(self, name: str, namespace: str) -> tuple[errors.Problem, ...]:
        """Someone else's objects that would widen the workload (``admission.neighbours``).

        Two namespaced lists, at admission only (never in a reconcile).
        """
        policies, bindings = await asyncio.gather(
            self.api.list_namespaced(kinds.child("NetworkPolicy"), namespace),
            self.api.list_namespaced(kinds.child("RoleBinding"), namespace),
        )
        return tuple(neighbours.problems(name, namespace, policies, bindings))

    async def _fresh_namespace_labels(self, name: str) -> dict[str, str] | None:
        """Namespace labels for admission, at most about a second old (see PolicyState.fresh)."""

        async def read() -> dict[str, str] | None:
            live = await self.api.get(kinds.NAMESPACE, None, name)
            return dict(live["metadata"].get("labels", {})) if live else None

        return await self._admission_namespaces.get(name, read)

    async def _namespace_labels(self, name: str) -> dict[str, str] | None:
        live = self.store.namespaces.get(name) or await self.api.get(kinds.NAMESPACE, None, name)
        return dict(live["metadata"].get("labels", {})) if live else None

    # ---- the reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: Key) -> float | None:
        """One pass for one workload; returns a retry delay in seconds, or None."""
        body = self.store.workloads.get(key)
        namespace = self.store.namespaces.get(key[0], {})
        if not self.leading() or body is None or _deleting(body) or _deleting(namespace):
            # A standby writes nothing (the leader's resync covers the key); a workload
            # deleted or being deleted leaves its children to garbage collection.
            return None
        metadata = body["metadata"]
        log = _log.bind(
            namespace=key[0],
            name=key[1],
            uid=metadata.get("uid"),
            generation=metadata.get("generation"),
        )
        started = time.perf_counter()
        try:
            outcome = self._comply(key, body, await self._pass(body, log))
            held = self._hold(key, body, outcome)
            if held is None:
                await self._write_status(body, outcome, log)
        except errors.TransientApiError as exc:
            metrics.RECONCILES.labels("retry").inc()
            log.warning("transient API error", error=str(exc), retry_after=exc.retry_after)
            return exc.retry_after if exc.retry_after else workqueue.RETRY
        except (errors.NotFoundError, execute.NamespaceTerminatingError) as exc:
            # The workload vanished during the pass (its DELETED event follows), or its
            # namespace is being deleted: no child comes back.
            log.info("pass ended early", reason=type(exc).__name__)
            return None
        finally:
            metrics.RECONCILE_SECONDS.observe(time.perf_counter() - started)
        return self._after(outcome, held, log)

    def _comply(
        self, key: Key, body: dict[str, Any], outcome: status_core.Outcome
    ) -> status_core.Outcome:
        """status.compliance for this pass; verdicts that changed go to the publisher.

        Unchanged verdicts (the digest in memory, or after a restart the one in status)
        publish nothing. The PolicyReport is written by the publisher, behind the
        reconciles: evidence must not hold back Reconciled and Ready (decision 31).
        """
        if not outcome.verdicts or not self.leading():
            return outcome
        previous = body.get("status") or {}
        before = previous.get("compliance") or {}
        digest = policyreport.digest(outcome.verdicts)
        known = self._reported.get(key) or (before.get("digest", ""), before.get("report", ""))
        if self.tally.set(key, outcome.verdicts):
            self.standing.failing(self.tally)
        self.standing.set(key, str((body.get("spec") or {}).get("profile", "")), outcome.verdicts)
        report = known[1]
        altered = self._report_altered(key, body, outcome.verdicts, report)
        altered = altered if known[0] == digest else None
        if altered == "missing":  # absent at start: never written, or deleted meanwhile
            _log.info("PolicyReport missing; written", namespace=key[0], name=key[1])
        elif altered:
            self.events(body, "Warning", "PolicyReportRestored",
                        f"PolicyReport {report} was changed or deleted by someone else; "
                        "written again from the operator's verdicts")  # fmt: skip
            self.trail("report-restored", workload=evidence.workload(body), report=report,
                       found=self._report_live.get(key, "missing"))  # fmt: skip
        if known[0] != digest or altered:
            missing = time.monotonic() < self._reports_missing_until
            report = "" if missing else policyreport.name(str(body["metadata"]["uid"]))
            waiting = self._unpublished.get(key)
            since = waiting[0] if waiting else time.monotonic()
            self._unpublished[key] = (since, bool(known[0]), outcome.verdicts)
            metrics.REPORTS_PENDING.set(len(self._unpublished))
            self._reported[key] = (digest, report)
        if known[0] != digest:
            self.trail(
                "verdicts-changed",
                workload=evidence.workload(body),
                generation=body["metadata"].get("generation"),
                failingBefore=list(before.get("failing") or ()) if before else None,
                failing=[v.control for v in outcome.verdicts if v.result is verdicts.Result.FAIL],
                digest=digest,
                report=report,
            )
        short = status_core.compliance(outcome.verdicts, digest, report, previous, self.now())
        return dataclasses.replace(outcome, compliance=short)

    def _report_altered(
        self, key: Key, body: dict[str, Any], found: tuple[verdicts.Verdict, ...], report: str
    ) -> str | None:
        """Whether, and how, the live PolicyReport no longer says what the verdicts say.

        "edited", "deleted" (seen there, then gone), "missing" (not there at the first
        look since this replica started leading: never written before a restart, or
        deleted meanwhile), or None. Checked only when the watch saw the report differ
        from what the operator last wrote or confirmed (a restart checks each report
        once); the report is then written again, so an auditor never reads a report the
        operator did not write.
        """
        if not report or key in self._unpublished or key in self._publishing:
            return None  # none written yet, or a write is on its way
        if time.monotonic() < self._reports_missing_until:
            return None
        live = self._report_live.get(key)
        if live is not None and live == self._report_known.get(key):
            return None
        if live is None:
            return "deleted" if key in self._report_known else "missing"
        expected = policyreport.content(policyreport.build(body, found, 0))
        if expected == live:
            self._report_known[key] = live
            return None
        return "edited"

    async def _publisher(self) -> None:
        """Write the PolicyReports of changed verdicts, behind the reconciles.

        While the queue is busy, a report waits up to PUBLISH_DELAY_SECONDS; then it is
        written anyway, PUBLISH_BATCH at a time, so that a cluster that never rests still
        gets its evidence.
        """
        while True:
            await asyncio.sleep(PUBLISH_SECONDS)
            if not self._unpublished or not self.leading():
                continue
            oldest = next(iter(self._unpublished.values()))[0]
            if self.queue.busy() and time.monotonic() - oldest < PUBLISH_DELAY_SECONDS:
                continue
            batch = list(itertools.islice(self._unpublished, PUBLISH_BATCH))
            await asyncio.gather(*(self._publish(key) for key in batch))
            metrics.REPORTS_PENDING.set(len(self._unpublished))

    async def _publish(self, key: Key) -> None:
        """Write one workload's PolicyReport; a failure queues a pass that tries again."""
        _, existed, found = self._unpublished.pop(key)
        body = self.store.workloads.get(key)
        if body is None:
            return  # deleted meanwhile: its report goes with it (garbage collection)
        log = _log.bind(namespace=key[0], name=key[1])
        self._publishing.add(key)
        try:
            written = await self._write_report(body, found, fresh=not existed, log=log)
        except errors.ApiError as exc:
            log.warning("PolicyReport not written; retried", error=str(exc))
            written = None
        finally:
            self._publishing.discard(key)
        if written is None:
            self._reported[key] = ("", "")  # the next pass publishes again
            self.queue.add_after(key, PUBLISH_RETRY_SECONDS)

    async def _write_report(
        self, body: dict[str, Any], found: tuple[verdicts.Verdict, ...], fresh: bool, log: Any
    ) -> str | None:
        """Create or replace the PolicyReport; its name, "" without the kind, None on failure."""
        if time.monotonic() < self._reports_missing_until:
            return ""
        metadata = body["metadata"]
        namespace, uid = str(metadata["namespace"]), str(metadata["uid"])
        name = policyreport.name(uid)
        now = _epoch(self.now())
        try:
            # A workload never reported on has no report yet: create it without a read.
            live = None if fresh else await self.api.get(kinds.POLICY_REPORT, namespace, name)
            manifest = policyreport.build(body, found, now, live)
            key = (namespace, str(metadata["name"]))
            if live is None:
                try:
                    self._wrote_report(key, manifest, await self.api.create_object(manifest))
                    return name
                except errors.TransientApiError:  # it exists after all (409): read it
                    live = await self.api.get(kinds.POLICY_REPORT, namespace, name)
                    if live is None:
                        raise
                    manifest = policyreport.build(body, found, now, live)
            if not meta.controlled_by(live, uid):  # never write what the workload does not own
                log.warning("PolicyReport name taken by an object the workload does not own",
                            report=name)  # fmt: skip
                return ""
            manifest["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
            self._wrote_report(key, manifest, await self.api.replace(manifest))
            return name
        except errors.KindMissingError:
            self._reports_missing_until = time.monotonic() + watch.MISSING_KIND_SECONDS * 10
            log.info("the cluster serves no PolicyReports; verdicts go to status only")
            return ""
        except errors.TransientApiError:
            raise
        except errors.ApiError as exc:
            log.warning("PolicyReport not written", report=name, error=str(exc))
            return None

    def _wrote_report(self, key: Key, manifest: dict[str, Any], stored: dict[str, Any]) -> None:
        """Record a report the operator wrote: what it says, and the version written.

        What it says is the live report too: its own watch event may come later, or after
        a newer write.
        """
        self._report_known[key] = self._report_live[key] = policyreport.content(manifest)
        self._report_written[key] = str(stored["metadata"].get("resourceVersion"))

    def _after(self, outcome: status_core.Outcome, held: float | None, log: Any) -> float | None:
        """What the queue does next: come back after a hold, retry a failure, or rest."""
        if outcome.failures or outcome.conflicts:
            metrics.RECONCILES.labels("retry").inc()
            log.warning("pass incomplete", problems=[*outcome.failures, *outcome.conflicts])
            return workqueue.RETRY
        metrics.RECONCILES.labels("invalid" if outcome.invalid else "ok").inc()
        return held  # None, or the seconds after which the held status is written anyway

    async def _pass(self, body: dict[str, Any], log: Any) -> status_core.Outcome:
        metadata = body["metadata"]
        generation = int(metadata.get("generation", 0))
        found = await self._judged(body)
        if isinstance(found, errors.InvalidSpecError):
            exc = found
            reported = cond.find((body.get("status") or {}).get("conditions"), cond.RECONCILED)
            if reported is None or reported.get("message") != str(exc):  # once per finding
                self.events(body, "Warning", "InvalidSpec", str(exc))
                log.warning("invalid spec", problems=[str(p) for p in exc.problems])
            return status_core.Outcome(generation=generation, invalid=str(exc))
        judged, parsed = found
        problems = judged.problems
        previous = body.get("status") or {}
        steady = _steady(body)
        decision = gate.decide(
            parsed.spec,
            body.get("spec") or {},
            generation,
            gate.blocking(problems, self.policy.spec),
            gate.applied_from(previous, generation if steady else None),
        )
        self._announce(body, problems, decision, log)
        ctx = plan.Context(
            owner=str(metadata["uid"]),
            steady=steady or decision.blocked is not None,
            enforce=parsed.spec.enforcement is spec_api.Enforcement.ENFORCE,
            replicas_elsewhere=parsed.spec.replicas_managed_elsewhere,
        )
        results = execute.Results(
            open_drift={
                (str(e.get("kind")), str(e.get("name")), str(e.get("field")))
                for e in previous.get("drift", [])
                if not e.get("healedAt")
            }
        )
        desired: list[dict[str, Any]] | None = None
        if decision.spec is not None:
            desired, keys = self._rendered(judged, parsed, decision, ctx.owner)
            for wave in _waves(list(zip(desired, keys, strict=True))):
                await asyncio.gather(*(self._child(body, d, k, ctx, results, log) for d, k in wave))
            order = {(d["kind"], d["metadata"]["name"]): i for i, d in enumerate(desired)}
            results.live.sort(key=lambda c: order.get((c["kind"], c["metadata"]["name"]), -1))
            # Waves run children at once: keep every report in a stable order.
            results.failures.sort()
            results.conflicts.sort()
            results.findings.sort(key=lambda f: f.key)
            named = {f"{d['kind']} {d['metadata']['name']}": i for i, d in enumerate(desired)}
            results.created.sort(key=lambda c: named.get(c, -1))
            results.updated.sort(key=lambda c: named.get(c, -1))
            if not results.conflicts:
                rendered = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])
                            for d in desired}  # fmt: skip
                owned = self.store.owned(ctx.owner, skip=rendered)
                for gone in plan.prune(desired, owned, ctx.owner):
                    await self.executor.delete(body, gone, log)
            if ctx.steady:
                await self._pods(body, desired, ctx, results, log)
        self._summarise(body, results)
        entries = drift.record(previous.get("drift"), results.findings, now=self.now())
        _observe_heals(previous.get("drift"), entries)
        drifted = drift.condition(
            entries,
            [f for f in results.findings if f.healed],
            cond.find(previous.get("conditions"), cond.DRIFTED),
        )
        subject = self._subject(body, decision.spec or parsed.spec, problems, results, desired)
        return status_core.Outcome(
            generation=generation,
            verdicts=verdicts.judge(dataclasses.replace(subject, drift=tuple(entries))),
            failures=tuple(results.failures),
            conflicts=tuple(results.conflicts),
            blocked=decision.blocked,
            applied=decision.applied,
            secrets_declared=parsed.spec.secrets is not None,
            secrets_missing_kind=results.missing_kind,
            deployment=next((c for c in results.live if c["kind"] == "Deployment"), None),
            cronjob=next((c for c in results.live if c["kind"] == "CronJob"), None),
            children=tuple(results.live),
            drift=tuple(entries),
            drifted=drifted,
            violations=tuple(str(p) for p in problems),
        )

    def _subject(
        self,
        body: Mapping[str, Any],
        spec: spec_api.FinancialWorkloadSpec,
        problems: tuple[errors.Problem, ...],
        results: execute.Results,
        desired: list[dict[str, Any]] | None,
    ) -> verdicts.Subject:
        """What the compliance verdicts judge: the live children after the pass."""
        namespace = str(body["metadata"]["namespace"])
        rules = self.policy.spec.profile_rules(spec.profile)
        return verdicts.Subject(
            namespace=self.store.namespaces.get(namespace),
            children=tuple(c for c in results.live if c.get("kind") != "Namespace"),
            owner_uid=str(body["metadata"]["uid"]),
            profile=str(spec.profile),
            permissions_declared=bool(spec.permissions),
            secrets_declared=spec.secrets is not None,
            regions=tuple(spec.residency.regions) if spec.residency else (),
            registries=tuple(self.policy.spec.allowed_registries),
            desired_network=None if desired is None else {
                d["metadata"]["name"]: d for d in desired if d["kind"] == "NetworkPolicy"
            },
            problems=problems,
            conflicts=tuple(results.conflicts),
            placement=rules.placement,
            identity=rules.identity,
        )  # fmt: skip

    async def _judged(
        self, body: dict[str, Any]
    ) -> tuple[_Judged, workload_api.Workload] | errors.InvalidSpecError:
        """The parsed spec, and the policy's verdict memoized.

        The verdict (and the renderings) are computed once per generation, policy and
        namespace labels: a pass over an unchanged workload judges and renders nothing. The
        parse is repeated (tens of microseconds) rather than kept: the parsed model was the
        largest part of the memo (docs/scale.md).
        """
        meta = body["metadata"]
        key = (str(meta["namespace"]), str(meta["name"]))
        namespace = self.store.namespaces.get(key[0], {})
        token = (
            meta.get("uid"),
            meta.get("generation"),
            id(self.policy.spec),
            namespace.get("metadata", {}).get("resourceVersion"),
        )
        try:
            parsed = workload_api.parse(body)
        except errors.InvalidSpecError as exc:
            self._memo.pop(key, None)
            return exc
        memo = self._memo.get(key)
        if memo is not None and memo.token == token:
            return memo, parsed
        judged = _Judged(token, await self._judge(parsed))
        self._memo[key] = judged
        return judged, parsed

    def _rendered(
        self,
        judged: _Judged,
        parsed: workload_api.Workload,
        decision: gate.Decision,
        uid: str,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """The rendering of the decided spec and each child's digest, memoized."""
        assert decision.spec is not None
        version = self.policy.spec.pod_security_version
        endpoints = self.policy.spec.endpoints
        # A policy edit that moves the DNS or API server endpoints renders anew.
        generation = decision.applied.generation if decision.applied else None
        token = (generation, version, endpoints.key)
        if token not in judged.renders:
            owner = meta.OwnerRef(name=parsed.name, uid=uid)
            desired = render.render_all(
                parsed.namespace,
                parsed.name,
                decision.spec,
                owner,
                pod_security_version=version,
                endpoints=endpoints,
            )
            judged.renders.clear()
            digests = [fields.desired_digest(d) for d in desired]
            text = json.dumps(desired, separators=(",", ":")).encode()
            judged.renders[token] = (zlib.compress(text, 1), digests)
        packed, keys = judged.renders[token]
        # Kept as compressed compact JSON: a twentieth of the memory of the dicts (the
        # memo was the second holder at 10,000 workloads), and a fresh copy per pass costs
        # a decompression and a parse (~70 us, a quarter of a rendering).
        rendered: list[dict[str, Any]] = json.loads(zlib.decompress(packed))
        return rendered, keys

    async def _child(  # noqa: PLR0917 - one child's context
        self,
        body: dict[str, Any],
        desired: dict[str, Any],
        desired_key: str,
        ctx: plan.Context,
        results: execute.Results,
        log: Any,
    ) -> None:
        """Gather one child, let the planner decide, let the executor write."""
        try:
            child = await self._gather(desired, desired_key, ctx)
        except errors.KindMissingError:
            if desired["kind"] != "SecretProviderClass":
                raise
            results.missing_kind = True  # no Secrets Store CSI driver: reported in status
            return
        decided = plan.step(child, ctx)
        if decided.action is plan.Action.CHECK:
            expected = await self.executor.expected(child, ctx)
            child = dataclasses.replace(child, expected=expected)
            decided = plan.step(child, ctx)
        await self.executor.run(body, child, decided, ctx, results, log)

    async def _gather(
        self, desired: dict[str, Any], desired_key: str, ctx: plan.Context
    ) -> plan.Child:
        meta = desired["metadata"]
        kind, name, namespace = desired["kind"], meta["name"], meta.get("namespace", "")
        if kind == plan.NAMESPACE:
            live = self.store.namespaces.get(name) or await self.api.get(
                kinds.NAMESPACE, None, name
            )
            return plan.Child(desired, live, ours=True, desired_key=desired_key)
        ckey = (kind, namespace, name)
        live = self.store.children.get(ckey)
        if live is None and not self.synced:  # once synced, absent from the store is absent
            live = await self.api.get(kinds.of(desired), namespace, name)
            if live is not None and store.workload_owner(live) == ctx.owner:
                live = self.store.written(live, ctx.owner)
        ours = live is not None and self.store.ours(ckey, live, ctx.owner)
        return plan.Child(desired, live, ours, self.store.references.get(ckey), None, desired_key)

    async def _pods(
        self,
        body: dict[str, Any],
        desired: list[dict[str, Any]],
        ctx: plan.Context,
        results: execute.Results,
        log: Any,
    ) -> None:
        """Judge the running pods against their controller's template (pod drift).

        A CronJob's pods come from Jobs made from older templates too, so their images are
        compared with their own Job's template, and only for a Job the workload's CronJob
        made.
        """
        rendered = next((d for d in desired if d["kind"] in ("Deployment", "CronJob")), None)
        if rendered is None:
            return
        _, template = verdicts.template_of(rendered)
        live = next((c for c in results.live if c["kind"] == rendered["kind"]), None)
        settled = rendered["kind"] == "Deployment" and pods.settled(live)
        for pod in self.store.pods_of(ctx.owner):
            images_from = template if settled else None
            if rendered["kind"] == "CronJob":
                images_from = await self._run_template(pod, live)
            found = pods.judge(template, pod, images_from, healed=ctx.enforce)
            if found:
                await self.executor.heal_pod(body, pod, found, results, log)

    async def _run_template(
        self, pod: dict[str, Any], cronjob: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """The pod template of the run (Job) that made `pod`.

        Only for a Job the workload's CronJob made; None when either is not known (nothing
        to compare yet). A Job's template cannot change, so it is read once per Job (by
        uid, in a bounded cache) rather than watched: no Job anyone else makes costs the
        operator anything.
        """
        ref = store.job_reference(pod)
        if ref is None or cronjob is None:
            return None
        name, job_uid = ref
        namespace = str(pod["metadata"].get("namespace"))

        async def read() -> dict[str, Any] | None:
            try:
                live = await self.api.get(kinds.JOB, namespace, name)
            except errors.ApiError as exc:
                _log.warning("run not read", namespace=namespace, job=name, error=str(exc))
                return None
            if live is None or live["metadata"].get("uid") != job_uid:
                return None
            return store.slim_job(live)

        job = await self._runs.get(job_uid, read)
        if job is None:
            return None
        made_by = job["metadata"].get("controller") or {}
        if (made_by.get("kind"), made_by.get("uid")) != ("CronJob", cronjob["metadata"].get("uid")):
            return None
        template: dict[str, Any] = job["spec"]["template"]
        return template

    def _summarise(self, body: dict[str, Any], results: execute.Results) -> None:
        """One Normal Event per pass that created or changed children (not one per child)."""
        for verb, done in (("Created", results.created), ("Updated", results.updated)):
            if done:
                self.events(body, "Normal", verb, f"{verb} {len(done)} children: {', '.join(done)}")
        if results.created or results.updated:
            self.trail(
                "children-written",
                workload=evidence.workload(body),
                generation=body["metadata"].get("generation"),
                created=list(results.created),
                updated=list(results.updated),
            )

    async def _judge(self, parsed: workload_api.Workload) -> tuple[errors.Problem, ...]:
        """The cluster policy's verdict on a workload already admitted (the reconcile gate)."""
        labels = await self._namespace_labels(parsed.namespace)
        problems = admission_review.evaluate(parsed, self.policy.spec, labels)
        self.policy.record((parsed.namespace, parsed.name), len(problems))
        return problems

    def _announce(
        self,
        body: dict[str, Any],
        problems: tuple[errors.Problem, ...],
        decision: gate.Decision,
        log: Any,
    ) -> None:
        """One Warning Event per new verdict: PolicyBlocked, or PolicyViolation (reported).

        A workload that no longer complies after a policy change is not broken or deleted;
        a new generation that breaks a blocking control is not rolled out.
        """
        if not problems:
            return
        conditions = (body.get("status") or {}).get("conditions")
        violations = tuple(str(p) for p in problems)
        message = decision.blocked or status_core.violation_message(violations)
        kind = cond.RECONCILED if decision.blocked else cond.COMPLIANT
        previous = cond.find(conditions, kind)
        if previous is not None and previous.get("message") == message:
            return
        controls = sorted({p.control for p in problems if p.control})
        reason = "PolicyBlocked" if decision.blocked else "PolicyViolation"
        self.events(
            body,
            "Warning",
            reason,
            f"breaks {', '.join(controls) or 'the cluster policy'}: {message}",
        )
        log.warning("policy violation", blocked=bool(decision.blocked), problems=list(violations))

    def _hold(self, key: Key, body: dict[str, Any], outcome: status_core.Outcome) -> float | None:
        """Whether to hold back this pass's status (see status_core.hold)."""
        first = self._first_seen.get(key)
        if first is None or first[0] != outcome.generation:
            first = self._first_seen[key] = (outcome.generation, time.monotonic())
        held = status_core.hold(outcome, body.get("status"), time.monotonic() - first[1])
        if held is None:
            self._first_seen.pop(key, None)
        return held

    async def _write_status(
        self, body: dict[str, Any], outcome: status_core.Outcome, log: Any
    ) -> None:
        previous = body.get("status")
        new = status_core.build(outcome, previous, self.now())
        what = status_core.changed(previous, new)
        if not what or not self.leading():
            return
        metadata = body["metadata"]
        written = await self.api.apply_status(
            kinds.WORKLOAD, metadata["namespace"], metadata["name"], new
        )
        # The store learns its own write, so that the watch's echo of it queues no pass.
        self.store.workload_seen(
            written if written.get("metadata") else {**body, "status": new}, deleted=False
        )
        for key in what:
            metrics.STATUS_WRITE_CHANGES.labels(key).inc()
        ready = next(c for c in new["conditions"] if c["type"] == "Ready")
        log.info("status written", ready=ready["status"], reason=ready["reason"], changed=what)


def _rollout(deployment: Mapping[str, Any] | None) -> Any:
    """What of a Deployment's status the workload's status shows (Ready, Stalled, counts).

    Other moves of a rollout (total replicas, condition reasons) need no pass.
    """
    if deployment is None or deployment.get("kind") != "Deployment":
        return None
    available = deployment.get("status", {}).get("availableReplicas", 0)
    return (
        status_core.deployment_available(deployment),
        status_core.stalled(deployment),
        available,
    )


# Children are written in waves, each wave at once: the namespace's Pod Security labels,
# then everything that guards the pods (identity, RBAC, network fence, secrets, Service),
# then the Deployment (or CronJob), then its PodDisruptionBudget and autoscaler. No pod
# runs before its fence.
_WAVE_OF = {
    "Namespace": 0,
    "Deployment": 2,
    "CronJob": 2,
    "PodDisruptionBudget": 3,
    "HorizontalPodAutoscaler": 3,
}


def _waves(children: list[tuple[dict[str, Any], str]]) -> list[list[tuple[dict[str, Any], str]]]:
    waves: dict[int, list[tuple[dict[str, Any], str]]] = {}
    for child in children:
        waves.setdefault(_WAVE_OF.get(child[0]["kind"], 1), []).append(child)
    return [waves[w] for w in sorted(waves)]


@dataclasses.dataclass
class _Judged:
    """A workload's verdict, and the renderings made from its spec.

    Valid for one (uid, generation, policy, namespace labels): its ``token``.
    """

    token: tuple[Any, ...]
    problems: tuple[errors.Problem, ...]
    renders: dict[tuple[Any, ...], tuple[bytes, list[str]]] = dataclasses.field(
        default_factory=dict
    )
    """Per (applied generation, Pod Security version): the rendering (zlib-compressed JSON)
    and each child's digest."""


PUBLISH_SECONDS = 1.0
"""How often the publisher looks for PolicyReports to write."""
PUBLISH_DELAY_SECONDS = 30.0
"""The longest a PolicyReport waits for the reconciles to rest before it is written anyway."""
PUBLISH_BATCH = 16
"""PolicyReports written at once by the publisher."""
PUBLISH_RETRY_SECONDS = 10.0
"""After a PolicyReport could not be written, its workload's next pass (which retries it)."""
SUMMARY_SECONDS = 10.0
RUN_RETRY_SECONDS = 300.0
"""A run (Job) not read, or read as not the workload's, is read again after this long."""
RUNS_KEPT = 4096
"""Templates of runs kept (by Job uid); the oldest go first."""
"""How often, at most, the cluster's summary report is rewritten while verdicts change."""


class _Standing:
    """What fwop_workload_compliance and fwop_control_failing_workloads export.

    Kept one workload at a time: no scan of every workload.
    """

    def __init__(self) -> None:
        self.of: dict[Key, tuple[str, str, str]] = {}
        self.namespaces: set[str] = set()

    def set(self, key: Key, profile: str, found: tuple[verdicts.Verdict, ...]) -> None:
        failing = {v.control for v in found if v.result is verdicts.Result.FAIL}
        state = "drifted" if "DRF-1" in failing else "non_compliant" if failing else "compliant"
        namespace = key[0]
        if namespace not in self.namespaces:
            if len(self.namespaces) >= metrics.MAX_NAMESPACES:
                namespace = "_other"
            else:
                self.namespaces.add(namespace)
        labels = (namespace, profile if profile in ("baseline", "pci") else "other", state)
        before = self.of.get(key)
        if before == labels:
            return
        if before is not None:
            metrics.WORKLOADS.labels(*before).dec()
        metrics.WORKLOADS.labels(*labels).inc()
        self.of[key] = labels

    def drop(self, key: Key) -> None:
        before = self.of.pop(key, None)
        if before is not None:
            metrics.WORKLOADS.labels(*before).dec()

    @staticmethod
    def failing(tally: summary.Tally) -> None:
        for control, counts in tally.counts.items():
            metrics.CONTROL_FAILING.labels(control).set(counts["fail"])

    def clear(self) -> None:
        self.of.clear()
        self.namespaces.clear()
        metrics.WORKLOADS.clear()
        metrics.CONTROL_FAILING.clear()


def _observe_heals(previous: Any, entries: list[dict[str, Any]]) -> None:
    """fwop_drift_heal_seconds for the drift entries this pass marked healed."""
    healed_before = {
        (e.get("kind"), e.get("name"), e.get("field"), e.get("detectedAt"))
        for e in previous or ()
        if e.get("healedAt")
    }
    for entry in entries:
        key = (entry.get("kind"), entry.get("name"), entry.get("field"), entry.get("detectedAt"))
        if entry.get("healedAt") and key not in healed_before:
            try:
                seconds = _epoch(str(entry["healedAt"])) - _epoch(str(entry["detectedAt"]))
            except ValueError:  # written by an older version in another format
                continue
            metrics.HEAL_SECONDS.observe(max(seconds, 0))


def _epoch(rfc3339: str) -> int:
    """Seconds since the epoch of an RFC 3339 UTC time (PolicyReport timestamps)."""
    parsed = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ")
    return int(parsed.replace(tzinfo=datetime.UTC).timestamp())


def _deleting(obj: Mapping[str, Any]) -> bool:
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def _steady(body: Mapping[str, Any]) -> bool:
    status = body.get("status") or {}
    reconciled = cond.find(status.get("conditions"), cond.RECONCILED)
    return (
        status.get("observedGeneration") == body["metadata"].get("generation")
        and reconciled is not None
        and reconciled.get("status") == cond.TRUE
    )
