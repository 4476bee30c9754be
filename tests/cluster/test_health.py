"""The Argo CD health check (manifests/argocd/, Lua) on real FinancialWorkload status.

The operator runs; each test brings a workload into one state and runs the Lua exactly as
Argo CD does (the object as the global `obj`, Lua 5.1 as in gopher-lua) on the object
read back from the API server: Healthy, Progressing (twice: pods that cannot be scheduled,
and a generation the operator has not seen), Degraded (twice: drift reported in audit
mode, and a cluster policy that no longer allows the workload).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
import yaml
from conftest import REPO, Kube, Operator
from kubernetes import client
from support import agree, argo_health, eventually

pytestmark = pytest.mark.cluster


def health_becomes(
    kube: Kube, namespace: str, name: str, status: str, timeout: float = 90
) -> tuple[dict[str, Any], str]:
    """Wait until the operator reported on the current generation and the script says
    `status` for the live object; return the object and the message."""

    def probe() -> tuple[dict[str, Any], str] | None:
        obj = wl.get(kube, namespace, name)
        ready = wl.condition(obj, "Ready")
        if not ready or ready.get("observedGeneration") != obj["metadata"]["generation"]:
            return None
        got, message = argo_health(obj)
        return (obj, message) if got == status else None

    obj, message = eventually(probe, timeout, f"{namespace}/{name} {status}")
    assert agree(obj)[0] == status  # and kstatus (Flux) says the same
    return obj, message


def test_healthy_when_ready_at_the_current_generation(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    wl.apply(kube, wl.manifest("app", namespace, wl.spec()))
    obj = wl.wait_ready(kube, namespace, "app")
    assert agree(obj) == ("Healthy", wl.condition(obj, "Ready")["message"])


def test_progressing_while_pods_cannot_be_scheduled(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    # No node has 1000 CPUs: the Deployment is applied, its pods stay Pending.
    huge = {
        "requests": {"cpu": "1000", "memory": "64Mi"},
        "limits": {"cpu": "1000", "memory": "128Mi"},
    }
    wl.apply(kube, wl.manifest("big", namespace, wl.spec(resources=huge)))
    obj, message = health_becomes(kube, namespace, "big", "Progressing")
    ready = wl.condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Progressing")
    assert message.startswith("Reconciling (Progressing): 0 of 2 pods available")


@contextlib.contextmanager
def admission_set_aside(kube: Kube) -> Iterator[None]:
    """Remove the webhook registrations for FinancialWorkloads; put them back afterwards.

    With the operator stopped, its webhook (failurePolicy Fail) would refuse every write.
    """
    listed = json.loads(kube.kubectl("get", "validatingwebhookconfigurations", "-o", "json").stdout)
    saved = [
        hook
        for hook in listed["items"]
        if any(
            "financialworkloads" in rule.get("resources", [])
            for webhook in hook.get("webhooks", [])
            for rule in webhook.get("rules", [])
        )
    ]
    for hook in saved:
        kube.kubectl("delete", "validatingwebhookconfiguration", hook["metadata"]["name"])
    try:
        yield
    finally:
        for hook in saved:
            hook["metadata"] = {
                k: v for k, v in hook["metadata"].items() if k in ("name", "labels", "annotations")
            }
            kube.kubectl("create", "-f", "-", stdin=json.dumps(hook))


def test_progressing_until_the_operator_observes_the_generation(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    wl.apply(kube, wl.manifest("app", namespace, wl.spec()))
    wl.wait_ready(kube, namespace, "app")
    operator.stop()
    try:
        with admission_set_aside(kube):
            wl.apply(kube, wl.manifest("app", namespace, wl.spec(replicas=3)))
        obj = wl.get(kube, namespace, "app")
        assert obj["status"]["observedGeneration"] < obj["metadata"]["generation"]
        status, message = agree(obj)
        assert status == "Progressing"
        assert f"observe generation {obj['metadata']['generation']}" in message
    finally:
        operator.start()
        operator.wait_ready()
    obj = wl.wait_ready(kube, namespace, "app")
    assert agree(obj)[0] == "Healthy"


def test_degraded_when_drift_is_reported_in_audit_mode(
    kube: Kube, operator: Operator, namespace: str
) -> None:
    wl.apply(kube, wl.manifest("app", namespace, wl.spec(enforcement="audit")))
    wl.wait_ready(kube, namespace, "app")
    kube.kubectl("scale", "deployment/app", "--replicas=5", "-n", namespace)
    obj, message = health_becomes(kube, namespace, "app", "Degraded")
    assert wl.condition(obj, "Drifted")["status"] == "True"
    assert "Deployment/app spec.replicas" in message, message


@pytest.fixture
def registry_withdrawn(kube: Kube, operator: Operator) -> Iterator[None]:
    """The cluster policy stops trusting the workloads' registry; restored afterwards."""
    suite_policy = REPO / "tests" / "cluster" / "policy.yaml"
    policy = yaml.safe_load(suite_policy.read_text())
    policy["spec"]["allowedRegistries"] = ["registry.elsewhere.example/"]
    try:
        yield apply_policy(kube, yaml.safe_dump(policy))
    finally:
        apply_policy(kube, suite_policy.read_text())


def apply_policy(kube: Kube, text: str) -> None:
    """Apply the cluster policy and wait until the operator has taken it (its status)."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", stdin=text)
    api = client.CustomObjectsApi(kube.api)

    def taken() -> bool:
        obj = api.get_cluster_custom_object(
            wl.GROUP, wl.VERSION, "financialworkloadpolicies", "default"
        )
        return bool(
            obj.get("status", {}).get("observedGeneration") == obj["metadata"]["generation"]
        )

    eventually(taken, 30, "operator took the policy")


def test_degraded_when_the_policy_no_longer_allows_it(
    kube: Kube, operator: Operator, namespace: str, request: pytest.FixtureRequest
) -> None:
    wl.apply(kube, wl.manifest("app", namespace, wl.spec()))
    wl.wait_ready(kube, namespace, "app")
    request.getfixturevalue("registry_withdrawn")
    obj, message = health_becomes(kube, namespace, "app", "Degraded")
    assert wl.condition(obj, "Compliant")["status"] == "False"
    assert message.startswith("Not compliant ("), message
