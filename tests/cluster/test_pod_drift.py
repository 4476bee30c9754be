"""Pod drift on a real cluster: changes to a running pod that bypass the Deployment.

An ephemeral debug container, a pod relabelled out of its ReplicaSet and NetworkPolicies,
a label someone adds for another selector, an image swapped in place: under enforce the pod
is deleted (its ReplicaSet replaces it from the template) and the drift recorded; under
audit the pod stays and the drift is reported. Also: a rollout that cannot progress says
so (Ready=False with the cause, Stalled=True).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import agree, eventually

pytestmark = pytest.mark.cluster

NAME = "podd"
DIGEST = "sha256:" + "0123456789abcdef" * 4
RESTRICTED = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _namespace(kube: Kube, enforcement: str) -> str:
    ns = f"pd-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(kube.api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
    )
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(enforcement=enforcement, replicas=2)))
    wl.wait_ready(kube, ns, NAME)
    return ns


@pytest.fixture(scope="module")
def enforced(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = _namespace(kube, "enforce")
    yield ns
    client.CoreV1Api(kube.api).delete_namespace(ns)


@pytest.fixture(scope="module")
def audited(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = _namespace(kube, "audit")
    yield ns
    client.CoreV1Api(kube.api).delete_namespace(ns)


def a_pod(kube: Kube, ns: str) -> str:
    """A running pod of the workload (from its current template)."""

    def running() -> str | None:
        pods = client.CoreV1Api(kube.api).list_namespaced_pod(
            ns, label_selector=f"{wl.LABEL}={NAME}"
        )
        ok = [
            p
            for p in pods.items
            if p.status.phase == "Running" and not p.metadata.deletion_timestamp
        ]
        return ok[0].metadata.name if ok else None

    return eventually(running, 60, "a running pod")


# The tenant guard refuses any change of a workload's pod but by the controllers that make
# them (tests/cluster/test_tenant_guard.py); drift is what such an identity, or a change
# made before the guard, leaves. The tampers act as kube-controller-manager (with the
# admin's rights: its own roles hold no pod update).
AS_CONTROLLER = ("--as=system:kube-controller-manager", "--as-group=system:masters")


def _patch(kube: Kube, ns: str, pod: str, ops: list[dict[str, Any]], *extra: str) -> None:
    kube.kubectl(
        "patch", "pod", pod, "-n", ns, "--type=json", "-p", json.dumps(ops), *extra,
        *AS_CONTROLLER,
    )  # fmt: skip


def debug_container(kube: Kube, ns: str, pod: str) -> None:
    container = {"name": "debugger", "image": f"registry.bank.example/tools/debug@{DIGEST}",
                 "securityContext": RESTRICTED, "targetContainerName": "app"}  # fmt: skip
    ops = [{"op": "add", "path": "/spec/ephemeralContainers", "value": [container]}]
    # A subresource the tenant guard does not judge: any user with the right may do this.
    kube.kubectl("patch", "pod", pod, "-n", ns, "--type=json", "-p", json.dumps(ops),
                 "--subresource=ephemeralcontainers")  # fmt: skip


def escape(kube: Kube, ns: str, pod: str) -> None:
    _patch(
        kube,
        ns,
        pod,
        [{"op": "remove", "path": "/metadata/labels/finance.compliance.dev~1workload"}],
    )


def extra_label(kube: Kube, ns: str, pod: str) -> None:
    kube.kubectl("label", "pod", pod, "-n", ns, "role=frontend", *AS_CONTROLLER)


def swap_image(kube: Kube, ns: str, pod: str) -> None:
    image = f"app=registry.bank.example/team/other@{DIGEST}"
    ops = [{"op": "replace", "path": "/spec/containers/0/image", "value": image.split("=")[1]}]
    _patch(kube, ns, pod, ops)


TAMPERS: list[tuple[str, Callable[[Kube, str, str], None], str]] = [
    ("ephemeral-container", debug_container, "spec.ephemeralContainers[name=debugger]"),
    ("relabelled-out", escape, "metadata.labels.finance.compliance.dev/workload"),
    ("extra-label", extra_label, "metadata.labels.role"),
    ("image-in-place", swap_image, "spec.containers[name=app].image"),
]


def _entry(kube: Kube, ns: str, field: str, healed: bool) -> dict[str, Any] | None:
    for entry in wl.get(kube, ns, NAME).get("status", {}).get("drift", []):
        if entry["kind"] == "Pod" and entry["field"] == field and ("healedAt" in entry) == healed:
            return dict(entry)
    return None


@pytest.mark.parametrize(("case", "tamper", "field"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_enforce_replaces_a_tampered_pod(
    kube: Kube, enforced: str, case: str, tamper: Callable[[Kube, str, str], None], field: str
) -> None:
    ns = enforced
    wl.wait_ready(kube, ns, NAME)
    pod = a_pod(kube, ns)
    uid = wl.pod_uid(kube, ns, pod)
    tamper(kube, ns, pod)
    eventually(lambda: wl.pod_uid(kube, ns, pod) != uid, 30, f"{case}: the pod replaced")
    entry = eventually(lambda: _entry(kube, ns, field, healed=True), 15, "drift entry")
    assert entry["name"] == pod
    wl.wait_ready(kube, ns, NAME)  # the ReplicaSet made a clean one


def test_audit_reports_a_tampered_pod_and_leaves_it(kube: Kube, audited: str) -> None:
    ns = audited
    pod = a_pod(kube, ns)
    uid = wl.pod_uid(kube, ns, pod)
    extra_label(kube, ns, pod)
    entry = eventually(
        lambda: _entry(kube, ns, "metadata.labels.role", healed=False), 30, "reported"
    )
    assert entry["actual"] == "frontend"
    assert wl.pod_uid(kube, ns, pod) == uid


def test_a_rollout_that_cannot_progress_says_why(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    """Pods refused by admission (here a quota of zero pods): Ready=False and Stalled=True."""
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "no-pods", "namespace": namespace},
        "spec": {"hard": {"pods": "0"}},
    }
    kube.kubectl("apply", "-f", "-", stdin=json.dumps(quota))
    wl.apply(kube, wl.manifest("stuck", namespace, wl.spec()))

    def stalled() -> dict[str, Any] | None:
        # The first refusal may name another admission error (the ServiceAccount admission
        # plugin can lag the just-created account); the ReplicaSet retries and the message
        # follows its latest refusal.
        obj = wl.get(kube, namespace, "stuck")
        found = wl.condition(obj, "Stalled")
        ready = wl.condition(obj, "Ready")
        quota = ready is not None and "exceeded quota" in ready.get("message", "")
        return obj if found and found["status"] == "True" and quota else None

    obj = eventually(stalled, 90, "Stalled=True, Ready naming the quota")
    ready = wl.condition(obj, "Ready")
    assert ready["status"] == "False"
    assert ready["reason"] == "ReplicaFailure"
    assert "exceeded quota" in ready["message"]
    status, message = agree(obj)  # Argo CD's view of the same object, and Flux's
    assert status == "Degraded", message
    assert "exceeded quota" in message
