"""Fleet inspection: every pod controller of a cluster, managed or not, against the catalog.

The question a platform or audit team asks first: which workloads run outside the baseline?
Every Deployment, StatefulSet, DaemonSet, CronJob, and every ReplicaSet, Job and Pod no
controller owns, is judged by the same judges as the operator's own workloads
(``verdicts.judge``), from what the cluster holds about it: its namespace (Pod Security
labels), the ServiceAccount its pods run as, the Roles and ClusterRoles bound to that
account (by RoleBindings in any namespace and ClusterRoleBindings; as the account, as its
user name, or as the system:serviceaccounts groups), and the NetworkPolicies that select
its pods. A bound role that cannot be read leaves RBAC-2/3 skipped, never passed. What
only the operator knows (declared flows, drift, ownership) is skipped for a workload it
does not manage.

The score of a namespace or a cluster is the share of judged verdicts (pass, warn, fail)
that pass; skips count for nothing. Must not: do I/O (``Inventory`` is what the caller
listed).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fwop.api import group
from fwop.compliance import selectors, verdicts
from fwop.compliance.verdicts import Obj, Result

KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "ReplicaSet", "Job", "Pod")
"""What runs pods; a ReplicaSet, Job or Pod with a controller is judged through it."""
SA_GROUPS = ("system:serviceaccounts", "system:serviceaccounts:{namespace}")
"""Groups every ServiceAccount (of a namespace) is in."""
EVERYONE = "system:authenticated"
"""Every identity is in it too: followed through RoleBindings (a namespace's grant to
everyone), not ClusterRoleBindings (the cluster's default discovery and self-review
grants, the floor of any cluster, not a workload's permissions)."""


@dataclasses.dataclass(frozen=True)
class Inventory:
    """What the caller listed from one cluster."""

    namespaces: Sequence[Obj]
    controllers: Sequence[Obj]
    """Objects of the ``KINDS`` of every namespace."""
    network_policies: Sequence[Obj] = ()
    service_accounts: Sequence[Obj] = ()
    roles: Sequence[Obj] = ()
    role_bindings: Sequence[Obj] = ()
    cluster_roles: Sequence[Obj] | None = ()
    """None when they could not be listed: a binding to one is then unresolved."""
    cluster_role_bindings: Sequence[Obj] = ()
    registries: tuple[str, ...] | None = None
    """The cluster policy's allowed registries (IMG-2), None when no policy is readable."""
    workload_uids: frozenset[str] | None = None
    """The FinancialWorkloads' uids; an ownerReference naming another uid is not theirs.
    None when they were not listed."""


@dataclasses.dataclass(frozen=True)
class Judged:
    """One pod controller and its verdicts."""

    kind: str
    namespace: str
    name: str
    managed_by: str | None
    """The FinancialWorkload that controls it, or None."""
    verdicts: tuple[verdicts.Verdict, ...]

    @property
    def failing(self) -> tuple[str, ...]:
        """The controls it fails."""
        return tuple(v.control for v in self.verdicts if v.result is Result.FAIL)

    def manifest(self) -> dict[str, Any]:
        """JSON form (``fwctl inspect -o json``, the report's fleet section)."""
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "managedBy": self.managed_by,
            "summary": verdicts.summary(self.verdicts),
            "score": score([self]),
            "failing": list(self.failing),
            "verdicts": [v.manifest() for v in self.verdicts],
        }


def score(judged: Sequence[Judged]) -> float | None:
    """Passed over judged verdicts (pass, warn, fail), 0..1; None when nothing was judged."""
    passed = total = 0
    for item in judged:
        for verdict in item.verdicts:
            if verdict.result is not Result.SKIP:
                total += 1
                passed += verdict.result is Result.PASS
    return round(passed / total, 4) if total else None


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def managed_by(obj: Obj, workload_uids: frozenset[str] | None = None) -> str | None:
    """The name of the FinancialWorkload controlling ``obj``, if one does.

    Given the workloads' uids, the reference must name one of them: anyone may write an
    ownerReference.
    """
    for ref in _meta(obj).get("ownerReferences") or ():
        if (
            isinstance(ref, Mapping)
            and ref.get("controller")
            and ref.get("kind") == group.KIND
            and str(ref.get("apiVersion", "")).startswith(f"{group.GROUP}/")
            and (workload_uids is None or ref.get("uid") in workload_uids)
        ):
            return str(ref.get("name", ""))
    return None


def _controlled(obj: Obj) -> bool:
    refs = _meta(obj).get("ownerReferences") or ()
    return any(isinstance(r, Mapping) and r.get("controller") for r in refs)


def _inspected(obj: Obj) -> bool:
    """Judged on its own: a top-level controller, or a ReplicaSet, Job or Pod nobody controls."""
    kind = obj.get("kind")
    if kind in {"ReplicaSet", "Job", "Pod"}:
        return not _controlled(obj)
    return kind in KINDS


RoleRef = tuple[str, str, str]
"""(kind, namespace, name) of a bound role; namespace "" for a ClusterRole."""


class _Index:
    """The inventory by namespace and by subject: each workload's found without a scan."""

    def __init__(self, inventory: Inventory) -> None:
        self.namespaces = {str(_meta(n).get("name")): n for n in inventory.namespaces}
        self.policies: dict[str, list[Obj]] = defaultdict(list)
        self.accounts: dict[tuple[str, str], Obj] = {}
        self.roles: dict[RoleRef, Obj] = {}
        self.bound: dict[str, set[RoleRef]] = defaultdict(set)
        """Role references by subject: "sa:<ns>:<name>" or "group:<name>"."""
        for policy in inventory.network_policies:
            self.policies[str(_meta(policy).get("namespace"))].append(policy)
        for account in inventory.service_accounts:
            self.accounts[_key(account)] = account
        for role in inventory.roles:
            self.roles[("Role", *_key(role))] = role
        for role in inventory.cluster_roles or ():
            self.roles[("ClusterRole", "", str(_meta(role).get("name")))] = role
        for binding in [*inventory.role_bindings, *inventory.cluster_role_bindings]:
            self._bind(binding)

    def _bind(self, binding: Obj) -> None:
        namespace = str(_meta(binding).get("namespace") or "")
        ref = binding.get("roleRef") or {}
        kind = str(ref.get("kind"))
        if kind not in {"Role", "ClusterRole"} or (kind == "Role" and not namespace):
            return
        target: RoleRef = (kind, namespace if kind == "Role" else "", str(ref.get("name")))
        for subject in binding.get("subjects") or ():
            key = _subject_key(subject, namespace)
            if key is not None:
                self.bound[key].add(target)

    def bound_roles(self, namespace: str, account: str) -> tuple[list[Obj], list[str]]:
        """The roles bound to an account, and the references that could not be read."""
        keys = [f"sa:{namespace}:{account}", f"group:{EVERYONE}",
                *(f"group:{g.format(namespace=namespace)}" for g in SA_GROUPS)]  # fmt: skip
        refs = sorted({ref for key in keys for ref in self.bound.get(key, ())})
        found = [self.roles[ref] for ref in refs if ref in self.roles]
        missing = [f"{ref[0]}/{ref[2]}" for ref in refs if ref not in self.roles]
        return found, missing


def _subject_key(subject: Obj, binding_namespace: str) -> str | None:
    """Who a binding's subject is, as the index keys it; None for anyone else."""
    kind, name = subject.get("kind"), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return f"sa:{namespace}:{name}" if namespace else None
    if kind == "User" and name.startswith("system:serviceaccount:"):
        parts = name.split(":")
        return f"sa:{parts[2]}:{parts[3]}" if len(parts) == 4 else None
    if kind == "Group" and name.startswith("system:serviceaccounts"):
        return f"group:{name}"
    if kind == "Group" and name == EVERYONE and binding_namespace:
        return f"group:{name}"  # a RoleBinding only: see EVERYONE
    return None


def _key(obj: Obj) -> tuple[str, str]:
    return str(_meta(obj).get("namespace")), str(_meta(obj).get("name"))


def _subject(obj: Obj, index: _Index, registries: tuple[str, ...] | None) -> verdicts.Subject:
    namespace = str(_meta(obj).get("namespace"))
    _, pod = verdicts.pod_template(obj)
    account = str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")
    labels = verdicts.pod_labels(obj)
    children: list[Obj] = [obj]
    if (namespace, account) in index.accounts:
        children.append(index.accounts[(namespace, account)])
    roles, unresolved = index.bound_roles(namespace, account)
    children += roles
    children += [
        p
        for p in index.policies.get(namespace, ())
        if selectors.selects((p.get("spec") or {}).get("podSelector"), labels)
    ]
    return verdicts.Subject(
        namespace=index.namespaces.get(namespace),
        children=children,
        owner_uid=None,
        permissions_declared=bool(roles or unresolved),
        registries=registries,
        roles_unresolved=tuple(unresolved),
    )


def inspect(inventory: Inventory) -> Iterator[Judged]:
    """Every pod controller of the inventory, judged, in namespace and name order.

    The operator's own workloads are judged here as strangers are (``owner_uid`` unset):
    the same view for every workload, so their scores compare. Their full verdicts, with
    what only the operator knows, are in their PolicyReports.
    """
    index = _Index(inventory)
    ordered = sorted(
        (c for c in inventory.controllers if _inspected(c)),
        key=lambda c: (*_key(c), str(c.get("kind"))),
    )
    for obj in ordered:
        namespace, name = _key(obj)
        found = verdicts.judge(_subject(obj, index, inventory.registries))
        owner = managed_by(obj, inventory.workload_uids)
        yield Judged(str(obj.get("kind")), namespace, name, owner, found)


def scores(judged: Sequence[Judged]) -> dict[str, Any]:
    """Score per namespace and for the cluster, with the workloads outside the baseline."""
    by_namespace: dict[str, list[Judged]] = defaultdict(list)
    for item in judged:
        by_namespace[item.namespace].append(item)
    namespaces = [
        {
            "name": name,
            "workloads": len(items),
            "managed": sum(1 for i in items if i.managed_by),
            "outside": sum(1 for i in items if i.failing),
            "score": score(items),
        }
        for name, items in sorted(by_namespace.items())
    ]
    return {
        "workloads": len(judged),
        "managed": sum(1 for i in judged if i.managed_by),
        "outside": sum(1 for i in judged if i.failing),
        "score": score(judged),
        "namespaces": namespaces,
    }
