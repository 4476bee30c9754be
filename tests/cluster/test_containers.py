"""Extra containers on a real cluster: a migration, a native sidecar and a log shipper run
hardened beside the app, the pods pass Pod Security restricted, the Service reaches the
sidecar's port, and an init container's image swapped in place on a pod is drift."""

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

NAME = "multi"
OTHER = f"registry.bank.example/team/other@{wl.DIGEST}"
SMALL = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}}
MIGRATE = {"name": "migrate", "image": OTHER, "args": ["migrate", "up"], "resources": SMALL}
PROXY = {"name": "proxy", "restartPolicy": "Always", "image": OTHER, "resources": SMALL,
         "ports": [{"name": "https", "containerPort": 8443}],
         "probes": {"readiness": {"httpGet": {"path": "/ready", "port": "https",
                                              "scheme": "HTTPS"}}}}  # fmt: skip
SHIPPER = {"name": "shipper", "image": OTHER, "resources": SMALL,
           "ports": [{"name": "metrics", "containerPort": 2020}]}  # fmt: skip
SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
}


@pytest.fixture(scope="module")
def multi(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = f"mc-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    body = wl.spec(
        ports=[{"name": "http", "containerPort": 8080}],
        initContainers=[MIGRATE, PROXY],
        containers=[SHIPPER],
    )
    wl.apply(kube, wl.manifest(NAME, ns, body))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


def _pods(kube: Kube, ns: str) -> list[Any]:
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(ns, label_selector=f"{wl.LABEL}={NAME}")
    return [p for p in pods.items if not p.metadata.deletion_timestamp]


def test_every_container_runs_hardened_and_the_service_reaches_the_sidecar(
    kube: Kube, multi: str
) -> None:
    ns = multi
    apps = client.AppsV1Api(kube.api)
    template = apps.read_namespaced_deployment(NAME, ns).to_dict()["spec"]["template"]["spec"]
    inits = {c["name"]: c for c in template["init_containers"]}
    apps_ = {c["name"]: c for c in template["containers"]}
    assert list(inits) == ["migrate", "proxy"]
    assert list(apps_) == ["app", "shipper"]
    assert inits["proxy"]["restart_policy"] == "Always"
    assert inits["migrate"]["restart_policy"] is None
    for container in [*inits.values(), *apps_.values()]:
        security = container["security_context"]
        assert security["read_only_root_filesystem"] is True, container["name"]
        assert security["capabilities"]["drop"] == ["ALL"], container["name"]
        assert container["resources"]["limits"], container["name"]

    # The namespace enforces Pod Security restricted: these pods were admitted under it.
    labels = client.CoreV1Api(kube.api).read_namespace(ns).metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = eventually(lambda: _pods(kube, ns) or None, 60, "the workload's pods")
    assert [c.name for c in pods[0].spec.init_containers] == ["migrate", "proxy"]

    svc = client.CoreV1Api(kube.api).read_namespaced_service(NAME, ns)
    targets = {p.name: p.target_port for p in svc.spec.ports}
    assert targets == {"https": 8443, "http": "http", "metrics": "metrics"}
    compliance = wl.get(kube, ns, NAME)["status"]["compliance"]
    assert compliance["failing"] == [], compliance


def _healed(kube: Kube, ns: str, field: str) -> dict[str, Any] | None:
    for entry in wl.get(kube, ns, NAME).get("status", {}).get("drift", []):
        if entry["kind"] == "Pod" and entry["field"] == field and "healedAt" in entry:
            return dict(entry)
    return None


def test_an_init_container_image_swapped_in_place_replaces_the_pod(kube: Kube, multi: str) -> None:
    ns = multi
    pod = eventually(
        lambda: next((p for p in _pods(kube, ns) if p.status.phase == "Running"), None),
        60,
        "a running pod",
    )
    name, uid = pod.metadata.name, pod.metadata.uid
    ops = [{"op": "replace", "path": "/spec/initContainers/0/image", "value": wl.IMAGE}]
    kube.kubectl("patch", "pod", name, "-n", ns, "--type=json", "-p", json.dumps(ops),
                 *wl.AS_TRUSTED)  # fmt: skip
    eventually(lambda: wl.pod_uid(kube, ns, name) != uid, 30, "the tampered pod replaced")
    field = "spec.initContainers[name=migrate].image"
    entry = eventually(lambda: _healed(kube, ns, field), 15, "a healed drift entry")
    assert entry["name"] == name
    assert entry["actual"] == wl.IMAGE
    wl.wait_ready(kube, ns, NAME)
