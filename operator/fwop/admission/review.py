"""Judge one FinancialWorkload: CRD rules, then the cluster policy, then cross-field rules.

``review`` takes the document as the API server or a file holds it; ``evaluate`` takes a
workload already parsed (the reconcile gate re-judges stored workloads when the policy
changes). A document that breaks a CRD rule gets only those problems, as at the API
server, where schema and CEL validation run before any validating webhook. Must not: do
I/O or fetch the policy or the namespace labels (the caller passes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fwop import errors
from fwop.admission import clusterpolicy, consistency, envsecrets
from fwop.api import policy as policy_api
from fwop.api import workload as workload_api


def review(
    doc: Mapping[str, Any],
    policy: policy_api.FinancialWorkloadPolicySpec,
    namespace_labels: Mapping[str, str] | None = None,
    default_namespace: str = "default",
) -> tuple[errors.Problem, ...]:
    """Return every problem of a FinancialWorkload document; empty means admitted.

    ``namespace_labels`` are the labels of the workload's namespace; None means unknown,
    and then the profile a namespace requires (PRF-1) is not checked.
    """
    try:
        parsed = workload_api.parse(doc, default_namespace)
    except errors.InvalidSpecError as exc:
        return exc.problems
    return evaluate(parsed, policy, namespace_labels)


def evaluate(
    workload: workload_api.Workload,
    policy: policy_api.FinancialWorkloadPolicySpec,
    namespace_labels: Mapping[str, str] | None = None,
) -> tuple[errors.Problem, ...]:
    """Return the policy and cross-field problems of a parsed workload."""
    spec = workload.spec
    return (
        *clusterpolicy.check(spec, policy, workload.namespace, namespace_labels),
        *consistency.check(spec),
        *envsecrets.check(spec),
    )
