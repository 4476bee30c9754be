"""Decide a FinancialWorkload's status from what one reconcile pass found.

Ready is the summary kstatus and `kubectl wait` read: True only when every child is applied
and the Deployment is Available at the current generation. Must not: do I/O or read a
clock (the caller passes `now`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from fwop.compliance.verdicts import Result, Verdict, summary
from fwop.reconcile import conditions as cond
from fwop.reconcile import gate
from fwop.reconcile.conditions import FALSE, TRUE, UNKNOWN, Condition


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one pass did and saw; the input of `decide`."""

    generation: int
    invalid: str | None = None
    """Why the spec cannot be reconciled (InvalidSpecError text), if it cannot."""
    failures: tuple[str, ...] = ()
    """Children that could not be applied, each as "Kind/name: reason"."""
    conflicts: tuple[str, ...] = ()
    """Children whose name is taken by an object this workload does not own (OWN-1)."""
    blocked: str | None = None
    """Why the cluster policy holds the current generation back (PolicyBlocked)."""
    applied: gate.Applied | None = None
    """The generation the children hold after the pass, and its spec."""
    secrets_declared: bool = False
    secrets_missing_kind: bool = False
    """The cluster does not serve SecretProviderClass (no Secrets Store CSI driver)."""
    deployment: Mapping[str, Any] | None = None
    """The live Deployment after the pass."""
    cronjob: Mapping[str, Any] | None = None
    """The live CronJob after the pass (a workload with spec.job)."""
    children: tuple[Mapping[str, Any], ...] = ()
    """Live children after the pass, for status.children."""
    drift: tuple[Mapping[str, Any], ...] = ()
    """The status.drift record after the pass."""
    drifted: Condition | None = None
    """The Drifted condition (None until the workload was reconciled once)."""
    violations: tuple[str, ...] = ()
    """Problems the cluster policy finds in the workload (the reconcile gate)."""
    verdicts: tuple[Verdict, ...] = ()
    """Every control's verdict on the live children after the pass."""
    compliance: Mapping[str, Any] | None = None
    """status.compliance: the verdicts in short, and the PolicyReport that holds them."""


def stalled(deployment: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """Why a rollout cannot progress (reason, message), or None while it can.

    The Deployment controller says so in two conditions: ReplicaFailure (pods refused, for
    example by PodSecurity admission or a quota) and Progressing=False with reason
    ProgressDeadlineExceeded (no progress within progressDeadlineSeconds).
    """
    if not deployment:
        return None
    conditions = deployment.get("status", {}).get("conditions")
    failure = cond.find(conditions, "ReplicaFailure")
    if failure is not None and failure.get("status") == TRUE:
        return "ReplicaFailure", f"pods cannot be created: {failure.get('message', '')}"
    progressing = cond.find(conditions, "Progressing")
    if (
        progressing is not None
        and progressing.get("status") == FALSE
        and progressing.get("reason") == "ProgressDeadlineExceeded"
    ):
        return "RolloutStalled", f"the rollout stalled: {progressing.get('message', '')}"
    return None


def deployment_available(deployment: Mapping[str, Any] | None) -> tuple[bool, str]:
    """Whether the Deployment rolled out and is Available, with a message for humans."""
    if not deployment:
        return False, "Deployment not created yet"
    meta, spec = deployment.get("metadata", {}), deployment.get("spec", {})
    status = deployment.get("status", {})
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False, "Deployment controller has not observed the latest change yet"
    wanted = spec.get("replicas", 1)
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if updated < wanted:
        return False, f"rolling out: {updated} of {wanted} pods updated"
    available_cond = cond.find(status.get("conditions"), "Available")
    if not available_cond or available_cond.get("status") != TRUE or available < wanted:
        return False, f"{available} of {wanted} pods available"
    return True, f"{available} of {wanted} pods available"


def decide(outcome: Outcome) -> list[Condition]:
    """The conditions for this pass, Ready first.

    Reconciling and Stalled follow kstatus (what Flux and kpt read; Argo CD's health check
    in manifests/argocd agrees): Stalled=True when the workload will not reach its
    declared, compliant state without someone acting (an invalid spec, a refused or
    conflicting child, a policy block, a stalled rollout, a missing secrets driver, or a
    workload that is not compliant and that the operator will not make so: audit-mode
    drift, a reported policy violation); Reconciling=True while it is on its way.
    """
    decided: list[Condition] = []
    if outcome.invalid is not None:
        decided.append(Condition(cond.RECONCILED, FALSE, "InvalidSpec", outcome.invalid))
        decided.append(Condition(cond.COMPLIANT, FALSE, "InvalidSpec", outcome.invalid))
        decided.append(Condition(cond.STALLED, TRUE, "InvalidSpec", outcome.invalid))
        decided.append(Condition(cond.RECONCILING, FALSE, "InvalidSpec", outcome.invalid))
        ready = Condition(cond.READY, FALSE, "InvalidSpec", outcome.invalid)
        return [ready, *decided]
    held = _held(outcome)
    if held is not None:
        decided.append(Condition(cond.RECONCILED, FALSE, held.reason, held.message))
    else:
        decided.append(Condition(cond.RECONCILED, TRUE, "Applied", "every child is applied"))
    compliant = _compliant(outcome)
    decided.append(compliant)
    if outcome.drifted is not None:
        decided.append(outcome.drifted)
    if outcome.secrets_declared:
        decided.append(_secrets(outcome))
    ready = _ready(outcome)
    stuck = _stalled(outcome, compliant)
    if stuck is not None:
        decided.append(stuck)
        decided.append(Condition(cond.RECONCILING, FALSE, "Stalled", stuck.message))
    else:
        decided.append(Condition(cond.STALLED, FALSE, "NotStalled", "nothing holds it back"))
        if ready.status == TRUE:
            decided.append(Condition(cond.RECONCILING, FALSE, "Reconciled", ready.message))
        else:
            decided.append(Condition(cond.RECONCILING, TRUE, ready.reason, ready.message))
    return [ready, *decided]


def _stalled(outcome: Outcome, compliant: Condition) -> Condition | None:
    """Stalled=True and why, when nothing will change without someone acting."""
    held = _held(outcome)
    if held is not None:
        return Condition(cond.STALLED, TRUE, held.reason, held.message)
    if outcome.secrets_missing_kind:
        message = "secrets cannot be mounted: the Secrets Store CSI driver is absent"
        return Condition(cond.STALLED, TRUE, "SecretStoreMissing", message)
    stuck = stalled(outcome.deployment)
    if stuck is not None:
        return Condition(cond.STALLED, TRUE, stuck[0], stuck[1])
    if compliant.status == FALSE:
        message = f"not compliant, and the operator does not heal it: {compliant.message}"
        return Condition(cond.STALLED, TRUE, compliant.reason, message)
    return None


def _held(outcome: Outcome) -> Condition | None:
    """Why the children do not hold the current generation, if they do not (Reconciled)."""
    if outcome.failures:
        return Condition(cond.RECONCILED, FALSE, "ApplyFailed", "; ".join(outcome.failures))
    if outcome.conflicts:
        return Condition(cond.RECONCILED, FALSE, "ChildConflict", "; ".join(outcome.conflicts))
    if outcome.blocked:
        return Condition(cond.RECONCILED, FALSE, "PolicyBlocked", outcome.blocked)
    return None


def _compliant(outcome: Outcome) -> Condition:
    if outcome.failures or outcome.conflicts:
        return Condition(
            cond.COMPLIANT,
            UNKNOWN,
            "ApplyFailed",
            "compliance cannot be confirmed until every child is applied",
        )
    if outcome.violations:
        return Condition(
            cond.COMPLIANT, FALSE, "PolicyViolation", violation_message(outcome.violations)
        )
    if outcome.drifted is not None and outcome.drifted.status == TRUE:
        return Condition(
            cond.COMPLIANT,
            FALSE,
            "Drifted",
            "managed fields drifted from the baseline (audit mode reports only): "
            + outcome.drifted.message,
        )
    return Condition(
        cond.COMPLIANT,
        TRUE,
        "BaselineApplied",
        "every control of the profile is rendered and applied",
    )


def violation_message(violations: Sequence[str]) -> str:
    """The Compliant message for policy violations (kept short; Events carry the rest)."""
    head = "; ".join(violations[:5])
    more = f"; and {len(violations) - 5} more" if len(violations) > 5 else ""
    return f"the cluster policy is not met: {head}{more}"


def _secrets(outcome: Outcome) -> Condition:
    if outcome.secrets_missing_kind:
        return Condition(
            cond.SECRETS,
            FALSE,
            "SecretStoreMissing",
            "this cluster does not serve SecretProviderClass (secrets-store.csi.x-k8s.io/v1):"
            " install the Secrets Store CSI driver; every other child is applied",
        )
    return Condition(
        cond.SECRETS,
        TRUE,
        "ProviderClassApplied",
        "SecretProviderClass applied; secrets mount read-only through CSI",
    )


def _ready(outcome: Outcome) -> Condition:
    held = _held(outcome)
    if held is not None:
        return Condition(cond.READY, FALSE, held.reason, held.message)
    if outcome.secrets_missing_kind:
        return Condition(
            cond.READY,
            FALSE,
            "SecretStoreMissing",
            "secrets cannot be mounted: the Secrets Store CSI driver is absent",
        )
    if outcome.cronjob is not None:
        return scheduled(outcome.cronjob)
    available, message = deployment_available(outcome.deployment)
    if available:
        return Condition(cond.READY, TRUE, "Available", message)
    stuck = stalled(outcome.deployment)
    if stuck is not None:
        return Condition(cond.READY, FALSE, stuck[0], stuck[1])
    return Condition(cond.READY, FALSE, "Progressing", message)


def scheduled(cronjob: Mapping[str, Any]) -> Condition:
    """Ready for a CronJob: it exists, so its runs happen on schedule (or it is paused).

    Each run's outcome is the Job's, kept in the CronJob's history; a status that changed
    with every run would cost a write per run and say nothing about the baseline.
    """
    spec = cronjob.get("spec", {})
    zone = f" ({spec['timeZone']})" if spec.get("timeZone") else ""
    if spec.get("suspend"):
        message = f"CronJob suspended: no run starts until spec.job.suspend is false{zone}"
        return Condition(cond.READY, TRUE, "Suspended", message)
    message = f"CronJob runs on schedule {spec.get('schedule')}{zone}"
    return Condition(cond.READY, TRUE, "Scheduled", message)


HOLD_SECONDS = 2.0
"""How long the first status of a new generation may wait for its pods (one write, not two)."""


def hold(outcome: Outcome, previous: Mapping[str, Any] | None, waited: float) -> float | None:
    """Seconds to hold back the first status of a generation while its rollout runs.

    A new workload's first pass creates the children; its pods are usually available a
    moment later. Writing "Progressing" and then "Available" costs two status writes per
    workload, so a first status that would only say "rolling out" waits up to
    HOLD_SECONDS; anything worth saying (a failure, a conflict, a block, a stall, an
    invalid spec) is written at once, and so is everything after the first.
    """
    if outcome.invalid or outcome.failures or outcome.conflicts or outcome.blocked:
        return None
    if (previous or {}).get("observedGeneration") == outcome.generation:
        return None
    available, _ = deployment_available(outcome.deployment)
    if available or stalled(outcome.deployment) is not None or outcome.deployment is None:
        return None
    remaining = HOLD_SECONDS - waited
    return remaining if remaining > 0 else None


def build(outcome: Outcome, previous: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    """The full status object to write (conditions merged with the previous ones)."""
    previous = previous or {}
    status: dict[str, Any] = {
        "observedGeneration": outcome.generation,
        "conditions": cond.merge(
            previous.get("conditions"), decide(outcome), outcome.generation, now
        ),
        "children": [_child_ref(c) for c in outcome.children],
    }
    if outcome.drift:
        status["drift"] = list(outcome.drift)
    if outcome.applied is not None and outcome.applied.spec:
        status["appliedGeneration"] = outcome.applied.generation
        status["appliedSpec"] = dict(outcome.applied.spec)
    if outcome.compliance is not None:
        status["compliance"] = dict(outcome.compliance)
    elif previous.get("compliance"):
        status["compliance"] = previous["compliance"]  # not judged in this pass: kept
    if outcome.deployment is not None:
        status["availableReplicas"] = outcome.deployment.get("status", {}).get(
            "availableReplicas", 0
        )
    return status


def _child_ref(child: Mapping[str, Any]) -> dict[str, str]:
    meta = child.get("metadata", {})
    return {
        "kind": str(child.get("kind")),
        "name": str(meta.get("name")),
        "uid": str(meta.get("uid", "")),
    }


OWNED_KEYS = (
    "observedGeneration",
    "conditions",
    "children",
    "availableReplicas",
    "drift",
    "appliedGeneration",
    "appliedSpec",
    "compliance",
)
"""The keys of status the operator owns; only a change to one of them is written."""


def changed(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """The owned keys whose value differs (what a status write is for)."""
    previous = previous or {}
    return [k for k in OWNED_KEYS if (previous.get(k) or None) != (new.get(k) or None)]


def unchanged(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """True when writing `new` would change nothing the operator owns."""
    return not changed(previous, new)


def compliance(
    found: Sequence[Verdict],
    digest: str,
    report: str,
    previous: Mapping[str, Any] | None,
    now: str,
) -> dict[str, Any]:
    """status.compliance: counts, the controls failing, the report's name.

    judgedAt moves only when a verdict changes (the digest), so an unchanged workload
    writes nothing.
    """
    before = (previous or {}).get("compliance") or {}
    counts = summary(found)
    return {
        "passed": counts["pass"],
        "failed": counts["fail"],
        "warned": counts["warn"],
        "skipped": counts["skip"],
        "failing": [v.control for v in found if v.result is Result.FAIL],
        "report": report,
        "digest": digest,
        "judgedAt": before.get("judgedAt", now) if before.get("digest") == digest else now,
    }
