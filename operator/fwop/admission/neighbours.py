"""What already sits beside a workload in its namespace and would widen it (NET-1, RBAC-2).

The tenant guard (``fwop.api.tenantguard``) refuses, once a namespace holds a
FinancialWorkload, a NetworkPolicy that could open the workloads' pods and a RoleBinding
that names a workload's ServiceAccount. It judges objects when they are written, against
the workloads that exist then: a team could write them first (before the namespace's
first workload, or naming a workload it creates afterwards). So a workload is admitted
only when no such object of someone else's is already there. Must not: do I/O (the
caller lists the namespace's NetworkPolicies and RoleBindings).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fwop import errors
from fwop.api import group, tenantguard

Obj = Mapping[str, Any]
WORKLOAD_LABEL = tenantguard.LABEL_WORKLOAD


def _ours(obj: Obj) -> bool:
    """Controlled by a FinancialWorkload: the operator's own child (the guard bounds those)."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(
        isinstance(r, Mapping) and r.get("controller") and r.get("kind") == group.KIND
        and str(r.get("apiVersion", "")).startswith(f"{group.GROUP}/")
        for r in refs
    )  # fmt: skip


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def opens_workloads(policy: Obj) -> bool:
    """A NetworkPolicy with a rule whose podSelector does not leave the workloads' pods out."""
    spec = policy.get("spec") or {}
    if not (spec.get("ingress") or spec.get("egress")):
        return False  # a deny only narrows
    expressions = (spec.get("podSelector") or {}).get("matchExpressions") or ()
    return not any(
        isinstance(e, Mapping) and e.get("key") == WORKLOAD_LABEL
        and e.get("operator") == "DoesNotExist"
        for e in expressions
    )  # fmt: skip


def names_account(binding: Obj, namespace: str, account: str) -> bool:
    """A RoleBinding whose subjects hold the ServiceAccount ``namespace/account``."""
    for subject in binding.get("subjects") or ():
        if not isinstance(subject, Mapping):
            continue
        kind, name = subject.get("kind"), subject.get("name")
        if (
            kind == "ServiceAccount"
            and name == account
            and (subject.get("namespace") or namespace) == namespace
        ):
            return True
        if kind == "User" and name == f"system:serviceaccount:{namespace}:{account}":
            return True
        groups = ("system:serviceaccounts", f"system:serviceaccounts:{namespace}",
                  "system:authenticated")  # fmt: skip
        if kind == "Group" and name in groups:
            return True
    return False


def problems(
    name: str, namespace: str, policies: Iterable[Obj], bindings: Iterable[Obj]
) -> Iterator[errors.Problem]:
    """Someone else's objects in the namespace that would widen workload ``name``."""
    for policy in policies:
        if not _ours(policy) and opens_workloads(policy):
            message = (
                f"NetworkPolicy {_name(policy)} in namespace {namespace} has rules and does not"
                f" leave the workloads' pods out, so it would let peers reach them past their"
                f" declared flows (NET-1); delete it, or add to its podSelector matchExpressions"
                f" {{key: {WORKLOAD_LABEL}, operator: DoesNotExist}}"
            )
            yield errors.Problem("metadata.namespace", message, "NET-1")
    for binding in bindings:
        if not _ours(binding) and names_account(binding, namespace, name):
            message = (
                f"RoleBinding {_name(binding)} in namespace {namespace} grants the"
                f" ServiceAccount {name} this workload would run as (RBAC-2); delete it, and"
                f" declare the permissions in spec.permissions"
            )
            yield errors.Problem("metadata.name", message, "RBAC-2")
