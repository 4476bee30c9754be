"""Build the ValidatingAdmissionPolicies that bound what the operator's own token may write.

The operator holds ``escalate`` and ``bind`` on namespaced Roles (a workload's Role carries
rules the operator does not hold), patches namespace labels and writes Deployments: a
stolen token could otherwise grant itself anything in a namespace, relabel a namespace
``privileged`` or run a pod that reads Secrets. These policies, enforced by the API server
itself, judge only requests of the operator's ServiceAccount and let through what the
renderers (``fwop.render``) produce: children labelled ``app.kubernetes.io/managed-by:
fwop`` and controlled by a FinancialWorkload, in namespaces that hold a FinancialWorkload
and enforce Pod Security ``restricted``; Roles without wildcards and off the hard floor of
RBAC-3 (``fwop.api.floor``); a workload's own RoleBinding; ClusterIP Services; pods with
neither Kubernetes Secrets nor another ServiceAccount; and on namespaces, the Pod Security
labels at ``restricted`` and nothing else.

One policy per kind, so the API server type-checks each expression against that kind's
schema; the common rules on every child kind are one more policy. Each has a binding of
the same name with ``validationActions: [Deny]``.

Run ``python -m fwop.api.guardpolicy > manifests/guard-policy.yaml`` to regenerate the
committed manifest; a unit test fails when the file and this module disagree. Must not: do
I/O beyond printing, import above the api layer, or let the operator's identity write
anything the renderers do not produce.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

from fwop.api import crd, floor, group

OPERATOR_NAMESPACE = "fwop-system"
OPERATOR_ACCOUNT = "fwop"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
"""The operator's identity (manifests/serviceaccount.yaml): the only user the policies judge."""

NAME = "fwop-guard"
"""Name of the common policy; the others are ``fwop-guard-<resource>``. Bindings alike."""
API_VERSION = "admissionregistration.k8s.io/v1"

# What the renderers write (fwop.render.meta, .namespace, .pod); a unit test compares them.
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "fwop"
PSS_PREFIX = "pod-security.kubernetes.io/"
PSS_LEVEL = "restricted"
PSS_MODES = ("enforce", "audit", "warn")
CSI_DRIVER = "secrets-store.csi.k8s.io"

CHILDREN: tuple[tuple[str, str], ...] = (
    ("", "serviceaccounts"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("networking.k8s.io", "networkpolicies"),
    ("secrets-store.csi.x-k8s.io", "secretproviderclasses"),
    ("apps", "deployments"),
    ("batch", "cronjobs"),
    ("", "services"),
    ("policy", "poddisruptionbudgets"),
    ("autoscaling", "horizontalpodautoscalers"),
)
"""(API group, resource) of every namespaced kind the operator writes (fwop.kube.kinds)."""

WRITES = ("CREATE", "UPDATE")
ALL = ("CREATE", "UPDATE", "DELETE")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validation: what must hold, for which operations, and the refusal's message."""

    key: str
    """Short name, first word of the message (tests and docs/install.md name rules by it)."""
    must: str
    """CEL: what must hold."""
    says: str
    """Why the request is refused, after "the operator's token may not"."""
    operations: tuple[str, ...] = WRITES
    """The operations the rule judges; every other operation passes it."""
    before: str = ""
    """CEL: ``must`` on the old object. When set, the rule ratchets: an UPDATE passes when
    the old object broke the rule already (someone else made it so, on a field the operator
    does not own), so the operator can still heal other drift; it may never introduce a
    breach."""

    def validation(self, matched: tuple[str, ...]) -> dict[str, Any]:
        """The ValidatingAdmissionPolicy validation entry (``matched``: the policy's ops)."""
        expression = self.must
        if self.before:
            expression = f"({expression}) || (request.operation == 'UPDATE' && !({self.before}))"
        if set(self.operations) != set(matched):
            expression = f"!(request.operation in {_quote(self.operations)}) || ({expression})"
        return {
            "expression": expression,
            "message": f"{self.key}: the operator's token ({NAME}) may not {self.says}",
            "reason": "Forbidden",
        }


@dataclasses.dataclass(frozen=True)
class Guard:
    """One policy and its binding: the kinds it matches and the rules it holds."""

    name: str
    resources: tuple[tuple[str, tuple[str, ...]], ...]
    """(API group, resources) it matches."""
    operations: tuple[str, ...]
    rules: tuple[Rule, ...]
    variables: tuple[tuple[str, str], ...] = ()
    per_workload: bool = False
    """Evaluated once per FinancialWorkload of the request's namespace (see binding)."""

    def policy(self) -> dict[str, Any]:
        """Return the ValidatingAdmissionPolicy."""
        spec: dict[str, Any] = {"failurePolicy": "Fail"}
        if self.per_workload:
            spec["paramKind"] = {"apiVersion": group.API_VERSION, "kind": group.KIND}
        spec["matchConstraints"] = {
            "matchPolicy": "Equivalent",
            "resourceRules": [
                {
                    "apiGroups": [api_group],
                    "apiVersions": ["*"],
                    "resources": list(resources),
                    "operations": list(self.operations),
                }
                for api_group, resources in self.resources
            ],
        }
        spec["matchConditions"] = [
            {
                "name": "operator-only",
                "expression": f"request.userInfo.username == '{OPERATOR_USER}'",
            }
        ]
        if self.variables:
            spec["variables"] = [{"name": n, "expression": e} for n, e in self.variables]
        spec["validations"] = [rule.validation(self.operations) for rule in self.rules]
        return _manifest("ValidatingAdmissionPolicy", self.name, spec)

    def binding(self) -> dict[str, Any]:
        """Return the ValidatingAdmissionPolicyBinding: Deny.

        With ``per_workload`` the params are the FinancialWorkloads of the request's
        namespace; with none, ``parameterNotFoundAction: Deny`` refuses the request. The API
        server looks for params before it evaluates matchConditions, so that refusal hits
        every user: the binding matches only objects labelled managed-by fwop (the
        operator's children), and only their creation and change (garbage collection and
        namespace deletion delete them anywhere).
        """
        spec: dict[str, Any] = {"policyName": self.name, "validationActions": ["Deny"]}
        if self.per_workload:
            spec["paramRef"] = {"selector": {}, "parameterNotFoundAction": "Deny"}
            spec["matchResources"] = {
                "objectSelector": {"matchLabels": {LABEL_MANAGED_BY: MANAGED_BY}}
            }
        return _manifest("ValidatingAdmissionPolicyBinding", self.name, spec)


def _manifest(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _quote(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _has_label(labels: str, key: str, value: str) -> str:
    return f"'{key}' in {labels} && {labels}['{key}'] == '{value}'"


def _labels(obj: str) -> str:
    """CEL: the labels of ``obj`` (object or oldObject), empty when it has none or is null."""
    return f"{obj} == null || !has({obj}.metadata.labels) ? {{}} : {obj}.metadata.labels"


_LABELS = (("labels", _labels("object")), ("oldLabels", _labels("oldObject")))


def _controlled(obj: str) -> str:
    """CEL: ``obj`` has a controller ownerReference to a FinancialWorkload."""
    return (
        f"has({obj}.metadata.ownerReferences) && {obj}.metadata.ownerReferences.exists(o,"
        " has(o.controller) && o.controller"
        f" && o.apiVersion == '{group.API_VERSION}' && o.kind == '{group.KIND}')"
    )


def _children() -> Guard:
    controller, old_controller = _controlled("object"), _controlled("oldObject")
    restricted = (
        "has(namespaceObject.metadata.labels)"
        f" && '{PSS_PREFIX}enforce' in namespaceObject.metadata.labels"
        f" && namespaceObject.metadata.labels['{PSS_PREFIX}enforce'] == '{PSS_LEVEL}'"
    )
    rules = (
        Rule(
            "managed-by",
            _has_label("variables.labels", LABEL_MANAGED_BY, MANAGED_BY),
            f"write an object without the label {LABEL_MANAGED_BY}: {MANAGED_BY}",
        ),
        Rule(
            "controller",
            controller,
            f"write an object without a controller ownerReference to a {group.KIND}",
        ),
        # Labelled, or controlled by a workload (OWN-1): an object someone stripped of the
        # label is still the operator's, and the operator heals the label.
        Rule(
            "foreign-object",
            f"({_has_label('variables.oldLabels', LABEL_MANAGED_BY, MANAGED_BY)})"
            f" || ({old_controller})",
            "change or delete an object it did not create (neither labelled"
            f" {LABEL_MANAGED_BY}: {MANAGED_BY} nor controlled by a {group.KIND})",
            ("UPDATE", "DELETE"),
        ),
        Rule(
            "namespace-restricted",
            restricted,
            f"write into a namespace that does not enforce Pod Security {PSS_LEVEL}",
        ),
    )
    return Guard(NAME, _children_resources(), ALL, rules, _LABELS)


def _children_resources() -> tuple[tuple[str, tuple[str, ...]], ...]:
    groups: dict[str, list[str]] = {}
    for api_group, resource in CHILDREN:
        groups.setdefault(api_group, []).append(resource)
    return tuple((api_group, tuple(resources)) for api_group, resources in groups.items())


def _workload() -> Guard:
    """Writes only where a FinancialWorkload lives (the binding refuses anywhere else).

    Without it a stolen token could label any namespace ``restricted`` and then run a pod
    there under a ServiceAccount of that namespace (``argocd``, say) that it names.
    """
    rules = (
        Rule(
            "workload-namespace",
            "params != null",
            f"write into a namespace that holds no {group.KIND}",
        ),
    )
    return Guard(f"{NAME}-workload", _children_resources(), WRITES, rules, per_workload=True)


def _roles() -> Guard:
    wildcard = " || ".join(
        f"(has(rule.{field}) && rule.{field}.exists(x, x.contains('*')))"
        for field in ("apiGroups", "resources", "verbs", "resourceNames")
    )
    escalating = _quote(("escalate", "bind", "impersonate"))
    every_rule = "!has(object.rules) || object.rules.all(rule, {})"
    rules = [
        Rule(
            "role-wildcard",
            every_rule.format(f"!({wildcard})"),
            "write a Role with '*' in apiGroups, resources, verbs or resourceNames",
        ),
        Rule(
            "role-verbs",
            every_rule.format(f"!rule.verbs.exists(v, v in {escalating})"),
            "write a Role granting escalate, bind or impersonate",
        ),
    ]
    rules += [
        Rule(
            f"role-floor-{cls.key}",
            every_rule.format(floor.cel(cls, "rule")),
            f"write a Role that {cls.why} (the hard floor of RBAC-3)",
        )
        for cls in floor.CLASSES
    ]
    return Guard(
        f"{NAME}-roles", (("rbac.authorization.k8s.io", ("roles",)),), WRITES, tuple(rules)
    )


def _rolebindings() -> Guard:
    subject = "object.subjects[0]"
    rules = (
        Rule(
            "rolebinding-role",
            "object.roleRef.kind == 'Role' && object.roleRef.name == object.metadata.name",
            "bind anything but the Role named like the binding",
        ),
        Rule(
            "rolebinding-subject",
            f"has(object.subjects) && size(object.subjects) == 1"
            f" && {subject}.kind == 'ServiceAccount' && {subject}.name == object.metadata.name"
            f" && has({subject}.namespace) && {subject}.namespace == object.metadata.namespace",
            "bind anyone but the ServiceAccount named like the binding, in its namespace",
        ),
    )
    return Guard(
        f"{NAME}-rolebindings", (("rbac.authorization.k8s.io", ("rolebindings",)),), WRITES, rules
    )


def _external_ips(obj: str) -> str:
    return f"!has({obj}.spec.externalIPs) || size({obj}.spec.externalIPs) == 0"


def _services() -> Guard:
    rules = (
        Rule(
            "service-type",
            "!has(object.spec.type) || object.spec.type == 'ClusterIP'",
            "write a Service other than ClusterIP",
        ),
        Rule(
            "service-external-ips",
            _external_ips("object"),
            "give a Service externalIPs",
            before=_external_ips("oldObject"),
        ),
    )
    return Guard(f"{NAME}-services", (("", ("services",)),), WRITES, rules)


def _networkpolicies() -> Guard:
    peers = (
        "(!has(object.spec.ingress) || object.spec.ingress.all(r, has(r.from) && size(r.from) > 0))"
        " && (!has(object.spec.egress) || object.spec.egress.all(r, has(r.to) && size(r.to) > 0))"
    )
    rules = (
        Rule(
            "networkpolicy-peers",
            peers,
            "write a NetworkPolicy rule without peers, which lets everyone in or out"
            " (spec.network never declares one)",
        ),
    )
    return Guard(f"{NAME}-networkpolicies", (("networking.k8s.io", ("networkpolicies",)),),
                 WRITES, rules)  # fmt: skip


def _no_secret_env(pod: str) -> str:
    """CEL: no container or init container of the pod spec ``pod`` takes a Secret into its env."""
    secret_env = (
        "(!has(c.env) || c.env.all(e, !has(e.valueFrom) || !has(e.valueFrom.secretKeyRef)))"
        " && (!has(c.envFrom) || c.envFrom.all(e, !has(e.secretRef)))"
    )
    return " && ".join(
        f"(!has({pod}.{field}) || {pod}.{field}.all(c, {secret_env}))"
        for field in ("initContainers", "containers")
    )


def _pod_rules(template: str, kind: str, prefix: str) -> tuple[Rule, ...]:
    """The pod rules of a pod controller whose pod spec is at ``template`` (no object.)."""
    pod = f"object.{template}"
    return (
        Rule(
            f"{prefix}serviceaccount",
            f"has({pod}.serviceAccountName) && {pod}.serviceAccountName == object.metadata.name",
            f"run pods under any ServiceAccount but the one named like the {kind} (RBAC-1)",
        ),
        Rule(
            f"{prefix}volumes",
            f"!has({pod}.volumes) || {pod}.volumes.all(v, has(v.emptyDir)"
            " || has(v.configMap) || has(v.persistentVolumeClaim)"
            " || (has(v.ephemeral) && (!has(v.ephemeral.volumeClaimTemplate)"
            " || (!has(v.ephemeral.volumeClaimTemplate.spec.dataSource)"
            " && !has(v.ephemeral.volumeClaimTemplate.spec.dataSourceRef))))"
            " || (has(v.projected) && (!has(v.projected.sources) || v.projected.sources.all(s,"
            " has(s.configMap) || has(s.downwardAPI)"
            " || (has(s.serviceAccountToken) && has(s.serviceAccountToken.audience)))))"
            f" || (has(v.csi) && v.csi.driver == '{CSI_DRIVER}'))",
            "mount volumes other than emptyDir, configMap, projected (configMap, downwardAPI,"
            " serviceAccountToken with an audience), persistentVolumeClaim, ephemeral (not"
            f" cloned from another claim) and the {CSI_DRIVER} CSI driver (SEC-1, POD-5)",
        ),
        Rule(
            f"{prefix}secret-env",
            _no_secret_env(pod),
            "put Kubernetes Secrets into a container's environment (SEC-1)",
            before=_no_secret_env(f"oldObject.{template}"),
        ),
    )


def _deployments() -> Guard:
    rules = _pod_rules("spec.template.spec", "Deployment", "pod-")
    return Guard(f"{NAME}-deployments", (("apps", ("deployments",)),), WRITES, rules)


def _cronjobs() -> Guard:
    rules = _pod_rules("spec.jobTemplate.spec.template.spec", "CronJob", "cronjob-pod-")
    return Guard(f"{NAME}-cronjobs", (("batch", ("cronjobs",)),), WRITES, rules)


def _secretproviderclasses() -> Guard:
    rules = (
        Rule(
            "secret-sync",
            "!has(object.spec.secretObjects) || size(object.spec.secretObjects) == 0",
            "write a SecretProviderClass that syncs Kubernetes Secrets (SEC-1)",
        ),
    )
    return Guard(
        f"{NAME}-secretproviderclasses",
        (("secrets-store.csi.x-k8s.io", ("secretproviderclasses",)),),
        WRITES,
        rules,
    )


def _unchanged(field: str) -> str:
    """CEL: a field of the namespace is the same before and after (or absent from both)."""
    new, old = f"object.{field}", f"oldObject.{field}"
    return f"has({new}) == has({old}) && (!has({new}) || {new} == {old})"


def _namespaces() -> Guard:
    pss = f"k.startsWith('{PSS_PREFIX}')"
    keys = [f"{PSS_PREFIX}{mode}{suffix}" for mode in PSS_MODES for suffix in ("", "-version")]
    rules = (
        Rule(
            "namespace-system",
            f"!object.metadata.name.startsWith('kube-')"
            f" && object.metadata.name != '{OPERATOR_NAMESPACE}'",
            f"label the kube-* namespaces or its own ({OPERATOR_NAMESPACE})",
        ),
        Rule(
            "namespace-labels",
            f"variables.labels.all(k, {pss}"
            " || (k in variables.oldLabels && variables.oldLabels[k] == variables.labels[k]))"
            f" && variables.oldLabels.all(k, {pss} || k in variables.labels)"
            f" && variables.labels.all(k, !{pss} || k in {_quote(keys)})",
            "add, remove or change a namespace label other than the Pod Security ones",
        ),
        Rule(
            "namespace-pss",
            " && ".join(
                _has_label("variables.labels", f"{PSS_PREFIX}{mode}", PSS_LEVEL)
                for mode in PSS_MODES
            ),
            f"set Pod Security enforce, audit or warn to anything but {PSS_LEVEL}",
        ),
        Rule(
            "namespace-unchanged",
            " && ".join(
                _unchanged(field)
                for field in (
                    "metadata.annotations",
                    "metadata.ownerReferences",
                    "metadata.finalizers",
                    "spec",
                )
            ),
            "change a namespace's annotations, owners, finalizers or spec",
        ),
    )
    return Guard(f"{NAME}-namespaces", (("", ("namespaces",)),), ("UPDATE",), rules, _LABELS)


def _pods() -> Guard:
    """Pod drift is healed by deleting the pod: only pods of a workload's namespace."""
    restricted = (
        "has(namespaceObject.metadata.labels)"
        f" && '{PSS_PREFIX}enforce' in namespaceObject.metadata.labels"
        f" && namespaceObject.metadata.labels['{PSS_PREFIX}enforce'] == '{PSS_LEVEL}'"
    )
    # A workload's pod carries the label; one relabelled out of its ReplicaSet has no
    # controller left. A pod of any other controller is never the operator's to delete.
    ours = (
        f"({_has_label('variables.oldLabels', LABEL_MANAGED_BY, MANAGED_BY)})"
        " || !has(oldObject.metadata.ownerReferences)"
        " || !oldObject.metadata.ownerReferences.exists(o, has(o.controller) && o.controller)"
    )
    rules = (
        Rule(
            "pod-namespace",
            restricted,
            f"delete a pod in a namespace that does not enforce Pod Security {PSS_LEVEL}",
            ("DELETE",),
        ),
        Rule(
            "pod-of-a-workload",
            ours,
            "delete a pod that neither belongs to a workload nor was relabelled out of one",
            ("DELETE",),
        ),
    )
    return Guard(f"{NAME}-pods", (("", ("pods",)),), ("DELETE",), rules, _LABELS)


def guards() -> list[Guard]:
    """Every policy, the common one first."""
    return [
        _children(),
        _workload(),
        _roles(),
        _rolebindings(),
        _services(),
        _networkpolicies(),
        _deployments(),
        _cronjobs(),
        _secretproviderclasses(),
        _namespaces(),
        _pods(),
    ]


def rules() -> list[Rule]:
    """Every rule of every policy."""
    return [rule for guard in guards() for rule in guard.rules]


def manifests() -> list[dict[str, Any]]:
    """Every policy followed by its binding."""
    return [m for guard in guards() for m in (guard.policy(), guard.binding())]


HEADER = (
    "# Generated by `python -m fwop.api.guardpolicy` from fwop/api/guardpolicy.py and\n"
    "# fwop/api/floor.py. Do not edit. What the policies refuse and why: docs/install.md,\n"
    '# "The operator\'s own token is bounded".\n'
)


def render() -> str:
    """Return the policies and bindings as the YAML text committed in manifests/."""
    return crd.to_yaml_stream(manifests(), HEADER)


def main() -> None:
    """Print the policies and bindings as YAML on standard output."""
    sys.stdout.write(render())


if __name__ == "__main__":
    main()
