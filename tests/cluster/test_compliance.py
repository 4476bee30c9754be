"""Compliance verdicts on a real API server: every control judged from the live children,
written to a PolicyReport the workload owns and summarised in status; a tamper turns its
control's verdict to fail; an unchanged workload writes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import workloads as wl
from conftest import Kube, Operator
from kubernetes import client
from support import eventually

from fwop.compliance import trail

pytestmark = pytest.mark.cluster

NAME = "ledger"
CATALOG_SIZE = 26


def results(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["rule"]: r for r in doc["results"]}


@pytest.fixture
def audited(kube: Kube, operator: Operator) -> Iterator[tuple[str, dict[str, Any]]]:
    """A baseline workload in audit mode (drift is reported, not healed), Ready."""
    ns = f"c-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(kube.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    spec = wl.spec(enforcement="audit", network={"allowDNS": True})
    wl.apply(kube, wl.manifest(NAME, ns, spec))
    yield ns, wl.wait_ready(kube, ns, NAME)
    core.delete_namespace(ns)


def test_every_control_is_reported_with_evidence_and_summarised_in_status(
    kube: Kube, audited: tuple[str, dict[str, Any]]
) -> None:
    ns, obj = audited
    uid = obj["metadata"]["uid"]
    doc = eventually(lambda: wl.policy_report(kube, ns, uid), 30, "PolicyReport")
    assert doc["scope"]["uid"] == uid
    assert doc["metadata"]["ownerReferences"][0]["uid"] == uid
    found = results(doc)
    assert len(found) == CATALOG_SIZE
    assert {r["result"] for r in found.values()} <= {"pass", "skip"}, {
        k: r["message"] for k, r in found.items() if r["result"] not in {"pass", "skip"}
    }
    image = found["IMG-1"]
    assert image["properties"]["pci-dss"] == "6.3.2"
    evidence = json.loads(image["properties"]["evidence"])[0]
    deployment = client.AppsV1Api(kube.api).read_namespaced_deployment(NAME, ns)
    assert evidence["kind"] == "Deployment"
    assert evidence["uid"] == deployment.metadata.uid
    assert evidence["observed"] == deployment.spec.template.spec.containers[0].image
    status = eventually(lambda: wl.get(kube, ns, NAME)["status"].get("compliance"), 30, "status")
    assert status["report"] == f"fwop-{uid}"
    assert status["failed"] == 0
    assert status["passed"] == doc["summary"]["pass"]


def test_a_tamper_fails_its_control_and_an_unchanged_workload_writes_nothing(
    kube: Kube, audited: tuple[str, dict[str, Any]]
) -> None:
    ns, obj = audited
    uid = obj["metadata"]["uid"]
    first = eventually(lambda: wl.policy_report(kube, ns, uid), 30, "PolicyReport")
    time.sleep(3)  # passes that follow (pods turning Ready) change no verdict
    still = wl.policy_report(kube, ns, uid)
    assert still is not None
    assert still["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]

    ops = [{"op": "replace", "path": "/spec/template/spec/containers/0/securityContext/"
            "allowPrivilegeEscalation", "value": True}]  # fmt: skip
    kube.kubectl(
        "patch", "deployment", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops), *wl.AS_TRUSTED
    )

    def failing() -> dict[str, Any] | None:
        doc = wl.policy_report(kube, ns, uid)
        return doc if doc and results(doc)["POD-3"]["result"] == "fail" else None

    doc = eventually(failing, 30, "POD-3 fail in the PolicyReport")
    found = results(doc)
    assert found["DRF-1"]["result"] == "fail"  # audit mode: reported, not healed
    assert "allowPrivilegeEscalation" in found["POD-3"]["properties"]["evidence"]
    assert found["POD-3"]["timestamp"]["seconds"] >= first["results"][0]["timestamp"]["seconds"]
    untouched = results(first)["IMG-1"]["timestamp"]
    assert found["IMG-1"]["timestamp"] == untouched
    status = eventually(
        lambda: (c := wl.get(kube, ns, NAME)["status"]["compliance"])["failed"] and c, 30, "status"
    )
    assert {"POD-3", "DRF-1"} <= set(status["failing"])


def trail_records(operator: Operator) -> list[dict[str, Any]]:
    lines = operator.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [record for _, record in trail.records(lines)]


def test_the_evidence_trail_records_drift_and_refusals_in_an_intact_chain(
    kube: Kube, operator: Operator, audited: tuple[str, dict[str, Any]]
) -> None:
    if not operator.log_path.exists():
        pytest.fail(f"no operator log at {operator.log_path}: the trail cannot be read")
    ns, obj = audited
    uid = obj["metadata"]["uid"]
    kube.kubectl("scale", f"deployment/{NAME}", "--replicas=5", "-n", ns)

    def detected() -> dict[str, Any] | None:
        return next(
            (r for r in trail_records(operator)
             if r["type"] == "drift-detected" and r["workload"]["uid"] == uid
             and r["field"] == "spec.replicas"),
            None,
        )  # fmt: skip

    record = eventually(detected, 30, "drift-detected record")
    assert (record["before"], record["expected"]) == ("5", "2")
    foreign = "evil.example/app@sha256:" + "ab" * 32  # the webhook refuses it (IMG-2)
    bad = wl.manifest("tagged", ns, wl.spec(image=foreign))
    assert wl.apply(kube, bad, check=False).returncode != 0
    refused = eventually(
        lambda: next((r for r in trail_records(operator) if r["type"] == "admission-refused"
                      and r["namespace"] == ns), None),
        10,
        "admission-refused record",
    )  # fmt: skip
    assert refused["name"] == "tagged"
    assert refused["controls"] == ["IMG-2"]
    written = [r for r in trail_records(operator)
               if r["type"] == "children-written" and r["workload"]["uid"] == uid]  # fmt: skip
    assert written
    assert "Deployment " + NAME in written[0]["created"]
    verified = subprocess.run(
        [str(Path(sys.executable).parent / "fwctl"), "evidence", "verify", str(operator.log_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "chain intact" in verified.stderr


def test_the_cluster_summary_names_a_failing_workload(
    kube: Kube, audited: tuple[str, dict[str, Any]]
) -> None:
    ns, _ = audited
    ops = [{"op": "replace",
            "path": "/spec/template/spec/containers/0/securityContext/runAsNonRoot",
            "value": False}]  # fmt: skip
    kube.kubectl(
        "patch", "deployment", NAME, "-n", ns, "--type=json", "-p", json.dumps(ops), *wl.AS_TRUSTED
    )
    api = client.CustomObjectsApi(kube.api)

    def listed() -> dict[str, Any] | None:
        try:
            doc: dict[str, Any] = api.get_cluster_custom_object(
                "wgpolicyk8s.io", "v1alpha2", "clusterpolicyreports", "fwop-summary"
            )
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        pod1 = results(doc)["POD-1"]
        named = {(r["namespace"], r["name"]) for r in pod1["resources"]}
        return doc if (ns, NAME) in named else None

    doc = eventually(listed, 90, "POD-1 failing in the cluster summary")
    pod1 = results(doc)["POD-1"]
    assert pod1["result"] == "fail"
    assert int(pod1["properties"]["workloads.fail"]) >= 1
    assert doc["summary"]["fail"] >= 1
    assert len(doc["results"]) == CATALOG_SIZE


def scrape(operator: Operator) -> str:
    url = f"http://127.0.0.1:{operator.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as answer:
        text: str = answer.read().decode()
    return text


def test_metrics_follow_the_verdicts(
    kube: Kube, operator: Operator, audited: tuple[str, dict[str, Any]]
) -> None:
    ns, _ = audited
    compliant = (
        f'fwop_workload_compliance{{namespace="{ns}",profile="baseline",state="compliant"}} 1.0'
    )
    eventually(lambda: compliant in scrape(operator), 30, "compliant workload exported")
    assert "fwop_leader 1.0" in scrape(operator)
    kube.kubectl("scale", f"deployment/{NAME}", "--replicas=4", "-n", ns)  # audit: not healed
    drifted = f'fwop_workload_compliance{{namespace="{ns}",profile="baseline",state="drifted"}} 1.0'

    def exported() -> str | None:
        text = scrape(operator)
        return text if drifted in text else None

    text = eventually(exported, 30, "drifted workload exported")
    assert compliant.replace(" 1.0", " 0.0") in text
    assert 'fwop_control_failing_workloads{control="DRF-1"}' in text
    assert 'fwop_build_info{version="' in text


def test_a_report_edited_or_deleted_by_someone_else_is_written_again(
    kube: Kube, audited: tuple[str, dict[str, Any]]
) -> None:
    """An auditor reads what the operator judged: a PolicyReport changed to say something
    else (a failing result made to pass, a summary rewritten) or deleted is put back, with
    a Warning Event on the workload."""
    ns, obj = audited
    uid = obj["metadata"]["uid"]
    doc = eventually(lambda: wl.policy_report(kube, ns, uid), 30, "PolicyReport")
    truth = {r["rule"]: r["result"] for r in doc["results"]}
    ops = [
        {"op": "replace", "path": "/results/0/result", "value": "fail"},
        {"op": "replace", "path": "/summary/pass", "value": 0},
    ]
    kube.kubectl("patch", "policyreport", f"fwop-{uid}", "-n", ns, "--type=json",
                 "-p", json.dumps(ops))  # fmt: skip

    def restored() -> dict[str, Any] | None:
        now = wl.policy_report(kube, ns, uid)
        if now and {r["rule"]: r["result"] for r in now["results"]} == truth:
            return now if now["summary"] == doc["summary"] else None
        return None

    eventually(restored, 30, "the edited report written again")
    events = client.CoreV1Api(kube.api).list_namespaced_event(
        ns, field_selector=f"involvedObject.uid={uid},reason=PolicyReportRestored"
    )
    assert events.items, "a Warning Event names the restore"

    kube.kubectl("delete", "policyreport", f"fwop-{uid}", "-n", ns)
    back = eventually(lambda: wl.policy_report(kube, ns, uid), 30, "the deleted report made again")
    assert {r["rule"]: r["result"] for r in back["results"]} == truth
