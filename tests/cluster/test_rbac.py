"""The operator's permissions: what manifests/ grants, and what the API server then allows.

The static checks read the install as `kubectl kustomize manifests/` renders it (what
`make install` applies): no wildcards, nothing on Secrets, no escalate/bind on
ClusterRoles, no impersonation. The live checks ask the API server (SelfSubjectAccessReview,
`kubectl auth can-i`) with the operator's own token.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml
from conftest import (
    OPERATOR_ACCOUNT,
    OPERATOR_NAMESPACE,
    Kube,
    Operator,
    rendered_manifests,
)

pytestmark = pytest.mark.cluster

ROLE_KINDS = ("ClusterRole", "Role")
SA_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"


def _rules(kube: Kube) -> list[tuple[str, dict[str, Any]]]:
    roles = [d for d in rendered_manifests(kube) if d["kind"] in ROLE_KINDS]
    assert roles, "manifests/ grants the operator nothing?"
    return [(f"{r['kind']}/{r['metadata']['name']}", rule) for r in roles for rule in r["rules"]]


def test_no_wildcards(kube: Kube) -> None:
    for role, rule in _rules(kube):
        for key in ("apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"):
            assert not any("*" in value for value in rule.get(key, [])), (role, rule)


def test_no_access_to_secrets(kube: Kube) -> None:
    for role, rule in _rules(kube):
        resources = {r.split("/")[0] for r in rule.get("resources", [])}
        assert "secrets" not in resources, (role, rule)


def test_no_escalate_or_bind_on_cluster_roles_and_no_impersonation(kube: Kube) -> None:
    for role, rule in _rules(kube):
        verbs = set(rule["verbs"])
        assert "impersonate" not in verbs, (role, rule)
        if "clusterroles" in rule.get("resources", []):
            assert not verbs & {"escalate", "bind"}, (role, rule)


CHILD_RESOURCES = {
    "serviceaccounts", "services", "deployments", "cronjobs", "poddisruptionbudgets",
    "networkpolicies",
    "secretproviderclasses", "rolebindings", "roles", "horizontalpodautoscalers",
}  # fmt: skip


def test_every_write_is_named_and_update_is_only_for_children_and_finalizers(kube: Kube) -> None:
    """Children are replaced (update) on drift; besides them, update only owner finalizers,
    the operator's own Lease (leader election) and its workloads' PolicyReports."""
    for role, rule in _rules(kube):
        if "update" in rule["verbs"]:
            allowed = CHILD_RESOURCES | {
                "financialworkloads/finalizers",
                "leases",
                "policyreports",
                "clusterpolicyreports",
            }
            assert set(rule["resources"]) <= allowed, (role, rule)
        assert "deletecollection" not in rule["verbs"], (role, rule)


def test_the_cluster_holds_the_rendered_role(kube: Kube, operator: Operator) -> None:
    rendered = next(d for d in rendered_manifests(kube) if d["kind"] == "ClusterRole")
    live = kube.kubectl("get", "clusterrole", rendered["metadata"]["name"], "-o", "yaml")
    assert yaml.safe_load(live.stdout)["rules"] == rendered["rules"]


# (verb, resource [and kubectl flags], namespace or "" for all or cluster-scoped, answer);
# resource/name asks about one object.
CAN_I = [
    ("patch", "deployments.apps", "payments", "yes"),
    ("create", "deployments.apps", "payments", "yes"),
    ("delete", "networkpolicies.networking.k8s.io", "payments", "yes"),
    ("escalate", "roles.rbac.authorization.k8s.io", "payments", "yes"),
    ("bind", "roles.rbac.authorization.k8s.io", "payments", "yes"),
    ("watch", "financialworkloads.finance.compliance.dev", "", "yes"),
    ("patch", "financialworkloads.finance.compliance.dev --subresource=status", "payments", "yes"),
    (
        "update",
        "financialworkloads.finance.compliance.dev --subresource=finalizers",
        "payments",
        "yes",
    ),
    ("patch", "financialworkloadpolicies.finance.compliance.dev --subresource=status", "", "yes"),
    ("patch", "namespaces", "", "yes"),
    ("create", "events", "payments", "yes"),
    ("create", "subjectaccessreviews.authorization.k8s.io", "", "yes"),  # RBAC-4
    ("get", "leases.coordination.k8s.io/fwop", OPERATOR_NAMESPACE, "yes"),
    ("update", "leases.coordination.k8s.io/fwop", OPERATOR_NAMESPACE, "yes"),
    ("create", "leases.coordination.k8s.io", OPERATOR_NAMESPACE, "yes"),
    # Never: Secrets, in any namespace, its own included.
    ("get", "secrets", "", "no"),
    ("list", "secrets", "", "no"),
    ("watch", "secrets", "", "no"),
    ("get", "secrets", OPERATOR_NAMESPACE, "no"),
    ("create", "secrets", "payments", "no"),
    # Never: anything cluster-wide in RBAC, impersonation, pods, the spec of a workload.
    ("escalate", "clusterroles.rbac.authorization.k8s.io", "", "no"),
    ("bind", "clusterroles.rbac.authorization.k8s.io", "", "no"),
    ("create", "clusterrolebindings.rbac.authorization.k8s.io", "", "no"),
    ("impersonate", "serviceaccounts", "payments", "no"),
    ("create", "pods", "payments", "no"),
    ("create", "pods/exec", "payments", "no"),
    ("update", "financialworkloads.finance.compliance.dev", "payments", "no"),
    ("patch", "financialworkloads.finance.compliance.dev", "payments", "no"),
    ("delete", "financialworkloads.finance.compliance.dev", "payments", "no"),
    ("create", "namespaces", "", "no"),
    ("delete", "namespaces", "", "no"),
    ("update", "leases.coordination.k8s.io/other", OPERATOR_NAMESPACE, "no"),
    ("create", "leases.coordination.k8s.io", "payments", "no"),
    ("patch", "validatingwebhookconfigurations.admissionregistration.k8s.io", "", "no"),
    ("delete", "customresourcedefinitions.apiextensions.k8s.io", "", "no"),
    ("get", "configmaps", "payments", "no"),
]


@pytest.mark.parametrize(
    ("verb", "resource", "namespace", "answer"),
    CAN_I,
    ids=[f"{a}-{v}-{r.replace(' --subresource=', '/')}" for v, r, _, a in CAN_I],
)
def test_the_api_server_answers_for_the_operator(  # noqa: PLR0917 - pytest parameters
    kube: Kube, operator: Operator, verb: str, resource: str, namespace: str, answer: str
) -> None:
    scope = ["-n", namespace] if namespace else ["--all-namespaces"]
    if operator.kubeconfig != kube.kubeconfig:  # the operator's own token
        who = ["--kubeconfig", str(operator.kubeconfig)]
    else:  # the installed operator (FWOP_OPERATOR=deployment): ask on its behalf
        groups = ("system:serviceaccounts", f"system:serviceaccounts:{OPERATOR_NAMESPACE}")
        who = ["--kubeconfig", str(kube.kubeconfig), f"--as={SA_USER}"]
        who += [f"--as-group={group}" for group in (*groups, "system:authenticated")]
    out = subprocess.run(
        [kube.kubectl_path, *who, "auth", "can-i", verb, *resource.split(), *scope],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert out.stdout.strip() == answer, (verb, resource, namespace, out.stdout, out.stderr)
