"""Build the ValidatingAdmissionPolicies that keep teams from widening a workload from beside it.

Some Kubernetes objects add up. A NetworkPolicy a team writes that selects a workload's
pods with any rule undoes the default deny the operator renders (NET-1); a RoleBinding a
team writes that names the workload's ServiceAccount grants its pods more than the Role
the operator renders (RBAC-2, RBAC-3). The built-in ``edit`` role lets a team write
NetworkPolicies in its namespace, ``admin`` RoleBindings too. These policies, enforced by
the API server, judge every user but the operator, in namespaces that hold a
FinancialWorkload (the bindings' params are the namespace's workloads; a namespace without
one is not judged, ``parameterNotFoundAction: Allow``):

- ``fwop-tenant-networkpolicies``: a NetworkPolicy must allow nothing (a deny only
  narrows) or leave the operator's pods out with ``{key: finance.compliance.dev/workload,
  operator: DoesNotExist}`` in its podSelector (the only selector that provably does:
  teams choose their pods' other labels).
- ``fwop-tenant-rolebindings``: a RoleBinding may not name a workload's ServiceAccount (by
  kind, or as the user ``system:serviceaccount:<ns>:<name>``) nor the groups every
  ServiceAccount of the namespace is in.

Flows and permissions are declared in the workload's spec, where the cluster policy's
guardrails judge them. Deletes pass, and so do updates that leave the rules (or subjects)
as they were: the garbage collector removes a finalizer with an update, and a label
changes nothing a pod is allowed.

Run ``python -m fwop.api.tenantguard > manifests/tenant-guard.yaml`` to regenerate the
committed manifest; a unit test fails when they disagree. Must not: do I/O beyond
printing, or import above the api layer.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from fwop.api import crd, group, guardpolicy

NAME = "fwop-tenant-networkpolicies"
KEY = "workload-network"
"""First word of the NetworkPolicy refusal (tests and docs name the rule by it)."""
CONTROL = "NET-1"
LABEL_WORKLOAD = f"{group.GROUP}/workload"
"""The label every pod of a workload carries (fwop.render.meta.LABEL_WORKLOAD)."""

ALLOWS_NOTHING = (
    "(!has(object.spec.ingress) || size(object.spec.ingress) == 0)"
    " && (!has(object.spec.egress) || size(object.spec.egress) == 0)"
)
LEAVES_WORKLOADS_OUT = (
    "has(object.spec.podSelector.matchExpressions)"
    " && object.spec.podSelector.matchExpressions.exists(e,"
    f" e.key == '{LABEL_WORKLOAD}' && e.operator == 'DoesNotExist')"
)
MESSAGE = (
    f"{KEY}: {CONTROL}: in a namespace with FinancialWorkloads a NetworkPolicy not written by"
    " the operator must allow nothing, or leave the workloads' pods out (spec.podSelector"
    f".matchExpressions: {{key: {LABEL_WORKLOAD}, operator: DoesNotExist}}); declare flows"
    " to and from a workload in its spec.network"
)

SPEC_UNCHANGED = "request.operation == 'UPDATE' && object.spec == oldObject.spec"
"""An update that leaves the policy's rules and selector as they were (metadata only: the
garbage collector removing a finalizer, a label) widens nothing and passes."""

BINDINGS_NAME = "fwop-tenant-rolebindings"
BINDINGS_KEY = "workload-identity"
BINDINGS_CONTROL = "RBAC-2"
NAMES_THE_WORKLOAD = (
    "has(object.subjects) && object.subjects.exists(s,"
    " (s.kind == 'ServiceAccount' && s.name == params.metadata.name"
    " && (!has(s.__namespace__) || s.__namespace__ == '' || s.__namespace__ == request.namespace))"
    " || (s.kind == 'User'"
    " && s.name == 'system:serviceaccount:' + request.namespace + ':' + params.metadata.name)"
    " || (s.kind == 'Group' && (s.name == 'system:serviceaccounts'"
    " || s.name == 'system:serviceaccounts:' + request.namespace"
    " || s.name == 'system:authenticated')))"
)
SUBJECTS_UNCHANGED = (
    "request.operation == 'UPDATE' && (has(object.subjects) == has(oldObject.subjects))"
    " && (!has(object.subjects) || object.subjects == oldObject.subjects)"
)
"""As SPEC_UNCHANGED, for a RoleBinding (its roleRef cannot change)."""
BINDINGS_MESSAGE = (
    f"{BINDINGS_KEY}: {BINDINGS_CONTROL}: in a namespace with FinancialWorkloads a RoleBinding"
    " not written by the operator may not name a workload's ServiceAccount (as a"
    " ServiceAccount, as the user system:serviceaccount:<namespace>:<name>, or through the"
    " system:serviceaccounts or system:authenticated groups); declare a workload's"
    " permissions in its spec.permissions"
)


CONTROLLERS = (
    "replicaset-controller", "deployment-controller", "statefulset-controller",
    "daemon-set-controller", "job-controller", "cronjob-controller", "replication-controller",
    "generic-garbage-collector",
)  # fmt: skip
"""kube-controller-manager's own identities (--use-service-account-credentials), which make
and adopt a workload's ReplicaSets and pods."""
TRUSTED = (
    f"request.userInfo.username != '{guardpolicy.OPERATOR_USER}'"
    " && request.userInfo.username != 'system:kube-controller-manager'"
    " && !(request.userInfo.username in "
    + "["
    + ", ".join(f"'system:serviceaccount:kube-system:{c}'" for c in CONTROLLERS)
    + "])"
    " && !request.userInfo.username.startsWith('system:node:')"
)
"""Who may run pods as a workload: the operator (its Deployment), the controllers that
follow from it, and the kubelets (mirror pods; tokens for the pods they run)."""

WORKLOAD_NAME = "fwop-tenant-workload-pods"
WORKLOAD_KEY = "workload-pods"
WORKLOAD_CONTROL = "RBAC-1"


def _runs_as_the_workload(template: str) -> str:
    """CEL: the pod template at ``template`` runs as the workload's account or has its label."""
    spec, meta = f"{template}.spec", f"{template}.metadata"
    return (
        f"(has({spec}.serviceAccountName) && {spec}.serviceAccountName == params.metadata.name)"
        f" || (has({spec}.serviceAccount) && {spec}.serviceAccount == params.metadata.name)"
        f" || (has({meta}.labels) && '{LABEL_WORKLOAD}' in {meta}.labels)"
    )


WORKLOAD_MESSAGE = (
    f"{WORKLOAD_KEY}: {WORKLOAD_CONTROL}: in a namespace with FinancialWorkloads only the"
    " operator runs pods as a workload: no pod, pod controller or token may use a workload's"
    " ServiceAccount or carry the finance.compliance.dev/workload label, and a workload's"
    " pods are not changed in place (delete one and its ReplicaSet makes it anew); change a"
    " workload in its FinancialWorkload"
)


@dataclasses.dataclass(frozen=True)
class TenantGuard:
    """One policy over some resources, and its binding."""

    name: str
    api_group: str
    resource: str
    variables: tuple[tuple[str, str], ...]
    must: str
    message: str
    more: tuple[tuple[str, str], ...] = ()
    """Further (API group, resource) pairs of the same shape."""
    operations: tuple[str, ...] = ("CREATE", "UPDATE")
    who: str = f"request.userInfo.username != '{guardpolicy.OPERATOR_USER}'"
    """matchConditions: whom the policy judges."""

    def policy(self) -> dict[str, Any]:
        """Return the ValidatingAdmissionPolicy."""
        return {
            "apiVersion": guardpolicy.API_VERSION,
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": self.name},
            "spec": {
                "failurePolicy": "Fail",
                "paramKind": {"apiVersion": group.API_VERSION, "kind": group.KIND},
                "matchConstraints": {
                    "matchPolicy": "Equivalent",
                    "resourceRules": [
                        {
                            "apiGroups": [api_group],
                            "apiVersions": ["*"],
                            "resources": [resource],
                            "operations": list(self.operations),
                        }
                        for api_group, resource in ((self.api_group, self.resource), *self.more)
                    ],
                },
                "matchConditions": [{"name": "not-the-operator", "expression": self.who}],
                "variables": [{"name": n, "expression": e} for n, e in self.variables],
                "validations": [
                    {"expression": self.must, "message": self.message, "reason": "Forbidden"}
                ],
            },
        }

    def binding(self) -> dict[str, Any]:
        """Return the binding: Deny, once per FinancialWorkload of the request's namespace."""
        return {
            "apiVersion": guardpolicy.API_VERSION,
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": self.name},
            "spec": {
                "policyName": self.name,
                "validationActions": ["Deny"],
                "paramRef": {"selector": {}, "parameterNotFoundAction": "Allow"},
            },
        }


def guards() -> list[TenantGuard]:
    """Every tenant guard."""
    return [
        TenantGuard(
            NAME,
            "networking.k8s.io",
            "networkpolicies",
            (
                ("unchanged", SPEC_UNCHANGED),
                ("allowsNothing", ALLOWS_NOTHING),
                ("leavesWorkloadsOut", LEAVES_WORKLOADS_OUT),
            ),
            "variables.unchanged || variables.allowsNothing || variables.leavesWorkloadsOut",
            MESSAGE,
        ),
        TenantGuard(
            BINDINGS_NAME,
            "rbac.authorization.k8s.io",
            "rolebindings",
            (("unchanged", SUBJECTS_UNCHANGED), ("namesTheWorkload", NAMES_THE_WORKLOAD)),
            "variables.unchanged || !variables.namesTheWorkload",
            BINDINGS_MESSAGE,
        ),
        # One policy per shape of pod template, so each expression is type-checked
        # against the kinds it judges.
        TenantGuard(
            f"{WORKLOAD_NAME}", "", "pods",
            (("runsAsTheWorkload", _runs_as_the_workload("object")),),
            "!variables.runsAsTheWorkload", WORKLOAD_MESSAGE, who=TRUSTED,
        ),
        # A change that leaves the pod spec as it was passes: `kubectl rollout restart`
        # (a template annotation), a label; drift judges the rest of the template.
        TenantGuard(
            f"{WORKLOAD_NAME}-controllers", "apps", "deployments",
            (("runsAsTheWorkload", _runs_as_the_workload("object.spec.template")),
             ("podSpecUnchanged", "request.operation == 'UPDATE'"
              " && object.spec.template.spec == oldObject.spec.template.spec")),
            "!variables.runsAsTheWorkload || variables.podSpecUnchanged", WORKLOAD_MESSAGE,
            more=(("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets"),
                  ("", "replicationcontrollers")),
            who=TRUSTED,
        ),
        # A Job's other fields matter too: a deadline or backoff lifted keeps a run going
        # (with Forbid, no later run starts), an ownerReference removed takes it from its
        # CronJob's concurrency and history. Only its labels and annotations may change.
        TenantGuard(
            f"{WORKLOAD_NAME}-jobs", "batch", "jobs",
            (("runsAsTheWorkload", _runs_as_the_workload("object.spec.template")),
             ("onlyMetadataChanged", "request.operation == 'UPDATE'"
              " && object.spec == oldObject.spec"
              " && has(object.metadata.ownerReferences) == has(oldObject.metadata.ownerReferences)"
              " && (!has(object.metadata.ownerReferences)"
              " || object.metadata.ownerReferences == oldObject.metadata.ownerReferences)")),
            "!variables.runsAsTheWorkload || variables.onlyMetadataChanged", WORKLOAD_MESSAGE,
            who=TRUSTED,
        ),
        TenantGuard(
            f"{WORKLOAD_NAME}-cronjobs", "batch", "cronjobs",
            (("runsAsTheWorkload",
              _runs_as_the_workload("object.spec.jobTemplate.spec.template")),),
            "!variables.runsAsTheWorkload", WORKLOAD_MESSAGE, who=TRUSTED,
        ),
        TenantGuard(
            f"{WORKLOAD_NAME}-tokens", "", "serviceaccounts/token",
            (("forTheWorkload", "request.name == params.metadata.name"),),
            "!variables.forTheWorkload", WORKLOAD_MESSAGE, operations=("CREATE",), who=TRUSTED,
        ),
    ]  # fmt: skip


def manifests() -> list[dict[str, Any]]:
    """Every policy followed by its binding."""
    return [m for guard in guards() for m in (guard.policy(), guard.binding())]


HEADER = (
    "# Generated by `python -m fwop.api.tenantguard` from fwop/api/tenantguard.py. Do not\n"
    '# edit. Why and what they refuse: docs/install.md, "Teams cannot widen a workload\n'
    '# from beside it".\n'
)


def render() -> str:
    """Return the policy and binding as the YAML text committed in manifests/."""
    return crd.to_yaml_stream(manifests(), HEADER)


def main() -> None:
    """Print the policy and binding as YAML on standard output."""
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
