"""spec.podMetadata, spec.placement and spec.shutdown on a real API server: the pods carry
the team's labels and annotations, run on the declared pool with its toleration, priority
and runtime class, stop gracefully; a tamper of any of it is healed; PLC-1 passes in the
PolicyReport; the CRD refuses reserved keys and the system priority classes."""

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
PRIORITY = "fwop-test-payments"
RUNTIME = "fwop-test-sandbox"
TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "payments", "effect": "NoSchedule"}
PLACED = {
    "podMetadata": {"labels": {"team": "payments", "data-class": "confidential"},
                    "annotations": {"prometheus.io/scrape": "true"}},
    "placement": {"nodeSelector": {"kubernetes.io/os": "linux"}, "tolerations": [TOLERATION],
                  "priorityClassName": PRIORITY, "runtimeClassName": RUNTIME},
    "shutdown": {"terminationGracePeriodSeconds": 45, "preStop": {"sleepSeconds": 5}},
}  # fmt: skip


@pytest.fixture(scope="module")
def classes(kube: Kube) -> Iterator[None]:
    """The PriorityClass and RuntimeClass a platform team would provide."""
    scheduling = client.SchedulingV1Api(kube.api)
    node = client.NodeV1Api(kube.api)
    scheduling.create_priority_class(
        client.V1PriorityClass(metadata=client.V1ObjectMeta(name=PRIORITY), value=1000)
    )
    node.create_runtime_class(
        client.V1RuntimeClass(metadata=client.V1ObjectMeta(name=RUNTIME), handler="runc")
    )
    yield
    scheduling.delete_priority_class(PRIORITY)
    node.delete_runtime_class(RUNTIME)


@pytest.fixture
def placed(kube: Kube, operator: Operator, classes: None) -> Iterator[tuple[str, dict[str, Any]]]:
    ns = f"p-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(**PLACED)))
    yield ns, wl.wait_ready(kube, ns, NAME)
    core.delete_namespace(ns)


def test_the_pods_carry_what_was_declared_and_a_tamper_is_healed(
    kube: Kube, placed: tuple[str, dict[str, Any]]
) -> None:
    ns, obj = placed
    apps = client.AppsV1Api(kube.api)
    template = apps.read_namespaced_deployment(NAME, ns).spec.template
    assert {"team": "payments", "data-class": "confidential"}.items() <= (
        template.metadata.labels.items()
    )
    assert template.metadata.annotations == {"prometheus.io/scrape": "true"}
    spec = template.spec
    assert spec.node_selector == {"kubernetes.io/os": "linux"}
    assert [t.key for t in spec.tolerations] == ["dedicated"]
    assert (spec.priority_class_name, spec.runtime_class_name) == (PRIORITY, RUNTIME)
    assert spec.termination_grace_period_seconds == 45
    assert spec.containers[0].lifecycle.pre_stop.sleep.seconds == 5
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(ns, label_selector=f"{wl.LABEL}={NAME}")
    assert pods.items
    assert all(p.spec.priority == 1000 for p in pods.items)  # the PriorityClass applied

    # The PolicyReport follows Ready by a verdict pass of its own.
    report = eventually(lambda: wl.policy_report(kube, ns, obj["metadata"]["uid"]), 60, "report")
    plc = next(r for r in report["results"] if r["rule"] == "PLC-1")
    assert plc["result"] == "pass", plc["message"]

    everything = {"operator": "Exists"}
    ops = [{"op": "add", "path": "/spec/template/spec/tolerations/-", "value": everything},
           {"op": "remove", "path": "/spec/template/spec/nodeSelector"}]  # fmt: skip
    kube.kubectl(
        "patch", "deployment", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops), *wl.AS_TRUSTED
    )

    def healed() -> bool | None:
        live = apps.read_namespaced_deployment(NAME, ns).spec.template.spec
        return (len(live.tolerations) == 1 and live.node_selector is not None) or None

    eventually(healed, 30, "placement healed")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"podMetadata": {"labels": {"app.kubernetes.io/name": "gateway"}}},
         "spec.podMetadata.labels: keys under finance.compliance.dev/ or containing"),
        ({"podMetadata": {"annotations": {"sidecar.istio.io/inject": "false"}}},
         "a service mesh's (sidecar.istio.io/, linkerd.io/) are reserved"),
        ({"placement": {"priorityClassName": "system-node-critical"}},
         "the system-* classes are the cluster's own"),
        ({"placement": {"tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                         "operator": "Exists"}]}},
         "never one of Kubernetes' own"),
    ],
    ids=["reserved-label", "mesh-opt-out", "system-priority", "control-plane-toleration"],
)  # fmt: skip
def test_the_api_server_refuses_reserved_placement(
    kube: Kube, namespace: str, fields: dict[str, Any], message: str
) -> None:
    done = wl.apply(kube, wl.manifest("bad", namespace, wl.spec(**fields)), check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr
