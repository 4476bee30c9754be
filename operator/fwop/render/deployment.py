"""Render the workload's Deployment around the hardened pod template.

Replicas are omitted when another controller owns them (spec.externallyManaged), so the
operator never fights an autoscaler. Must not: set fields it does not mean to own (no
strategy, no revisionHistoryLimit, no status).
"""

from __future__ import annotations

from fwop.render import meta, pod

BASE_CONTROLS = ("POD-1", "POD-2", "POD-3", "POD-4", "POD-5", "POD-6", "RBAC-1")


def controls(ctx: meta.Context) -> tuple[str, ...]:
    """Return the controls this Deployment carries evidence for."""
    extra = []
    if ctx.spec.secrets is not None:
        extra.append("SEC-1")
    if ctx.spec.residency is not None:
        extra.append("RES-1")
    if ctx.pci:
        extra.append("AVL-1")
    return (*BASE_CONTROLS, *extra)


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the Deployment."""
    body: meta.Manifest = {}
    if not ctx.spec.replicas_managed_elsewhere:
        body["replicas"] = ctx.spec.replicas
    body["selector"] = {"matchLabels": meta.selector(ctx.name)}
    body["template"] = pod.template(ctx)
    return [
        meta.manifest(
            "apps/v1", "Deployment", meta.metadata(ctx, ctx.name, controls(ctx)), spec=body
        )
    ]
