"""fwctl check's violations as wgpolicyk8s.io/v1alpha2 PolicyReports, as the operator writes.

One PolicyReport per namespace of the judged workloads (``fwctl-check``; the ``-n``
namespace when no workload was judged), one ``fail`` result per workload per control it
breaks, with the control's category, severity and framework references as the operator's
reports carry them (``fwop.compliance.policyreport``); findings without a control fall
under the ``schema`` rule. Passing controls are not listed (offline, only admission's
controls are judged). No timestamps: the same input gives the same report.
Must not: judge, read files, or print.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from fwop import controls
from fwop.api import group
from fwop.cli import documents, findings
from fwop.compliance import policyreport

NAME = "fwctl-check"
MANAGED_BY = {"app.kubernetes.io/managed-by": "fwctl"}


def _properties(rule: str, found: Sequence[findings.Finding]) -> dict[str, str]:
    """Framework references (as the operator's reports), and where the violations are."""
    properties: dict[str, str] = {}
    try:
        control = controls.get(rule)
    except KeyError:
        control = None
    if control is not None:
        properties = {key: ", ".join(refs) for key, refs in control.frameworks().items()}
        if control.other:
            properties["other"] = "; ".join(control.other)
    properties["fields"] = ", ".join(f.field for f in found)
    properties["file"] = found[0].file
    properties["lines"] = ", ".join(str(f.line) for f in found)
    return properties


def _result(one: findings.Judged, rule: str, found: Sequence[findings.Finding]) -> dict[str, Any]:
    try:
        control = controls.get(rule)
        category, severity = control.category, str(control.severity)
    except KeyError:
        category, severity = "Schema", str(controls.Severity.HIGH)
    resource = {"apiVersion": group.API_VERSION, "kind": one.kind, "namespace": one.namespace}
    return {
        "policy": policyreport.POLICY,
        "rule": rule,
        "result": "fail",
        "category": category,
        "severity": severity,
        "message": "; ".join(f"{f.field}: {f.message}" for f in found),
        "properties": _properties(rule, found),
        "resources": [resource | {"name": one.name or ""}],
        "scored": True,
        "source": policyreport.SOURCE,
    }


def build(judged: Sequence[findings.Judged], default_namespace: str) -> list[dict[str, Any]]:
    """The PolicyReports of ``judged``, one per namespace, sorted by namespace."""
    namespaces = sorted({one.namespace for one in judged}) or [default_namespace]
    reports = []
    for namespace in namespaces:
        results = []
        for one in (j for j in judged if j.namespace == namespace):
            ordered = sorted(one.findings, key=lambda f: f.rule)
            for rule, group_ in itertools.groupby(ordered, key=lambda f: f.rule):
                results.append(_result(one, rule, list(group_)))
        reports.append(
            {
                "apiVersion": policyreport.API_VERSION,
                "kind": policyreport.KIND,
                "metadata": {"name": NAME, "namespace": namespace, "labels": dict(MANAGED_BY)},
                "summary": {"pass": 0, "fail": len(results), "warn": 0, "error": 0, "skip": 0},
                "results": results,
            }
        )
    return reports


def dumps(judged: Sequence[findings.Judged], default_namespace: str) -> str:
    """The PolicyReports as a multi-document YAML stream."""
    return documents.dump(build(judged, default_namespace))
