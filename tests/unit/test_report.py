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
from fwop.compliance import fleet, html, policyreport, report, selectors, verdicts
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
        "workloads": 1, "compliant": 1, "nonCompliant": 0, "incomplete": 0, "notJudged": 0,
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
            assert row["failingWorkloads"] == ["bank-eu/team/app"]
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
    item = built["clusters"][0]["workloads"][0]
    assert not item["statusAgrees"]
    assert "someone other than the operator" in html.render(built)
    # A report that passes never hides a failure the operator wrote in the status.
    assert item["state"] == "non-compliant"
    assert item["failing"] == ["POD-3"]
    pod3 = next(r for r in report.rows(built) if r["control"] == "POD-3")
    assert pod3["result"] == "fail"
    pci = next(f for f in built["frameworks"] if f["key"] == "pci-dss")
    assert any(r["state"] == "fail" for r in pci["requirements"])


def _with(results: list[dict[str, Any]], shot: report.Snapshot) -> report.Snapshot:
    doc = copy.deepcopy(shot.reports[0]) | {"results": results}
    return report.Snapshot(shot.context, shot.workloads, [doc])


def test_a_report_missing_doubling_or_inventing_results_is_incomplete(
    make_spec: SpecFactory,
) -> None:
    honest = snapshot(verdicts.judge(subject(make_spec)))
    results = honest.reports[0]["results"]
    cases = {
        "empty": [],
        "one missing": results[1:],
        "doubled": [*results, results[0]],
        "invented result": [results[0] | {"result": "ok"}, *results[1:]],
        "not a result": [*results, "junk"],
        "unknown rule": [*results, results[0] | {"rule": "XYZ-9"}],
    }
    for why, found in cases.items():
        item = report.build([_with(found, honest)], "t")["clusters"][0]["workloads"][0]
        assert item["state"] == "incomplete", why
    item = report.build([_with(results[1:], honest)], "t")["clusters"][0]["workloads"][0]
    assert item["missing"] == [controls.ids()[0]]
    rows = list(report.rows(report.build([_with(results[1:], honest)], "t")))
    assert len(rows) == len(controls.CATALOG)
    assert next(r for r in rows if r["control"] == controls.ids()[0])["result"] == "not-judged"


def test_a_second_or_displaced_report_is_not_the_operators(make_spec: SpecFactory) -> None:
    honest = snapshot(verdicts.judge(subject(make_spec)))
    mine = honest.reports[0]
    elsewhere = copy.deepcopy(mine)
    elsewhere["metadata"]["namespace"] = elsewhere["scope"]["namespace"] = "other"
    rescoped = copy.deepcopy(mine)
    rescoped["scope"]["namespace"] = "other"
    for reports in ([mine, copy.deepcopy(mine)], [elsewhere], [rescoped]):
        shot = report.Snapshot("c", honest.workloads, reports)
        assert report.build([shot], "t")["clusters"][0]["workloads"][0]["state"] == "not-judged"


def test_a_workload_without_a_report_is_in_the_csv_and_fails_on_its_status(
    make_spec: SpecFactory,
) -> None:
    shot = report.Snapshot("c", [workload(failing=("NET-1",))], [])
    built = report.build([shot], "t")
    assert built["clusters"][0]["workloads"][0]["state"] == "non-compliant"
    rows = list(report.rows(built))
    assert len(rows) == len(controls.CATALOG)
    assert {r["result"] for r in rows} == {"fail", "not-judged"}
    assert next(r for r in rows if r["control"] == "NET-1")["result"] == "fail"
    alone = report.build([report.Snapshot("c", [workload()], [])], "t")
    assert alone["clusters"][0]["workloads"][0]["state"] == "not-judged"
    pci = next(f for f in alone["frameworks"] if f["key"] == "pci-dss")
    assert pci["met"] == 0


def test_a_warning_or_an_unjudged_workload_keeps_a_requirement_from_being_met(
    make_spec: SpecFactory,
) -> None:
    found = list(verdicts.judge(subject(make_spec)))
    index = next(i for i, v in enumerate(found) if v.control == "POD-3")
    found[index] = verdicts.Verdict("POD-3", Result.WARN, "warned")
    built = report.build([snapshot(tuple(found))], "t")
    states = {
        r["id"]: r["state"]
        for f in built["frameworks"]
        for r in f["requirements"]
        if "POD-3" in r["controls"]
    }
    assert "warn" in states.values()
    assert "pass" not in {states[r] for r in controls.get("POD-3").frameworks()["pci-dss"]}
    judged = snapshot(verdicts.judge(subject(make_spec)))
    unjudged = workload() | {"metadata": {"name": "b", "namespace": "team", "uid": "u-b"}}
    both = report.Snapshot("c", [*judged.workloads, unjudged], judged.reports)
    pci = next(f for f in report.build([both], "t")["frameworks"] if f["key"] == "pci-dss")
    assert pci["met"] == 0
    assert pci["incomplete"] > 0


def test_odd_values_in_a_report_are_bounded_not_fatal(make_spec: SpecFactory) -> None:
    honest = snapshot(verdicts.judge(subject(make_spec)))
    results = copy.deepcopy(honest.reports[0]["results"])
    results[0]["timestamp"] = {"seconds": 10**20}
    results[1]["timestamp"] = {"seconds": True}
    results[2]["timestamp"] = "yesterday"
    results[3]["properties"] = ["not", "a", "map"]
    results[4]["message"] = "m" * 100_000
    results[5]["properties"] = {"evidence": '[{"kind": {"nested": 1}, "extra": "x"}, 7]'}
    built = report.build([_with(results, honest)], "t")
    item = built["clusters"][0]["workloads"][0]
    by = {c["control"]: c for c in item["controls"]}
    ids = [r["rule"] for r in results]
    assert by[ids[0]]["judgedAt"] is None
    assert by[ids[1]]["judgedAt"] is None
    assert by[ids[2]]["judgedAt"] is None
    assert by[ids[3]]["evidence"] == []
    assert len(by[ids[4]]["message"]) == report.MAX_TEXT
    assert by[ids[5]]["evidence"] == [
        {"kind": "{'nested': 1}", "name": "", "uid": "", "resourceVersion": "", "field": "",
         "observed": ""}
    ]  # fmt: skip
    assert "{&#39;nested&#39;: 1}" in html.render(built)
    drift = [{"kind": "Deployment", "detectedAt": "2025-12-05T01:00:02Z",
              "healedAt": "2025-12-05T01:00:00Z"}]  # fmt: skip
    shot = snapshot(verdicts.judge(subject(make_spec)), drift=drift)
    assert (
        report.build([shot], "t")["clusters"][0]["drift"]["incidents"][0]["secondsToHeal"] is None
    )


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
    assert selectors.selects(None, labels)
    assert selectors.selects({"matchLabels": {"app": "web"}}, labels)
    assert not selectors.selects({"matchLabels": {"app": "db"}}, labels)
    expressions = [
        ({"key": "tier", "operator": "In", "values": ["front"]}, True),
        ({"key": "tier", "operator": "NotIn", "values": ["front"]}, False),
        ({"key": "zone", "operator": "NotIn", "values": ["a"]}, True),
        ({"key": "app", "operator": "Exists"}, True),
        ({"key": "zone", "operator": "DoesNotExist"}, True),
        ({"key": "app", "operator": "Gt", "values": ["1"]}, False),
    ]
    for expression, expected in expressions:
        assert selectors.selects({"matchExpressions": [expression]}, labels) is expected, expression


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


@pytest.mark.parametrize(
    "text",
    ["{not: [yaml", "- a list\n- not a map\n", "contexts: 7\ncurrent-context: x\n",
     "contexts: [{name: a}]\ncurrent-context: a\nusers: 5\n"],
    ids=["not-yaml", "a-list", "contexts-not-a-list", "users-not-a-list"],
)  # fmt: skip
def test_a_malformed_kubeconfig_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    text: str,
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    monkeypatch.setenv("KUBECONFIG", str(path))
    for argv in (["report"], ["inspect"], ["report", "--context", "a"]):
        assert cli.main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == ""
        assert err.count("\n") == 1, err
        assert "kubeconfig" in err or "no context" in err, err


def _legacy(make_spec: SpecFactory, *extra: dict[str, Any], **fields: Any) -> fleet.Judged:
    """The legacy "web" Deployment (account "web") judged among the given objects."""
    base = managed_inventory(make_spec, plain_deployment("legacy", "web", account="web"))
    kinds = {"NetworkPolicy": "network_policies", "ServiceAccount": "service_accounts",
             "Role": "roles", "RoleBinding": "role_bindings", "ClusterRole": "cluster_roles",
             "ClusterRoleBinding": "cluster_role_bindings"}  # fmt: skip
    lists: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds.values()}
    for obj in extra:
        lists[kinds[obj["kind"]]].append(obj)
    inventory = fleet.Inventory(
        namespaces=base.namespaces,
        controllers=[*base.controllers, *fields.pop("controllers", ())],
        network_policies=[*base.network_policies, *lists["network_policies"]],
        service_accounts=[*base.service_accounts, *lists["service_accounts"]],
        roles=[*base.roles, *lists["roles"]],
        role_bindings=[*base.role_bindings, *lists["role_bindings"]],
        cluster_roles=fields.pop("cluster_roles", lists["cluster_roles"]),
        cluster_role_bindings=lists["cluster_role_bindings"],
        **fields,
    )
    return next(j for j in fleet.inspect(inventory) if j.name == "web")


ADMIN = {"kind": "ClusterRole", "metadata": {"name": "admin-ish"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}  # fmt: skip


def _binding(kind: str, namespace: str | None, subject: dict[str, str]) -> dict[str, Any]:
    metadata = {"name": "b"} | ({"namespace": namespace} if namespace else {})
    return {"kind": kind, "metadata": metadata, "subjects": [subject],
            "roleRef": {"kind": "ClusterRole", "name": "admin-ish"}}  # fmt: skip


@pytest.mark.parametrize(
    "binding",
    [
        _binding("RoleBinding", "legacy", {"kind": "ServiceAccount", "name": "web"}),
        _binding("RoleBinding", "elsewhere",
                 {"kind": "ServiceAccount", "name": "web", "namespace": "legacy"}),
        _binding("ClusterRoleBinding", None, {"kind": "User",
                                              "name": "system:serviceaccount:legacy:web"}),
        _binding("ClusterRoleBinding", None, {"kind": "Group", "name": "system:serviceaccounts"}),
        _binding("RoleBinding", "legacy", {"kind": "Group",
                                           "name": "system:serviceaccounts:legacy"}),
        _binding("RoleBinding", "legacy", {"kind": "Group", "name": "system:authenticated"}),
    ],
    ids=["rolebinding-to-clusterrole", "other-namespace", "user-name", "all-accounts",
         "namespace-accounts", "everyone-in-a-namespace"],
)  # fmt: skip
def test_fleet_finds_a_cluster_role_however_it_is_bound(
    make_spec: SpecFactory, binding: dict[str, Any]
) -> None:
    web = _legacy(make_spec, ADMIN, binding)
    assert {"RBAC-2", "RBAC-3"} <= set(web.failing)


def test_fleet_ignores_bindings_of_others_and_skips_roles_it_cannot_read(
    make_spec: SpecFactory,
) -> None:
    others = [
        _binding("ClusterRoleBinding", None, {"kind": "Group", "name": "system:authenticated"}),
        _binding("RoleBinding", "legacy", {"kind": "ServiceAccount", "name": "db"}),
        _binding("RoleBinding", "elsewhere", {"kind": "ServiceAccount", "name": "web"}),
    ]
    web = _legacy(make_spec, ADMIN, *others)
    by = {v.control: v.result for v in web.verdicts}
    assert (by["RBAC-2"], by["RBAC-3"]) == (Result.PASS, Result.PASS)
    bound = _binding("RoleBinding", "legacy", {"kind": "ServiceAccount", "name": "web"})
    unreadable = _legacy(make_spec, bound, cluster_roles=None)
    by = {v.control: v for v in unreadable.verdicts}
    assert by["RBAC-2"].result is Result.SKIP
    assert by["RBAC-3"].result is Result.SKIP
    assert "ClusterRole/admin-ish" in by["RBAC-2"].message


def test_fleet_net1_fails_when_another_policy_opens_the_pods(make_spec: SpecFactory) -> None:
    deny = {"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": "legacy"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}  # fmt: skip
    assert "NET-1" not in _legacy(make_spec, deny).failing
    opened = {"kind": "NetworkPolicy", "metadata": {"name": "open", "namespace": "legacy"},
              "spec": {"podSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
                       "ingress": [{"ports": [{"port": 80}]}],
                       "policyTypes": ["Ingress"]}}  # fmt: skip
    web = _legacy(make_spec, deny, opened)
    net1 = next(v for v in web.verdicts if v.control == "NET-1")
    assert net1.result is Result.FAIL
    assert net1.evidence[0].field == "spec.ingress[0]"


def test_fleet_judges_cronjobs_and_orphans_not_what_a_controller_owns(
    make_spec: SpecFactory,
) -> None:
    owned = {"kind": "ReplicaSet", "metadata": {"name": "web-1", "namespace": "legacy",
             "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True}]},
             "spec": {"template": {"spec": {
                 "containers": [{"name": "c", "image": "x"}]}}}}  # fmt: skip
    orphan = {"kind": "Pod", "metadata": {"name": "debug", "namespace": "legacy",
              "labels": {"app": "debug"}},
              "spec": {"containers": [{"name": "c", "image": "busybox", "securityContext":
                                       {"privileged": True}}]}}  # fmt: skip
    batch = {"kind": "CronJob", "metadata": {"name": "nightly", "namespace": "legacy"},
             "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                 "containers": [{"name": "c", "image": "busybox"}]}}}}}}  # fmt: skip
    inventory = managed_inventory(make_spec, owned, orphan, batch)
    judged = {(j.kind, j.name): j for j in fleet.inspect(inventory)}
    assert ("ReplicaSet", "web-1") not in judged
    pod = judged[("Pod", "debug")]
    assert "POD-3" in pod.failing or "POD-1" in pod.failing
    privileged = next(
        e
        for v in pod.verdicts
        for e in v.evidence
        if e.field.endswith("securityContext.privileged")
    )
    assert privileged.field == "spec.containers[0].securityContext.privileged"
    assert "IMG-1" in judged[("CronJob", "nightly")].failing


def test_fleet_trusts_an_owner_reference_only_to_a_listed_workload(
    make_spec: SpecFactory,
) -> None:
    forged = plain_deployment("legacy", "web") | {"metadata": {
        "name": "web", "namespace": "legacy", "uid": "u-web",
        "ownerReferences": [{"apiVersion": "finance.compliance.dev/v1alpha1",
                             "kind": "FinancialWorkload", "name": "app", "uid": "made-up",
                             "controller": True}]}}  # fmt: skip
    assert fleet.managed_by(forged) == "app"
    assert fleet.managed_by(forged, frozenset({OWNER.uid})) is None
    assert fleet.managed_by(forged, frozenset({"made-up"})) == "app"


def test_rbac1_reads_the_accounts_own_automount_switch(make_spec: SpecFactory) -> None:
    quiet = {"kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "legacy"},
             "automountServiceAccountToken": False}  # fmt: skip
    loud = quiet | {"automountServiceAccountToken": True}
    assert "RBAC-1" not in _legacy(make_spec, quiet).failing
    assert "RBAC-1" in _legacy(make_spec, loud).failing


def test_the_html_fleet_table_is_capped(
    make_spec: SpecFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    many = [plain_deployment("legacy", f"web-{i}") for i in range(5)]
    judged = list(fleet.inspect(managed_inventory(make_spec, *many)))
    shot = report.Snapshot("c", [], [], judged)
    monkeypatch.setattr(html, "MAX_FLEET_ROWS", 2)
    page = html.render(report.build([shot], "t"))
    assert page.count("Deployment legacy/web-") == 2
    assert "3 more pod controller(s) outside the baseline" in page
