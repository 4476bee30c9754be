"""fwctl check -o json|sarif|junit|policyreport: each output parsed back and checked.

SARIF is checked against what the 2.1.0 schema requires (version, runs, tool.driver.name,
rule ids, result messages, locations with an artifact and a startLine >= 1, ruleIndex
pointing at the rule of ruleId); JUnit is parsed with ElementTree; the PolicyReport has the
shape the operator writes (fwop.compliance.policyreport), fail results only.
"""

from __future__ import annotations

import json
import pathlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import pytest
import yaml

import fwop
from fwop import controls
from fwop.cli import main as cli
from fwop.compliance import policyreport, verdicts

from .conftest import workload_doc

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
POLICY = DATA / "policy.yaml"
GITOPS = DATA / "gitops"
SEVERAL = DATA / "invalid" / "39-several-violations.yaml"
FORMATS = ("text", "json", "sarif", "junit", "policyreport")


def run(capsys: pytest.CaptureFixture[str], output: str, *paths: str) -> tuple[int, str, str]:
    code = cli.main(["check", "--policy", str(POLICY), "-o", output, *paths])
    out, err = capsys.readouterr()
    return code, out, err


def validate_sarif(log: Mapping[str, Any]) -> None:
    """What SARIF 2.1.0 requires of the parts fwctl writes (sarif-schema-2.1.0.json)."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list)
    for one in log["runs"]:
        driver = one["tool"]["driver"]
        assert isinstance(driver["name"], str)
        assert driver["name"]
        rules = driver.get("rules", [])
        ids = [rule["id"] for rule in rules]
        assert len(ids) == len(set(ids))
        for rule in rules:
            assert isinstance(rule["id"], str)
            assert isinstance(rule["shortDescription"]["text"], str)
            level = rule.get("defaultConfiguration", {}).get("level", "warning")
            assert level in {"none", "note", "warning", "error"}
        for result in one["results"]:
            message = result["message"]
            assert isinstance(message.get("text"), str) or isinstance(message.get("id"), str)
            assert result.get("level", "warning") in {"none", "note", "warning", "error"}
            if "ruleIndex" in result:
                assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            for location in result["locations"]:
                physical = location["physicalLocation"]
                assert "artifactLocation" in physical or "address" in physical
                assert isinstance(physical["artifactLocation"]["uri"], str)
                assert physical["region"]["startLine"] >= 1
                for logical in location.get("logicalLocations", []):
                    assert isinstance(logical["fullyQualifiedName"], str)


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "json", str(SEVERAL), str(GITOPS))
    assert code == 1
    shape = json.loads(out)
    assert set(shape) == {"format", "findings", "workloads", "summary"}
    assert shape["format"] == "fwop.check/v1"
    first = shape["findings"][0]
    assert first == {
        "file": str(SEVERAL),
        "line": 11,
        "document": 1,
        "item": None,
        "kind": "FinancialWorkload",
        "namespace": "default",
        "name": "several-violations",
        "field": "spec.image",
        "control": "IMG-2",
        "message": first["message"],
    }
    assert first["message"].startswith('image repository "quay.io/example/app" is not in')
    assert [(f["line"], f["control"]) for f in shape["findings"]] == [
        (11, "IMG-2"),
        (15, "RES-1"),
        (17, "SEC-1"),
        (32, "IMG-2"),
    ]
    assert shape["findings"][-1]["item"] == 2
    assert shape["workloads"][0] == {
        "file": str(SEVERAL),
        "line": 5,
        "document": 1,
        "item": None,
        "kind": "FinancialWorkload",
        "namespace": "default",
        "name": "several-violations",
        "violations": 3,
        "passed": False,
    }
    assert shape["summary"]["workloads"] == 5
    assert shape["summary"]["failed"] == 2
    assert shape["summary"]["violations"] == 4


def test_json_findings_without_a_control(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(workload_doc(replicas=-1)), encoding="utf-8")
    _, out, _ = run(capsys, "json", str(path))
    (finding,) = json.loads(out)["findings"]
    assert (finding["field"], finding["control"]) == ("spec.replicas", None)


def test_sarif_is_valid_2_1_0_with_one_rule_per_control(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "sarif", str(SEVERAL), str(GITOPS))
    assert code == 1
    log = json.loads(out)
    validate_sarif(log)
    (one,) = log["runs"]
    driver = one["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("fwctl", fwop.__version__)
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert list(rules) == [*controls.ids(), "schema"]
    for control in controls.CATALOG:
        assert rules[control.id]["shortDescription"]["text"] == control.title
        assert rules[control.id]["properties"]["severity"] == str(control.severity)
    located = [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in one["results"]
    ]
    assert located == [
        ("IMG-2", SEVERAL.as_uri(), 11),
        ("RES-1", SEVERAL.as_uri(), 15),
        ("SEC-1", SEVERAL.as_uri(), 17),
        ("IMG-2", (GITOPS / "apps" / "ledger" / "list.yaml").as_uri(), 32),
    ]
    assert one["results"][3]["message"]["text"].startswith("ledger/ledger-export: spec.image: ")


def test_sarif_uris_stay_relative_for_relative_paths(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    folder = tmp_path / "my apps"
    folder.mkdir()
    (folder / "w.yaml").write_text(yaml.safe_dump(workload_doc(replicas=-1)), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(capsys, "sarif", "my apps")
    log = json.loads(out)
    validate_sarif(log)
    (result,) = log["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20apps/w.yaml"
    assert result["ruleId"] == "schema"


def test_junit_one_testcase_per_workload_one_failure_per_violation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "junit", str(SEVERAL), str(GITOPS))
    assert code == 1
    assert out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(out.split("\n", 1)[1])
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("5", "4")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        str(SEVERAL),
        str(GITOPS / "apps" / "ledger" / "list.yaml"),
        str(GITOPS / "apps" / "payments" / "workload.yaml"),
        str(GITOPS / "apps" / "reports" / "workload.json"),
    ]
    cases = root.findall("testsuite/testcase")
    assert [(c.get("name"), len(c.findall("failure"))) for c in cases] == [
        ("default/several-violations", 3),
        ("ledger/ledger-api", 0),
        ("ledger/ledger-export", 1),
        ("payments/payments-api", 0),
        ("payments/reports", 0),
    ]
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("type") == "IMG-2"
    assert (failure.get("message") or "").startswith("spec.image: image repository")
    assert ":32: ledger-export (document 1, items[2])" in (failure.text or "")
    assert cases[2].get("line") == "25"


def test_junit_strips_what_xml_cannot_hold(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "w.yaml"
    doc = workload_doc(replicas=-1)
    doc["metadata"]["name"] = "bell\x07name"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, out, _ = run(capsys, "junit", str(path))
    assert code == 1
    case = ET.fromstring(out.split("\n", 1)[1]).find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "team/bell\ufffdname"


def test_policyreport_per_namespace_fail_results_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policyreport", str(SEVERAL), str(GITOPS))
    assert code == 1
    reports = list(yaml.safe_load_all(out))
    assert [r["metadata"]["namespace"] for r in reports] == ["default", "ledger", "payments"]
    verdict = verdicts.Verdict("IMG-2", verdicts.Result.FAIL, "x")
    ref = {"apiVersion": "v", "kind": "k", "namespace": "n", "name": "m", "uid": "u"}
    operator_keys = set(policyreport.result(verdict, ref, 0)) - {"timestamp"}
    for report in reports:
        assert (report["apiVersion"], report["kind"]) == ("wgpolicyk8s.io/v1alpha2", "PolicyReport")
        assert report["metadata"]["name"] == "fwctl-check"
        assert report["summary"]["fail"] == len(report["results"])
        for result in report["results"]:
            assert set(result) == operator_keys
            assert result["result"] == "fail"
            assert all(isinstance(v, str) for v in result["properties"].values())
    default, ledger, payments = reports
    assert [r["rule"] for r in default["results"]] == ["IMG-2", "RES-1", "SEC-1"]
    img = default["results"][0]
    assert img["properties"]["pci-dss"] == "6.3.2"
    assert (img["properties"]["fields"], img["properties"]["lines"]) == ("spec.image", "11")
    assert img["resources"] == [
        {
            "apiVersion": "finance.compliance.dev/v1alpha1",
            "kind": "FinancialWorkload",
            "namespace": "default",
            "name": "several-violations",
        }
    ]
    assert img["severity"] == str(controls.get("IMG-2").severity)
    assert [r["resources"][0]["name"] for r in ledger["results"]] == ["ledger-export"]
    assert payments["results"] == []


def test_policyreport_groups_findings_of_one_control(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "w.yaml"
    doc = workload_doc(residency={"regions": ["us-east-1", "ap-south-1"]})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    _, out, _ = run(capsys, "policyreport", str(path))
    (report,) = yaml.safe_load_all(out)
    (result,) = report["results"]
    assert result["rule"] == "RES-1"
    assert result["properties"]["fields"] == (
        "spec.residency.regions[0], spec.residency.regions[1]"
    )
    assert re.fullmatch(r"\d+, \d+", result["properties"]["lines"])


@pytest.mark.parametrize("output", FORMATS)
def test_every_format_of_a_clean_input_exits_0(
    capsys: pytest.CaptureFixture[str], output: str
) -> None:
    code, out, err = run(capsys, output, str(GITOPS / "apps" / "payments"))
    assert code == 0
    assert err.endswith("1 FinancialWorkload(s), 0 with violations: pass\n")
    if output == "text":
        assert out == ""
    elif output == "json":
        assert json.loads(out)["findings"] == []
    elif output == "sarif":
        validate_sarif(json.loads(out))
        assert json.loads(out)["runs"][0]["results"] == []
    elif output == "junit":
        root = ET.fromstring(out.split("\n", 1)[1])
        assert (root.get("tests"), root.get("failures")) == ("1", "0")
    else:
        (report,) = yaml.safe_load_all(out)
        assert (report["metadata"]["namespace"], report["results"]) == ("payments", [])


@pytest.mark.parametrize("output", FORMATS)
def test_every_format_of_an_input_without_workloads(
    capsys: pytest.CaptureFixture[str], output: str
) -> None:
    code, out, _ = run(capsys, output, str(GITOPS / "clusters"))
    assert code == 0
    if output == "json":
        assert json.loads(out)["summary"]["workloads"] == 0
    elif output == "sarif":
        validate_sarif(json.loads(out))
    elif output == "junit":
        assert ET.fromstring(out.split("\n", 1)[1]).get("tests") == "0"
    elif output == "policyreport":
        (report,) = yaml.safe_load_all(out)
        assert report["metadata"]["namespace"] == "default"


@pytest.mark.parametrize("output", FORMATS)
def test_no_format_is_written_when_an_input_cannot_be_read(
    capsys: pytest.CaptureFixture[str], tmp_path: pathlib.Path, output: str
) -> None:
    code, out, _ = run(capsys, output, str(GITOPS), str(tmp_path / "absent.yaml"))
    assert (code, out) == (2, "")


def test_docs_show_what_fwctl_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    monkeypatch.chdir(REPO)
    example = "tests/data/gitops/apps/ledger/list.yaml"
    for output in ("text", "junit", "policyreport"):
        _, out, _ = run(capsys, output, example)
        assert out in doc, output
    _, _, err = run(capsys, "text", "tests/data/gitops")
    assert err in doc
