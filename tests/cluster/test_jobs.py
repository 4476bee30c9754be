"""Scheduled jobs on a real cluster: a workload with spec.job is a CronJob whose runs go
through the same hardened pods (admitted under Pod Security restricted, completed by the
Job controller), and a tamper of its pod template is drift like a Deployment's."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

pytestmark = pytest.mark.cluster

NAME = "nightly"
JOB = {"schedule": "0 2 * * *", "timeZone": "Europe/London", "backoffLimit": 1}


@pytest.fixture(scope="module")
def nightly(kube: Kube, operator: Operator) -> Iterator[str]:
    ns = f"jb-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    body = wl.spec(job=JOB, args=["--bucket=ledger-exports"])
    del body["replicas"]
    wl.apply(kube, wl.manifest(NAME, ns, body))
    wl.wait_ready(kube, ns, NAME)
    yield ns
    core.delete_namespace(ns)


def test_a_scheduled_job_is_a_hardened_cronjob_and_nothing_of_a_service(
    kube: Kube, nightly: str
) -> None:
    ns = nightly
    obj = wl.get(kube, ns, NAME)
    ready = wl.condition(obj, "Ready")
    assert (ready["status"], ready["reason"]) == ("True", "Scheduled")
    assert ready["message"] == "CronJob runs on schedule 0 2 * * * (Europe/London)"
    kinds = {kind for kind, _ in wl.children(kube, ns, NAME)}
    assert "CronJob" in kinds
    assert not {"Deployment", "Service", "PodDisruptionBudget"} & kinds
    cron = client.BatchV1Api(kube.api).read_namespaced_cron_job(NAME, ns)
    assert cron.spec.concurrency_policy == "Forbid"
    pod = cron.spec.job_template.spec.template.spec
    assert pod.restart_policy == "Never"
    assert pod.service_account_name == NAME
    assert pod.containers[0].security_context.read_only_root_filesystem is True
    assert obj["status"]["compliance"]["failing"] == []


def test_a_run_completes_with_restricted_pods(kube: Kube, nightly: str) -> None:
    """A run started from the CronJob, as its controller would, completes.

    The tenant guard refuses a Job running as the workload's ServiceAccount from anyone but
    the cluster's controllers, so the run is started as kube-controller-manager.
    """
    ns = nightly
    kube.kubectl("create", "job", "run-1", f"--from=cronjob/{NAME}", "-n", ns, *wl.AS_TRUSTED)
    batch = client.BatchV1Api(kube.api)

    def complete() -> Any:
        job = batch.read_namespaced_job("run-1", ns)
        done = [
            c for c in job.status.conditions or () if c.type == "Complete" and c.status == "True"
        ]
        return job if done else None

    eventually(complete, 90, "the run to complete")
    pods = client.CoreV1Api(kube.api).list_namespaced_pod(ns, label_selector="job-name=run-1")
    assert pods.items
    for pod in pods.items:
        assert pod.status.phase == "Succeeded"
        assert pod.metadata.labels[wl.LABEL] == NAME
        assert pod.spec.security_context.run_as_non_root is True
    # A run is the CronJob's business: the workload's status did not move for it.
    assert wl.condition(wl.get(kube, ns, NAME), "Ready")["reason"] == "Scheduled"


def _drift(kube: Kube, ns: str, field: str) -> dict[str, Any] | None:
    for entry in wl.get(kube, ns, NAME).get("status", {}).get("drift", []):
        if entry["kind"] == "CronJob" and field in entry["field"] and "healedAt" in entry:
            return dict(entry)
    return None


def test_a_tampered_pod_template_is_healed(kube: Kube, nightly: str) -> None:
    ns = nightly
    path = "/spec/jobTemplate/spec/template/spec/hostNetwork"
    ops = [{"op": "add", "path": path, "value": True}]
    kube.kubectl("patch", "cronjob", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops),
                 *wl.AS_TRUSTED)  # fmt: skip
    entry = eventually(lambda: _drift(kube, ns, "hostNetwork"), 30, "a healed drift entry")
    assert entry["actual"] == "true"
    cron = client.BatchV1Api(kube.api).read_namespaced_cron_job(NAME, ns)
    assert not cron.spec.job_template.spec.template.spec.host_network


def test_a_run_s_pod_with_an_image_swapped_in_place_is_healed(kube: Kube, nightly: str) -> None:
    """A run's pods are compared with the template of the Job that made them (the operator
    watches the runs), so an image swapped in place in a run's pod is drift like a
    Deployment pod's: the pod is deleted and the drift recorded."""
    ns = nightly
    kube.kubectl("create", "job", "run-2", f"--from=cronjob/{NAME}", "-n", ns, *wl.AS_TRUSTED)
    core = client.CoreV1Api(kube.api)

    def made() -> Any:
        pods = core.list_namespaced_pod(ns, label_selector="job-name=run-2").items
        return pods[0] if pods else None

    pod = eventually(made, 60, "the run's pod")
    image = f"registry.bank.example/team/other@{wl.DIGEST}"
    ops = [{"op": "replace", "path": "/spec/containers/0/image", "value": image}]
    kube.kubectl("patch", "pod", pod.metadata.name, "-n", ns, "--type=json",
                 "-p", json.dumps(ops), *wl.AS_TRUSTED)  # fmt: skip

    def healed() -> dict[str, Any] | None:
        for entry in wl.get(kube, ns, NAME).get("status", {}).get("drift", []):
            if (entry["kind"], entry["name"]) == ("Pod", pod.metadata.name) and "healedAt" in entry:
                return dict(entry)
        return None

    entry = eventually(healed, 30, "a healed drift entry for the run's pod")
    assert entry["field"] == "spec.containers[name=app].image"
    assert entry["actual"] == image
    eventually(
        lambda: wl.pod_uid(kube, ns, pod.metadata.name) != pod.metadata.uid, 30, "the pod deleted"
    )
