"""Issue 13's network on a real API server: a port range and matchExpressions reach the
allow NetworkPolicy as NetworkPolicy spells them (the API server validates endPort), the
API server flow opens what the cluster policy names, and a policy edit that moves the
cluster DNS re-renders every workload that asked for DNS."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

NAME = "ledger"
READ = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
CANARY = {"key": "track", "operator": "NotIn", "values": ["canary"]}
NETWORK = {
    "allowDNS": True,
    "allowAPIServer": True,
    "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"},
                                        "matchExpressions": [CANARY]}}],
                "ports": [{"port": 30000, "endPort": 30100}]}],
}  # fmt: skip
NODE_LOCAL = {"peers": [{"ipBlock": {"cidr": "169.254.20.10/32"}}],
              "ports": [{"port": 53, "protocol": "UDP"}]}  # fmt: skip


@pytest.fixture
def flowing(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = f"n-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(permissions=READ, network=NETWORK)))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


def egress(kube: Kube, ns: str) -> list[dict[str, Any]]:
    allow = kube.kubectl("get", "networkpolicy", f"{NAME}-allow", "-n", ns, "-o", "json")
    found: list[dict[str, Any]] = json.loads(allow.stdout)["spec"]["egress"]
    return found


def test_ranges_expressions_and_the_api_server_reach_the_cluster(kube: Kube, flowing: str) -> None:
    flows = egress(kube, flowing)
    assert flows[0]["ports"] == [{"port": 30000, "endPort": 30100, "protocol": "TCP"}]
    assert flows[0]["to"][0]["podSelector"]["matchExpressions"] == [CANARY]
    assert flows[2] == {"to": [{"ipBlock": {"cidr": "192.0.2.10/32"}}],
                        "ports": [{"port": 6443, "protocol": "TCP"}]}  # fmt: skip


def test_moving_the_cluster_dns_in_the_policy_re_renders_the_flow(kube: Kube, flowing: str) -> None:
    assert egress(kube, flowing)[1]["to"][0]["podSelector"] == {
        "matchLabels": {"k8s-app": "kube-dns"}
    }
    patch = json.dumps({"spec": {"dns": NODE_LOCAL}})
    kube.kubectl("patch", "financialworkloadpolicy", "default", "--type=merge", "-p", patch)
    try:

        def moved() -> bool | None:
            return egress(kube, flowing)[1]["to"] == NODE_LOCAL["peers"] or None

        eventually(moved, 60, "the DNS flow follows the policy")
    finally:
        restore = json.dumps([{"op": "remove", "path": "/spec/dns"}])
        kube.kubectl("patch", "financialworkloadpolicy", "default", "--type=json", "-p", restore)
    eventually(lambda: "podSelector" in egress(kube, flowing)[1]["to"][0] or None, 60, "back")
