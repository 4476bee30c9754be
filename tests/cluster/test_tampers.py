"""Drift of every field: 35 tampers across every child kind and the namespace, on a real cluster.

Each tamper is a JSON patch (or a delete) as a person or a rogue tool would make it, under
its own field manager. Under enforce the child must come back, whole, to what it was
(compared on everything but server metadata and status), with a healed drift entry; under
audit a selection stays in place and is reported.
"""

from __future__ import annotations

import dataclasses
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

NAME = "tamp"
DIGEST = "sha256:" + "0123456789abcdef" * 4
OTHER_IMAGE = f"registry.bank.example/team/other@{DIGEST}"
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}
NOISE = ("resourceVersion", "generation", "managedFields", "uid", "creationTimestamp")


ACCEPT = [{"name": "Accept", "value": "text/plain"}]
PROBES = {
    "liveness": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTPS",
                             "httpHeaders": ACCEPT}},
    "startup": {"grpc": {"port": 8080}, "failureThreshold": 30},
}  # fmt: skip


SMALL = {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}}
PROXY = {"name": "proxy", "restartPolicy": "Always", "image": OTHER_IMAGE, "resources": SMALL,
         "ports": [{"name": "https", "containerPort": 8443}],
         "probes": {"readiness": {"tcpSocket": {"port": "https"}}}}  # fmt: skip
SHIPPER = {"name": "shipper", "image": OTHER_IMAGE, "resources": SMALL}


def full_spec(enforcement: str, profile: str = "pci") -> dict[str, Any]:
    """A workload with every child kind and every kind of container.

    Role, RoleBinding, Service, both policies, SPC, PDB; the main container, a native
    sidecar and another app container.
    """
    return wl.spec(
        profile=profile,
        enforcement=enforcement,
        replicas=2,
        ports=[{"name": "http", "containerPort": 8080}],
        env=[{"name": "LIMIT", "value": "1000"}],
        probes=PROBES,
        initContainers=[PROXY],
        containers=[SHIPPER],
        volumes=[
            {"name": "config", "configMap": {"name": "tamp-config", "optional": True}},
            {"name": "cache", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
        volumeMounts=[
            {"name": "config", "mountPath": "/etc/app"},
            {"name": "cache", "mountPath": "/var/cache/app", "writable": True},
        ],
        permissions=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        network={
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "gw"}}}],
                    "ports": [{"port": 8080}],
                }
            ],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": {"db": "pg"}}}], "ports": [{"port": 5432}]}
            ],
        },
        secrets={
            "provider": "gcp",
            "mountPath": "/mnt/secrets",
            "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
        },
    )


@dataclasses.dataclass(frozen=True)
class Tamper:
    """One hostile change: on which object, the JSON patch, the field the drift names."""

    id: str
    resource: str
    name: str  # suffix after the workload's name; "" for the child named like it
    ops: list[dict[str, Any]]
    field: str  # substring of a drift entry's field ("" for any)
    kind: str = ""

    def target(self, ns: str) -> tuple[str, str]:
        if self.resource == "namespace":
            return "namespace", ns
        return self.resource, NAME + self.name


def add(path: str, value: Any) -> dict[str, Any]:
    return {"op": "add", "path": path, "value": value}


POD = "/spec/template/spec"
SIDE = {"name": "sidecar", "image": OTHER_IMAGE, "securityContext": RESTRICTED,
        "resources": {"limits": {"cpu": "10m", "memory": "8Mi"}}}  # fmt: skip
AFFINITY = {
    "podAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 1,
                "podAffinityTerm": {
                    "topologyKey": "zone",
                    "labelSelector": {"matchLabels": {"a": "b"}},
                },
            }
        ]
    }
}
SECRET_REF = {"secretKeyRef": {"name": "db", "key": "password"}}
TAMPERS = [
    Tamper("sidecar-container", "deployment", "", [add(f"{POD}/containers/-", SIDE)],
           "containers[name=sidecar]"),
    Tamper("init-container", "deployment", "", [add(f"{POD}/initContainers", [SIDE])],
           "initContainers"),
    Tamper("declared-sidecar-capability", "deployment", "",
           [add(f"{POD}/initContainers/0/securityContext/capabilities/add", ["NET_ADMIN"])],
           "initContainers[name=proxy].securityContext.capabilities"),
    Tamper("declared-container-image", "deployment", "",
           [{"op": "replace", "path": f"{POD}/containers/1/image", "value": wl.IMAGE}],
           "containers[name=shipper].image"),
    # Mounts of the main container: tmp, secrets-store, config (2), cache (3).
    Tamper("config-mount-writable", "deployment", "",
           [{"op": "replace", "path": f"{POD}/containers/0/volumeMounts/2/readOnly",
             "value": False}],
           "volumeMounts[name=config].readOnly"),
    Tamper("cache-size-limit", "deployment", "",
           [{"op": "replace", "path": f"{POD}/volumes/3/emptyDir/sizeLimit", "value": "100Gi"}],
           "volumes[name=cache].emptyDir.sizeLimit"),
    Tamper("envfrom-secret", "deployment", "",
           [add(f"{POD}/containers/0/envFrom", [{"secretRef": {"name": "db"}}])], "envFrom"),
    Tamper("valuefrom-secret", "deployment", "",
           [add(f"{POD}/containers/0/env/-", {"name": "PW", "valueFrom": SECRET_REF})],
           "env[name=PW]"),
    Tamper("env-quantity-text", "deployment", "",
           [{"op": "replace", "path": f"{POD}/containers/0/env/0/value", "value": "1k"}],
           "env[name=LIMIT].value"),
    Tamper("command", "deployment", "", [add(f"{POD}/containers/0/command", ["/bin/sh"])],
           "command"),
    Tamper("startup-probe-removed", "deployment", "",
           [{"op": "remove", "path": f"{POD}/containers/0/startupProbe"}], "startupProbe"),
    Tamper("exec-probe", "deployment", "", [{"op": "replace",
           "path": f"{POD}/containers/0/livenessProbe",
           "value": {"exec": {"command": ["/bin/sh", "-c", "id"]}}}], "livenessProbe"),
    Tamper("args", "deployment", "", [add(f"{POD}/containers/0/args", ["-c", "id"])], "args"),
    Tamper("host-network", "deployment", "", [add(f"{POD}/hostNetwork", True)], "hostNetwork"),
    Tamper("host-pid", "deployment", "", [add(f"{POD}/hostPID", True)], "hostPID"),
    Tamper("host-ipc", "deployment", "", [add(f"{POD}/hostIPC", True)], "hostIPC"),
    Tamper("host-port", "deployment", "", [add(f"{POD}/containers/0/ports/0/hostPort", 8080)],
           "hostPort"),
    Tamper("hostpath-volume", "deployment", "",
           [add(f"{POD}/volumes/-", {"name": "host", "hostPath": {"path": "/"}})],
           "volumes[name=host]"),
    Tamper("extra-volume", "deployment", "",
           [add(f"{POD}/volumes/-", {"name": "scratch", "emptyDir": {}})], "volumes[name=scratch]"),
    Tamper("tolerate-everything", "deployment", "",
           [add(f"{POD}/tolerations", [{"operator": "Exists"}])], "tolerations"),
    Tamper("node-selector", "deployment", "",
           [add(f"{POD}/nodeSelector", {"kubernetes.io/hostname": "node-0"})], "nodeSelector"),
    Tamper("affinity", "deployment", "", [add(f"{POD}/affinity", AFFINITY)], "affinity"),
    Tamper("extra-pod-label", "deployment", "",
           [add("/spec/template/metadata/labels/role", "frontend")], "metadata.labels.role"),
    Tamper("routing-labels-and-image", "deployment", "", [
        {"op": "remove", "path": "/metadata/labels/finance.compliance.dev~1workload"},
        {"op": "remove", "path": "/metadata/labels/app.kubernetes.io~1managed-by"},
        {"op": "replace", "path": f"{POD}/containers/0/image", "value": OTHER_IMAGE},
    ], "image"),
    Tamper("service-external-ips", "service", "", [add("/spec/externalIPs", ["203.0.113.7"])],
           "externalIPs"),
    Tamper("service-type", "service", "",
           [{"op": "replace", "path": "/spec/type", "value": "NodePort"}], "type"),
    Tamper("service-owner-removed", "service", "",
           [{"op": "remove", "path": "/metadata/ownerReferences"}], "ownerReferences"),
    Tamper("role-rule", "role", "",
           [add("/rules/-", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})],
           "rules"),
    # Adding a subject beside the workload's account, or a rule to its NetworkPolicy, is
    # refused by the tenant guard (tests/cluster/test_tenant_guard.py); what it lets
    # through (the binding handed to someone else, the flows moved onto other pods) is
    # drift.
    Tamper("rolebinding-subject", "rolebinding", "",
           [{"op": "replace", "path": "/subjects", "value": [
               {"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}]}],
           "subjects"),
    Tamper("networkpolicy-retargeted", "networkpolicy", "-allow",
           [{"op": "replace", "path": "/spec/podSelector", "value": {"matchExpressions": [
               {"key": "finance.compliance.dev/workload", "operator": "DoesNotExist"}]}}],
           "podSelector"),
    Tamper("networkpolicy-deleted", "networkpolicy", "-default-deny", [], "(object)"),
    Tamper("secretproviderclass-parameters", "secretproviderclass", "",
           [add("/spec/parameters/extra", "value")], "parameters"),
    Tamper("serviceaccount-pull-secret", "serviceaccount", "",
           [add("/imagePullSecrets", [{"name": "stolen"}])], "imagePullSecrets"),
    Tamper("pdb-max-unavailable", "poddisruptionbudget", "",
           [{"op": "replace", "path": "/spec/maxUnavailable", "value": 3}], "maxUnavailable"),
    Tamper("namespace-pss-label-removed", "namespace", "",
           [{"op": "remove", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce"}],
           "pod-security.kubernetes.io/enforce", kind="Namespace"),
]  # fmt: skip


def snapshot(kube: Kube, ns: str, tamper: Tamper) -> dict[str, Any] | None:
    """The object as drift sees it: everything but server metadata and status."""
    resource, name = tamper.target(ns)
    args = ["get", resource, name, "-o", "json"] + (["-n", ns] if resource != "namespace" else [])
    found = kube.kubectl(*args, check=False)
    if found.returncode != 0:
        return None
    obj: dict[str, Any] = json.loads(found.stdout)
    obj.pop("status", None)
    for key in NOISE:
        obj["metadata"].pop(key, None)
    obj["metadata"].get("annotations", {}).pop("deployment.kubernetes.io/revision", None)
    if resource == "namespace":
        labels = obj["metadata"].get("labels", {})
        return {k: v for k, v in labels.items() if k.startswith("pod-security")}
    return obj


def tamper_with(kube: Kube, ns: str, tamper: Tamper) -> None:
    resource, name = tamper.target(ns)
    where = ["-n", ns] if resource != "namespace" else []
    if not tamper.ops:
        kube.kubectl("delete", resource, name, *where)
        return
    kube.kubectl(
        "patch", resource, name, *where, "--type=json", "-p", json.dumps(tamper.ops), *wl.AS_TRUSTED
    )  # fmt: skip


def drift_entry(kube: Kube, ns: str, tamper: Tamper, healed: bool) -> dict[str, Any] | None:
    for entry in wl.get(kube, ns, NAME).get("status", {}).get("drift", []):
        if tamper.field in entry["field"] and ("healedAt" in entry) == healed:
            return dict(entry)
    return None


def _namespace(kube: Kube) -> str:
    ns = f"tp-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(kube.api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
    )
    return ns


@pytest.fixture(scope="module")
def enforced(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = _namespace(kube)
    wl.apply(kube, wl.manifest(NAME, ns, full_spec("enforce")))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    client.CoreV1Api(kube.api).delete_namespace(ns)


def test_there_are_at_least_twenty_tampers_over_every_kind() -> None:
    assert len(TAMPERS) >= 20
    kinds = {t.resource for t in TAMPERS}
    assert kinds >= {
        "deployment", "service", "role", "rolebinding", "networkpolicy", "secretproviderclass",
        "serviceaccount", "poddisruptionbudget", "namespace",
    }  # fmt: skip


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.id for t in TAMPERS])
def test_enforce_heals_the_whole_object(kube: Kube, enforced: str, tamper: Tamper) -> None:
    ns = enforced
    wl.wait_ready(kube, ns, NAME)
    original = eventually(lambda: snapshot(kube, ns, tamper), 30, "the child")
    tamper_with(kube, ns, tamper)
    eventually(lambda: snapshot(kube, ns, tamper) == original, 30, f"{tamper.id} healed")
    entry = eventually(lambda: drift_entry(kube, ns, tamper, healed=True), 15, "drift entry")
    assert entry["healedAt"] >= entry["detectedAt"]


AUDITED = [t for t in TAMPERS if t.id in {
    "sidecar-container", "host-network", "extra-pod-label", "service-external-ips",
    "role-rule", "networkpolicy-retargeted", "env-quantity-text",
}]  # fmt: skip


@pytest.fixture(scope="module")
def audited(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = _namespace(kube)
    wl.apply(kube, wl.manifest(NAME, ns, full_spec("audit", profile="baseline")))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    client.CoreV1Api(kube.api).delete_namespace(ns)


@pytest.mark.parametrize("tamper", AUDITED, ids=[t.id for t in AUDITED])
def test_audit_reports_and_leaves_in_place(kube: Kube, audited: str, tamper: Tamper) -> None:
    ns = audited
    original = eventually(lambda: snapshot(kube, ns, tamper), 30, "the child")
    tamper_with(kube, ns, tamper)
    entry = eventually(lambda: drift_entry(kube, ns, tamper, healed=False), 30, "reported")
    assert entry["expected"] != entry["actual"]
    assert wl.condition(wl.get(kube, ns, NAME), "Drifted")["status"] == "True"
    assert snapshot(kube, ns, tamper) != original
