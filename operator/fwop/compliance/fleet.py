"""Fleet inspection: every pod controller of a cluster, managed or not, against the catalog.

The question a platform or audit team asks first: which workloads run outside the baseline?
Every Deployment, StatefulSet and DaemonSet is judged by the same judges as the operator's
own workloads (``verdicts.judge``), from what the cluster holds about it: its namespace
(Pod Security labels), the ServiceAccount its pods run as, the Roles bound to that account
in its namespace, and the NetworkPolicies that select its pods. What only the operator
knows (declared flows, drift, ownership) is skipped for a workload it does not manage.
ClusterRoleBindings are not followed: a namespaced view, stated in docs/compliance.md.

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
from fwop.compliance import verdicts
from fwop.compliance.verdicts import Obj, Result

KINDS = ("Deployment", "StatefulSet", "DaemonSet")
"""The pod controllers inspected (their ReplicaSets and pods follow from them)."""


@dataclasses.dataclass(frozen=True)
class Inventory:
    """What the caller listed from one cluster."""

    namespaces: Sequence[Obj]
    controllers: Sequence[Obj]
    """Deployments, StatefulSets and DaemonSets of every namespace."""
    network_policies: Sequence[Obj] = ()
    service_accounts: Sequence[Obj] = ()
    roles: Sequence[Obj] = ()
    role_bindings: Sequence[Obj] = ()
    registries: tuple[str, ...] | None = None
    """The cluster policy's allowed registries (IMG-2), None when no policy is readable."""


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


def managed_by(obj: Obj) -> str | None:
    """The name of the FinancialWorkload controlling ``obj``, if one does."""
    for ref in _meta(obj).get("ownerReferences") or ():
        if (
            isinstance(ref, Mapping)
            and ref.get("controller")
            and ref.get("kind") == group.KIND
            and str(ref.get("apiVersion", "")).startswith(f"{group.GROUP}/")
        ):
            return str(ref.get("name", ""))
    return None


def _expression(expr: Obj, labels: Mapping[str, str]) -> bool:
    key, op, values = str(expr.get("key")), expr.get("operator"), expr.get("values") or ()
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator selects nothing


def selects(selector: Obj | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector matches ``labels`` (an empty selector matches everything)."""
    selector = selector or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in wanted.items()):
        return False
    return all(_expression(e, labels) for e in selector.get("matchExpressions") or ())


class _Index:
    """The inventory by namespace, so each controller's subject is found without a scan."""

    def __init__(self, inventory: Inventory) -> None:
        self.namespaces = {str(_meta(n).get("name")): n for n in inventory.namespaces}
        self.policies: dict[str, list[Obj]] = defaultdict(list)
        self.accounts: dict[tuple[str, str], Obj] = {}
        self.roles: dict[tuple[str, str], Obj] = {}
        self.bound: dict[tuple[str, str], list[str]] = defaultdict(list)
        for policy in inventory.network_policies:
            self.policies[str(_meta(policy).get("namespace"))].append(policy)
        for account in inventory.service_accounts:
            self.accounts[_key(account)] = account
        for role in inventory.roles:
            self.roles[_key(role)] = role
        for binding in inventory.role_bindings:
            namespace = str(_meta(binding).get("namespace"))
            ref = binding.get("roleRef") or {}
            if ref.get("kind") != "Role":
                continue
            for subject in binding.get("subjects") or ():
                if subject.get("kind") == "ServiceAccount":
                    account_ns = subject.get("namespace") or namespace
                    if account_ns == namespace:
                        self.bound[(namespace, str(subject.get("name")))].append(
                            str(ref.get("name"))
                        )


def _key(obj: Obj) -> tuple[str, str]:
    return str(_meta(obj).get("namespace")), str(_meta(obj).get("name"))


def _subject(obj: Obj, index: _Index, registries: tuple[str, ...] | None) -> verdicts.Subject:
    namespace = str(_meta(obj).get("namespace"))
    _, pod = verdicts.pod_template(obj)
    account = str(pod.get("serviceAccountName") or pod.get("serviceAccount") or "default")
    labels = (((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
        "labels"
    ) or {}
    children: list[Obj] = [obj]
    if (namespace, account) in index.accounts:
        children.append(index.accounts[(namespace, account)])
    roles = [index.roles[(namespace, name)] for name in index.bound.get((namespace, account), ())
             if (namespace, name) in index.roles]  # fmt: skip
    children += roles
    children += [
        p
        for p in index.policies.get(namespace, ())
        if selects((p.get("spec") or {}).get("podSelector"), labels)
    ]
    return verdicts.Subject(
        namespace=index.namespaces.get(namespace),
        children=children,
        owner_uid=None,
        permissions_declared=bool(roles),
        registries=registries,
    )


def inspect(inventory: Inventory) -> Iterator[Judged]:
    """Every pod controller of the inventory, judged, in namespace and name order.

    The operator's own workloads are judged here as strangers are (``owner_uid`` unset):
    the same view for every workload, so their scores compare. Their full verdicts, with
    what only the operator knows, are in their PolicyReports.
    """
    index = _Index(inventory)
    ordered = sorted(
        (c for c in inventory.controllers if c.get("kind") in KINDS),
        key=lambda c: (*_key(c), str(c.get("kind"))),
    )
    for obj in ordered:
        namespace, name = _key(obj)
        found = verdicts.judge(_subject(obj, index, inventory.registries))
        yield Judged(str(obj.get("kind")), namespace, name, managed_by(obj), found)


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
