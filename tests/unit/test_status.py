"""Status decisions: conditions, lastTransitionTime, Ready from the Deployment."""

from __future__ import annotations

from typing import Any

import pytest

from fwop.reconcile import conditions, status

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def deployment(
    replicas: int = 2, available: int = 2, generation: int = 3, observed: int = 3
) -> dict:
    return {
        "kind": "Deployment",
        "metadata": {"name": "d", "uid": "u1", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": available,
            "availableReplicas": available,
            "conditions": [{"type": "Available", "status": "True" if available else "False"}],
        },
    }


def test_last_transition_time_moves_only_on_a_status_flip() -> None:
    first = conditions.merge(
        [], [conditions.Condition("Ready", "False", "Progressing", "a")], 1, T0
    )
    same = conditions.merge(
        first, [conditions.Condition("Ready", "False", "Progressing", "b")], 2, T1
    )
    assert same[0]["lastTransitionTime"] == T0
    assert same[0]["message"] == "b"
    assert same[0]["observedGeneration"] == 2
    flipped = conditions.merge(
        same, [conditions.Condition("Ready", "True", "Available", "c")], 2, T1
    )
    assert flipped[0]["lastTransitionTime"] == T1


def test_ready_needs_available_deployment_at_current_generation() -> None:
    assert status.deployment_available(deployment())[0] is True
    assert status.deployment_available(deployment(observed=2))[0] is False
    assert status.deployment_available(deployment(available=1)) == (
        False,
        "rolling out: 1 of 2 pods updated",
    )
    assert status.deployment_available(None)[0] is False


def by_type(conds: list[conditions.Condition]) -> dict[str, conditions.Condition]:
    return {c.type: c for c in conds}


def test_invalid_spec_is_stalled_and_every_other_condition_false() -> None:
    decided = by_type(
        status.decide(status.Outcome(generation=1, invalid="spec.image: bad (IMG-1)"))
    )
    assert decided.pop("Stalled").status == "True"
    assert {c.status for c in decided.values()} == {"False"}
    assert decided["Ready"].reason == "InvalidSpec"
    assert "IMG-1" in decided["Ready"].message


def test_missing_secret_store_is_named_and_blocks_ready() -> None:
    outcome = status.Outcome(
        generation=1, secrets_declared=True, secrets_missing_kind=True, deployment=deployment()
    )
    decided = by_type(status.decide(outcome))
    assert decided["SecretsMounted"].reason == "SecretStoreMissing"
    assert decided["Ready"].status == "False"
    assert decided["Reconciled"].status == "True"


def test_apply_failure_is_reported() -> None:
    outcome = status.Outcome(generation=1, failures=("Role/x: forbidden",), deployment=deployment())
    decided = by_type(status.decide(outcome))
    assert decided["Ready"].reason == "ApplyFailed"
    assert decided["Reconciled"].message == "Role/x: forbidden"


def test_build_and_unchanged() -> None:
    outcome = status.Outcome(generation=3, deployment=deployment(), children=(deployment(),))
    first = status.build(outcome, None, T0)
    assert first["observedGeneration"] == 3
    assert first["availableReplicas"] == 2
    assert first["children"] == [{"kind": "Deployment", "name": "d", "uid": "u1"}]
    again = status.build(outcome, first, T1)
    assert status.unchanged(first, again)


def _with(condition: dict) -> dict:
    dep = deployment(available=0)
    dep["status"]["conditions"].append(condition)
    return dep


def test_a_rollout_that_cannot_progress_says_why() -> None:
    refused = _with({
        "type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
        "message": 'pods "x" is forbidden: violates PodSecurity "restricted:v1.37"',
    })  # fmt: skip
    decided = {c.type: c for c in status.decide(status.Outcome(generation=3, deployment=refused))}
    assert decided["Ready"].status == "False"
    assert decided["Ready"].reason == "ReplicaFailure"
    assert "violates PodSecurity" in decided["Ready"].message
    assert decided["Stalled"].status == "True"
    late = _with({
        "type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "x" has timed out progressing.',
    })  # fmt: skip
    decided = {c.type: c for c in status.decide(status.Outcome(generation=3, deployment=late))}
    assert decided["Ready"].reason == "RolloutStalled"
    assert decided["Stalled"].reason == "RolloutStalled"


def test_a_rollout_in_progress_is_not_stalled() -> None:
    decided = {
        c.type: c
        for c in status.decide(status.Outcome(generation=3, deployment=deployment(available=0)))
    }
    assert decided["Ready"].reason == "Progressing"
    assert decided["Stalled"].status == "False"


def _kstatus(decided: dict[str, Any]) -> str:
    """kstatus' generic rules (sigs.k8s.io/cli-utils), for the conditions alone."""
    if decided["Reconciling"].status == "True":
        return "InProgress"
    if decided["Stalled"].status == "True":
        return "Failed"
    return "Current" if decided["Ready"].status == "True" else "InProgress"


@pytest.mark.parametrize(
    ("outcome", "wanted", "reason"),
    [
        (status.Outcome(generation=1, deployment=deployment()), "Current", "NotStalled"),
        (status.Outcome(generation=1, deployment=deployment(available=0)), "InProgress",
         "NotStalled"),
        (status.Outcome(generation=1, failures=("Role/app: forbidden",)), "Failed",
         "ApplyFailed"),
        (status.Outcome(generation=1, blocked="IMG-2"), "Failed", "PolicyBlocked"),
        (status.Outcome(generation=1, deployment=deployment(), violations=("x (IMG-2)",)),
         "Failed", "PolicyViolation"),
    ],
    ids=["available", "rolling-out", "apply-failed", "policy-blocked", "reported-violation"],
)  # fmt: skip
def test_reconciling_and_stalled_give_kstatus_the_answer(
    outcome: status.Outcome, wanted: str, reason: str
) -> None:
    decided = by_type(status.decide(outcome))
    assert _kstatus(decided) == wanted
    assert decided["Stalled"].reason == reason
    assert not (decided["Stalled"].status == decided["Reconciling"].status == "True")
