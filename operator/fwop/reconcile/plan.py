"""Decide, for one workload pass, what to write to each child: the pure planner.

Gathered state in (the rendering, the live objects and their references, whether this
generation was reconciled already, the enforcement mode), steps out: create, replace
(update or heal), report drift, keep, conflict, delete. The executor carries the steps
out and decides nothing; the controller turns their results into status.

A child is in sync when it equals its reference (the object as the server returned it
after the operator's last write, as a digest), or, the first time the operator sees it,
when it is *adoptable* (every rendered field as rendered, nothing set by another manager
outside the documented exceptions). Anything else is drift when the generation was
reconciled already, and the update itself otherwise; both are one replacement. Must not:
do I/O, read a clock, or know how steps are carried out.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fwop.reconcile import compare, drift, fields
from fwop.render import meta

NAMESPACE = "Namespace"


class Action(enum.StrEnum):
    """What the executor does with one child."""

    KEEP = "keep"
    """In sync: nothing to write (the reference may be adopted)."""
    CREATE = "create"
    """Missing: server-side apply of the rendering."""
    REPLACE = "replace"
    """Out of sync: one PUT of the rendering plus the carried fields."""
    APPLY = "apply"
    """The namespace's Pod Security labels: server-side apply of the labels only."""
    REPORT = "report"
    """Drift in audit mode: nothing written, the finding reported."""
    CHECK = "check"
    """Audit mode needs the expected object (a server-side dry-run) to say what drifted."""
    CONFLICT = "conflict"
    """An object of someone else bears the child's name (OWN-1): never written."""


class Why(enum.StrEnum):
    """Why a write happens (metrics, Events)."""

    CREATE = "create"
    UPDATE = "update"
    HEAL = "heal"


@dataclasses.dataclass(frozen=True)
class Context:
    """What the planner knows about the workload in this pass."""

    owner: str
    """The workload's uid."""
    steady: bool
    """This generation was reconciled already: differences are drift."""
    enforce: bool
    """Heal drift (else only report it); the namespace labels heal in every mode."""
    replicas_elsewhere: bool = False


@dataclasses.dataclass(frozen=True)
class Child:
    """Gathered state of one rendered child."""

    desired: Mapping[str, Any]
    live: Mapping[str, Any] | None
    ours: bool
    """The live object is this workload's (controller ownerReference, or known to be)."""
    reference: Any = None
    """The store's Reference for the child, if any."""
    expected: Mapping[str, Any] | None = None
    """Audit mode: the normalized object a heal would produce (from a dry-run)."""
    desired_key: str = ""
    """The rendering's digest when the caller has it already (else computed here)."""

    @property
    def rendering(self) -> str:
        """The digest of the rendering."""
        return self.desired_key or fields.desired_digest(self.desired)


@dataclasses.dataclass(frozen=True)
class Step:
    """What to do with one child, and what to say about it."""

    action: Action
    desired: Mapping[str, Any]
    why: Why | None = None
    findings: tuple[drift.Finding, ...] = ()
    adopt: str | None = None
    """KEEP: the digest to record as the child's reference."""
    message: str = ""
    """CONFLICT: who owns the object."""

    @property
    def kind(self) -> str:
        """The child's kind."""
        return str(self.desired["kind"])

    @property
    def name(self) -> str:
        """The child's name."""
        return str(self.desired["metadata"]["name"])


def exceptions(desired: Mapping[str, Any], ctx: Context) -> fields.Exceptions:
    """The documented exceptions for one rendered child."""
    return fields.Exceptions.of(desired, ctx.replicas_elsewhere)


def _conflict_message(child: Child) -> str:
    live = child.live or {}
    refs = live.get("metadata", {}).get("ownerReferences") or ()
    ref = next((r for r in refs if isinstance(r, Mapping) and r.get("controller")), None)
    owner = (
        f"{ref.get('kind')} {ref.get('name')} (uid {ref.get('uid')})" if ref else "no controller"
    )
    return (
        f"{child.desired['kind']} {child.desired['metadata']['name']} already exists and is not "
        f"owned by this workload (owner: {owner}); the operator never takes over an object it "
        "did not create (OWN-1): rename the workload or remove the object"
    )


def _namespace(child: Child, ctx: Context) -> Step:
    """The namespace is not ours; only its Pod Security labels are, healed in every mode."""
    diffs = compare.differences(child.desired, child.live)
    if not diffs:
        return Step(Action.KEEP, child.desired)
    found = drift.findings(NAMESPACE, str(child.desired["metadata"]["name"]), diffs, True)
    return Step(
        Action.APPLY,
        child.desired,
        Why.HEAL if ctx.steady else Why.UPDATE,
        tuple(found) if ctx.steady else (),
    )


def in_sync(child: Child, ctx: Context) -> tuple[bool, str]:
    """Whether a live child equals its reference (or is adoptable); and its digest."""
    assert child.live is not None
    exc = exceptions(child.desired, ctx)
    current = fields.live_digest(child.live, exc)
    ref = child.reference
    valid = (
        ref is not None
        and ref.object_uid == child.live["metadata"].get("uid")
        and ref.desired == child.rendering
    )
    if valid:
        return current == ref.digest, current
    return fields.adoptable(child.desired, child.live, exc), current


def step(child: Child, ctx: Context) -> Step:
    """Decide what to do with one rendered child."""
    if child.desired["kind"] == NAMESPACE:
        return (
            _namespace(child, ctx) if child.live is not None else Step(Action.KEEP, child.desired)
        )
    if child.live is None:
        return _missing(child, ctx)
    if not child.ours:
        return Step(Action.CONFLICT, child.desired, message=_conflict_message(child))
    return _existing(child, ctx)


def _existing(child: Child, ctx: Context) -> Step:
    """A child of this workload that exists: keep it, update it, heal it or report it."""
    synced, current = in_sync(child, ctx)
    if synced:
        return Step(Action.KEEP, child.desired, adopt=current)
    if not ctx.steady:
        return Step(Action.REPLACE, child.desired, Why.UPDATE)
    if ctx.enforce:
        return Step(Action.REPLACE, child.desired, Why.HEAL)  # findings come with the answer
    return _audited(child, ctx, current)


def _missing(child: Child, ctx: Context) -> Step:
    """A rendered child that does not exist: created, recreated (enforce) or reported."""
    if not ctx.steady:
        return Step(Action.CREATE, child.desired, Why.CREATE)
    kind, name = str(child.desired["kind"]), str(child.desired["metadata"]["name"])
    deleted = [compare.Difference("", "present", None)]
    gone = tuple(drift.findings(kind, name, deleted, ctx.enforce))
    if ctx.enforce:
        return Step(Action.CREATE, child.desired, Why.HEAL, gone)
    return Step(Action.REPORT, child.desired, findings=gone)


def _audited(child: Child, ctx: Context, current: str) -> Step:
    """Audit mode: say exactly what drifted, against what a heal would write."""
    assert child.live is not None
    if child.expected is None:
        return Step(Action.CHECK, child.desired)
    exc = exceptions(child.desired, ctx)
    diffs = fields.differences(child.expected, fields.normalize(child.live, exc))
    if not diffs:  # equal to what a heal would write: adopt it
        return Step(Action.KEEP, child.desired, adopt=current)
    kind, name = str(child.desired["kind"]), str(child.desired["metadata"]["name"])
    return Step(Action.REPORT, child.desired, findings=tuple(drift.findings(kind, name, diffs)))


def healed_findings(
    desired: Mapping[str, Any],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    ctx: Context,
) -> list[drift.Finding]:
    """What a heal restored: the differences between the object before and after it."""
    exc = exceptions(desired, ctx)
    diffs = fields.differences(fields.normalize(after, exc), fields.normalize(before, exc))
    kind, name = str(desired["kind"]), str(desired["metadata"]["name"])
    return drift.findings(kind, name, diffs, healed=True)


@dataclasses.dataclass(frozen=True)
class Delete:
    """A child no longer rendered: delete that very object."""

    kind: str
    namespace: str
    name: str
    uid: str


def prune(
    desired: Sequence[Mapping[str, Any]],
    owned: Iterable[tuple[tuple[str, str, str], Mapping[str, Any]]],
    owner: str,
) -> list[Delete]:
    """Children of this workload (controller ownerReference) that are no longer rendered."""
    wanted = {(str(d["kind"]), str(d["metadata"]["name"])) for d in desired}
    found = []
    for (kind, namespace, name), child in owned:
        if (kind, name) in wanted:
            continue
        if not meta.controlled_by(child, owner):
            continue  # OWN-1: only objects this workload controls
        found.append(Delete(kind, namespace, name, str(child["metadata"].get("uid", ""))))
    return found
