"""NET-3: a workload's flows stay inside the networks the cluster policy allows its profile.

- An ipBlock peer's cidr lies inside one of the profile's allowed ranges for that
  direction, and reaches into no denied range unless its ``except`` list carves the whole
  denied range out. Defaults refuse link-local (cloud metadata) for every profile, and
  everything but private ranges (so 0.0.0.0/0 and ::/0) for pci.
- A peer with a namespaceSelector names the workload's own namespace, or carries every
  label of one of the profile's ``peerNamespaces`` selectors (it then selects a subset of
  the namespaces the platform allows). ``namespaceSelector: {}`` needs ``{}`` there.
- With ``dnsEgress: deny``, no egress flow opens port 53 or a port named like DNS, so the
  DNS flow cannot be written by hand either (NET-2).

Messages name the flow, the peer and the offending CIDR or selector. Must not: do I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence

from fwop import errors
from fwop.api import guardrails, network
from fwop.api import policy as policy_api
from fwop.api import spec as spec_api

Problems = Iterator[errors.Problem]
Net = ipaddress.IPv4Network | ipaddress.IPv6Network
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DNS_PORT = 53
DNS_PORT_NAMES = frozenset({"dns", "dns-tcp", "dns-udp", "domain"})


def _net(text: str) -> Net:
    return ipaddress.ip_network(text, strict=False)


def _inside(inner: Net, outer: Net) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def _overlap(one: Net, other: Net) -> bool:
    return one.version == other.version and one.overlaps(other)


def _cidr_problem(block: network.IPBlock, ranges: guardrails.CidrRanges) -> str | None:
    cidr = _net(block.cidr)
    if not any(_inside(cidr, _net(allowed)) for allowed in ranges.allow):
        allowed = ", ".join(ranges.allow) or "none"
        return f"cidr {block.cidr} is not inside an allowed range; allowed: {allowed}"
    carved = [_net(item) for item in block.except_]
    for denied_text in ranges.deny:
        denied = _net(denied_text)
        if not _overlap(cidr, denied):
            continue
        if _inside(cidr, denied) or not any(_inside(denied, item) for item in carved):
            return (
                f"cidr {block.cidr} reaches into the denied range {denied_text}; "
                f"allowed: ranges clear of {', '.join(ranges.deny)}, or list {denied_text} "
                "under except"
            )
    return None


def _pairs(selector: network.Selector) -> str:
    labels = selector.match_labels
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "{} (every namespace)"


def _namespace_problem(
    selector: network.Selector, own: str, allowed: Sequence[network.Selector]
) -> str | None:
    labels = selector.match_labels
    if labels.get(NAMESPACE_NAME_LABEL) == own:
        return None
    for candidate in allowed:
        if all(labels.get(k) == v for k, v in candidate.match_labels.items()):
            return None
    where = "; ".join(f"namespaces labelled {_pairs(s)}" for s in allowed) or "none"
    return (
        f"namespaceSelector {_pairs(selector)} selects namespaces the cluster policy does not "
        f"allow as peers; allowed: the workload's own namespace ({NAMESPACE_NAME_LABEL}={own}), "
        f"and {where}"
    )


def _peers(
    spec: spec_api.FinancialWorkloadSpec,
) -> Iterator[tuple[str, network.Peer, str]]:
    for i, ingress in enumerate(spec.network.ingress):
        for j, peer in enumerate(ingress.from_):
            yield f"spec.network.ingress[{i}].from[{j}]", peer, "ingress"
    for i, egress in enumerate(spec.network.egress):
        for j, peer in enumerate(egress.to):
            yield f"spec.network.egress[{i}].to[{j}]", peer, "egress"


def guardrails_check(
    spec: spec_api.FinancialWorkloadSpec, namespace: str, rules: guardrails.Resolved
) -> Problems:
    """NET-3: every peer inside the profile's allowed CIDRs and namespaces."""
    for where, peer, direction in _peers(spec):
        if peer.ip_block is not None:
            ranges = rules.ingress if direction == "ingress" else rules.egress
            why = _cidr_problem(peer.ip_block, ranges)
            if why:
                message = f"{why} ({direction} of profile {spec.profile}) (NET-3)"
                yield errors.Problem(f"{where}.ipBlock.cidr", message, "NET-3")
        if peer.namespace_selector is not None:
            why = _namespace_problem(peer.namespace_selector, namespace, rules.peer_namespaces)
            if why:
                message = f"{why} (profile {spec.profile}) (NET-3)"
                yield errors.Problem(f"{where}.namespaceSelector", message, "NET-3")


def dns_ports(
    spec: spec_api.FinancialWorkloadSpec, policy: policy_api.FinancialWorkloadPolicySpec
) -> Problems:
    """NET-2: with dnsEgress deny, no egress flow opens DNS by hand."""
    if policy.dns_egress is not policy_api.DnsEgress.DENY:
        return
    dns = policy.endpoints.dns
    numbers = {DNS_PORT} | {p.port for p in dns.ports if isinstance(p.port, int)}
    names = DNS_PORT_NAMES | {p.port for p in dns.ports if isinstance(p.port, str)}
    for i, flow in enumerate(spec.network.egress):
        for j, port in enumerate(flow.ports):
            if isinstance(port.port, str):
                hit = port.port in names
            else:
                last = port.end_port if port.end_port is not None else port.port
                hit = any(port.port <= number <= last for number in numbers)
            if hit:
                message = (
                    f"port {port.port} is DNS, which the cluster policy denies (NET-2); "
                    f"allowed: ports (and ranges) clear of {', '.join(map(str, sorted(numbers)))}"
                    f" and the DNS port names ({', '.join(sorted(names))})"
                )
                yield errors.Problem(f"spec.network.egress[{i}].ports[{j}].port", message, "NET-2")
