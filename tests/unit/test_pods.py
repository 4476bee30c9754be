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


def pod_body() -> dict[str, Any]:
    """A pod as its ReplicaSet made it, as the API server returns it."""
    return {
        "metadata": {
            "name": "app-5d9-x", "namespace": "team", "uid": "p1", "resourceVersion": "3",
            "labels": {**LABELS, "pod-template-hash": "5d9"}, "ownerReferences": RS,
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                               "fieldsV1": {"f:metadata": {"f:labels": {
                                   "f:pod-template-hash": {}, "f:app.kubernetes.io/name": {}}}}}],
        },
        "spec": {"containers": [{"name": "app", "image": "r/a@sha256:1"}]},
    }  # fmt: skip


def pod(**changes: Any) -> dict[str, Any]:
    body = pod_body()
    for key, value in changes.items():
        body[key] = value
    return store.slim_pod(body)


def fields_of(found: list[Any]) -> list[str]:
    return [f.field for f in found]


def test_a_pod_as_its_replicaset_made_it_is_not_drift() -> None:
    assert pods.judge(TEMPLATE, pod(), images_from=TEMPLATE, healed=True) == []


def test_an_ephemeral_container_is_drift() -> None:
    tampered = pod()
    tampered["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox"}]
    [found] = pods.judge(TEMPLATE, tampered, TEMPLATE, True)
    assert found.field == "spec.ephemeralContainers[name=debugger]"


def test_a_pod_relabelled_out_of_its_replicaset_is_drift() -> None:
    escaped = pod()
    del escaped["metadata"]["labels"]["finance.compliance.dev/workload"]
    escaped["metadata"]["ownerReferences"] = []
    assert fields_of(pods.judge(TEMPLATE, escaped, TEMPLATE, True)) == [
        "metadata.labels.finance.compliance.dev/workload",
        "metadata.ownerReferences",
    ]


def test_a_label_added_later_by_someone_else_is_drift_one_set_at_creation_is_not() -> None:
    body = pod()
    body["metadata"]["labels"]["role"] = "frontend"
    body["metadata"]["labelManagers"]["role"] = ["kubectl-label"]
    assert fields_of(pods.judge(TEMPLATE, body, TEMPLATE, True)) == ["metadata.labels.role"]
    body["metadata"]["labelManagers"]["role"] = ["kube-controller-manager"]
    assert pods.judge(TEMPLATE, body, TEMPLATE, True) == []


def test_images_count_only_once_the_rollout_settled() -> None:
    swapped = copy.deepcopy(pod())
    swapped["spec"]["containers"][0]["image"] = "r/b@sha256:2"
    assert pods.judge(TEMPLATE, swapped, images_from=None, healed=True) == []
    [found] = pods.judge(TEMPLATE, swapped, images_from=TEMPLATE, healed=True)
    assert found.field == "spec.containers[name=app].image"


def test_a_terminating_pod_is_left_alone() -> None:
    leaving = pod()
    leaving["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    leaving["spec"]["ephemeralContainers"] = [{"name": "x", "image": "y"}]
    assert pods.judge(TEMPLATE, leaving, TEMPLATE, True) == []


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


# A run of a CronJob: the Job (its template cannot change) and a pod it made.
CRON = {"kind": "CronJob", "name": "nightly", "uid": "c1", "controller": True}


def job(name: str = "nightly-29001", image: str = "r/a@sha256:1", **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "team", "uid": f"j-{name}",
                     "labels": LABELS, "ownerReferences": [CRON], **meta},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}},
        "status": {"active": 1},
    }  # fmt: skip


def run_pod(of: dict[str, Any], image: str) -> dict[str, Any]:
    ref = {"kind": "Job", "name": of["metadata"]["name"], "uid": of["metadata"]["uid"],
           "controller": True}  # fmt: skip
    return pod(spec={"containers": [{"name": "app", "image": image}]}) | {
        "metadata": {**pod()["metadata"], "ownerReferences": [ref]}
    }


def test_a_run_s_pod_is_compared_with_its_own_job_not_the_newer_cronjob() -> None:
    older = job(image="r/a@sha256:old")
    running = run_pod(older, "r/a@sha256:old")
    assert store.job_reference(running) == (older["metadata"]["name"], older["metadata"]["uid"])
    template = store.slim_job(older)["spec"]["template"]
    # The CronJob's template (TEMPLATE) moved on to sha256:1 since the run started.
    assert pods.judge(TEMPLATE, running, template, True) == []
    swapped = run_pod(older, "r/evil@sha256:9")
    [found] = pods.judge(TEMPLATE, swapped, template, True)
    assert (found.field, found.expected, found.actual) == (
        "spec.containers[name=app].image",
        "r/a@sha256:old",
        "r/evil@sha256:9",
    )


def test_a_replicaset_pod_names_no_job() -> None:
    assert store.job_reference(pod()) is None


def test_a_job_keeps_only_what_pod_drift_reads_and_no_more_than_bounded() -> None:
    assert store.slim_job(job()) == {
        "metadata": {"uid": "j-nightly-29001",
                     "controller": {"kind": "CronJob", "name": "nightly", "uid": "c1"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "r/a@sha256:1"}],
                                       "initContainers": []}}},
    }  # fmt: skip
    huge = job(image="r/" + "a" * 1_000_000)
    huge["spec"]["template"]["spec"]["containers"] *= 1000
    slim = store.slim_job(huge)["spec"]["template"]["spec"]["containers"]
    assert len(slim) == store.POD_CONTAINERS
    assert {len(c["image"]) for c in slim} == {store.POD_IMAGE_CHARS}


def test_a_pod_made_large_is_kept_bounded_and_its_extra_labels_are_drift() -> None:
    labels = {**LABELS, "pod-template-hash": "5d9", **{f"x{i:03}": "y" for i in range(500)}}
    containers = [{"name": f"c{i}", "image": "r/" + "a" * 100_000} for i in range(100)]
    slim = pod(spec={"containers": containers})
    big = store.slim_pod({**pod_body(), "metadata": {**pod_body()["metadata"], "labels": labels},
                          "spec": {"containers": containers}})  # fmt: skip
    assert len(big["metadata"]["labels"]) == store.POD_LABELS
    assert big["metadata"]["labelsDropped"] == len(labels) - store.POD_LABELS
    assert len(big["spec"]["containers"]) == store.POD_CONTAINERS
    assert max(len(c["image"]) for c in big["spec"]["containers"]) == store.POD_IMAGE_CHARS
    assert "metadata.labels" in fields_of(pods.judge(TEMPLATE, big, None, True))
    assert len(slim["spec"]["containers"]) == store.POD_CONTAINERS


def test_pods_labelled_as_no_workload_are_not_kept_once_workloads_are_listed() -> None:
    st = store.Store()
    body = pod_body()
    assert st.pod_seen(body, deleted=False) is None  # before the list: kept, for later
    assert len(st.pods) == 1
    st.workloads_listed()  # no workload "app" in team
    assert st.pods == {}
    assert st.pod_seen(body, deleted=False) is None
    assert st.pods == {}
    st.workload_seen({"metadata": {"name": "app", "namespace": "team", "uid": "w1",
                                   "resourceVersion": "1"}, "spec": {}}, deleted=False)  # fmt: skip
    assert st.pod_seen(body, deleted=False) == ("team", "app")
    assert st.pods_of("w1")
