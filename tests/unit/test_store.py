"""The one store: routing by owner uid, newest version wins, tampers cannot hide a child."""

from __future__ import annotations

from typing import Any

from fwop import store

UID = "w-uid"
OWNER = {
    "apiVersion": "finance.compliance.dev/v1alpha1",
    "kind": "FinancialWorkload",
    "uid": UID,
    "controller": True,
}


def workload() -> dict[str, Any]:
    return {"metadata": {"namespace": "team", "name": "app", "uid": UID, "resourceVersion": "1"}}


def child(rv: str = "5", owned: bool = True, labels: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": "team", "name": "app", "uid": "c1", "resourceVersion": rv}
    if owned:
        meta["ownerReferences"] = [OWNER]
    if labels:
        meta["labels"] = {"finance.compliance.dev/workload": "app"}
    return {"kind": "Deployment", "metadata": meta}


def test_children_are_routed_by_owner_uid_not_by_label() -> None:
    live = store.Store()
    live.workload_seen(workload(), deleted=False)
    assert live.child_seen(child(labels=False), deleted=False) == ("team", "app")
    assert [k for k, _ in live.owned(UID)] == [("Deployment", "team", "app")]


def test_a_child_stripped_of_its_owner_reference_stays_routed_and_ours() -> None:
    live = store.Store()
    live.workload_seen(workload(), deleted=False)
    live.child_seen(child(), deleted=False)
    stripped = child(rv="6", owned=False, labels=False)
    assert live.child_seen(stripped, deleted=False) == ("team", "app")
    assert live.ours(("Deployment", "team", "app"), stripped, UID)


def test_objects_nobody_owns_are_not_kept() -> None:
    live = store.Store()
    assert live.child_seen(child(owned=False), deleted=False) is None
    assert live.children == {}


def test_the_newest_version_wins_over_a_late_event() -> None:
    live = store.Store()
    live.workload_seen(workload(), deleted=False)
    live.written(child(rv="9"), UID)
    live.child_seen(child(rv="7"), deleted=False)
    assert live.children[("Deployment", "team", "app")]["metadata"]["resourceVersion"] == "9"


def test_a_deleted_workload_takes_its_children_out_of_the_store() -> None:
    live = store.Store()
    live.workload_seen(workload(), deleted=False)
    live.child_seen(child(), deleted=False)
    live.workload_seen(workload(), deleted=True)
    live.drop_workload_children(UID)
    assert live.children == {}
    assert live.key_of(UID) is None


def pod(labels: bool = True, rv: str = "7") -> dict[str, Any]:
    meta: dict[str, Any] = {
        "namespace": "team",
        "name": "app-x1",
        "uid": "p1",
        "resourceVersion": rv,
    }
    if labels:
        meta["labels"] = {
            "app.kubernetes.io/managed-by": "fwop",
            "finance.compliance.dev/workload": "app",
        }
    return {
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [{"name": "app", "image": "i"}]},
    }


def test_a_pod_listed_before_its_workload_is_kept_for_it() -> None:
    live = store.Store()
    assert live.pod_seen(pod(), deleted=False) is None  # no workload to queue yet
    live.workload_seen(workload(), deleted=False)
    assert [p["metadata"]["name"] for p in live.pods_of(UID)] == ["app-x1"]


def test_a_pod_stripped_of_its_labels_stays_its_workloads() -> None:
    live = store.Store()
    live.workload_seen(workload(), deleted=False)
    assert live.pod_seen(pod(), deleted=False) == ("team", "app")
    assert live.pod_seen(pod(labels=False, rv="8"), deleted=False) == ("team", "app")
    assert [p["metadata"]["name"] for p in live.pods_of(UID)] == ["app-x1"]
    gone = pod(rv="9")
    gone["metadata"]["deletionTimestamp"] = "2026-12-02T00:00:00Z"  # a deletion, not a relabel
    live.pod_seen(gone, deleted=True)
    assert live.pods_of(UID) == []
