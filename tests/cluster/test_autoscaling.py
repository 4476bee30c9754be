"""spec.autoscaling and spec.rollout on a real API server: the workload's HPA, a Deployment
that starts at the autoscaler's minimum, replicas the autoscaler sets that are not drift, a
tampered HPA healed, the HPA pruned when autoscaling goes, and the CEL rules refusing a pci
autoscaler below 2 and a rollout that can never progress."""

from __future__ import annotations

import json
import time
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
SCALED = {"minReplicas": 2, "maxReplicas": 5, "targetCPUUtilization": 70}


@pytest.fixture
def scaled(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = f"a-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    body = wl.spec(profile="pci", replicas=2, autoscaling=SCALED,
                   rollout={"maxSurge": 1, "maxUnavailable": 0})  # fmt: skip
    wl.apply(kube, wl.manifest(NAME, ns, body))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


def hpa(kube: Kube, ns: str) -> Any:
    return client.AutoscalingV2Api(kube.api).read_namespaced_horizontal_pod_autoscaler(NAME, ns)


def test_the_autoscaler_owns_the_replicas_and_its_own_object_is_guarded(
    kube: Kube, scaled: str
) -> None:
    ns = scaled
    apps = client.AppsV1Api(kube.api)
    deployment = apps.read_namespaced_deployment(NAME, ns)
    assert deployment.spec.replicas == 2  # created at the minimum, not the server's 1
    assert deployment.spec.strategy.rolling_update.max_surge == 1
    assert deployment.spec.strategy.rolling_update.max_unavailable == 0
    found = hpa(kube, ns)
    assert (found.spec.min_replicas, found.spec.max_replicas) == (2, 5)
    assert found.spec.scale_target_ref.name == NAME
    assert found.metadata.owner_references[0].kind == "FinancialWorkload"

    # What the autoscaler does (through the scale subresource) is not drift.
    kube.kubectl("scale", f"deployment/{NAME}", "--replicas=4", "-n", ns)
    time.sleep(3)
    assert apps.read_namespaced_deployment(NAME, ns).spec.replicas == 4
    status = wl.get(kube, ns, NAME)["status"]
    assert not [d for d in status.get("drift", []) if "replicas" in d["field"]]

    # The HPA itself is the workload's: a tamper is healed.
    patch = [{"op": "replace", "path": "/spec/maxReplicas", "value": 50}]
    kube.kubectl("patch", "hpa", NAME, "-n", ns, "--type=json", "-p", json.dumps(patch))
    eventually(lambda: hpa(kube, ns).spec.max_replicas == 5 or None, 30, "HPA healed")
    assert apps.read_namespaced_deployment(NAME, ns).spec.replicas == 4  # still the autoscaler's


def test_dropping_autoscaling_prunes_the_hpa_and_the_spec_decides_again(
    kube: Kube, scaled: str
) -> None:
    ns = scaled
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(profile="pci", replicas=3)))
    wl.wait_ready(kube, ns, NAME)
    autoscaling = client.AutoscalingV2Api(kube.api)
    eventually(
        lambda: not autoscaling.list_namespaced_horizontal_pod_autoscaler(ns).items or None,
        30, "the HPA pruned",
    )  # fmt: skip
    eventually(
        lambda: client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, ns).spec.replicas
        == 3 or None, 30, "replicas from the spec",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"profile": "pci", "autoscaling": SCALED | {"minReplicas": 1}},
            "spec.autoscaling.minReplicas must be at least 2 under profile pci (AVL-1)",
        ),
        (
            {"autoscaling": {"maxReplicas": 3}},
            "sets targetCPUUtilization, targetMemoryUtilization or both",
        ),
        (
            {"rollout": {"maxSurge": "0%", "maxUnavailable": 0}},
            "maxSurge and maxUnavailable cannot both be 0",
        ),
        ({"autoscaling": SCALED, "externallyManaged": ["replicas"]}, "set one of them"),
    ],
    ids=["pci-min-1", "no-target", "rollout-stuck", "two-owners"],
)
def test_the_api_server_refuses_what_cannot_work(
    kube: Kube, namespace: str, fields: dict[str, Any], message: str
) -> None:
    done = wl.apply(kube, wl.manifest("bad", namespace, wl.spec(**fields)), check=False)
    assert done.returncode != 0
    assert message in done.stderr, done.stderr


def test_a_rollout_by_percentage_is_accepted(kube: Kube, namespace: str) -> None:
    body = wl.spec(rollout={"maxSurge": "0%", "maxUnavailable": "50%"})
    done = wl.apply(kube, wl.manifest("fine", namespace, body), check=False)
    assert done.returncode == 0, done.stderr
