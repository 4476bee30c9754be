"""The pure planner and its field rules: every step decided without a cluster."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fwop import store
from fwop.reconcile import fields, plan

UID = "w-uid"
LABELS = {"app.kubernetes.io/name": "app", "app.kubernetes.io/managed-by": "fwop"}
OWNER = [{"apiVersion": "finance.compliance.dev/v1alpha1", "kind": "FinancialWorkload",
          "name": "app", "uid": UID, "controller": True}]  # fmt: skip


def desired() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "team", "labels": dict(LABELS),
                     "ownerReferences": copy.deepcopy(OWNER)},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [
                {"name": "app", "image": "r/a@sha256:1",
                 "resources": {"limits": {"cpu": "1000m"}}}]}},
        },
    }  # fmt: skip


def live(**changes: Any) -> dict[str, Any]:
    """What the server returns for the rendering: defaults added, quantities canonical."""
    obj = desired()
    obj["metadata"].update(uid="c-uid", resourceVersion="10", generation=1)
    obj["metadata"]["managedFields"] = [
        {"manager": "fwop", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:status": {"f:replicas": {}}}},
    ]  # fmt: skip
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["cpu"] = "1"
    container["terminationMessagePath"] = "/dev/termination-log"  # a server default
    obj["spec"]["strategy"] = {"type": "RollingUpdate"}
    obj["status"] = {"replicas": 2}
    if changes:  # every change makes a new version (the server's promise the memo relies on)
        obj["metadata"]["resourceVersion"] = str(11 + len(repr(sorted(changes.items()))))
    for path, value in changes.items():
        node = obj
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return obj


CTX = plan.Context(owner=UID, steady=True, enforce=True)


def reference_for(obj: dict[str, Any], ctx: plan.Context = CTX) -> store.Reference:
    exc = plan.exceptions(desired(), ctx)
    return store.Reference(
        object_uid="c-uid",
        desired=fields.desired_digest(desired()),
        digest=fields.digest(fields.normalize(obj, exc)),
    )


def child(obj: dict[str, Any] | None, ref: store.Reference | None = None) -> plan.Child:
    return plan.Child(desired(), obj, ours=True, reference=ref)


def test_first_sight_of_what_the_operator_wrote_is_adopted() -> None:
    decided = plan.step(child(live()), CTX)
    assert decided.action is plan.Action.KEEP
    assert decided.adopt == reference_for(live()).digest


def test_equal_to_the_reference_is_kept_whatever_happens_to_status_or_foreign_labels() -> None:
    ref = reference_for(live())
    moved = live(**{"status.replicas": 1, "metadata.resourceVersion": "99"})
    moved["metadata"]["labels"]["team"] = "payments"  # object-level, selects nothing
    moved["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    assert plan.step(child(moved, ref), CTX).action is plan.Action.KEEP


@pytest.mark.parametrize(
    "tamper",
    [
        {"spec.template.spec.hostNetwork": True},
        {"spec.template.spec.tolerations": [{"operator": "Exists"}]},
        {"spec.template.metadata.labels": {"role": "frontend"}},
        {"spec.strategy": {"type": "Recreate"}},
        {"spec.replicas": 1},
    ],
)
def test_any_other_change_is_drift_healed_by_one_replacement(tamper: dict[str, Any]) -> None:
    ref = reference_for(live())
    decided = plan.step(child(live(**tamper), ref), CTX)
    assert decided.action is plan.Action.REPLACE
    assert decided.why is plan.Why.HEAL


def test_a_forged_field_manager_does_not_hide_a_change_once_a_reference_exists() -> None:
    ref = reference_for(live())
    forged = live(**{"spec.template.spec.hostPID": True})  # written "as fwop"
    assert plan.step(child(forged, ref), CTX).action is plan.Action.REPLACE


def test_first_sight_with_a_foreign_manager_outside_the_exceptions_is_replaced() -> None:
    obj = live(**{"spec.template.spec.hostIPC": True})
    obj["metadata"]["managedFields"].append(
        {"manager": "kubectl-patch", "operation": "Update",
         "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:hostIPC": {}}}}}}
    )  # fmt: skip
    assert plan.step(child(obj), CTX).action is plan.Action.REPLACE


def test_replicas_of_an_autoscaler_are_not_drift_when_declared() -> None:
    ctx = plan.Context(owner=UID, steady=True, enforce=True, replicas_elsewhere=True)
    ref = reference_for(live(), ctx)
    assert plan.step(child(live(**{"spec.replicas": 7}), ref), ctx).action is plan.Action.KEEP


def test_a_new_generation_is_an_update_not_drift() -> None:
    ctx = plan.Context(owner=UID, steady=False, enforce=True)
    decided = plan.step(child(live(**{"spec.replicas": 1}), reference_for(live())), ctx)
    assert (decided.action, decided.why) == (plan.Action.REPLACE, plan.Why.UPDATE)


def test_missing_children_are_created_or_recreated_or_reported() -> None:
    assert plan.step(child(None), plan.Context(UID, False, True)).why is plan.Why.CREATE
    healed = plan.step(child(None), CTX)
    assert (healed.action, healed.why) == (plan.Action.CREATE, plan.Why.HEAL)
    assert healed.findings[0].field == "(object)"
    audit = plan.step(child(None), plan.Context(UID, True, False))
    assert audit.action is plan.Action.REPORT


def test_audit_mode_asks_for_the_expected_object_then_reports_exact_fields() -> None:
    ctx = plan.Context(owner=UID, steady=True, enforce=False)
    tampered = live(**{"spec.template.spec.hostNetwork": True})
    first = plan.step(child(tampered, reference_for(live(), ctx)), ctx)
    assert first.action is plan.Action.CHECK
    expected = fields.normalize(live(), plan.exceptions(desired(), ctx))
    checked = plan.Child(desired(), tampered, True, reference_for(live(), ctx), expected)
    second = plan.step(checked, ctx)
    assert second.action is plan.Action.REPORT
    assert [f.field for f in second.findings] == ["spec.template.spec.hostNetwork"]
    assert second.findings[0].expected == "absent"


def test_someone_elses_object_is_a_conflict_never_a_write() -> None:
    foreign = live()
    foreign["metadata"]["ownerReferences"] = []
    decided = plan.step(plan.Child(desired(), foreign, ours=False), CTX)
    assert decided.action is plan.Action.CONFLICT
    assert "owner: no controller" in decided.message
    assert "(OWN-1)" in decided.message


def test_prune_deletes_only_this_workloads_own_children() -> None:
    mine = live()
    mine["kind"], mine["metadata"]["name"] = "Role", "app"
    other = copy.deepcopy(mine)
    other["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    owned = [(("Role", "team", "app"), mine), (("Role", "team", "x"), other)]
    [gone] = plan.prune([desired()], owned, UID)
    assert (gone.kind, gone.name, gone.uid) == ("Role", "app", "c-uid")


def test_the_replacement_carries_only_the_documented_fields() -> None:
    obj = live(**{"spec.template.spec.hostNetwork": True, "spec.replicas": 9})
    obj["metadata"]["labels"]["team"] = "payments"
    obj["spec"]["template"].setdefault("metadata", {})["annotations"] = {
        "kubectl.kubernetes.io/restartedAt": "now"
    }
    ctx = plan.Context(owner=UID, steady=True, enforce=True, replicas_elsewhere=True)
    body = fields.replacement(desired(), obj, plan.exceptions(desired(), ctx))
    assert "hostNetwork" not in body["spec"]["template"]["spec"]
    assert body["spec"]["replicas"] == 9  # the autoscaler's
    assert body["metadata"]["labels"]["team"] == "payments"  # selects nothing
    assert body["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    restarted = body["spec"]["template"]["metadata"]["annotations"]
    assert restarted == {"kubectl.kubernetes.io/restartedAt": "now"}


def test_differences_name_added_changed_and_removed_list_items() -> None:
    before = {"spec": {"containers": [{"name": "app", "image": "a"}]}}
    after = {"spec": {"containers": [{"name": "app", "image": "b"}, {"name": "side"}]}}
    found = {d.path: (d.expected, d.actual) for d in fields.differences(before, after)}
    assert found == {
        "spec.containers[name=app].image": ("a", "b"),
        "spec.containers[name=side]": (None, {"name": "side"}),
    }


def test_the_autoscalers_manager_may_hold_the_replicas_it_was_handed() -> None:
    obj = live()
    obj["metadata"]["managedFields"] = [
        {"manager": "kube-controller-manager", "operation": "Update", "subresource": "scale",
         "fieldsV1": {"f:spec": {"f:replicas": {}}}},
    ]  # fmt: skip
    handed = plan.exceptions(desired(), plan.Context(UID, True, True, replicas_elsewhere=True))
    assert fields.foreign_fields(obj, handed) == []
    kept = plan.exceptions(desired(), plan.Context(UID, True, True))
    assert fields.foreign_fields(obj, kept) == ["spec.replicas"]
