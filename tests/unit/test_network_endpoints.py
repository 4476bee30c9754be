"""Issue 13's network: port ranges (endPort), matchExpressions in peers, the cluster DNS
and the API server as the cluster policy names them, and what dnsEgress: deny refuses."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fwop import errors
from fwop.admission import clusterpolicy, networks
from fwop.api import network
from fwop.api import policy as policy_api
from fwop.render import meta, networkpolicy

from .conftest import ContextFactory, SpecFactory

NODE_LOCAL = {"peers": [{"ipBlock": {"cidr": "169.254.20.10/32"}}],
              "ports": [{"port": 53, "protocol": "UDP"}]}  # fmt: skip
OPENSHIFT = {
    "peers": [{"namespaceSelector": {"matchLabels": {
                   "kubernetes.io/metadata.name": "openshift-dns"}},
               "podSelector": {"matchLabels": {
                   "dns.operator.openshift.io/daemonset-dns": "default"}}}],
    "ports": [{"port": 5353, "protocol": "UDP"}, {"port": 5353, "protocol": "TCP"}],
}  # fmt: skip
CONTROL_PLANE = {"peers": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"port": 6443}]}
READ = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]


def policy(**fields: Any) -> policy_api.FinancialWorkloadPolicySpec:
    return policy_api.FinancialWorkloadPolicySpec.model_validate(fields)


def egress(ctx: meta.Context) -> list[dict[str, Any]]:
    _, allow = networkpolicy.render(ctx)
    found: list[dict[str, Any]] = allow["spec"]["egress"]
    return found


def test_ranges_and_expressions_are_rendered_as_networkpolicy_spells_them(
    make_ctx: ContextFactory,
) -> None:
    tier = {"key": "tier", "operator": "In", "values": ["db", "cache"]}
    net = {"egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"},
                                              "matchExpressions": [tier]}}],
                       "ports": [{"port": 32000, "endPort": 32768}, {"port": 5432}]}]}  # fmt: skip
    [flow] = egress(make_ctx(network=net))
    assert flow["to"] == [{"podSelector": {"matchLabels": {"app": "db"},
                                           "matchExpressions": [tier]}}]  # fmt: skip
    assert flow["ports"] == [
        {"port": 32000, "protocol": "TCP", "endPort": 32768},
        {"port": 5432, "protocol": "TCP"},
    ]


@pytest.mark.parametrize(
    ("port", "ok"),
    [({"port": "https", "endPort": 500}, False), ({"port": 500, "endPort": 400}, False),
     ({"port": 400, "endPort": 400}, True)],
    ids=["named", "backwards", "single"],
)  # fmt: skip
def test_a_range_starts_at_a_number_no_greater_than_its_end(
    make_spec: SpecFactory, port: dict[str, Any], ok: bool
) -> None:
    net = {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [port]}]}
    if ok:
        make_spec(network=net)
    else:
        with pytest.raises(ValueError, match="endPort"):
            make_spec(network=net)


def test_dns_opens_what_the_policy_names(make_ctx: ContextFactory) -> None:
    for target in (NODE_LOCAL, OPENSHIFT):
        endpoints = policy(dns=target).endpoints
        ctx = dataclasses.replace(make_ctx(network={"allowDNS": True}), endpoints=endpoints)
        [flow] = egress(ctx)
        assert flow["to"] == target["peers"]
        assert [p["port"] for p in flow["ports"]] == [p["port"] for p in target["ports"]]
    default = egress(make_ctx(network={"allowDNS": True}))
    assert default[0]["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}


def test_the_api_server_flow_needs_permissions_and_an_endpoint_in_the_policy(
    make_ctx: ContextFactory, make_spec: SpecFactory
) -> None:
    with pytest.raises(ValueError, match=r"allowAPIServer needs spec\.permissions"):
        make_spec(network={"allowAPIServer": True})
    spec = make_spec(network={"allowAPIServer": True}, permissions=READ)
    [problem] = list(clusterpolicy.dns(spec, policy()))
    assert problem == errors.Problem("spec.network.allowAPIServer", problem.message, "NET-2")
    assert "names no API server endpoint" in problem.message
    given = policy(apiServer=CONTROL_PLANE)
    assert list(clusterpolicy.dns(spec, given)) == []
    ctx = dataclasses.replace(
        make_ctx(network={"allowAPIServer": True}, permissions=READ), endpoints=given.endpoints
    )
    assert egress(ctx) == [{"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}],
                            "ports": [{"port": 6443, "protocol": "TCP"}]}]  # fmt: skip
    unnamed = make_ctx(network={"allowAPIServer": True}, permissions=READ)
    assert networkpolicy.render(unnamed)[1:] == []  # nothing opened without an endpoint


@pytest.mark.parametrize(
    ("port", "dns", "refused"),
    [({"port": 50, "endPort": 60}, None, True), ({"port": 5300, "endPort": 5400}, OPENSHIFT, True),
     ({"port": 5300, "endPort": 5400}, None, False), ({"port": 54, "endPort": 60}, None, False),
     ({"port": 5353}, OPENSHIFT, True)],
    ids=["range-over-53", "range-over-5353", "5353-by-default", "clear", "openshift-port"],
)  # fmt: skip
def test_with_dns_denied_no_range_or_port_reaches_the_dns_by_hand(
    make_spec: SpecFactory, port: dict[str, Any], dns: dict[str, Any] | None, refused: bool
) -> None:
    spec = make_spec(network={"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                          "ports": [port]}]})  # fmt: skip
    denied = policy(dnsEgress="deny", **({"dns": dns} if dns else {}))
    assert bool(list(networks.dns_ports(spec, denied))) is refused


def test_endpoints_key_changes_with_what_they_open() -> None:
    assert policy().endpoints.key == policy().endpoints.key
    assert policy(dns=NODE_LOCAL).endpoints.key != policy().endpoints.key
    assert policy(apiServer=CONTROL_PLANE).endpoints.key != policy().endpoints.key
    assert network.DEFAULT_ENDPOINTS.dns == network.KUBE_DNS
