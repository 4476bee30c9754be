"""Render the workload's NetworkPolicies: default-deny (NET-1) and the declared flows (NET-2).

``<name>-default-deny`` selects every pod of the workload and allows nothing, in both
directions. ``<name>-allow`` opens exactly the declared flows, plus the cluster DNS and the
API server's endpoints (as the cluster policy names them) when asked; it is rendered only
when there is something to allow. Must not: allow
any flow that was not declared.
"""

from __future__ import annotations

from fwop.api import network
from fwop.render import meta

API_VERSION = "networking.k8s.io/v1"


def deny_name(ctx: meta.Context) -> str:
    """Return the default-deny policy's name."""
    return f"{ctx.name}-default-deny"


def allow_name(ctx: meta.Context) -> str:
    """Return the allow policy's name."""
    return f"{ctx.name}-allow"


def _selector(selector: network.PeerSelector) -> meta.Manifest:
    out: meta.Manifest = {}
    if selector.match_labels:
        out["matchLabels"] = dict(selector.match_labels)
    if selector.match_expressions:
        out["matchExpressions"] = [_expression(e) for e in selector.match_expressions]
    return out


def _expression(expression: network.Expression) -> meta.Manifest:
    out: meta.Manifest = {"key": expression.key, "operator": str(expression.operator)}
    if expression.values:
        out["values"] = list(expression.values)
    return out


def _peer(peer: network.Peer) -> meta.Manifest:
    out: meta.Manifest = {}
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = _selector(peer.namespace_selector)
    if peer.pod_selector is not None:
        out["podSelector"] = _selector(peer.pod_selector)
    if peer.ip_block is not None:
        out["ipBlock"] = {"cidr": peer.ip_block.cidr}
        if peer.ip_block.except_:
            out["ipBlock"]["except"] = list(peer.ip_block.except_)
    return out


def _port(port: network.FlowPort, numbers: dict[str, int] | None = None) -> meta.Manifest:
    number = (numbers or {}).get(port.port) if isinstance(port.port, str) else None
    out: meta.Manifest = {"port": number or port.port, "protocol": str(port.protocol)}
    if isinstance(port, network.EgressPort) and port.end_port is not None:
        out["endPort"] = port.end_port
    return out


def _ports(
    ports: tuple[network.FlowPort, ...], numbers: dict[str, int] | None = None
) -> list[meta.Manifest]:
    return [_port(port, numbers) for port in ports]


def _endpoint(endpoint: network.Endpoint) -> meta.Manifest:
    return {"to": [_peer(peer) for peer in endpoint.peers], "ports": _ports(endpoint.ports)}


def _ingress(ctx: meta.Context, flow: network.IngressFlow) -> meta.Manifest:
    # A sidecar's named port goes by number: not every CNI resolves init containers' names.
    ports = _ports(flow.ports, ctx.spec.sidecar_ports)
    return {"from": [_peer(peer) for peer in flow.from_], "ports": ports}


def _egress(ctx: meta.Context) -> list[meta.Manifest]:
    flows = [
        {"to": [_peer(peer) for peer in flow.to], "ports": _ports(flow.ports)}
        for flow in ctx.spec.network.egress
    ]
    if ctx.spec.network.allow_dns:
        flows.append(_endpoint(ctx.endpoints.dns))
    api_server = ctx.endpoints.api_server
    if ctx.spec.network.allow_api_server and api_server is not None:
        flows.append(_endpoint(api_server))  # admission refuses the flag without one
    return flows


def render(ctx: meta.Context) -> list[meta.Manifest]:
    """Return the default-deny policy and, if anything is allowed, the allow policy."""
    pods = {"matchLabels": meta.selector(ctx.name)}
    deny = meta.manifest(
        API_VERSION,
        "NetworkPolicy",
        meta.metadata(ctx, deny_name(ctx), ("NET-1",)),
        spec={"podSelector": pods, "policyTypes": ["Ingress", "Egress"]},
    )
    ingress = [_ingress(ctx, flow) for flow in ctx.spec.network.ingress]
    egress = _egress(ctx)
    if not ingress and not egress:
        return [deny]
    body: meta.Manifest = {"podSelector": dict(pods), "policyTypes": []}
    if ingress:
        body["policyTypes"].append("Ingress")
        body["ingress"] = ingress
    if egress:
        body["policyTypes"].append("Egress")
        body["egress"] = egress
    allow = meta.manifest(
        API_VERSION, "NetworkPolicy", meta.metadata(ctx, allow_name(ctx), ("NET-2",)), spec=body
    )
    return [deny, allow]
