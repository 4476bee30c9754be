"""Render the PodDisruptionBudget of a pci workload (AVL-1).

maxUnavailable 1 lets node drains proceed one pod at a time whatever the replica count
(minAvailable 1 would let all but one pod go at once on a large workload). Unhealthy pods
may always be evicted, so a crash-looping pod never blocks a drain. Must not: render for
profile baseline.
"""

from __future__ import annotations

from fwop.render import meta

CONTROLS = ("AVL-1",)


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the PodDisruptionBudget under profile pci, or nothing."""
    if not ctx.pci or ctx.spec.job is not None:  # a batch run is not kept available
        return []
    body = {
        "maxUnavailable": 1,
        "selector": {"matchLabels": meta.selector(ctx.name)},
        "unhealthyPodEvictionPolicy": "AlwaysAllow",
    }
    return [
        meta.manifest(
            "policy/v1", "PodDisruptionBudget", meta.metadata(ctx, ctx.name, CONTROLS), spec=body
        )
    ]
