"""Drift on a real API server: hostile edits are healed under enforce, reported under audit.

Each edit is made the way a person or a rogue tool would make it (JSON patch, kubectl
scale/set image/label/delete), under another field manager than the operator's.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

NAME = "pay"
TAG_IMAGE = "registry.bank.example/team/app:latest"


def pci_spec(enforcement: str, profile: str = "pci") -> dict[str, Any]:
    return wl.spec(
        profile=profile,
        enforcement=enforcement,
        replicas=3,
        ports=[{"name": "http", "containerPort": 8080}],
        permissions=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        network={
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "gw"}}}],
                    "ports": [{"port": 8080}],
                }
            ]
        },
        secrets={
            "provider": "gcp",
            "mountPath": "/mnt/secrets",
            "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
        },
    )


def patch(kube: Kube, kind: str, ns: str | None, name: str, ops: list[dict[str, Any]]) -> None:
    args = ["patch", kind, name, "--type=json", "-p", json.dumps(ops), *wl.AS_TRUSTED]
    kube.kubectl(*args, *(["-n", ns] if ns else []))


@dataclasses.dataclass(frozen=True)
class Edit:
    """A hostile edit, the drift it must produce, and how to read the edited value."""

    id: str
    kind: str
    child: str  # child name (suffix after the workload name), or "" for the namespace
    tamper: Callable[[Kube, str], None]
    read: Callable[[Kube, str], Any]  # the value the edit changes
    field: str  # a substring of the drift entry's field

    def child_name(self) -> str:
        return NAME + self.child


def _deployment(kube: Kube, ns: str) -> Any:
    return client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, ns)


def _exists(read: Callable[[], Any]) -> bool:
    try:
        read()
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _spc(kube: Kube, ns: str) -> Any:
    return client.CustomObjectsApi(kube.api).get_namespaced_custom_object(
        "secrets-store.csi.x-k8s.io", "v1", ns, "secretproviderclasses", NAME
    )


EDITS = [
    Edit(
        "remove-runAsNonRoot",
        "Deployment",
        "",
        lambda k, ns: patch(
            k,
            "deployment",
            ns,
            NAME,
            [{"op": "remove", "path": "/spec/template/spec/securityContext/runAsNonRoot"}],
        ),
        lambda k, ns: _deployment(k, ns).spec.template.spec.security_context.run_as_non_root,
        "securityContext.runAsNonRoot",
    ),
    Edit(
        "add-capability",
        "Deployment",
        "",
        lambda k, ns: patch(
            k,
            "deployment",
            ns,
            NAME,
            [
                {
                    "op": "add",
                    "path": "/spec/template/spec/containers/0/securityContext/capabilities/add",
                    "value": ["NET_ADMIN"],
                }
            ],
        ),
        lambda k, ns: (
            _deployment(k, ns).spec.template.spec.containers[0].security_context.capabilities.add
        ),
        "capabilities.add",
    ),
    Edit(
        "image-tag",
        "Deployment",
        "",
        lambda k, ns: k.kubectl(
            "set", "image", f"deployment/{NAME}", f"app={TAG_IMAGE}", "-n", ns, *wl.AS_TRUSTED
        ),
        lambda k, ns: _deployment(k, ns).spec.template.spec.containers[0].image,
        ".image",
    ),
    Edit(
        "delete-networkpolicy",
        "NetworkPolicy",
        "-default-deny",
        lambda k, ns: k.kubectl("delete", "networkpolicy", f"{NAME}-default-deny", "-n", ns),
        lambda k, ns: _exists(
            lambda: client.NetworkingV1Api(k.api).read_namespaced_network_policy(
                f"{NAME}-default-deny", ns
            )
        ),
        "(object)",
    ),
    # Adding a rule to the default deny is refused outright by the tenant guard
    # (tests/cluster/test_tenant_guard.py); narrowing what it denies is not, and is healed.
    Edit(
        "deny-ingress-only",
        "NetworkPolicy",
        "-default-deny",
        lambda k, ns: patch(
            k,
            "networkpolicy",
            ns,
            f"{NAME}-default-deny",
            [{"op": "replace", "path": "/spec/policyTypes", "value": ["Ingress"]}],
        ),
        lambda k, ns: (
            client.NetworkingV1Api(k.api)
            .read_namespaced_network_policy(f"{NAME}-default-deny", ns)
            .spec.policy_types
        ),
        "spec.policyTypes",
    ),
    Edit(
        "delete-role",
        "Role",
        "",
        lambda k, ns: k.kubectl("delete", "role", NAME, "-n", ns),
        lambda k, ns: _exists(
            lambda: client.RbacAuthorizationV1Api(k.api).read_namespaced_role(NAME, ns)
        ),
        "(object)",
    ),
    Edit(
        "role-verb",
        "Role",
        "",
        lambda k, ns: patch(
            k, "role", ns, NAME, [{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}]
        ),
        lambda k, ns: (
            client.RbacAuthorizationV1Api(k.api).read_namespaced_role(NAME, ns).rules[0].verbs
        ),
        "rules",
    ),
    Edit(
        "namespace-privileged",
        "Namespace",
        "",
        lambda k, ns: k.kubectl(
            "label", "--overwrite", "namespace", ns, "pod-security.kubernetes.io/enforce=privileged"
        ),
        lambda k, ns: (
            client.CoreV1Api(k.api)
            .read_namespace(ns)
            .metadata.labels["pod-security.kubernetes.io/enforce"]
        ),
        "pod-security.kubernetes.io/enforce",
    ),
    Edit(
        "delete-secretproviderclass",
        "SecretProviderClass",
        "",
        lambda k, ns: k.kubectl("delete", "secretproviderclass", NAME, "-n", ns),
        lambda k, ns: _exists(lambda: _spc(k, ns)),
        "(object)",
    ),
    Edit(
        "scale-to-one",
        "Deployment",
        "",
        lambda k, ns: k.kubectl("scale", f"deployment/{NAME}", "--replicas=1", "-n", ns),
        lambda k, ns: _deployment(k, ns).spec.replicas,
        "spec.replicas",
    ),
]


def _entry(kube: Kube, ns: str, edit: Edit) -> dict[str, Any] | None:
    obj = wl.get(kube, ns, NAME)
    for entry in obj.get("status", {}).get("drift", []):
        if entry["kind"] == edit.kind and edit.field in entry["field"]:
            name_ok = edit.kind == "Namespace" or entry["name"] == edit.child_name()
            if name_ok:
                return dict(entry)
    return None


def _event(kube: Kube, ns: str, reason: str, edit: Edit) -> Any:
    events = client.CoreV1Api(kube.api).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={NAME},reason={reason}"
    )
    for event in events.items:
        if edit.kind in event.message and edit.field in event.message:
            return event
    return None


@pytest.fixture
def fresh_namespace(kube: Kube) -> Iterator[str]:
    name = f"d-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def enforced(kube: Kube, operator: Operator) -> Iterator[str]:
    """One enforce-mode pci workload shared by the enforce tests (each heal restores it)."""
    ns = f"e-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, pci_spec("enforce")))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


@pytest.mark.parametrize("edit", EDITS, ids=[e.id for e in EDITS])
def test_enforce_heals(kube: Kube, enforced: str, edit: Edit) -> None:
    ns = enforced
    original = edit.read(kube, ns)
    edit.tamper(kube, ns)
    eventually(lambda: edit.read(kube, ns) == original, 30, f"{edit.id} healed")
    entry = eventually(lambda: _entry(kube, ns, edit), 10, "status.drift entry")
    assert entry["healedAt"] >= entry["detectedAt"]
    assert entry["expected"] != entry["actual"]
    obj = wl.get(kube, ns, NAME)
    drifted = wl.condition(obj, "Drifted")
    assert drifted["status"] == "False"
    assert drifted["reason"] == "DriftHealed"
    assert eventually(lambda: _event(kube, ns, "DriftHealed", edit), 10, "Warning event")
    assert wl.condition(wl.wait_ready(kube, ns, NAME), "Compliant")["status"] == "True"


AUDITED = [e for e in EDITS if e.kind != "Namespace"]


@pytest.mark.parametrize("edit", AUDITED, ids=[e.id for e in AUDITED])
def test_audit_reports_only(
    kube: Kube, operator: Operator, fresh_namespace: str, edit: Edit
) -> None:
    """Audit mode (baseline: the cluster policy requires pci workloads to enforce, DRF-2)."""
    ns = fresh_namespace
    wl.apply(kube, wl.manifest(NAME, ns, pci_spec("audit", profile="baseline")))
    wl.wait_ready(kube, ns, NAME)
    original = edit.read(kube, ns)
    edit.tamper(kube, ns)
    entry = eventually(lambda: _entry(kube, ns, edit), 30, f"{edit.id} reported")
    assert "healedAt" not in entry
    obj = wl.get(kube, ns, NAME)
    assert wl.condition(obj, "Drifted")["status"] == "True"
    assert wl.condition(obj, "Compliant")["status"] == "False"
    assert _event(kube, ns, "DriftDetected", edit)
    time.sleep(1)  # the operator had its chance to (wrongly) heal
    assert edit.read(kube, ns) != original


def test_namespace_labels_are_healed_even_in_audit_mode(
    kube: Kube, operator: Operator, fresh_namespace: str
) -> None:
    """The Pod Security labels guard every pod of the namespace: healed in every mode (DRF-2)."""
    ns = fresh_namespace
    wl.apply(kube, wl.manifest(NAME, ns, pci_spec("audit", profile="baseline")))
    wl.wait_ready(kube, ns, NAME)
    [edit] = [e for e in EDITS if e.kind == "Namespace"]
    edit.tamper(kube, ns)
    eventually(lambda: edit.read(kube, ns) == "restricted", 30, "PSS label healed")
    entry = eventually(lambda: _entry(kube, ns, edit), 10, "status.drift entry")
    assert entry["healedAt"] >= entry["detectedAt"]
    assert eventually(lambda: _event(kube, ns, "DriftHealed", edit), 10, "Warning event")


def test_pci_workloads_may_not_choose_audit(kube: Kube, operator: Operator, namespace: str) -> None:
    refused = wl.apply(kube, wl.manifest(NAME, namespace, pci_spec("audit")), check=False)
    assert refused.returncode != 0
    assert "spec.enforcement: enforcement audit is not allowed for profile pci" in refused.stderr
    assert "(DRF-2)" in refused.stderr


def test_quick_successive_edits_converge_and_foreign_labels_stay(kube: Kube, enforced: str) -> None:
    ns = enforced
    kube.kubectl("label", f"deployment/{NAME}", "team.example/owner=payments", "-n", ns)
    kube.kubectl("set", "image", f"deployment/{NAME}", f"app={TAG_IMAGE}", "-n", ns, *wl.AS_TRUSTED)
    kube.kubectl("scale", f"deployment/{NAME}", "--replicas=1", "-n", ns)

    def converged() -> bool:
        dep = _deployment(kube, ns)
        return dep.spec.replicas == 3 and dep.spec.template.spec.containers[0].image == wl.IMAGE

    eventually(converged, 30, "both edits healed")
    time.sleep(1)  # no fight: a second look still shows the healed state
    dep = _deployment(kube, ns)
    assert converged()
    assert dep.metadata.labels["team.example/owner"] == "payments"  # not ours: not drift
    entries = wl.get(kube, ns, NAME)["status"]["drift"]
    assert not any("team.example" in e["field"] for e in entries)


def test_a_heal_writes_once(kube: Kube, enforced: str) -> None:
    """The heal is one write to the child; the operator's other writes are status and Event."""
    if not kube.local:
        pytest.skip("counts writes in the local API server's audit log")
    ns = enforced
    audit = kube.kubeconfig.parent / "audit" / "audit.log"
    mark = audit.stat().st_size
    kube.kubectl("scale", f"deployment/{NAME}", "--replicas=1", "-n", ns)
    eventually(lambda: _deployment(kube, ns).spec.replicas == 3, 30, "healed")
    time.sleep(2)  # let any (wrong) follow-up writes happen
    with audit.open() as log:
        log.seek(mark)
        writes = [json.loads(line) for line in log]
    by_operator = [  # writes that changed something (a refused 409 changes nothing)
        (w["verb"], w["objectRef"].get("resource"), w["objectRef"].get("subresource"))
        for w in writes
        if w.get("userAgent", "").startswith("fwop/")
        and w["objectRef"].get("namespace") == ns
        and w.get("responseStatus", {}).get("code", 200) < 400
    ]
    child_writes = [w for w in by_operator if w[1] == "deployments"]
    assert child_writes == [("update", "deployments", None)], by_operator  # one PUT
    assert set(by_operator) <= {
        ("update", "deployments", None),
        ("patch", "financialworkloads", "status"),
        ("create", "events", None),
    }, by_operator
