"""Verdicts as a PolicyReport: shape, framework properties, stable timestamps, bounded size."""

from __future__ import annotations

import json
from typing import Any

from fwop import controls
from fwop.compliance import policyreport, verdicts
from fwop.compliance.verdicts import Result, Verdict
from fwop.reconcile import status

WORKLOAD: dict[str, Any] = {
    "apiVersion": "finance.compliance.dev/v1alpha1",
    "kind": "FinancialWorkload",
    "metadata": {"namespace": "payments", "name": "api", "uid": "u-1"},
}
EVIDENCE = verdicts.Evidence("Deployment", "api", "d-1", "7", "spec.replicas", "3")


def every(result: Result = Result.PASS) -> tuple[Verdict, ...]:
    return tuple(Verdict(c, result, f"{c} judged", (EVIDENCE,)) for c in controls.ids())


def test_one_result_per_control_with_framework_references_and_evidence() -> None:
    report = policyreport.build(WORKLOAD, every(), now=1_000)
    assert report["apiVersion"] == "wgpolicyk8s.io/v1alpha2"
    assert report["kind"] == "PolicyReport"
    assert report["metadata"]["name"] == "fwop-u-1"
    assert report["metadata"]["namespace"] == "payments"
    assert report["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    assert report["scope"]["kind"] == "FinancialWorkload"
    every_control = len(controls.CATALOG)
    assert report["summary"] == {
        "pass": every_control, "fail": 0, "warn": 0, "skip": 0, "error": 0,
    }  # fmt: skip
    by_rule = {r["rule"]: r for r in report["results"]}
    assert list(by_rule) == list(controls.ids())
    img = by_rule["IMG-1"]
    assert img["properties"]["pci-dss"] == "6.3.2"
    assert img["properties"]["occ"] == "2020-62"
    assert img["severity"] == "high"
    assert img["category"] == "Supply chain"
    assert img["timestamp"] == {"seconds": 1_000, "nanos": 0}
    assert json.loads(img["properties"]["evidence"])[0]["resourceVersion"] == "7"
    for entry in report["results"]:
        assert all(isinstance(v, str) for v in entry["properties"].values())
        for key, refs in controls.get(entry["rule"]).frameworks().items():
            assert entry["properties"][key] == ", ".join(refs)


def test_unchanged_results_keep_their_timestamp_and_changed_ones_move() -> None:
    first = policyreport.build(WORKLOAD, every(), now=1_000)
    changed = list(every())
    changed[0] = Verdict("IMG-1", Result.FAIL, "tagged", (EVIDENCE,))
    second = policyreport.build(WORKLOAD, changed, now=2_000, previous=first)
    stamps = {r["rule"]: r["timestamp"]["seconds"] for r in second["results"]}
    assert stamps["IMG-1"] == 2_000
    assert {s for rule, s in stamps.items() if rule != "IMG-1"} == {1_000}
    assert second["summary"]["fail"] == 1
    moved = verdicts.Evidence("Deployment", "api", "d-1", "8", "spec.replicas", "3")
    third = policyreport.build(
        WORKLOAD,
        [Verdict(v.control, v.result, v.message, (moved,)) for v in changed],
        3_000,
        second,
    )
    assert {r["timestamp"]["seconds"] for r in third["results"]} == {1_000, 2_000}


def test_digest_moves_with_verdicts_not_with_time_or_resource_versions() -> None:
    moved = verdicts.Evidence("Deployment", "api", "d-1", "8", "spec.replicas", "3")
    same = tuple(Verdict(v.control, v.result, v.message, (moved,)) for v in every())
    assert policyreport.digest(every()) == policyreport.digest(same)
    assert policyreport.digest(every()) != policyreport.digest(every(Result.FAIL))


def test_a_report_stays_small_whatever_the_evidence() -> None:
    big = verdicts.Evidence("Deployment", "api", "d", "1", "f" * 300, "v" * 300)
    found = tuple(Verdict(c, Result.FAIL, "m", (big,) * 8) for c in controls.ids())
    report = policyreport.build(WORKLOAD, found, now=1)
    for entry in report["results"]:
        assert len(entry["properties"]["evidence"]) <= policyreport.MAX_EVIDENCE_TEXT
    assert len(json.dumps(report)) < 100_000


def test_status_compliance_summarises_and_keeps_judged_at_while_the_digest_holds() -> None:
    found = list(every())
    found[3] = Verdict(found[3].control, Result.FAIL, "m")
    first = status.compliance(found, "d1", "fwop-u-1", None, "2026-12-05T08:00:00Z")
    assert first["failed"] == 1
    assert first["passed"] == len(controls.CATALOG) - 1
    assert first["failing"] == [controls.ids()[3]]
    assert first["judgedAt"] == "2026-12-05T08:00:00Z"
    again = status.compliance(
        found, "d1", "fwop-u-1", {"compliance": first}, "2026-12-05T09:00:00Z"
    )
    assert again == first
    moved = status.compliance(
        found, "d2", "fwop-u-1", {"compliance": first}, "2026-12-05T09:00:00Z"
    )
    assert moved["judgedAt"] == "2026-12-05T09:00:00Z"


def test_content_holds_with_time_and_resource_versions_and_moves_with_what_it_says() -> None:
    first = policyreport.build(WORKLOAD, every(), 100)
    moved = policyreport.build(WORKLOAD, tuple(
        Verdict(v.control, v.result, v.message,
                (verdicts.Evidence("Deployment", "api", "d-1", "8", "spec.replicas", "3"),))
        for v in every()
    ), 200)  # fmt: skip
    assert policyreport.content(first) == policyreport.content(moved)
    edited = json.loads(json.dumps(first))
    edited["results"][0]["result"] = "pass" if edited["results"][0]["result"] != "pass" else "fail"
    assert policyreport.content(edited) != policyreport.content(first)
    summary = json.loads(json.dumps(first))
    summary["summary"]["fail"] = 0 if summary["summary"].get("fail") else 1
    assert policyreport.content(summary) != policyreport.content(first)
