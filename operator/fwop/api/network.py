"""Models of the network flows a workload declares; they become its allow NetworkPolicy.

Everything not declared here is denied by the default-deny policy (NET-1); each declared
flow names its peers and its ports (NET-2). Must not: import above the api layer.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
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


class Operator(enum.StrEnum):
    """How a matchExpressions entry compares a label."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"


class Expression(types.Model):
    """One label requirement; entries add up (all must hold)."""

    model_config = pydantic.ConfigDict(
        json_schema_extra=rules.schema_extra(rules.SELECTOR_EXPRESSION)
    )

    key: Annotated[str, pydantic.Field(min_length=1, max_length=317)]
    """The label key."""
    operator: Operator
    """In and NotIn compare with values; Exists and DoesNotExist only look at the key."""
    values: Annotated[
        tuple[Annotated[str, pydantic.Field(max_length=63)], ...], pydantic.Field(max_length=16)
    ] = ()
    """The values In and NotIn compare with (at least one); none for the others."""

    @pydantic.model_validator(mode="after")
    def _values(self) -> Expression:
        if (self.operator in {Operator.IN, Operator.NOT_IN}) != bool(self.values):
            raise rules.SELECTOR_EXPRESSION.error()
        return self


class Selector(types.Model):
    """Selects objects whose labels include all of matchLabels; empty selects all."""

    match_labels: types.LabelMap = pydantic.Field(default_factory=dict)
    """Labels the selected objects must carry, all of them, with these exact values."""


class PeerSelector(Selector):
    """Selects pods or namespaces by matchLabels and matchExpressions; empty selects all.

    Expressions only narrow what matchLabels selects, so the cluster policy's namespace
    guardrails (NET-3), judged on matchLabels, still bound the selection.
    """

    match_expressions: Annotated[tuple[Expression, ...], pydantic.Field(max_length=8)] = ()
    """Further requirements, all of which must hold."""


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

    pod_selector: PeerSelector | None = None
    """Pods with these labels; in the workload's namespace unless namespaceSelector is set."""
    namespace_selector: PeerSelector | None = None
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


class EgressPort(FlowPort):
    """A port, or a range of ports, the workload may connect to."""

    model_config = pydantic.ConfigDict(json_schema_extra=rules.schema_extra(rules.END_PORT))

    end_port: Annotated[types.Int, pydantic.Field(ge=1, le=65535)] | None = None
    """Last port of a range starting at port (a number); unset: port alone."""

    @pydantic.model_validator(mode="after")
    def _range(self) -> EgressPort:
        if self.end_port is not None and (
            not isinstance(self.port, int) or self.end_port < self.port
        ):
            raise rules.END_PORT.error()
        return self


_Peers = Annotated[tuple[Peer, ...], pydantic.Field(min_length=1, max_length=16)]
_Ports = Annotated[tuple[FlowPort, ...], pydantic.Field(min_length=1, max_length=16)]
_EgressPorts = Annotated[tuple[EgressPort, ...], pydantic.Field(min_length=1, max_length=16)]


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
    ports: _EgressPorts
    """Which ports (or port ranges) of the peers it may reach; at least one."""


class Network(types.Model):
    """The flows the workload needs; every other flow is denied (NET-1, NET-2)."""

    ingress: Annotated[tuple[IngressFlow, ...], pydantic.Field(max_length=32)] = ()
    """Allowed incoming flows."""
    egress: Annotated[tuple[EgressFlow, ...], pydantic.Field(max_length=32)] = ()
    """Allowed outgoing flows."""
    allow_dns: types.Bool = pydantic.Field(default=False, alias="allowDNS")
    """Allow DNS lookups to the cluster DNS the cluster policy names (default: UDP and TCP 53
    to the kube-dns pods in kube-system)."""
    allow_api_server: types.Bool = pydantic.Field(default=False, alias="allowAPIServer")
    """Allow connections to the Kubernetes API server's endpoints the cluster policy names;
    only for a workload that declares spec.permissions (NET-2)."""


class Endpoint(types.Model):
    """A service of the cluster the platform names for workloads: who answers, on which ports.

    Its peers are the platform's, so the profile's CIDR guardrails (NET-3) do not apply to
    them (NodeLocal DNSCache listens on a link-local address).
    """

    peers: Annotated[tuple[Peer, ...], pydantic.Field(min_length=1, max_length=8)]
    """The pods (by namespace and pod labels) or addresses that answer."""
    ports: Annotated[tuple[FlowPort, ...], pydantic.Field(min_length=1, max_length=8)]
    """The ports they answer on."""


KUBE_DNS = Endpoint.model_validate(
    {
        "peers": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
)
"""The cluster DNS of upstream Kubernetes (CoreDNS keeps the kube-dns labels)."""


@dataclasses.dataclass(frozen=True)
class ClusterEndpoints:
    """What allowDNS and allowAPIServer open in a cluster, from its policy."""

    dns: Endpoint = KUBE_DNS
    api_server: Endpoint | None = None
    """None: the policy names no API server endpoint, so no workload may ask for it."""

    @functools.cached_property
    def key(self) -> str:
        """A value that changes when what they open changes (memo keys)."""
        api = self.api_server.model_dump_json() if self.api_server is not None else ""
        return f"{self.dns.model_dump_json()}|{api}"


DEFAULT_ENDPOINTS = ClusterEndpoints()
