"""Pod drift, judged without a cluster: what a running pod may and may not differ in."""

from __future__ import annotations

import copy
from typing import Any

from fwop import store
from fwop.reconcile import pods

LABELS = {"app.kubernetes.io/name": "app", "app.kubernetes.io/managed-by": "fwop",
          "finance.compliance.dev/workload": "app"}  # fmt: skip
TEMPLATE = {"metadata": {"labels": LABELS},
            "spec": {"containers": [{"name": "app", "image": "r/a@sha256:1"}]}}  # fmt: skip
RS = [{"kind": "ReplicaSet", "name": "app-5d9", "controller": True}]


def pod(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metadata": {
            "name": "app-5d9-x", "namespace": "team", "uid": "p1", "resourceVersion": "3",
            "labels": {**LABELS, "pod-template-hash": "5d9"}, "ownerReferences": RS,
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                               "fieldsV1": {"f:metadata": {"f:labels": {
                                   "f:pod-template-hash": {}, "f:app.kubernetes.io/name": {}}}}}],
        },
        "spec": {"containers": [{"name": "app", "image": "r/a@sha256:1"}]},
    }  # fmt: skip
    for key, value in changes.items():
        body[key] = value
    return store.slim_pod(body)


def fields_of(found: list[Any]) -> list[str]:
    return [f.field for f in found]


def test_a_pod_as_its_replicaset_made_it_is_not_drift() -> None:
    assert pods.judge(TEMPLATE, pod(), images_settled=True, healed=True) == []


def test_an_ephemeral_container_is_drift() -> None:
    tampered = pod()
    tampered["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox"}]
    [found] = pods.judge(TEMPLATE, tampered, True, True)
    assert found.field == "spec.ephemeralContainers[name=debugger]"


def test_a_pod_relabelled_out_of_its_replicaset_is_drift() -> None:
    escaped = pod()
    del escaped["metadata"]["labels"]["finance.compliance.dev/workload"]
    escaped["metadata"]["ownerReferences"] = []
    assert fields_of(pods.judge(TEMPLATE, escaped, True, True)) == [
        "metadata.labels.finance.compliance.dev/workload",
        "metadata.ownerReferences",
    ]


def test_a_label_added_later_by_someone_else_is_drift_one_set_at_creation_is_not() -> None:
    body = pod()
    body["metadata"]["labels"]["role"] = "frontend"
    body["metadata"]["labelManagers"]["role"] = ["kubectl-label"]
    assert fields_of(pods.judge(TEMPLATE, body, True, True)) == ["metadata.labels.role"]
    body["metadata"]["labelManagers"]["role"] = ["kube-controller-manager"]
    assert pods.judge(TEMPLATE, body, True, True) == []


def test_images_count_only_once_the_rollout_settled() -> None:
    swapped = copy.deepcopy(pod())
    swapped["spec"]["containers"][0]["image"] = "r/b@sha256:2"
    assert pods.judge(TEMPLATE, swapped, images_settled=False, healed=True) == []
    [found] = pods.judge(TEMPLATE, swapped, images_settled=True, healed=True)
    assert found.field == "spec.containers[name=app].image"


def test_a_terminating_pod_is_left_alone() -> None:
    leaving = pod()
    leaving["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    leaving["spec"]["ephemeralContainers"] = [{"name": "x", "image": "y"}]
    assert pods.judge(TEMPLATE, leaving, True, True) == []


def test_settled_means_every_pod_from_the_current_template() -> None:
    deployment = {
        "metadata": {"generation": 2},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3},
    }
    assert not pods.settled(deployment)
    deployment["status"]["replicas"] = 2
    assert pods.settled(deployment)
    assert not pods.settled(None)
