"""Helpers for the operator's cluster tests: build, apply and watch FinancialWorkloads."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from conftest import Kube
from kubernetes import client
from support import eventually

GROUP, VERSION, PLURAL = "finance.compliance.dev", "v1alpha1", "financialworkloads"
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"registry.bank.example/team/app@{DIGEST}"
LABEL = "finance.compliance.dev/workload"
AS_TRUSTED = ("--as=system:kube-controller-manager", "--as-group=system:masters")
"""kubectl arguments for a tamper the tenant guard would refuse from a team (a change of a
workload's pod template or pods): made as kube-controller-manager, which the guard trusts,
with the admin's rights. Drift is what such an identity, or a change made before the guard
existed, leaves (tests/cluster/test_tenant_guard.py shows the refusals)."""

# Every kind the operator may create, as (kind, api, list method name).
CHILD_LISTERS = {
    "ServiceAccount": ("CoreV1Api", "list_namespaced_service_account"),
    "Role": ("RbacAuthorizationV1Api", "list_namespaced_role"),
    "RoleBinding": ("RbacAuthorizationV1Api", "list_namespaced_role_binding"),
    "NetworkPolicy": ("NetworkingV1Api", "list_namespaced_network_policy"),
    "Service": ("CoreV1Api", "list_namespaced_service"),
    "Deployment": ("AppsV1Api", "list_namespaced_deployment"),
    "CronJob": ("BatchV1Api", "list_namespaced_cron_job"),
    "PodDisruptionBudget": ("PolicyV1Api", "list_namespaced_pod_disruption_budget"),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "list_namespaced_horizontal_pod_autoscaler"),
}


def spec(**overrides: Any) -> dict[str, Any]:
    """A valid baseline spec, with top-level overrides."""
    base: dict[str, Any] = {
        "profile": "baseline",
        "image": IMAGE,
        "replicas": 2,
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "128Mi"},
        },
    }
    base.update(copy.deepcopy(overrides))
    return base


def manifest(name: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "FinancialWorkload",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


def apply(kube: Kube, doc: dict[str, Any], check: bool = True) -> Any:
    """kubectl apply, as a team or a GitOps tool would."""
    return kube.kubectl("apply", "--server-side", "-f", "-", stdin=yaml.safe_dump(doc), check=check)


def get(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    api = client.CustomObjectsApi(kube.api)
    found: dict[str, Any] = api.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    return found


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in obj.get("status", {}).get("conditions", []) if c["type"] == kind), None)


def wait_ready(kube: Kube, namespace: str, name: str, timeout: float = 90) -> dict[str, Any]:
    """Wait until Ready=True at the current generation; return the workload."""

    def ready() -> dict[str, Any] | None:
        obj = get(kube, namespace, name)
        cond = condition(obj, "Ready")
        current = obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]
        return obj if cond and cond["status"] == "True" and current else None

    try:
        return eventually(ready, timeout, f"{namespace}/{name} Ready")
    except AssertionError:
        obj = get(kube, namespace, name)
        raise AssertionError(f"not Ready: {json.dumps(obj.get('status'), indent=1)}") from None


def children(kube: Kube, namespace: str, name: str) -> dict[tuple[str, str], Any]:
    """Every object labelled as a child of the workload, keyed by (kind, name)."""
    found: dict[tuple[str, str], Any] = {}
    for kind, (api_name, method) in CHILD_LISTERS.items():
        api = getattr(client, api_name)(kube.api)
        for item in getattr(api, method)(namespace, label_selector=f"{LABEL}={name}").items:
            found[(kind, item.metadata.name)] = item
    spcs = client.CustomObjectsApi(kube.api).list_namespaced_custom_object(
        "secrets-store.csi.x-k8s.io",
        "v1",
        namespace,
        "secretproviderclasses",
        label_selector=f"{LABEL}={name}",
    )
    for item in spcs["items"]:
        found[("SecretProviderClass", item["metadata"]["name"])] = item
    return found


def resource_version(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj["metadata"]["resourceVersion"])
    return str(obj.metadata.resource_version)


def policy_report(kube: Kube, namespace: str, uid: str) -> dict[str, Any] | None:
    """The workload's PolicyReport, None until the operator has written it."""
    api = client.CustomObjectsApi(kube.api)
    try:
        found: dict[str, Any] = api.get_namespaced_custom_object(
            "wgpolicyk8s.io", "v1alpha2", namespace, "policyreports", f"fwop-{uid}"
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def pod_uid(kube: Kube, namespace: str, name: str) -> str | None:
    """The uid of a pod that exists and is not being deleted, else None."""
    try:
        pod = client.CoreV1Api(kube.api).read_namespaced_pod(name, namespace)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return None if pod.metadata.deletion_timestamp else str(pod.metadata.uid)
