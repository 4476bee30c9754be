"""Converge the children of one workload: compare, apply, heal drift, prune.

For each rendered child it reads the live object (watch cache first), decides from the
differences whether this is an update (the declaration changed) or drift (it did not),
and writes at most once: server-side apply for the operator's fields, or a guarded JSON
patch to remove content someone added under a closed path. An existing object that does
not carry this workload's controller ownerReference is never written (OWN-1): it is a
conflict, reported, and the other children still converge. The namespace's Pod Security
labels are healed whatever the workload's enforcement mode: they guard every pod of the
namespace (NS-1). Must not: decide status or conditions (the controller does), or render
manifests.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any, Protocol

from fwop import errors, metrics
from fwop.kube import api as kube_api
from fwop.kube import kinds
from fwop.reconcile import compare, drift

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


class ChildConflictError(errors.FwopError):
    """An object with a child's name exists and belongs to someone else (OWN-1)."""

    def __init__(self, kind: str, name: str, owner: str) -> None:
        self.kind, self.name, self.owner = kind, name, owner
        super().__init__(
            f"{kind} {name} already exists and is not owned by this workload (owner: {owner}); "
            "the operator never takes over an object it did not create (OWN-1): rename the "
            "workload or remove the object"
        )


def controller_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The controller ownerReference of an object, if any."""
    refs = obj.get("metadata", {}).get("ownerReferences") or []
    return next((r for r in refs if isinstance(r, Mapping) and r.get("controller")), None)


def owned_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``uid`` is the object's controller (the operator made it for that workload)."""
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") == uid


def describe_owner(obj: Mapping[str, Any]) -> str:
    """Who controls an object, for conflict messages."""
    ref = controller_of(obj)
    if ref is None:
        return "no controller"
    return f"{ref.get('kind')} {ref.get('name')} (uid {ref.get('uid')})"


class EventSink(Protocol):
    """Posts Kubernetes Events on a FinancialWorkload without blocking the caller."""

    def __call__(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Record one event."""

    async def drain(self) -> None:
        """Wait for the events in flight."""


@dataclasses.dataclass
class PassState:
    """What one pass learns while it walks the children."""

    steady: bool
    """The current generation was already reconciled: differences are drift."""
    enforce: bool
    open_drift: set[tuple[Any, Any, Any]]
    uid: str = ""
    """The workload's uid: children must carry it as their controller (OWN-1)."""
    failures: list[str] = dataclasses.field(default_factory=list)
    conflicts: list[str] = dataclasses.field(default_factory=list)
    findings: list[drift.Finding] = dataclasses.field(default_factory=list)
    live: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    missing_kind: bool = False


class Converger:
    """Writes children; shares the child cache with the controller."""

    def __init__(
        self, api: kube_api.Api, events: EventSink, cache: dict[ChildKey, dict[str, Any]]
    ) -> None:
        self.api = api
        self.events = events
        self.cache = cache
        self._namespace_locks: dict[str, asyncio.Lock] = {}

    async def child(
        self, body: dict[str, Any], manifest: dict[str, Any], state: PassState, log: Any
    ) -> None:
        """Converge one child, recording failures and drift in `state`."""
        try:
            live = await self._converge(body, manifest, state, log)
        except ChildConflictError as exc:
            state.conflicts.append(str(exc))
            self.events(body, "Warning", "ChildConflict", str(exc))
            log.warning("child conflict", kind=exc.kind, child=exc.name, owner=exc.owner)
            return
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
        self, body: dict[str, Any], manifest: dict[str, Any], state: PassState, log: Any
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
        self, body: dict[str, Any], manifest: dict[str, Any], state: PassState, log: Any
    ) -> dict[str, Any] | None:
        kind = kinds.of(manifest)
        name, namespace = manifest["metadata"]["name"], manifest["metadata"].get("namespace", "")
        ckey = (manifest["kind"], namespace, name)
        live = self.cache.get(ckey) or await self.api.get(kind, namespace or None, name)
        if live is not None and namespace and not owned_by(live, state.uid):
            raise ChildConflictError(manifest["kind"], name, describe_owner(live))
        diffs = compare.differences(manifest, live, CLOSED.get(manifest["kind"], ()))
        if not diffs:
            return live
        if state.steady:  # the declaration did not change: this is drift
            heals = state.enforce or manifest["kind"] == "Namespace"
            found = drift.findings(manifest["kind"], name, diffs, healed=heals)
            state.findings.extend(found)
            self._report_drift(body, found, state, log)
            if not heals:
                return live
        applied = await self._write_child(manifest, live, diffs)
        if newer(applied.get("metadata", {}), self.cache.get(ckey)):
            self.cache[ckey] = applied
        reason = "heal" if state.steady else "create" if live is None else "update"
        metrics.CHILD_WRITES.labels(manifest["kind"], reason).inc()
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
        newest: dict[str, Any] = self.cache.get(ckey, applied)  # ours, or the watch's if later
        return newest

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
        self, body: dict[str, Any], found: list[drift.Finding], state: PassState, log: Any
    ) -> None:
        for finding in found:
            metrics.DRIFT.labels(finding.kind, "healed" if finding.healed else "reported").inc()
            if not finding.healed and finding.key in state.open_drift:
                continue  # already reported; audit mode repeats nothing
            reason = "DriftHealed" if finding.healed else "DriftDetected"
            self.events(body, "Warning", reason, drift.message(finding, finding.healed))
            log.warning(
                "drift",
                healed=finding.healed,
                kind=finding.kind,
                child=finding.name,
                field=finding.field,
                expected=finding.expected,
                actual=finding.actual,
            )

    async def prune(self, body: dict[str, Any], desired: list[dict[str, Any]], log: Any) -> None:
        """Delete owned children that are no longer rendered.

        For example the Role after the permissions were removed, or the PodDisruptionBudget
        after a move from pci to baseline. Only objects whose controller is this workload
        are deleted, and only that very object (a uid precondition): OWN-1.
        """
        metadata = body["metadata"]
        wanted = {(m["kind"], m["metadata"]["name"]) for m in desired}
        for (kind_name, namespace, name), child in list(self.cache.items()):
            if namespace != metadata["namespace"] or (kind_name, name) in wanted:
                continue
            if not owned_by(child, metadata["uid"]):
                continue
            kind = next(k for k in kinds.CHILDREN if k.kind == kind_name)
            await self.api.delete(kind, namespace, name, uid=child["metadata"].get("uid"))
            metrics.CHILD_WRITES.labels(kind_name, "prune").inc()
            self.cache.pop((kind_name, namespace, name), None)
            self.events(
                body, "Normal", "Deleted", f"Deleted {kind_name} {name}: no longer declared"
            )
            log.info("child deleted", kind=kind_name, child=name)


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


def newer(metadata: Mapping[str, Any], cached: Mapping[str, Any] | None) -> bool:
    """Whether an object version (metadata) is newer than the cached copy.

    Watch events and write responses race: a watch can deliver an older version after the
    operator's own write put a newer one in the cache (taking it would look like drift and
    heal twice), and a write response can arrive after the watch already delivered a later
    version (taking it would hide, say, the Deployment controller's status update). etcd
    resourceVersions are increasing integers; anything else is taken as newer.
    """
    if cached is None:
        return True
    try:
        return int(metadata["resourceVersion"]) >= int(cached["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return True
