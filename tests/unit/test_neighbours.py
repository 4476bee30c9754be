"""Objects written beside a namespace before its workload (the tenant guard judges writes
against the workloads that exist then): admission refuses a workload they would widen."""

from __future__ import annotations

from typing import Any

import pytest

from fwop.admission import neighbours

OURS = [{"apiVersion": "finance.compliance.dev/v1alpha1", "kind": "FinancialWorkload",
         "name": "other", "uid": "u", "controller": True}]  # fmt: skip


def policy(spec: dict[str, Any], owners: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "p", "ownerReferences": owners or []}, "spec": spec}


def binding(subject: dict[str, str], owners: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": "b", "ownerReferences": owners or []}, "subjects": [subject]}


LEAVE_OUT = {"matchExpressions": [{"key": neighbours.WORKLOAD_LABEL, "operator": "DoesNotExist"}]}


@pytest.mark.parametrize(
    ("spec", "opens"),
    [({"podSelector": {}, "ingress": [{}]}, True),
     ({"podSelector": {"matchLabels": {"app": "x"}}, "egress": [{"to": [{}]}]}, True),
     ({"podSelector": {}, "ingress": [], "egress": []}, False),
     ({"podSelector": LEAVE_OUT, "ingress": [{}]}, False)],
    ids=["allow-all", "by-team-label", "deny-only", "leaves-workloads-out"],
)  # fmt: skip
def test_a_policy_that_could_open_the_workloads_is_named(spec: dict[str, Any], opens: bool) -> None:
    found = list(neighbours.problems("api", "pay", [policy(spec)], []))
    assert bool(found) is opens
    if opens:
        assert found[0].control == "NET-1"
        assert "NetworkPolicy p in namespace pay" in found[0].message
    assert list(neighbours.problems("api", "pay", [policy(spec, OURS)], [])) == []


@pytest.mark.parametrize(
    ("subject", "names"),
    [({"kind": "ServiceAccount", "name": "api"}, True),
     ({"kind": "ServiceAccount", "name": "api", "namespace": "other"}, False),
     ({"kind": "ServiceAccount", "name": "db"}, False),
     ({"kind": "User", "name": "system:serviceaccount:pay:api"}, True),
     ({"kind": "Group", "name": "system:serviceaccounts:pay"}, True),
     ({"kind": "Group", "name": "system:authenticated"}, True),
     ({"kind": "User", "name": "alice"}, False)],
    ids=["account", "elsewhere", "another", "user", "namespace-group", "everyone", "a-person"],
)  # fmt: skip
def test_a_binding_that_holds_the_account_is_named(subject: dict[str, str], names: bool) -> None:
    found = list(neighbours.problems("api", "pay", [], [binding(subject)]))
    assert bool(found) is names
    if names:
        assert found[0].control == "RBAC-2"
    assert list(neighbours.problems("api", "pay", [], [binding(subject, OURS)])) == []
