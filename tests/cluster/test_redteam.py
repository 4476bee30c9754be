"""The red-team table: attacks by a team that may only write FinancialWorkloads, on a real cluster.

Each attack is made the way an attacker would make it: `kubectl apply` impersonating a team
ServiceAccount that holds `financialworkloads` and `configmaps get` in one namespace and
nothing else, or (for the takeover and bypass cases) against objects another party made.
Every case asserts the refusal with its control ID, or the absence of any effect on the
cluster: the workload not stored, foreign objects unchanged, no child of a blocked
generation, no privileged pod, no permission the baseline forbids.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import ssl
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
import yaml
from conftest import REPO, Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

TEAM = "team"
DIGEST = "sha256:" + "0123456789abcdef" * 4
PORTS = [{"name": "http", "containerPort": 8080}]
FLOW_PORTS = [{"port": 8080}]
CLUSTER_POLICY = REPO / "tests" / "cluster" / "policy.yaml"


def perm(group: str, resource: str, *verbs: str, **extra: Any) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": [resource], "verbs": list(verbs), **extra}


def ingress(*peers: dict[str, Any]) -> dict[str, Any]:
    return {"ports": PORTS, "network": {"ingress": [{"from": list(peers), "ports": FLOW_PORTS}]}}


def egress(*peers: dict[str, Any], port: int = 443) -> dict[str, Any]:
    return {"network": {"egress": [{"to": list(peers), "ports": [{"port": port}]}]}}


def env(name: str, value: str) -> dict[str, Any]:
    return {"env": [{"name": name, "value": value}]}


PCI = {"profile": "pci", "replicas": 2}
ANY_NAMESPACE = {"namespaceSelector": {}}


@dataclasses.dataclass(frozen=True)
class Attack:
    """A FinancialWorkload a team tries to get admitted, and how it must be refused."""

    id: str
    spec: dict[str, Any]
    control: str | None
    """The control the refusal names; None for schema refusals without one."""
    text: str
    """A substring of the refusal."""
    name: str = "attack"


ATTACKS = [
    # RBAC-3: the hard floor, refused by the CRD whatever the policy says.
    Attack("pods-create", {"permissions": [perm("", "pods", "create")]}, "RBAC-3", "pods"),
    Attack("pods-exec", {"permissions": [perm("", "pods/exec", "create")]}, "RBAC-3", "enters"),
    Attack("pods-attach", {"permissions": [perm("", "pods/attach", "get")]}, "RBAC-3", "enters"),
    Attack(
        "pods-portforward",
        {"permissions": [perm("", "pods/portforward", "create")]},
        "RBAC-3",
        "enters",
    ),
    Attack(
        "pods-ephemeralcontainers",
        {"permissions": [perm("", "pods/ephemeralcontainers", "patch")]},
        "RBAC-3",
        "enters",
    ),
    Attack(
        "serviceaccount-token",
        {"permissions": [perm("", "serviceaccounts/token", "create")]},
        "RBAC-3",
        "tokens",
    ),
    Attack(
        "roles-write",
        {"permissions": [perm("rbac.authorization.k8s.io", "roles", "create")]},
        "RBAC-3",
        "grants permissions",
    ),
    Attack(
        "rolebindings-write",
        {"permissions": [perm("rbac.authorization.k8s.io", "rolebindings", "patch")]},
        "RBAC-3",
        "grants permissions",
    ),
    Attack(
        "networkpolicies-write",
        {"permissions": [perm("networking.k8s.io", "networkpolicies", "patch")]},
        "RBAC-3",
        "guardrails",
    ),
    Attack(
        "namespaces-patch",
        {"permissions": [perm("", "namespaces", "patch")]},
        "RBAC-3",
        "namespace",
    ),
    Attack(
        "secretproviderclasses-write",
        {"permissions": [perm("secrets-store.csi.x-k8s.io", "secretproviderclasses", "update")]},
        "RBAC-3",
        "guardrails",
    ),
    Attack(
        "financialworkloads-write",
        {"permissions": [perm("finance.compliance.dev", "financialworkloads", "patch")]},
        "RBAC-3",
        "guardrails",
    ),
    Attack(
        "deployments-write",
        {"permissions": [perm("apps", "deployments", "create")]},
        "RBAC-3",
        "creates or controls pods",
    ),
    Attack(
        "jobs-write",
        {"permissions": [perm("batch", "jobs", "create")]},
        "RBAC-3",
        "creates or controls pods",
    ),
    Attack("secrets-baseline", {"permissions": [perm("", "secrets", "get")]}, "RBAC-3", "Secrets"),
    Attack(
        "secrets-pci", {**PCI, "permissions": [perm("", "secrets", "list")]}, "RBAC-3", "Secrets"
    ),
    Attack(
        "services-write",
        {"permissions": [perm("", "services", "create")]},
        "RBAC-3",
        "Service traffic",
    ),
    Attack(
        "wildcard-resource-name",
        {"permissions": [perm("", "configmaps", "get", resourceNames=["*"])]},
        "RBAC-2",
        "resourceNames",
    ),
    # RBAC-3: the policy's allowlist (the suite's policy keeps the default: read configmaps).
    Attack(
        "allowlist-configmaps-update",
        {"permissions": [perm("", "configmaps", "update")]},
        "RBAC-3",
        "does not allow",
    ),
    Attack(
        "allowlist-leases",
        {"permissions": [perm("coordination.k8s.io", "leases", "get")]},
        "RBAC-3",
        "does not allow",
    ),
    # RBAC-4: grantable by the policy, but the team does not hold it itself.
    Attack(
        "grant-more-than-held",
        {"permissions": [perm("", "configmaps", "list")]},
        "RBAC-4",
        "may not list on configmaps",
    ),
    # RBAC-4 for volumes: the pods would read a claim the team may not get (without any
    # permissions declared, the case where the question used to go unasked).
    Attack(
        "mount-claim-not-held",
        {
            "volumes": [{"name": "j", "persistentVolumeClaim": {"claimName": "other-journal"}}],
            "volumeMounts": [{"name": "j", "mountPath": "/var/lib/j"}],
        },
        "RBAC-4",
        "may not get on persistentvolumeclaims named other-journal",
    ),
    # The root filesystem replaced by a writable claim, spelt so normalisation hides it.
    Attack(
        "mount-over-root",
        {
            "volumes": [{"name": "r", "emptyDir": {"sizeLimit": "1Gi"}}],
            "volumeMounts": [{"name": "r", "mountPath": "//", "writable": True}],
        },
        None,
        "is an absolute path without",
    ),
    # DRF-2: the platform decides enforcement.
    Attack("pci-audit", {**PCI, "enforcement": "audit"}, "DRF-2", "allowed: enforce"),
    # NET-3: network guardrails.
    Attack(
        "pci-ingress-internet",
        {**PCI, **ingress({"ipBlock": {"cidr": "0.0.0.0/0"}})},
        "NET-3",
        "0.0.0.0/0",
    ),
    Attack("pci-ingress-ipv6", {**PCI, **ingress({"ipBlock": {"cidr": "::/0"}})}, "NET-3", "::/0"),
    Attack("ingress-every-namespace", ingress(ANY_NAMESPACE), "NET-3", "every namespace"),
    Attack(
        "pci-egress-internet",
        {**PCI, **egress({"ipBlock": {"cidr": "0.0.0.0/0"}})},
        "NET-3",
        "0.0.0.0/0",
    ),
    Attack(
        "egress-cloud-metadata",
        egress({"ipBlock": {"cidr": "169.254.169.254/32"}}),
        "NET-3",
        "169.254.0.0/16",
    ),
    Attack(
        "egress-api-server",
        egress({"ipBlock": {"cidr": "10.96.0.0/24"}}),
        "NET-3",
        "10.96.0.1/32",
    ),
    Attack(
        "egress-any-pod-anywhere",
        egress({**ANY_NAMESPACE, "podSelector": {}}),
        "NET-3",
        "every namespace",
    ),
    Attack(
        "egress-kube-system",
        egress(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
        ),
        "NET-3",
        "kube-system",
    ),
    # Bounded input: a quantity that would cost seconds of exact arithmetic.
    Attack(
        "huge-quantity",
        {
            "resources": {
                "requests": {"cpu": "1e1000000000", "memory": "64Mi"},
                "limits": {"cpu": "1", "memory": "64Mi"},
            }
        },
        None,
        "spec.resources.requests.cpu",
    ),
    # SEC-1: secrets typed into the spec, as people really write them.
    Attack("env-pgpassword", env("PGPASSWORD", "Hunter2!"), "SEC-1", "spec.env[0]"),
    Attack("env-mysql-pwd", env("MYSQL_PWD", "Hunter2!"), "SEC-1", "spec.env[0]"),
    Attack("env-redis-auth", env("REDIS_AUTH", "s3cr3tR3dis"), "SEC-1", "spec.env[0]"),
    Attack("env-hsm-pin", env("HSM_PIN", "839201"), "SEC-1", "spec.env[0]"),
    Attack(
        "env-jdbc-password",
        env("DB_URL", "jdbc:postgresql://db:5432/pay?user=app&password=Hunter2!"),
        "SEC-1",
        "spec.env[0]",
    ),
    Attack(
        "args-password-two-items",
        {"args": ["--db-password", "Hunter2!"]},
        "SEC-1",
        "spec.args",
    ),
    Attack("env-aws-key", env("AWS_ID", "AKIAIOSFODNN7EXAMPLE"), "SEC-1", "spec.env[0]"),
    Attack(
        "env-stripe-key",
        env("PAYMENTS", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        "SEC-1",
        "spec.env[0]",
    ),
    Attack(
        "shell-script-secret",
        {"command": ["sh", "-c", "export PGPASSWORD=Hunter2! && exec /app"]},
        "SEC-1",
        "spec.command",
    ),
    Attack(
        "mount-over-token",
        {
            "secrets": {
                "provider": "gcp",
                "mountPath": "//var/run/secrets/kubernetes.io/serviceaccount",
                "objects": [{"name": "db", "path": "projects/p/secrets/db/versions/1"}],
            }
        },
        "SEC-1",
        "spec.secrets.mountPath",
    ),
    # OWN-1: the namespace's own ServiceAccount is not for taking.
    Attack("named-default", {}, "OWN-1", "metadata.name", name="default"),
]


def _impersonate(ns: str) -> list[str]:
    return [
        f"--as=system:serviceaccount:{ns}:{TEAM}",
        "--as-group=system:serviceaccounts",
        f"--as-group=system:serviceaccounts:{ns}",
        "--as-group=system:authenticated",
    ]


def as_team(kube: Kube, ns: str, doc: dict[str, Any]) -> Any:
    """`kubectl apply` as the team: it holds financialworkloads and configmaps get, no more."""
    return kube.kubectl(
        *_impersonate(ns), "apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(doc),
        check=False,
    )  # fmt: skip


def _team_rbac(ns: str) -> list[dict[str, Any]]:
    rules = [
        perm(
            "finance.compliance.dev",
            "financialworkloads",
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
        ),
        perm("", "configmaps", "get"),
    ]
    meta = {"name": TEAM, "namespace": ns}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": TEAM},
            "subjects": [{"kind": "ServiceAccount", "name": TEAM, "namespace": ns}],
        },
    ]


def _new_namespace(kube: Kube, prefix: str) -> str:
    ns = f"{prefix}-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(kube.api).create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=ns))
    )
    kube.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(_team_rbac(ns)))
    return ns


@pytest.fixture
def arena(kube: Kube, operator: Operator) -> Iterator[str]:
    """A namespace where the team holds only what _team_rbac grants."""
    ns = _new_namespace(kube, "rt")
    yield ns
    client.CoreV1Api(kube.api).delete_namespace(ns)


def _stored(kube: Kube, ns: str, name: str) -> bool:
    try:
        wl.get(kube, ns, name)
    except client.ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def test_the_team_can_write_a_compliant_workload(kube: Kube, arena: str) -> None:
    """The control case: the same identity and namespace admit a workload within the rules."""
    body = wl.spec(permissions=[perm("", "configmaps", "get")], **ingress({"podSelector": {}}))
    result = as_team(kube, arena, wl.manifest("fine", arena, body))
    assert result.returncode == 0, result.stderr
    wl.wait_ready(kube, arena, "fine")


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_is_refused(kube: Kube, arena: str, attack: Attack) -> None:
    result = as_team(kube, arena, wl.manifest(attack.name, arena, wl.spec(**attack.spec)))
    assert result.returncode != 0, f"{attack.id} was admitted"
    if attack.control:
        assert f"({attack.control})" in result.stderr, result.stderr
    assert attack.text in result.stderr, result.stderr
    assert not _stored(kube, arena, attack.name)


def test_attack_table_is_at_least_forty_strong() -> None:
    assert len(ATTACKS) + len(TAKEOVERS) + 6 >= 40


# ---- OWN-1: a workload named like someone else's object never takes it over ----------------


@dataclasses.dataclass(frozen=True)
class Takeover:
    """An object another party made, and a workload whose child would bear its name."""

    kind: str
    resource: str
    foreign: dict[str, Any]
    spec: dict[str, Any]
    suffix: str = ""


def _meta(name: str) -> dict[str, Any]:
    return {"name": name, "labels": {"owner": "another-team"}}


VICTIM = "victim"
TAKEOVERS = [
    Takeover(
        "ServiceAccount", "serviceaccount",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(VICTIM)}, {},
    ),
    Takeover(
        "Role", "role",
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(VICTIM),
         "rules": [perm("", "configmaps", "get")]},
        {"permissions": [perm("", "configmaps", "get")]},
    ),
    Takeover(
        "RoleBinding", "rolebinding",
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": _meta(VICTIM),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "other"},
         "subjects": [{"kind": "ServiceAccount", "name": "other"}]},
        {"permissions": [perm("", "configmaps", "get")]},
    ),
    Takeover(
        "Service", "service",
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(VICTIM),
         "spec": {"ports": [{"port": 80}], "selector": {"app": "other"}}},
        {"ports": PORTS},
    ),
    Takeover(
        "NetworkPolicy", "networkpolicy",
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": _meta(f"{VICTIM}-default-deny"),
         "spec": {"podSelector": {"matchLabels": {"app": "other"}}, "policyTypes": ["Ingress"]}},
        {}, "-default-deny",
    ),
    Takeover(
        "PodDisruptionBudget", "poddisruptionbudget",
        {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(VICTIM),
         "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "other"}}}},
        PCI,
    ),
    Takeover(
        "SecretProviderClass", "secretproviderclass",
        {"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
         "metadata": _meta(VICTIM), "spec": {"provider": "vault", "parameters": {"a": "b"}}},
        {"secrets": {"provider": "gcp", "objects": [
            {"name": "db", "path": "projects/p/secrets/db/versions/1"}]}},
    ),
    Takeover(
        "Deployment", "deployment",
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(VICTIM),
         "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "other"}},
                  "template": {"metadata": {"labels": {"app": "other"}},
                               "spec": {"containers": [{"name": "c", "image": "x"}]}}}},
        {},
    ),
]  # fmt: skip


def _live(kube: Kube, ns: str, resource: str, name: str) -> dict[str, Any] | None:
    found = kube.kubectl("get", resource, name, "-n", ns, "-o", "json", check=False)
    return json.loads(found.stdout) if found.returncode == 0 else None


@pytest.mark.parametrize("takeover", TAKEOVERS, ids=[t.kind for t in TAKEOVERS])
def test_takeover_of_a_foreign_object_has_no_effect(
    kube: Kube, arena: str, takeover: Takeover
) -> None:
    ns, name = arena, VICTIM + takeover.suffix
    kube.kubectl("apply", "-n", ns, "-f", "-", stdin=yaml.safe_dump(takeover.foreign))
    before = _live(kube, ns, takeover.resource, name)
    assert before is not None
    result = as_team(kube, ns, wl.manifest(VICTIM, ns, wl.spec(**takeover.spec)))
    assert result.returncode == 0, result.stderr

    def conflict() -> dict[str, Any] | None:
        found = wl.condition(wl.get(kube, ns, VICTIM), "Reconciled")
        return found if found and found["reason"] == "ChildConflict" else None

    reported = eventually(conflict, 30, "ChildConflict")
    assert f"{takeover.kind} {name} already exists" in reported["message"]
    assert "owner:" in reported["message"]
    # The other children converge; the foreign object is untouched.
    eventually(
        lambda: (
            takeover.kind == "NetworkPolicy"
            or _live(kube, ns, "networkpolicy", f"{VICTIM}-default-deny")
        ),
        30,
        "the other children",
    )
    after = _live(kube, ns, takeover.resource, name)
    assert after is not None
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert not after["metadata"].get("ownerReferences")
    events = client.CoreV1Api(kube.api).list_namespaced_event(
        ns, field_selector=f"involvedObject.name={VICTIM},reason=ChildConflict"
    )
    assert events.items
    # Deleting the workload never takes the foreign object with it.
    kube.kubectl("delete", "financialworkload", VICTIM, "-n", ns, "--wait=true")
    time.sleep(2)  # garbage collection had its chance
    assert _live(kube, ns, takeover.resource, name) is not None


# ---- the workload's own token ---------------------------------------------------------------


def test_the_workload_token_cannot_open_the_namespace(kube: Kube, arena: str) -> None:
    """A workload granted what the policy allows cannot relabel, exec, read Secrets or run pods."""
    body = wl.spec(permissions=[perm("", "configmaps", "get")])
    assert as_team(kube, arena, wl.manifest("app", arena, body)).returncode == 0
    wl.wait_ready(kube, arena, "app")
    who = f"system:serviceaccount:{arena}:app"
    for verb, what in (
        ("patch", "namespaces"),
        ("create", "pods"),
        ("create", "pods/exec"),
        ("get", "secrets"),
        ("create", "serviceaccounts/token"),
        ("patch", "roles"),
        ("patch", "networkpolicies"),
        ("get", "configmaps"),
    ):
        answer = kube.kubectl(
            "auth", "can-i", verb, what, "-n", arena, f"--as={who}", check=False
        ).stdout.strip()
        assert answer == ("yes" if what == "configmaps" else "no"), (verb, what, answer)
    relabel = kube.kubectl(
        f"--as={who}", "label", "--overwrite", "namespace", arena,
        "pod-security.kubernetes.io/enforce=privileged", check=False,
    )  # fmt: skip
    assert relabel.returncode != 0
    assert "forbidden" in relabel.stderr.lower()


# ---- block, not only report -----------------------------------------------------------------


@contextlib.contextmanager
def bypassed(kube: Kube) -> Iterator[None]:
    """The webhook registration removed (a bypass, or an outage with failurePolicy changed)."""
    saved = kube.kubectl("get", "validatingwebhookconfiguration", "-o", "json").stdout
    items = [i for i in json.loads(saved)["items"] if "finance" in json.dumps(i["webhooks"])]
    for item in items:
        kube.kubectl("delete", "validatingwebhookconfiguration", item["metadata"]["name"])
    time.sleep(1)
    try:
        yield
    finally:
        for item in items:
            for key in ("resourceVersion", "uid", "creationTimestamp", "generation"):
                item["metadata"].pop(key, None)
            item["metadata"].pop("managedFields", None)
            kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                         stdin=json.dumps(item))  # fmt: skip


UNTRUSTED = f"evil.example/miner@{DIGEST}"


def test_a_workload_that_bypassed_the_webhook_is_not_rolled_out(kube: Kube, arena: str) -> None:
    with bypassed(kube):
        result = as_team(kube, arena, wl.manifest("sneaky", arena, wl.spec(image=UNTRUSTED)))
    assert result.returncode == 0, result.stderr  # nothing stopped it at the door

    def blocked() -> dict[str, Any] | None:
        found = wl.condition(wl.get(kube, arena, "sneaky"), "Reconciled")
        return found if found and found["reason"] == "PolicyBlocked" else None

    reported = eventually(blocked, 30, "PolicyBlocked")
    assert "(IMG-2)" in reported["message"]
    assert "no child is created" in reported["message"]
    for kind, (api, method) in wl.CHILD_LISTERS.items():
        listed = getattr(getattr(client, api)(kube.api), method)(arena)
        mine = [o for o in listed.items if o.metadata.name.startswith("sneaky")]
        assert mine == [], kind


def test_a_blocked_update_keeps_the_last_compliant_generation(
    kube: Kube, arena: str, operator: Operator
) -> None:
    assert as_team(kube, arena, wl.manifest("held", arena, wl.spec())).returncode == 0
    wl.wait_ready(kube, arena, "held")
    apps = client.AppsV1Api(kube.api)
    with bypassed(kube):
        body = wl.spec(image=UNTRUSTED, replicas=4)
        assert as_team(kube, arena, wl.manifest("held", arena, body)).returncode == 0
    reported = eventually(
        lambda: (
            (c := wl.condition(wl.get(kube, arena, "held"), "Reconciled"))
            and c["reason"] == "PolicyBlocked"
            and c
        ),
        30,
        "PolicyBlocked",
    )
    assert "stay as generation 1 made them" in reported["message"]
    deployment = apps.read_namespaced_deployment("held", arena)
    assert deployment.spec.template.spec.containers[0].image == wl.IMAGE
    assert deployment.spec.replicas == 2
    # Drift is still healed, against the held generation.
    kube.kubectl("scale", "deployment/held", "--replicas=1", "-n", arena)
    eventually(
        lambda: apps.read_namespaced_deployment("held", arena).spec.replicas == 2,
        30,
        "healed to the held generation",
    )
    held = wl.get(kube, arena, "held")
    assert held["status"]["appliedGeneration"] == 1
    assert wl.condition(held, "Ready")["reason"] == "PolicyBlocked"
    # Back to a compliant spec: it rolls out.
    assert as_team(kube, arena, wl.manifest("held", arena, wl.spec(replicas=3))).returncode == 0
    eventually(
        lambda: apps.read_namespaced_deployment("held", arena).spec.replicas == 3, 30, "rolled"
    )


def _policy_taken(kube: Kube) -> None:
    def taken() -> bool:
        obj = client.CustomObjectsApi(kube.api).get_cluster_custom_object(
            "finance.compliance.dev", "v1alpha1", "financialworkloadpolicies", "default"
        )
        return obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]

    eventually(taken, 30, "policy taken")
    time.sleep(2.5)  # admission reads the policy at most about 2 s old


def test_a_tighter_policy_never_takes_back_running_pods(
    kube: Kube, arena: str, operator: Operator
) -> None:
    assert as_team(kube, arena, wl.manifest("running", arena, wl.spec())).returncode == 0
    wl.wait_ready(kube, arena, "running")
    tighter = yaml.safe_load(CLUSTER_POLICY.read_text())
    tighter["spec"]["allowedRegistries"] = ["registry.other.example/"]
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                 stdin=yaml.safe_dump(tighter))  # fmt: skip
    try:
        _policy_taken(kube)
        compliant = eventually(
            lambda: (
                (c := wl.condition(wl.get(kube, arena, "running"), "Compliant"))
                and c["status"] == "False"
                and c
            ),
            30,
            "Compliant=False",
        )
        assert "(IMG-2)" in compliant["message"]
        deployment = client.AppsV1Api(kube.api).read_namespaced_deployment("running", arena)
        assert deployment.spec.replicas == 2
        assert deployment.spec.template.spec.containers[0].image == wl.IMAGE
        reconciled = wl.condition(wl.get(kube, arena, "running"), "Reconciled")
        assert reconciled["status"] == "True"
    finally:
        kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CLUSTER_POLICY))
        _policy_taken(kube)


def test_dns_deny_refuses_a_hand_written_dns_flow(kube: Kube, arena: str) -> None:
    no_dns = yaml.safe_load(CLUSTER_POLICY.read_text())
    no_dns["spec"]["dnsEgress"] = "deny"
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-",
                 stdin=yaml.safe_dump(no_dns))  # fmt: skip
    try:
        _policy_taken(kube)
        peer = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": arena}},
            "podSelector": {},
        }
        body = wl.spec(**egress(peer, port=53))
        result = as_team(kube, arena, wl.manifest("dns", arena, body))
        assert result.returncode != 0
        assert "spec.network.egress[0].ports[0].port: port 53 is DNS" in result.stderr
        assert "(NET-2)" in result.stderr
    finally:
        kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CLUSTER_POLICY))
        _policy_taken(kube)


# ---- the webhook under hostile input --------------------------------------------------------


def _review(obj: dict[str, Any], groups: tuple[str, ...] = ("system:authenticated",)) -> bytes:
    kind = {"group": "finance.compliance.dev", "version": "v1alpha1", "kind": "FinancialWorkload"}
    resource = {**kind, "resource": "financialworkloads"}
    del resource["kind"]
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()), "kind": kind, "resource": resource, "requestKind": kind,
            "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
            "operation": "CREATE",
            "userInfo": {"username": "attacker", "groups": list(groups)},
            "object": obj, "oldObject": None, "dryRun": False,
        },
    }).encode()  # fmt: skip


def _post(operator: Operator, body: bytes) -> tuple[float, dict[str, Any]]:
    context = ssl.create_default_context(cafile=str(operator.cert_dir / "tls.crt"))
    context.check_hostname = False
    request = urllib.request.Request(
        f"https://127.0.0.1:{operator.webhook_port}/validate-financialworkload",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return time.perf_counter() - started, answer


EXCEPT = [f"10.40.{j}.0/24" for j in range(16)]


def _largest_spec() -> dict[str, Any]:
    """A spec at the CRD's bounds in every list the admission walks."""
    long = "x" * 1000
    return wl.spec(
        command=[f"/app/{long}"] * 64,
        args=[f"--opt-{i}={long}" for i in range(64)],
        env=[{"name": f"VAR_{i}", "value": "v" * 4000} for i in range(64)],
        ports=[{"name": f"p{i}", "containerPort": 8000 + i} for i in range(16)],
        permissions=[  # 256 accesses: the most one review asks the API server about
            perm("", "configmaps", "get", resourceNames=[f"cm-{i}-{j}" for j in range(32)])
            for i in range(8)
        ],
        network={
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {f"k{j}": "v"}}} for j in range(16)],
                    "ports": [{"port": 8000 + j} for j in range(16)],
                }
                for _ in range(32)
            ],
            "egress": [
                {
                    "to": [
                        {"ipBlock": {"cidr": "10.40.0.0/16", "except": EXCEPT}} for _ in range(16)
                    ],
                    "ports": [{"port": 443}],
                }
                for _ in range(32)
            ],
        },
    )


def test_hostile_input_straight_to_the_webhook_port_is_judged_fast(operator: Operator) -> None:
    """Anyone who reaches the port: a huge exponent, and the largest spec the CRD admits."""
    huge = wl.manifest("huge", "default", wl.spec())
    huge["spec"]["resources"]["requests"]["cpu"] = "1e1000000000"
    huge["metadata"]["uid"] = str(uuid.uuid4())
    elapsed, answer = _post(operator, _review(huge))
    assert answer["response"]["allowed"] is False
    assert elapsed < 2.5, elapsed  # the webhook's timeout is 5 s; judging must stay far below
    largest = wl.manifest("largest", "default", _largest_spec())
    largest["metadata"]["uid"] = str(uuid.uuid4())
    admin = ("system:masters", "system:authenticated")  # holds all 256 accesses it grants
    elapsed, answer = _post(operator, _review(largest, admin))
    assert answer["response"]["allowed"] is True, answer["response"]
    assert elapsed < 2.5, elapsed
    # The event loop stayed free: health answers at once.
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.http_port}/healthz", timeout=2):
        pass
