"""Render the ClusterIP Service that exposes the workload's declared ports.

Must not: render anything when no ports are declared, or expose the workload outside the
cluster (no NodePort, no LoadBalancer).
"""

from __future__ import annotations

from fwop.render import meta


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the Service, or nothing when no ports are declared."""
    if not ctx.spec.ports:
        return []
    ports = [
        {
            "name": port.name,
            "port": port.container_port,
            "targetPort": port.name,
            "protocol": str(port.protocol),
        }
        for port in ctx.spec.ports
    ]
    body = {"type": "ClusterIP", "selector": meta.selector(ctx.name), "ports": ports}
    return [meta.manifest("v1", "Service", meta.metadata(ctx, ctx.name), spec=body)]
