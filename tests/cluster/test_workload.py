"""The operator end to end on a real API server: examples, updates, deletion, no-op passes.

The operator runs as a subprocess (`fwop-operator`), exactly as `make run` starts it.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import pytest
import workloads as wl
import yaml
from conftest import REPO, Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
PSS = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def _workload_docs(path: Path) -> list[dict[str, Any]]:
    return [
        d for d in yaml.safe_load_all(path.read_text()) if d and d["kind"] == "FinancialWorkload"
    ]


@pytest.fixture(scope="module")
def examples(kube: Kube, operator: Operator) -> list[dict[str, Any]]:
    for path in EXAMPLES:
        kube.kubectl("apply", "--server-side", "-f", str(path))
    return [doc for path in EXAMPLES for doc in _workload_docs(path)]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_becomes_ready_with_restricted_pods(
    kube: Kube, examples: list[dict[str, Any]], path: Path
) -> None:
    for doc in _workload_docs(path):
        ns, name = doc["metadata"]["namespace"], doc["metadata"]["name"]
        obj = wl.wait_ready(kube, ns, name)
        for kind in ("Reconciled", "Compliant"):
            assert wl.condition(obj, kind)["status"] == "True", kind
        labels = client.CoreV1Api(kube.api).read_namespace(ns).metadata.labels
        assert PSS.items() <= labels.items()
        pods = client.CoreV1Api(kube.api).list_namespaced_pod(
            ns, label_selector=f"{wl.LABEL}={name}"
        )
        spec = doc["spec"]
        kinds = {kind for kind, _ in wl.children(kube, ns, name)}
        if "job" in spec:  # a scheduled job: its CronJob runs nothing until the schedule says
            assert {"ServiceAccount", "NetworkPolicy", "CronJob"} <= kinds
            assert "Deployment" not in kinds
            assert wl.condition(obj, "Ready")["reason"] == "Scheduled"
            assert pods.items == []
            continue
        wanted = spec.get("replicas", 1)
        if "autoscaling" in spec or "replicas" in spec.get("externallyManaged", []):
            # an autoscaler's call; the Deployment starts at its minimum
            wanted = client.AppsV1Api(kube.api).read_namespaced_deployment(name, ns).spec.replicas
            assert wanted >= spec.get("autoscaling", {}).get("minReplicas", 1)
        assert len(pods.items) == wanted
        regions = set(doc["spec"].get("residency", {}).get("regions", []))
        for pod in pods.items:
            assert pod.status.phase == "Running"
            node = client.CoreV1Api(kube.api).read_node(pod.spec.node_name)
            if regions:  # RES-1: the scheduler honoured the region affinity
                assert node.metadata.labels["topology.kubernetes.io/region"] in regions
            ctx = pod.spec.security_context
            assert ctx.run_as_non_root is True
            assert ctx.seccomp_profile.type == "RuntimeDefault"
        kinds = {kind for kind, _ in wl.children(kube, ns, name)}
        assert {"ServiceAccount", "NetworkPolicy", "Deployment", "SecretProviderClass"} <= kinds
        listed = {(c["kind"], c["name"]) for c in obj["status"]["children"]}
        assert listed == set(wl.children(kube, ns, name))


def test_restart_writes_nothing(kube: Kube, operator: Operator, examples: list[dict]) -> None:
    """A resume after restart over unchanged workloads is a no-op for the API server."""
    before = {}
    for doc in examples:
        ns, name = doc["metadata"]["namespace"], doc["metadata"]["name"]
        wl.wait_ready(kube, ns, name)
        before[(ns, name)] = {
            k: wl.resource_version(v) for k, v in wl.children(kube, ns, name).items()
        }
        # Unchanged means written too: the evidence goes behind the reconciles.
        uid = wl.get(kube, ns, name)["metadata"]["uid"]
        report = functools.partial(wl.policy_report, kube, ns, uid)
        eventually(report, 60, f"{ns}/{name}'s PolicyReport")
        before[(ns, name)]["self"] = wl.resource_version(wl.get(kube, ns, name))
    audit = kube.kubeconfig.parent / "audit" / "audit.log"
    mark = audit.stat().st_size if kube.local else 0
    starts = operator.log_path.read_text().count('"watching"')
    operator.restart()
    # Give the restarted operator time to list, compare and (wrongly) write.
    eventually(
        lambda: operator.log_path.read_text().count('"watching"') > starts, 30, "operator start"
    )
    time.sleep(5)
    for (ns, name), versions in before.items():
        after = {k: wl.resource_version(v) for k, v in wl.children(kube, ns, name).items()}
        after["self"] = wl.resource_version(wl.get(kube, ns, name))
        assert after == versions, f"{ns}/{name} changed on a no-op resume"
    if kube.local:
        with audit.open() as log:
            log.seek(mark)
            writes = [json.loads(line) for line in log]
        ours = [
            (w["verb"], w["objectRef"].get("resource"), w["objectRef"].get("name"))
            for w in writes
            if w.get("userAgent", "").startswith(("fwop/", "kopf/"))
            and w["objectRef"].get("namespace") in {ns for ns, _ in before}
        ]
        assert ours == [], f"operator wrote on a no-op resume: {ours}"
