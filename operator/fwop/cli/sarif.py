"""fwctl check's findings as SARIF 2.1.0, the format code-scanning services read.

One run; its driver lists one rule per control of the catalog (``fwop.controls``: the id,
the title, the category and severity, the framework references) and the ``schema`` rule
for the CRD's own rules. Each finding is a result at its file and line, with the workload
as a logical location. Paths on the command line become relative URIs (absolute paths
``file://`` URIs), so that a scan run at a repository's root points into it.
Must not: judge, read files, or print.
"""

from __future__ import annotations

import json
import pathlib
import urllib.parse
from collections.abc import Sequence
from typing import Any

import fwop
from fwop import controls
from fwop.cli import findings

VERSION = "2.1.0"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.0", "high": "7.0", "medium": "5.0", "low": "3.0"}
"""GitHub code scanning ranks results by this property (a CVSS-like score)."""


def _rule(control: controls.Control) -> dict[str, Any]:
    severity = str(control.severity)
    return {
        "id": control.id,
        "name": control.id.replace("-", ""),
        "shortDescription": {"text": control.title},
        "fullDescription": {"text": f"{control.title} Enforced in: {control.enforced_in}."},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "category": control.category,
            "severity": severity,
            "security-severity": SECURITY_SEVERITY.get(severity, "5.0"),
            "tags": ["compliance", control.category, *control.references],
        },
    }


SCHEMA_RULE: dict[str, Any] = {
    "id": findings.SCHEMA_RULE,
    "name": "Schema",
    "shortDescription": {"text": "The document is a valid FinancialWorkload (the CRD's rules)."},
    "defaultConfiguration": {"level": "error"},
    "properties": {"category": "Schema", "tags": ["schema"]},
}


def uri(path: str) -> str:
    """The artifact URI of a path as given: relative stays relative, absolute is file://."""
    pure = pathlib.PurePath(path)
    if pure.is_absolute():
        return pathlib.Path(path).as_uri()
    return urllib.parse.quote(pure.as_posix())


def build(judged: Sequence[findings.Judged]) -> dict[str, Any]:
    """The SARIF log of the findings of ``judged``."""
    rules = [_rule(control) for control in controls.CATALOG] + [SCHEMA_RULE]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    results = []
    for one in judged:
        for finding in one.findings:
            if finding.rule not in index:  # a control the catalog does not know
                index[finding.rule] = len(rules)
                rules.append({"id": finding.rule, "shortDescription": {"text": finding.rule}})
            results.append(_result(one, finding, index[finding.rule]))
    driver = {
        "name": "fwctl",
        "version": fwop.__version__,
        "semanticVersion": fwop.__version__,
        "rules": rules,
    }
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {"tool": {"driver": driver}, "results": results, "columnKind": "unicodeCodePoints"}
        ],
    }


def _result(one: findings.Judged, finding: findings.Finding, rule_index: int) -> dict[str, Any]:
    return {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "error",
        "message": {"text": f"{one.id}: {finding.field}: {finding.message}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri(finding.file)},
                    "region": {"startLine": finding.line},
                },
                "logicalLocations": [
                    {"fullyQualifiedName": f"{one.id}/{finding.field}", "kind": "member"}
                ],
            }
        ],
        "properties": {"field": finding.field, "document": finding.document},
    }


def dumps(judged: Sequence[findings.Judged]) -> str:
    """The SARIF log as JSON text."""
    return json.dumps(build(judged), indent=2) + "\n"
