"""The guard policies: committed file is fresh, and what they assume of the operator holds.

The CEL itself is judged by a real API server in tests/cluster/test_guard.py; offline, these
tests pin the pieces: the identity, the kinds matched against the ClusterRole and the kinds
the operator writes, the floor's CEL reused per rule, and every rendered child satisfying
what the policies demand of it (so a renderer change that the guard would refuse fails
here first).
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest
import yaml

from fwop.api import floor, group, guardpolicy, tenantguard
from fwop.api import spec as spec_api
from fwop.kube import kinds
from fwop.render import meta, namespace, pod, serviceaccount, workload

from .conftest import OWNER, SpecFactory, spec_data

REPO = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
POLICY_FILE = MANIFESTS / "guard-policy.yaml"
GUARDS = guardpolicy.guards()
RULES = guardpolicy.rules()


def _docs(path: pathlib.Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


# --- the committed file -------------------------------------------------------------------


def test_committed_policy_is_what_the_module_generates() -> None:
    committed = POLICY_FILE.read_text(encoding="utf-8")
    assert committed == guardpolicy.render(), (
        f"regenerate: python -m fwop.api.guardpolicy > {POLICY_FILE.relative_to(REPO)}"
    )


def test_committed_policy_parses_back_to_the_built_manifests() -> None:
    assert _docs(POLICY_FILE) == guardpolicy.manifests()


def test_the_install_lists_the_policy() -> None:
    listed = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"]
    assert POLICY_FILE.name in listed


# --- identity ---------------------------------------------------------------------------


def test_the_identity_is_the_operators_serviceaccount() -> None:
    account = next(
        d for d in _docs(MANIFESTS / "serviceaccount.yaml") if d["kind"] == "ServiceAccount"
    )
    assert (account["metadata"]["namespace"], account["metadata"]["name"]) == (
        guardpolicy.OPERATOR_NAMESPACE,
        guardpolicy.OPERATOR_ACCOUNT,
    )
    binding = next(
        d for d in _docs(MANIFESTS / "clusterrole.yaml") if d["kind"] == "ClusterRoleBinding"
    )
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": guardpolicy.OPERATOR_ACCOUNT,
            "namespace": guardpolicy.OPERATOR_NAMESPACE,
        }
    ]
    assert guardpolicy.OPERATOR_USER == "system:serviceaccount:fwop-system:fwop"


@pytest.mark.parametrize("guard", GUARDS, ids=lambda g: g.name)
def test_every_policy_judges_only_the_operator_and_fails_closed(
    guard: guardpolicy.Guard,
) -> None:
    policy, binding = guard.policy(), guard.binding()
    assert policy["spec"]["failurePolicy"] == "Fail"
    assert policy["spec"]["matchConditions"] == [
        {
            "name": "operator-only",
            "expression": f"request.userInfo.username == '{guardpolicy.OPERATOR_USER}'",
        }
    ]
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == guard.name
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert guard.name.startswith(guardpolicy.NAME)


def test_only_the_workload_guard_uses_params_and_only_on_labelled_objects() -> None:
    """Params are collected before matchConditions: a miss would refuse every user."""
    with_params = [g for g in GUARDS if "paramRef" in g.binding()["spec"]]
    assert [g.name for g in with_params] == [f"{guardpolicy.NAME}-workload"]
    spec = with_params[0].binding()["spec"]
    assert spec["paramRef"] == {"selector": {}, "parameterNotFoundAction": "Deny"}
    assert spec["matchResources"] == {
        "objectSelector": {"matchLabels": {meta.LABEL_MANAGED_BY: meta.MANAGED_BY}}
    }
    assert with_params[0].policy()["spec"]["paramKind"] == {
        "apiVersion": group.API_VERSION,
        "kind": group.KIND,
    }
    assert "DELETE" not in with_params[0].operations  # garbage collection deletes children


# --- kinds --------------------------------------------------------------------------------


def _matched(guard: guardpolicy.Guard) -> set[tuple[str, str]]:
    rules = guard.policy()["spec"]["matchConstraints"]["resourceRules"]
    return {(g, r) for rule in rules for g in rule["apiGroups"] for r in rule["resources"]}


def test_the_children_guard_matches_every_kind_the_operator_writes() -> None:
    written = {(k.group, k.plural) for k in kinds.CHILDREN}
    assert set(guardpolicy.CHILDREN) == written
    assert _matched(GUARDS[0]) == written
    assert GUARDS[0].operations == ("CREATE", "UPDATE", "DELETE")


# Written by the operator but harmless, or refused by the API server to anyone but it.
UNGUARDED = {
    ("", "events"),  # Events on workloads
    ("authorization.k8s.io", "subjectaccessreviews"),  # a question, changes nothing
    ("finance.compliance.dev", "financialworkloads/status"),
    ("finance.compliance.dev", "financialworkloads/finalizers"),
    ("finance.compliance.dev", "financialworkloadpolicies/status"),
    ("coordination.k8s.io", "leases"),  # its own Lease, in its own namespace (a Role)
    # Its verdicts, one report per workload: grant nothing and run nothing; a report is
    # replaced only when controlled by its workload (fwop.controller._write_report).
    ("wgpolicyk8s.io", "policyreports"),
    ("wgpolicyk8s.io", "clusterpolicyreports"),  # the summary of those verdicts
}


def test_every_write_the_clusterrole_grants_is_guarded() -> None:
    """A new writable kind in the ClusterRole must get a guard (or a reason here)."""
    role = next(d for d in _docs(MANIFESTS / "clusterrole.yaml") if d["kind"] == "ClusterRole")
    writes = {"create", "update", "patch", "delete", "escalate", "bind"}
    granted = {
        (g, r)
        for rule in role["rules"]
        if writes & set(rule["verbs"])
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    guarded = set().union(*(_matched(g) for g in GUARDS))
    assert granted - UNGUARDED == guarded


def test_each_kind_specific_guard_matches_one_kind() -> None:
    for guard in GUARDS[2:]:
        assert len(_matched(guard)) == 1, guard.name  # type-checked against that schema


# --- rules --------------------------------------------------------------------------------


def test_rule_keys_are_unique_and_name_themselves_in_the_message() -> None:
    keys = [rule.key for rule in RULES]
    assert len(keys) == len(set(keys))
    for guard in GUARDS:
        for rule, validation in zip(
            guard.rules, guard.policy()["spec"]["validations"], strict=True
        ):
            assert validation["message"].startswith(
                f"{rule.key}: the operator's token (fwop-guard) "
            )
            assert validation["reason"] == "Forbidden"


def test_every_floor_class_has_a_role_rule() -> None:
    keys = {rule.key for rule in RULES}
    assert {f"role-floor-{cls.key}" for cls in floor.CLASSES} <= keys


@pytest.mark.parametrize("cls", floor.CLASSES, ids=lambda c: c.key)
def test_the_floor_cel_is_the_crds_one_with_another_variable(cls: floor.Class) -> None:
    default = floor.cel(cls)
    assert floor.cel(cls, "self") == default
    assert floor.cel(cls, "rule") == default.replace("self.", "rule.")
    assert "self" not in floor.cel(cls, "rule")
    rule = next(r for r in RULES if r.key == f"role-floor-{cls.key}")
    assert rule.must == f"!has(object.rules) || object.rules.all(rule, {floor.cel(cls, 'rule')})"


@pytest.mark.parametrize("var", ["g", "r", "v", "", "a b", "1x"])
def test_the_floor_cel_refuses_a_shadowed_or_invalid_variable(var: str) -> None:
    with pytest.raises(ValueError, match="CEL variable"):
        floor.cel(floor.CLASSES[0], var)


def _balanced(expression: str) -> bool:
    depth = 0
    for char in re.sub(r"'[^']*'", "''", expression):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and expression.count("'") % 2 == 0


@pytest.mark.parametrize(
    "validation",
    [v for g in GUARDS for v in g.policy()["spec"]["validations"]],
    ids=[r.key for r in RULES],
)
def test_expressions_are_well_formed(validation: dict[str, str]) -> None:
    assert _balanced(validation["expression"]), validation["expression"]


# (rule key, operations it judges): a DELETE has no object, an UPDATE an old one.
OPERATIONS = [
    ("managed-by", ("CREATE", "UPDATE")),
    ("controller", ("CREATE", "UPDATE")),
    ("foreign-object", ("UPDATE", "DELETE")),
    ("namespace-restricted", ("CREATE", "UPDATE")),
    ("namespace-labels", ("UPDATE",)),
]


@pytest.mark.parametrize(("key", "operations"), OPERATIONS, ids=[k for k, _ in OPERATIONS])
def test_rules_judge_the_operations_they_can(key: str, operations: tuple[str, ...]) -> None:
    rule = next(r for r in RULES if r.key == key)
    guard = next(g for g in GUARDS if rule in g.rules)
    judged = set(rule.operations) & set(guard.operations)
    assert judged == set(operations)
    expression = rule.validation(guard.operations)["expression"]
    if set(rule.operations) != set(guard.operations):
        assert expression.startswith("!(request.operation in [")


RATCHETS = [r for r in RULES if r.before]


def test_only_fields_the_operator_does_not_own_ratchet() -> None:
    """Env and externalIPs are not the operator's (SSA leaves them): the rest is strict."""
    assert [r.key for r in RATCHETS] == [
        "service-external-ips",
        "pod-secret-env",
        "cronjob-pod-secret-env",
    ]


@pytest.mark.parametrize("rule", RATCHETS, ids=lambda r: r.key)
def test_a_ratchet_judges_the_old_object_with_the_same_expression(
    rule: guardpolicy.Rule,
) -> None:
    assert "oldObject" not in rule.must
    assert rule.before == rule.must.replace("object.", "oldObject.")
    expression = rule.validation(guardpolicy.WRITES)["expression"]
    assert expression == f"({rule.must}) || (request.operation == 'UPDATE' && !({rule.before}))"


# --- what the renderers write satisfies the guards -----------------------------------------

FULL: dict[str, Any] = {
    "profile": "pci",
    "replicas": 3,
    "ports": [{"name": "http", "containerPort": 8080}],
    "permissions": [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
    ],
    "env": [{"name": "MODE", "value": "live"}],
    "network": {"allowDNS": True},
    "secrets": {
        "provider": "gcp",
        "objects": [{"name": "k", "path": "projects/p/secrets/k/versions/1"}],
    },
    "residency": {"regions": ["eu-west-1"]},
}


def _specs() -> list[tuple[str, spec_api.FinancialWorkloadSpec]]:
    specs = [("full", spec_api.FinancialWorkloadSpec.model_validate(spec_data(**FULL)))]
    for path in sorted((REPO / "examples").glob("*.yaml")):
        for doc in _docs(path):
            if doc["kind"] == group.KIND:
                specs.append(
                    (path.stem, spec_api.FinancialWorkloadSpec.model_validate(doc["spec"]))
                )
    return specs


SPECS = _specs()


@pytest.fixture(params=SPECS, ids=[name for name, _ in SPECS])
def children(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    _, spec = request.param
    return workload.render_all("team", "app", spec, OWNER)


def test_every_namespaced_child_is_labelled_and_controlled(children: list[dict[str, Any]]) -> None:
    for child in children:
        if child["kind"] == "Namespace":
            continue
        metadata = child["metadata"]
        assert metadata["labels"][guardpolicy.LABEL_MANAGED_BY] == guardpolicy.MANAGED_BY
        controllers = [o for o in metadata["ownerReferences"] if o.get("controller")]
        assert [(o["apiVersion"], o["kind"]) for o in controllers] == [
            (group.API_VERSION, group.KIND)
        ], child["kind"]


def test_the_namespace_gets_only_restricted_pss_labels(children: list[dict[str, Any]]) -> None:
    ns = next(c for c in children if c["kind"] == "Namespace")
    assert set(ns["metadata"]) == {"name", "labels"}  # nothing else of the namespace
    labels = ns["metadata"]["labels"]
    assert all(key.startswith(guardpolicy.PSS_PREFIX) for key in labels)
    for mode in guardpolicy.PSS_MODES:
        assert labels[f"{guardpolicy.PSS_PREFIX}{mode}"] == guardpolicy.PSS_LEVEL
    assert set(labels) <= {
        f"{guardpolicy.PSS_PREFIX}{mode}{suffix}"
        for mode in guardpolicy.PSS_MODES
        for suffix in ("", "-version")
    }


def test_roles_and_bindings_are_what_the_guard_allows(children: list[dict[str, Any]]) -> None:
    by_kind = {c["kind"]: c for c in children}
    if "Role" not in by_kind:
        return
    for rule in by_kind["Role"]["rules"]:
        for field in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert not any("*" in value for value in rule.get(field, []))
        assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"])
        assert not list(floor.breaches(rule["apiGroups"], rule["resources"], rule["verbs"]))
    binding = by_kind["RoleBinding"]
    name, ns = binding["metadata"]["name"], binding["metadata"]["namespace"]
    assert binding["roleRef"]["kind"] == "Role"
    assert binding["roleRef"]["name"] == name
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": ns}]


def test_pods_services_and_secret_classes_are_what_the_guard_allows(
    children: list[dict[str, Any]],
) -> None:
    for child in children:
        if child["kind"] == "Service":
            assert child["spec"].get("type", "ClusterIP") == "ClusterIP"
            assert not child["spec"].get("externalIPs")
        if child["kind"] == "SecretProviderClass":
            assert not child["spec"].get("secretObjects")
        if child["kind"] == "Deployment":
            spec = child["spec"]["template"]["spec"]
            assert spec["serviceAccountName"] == child["metadata"]["name"]
            for volume in spec.get("volumes", []):
                if "csi" in volume:
                    assert volume["csi"]["driver"] == guardpolicy.CSI_DRIVER
                else:
                    assert {"emptyDir", "configMap", "projected", "persistentVolumeClaim",
                            "ephemeral"} & set(volume), volume  # fmt: skip
                for source in volume.get("projected", {}).get("sources", []):
                    assert not {"secret", "clusterTrustBundle"} & set(source), source
            for container in spec.get("initContainers", []) + spec["containers"]:
                assert not container.get("envFrom")
                assert all("valueFrom" not in env for env in container.get("env", []))


def test_the_guards_constants_are_the_renderers() -> None:
    assert (guardpolicy.LABEL_MANAGED_BY, guardpolicy.MANAGED_BY) == (
        meta.LABEL_MANAGED_BY,
        meta.MANAGED_BY,
    )
    assert f"{namespace.PREFIX}/" == guardpolicy.PSS_PREFIX
    assert guardpolicy.PSS_LEVEL == namespace.LEVEL
    assert guardpolicy.PSS_MODES == namespace.MODES
    assert guardpolicy.CSI_DRIVER == pod.CSI_DRIVER


# --- the tenants' NetworkPolicies ---------------------------------------------------------

TENANT_FILE = MANIFESTS / "tenant-guard.yaml"


def test_committed_tenant_guard_is_what_the_module_generates() -> None:
    assert TENANT_FILE.read_text(encoding="utf-8") == tenantguard.render(), (
        f"regenerate: python -m fwop.api.tenantguard > {TENANT_FILE.relative_to(REPO)}"
    )
    assert _docs(TENANT_FILE) == tenantguard.manifests()


def test_tenant_guard_names_the_label_the_pods_carry_and_spares_the_operator() -> None:
    assert tenantguard.LABEL_WORKLOAD == meta.LABEL_WORKLOAD
    pod_labels = meta.labels("app")
    assert tenantguard.LABEL_WORKLOAD in pod_labels
    for guard in tenantguard.guards():
        condition = guard.policy()["spec"]["matchConditions"][0]["expression"]
        assert condition.startswith(f"request.userInfo.username != '{guardpolicy.OPERATOR_USER}'")
        assert guard.binding()["spec"]["paramRef"]["parameterNotFoundAction"] == "Allow"
    kustomization = (MANIFESTS / "kustomization.yaml").read_text(encoding="utf-8")
    assert f"- {TENANT_FILE.name}" in kustomization


def test_the_rolebinding_guard_knows_the_accounts_name(make_spec: SpecFactory) -> None:
    """It compares subjects with params.metadata.name: the ServiceAccount is named so."""
    ctx = meta.Context(namespace="team", name="ledger", spec=make_spec())
    assert serviceaccount.name(ctx) == "ledger"
    assert "params.metadata.name" in tenantguard.NAMES_THE_WORKLOAD


def test_only_the_operator_its_controllers_and_kubelets_may_run_pods_as_a_workload() -> None:
    """The pod guards exempt kube-controller-manager's own identities (which make the
    workload's ReplicaSets and pods) and kubelets, never a team's."""
    pods = [g for g in tenantguard.guards() if g.name.startswith(tenantguard.WORKLOAD_NAME)]
    assert len(pods) == 5
    for guard in pods:
        who = guard.policy()["spec"]["matchConditions"][0]["expression"]
        assert who == tenantguard.TRUSTED
        assert "system:serviceaccount:kube-system:replicaset-controller" in who
        assert "system:masters" not in who
    kinds = {r for g in pods for rule in g.policy()["spec"]["matchConstraints"]["resourceRules"]
             for r in rule["resources"]}  # fmt: skip
    assert kinds == {"pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs",
                     "replicationcontrollers", "cronjobs", "serviceaccounts/token"}  # fmt: skip
