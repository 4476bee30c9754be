"""Render the workload's HorizontalPodAutoscaler (autoscaling/v2) when spec.autoscaling asks.

It scales the workload's own Deployment on CPU and memory use relative to the requests
(POD-6 makes them required); under pci its minimum is at least 2 (AVL-1) and the
PodDisruptionBudget stays. The replicas it sets are not drift (reconcile/fields.py).
Must not: target anything but the workload's Deployment.
"""

from __future__ import annotations

from fwop.api import scaling
from fwop.render import meta

CONTROLS = ("AVL-1",)


def _metrics(autoscaling: scaling.Autoscaling) -> list[meta.Manifest]:
    targets = (("cpu", autoscaling.target_cpu_utilization),
               ("memory", autoscaling.target_memory_utilization))  # fmt: skip
    return [
        {
            "type": "Resource",
            "resource": {
                "name": name,
                "target": {"type": "Utilization", "averageUtilization": value},
            },
        }
        for name, value in targets
        if value is not None
    ]


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the HorizontalPodAutoscaler, or nothing without spec.autoscaling."""
    autoscaling = ctx.spec.autoscaling
    if autoscaling is None:
        return []
    body: meta.Manifest = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": ctx.name},
        "minReplicas": autoscaling.min_replicas,
        "maxReplicas": autoscaling.max_replicas,
        "metrics": _metrics(autoscaling),
    }
    if autoscaling.scale_down_stabilization_seconds is not None:
        seconds = autoscaling.scale_down_stabilization_seconds
        body["behavior"] = {"scaleDown": {"stabilizationWindowSeconds": seconds}}
    return [
        meta.manifest(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            meta.metadata(ctx, ctx.name, CONTROLS),
            spec=body,
        )
    ]
