"""The compliance report and fleet inspection, from objects shaped as the API server returns
them: the operator's PolicyReports are read (never re-judged), a missing or foreign report
leaves the workload "not judged", every pod controller is judged by the same judges, and the
HTML page shows values as text only."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

import pytest

from fwop import controls
from fwop.cli import main as cli
from fwop.compliance import fleet, html, policyreport, report, verdicts
from fwop.compliance.verdicts import Result

from .conftest import OWNER, SpecFactory
from .test_verdicts import REGISTRIES, subject, tampered

NOW = 1_764_900_000


def workload(failing: tuple[str, ...] = (), drift: list[dict[str, Any]] | None = None) -> dict:
    return {
        "apiVersion": "finance.compliance.dev/v1alpha1",
        "kind": "FinancialWorkload",
        "metadata": {"name": "app", "namespace": "team", "uid": OWNER.uid},
        "spec": {"profile": "pci"},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "compliance": {"failing": list(failing), "judgedAt": "2025-12-05T01:00:00Z"},
            "drift": drift or [],
        },
    }


def snapshot(found: tuple[verdicts.Verdict, ...], **fields: Any) -> report.Snapshot:
    failing = tuple(v.control for v in found if v.result is Result.FAIL)
    obj = workload(failing, fields.pop("drift", None))
    return report.Snapshot("bank-eu", [obj], [policyreport.build(obj, found, NOW)], **fields)


def test_a_compliant_workload_carries_every_control_with_its_evidence(
    make_spec: SpecFactory,
) -> None:
    found = verdicts.judge(subject(make_spec))
    built = report.build([snapshot(found)], "2025-12-05T02:00:00Z")
    assert built["schema"] == report.SCHEMA
    item = built["clusters"][0]["workloads"][0]
    assert item["state"] == "compliant"
    assert item["statusAgrees"]
    assert [c["control"] for c in item["controls"]] == list(controls.ids())
    img = next(c for c in item["controls"] if c["control"] == "IMG-1")
    assert img["frameworks"]["pci-dss"] == ["6.3.2"]
    assert img["evidence"][0]["kind"] == "Deployment"
    assert img["evidence"][0]["uid"]
    assert img["judgedAt"] == "2025-12-05T02:00:00Z"
    assert built["totals"] | {"results": None} == {
        "workloads": 1, "compliant": 1, "nonCompliant": 0, "notJudged": 0,
        "results": None, "score": 1.0,
    }  # fmt: skip
    pci = next(f for f in built["frameworks"] if f["key"] == "pci-dss")
    assert pci["failed"] == 0
    assert pci["met"] + pci["notJudged"] == len(controls.by_framework("pci-dss"))


def test_a_failing_control_fails_each_requirement_it_answers_and_names_the_workload(
    make_spec: SpecFactory,
) -> None:
    def escalate(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"][0]["securityContext"][
            "allowPrivilegeEscalation"
        ] = True

    found = verdicts.judge(tampered(subject(make_spec), "Deployment", escalate))
    built = report.build([snapshot(found)], "2025-12-05T02:00:00Z")
    item = built["clusters"][0]["workloads"][0]
    assert item["state"] == "non-compliant"
    assert "POD-3" in item["failing"]
    for key, requirements in controls.get("POD-3").frameworks().items():
        framework = next(f for f in built["frameworks"] if f["key"] == key)
        for requirement in requirements:
            row = next(r for r in framework["requirements"] if r["id"] == requirement)
            assert row["state"] == "fail"
            assert row["failingWorkloads"] == ["team/app"]
    assert built["clusters"][0]["namespaces"][0]["nonCompliant"] == 1


def test_without_its_own_report_a_workload_is_not_judged_never_passed(
    make_spec: SpecFactory,
) -> None:
    found = verdicts.judge(subject(make_spec))
    honest = snapshot(found)
    forged = copy.deepcopy(honest.reports[0])
    forged["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    misnamed = copy.deepcopy(honest.reports[0]) | {"metadata": {"name": "fwop-other"}}
    for reports in ([], [forged], [misnamed]):
        built = report.build([report.Snapshot("c", honest.workloads, reports)], "t")
        item = built["clusters"][0]["workloads"][0]
        assert item["state"] == "not-judged"
        assert item["controls"] == []
        assert built["totals"]["score"] is None


def test_status_and_report_disagreeing_is_shown(make_spec: SpecFactory) -> None:
    found = verdicts.judge(subject(make_spec))
    shot = snapshot(found)
    shot.workloads[0]["status"]["compliance"]["failing"] = ["POD-3"]
    built = report.build([shot], "t")
    assert not built["clusters"][0]["workloads"][0]["statusAgrees"]
    assert "someone other than the operator" in html.render(built)


def test_drift_incidents_carry_time_to_heal(make_spec: SpecFactory) -> None:
    drift = [
        {"kind": "Deployment", "name": "app", "field": "spec.replicas", "expected": "3",
         "actual": "5", "detectedAt": "2025-12-05T01:00:00Z", "healedAt": "2025-12-05T01:00:02Z"},
        {"kind": "Role", "name": "app", "field": "rules", "expected": "[]", "actual": "[{}]",
         "detectedAt": "2025-12-05T01:10:00Z"},
    ]  # fmt: skip
    built = report.build([snapshot(verdicts.judge(subject(make_spec)), drift=drift)], "t")
    found = built["clusters"][0]["drift"]
    assert found["open"] == 1
    assert [i["secondsToHeal"] for i in found["incidents"]] == [None, 2.0]
    assert found["timeToHealSeconds"] == {"count": 1, "p50": 2.0, "p90": 2.0, "max": 2.0}
    assert html.heal_histogram([0.2, 2.0, 2.5, 400.0])[1]["count"] == 2


def test_csv_has_one_row_per_control_per_workload(make_spec: SpecFactory) -> None:
    built = report.build([snapshot(verdicts.judge(subject(make_spec)))], "t")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=report.CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(report.rows(built))
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(rows) == len(controls.CATALOG)
    img = next(r for r in rows if r["control"] == "IMG-1")
    assert img["pci-dss"] == "6.3.2"
    assert img["evidence"].startswith("Deployment/app spec.template.spec.containers[0].image=")


def test_csv_cells_never_start_a_formula(make_spec: SpecFactory) -> None:
    found = list(verdicts.judge(subject(make_spec)))
    found[0] = verdicts.Verdict("IMG-1", Result.FAIL, '=HYPERLINK("http://x","y")')
    rows = list(report.rows(report.build([snapshot(tuple(found))], "t")))
    assert rows[0]["message"] == '\'=HYPERLINK("http://x","y")'
    assert all(not v.startswith(report.FORMULA) for r in rows for v in r.values())


def test_html_shows_values_as_text_and_loads_nothing(make_spec: SpecFactory) -> None:
    found = list(verdicts.judge(subject(make_spec)))
    found[0] = verdicts.Verdict("IMG-1", Result.FAIL, "<script>alert(1)</script><img src=x>")
    page = html.render(report.build([snapshot(tuple(found))], "t"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page
    assert "default-src 'none'" in page
    assert "http://" not in page
    assert "https://" not in page


# ---- fleet inspection --------------------------------------------------------------------


def plain_deployment(namespace: str, name: str, account: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "uid": f"u-{name}"},
        "spec": {"template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"serviceAccountName": account,
                     "containers": [{"name": "c", "image": "nginx:latest"}]},
        }},
    }  # fmt: skip


def managed_inventory(make_spec: SpecFactory, *extra: dict[str, Any]) -> fleet.Inventory:
    base = subject(make_spec)
    return fleet.Inventory(
        namespaces=[base.namespace or {}, {"metadata": {"name": "legacy"}}],
        controllers=[c for c in base.children if c["kind"] == "Deployment"] + list(extra),
        network_policies=[c for c in base.children if c["kind"] == "NetworkPolicy"],
        service_accounts=[c for c in base.children if c["kind"] == "ServiceAccount"],
        roles=[c for c in base.children if c["kind"] == "Role"],
        role_bindings=[c for c in base.children if c["kind"] == "RoleBinding"],
        registries=REGISTRIES,
    )


def test_fleet_judges_managed_and_unmanaged_workloads_alike(make_spec: SpecFactory) -> None:
    judged = list(fleet.inspect(managed_inventory(make_spec, plain_deployment("legacy", "web"))))
    legacy, mine = judged  # namespace order
    assert (mine.namespace, mine.name, mine.managed_by) == ("team", "app", "app")
    assert mine.failing == ()
    by = {v.control: v.result for v in mine.verdicts}
    assert by["NET-1"] is Result.PASS
    assert by["RBAC-3"] is Result.PASS
    assert legacy.managed_by is None
    assert {"IMG-1", "IMG-2", "POD-1", "POD-3", "NS-1", "RBAC-1", "NET-1"} <= set(legacy.failing)
    scores = fleet.scores(judged)
    assert (scores["workloads"], scores["managed"], scores["outside"]) == (2, 1, 1)
    assert [n["name"] for n in scores["namespaces"]] == ["legacy", "team"]
    assert scores["namespaces"][1]["score"] == 1.0
    assert 0 < scores["namespaces"][0]["score"] < 0.5
    assert scores["score"] == fleet.score(judged)


def test_fleet_follows_role_bindings_and_policy_selectors(make_spec: SpecFactory) -> None:
    web = plain_deployment("legacy", "web", account="web")
    role = {"kind": "Role", "metadata": {"name": "all", "namespace": "legacy"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}  # fmt: skip
    binding = {"kind": "RoleBinding", "metadata": {"name": "b", "namespace": "legacy"},
               "roleRef": {"kind": "Role", "name": "all"},
               "subjects": [{"kind": "ServiceAccount", "name": "web"}]}  # fmt: skip
    deny = {"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "legacy"},
            "spec": {"podSelector": {"matchExpressions": [
                {"key": "app", "operator": "In", "values": ["web"]}]},
                "policyTypes": ["Ingress", "Egress"]}}  # fmt: skip
    inventory = managed_inventory(make_spec, web)
    inventory = fleet.Inventory(
        namespaces=inventory.namespaces, controllers=inventory.controllers,
        network_policies=[*inventory.network_policies, deny],
        service_accounts=inventory.service_accounts, roles=[*inventory.roles, role],
        role_bindings=[*inventory.role_bindings, binding],
    )  # fmt: skip
    legacy = next(j for j in fleet.inspect(inventory) if j.name == "web")
    assert {"RBAC-2", "RBAC-3"} <= set(legacy.failing)
    assert next(v for v in legacy.verdicts if v.control == "IMG-2").result is Result.SKIP


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert fleet.selects(None, labels)
    assert fleet.selects({"matchLabels": {"app": "web"}}, labels)
    assert not fleet.selects({"matchLabels": {"app": "db"}}, labels)
    expressions = [
        ({"key": "tier", "operator": "In", "values": ["front"]}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["front"]}, False),
        ({"key": "zone", "operator": "NotIn", "values": ["a"]}, True),
        ({"key": "app", "operator": "Exists"}, True),
        ({"key": "zone", "operator": "DoesNotExist"}, True),
        ({"key": "app", "operator": "Gt", "values": ["1"]}, False),
    ]
    for expression, expected in expressions:
        assert fleet.selects({"matchExpressions": [expression]}, labels) is expected, expression


def test_an_unreadable_kubeconfig_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    for argv in (["report"], ["inspect", "-o", "json"]):
        assert cli.main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("\n") == 1
        assert "kubeconfig" in err
