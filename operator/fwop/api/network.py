"""Models of the network flows a workload declares; they become its allow NetworkPolicy.

Everything not declared here is denied by the default-deny policy (NET-1); each declared
flow names its peers and its ports (NET-2). Must not: import above the api layer.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

import pydantic

from fwop.api import rules, types

_CIDR = Annotated[str, pydantic.Field(min_length=1, max_length=64)]


def _is_cidr(value: str) -> bool:
    """A CIDR the NetworkPolicy API accepts: host bits clear, no IPv4-mapped IPv6."""
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    mapped = isinstance(network, ipaddress.IPv6Network) and (
        network.network_address.ipv4_mapped is not None
    )
    return "/" in value and not mapped


class Selector(types.Model):
    """Selects objects whose labels include all of matchLabels; empty selects all."""

    match_labels: types.LabelMap = pydantic.Field(default_factory=dict)
    """Labels the selected objects must carry, all of them, with these exact values."""


class IPBlock(types.Model):
    """A range of IP addresses, for peers outside the cluster."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.CIDR_VALID))

    cidr: _CIDR
    """The range, in CIDR notation (10.20.0.0/16)."""
    except_: Annotated[tuple[_CIDR, ...], pydantic.Field(max_length=16, alias="except")] = ()
    """Sub-ranges of cidr that stay denied."""

    @pydantic.model_validator(mode="after")
    def _valid(self) -> IPBlock:
        if not all(_is_cidr(value) for value in (self.cidr, *self.except_)):
            raise rules.CIDR_VALID.error()
        return self


class Peer(types.Model):
    """The other end of a flow: pods (by pod and/or namespace labels) or an IP range."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.PEER_SHAPE))

    pod_selector: Selector | None = None
    """Pods with these labels; in the workload's namespace unless namespaceSelector is set."""
    namespace_selector: Selector | None = None
    """Namespaces with these labels (kubernetes.io/metadata.name names one namespace)."""
    ip_block: IPBlock | None = None
    """An IP range; cannot be combined with the selectors."""

    @pydantic.model_validator(mode="after")
    def _shape(self) -> Peer:
        selectors = self.pod_selector is not None or self.namespace_selector is not None
        if selectors == (self.ip_block is not None):
            raise rules.PEER_SHAPE.error()
        return self


class FlowPort(types.Model):
    """A port of a flow."""

    port: types.PortRef
    """Port number, or port name on the destination pods."""
    protocol: types.Protocol = types.Protocol.TCP
    """Transport protocol."""


_Peers = Annotated[tuple[Peer, ...], pydantic.Field(min_length=1, max_length=16)]
_Ports = Annotated[tuple[FlowPort, ...], pydantic.Field(min_length=1, max_length=16)]


class IngressFlow(types.Model):
    """Traffic the workload accepts: from these peers, to these ports of its pods."""

    from_: _Peers = pydantic.Field(alias="from")
    """Who may connect; at least one peer."""
    ports: _Ports
    """Which ports of the workload's pods they may reach; at least one."""


class EgressFlow(types.Model):
    """Traffic the workload may start: to these peers, on these ports."""

    to: _Peers
    """Where the workload may connect; at least one peer."""
    ports: _Ports
    """Which ports of the peers it may reach; at least one."""


class Network(types.Model):
    """The flows the workload needs; every other flow is denied (NET-1, NET-2)."""

    ingress: Annotated[tuple[IngressFlow, ...], pydantic.Field(max_length=32)] = ()
    """Allowed incoming flows."""
    egress: Annotated[tuple[EgressFlow, ...], pydantic.Field(max_length=32)] = ()
    """Allowed outgoing flows."""
    allow_dns: types.Bool = pydantic.Field(default=False, alias="allowDNS")
    """Allow DNS lookups (UDP and TCP 53) to the cluster DNS pods in kube-system."""
