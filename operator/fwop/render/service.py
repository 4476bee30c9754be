"""Render the ClusterIP Service that exposes the ports its containers declare.

Must not: render anything when no ports are declared, or expose the workload outside the
cluster (no NodePort, no LoadBalancer).
"""

from __future__ import annotations

from fwop.render import meta


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the Service, or nothing when no container declares a port."""
    declared = [port for _, port in ctx.spec.listening_ports()]
    if not declared or ctx.spec.job is not None:  # nothing serves from a batch run
        return []
    ports = [
        {
            "name": port.name,
            "port": port.container_port,
            # A sidecar's port by number: named ones resolve on sidecars only since 1.32.
            "targetPort": ctx.spec.sidecar_ports.get(port.name, port.name),
            "protocol": str(port.protocol),
        }
        for port in declared
    ]
    body = {"type": "ClusterIP", "selector": meta.selector(ctx.name), "ports": ports}
    return [meta.manifest("v1", "Service", meta.metadata(ctx, ctx.name), spec=body)]
