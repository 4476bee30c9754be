"""Render the workload's NetworkPolicies: default-deny (NET-1) and the declared flows (NET-2).

``<name>-default-deny`` selects every pod of the workload and allows nothing, in both
directions. ``<name>-allow`` opens exactly the declared flows, plus DNS to the cluster DNS
pods when asked; it is rendered only when there is something to allow. Must not: allow
any flow that was not declared.
"""

from __future__ import annotations

from fwop.api import network
from fwop.render import meta

API_VERSION = "networking.k8s.io/v1"
DNS_PEER: meta.Manifest = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = ({"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"})


def deny_name(ctx: meta.Context) -> str:
    """Return the default-deny policy's name."""
    return f"{ctx.name}-default-deny"


def allow_name(ctx: meta.Context) -> str:
    """Return the allow policy's name."""
    return f"{ctx.name}-allow"


def _selector(selector: network.Selector) -> meta.Manifest:
    return {"matchLabels": dict(selector.match_labels)} if selector.match_labels else {}


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


def _ports(ports: tuple[network.FlowPort, ...]) -> list[meta.Manifest]:
    return [{"port": port.port, "protocol": str(port.protocol)} for port in ports]


def _ingress(flow: network.IngressFlow) -> meta.Manifest:
    return {"from": [_peer(peer) for peer in flow.from_], "ports": _ports(flow.ports)}


def _egress(ctx: meta.Context) -> list[meta.Manifest]:
    flows = [
        {"to": [_peer(peer) for peer in flow.to], "ports": _ports(flow.ports)}
        for flow in ctx.spec.network.egress
    ]
    if ctx.spec.network.allow_dns:
        flows.append({"to": [dict(DNS_PEER)], "ports": [dict(port) for port in DNS_PORTS]})
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
    ingress = [_ingress(flow) for flow in ctx.spec.network.ingress]
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
