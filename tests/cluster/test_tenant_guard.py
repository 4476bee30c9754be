"""Teams cannot widen a workload from beside it: manifests/tenant-guard.yaml, for real.

In a namespace holding a FinancialWorkload, a NetworkPolicy written by anyone but the
operator (here the suite's admin) is refused unless it allows nothing or its podSelector
leaves the operator's pods out, and a RoleBinding naming the workload's ServiceAccount is
refused; elsewhere neither is judged; the operator's own policies and binding still go
through (the workload is Ready with a declared ingress flow and a permission).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from kubernetes.client.rest import ApiException
from support import eventually

from fwop.api import tenantguard

pytestmark = pytest.mark.cluster

NAME = "ledger"
OPEN_RULE = [{"ports": [{"port": 8080, "protocol": "TCP"}]}]
LEAVE_OUT = {"matchExpressions": [{"key": tenantguard.LABEL_WORKLOAD, "operator": "DoesNotExist"}]}
PERMISSION = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
FLOW = {"from": [{"podSelector": {"matchLabels": {"app": "gateway"}}}],
        "ports": [{"port": 8080}]}  # fmt: skip


def policy(name: str, selector: dict[str, Any], **rules: Any) -> dict[str, Any]:
    kinds = [k.capitalize() for k in rules] or ["Ingress"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name},
        "spec": {"podSelector": selector, "policyTypes": kinds, **rules},
    }


def refusal(net: client.NetworkingV1Api, ns: str, body: dict[str, Any]) -> str | None:
    """None when created, else the API server's refusal."""
    try:
        net.create_namespaced_network_policy(ns, body)
    except ApiException as exc:
        return str(exc.body)
    return None


@pytest.fixture(scope="module")
def guarded(kube: Kube, operator: Operator) -> Iterator[str]:
    """A namespace with a ready workload that declares one ingress flow."""
    ns = f"tg-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    body = wl.spec(ports=[{"name": "http", "containerPort": 8080}], network={"ingress": [FLOW]},
                   permissions=[PERMISSION])  # fmt: skip
    wl.apply(kube, wl.manifest(NAME, ns, body))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


@pytest.mark.parametrize(
    "selector",
    [{}, {"matchLabels": {"app": "anything"}},
     {"matchExpressions": [{"key": tenantguard.LABEL_WORKLOAD, "operator": "Exists"}]}],
    ids=["every-pod", "team-chosen-label", "the-workloads-label"],
)  # fmt: skip
def test_a_policy_that_could_open_the_workloads_pods_is_refused(
    kube: Kube, guarded: str, selector: dict[str, Any]
) -> None:
    net = client.NetworkingV1Api(kube.api)
    name = f"open-{uuid.uuid4().hex[:6]}"
    why = eventually(lambda: refusal(net, guarded, policy(name, selector, ingress=OPEN_RULE)),
                     30, "the tenant guard refuses")  # fmt: skip
    assert f"{tenantguard.KEY}: {tenantguard.CONTROL}:" in why, why
    assert tenantguard.NAME in why, why
    egress = policy(f"{name}-e", selector, egress=[{}])
    assert refusal(net, guarded, egress) is not None
    names = [p.metadata.name for p in net.list_namespaced_network_policy(guarded).items]
    assert not any(n.startswith(name) for n in names)


def test_a_deny_or_a_policy_that_leaves_the_pods_out_is_admitted_and_stays_so(
    kube: Kube, guarded: str
) -> None:
    net = client.NetworkingV1Api(kube.api)
    eventually(lambda: refusal(net, guarded, policy("probe", {}, ingress=OPEN_RULE)), 30, "guard")
    assert refusal(net, guarded, policy("deny-all", {}, ingress=[], egress=[])) is None
    assert refusal(net, guarded, policy("others", LEAVE_OUT, ingress=OPEN_RULE)) is None
    opened = [{"op": "add", "path": "/spec/ingress", "value": OPEN_RULE}]
    with pytest.raises(ApiException) as refused:
        net.patch_namespaced_network_policy("deny-all", guarded, opened)
    assert tenantguard.KEY in str(refused.value.body)
    net.delete_namespaced_network_policy("deny-all", guarded)  # deletes pass


def test_a_namespace_without_workloads_is_not_judged(kube: Kube, operator: Operator) -> None:
    ns = f"tg-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        net = client.NetworkingV1Api(kube.api)
        assert refusal(net, ns, policy("open", {}, ingress=OPEN_RULE)) is None
    finally:
        core.delete_namespace(ns)


def test_the_operator_still_writes_the_declared_flow(kube: Kube, guarded: str) -> None:
    children = wl.children(kube, guarded, NAME)
    flows = [obj for (kind, _), obj in children.items() if kind == "NetworkPolicy"
             and obj.spec.ingress]  # fmt: skip
    assert flows, sorted(children)
    assert flows[0].spec.pod_selector.match_labels[tenantguard.LABEL_WORKLOAD] == NAME
    # A change that leaves the rules as they were (a label; the garbage collector's
    # finalizer updates) is not judged: it widens nothing.
    kube.kubectl("label", "networkpolicy", flows[0].metadata.name, "-n", guarded, "team=pay")


def test_opening_the_operators_own_default_deny_is_refused(kube: Kube, guarded: str) -> None:
    """The tamper drift would otherwise heal after the fact never lands at all."""
    opened = [{"op": "add", "path": "/spec/ingress", "value": [{}]}]
    net = client.NetworkingV1Api(kube.api)
    with pytest.raises(ApiException) as refused:
        net.patch_namespaced_network_policy(f"{NAME}-default-deny", guarded, opened)
    assert tenantguard.KEY in str(refused.value.body)
    assert not net.read_namespaced_network_policy(f"{NAME}-default-deny", guarded).spec.ingress


def rolebinding(name: str, subject: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "edit"},
        "subjects": [subject],
    }  # fmt: skip


def bind_refusal(rbac: client.RbacAuthorizationV1Api, ns: str, body: dict[str, Any]) -> str | None:
    try:
        rbac.create_namespaced_role_binding(ns, body)
    except ApiException as exc:
        return str(exc.body)
    return None


@pytest.mark.parametrize(
    "subject",
    [{"kind": "ServiceAccount", "name": NAME},
     {"kind": "ServiceAccount", "name": NAME, "namespace": "{ns}"},
     {"kind": "User", "name": "system:serviceaccount:{ns}:" + NAME,
      "apiGroup": "rbac.authorization.k8s.io"},
     {"kind": "Group", "name": "system:serviceaccounts:{ns}",
      "apiGroup": "rbac.authorization.k8s.io"},
     {"kind": "Group", "name": "system:serviceaccounts", "apiGroup": "rbac.authorization.k8s.io"},
     {"kind": "Group", "name": "system:authenticated", "apiGroup": "rbac.authorization.k8s.io"}],
    ids=["account", "account-with-namespace", "user-name", "namespace-accounts", "all-accounts",
         "everyone"],
)  # fmt: skip
def test_a_rolebinding_that_grants_the_workloads_account_is_refused(
    kube: Kube, guarded: str, subject: dict[str, str]
) -> None:
    rbac = client.RbacAuthorizationV1Api(kube.api)
    subject = {k: v.format(ns=guarded) for k, v in subject.items()}
    name = f"grant-{uuid.uuid4().hex[:6]}"
    why = eventually(lambda: bind_refusal(rbac, guarded, rolebinding(name, subject)), 30,
                     "the tenant guard refuses")  # fmt: skip
    assert f"{tenantguard.BINDINGS_KEY}: {tenantguard.BINDINGS_CONTROL}:" in why, why
    names = [b.metadata.name for b in rbac.list_namespaced_role_binding(guarded).items]
    assert name not in names


def test_bindings_of_other_accounts_pass_and_the_operators_own_stays(
    kube: Kube, guarded: str
) -> None:
    rbac = client.RbacAuthorizationV1Api(kube.api)
    other = rolebinding("ci-deployer", {"kind": "ServiceAccount", "name": "ci"})
    eventually(lambda: bind_refusal(rbac, guarded, rolebinding("probe", {
        "kind": "ServiceAccount", "name": NAME})), 30, "guard")  # fmt: skip
    assert bind_refusal(rbac, guarded, other) is None
    own = rbac.read_namespaced_role_binding(NAME, guarded)
    assert [(s.kind, s.name) for s in own.subjects] == [("ServiceAccount", NAME)]


def _pod(name: str, account: str, labels: dict[str, str]) -> dict[str, Any]:
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                  "runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}  # fmt: skip
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
            "spec": {"serviceAccountName": account, "containers": [
                {"name": "c", "image": wl.IMAGE, "securityContext": restricted}]}}  # fmt: skip


@pytest.mark.parametrize(
    ("account", "labels"),
    [(NAME, {}), ("default", {tenantguard.LABEL_WORKLOAD: NAME}),
     ("default", {tenantguard.LABEL_WORKLOAD: "anything"})],
    ids=["the-workloads-account", "the-workloads-label", "any-workload-label"],
)  # fmt: skip
def test_nobody_but_the_operator_runs_pods_as_the_workload(
    kube: Kube, guarded: str, account: str, labels: dict[str, str]
) -> None:
    core = client.CoreV1Api(kube.api)
    name = f"x-{uuid.uuid4().hex[:6]}"

    def refused() -> str | None:
        try:
            core.create_namespaced_pod(guarded, _pod(name, account, labels))
        except ApiException as exc:
            return str(exc.body)
        core.delete_namespaced_pod(name, guarded)
        return None

    why = eventually(refused, 30, "the pod guard refuses")
    assert f"{tenantguard.WORKLOAD_KEY}: {tenantguard.WORKLOAD_CONTROL}:" in why, why
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                  "spec": {"selector": {"matchLabels": {"app": name}}, "template": {
                      "metadata": {"labels": {"app": name, **labels}},
                      "spec": _pod(name, account, {})["spec"]}}}  # fmt: skip
    with pytest.raises(ApiException) as controller:
        client.AppsV1Api(kube.api).create_namespaced_deployment(guarded, deployment)
    assert tenantguard.WORKLOAD_KEY in str(controller.value.body)


def test_a_workloads_pods_are_not_changed_in_place_and_its_token_not_minted(
    kube: Kube, guarded: str
) -> None:
    core = client.CoreV1Api(kube.api)
    pods = core.list_namespaced_pod(guarded, label_selector=f"{wl.LABEL}={NAME}").items
    assert pods
    with pytest.raises(ApiException) as relabel:
        core.patch_namespaced_pod(pods[0].metadata.name, guarded,
                                  {"metadata": {"labels": {"role": "frontend"}}})  # fmt: skip
    assert tenantguard.WORKLOAD_KEY in str(relabel.value.body)
    token = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=["x"]))
    with pytest.raises(ApiException) as minted:
        core.create_namespaced_service_account_token(NAME, guarded, token)
    assert tenantguard.WORKLOAD_KEY in str(minted.value.body)
    other = _pod(f"ok-{uuid.uuid4().hex[:6]}", "default", {"app": "batch"})
    core.create_namespaced_pod(guarded, other)  # other pods of the namespace are not judged
    core.delete_namespaced_pod(other["metadata"]["name"], guarded)


def test_a_restart_passes_a_change_of_the_pod_spec_does_not(kube: Kube, guarded: str) -> None:
    """`kubectl rollout restart` (a template annotation) leaves the pod spec as it was."""
    kube.kubectl("rollout", "restart", f"deployment/{NAME}", "-n", guarded)
    escalate = [{"op": "replace", "value": True, "path": "/spec/template/spec/containers/0/"
                 "securityContext/allowPrivilegeEscalation"}]  # fmt: skip
    done = kube.kubectl("patch", "deployment", NAME, "-n", guarded, "--type=json", "-p",
                        json.dumps(escalate), check=False)  # fmt: skip
    assert done.returncode != 0
    assert tenantguard.WORKLOAD_KEY in done.stderr, done.stderr


def test_a_run_of_the_workload_changes_only_its_labels(kube: Kube, guarded: str) -> None:
    """A Job running as the workload (as its CronJob would make it): lifting its deadline
    or backoff, or taking it from its owner, is refused; a label passes."""
    pod = kube.api.sanitize_for_serialization(
        client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, guarded).spec.template
    )
    pod["spec"]["restartPolicy"] = "Never"
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "run-x"},
           "spec": {"backoffLimit": 1, "activeDeadlineSeconds": 600, "template": pod}}  # fmt: skip
    kube.kubectl("apply", "-n", guarded, "-f", "-", *wl.AS_TRUSTED, stdin=json.dumps(job))
    lift = json.dumps({"spec": {"activeDeadlineSeconds": 99999}})
    lifted = kube.kubectl("patch", "job", "run-x", "-n", guarded, "--type=merge", "-p", lift,
                          check=False)  # fmt: skip
    assert lifted.returncode != 0
    assert tenantguard.WORKLOAD_KEY in lifted.stderr, lifted.stderr
    kube.kubectl("label", "job", "run-x", "-n", guarded, "reviewed=yes")
    kube.kubectl("delete", "job", "run-x", "-n", guarded, "--wait=false")


def test_objects_written_before_the_workload_keep_it_out(kube: Kube, operator: Operator) -> None:
    """The guard judges writes against the workloads that exist then; a team writing an
    open policy and a binding first finds its workload refused until they are gone."""
    ns = f"tg-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    try:
        net = client.NetworkingV1Api(kube.api)
        net.create_namespaced_network_policy(ns, policy("early", {}, ingress=[{}]))
        rbac = client.RbacAuthorizationV1Api(kube.api)
        rbac.create_namespaced_role_binding(
            ns, rolebinding("early", {"kind": "ServiceAccount", "name": NAME})
        )
        done = wl.apply(kube, wl.manifest(NAME, ns, wl.spec()), check=False)
        assert done.returncode != 0
        assert "NetworkPolicy early in namespace" in done.stderr, done.stderr
        assert "(NET-1)" in done.stderr
        assert "RoleBinding early in namespace" in done.stderr
        net.delete_namespaced_network_policy("early", ns)
        rbac.delete_namespaced_role_binding("early", ns)
        wl.apply(kube, wl.manifest(NAME, ns, wl.spec()))
        wl.wait_ready(kube, ns, NAME)
    finally:
        core.delete_namespace(ns)
