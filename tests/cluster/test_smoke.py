"""Smoke tests: the cluster under test is a real Kubernetes, not a stand-in.

Each test shows one behaviour the operator depends on: PodSecurity admission, scheduling
onto the (kwok) nodes, garbage collection of owned objects, server-side apply conflicts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Kube
from kubernetes import client
from kubernetes.client.rest import ApiException
from support import eventually

pytestmark = pytest.mark.cluster

IMAGE = "registry.example/smoke/app@sha256:" + "a" * 64
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def deployment(name: str, security: dict[str, Any], container_security: dict[str, Any]) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "securityContext": security,
                    "containers": [
                        {
                            "name": "app",
                            "image": IMAGE,
                            "securityContext": container_security,
                            "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ],
                },
            },
        },
    }


def label_restricted(kube: Kube, namespace: str) -> None:
    client.CoreV1Api(kube.api).patch_namespace(namespace, {"metadata": {"labels": RESTRICTED}})


def test_version_is_pinned(kube: Kube) -> None:
    if not kube.local:
        pytest.skip("the version pin applies to the local control plane only")
    out = json.loads(kube.kubectl("version", "-o", "json").stdout)
    assert out["clientVersion"]["gitVersion"] == "v1.37.2"
    assert out["serverVersion"]["gitVersion"] == "v1.37.2"


def test_nodes_span_zones_and_regions(kube: Kube) -> None:
    nodes = client.CoreV1Api(kube.api).list_node().items
    zones = {n.metadata.labels.get("topology.kubernetes.io/zone") for n in nodes}
    regions = {n.metadata.labels.get("topology.kubernetes.io/region") for n in nodes}
    assert len(nodes) >= 3
    assert len(zones - {None}) >= 3
    assert len(regions - {None}) >= 2


def test_restricted_pod_becomes_available(kube: Kube, namespace: str) -> None:
    label_restricted(kube, namespace)
    manifest = deployment(
        "compliant",
        {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    )
    apps = client.AppsV1Api(kube.api)
    apps.create_namespaced_deployment(namespace, manifest)

    def available() -> bool:
        status = apps.read_namespaced_deployment_status("compliant", namespace).status
        conditions = {c.type: c.status for c in status.conditions or []}
        return conditions.get("Available") == "True" and status.available_replicas == 2

    eventually(available, 90, "Deployment Available")
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(namespace, label_selector="app=compliant")
    assert len(pods.items) == 2
    for pod in pods.items:
        assert pod.status.phase == "Running"
        assert pod.spec.node_name, "pod was not scheduled onto a node"


def test_root_pod_is_refused_by_pod_security(kube: Kube, namespace: str) -> None:
    label_restricted(kube, namespace)
    manifest = deployment("rooted", {"runAsUser": 0}, {})
    apps = client.AppsV1Api(kube.api)
    apps.create_namespaced_deployment(namespace, manifest)

    def failure() -> str | None:
        for rs in apps.list_namespaced_replica_set(namespace, label_selector="app=rooted").items:
            for cond in rs.status.conditions or []:
                if cond.type == "ReplicaFailure" and "violates PodSecurity" in cond.message:
                    return str(cond.message)
        return None

    message = eventually(failure, 60, "ReplicaFailure on the ReplicaSet")
    assert '"restricted:latest"' in message
    assert "runAsNonRoot" in message or "runAsUser=0" in message
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(namespace, label_selector="app=rooted")
    assert pods.items == []


def test_deleting_owner_collects_owned_objects(kube: Kube, namespace: str) -> None:
    core = client.CoreV1Api(kube.api)
    owner = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "owner"}, "data": {"role": "owner"}}
    )
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
    for i in range(3):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"owned-{i}", "ownerReferences": [ref]}}
        )
    core.delete_namespaced_config_map("owner", namespace)

    def collected() -> bool:
        names = {cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items}
        return not names & {"owned-0", "owned-1", "owned-2"}

    eventually(collected, 60, "garbage collection of owned ConfigMaps")


def test_server_side_apply_conflict_between_managers(kube: Kube, namespace: str) -> None:
    def apply(manager: str, value: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "shared", "namespace": namespace},
            "data": {"level": value},
        }
        client.CoreV1Api(kube.api).patch_namespaced_config_map(
            "shared",
            namespace,
            body,
            field_manager=manager,
            _content_type="application/apply-patch+yaml",
        )

    apply("first-manager", "restricted")
    with pytest.raises(ApiException) as caught:
        apply("second-manager", "privileged")
    assert caught.value.status == 409
    assert "first-manager" in caught.value.body
    assert ".data.level" in caught.value.body
