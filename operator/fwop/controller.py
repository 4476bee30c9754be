"""The reconcile loop: gather, decide, write, for one FinancialWorkload at a time.

Every event (the workload changed, a child changed or vanished, the namespace was
relabelled) funnels into one idempotent `reconcile(key)`, which never asks why it runs.
It reads live children from the watch cache (falling back to a GET), compares each with
its rendering, applies only the ones that differ, deletes children no longer rendered,
and writes status only when it changed: a pass over an unchanged workload writes nothing.
Must not: import kopf (handlers do), or build manifests (render does).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fwop import errors, logs, workqueue
from fwop.api import spec as spec_api
from fwop.api import workload as workload_api
from fwop.kube import api as kube_api
from fwop.kube import kinds
from fwop.reconcile import compare, drift
from fwop.reconcile import conditions as cond
from fwop.reconcile import status as status_core
from fwop.render import meta
from fwop.render import workload as render

_log = logs.get(__name__)
Key = workqueue.Key
ChildKey = tuple[str, str, str]  # kind, namespace, name

# Below these paths the live object must hold exactly what was rendered (see compare).
CLOSED: Mapping[str, tuple[str, ...]] = {
    "Deployment": (
        "spec.template.spec.securityContext",
        "spec.template.spec.containers.securityContext",
        "spec.template.spec.volumes",
    ),
    "NetworkPolicy": ("spec",),
    "Role": ("rules",),
    "RoleBinding": ("roleRef", "subjects"),
    "SecretProviderClass": ("spec",),
    "PodDisruptionBudget": ("spec",),
}


# The API server's words when a namespace is being deleted: nothing may be created in it.
_TERMINATING = "because it is being terminated"


class NamespaceTerminatingError(errors.RejectedError):
    """The workload's namespace is being deleted; its children must not come back."""


class EventSink(Protocol):
    """Posts Kubernetes Events on a FinancialWorkload without blocking the caller."""

    def __call__(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Record one event."""

    async def drain(self) -> None:
        """Wait for the events in flight."""


def utc_now() -> str:
    """RFC 3339 time with second precision, as metav1.Time serialises."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Controller:
    """Holds the watch caches and the queue, and reconciles keys."""

    def __init__(
        self, api: kube_api.Api, events: EventSink, now: Callable[[], str] = utc_now
    ) -> None:
        self.api = api
        self.events = events
        self.now = now
        self.workloads: dict[Key, dict[str, Any]] = {}
        self.children: dict[ChildKey, dict[str, Any]] = {}
        self.failures: dict[Key, int] = {}
        self._namespace_locks: dict[str, asyncio.Lock] = {}
        self.queue = workqueue.WorkQueue(self.reconcile)

    # ---- the watch side: handlers feed the caches -------------------------------------------

    def workload_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """A FinancialWorkload event: refresh the cache and queue a reconcile."""
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if deleted:  # children go through garbage collection (ownerReferences)
            self.workloads.pop(key, None)
            self.failures.pop(key, None)
            return
        self.workloads[key] = _plain(body)
        self.queue.add(key)

    def child_seen(self, body: Mapping[str, Any], deleted: bool) -> None:
        """A child event: refresh the cache and queue its workload."""
        metadata = body["metadata"]
        ckey = (str(body["kind"]), metadata["namespace"], metadata["name"])
        if deleted:
            self.children.pop(ckey, None)
        elif _newer(metadata, self.children.get(ckey)):
            self.children[ckey] = _plain(body)
        owner = metadata.get("labels", {}).get(meta.LABEL_WORKLOAD)
        if owner and (metadata["namespace"], owner) in self.workloads:
            self.queue.add((metadata["namespace"], owner))

    def namespace_seen(self, body: Mapping[str, Any]) -> None:
        """A namespace changed: its workloads own its Pod Security labels."""
        name = body["metadata"]["name"]
        self.children[("Namespace", "", name)] = _plain(body)
        for key in [k for k in self.workloads if k[0] == name]:
            self.queue.add(key)

    def manages_namespace(self, name: str) -> bool:
        """Whether some workload lives in the namespace."""
        return any(ns == name for ns, _ in self.workloads)

    # ---- the reconcile ------------------------------------------------------------------------

    async def reconcile(self, key: Key) -> float | None:
        """One pass for one workload; returns a retry delay in seconds, or None."""
        body = self.workloads.get(key)
        namespace = self.children.get(("Namespace", "", key[0]), {})
        if body is None or _deleting(body) or _deleting(namespace):
            return None  # deleted or being deleted: garbage collection takes the children
        metadata = body["metadata"]
        log = _log.bind(
            namespace=key[0],
            name=key[1],
            uid=metadata.get("uid"),
            generation=metadata.get("generation"),
        )
        try:
            outcome = await self._pass(body, log)
            await self._write_status(body, outcome, log)
        except errors.TransientApiError as exc:
            return self._backoff(key, log, exc)
        except errors.NotFoundError:
            log.info("workload vanished during the pass")  # its DELETED event follows
            return None
        except NamespaceTerminatingError:
            log.info("namespace is being deleted; not recreating children")
            return None
        if outcome.failures:
            return self._backoff(key, log, "; ".join(outcome.failures))
        self.failures.pop(key, None)
        return None

    def _backoff(self, key: Key, log: Any, why: object) -> float:
        count = self.failures[key] = self.failures.get(key, 0) + 1
        delay: float = min(0.5 * 2.0 ** (count - 1), 60.0)
        log.warning("reconcile will be retried", reason=str(why), retry_in=delay)
        return delay

    async def _pass(self, body: dict[str, Any], log: Any) -> status_core.Outcome:
        metadata = body["metadata"]
        generation = int(metadata.get("generation", 0))
        try:
            parsed = workload_api.parse(body)
        except errors.InvalidSpecError as exc:
            self.events(body, "Warning", "InvalidSpec", str(exc))
            log.warning("invalid spec", problems=[str(p) for p in exc.problems])
            return status_core.Outcome(generation=generation, invalid=str(exc))
        owner = meta.OwnerRef(name=parsed.name, uid=str(metadata["uid"]))
        desired = render.render_all(parsed.namespace, parsed.name, parsed.spec, owner)
        state = _PassState(
            steady=_steady(body),
            enforce=parsed.spec.enforcement is spec_api.Enforcement.ENFORCE,
            open_drift={
                (e.get("kind"), e.get("name"), e.get("field"))
                for e in (body.get("status") or {}).get("drift", [])
                if not e.get("healedAt")
            },
        )
        for manifest in desired:
            await self._child(body, manifest, state, log)
        await self._prune(body, desired, log)
        previous = body.get("status") or {}
        entries = drift.record(
            previous.get("drift"), state.findings, healed=state.enforce, now=self.now()
        )
        drifted = drift.condition(
            entries,
            state.findings if state.enforce else (),
            cond.find(previous.get("conditions"), cond.DRIFTED),
        )
        return status_core.Outcome(
            generation=generation,
            failures=tuple(state.failures),
            secrets_declared=parsed.spec.secrets is not None,
            secrets_missing_kind=state.missing_kind,
            deployment=next((c for c in state.live if c["kind"] == "Deployment"), None),
            children=tuple(state.live),
            drift=tuple(entries),
            drifted=drifted,
        )

    async def _child(
        self, body: dict[str, Any], manifest: dict[str, Any], state: _PassState, log: Any
    ) -> None:
        """Converge one child, recording failures and drift in `state`."""
        try:
            live = await self._converge(body, manifest, state, log)
        except errors.KindMissingError:
            if manifest["kind"] != "SecretProviderClass":
                raise
            state.missing_kind = True
            return
        except (errors.RejectedError, errors.NotFoundError) as exc:
            if _TERMINATING in exc.message:
                raise NamespaceTerminatingError(exc.what, exc.status, exc.message) from None
            failure = f"{manifest['kind']}/{manifest['metadata']['name']}: {exc.message}"
            state.failures.append(failure)
            self.events(body, "Warning", "ApplyFailed", failure)
            log.error("apply rejected", kind=manifest["kind"], error=exc.message)
            return
        if live is not None and manifest["kind"] != "Namespace":
            state.live.append(live)

    async def _converge(
        self, body: dict[str, Any], manifest: dict[str, Any], state: _PassState, log: Any
    ) -> dict[str, Any] | None:
        """Bring one child to its rendering if needed; return the live object.

        None means the child is missing and audit mode forbids recreating it.
        """
        if manifest["kind"] != "Namespace":
            return await self._converge_unlocked(body, manifest, state, log)
        # Every workload of a namespace renders its labels: one heals, the others then
        # find the healed labels in the cache instead of writing them again.
        lock = self._namespace_locks.setdefault(manifest["metadata"]["name"], asyncio.Lock())
        async with lock:
            return await self._converge_unlocked(body, manifest, state, log)

    async def _converge_unlocked(
        self, body: dict[str, Any], manifest: dict[str, Any], state: _PassState, log: Any
    ) -> dict[str, Any] | None:
        kind = kinds.of(manifest)
        name, namespace = manifest["metadata"]["name"], manifest["metadata"].get("namespace", "")
        ckey = (manifest["kind"], namespace, name)
        live = self.children.get(ckey) or await self.api.get(kind, namespace or None, name)
        diffs = compare.differences(manifest, live, CLOSED.get(manifest["kind"], ()))
        if not diffs:
            return live
        if state.steady:  # the declaration did not change: this is drift
            found = drift.findings(manifest["kind"], name, diffs)
            state.findings.extend(found)
            self._report_drift(body, found, state, log)
            if not state.enforce:
                return live
        applied = await self._write_child(manifest, live, diffs)
        self.children[ckey] = applied
        if not state.steady:
            verb = "Created" if live is None else "Updated"
            fields = sorted({d.path for d in diffs if d.path})[:8]
            message = f"{verb} {manifest['kind']} {name}" + (
                f" (fields: {', '.join(fields)})" if fields else ""
            )
            self.events(body, "Normal", verb, message)
            log.info(
                "child applied", verb=verb.lower(), kind=manifest["kind"], child=name, fields=fields
            )
        return applied

    async def _write_child(
        self,
        manifest: dict[str, Any],
        live: dict[str, Any] | None,
        diffs: list[compare.Difference],
    ) -> dict[str, Any]:
        """One write where possible: SSA for our fields, a JSON patch to drop extras."""
        extras = [d for d in diffs if d.extra]
        applied: dict[str, Any] | None = None
        if extras and live is not None:
            try:
                applied = await self.api.json_patch(manifest, _removals(extras))
            except errors.RejectedError as exc:  # a `test` failed: the object moved on
                raise errors.TransientApiError(exc.what, exc.status, exc.message) from None
        if len(extras) < len(diffs) or applied is None:
            applied = await self.api.apply(manifest)
        return applied

    def _report_drift(
        self, body: dict[str, Any], found: list[drift.Finding], state: _PassState, log: Any
    ) -> None:
        for finding in found:
            if not state.enforce and finding.key in state.open_drift:
                continue  # already reported; audit mode repeats nothing
            reason = "DriftHealed" if state.enforce else "DriftDetected"
            self.events(body, "Warning", reason, drift.message(finding, state.enforce))
            log.warning(
                "drift",
                healed=state.enforce,
                kind=finding.kind,
                child=finding.name,
                field=finding.field,
                expected=finding.expected,
                actual=finding.actual,
            )

    async def _prune(self, body: dict[str, Any], desired: list[dict[str, Any]], log: Any) -> None:
        """Delete owned children that are no longer rendered.

        For example the Role after the permissions were removed, or the PodDisruptionBudget
        after a move from pci to baseline.
        """
        metadata = body["metadata"]
        wanted = {(m["kind"], m["metadata"]["name"]) for m in desired}
        for (kind_name, namespace, name), child in list(self.children.items()):
            if namespace != metadata["namespace"] or (kind_name, name) in wanted:
                continue
            refs = child["metadata"].get("ownerReferences", [])
            if not any(r.get("uid") == metadata["uid"] for r in refs):
                continue
            kind = next(k for k in kinds.CHILDREN if k.kind == kind_name)
            await self.api.delete(kind, namespace, name)
            self.children.pop((kind_name, namespace, name), None)
            self.events(
                body, "Normal", "Deleted", f"Deleted {kind_name} {name}: no longer declared"
            )
            log.info("child deleted", kind=kind_name, child=name)

    async def _write_status(
        self, body: dict[str, Any], outcome: status_core.Outcome, log: Any
    ) -> None:
        previous = body.get("status")
        new = status_core.build(outcome, previous, self.now())
        if status_core.unchanged(previous, new):
            return
        metadata = body["metadata"]
        written = await self.api.apply_status(
            kinds.WORKLOAD, metadata["namespace"], metadata["name"], new
        )
        body["status"] = written.get("status", new)
        ready = next(c for c in new["conditions"] if c["type"] == "Ready")
        log.info("status written", ready=ready["status"], reason=ready["reason"])


@dataclasses.dataclass
class _PassState:
    """What one pass learns while it walks the children."""

    steady: bool
    """The current generation was already reconciled: differences are drift."""
    enforce: bool
    open_drift: set[tuple[Any, Any, Any]]
    failures: list[str] = dataclasses.field(default_factory=list)
    findings: list[drift.Finding] = dataclasses.field(default_factory=list)
    live: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    missing_kind: bool = False


def _newer(metadata: Mapping[str, Any], cached: Mapping[str, Any] | None) -> bool:
    """Whether a watch event is newer than the cached copy.

    A watch can deliver an older version after the operator's own write has already put
    a newer one in the cache; taking it would look like drift and heal twice. etcd
    resourceVersions are increasing integers; anything else is taken as newer.
    """
    if cached is None:
        return True
    try:
        return int(metadata["resourceVersion"]) >= int(cached["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return True


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


def _removals(extras: list[compare.Difference]) -> list[dict[str, Any]]:
    """JSON patch operations that remove extra live content, guarded by `test`.

    Deepest and last list items first, so earlier removals do not shift later pointers.
    """
    ops: list[dict[str, Any]] = []
    for diff in sorted(extras, key=lambda d: [str(p).zfill(8) for p in d.pointer], reverse=True):
        pointer = "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in diff.pointer)
        ops.append({"op": "test", "path": pointer, "value": diff.actual})
        ops.append({"op": "remove", "path": pointer})
    return ops


def _plain(body: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, plain-dict copy (kopf bodies are live views)."""
    copied: dict[str, Any] = json.loads(json.dumps(body, default=dict))
    return copied
