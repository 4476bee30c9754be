"""Render the workload's Deployment around the hardened pod template.

Replicas are always rendered: the Deployment is created with them. When an autoscaler owns
them (spec.autoscaling, spec.externallyManaged) every later write carries the live value
over instead (reconcile/fields.py), so the operator never fights the autoscaler and a pci
Deployment never starts below its minimum. Must not: set fields it does not mean to own
(the strategy only when spec.rollout asks; no revisionHistoryLimit, no status).
"""

from __future__ import annotations

from fwop.render import meta, pod

BASE_CONTROLS = ("POD-1", "POD-2", "POD-3", "POD-4", "POD-5", "POD-6", "RBAC-1")


def controls(ctx: meta.Context) -> tuple[str, ...]:
    """Return the controls this Deployment (or CronJob) carries evidence for."""
    extra = []
    if ctx.spec.secrets is not None:
        extra.append("SEC-1")
    if ctx.spec.residency is not None:
        extra.append("RES-1")
    if ctx.pci and ctx.spec.job is None:
        extra.append("AVL-1")
    return (*BASE_CONTROLS, *extra)


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the Deployment, or nothing for a workload that runs on a schedule."""
    if ctx.spec.job is not None:
        return []
    body: meta.Manifest = {"replicas": ctx.spec.initial_replicas}
    body["selector"] = {"matchLabels": meta.selector(ctx.name)}
    rollout = ctx.spec.rollout
    if rollout is not None:
        rolling = {key: value for key, value in (("maxSurge", rollout.max_surge),
                   ("maxUnavailable", rollout.max_unavailable)) if value is not None}  # fmt: skip
        body["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    body["template"] = pod.template(ctx)
    return [
        meta.manifest(
            "apps/v1", "Deployment", meta.metadata(ctx, ctx.name, controls(ctx)), spec=body
        )
    ]
