"""The operator's own token is bounded: what manifests/guard-policy.yaml refuses, for real.

Every request here is made as the operator's ServiceAccount (the token of the `operator`
fixture; impersonated when the installed operator runs, FWOP_OPERATOR=deployment). Each
refusal must come from the API server with the key of the guard rule in its message
(fwop.api.guardpolicy), and must leave nothing behind. The positive cases show the
same identity still writes what the operator renders; tests/cluster/test_workload.py and
test_drift.py show the operator itself is not hindered.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import OPERATOR_ACCOUNT, OPERATOR_NAMESPACE, Kube, Operator
from kubernetes import client, config
from support import eventually

from fwop.api import guardpolicy

pytestmark = pytest.mark.cluster

SA_USER = f"system:serviceaccount:{OPERATOR_NAMESPACE}:{OPERATOR_ACCOUNT}"
NAME = "guarded"
MANAGED_BY = {guardpolicy.LABEL_MANAGED_BY: guardpolicy.MANAGED_BY}
CONFIGMAPS_GET = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
IMAGE = wl.IMAGE


@pytest.fixture(scope="module")
def identity(kube: Kube, operator: Operator) -> Iterator[client.ApiClient]:
    """An API client that is the operator: its own token, or the admin impersonating it."""
    if operator.kubeconfig != kube.kubeconfig:
        api = config.new_client_from_config(config_file=str(operator.kubeconfig))
    else:  # the installed operator: its token stays in its pods
        api = config.new_client_from_config(config_file=str(kube.kubeconfig))
        api.set_default_header("Impersonate-User", SA_USER)
    try:
        yield api
    finally:
        api.close()


@pytest.fixture(scope="module")
def workload(kube: Kube, operator: Operator) -> Iterator[tuple[str, str]]:
    """A namespace holding a ready workload (so Pod Security restricted): (namespace, uid)."""
    ns = f"g-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wl.apply(kube, wl.manifest(NAME, ns, wl.spec(replicas=1)))
    obj = wl.wait_ready(kube, ns, NAME)
    yield ns, obj["metadata"]["uid"]
    core.delete_namespace(ns)


def meta(
    name: str, ns: str, uid: str, *, labels: bool = True, owner: bool = True
) -> dict[str, Any]:
    """Metadata as the operator renders it (label, controller ownerReference), or less."""
    out: dict[str, Any] = {"name": name, "namespace": ns}
    if labels:
        out["labels"] = dict(MANAGED_BY)
    if owner:
        out["ownerReferences"] = [
            {
                "apiVersion": "finance.compliance.dev/v1alpha1",
                "kind": "FinancialWorkload",
                "name": NAME,
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return out


def role(name: str, ns: str, uid: str, rules: list[dict[str, Any]], **kw: bool) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": meta(name, ns, uid, **kw),
        "rules": rules,
    }


def deployment(
    name: str, ns: str, uid: str, pod: dict[str, Any] | None = None, **kw: bool
) -> dict[str, Any]:
    spec = {"serviceAccountName": name, "containers": [{"name": "app", "image": IMAGE}]}
    spec.update(pod or {})
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, ns, uid, **kw),
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"guard-test": name}},
            "template": {"metadata": {"labels": {"guard-test": name}}, "spec": spec},
        },
    }


def _names(text: str, key: str) -> bool:
    """Whether a refusal's text comes from the guard rule ``key``."""
    if key == "workload-namespace":  # the binding refuses before any rule: no params
        return f"'{guardpolicy.NAME}-workload'" in text and "no params found" in text
    return f"{key}: " in text and f"({guardpolicy.NAME})" in text


def refused(call: Callable[[], Any], *keys: str) -> str:
    """Assert the API server refuses `call` by one of the guard rules `keys`; its message.

    The API server reports the first refusal only, and the order of the policies is its
    own: a request breaking several rules names any one of them.
    """
    with pytest.raises(client.ApiException) as info:
        call()
    exc = info.value
    message = str(json.loads(exc.body or "{}").get("message", ""))
    assert exc.status in {403, 422}, (exc.status, message)
    assert any(_names(message, key) for key in keys), (keys, message)
    return message


def absent(read: Callable[[], Any]) -> bool:
    try:
        read()
    except client.ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


# --- Roles -------------------------------------------------------------------------------

ROLES = [
    ("secrets", [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]),
    ("wildcard", [{"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}]),
    ("wildcard-verb", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}]),
    ("pods-create", [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]),
    ("escalate", [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["escalate"]}]),
    (
        "rbac",
        [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["get"]}],
    ),
]
ROLE_KEYS = {
    "secrets": ("role-floor-secrets",),
    "wildcard": ("role-wildcard",),
    "wildcard-verb": ("role-wildcard",),
    "pods-create": ("role-floor-pods",),
    "escalate": ("role-verbs",),
    "rbac": ("role-floor-rbac",),
}


@pytest.mark.parametrize(("case", "rules"), ROLES, ids=[c for c, _ in ROLES])
def test_a_role_beyond_the_floor_is_refused_in_a_workload_namespace(
    kube: Kube,
    identity: client.ApiClient,
    workload: tuple[str, str],
    case: str,
    rules: list[dict[str, Any]],
) -> None:
    ns, uid = workload
    name = f"leak-{case}"
    rbac = client.RbacAuthorizationV1Api(identity)
    refused(lambda: rbac.create_namespaced_role(ns, role(name, ns, uid, rules)), *ROLE_KEYS[case])
    admin = client.RbacAuthorizationV1Api(kube.api)
    assert absent(lambda: admin.read_namespaced_role(name, ns))


def test_a_role_reading_secrets_in_kube_system_is_refused(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    """The escalation the guard exists for: escalate/bind held, yet no Secrets anywhere."""
    _, uid = workload
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]
    rbac = client.RbacAuthorizationV1Api(identity)
    refused(
        lambda: rbac.create_namespaced_role("kube-system", role("leak", "kube-system", uid, rules)),
        "role-floor-secrets",
        "namespace-restricted",
        "workload-namespace",
    )
    admin = client.RbacAuthorizationV1Api(kube.api)
    assert absent(lambda: admin.read_namespaced_role("leak", "kube-system"))


def test_the_operator_may_write_a_compliant_role(
    identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    """Labelled, owned, within the floor, in a restricted namespace with a workload: allowed.

    The running operator prunes it soon after (owned by the workload, not rendered).
    """
    ns, uid = workload
    rbac = client.RbacAuthorizationV1Api(identity)
    created = rbac.create_namespaced_role(ns, role("extra", ns, uid, CONFIGMAPS_GET))
    assert created.metadata.labels == MANAGED_BY
    try:  # the operator's own delete: foreground, only that very object
        options = client.V1DeleteOptions(
            propagation_policy="Foreground",
            preconditions=client.V1Preconditions(uid=created.metadata.uid),
        )
        rbac.delete_namespaced_role("extra", ns, body=options)
    except client.ApiException as exc:
        if exc.status != 404:  # 404: pruned by the operator already
            raise


def test_the_guard_judges_only_the_operator(kube: Kube, workload: tuple[str, str]) -> None:
    """An administrator writes what the operator may not (matchConditions on the user)."""
    ns, _ = workload
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    admin = client.RbacAuthorizationV1Api(kube.api)
    body = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role"}
    admin.create_namespaced_role(ns, {**body, "metadata": {"name": "admin-made"}, "rules": rules})
    admin.delete_namespaced_role("admin-made", ns)


# --- RoleBindings --------------------------------------------------------------------------

BINDINGS = [
    # (case, subject, key): the binding is named bind-<case>; other-role binds Role admin.
    (
        "human-user",
        {"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"},
        "rolebinding-subject",
    ),
    ("other-serviceaccount", {"kind": "ServiceAccount", "name": "default"}, "rolebinding-subject"),
    ("other-role", {"kind": "ServiceAccount", "name": "bind-other-role"}, "rolebinding-role"),
]


@pytest.mark.parametrize(("case", "subject", "key"), BINDINGS, ids=[b[0] for b in BINDINGS])
def test_a_rolebinding_to_anyone_but_the_workloads_serviceaccount_is_refused(  # noqa: PLR0917
    kube: Kube,
    identity: client.ApiClient,
    workload: tuple[str, str],
    case: str,
    subject: dict[str, str],
    key: str,
) -> None:
    ns, uid = workload
    name = f"bind-{case}"
    if subject["kind"] == "ServiceAccount":
        subject = {**subject, "namespace": ns}
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": meta(name, ns, uid),
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "admin" if case == "other-role" else name,
        },
        "subjects": [subject],
    }
    rbac = client.RbacAuthorizationV1Api(identity)
    refused(lambda: rbac.create_namespaced_role_binding(ns, body), key)
    admin = client.RbacAuthorizationV1Api(kube.api)
    assert absent(lambda: admin.read_namespaced_role_binding(name, ns))


def test_a_clusterrolebinding_is_refused_by_rbac(kube: Kube, identity: client.ApiClient) -> None:
    """RBAC already refuses it (no verb on clusterrolebindings): admission never sees it."""
    body = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "fwop-guard-test-leak", "labels": dict(MANAGED_BY)},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "admin",
        },
        "subjects": [
            {"kind": "ServiceAccount", "name": OPERATOR_ACCOUNT, "namespace": OPERATOR_NAMESPACE}
        ],
    }
    rbac = client.RbacAuthorizationV1Api(identity)
    with pytest.raises(client.ApiException) as info:
        rbac.create_cluster_role_binding(body)
    assert info.value.status == 403
    message = json.loads(info.value.body or "{}").get("message", "")
    assert 'cannot create resource "clusterrolebindings"' in message, message
    admin = client.RbacAuthorizationV1Api(kube.api)
    assert absent(lambda: admin.read_cluster_role_binding("fwop-guard-test-leak"))


# --- Namespaces ----------------------------------------------------------------------------

NAMESPACE_EDITS = [
    (
        "privileged",
        {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
        "namespace-pss",
    ),
    ("unrelated-label", {"labels": {"team.example/owner": "mallory"}}, "namespace-labels"),
    ("annotation", {"annotations": {"team.example/note": "x"}}, "namespace-unchanged"),
]


@pytest.mark.parametrize(
    ("case", "metadata", "key"), NAMESPACE_EDITS, ids=[e[0] for e in NAMESPACE_EDITS]
)
def test_the_namespace_keeps_everything_but_restricted_pss_labels(  # noqa: PLR0917
    kube: Kube,
    identity: client.ApiClient,
    workload: tuple[str, str],
    case: str,
    metadata: dict[str, Any],
    key: str,
) -> None:
    ns, _ = workload
    before = client.CoreV1Api(kube.api).read_namespace(ns).metadata
    core = client.CoreV1Api(identity)
    refused(lambda: core.patch_namespace(ns, {"metadata": metadata}), key)
    after = client.CoreV1Api(kube.api).read_namespace(ns).metadata
    assert (after.labels, after.annotations) == (before.labels, before.annotations), case


def test_kube_system_is_never_labelled(kube: Kube, identity: client.ApiClient) -> None:
    """Labelling kube-system restricted would make it look like a workload namespace."""
    patch = {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}
    core = client.CoreV1Api(identity)
    refused(lambda: core.patch_namespace("kube-system", patch), "namespace-system")
    labels = client.CoreV1Api(kube.api).read_namespace("kube-system").metadata.labels or {}
    assert "pod-security.kubernetes.io/enforce" not in labels


# --- Deployments and other children --------------------------------------------------------


def _read_deployment(kube: Kube, ns: str, name: str) -> Callable[[], Any]:
    return lambda: client.AppsV1Api(kube.api).read_namespaced_deployment(name, ns)


def test_a_deployment_without_label_or_owner_is_refused(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    ns, uid = workload
    apps = client.AppsV1Api(identity)
    body = deployment("stray", ns, uid, labels=False, owner=False)
    refused(lambda: apps.create_namespaced_deployment(ns, body), "managed-by", "controller")
    assert absent(_read_deployment(kube, ns, "stray"))


def test_a_deployment_in_a_namespace_without_pss_labels_is_refused(
    kube: Kube, identity: client.ApiClient, namespace: str
) -> None:
    """Pods there would not be held to restricted (and no workload lives there either)."""
    apps = client.AppsV1Api(identity)
    body = deployment("stray", namespace, str(uuid.uuid4()))
    refused(
        lambda: apps.create_namespaced_deployment(namespace, body),
        "namespace-restricted",
        "workload-namespace",
    )
    assert absent(_read_deployment(kube, namespace, "stray"))


def test_a_restricted_namespace_without_a_workload_is_refused(
    kube: Kube, identity: client.ApiClient, namespace: str
) -> None:
    """Relabelled restricted by someone, yet no FinancialWorkload: not the operator's place."""
    kube.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    rbac = client.RbacAuthorizationV1Api(identity)
    body = role("stray", namespace, str(uuid.uuid4()), CONFIGMAPS_GET)
    refused(lambda: rbac.create_namespaced_role(namespace, body), "workload-namespace")
    admin = client.RbacAuthorizationV1Api(kube.api)
    assert absent(lambda: admin.read_namespaced_role("stray", namespace))


POD_CASES = [
    ("other-serviceaccount", {"serviceAccountName": "default"}, "pod-serviceaccount"),
    (
        "secret-volume",
        {"volumes": [{"name": "s", "secret": {"secretName": "db"}}]},
        "pod-volumes",
    ),
    (
        "secret-env",
        {
            "containers": [
                {
                    "name": "app",
                    "image": IMAGE,
                    "envFrom": [{"secretRef": {"name": "db"}}],
                }
            ]
        },
        "pod-secret-env",
    ),
]


@pytest.mark.parametrize(("case", "pod", "key"), POD_CASES, ids=[c[0] for c in POD_CASES])
def test_a_deployment_reaching_secrets_or_another_identity_is_refused(  # noqa: PLR0917
    kube: Kube,
    identity: client.ApiClient,
    workload: tuple[str, str],
    case: str,
    pod: dict[str, Any],
    key: str,
) -> None:
    ns, uid = workload
    apps = client.AppsV1Api(identity)
    name = f"pod-{case}"
    refused(lambda: apps.create_namespaced_deployment(ns, deployment(name, ns, uid, pod)), key)
    assert absent(_read_deployment(kube, ns, name))


def test_the_operator_still_heals_a_deployment_someone_gave_a_secret(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    """pod-secret-env ratchets: a Secret someone else put in the env does not stop the heal
    (which removes it with the rest of the tamper, in one write); into a clean Deployment the
    token cannot put one."""
    ns, _ = workload
    env = [{"name": "DB", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]
    tamper = [
        {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": env},
        {"op": "remove", "path": "/spec/template/spec/securityContext/runAsNonRoot"},
    ]
    kube.kubectl(
        "patch",
        "deployment",
        NAME,
        "-n",
        ns,
        "--type=json",
        "-p",
        json.dumps(tamper),
        *wl.AS_TRUSTED,
    )
    admin = client.AppsV1Api(kube.api)

    def healed() -> bool:
        pod = admin.read_namespaced_deployment(NAME, ns).spec.template.spec
        return bool(pod.security_context.run_as_non_root) and not pod.containers[0].env

    eventually(healed, 30, "runAsNonRoot and the env healed by the operator")
    # Clean again: the token may not put a Secret back.
    more = [{"name": "app", "env": env}]
    patch = {"spec": {"template": {"spec": {"containers": more}}}}
    apps = client.AppsV1Api(identity)
    refused(lambda: apps.patch_namespaced_deployment(NAME, ns, patch), "pod-secret-env")


def test_deleting_an_object_the_operator_did_not_create_is_refused(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    ns, _ = workload
    admin = client.CoreV1Api(kube.api)
    admin.create_namespaced_service_account(ns, {"metadata": {"name": "foreign"}})
    core = client.CoreV1Api(identity)
    refused(lambda: core.delete_namespaced_service_account("foreign", ns), "foreign-object")
    assert admin.read_namespaced_service_account("foreign", ns).metadata.name == "foreign"


def test_a_nodeport_service_is_refused(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    ns, uid = workload
    body = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta("exposed", ns, uid),
        "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80}]},
    }
    core = client.CoreV1Api(identity)
    refused(lambda: core.create_namespaced_service(ns, body), "service-type")
    assert absent(lambda: client.CoreV1Api(kube.api).read_namespaced_service("exposed", ns))


def test_a_networkpolicy_rule_without_peers_is_refused(
    kube: Kube, identity: client.ApiClient, workload: tuple[str, str]
) -> None:
    """A stolen token cannot open a workload with a labelled, owned allow-all policy."""
    ns, uid = workload
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("open", ns, uid),
        "spec": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]},
    }
    net = client.NetworkingV1Api(identity)
    refused(lambda: net.create_namespaced_network_policy(ns, body), "networkpolicy-peers")
    admin = client.NetworkingV1Api(kube.api)
    assert absent(lambda: admin.read_namespaced_network_policy("open", ns))


def test_the_cluster_holds_the_generated_policies(kube: Kube, operator: Operator) -> None:
    """What the API server enforces is what fwop.api.guardpolicy generates."""
    admission = client.AdmissionregistrationV1Api(kube.api)
    for guard in guardpolicy.guards():
        live = admission.read_validating_admission_policy(guard.name).to_dict()
        validations = [
            {"expression": v["expression"], "message": v["message"], "reason": v["reason"]}
            for v in live["spec"]["validations"]
        ]
        assert validations == guard.policy()["spec"]["validations"], guard.name
        binding = admission.read_validating_admission_policy_binding(guard.name)
        assert binding.spec.validation_actions == ["Deny"]
