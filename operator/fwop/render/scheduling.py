"""Render where the workload's pods may run: residency (RES-1) and spread (AVL-1).

Residency is a hard node affinity on topology.kubernetes.io/region. Spread covers zones
and nodes; under profile pci the zone spread is hard (DoNotSchedule), so one zone outage
cannot take every replica with it, while the node spread stays soft (ScheduleAnyway) so a
region with fewer nodes than replicas can still run them all. Must not: pin pods to
particular nodes or zones beyond what the spec declares.
"""

from __future__ import annotations

from fwop.render import meta

REGION_KEY = "topology.kubernetes.io/region"
ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"


def affinity(ctx: meta.Context) -> meta.Manifest:
    """Return the node affinity restricting pods to the declared regions, or {}."""
    if ctx.spec.residency is None:
        return {}
    term = {
        "matchExpressions": [
            {"key": REGION_KEY, "operator": "In", "values": list(ctx.spec.residency.regions)}
        ]
    }
    required = {"nodeSelectorTerms": [term]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def _constraint(ctx: meta.Context, key: str, hard: bool) -> meta.Manifest:
    constraint: meta.Manifest = {
        "maxSkew": 1,
        "topologyKey": key,
        "whenUnsatisfiable": "DoNotSchedule" if hard else "ScheduleAnyway",
        "labelSelector": {"matchLabels": meta.selector(ctx.name)},
        # Count only pods of the same ReplicaSet, so a rollout is spread on its own.
        "matchLabelKeys": ["pod-template-hash"],
    }
    if hard:
        # Tainted (e.g. unreachable) nodes do not count as a domain that blocks scheduling.
        constraint["nodeTaintsPolicy"] = "Honor"
    return constraint


def spread(ctx: meta.Context) -> list[meta.Manifest]:
    """Return topology spread constraints over zones and nodes."""
    return [_constraint(ctx, ZONE_KEY, hard=ctx.pci), _constraint(ctx, HOST_KEY, hard=False)]
