"""The compliance report: one or more clusters, every control of every workload, with evidence.

Built from what the operator recorded in each cluster: the FinancialWorkloads (status:
conditions, compliance, drift) and their PolicyReports (one verdict per control with its
evidence, judged by ``verdicts``), plus the fleet inspection of every pod controller and,
when given, the evidence trail's summary of an audit period. ``build`` returns the JSON
shape documented in docs/compliance.md (``SCHEMA``); ``rows`` flattens it for CSV.

The report reads and never judges managed workloads itself: the operator's verdicts are
the record, stamped when judged. Where a PolicyReport is missing (not written yet, or the
cluster serves no PolicyReports) the workload says so instead of passing.
Must not: do I/O or read a clock (the caller stamps ``generated_at``).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from fwop import controls
from fwop.compliance import fleet, period, policyreport
from fwop.compliance.verdicts import Obj, Result
from fwop.render import meta

SCHEMA = "fwop.report/v1"
RESULTS = tuple(str(r) for r in Result)
MAX_EVIDENCE_ITEMS = 8
"""Evidence items kept per result (the PolicyReport holds at most as many)."""

CSV_COLUMNS = (
    "context", "source", "namespace", "kind", "name", "profile", "control", "result",
    "severity", "category", *controls.FRAMEWORKS, "message", "judgedAt", "evidence",
)  # fmt: skip
"""Columns of ``fwctl report -o csv``: one row per control per workload."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What was read from one cluster."""

    context: str
    workloads: Sequence[Obj]
    """FinancialWorkloads of every namespace, with status."""
    reports: Sequence[Obj] = ()
    """PolicyReports; those the operator wrote for a workload are used."""
    fleet: Sequence[fleet.Judged] | None = None
    """Every pod controller judged (``fleet.inspect``); None when not inspected."""
    policy_reports_served: bool = True
    """False when the cluster has no PolicyReport API."""


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _time(seconds: object) -> str | None:
    if not isinstance(seconds, int) or seconds <= 0:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The evidence a result carries; a cut or mangled list is reported as one raw item."""
    text = properties.get("evidence")
    if not text:
        return []
    try:
        items = json.loads(str(text))
    except ValueError:
        return [{"raw": str(text)[: policyreport.MAX_EVIDENCE_TEXT]}]
    if not isinstance(items, list):
        return [{"raw": str(text)[: policyreport.MAX_EVIDENCE_TEXT]}]
    return [dict(i) for i in items[:MAX_EVIDENCE_ITEMS] if isinstance(i, dict)]


def _control(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """One result of the operator's PolicyReport, with the catalog's references."""
    rule = str(result.get("rule", ""))
    try:
        control = controls.get(rule)
    except KeyError:
        return None  # a control retired since the report was written
    outcome = str(result.get("result", ""))
    return {
        "control": rule,
        "title": control.title,
        "result": outcome if outcome in RESULTS else "error",
        "severity": str(control.severity),
        "category": control.category,
        "frameworks": {k: list(v) for k, v in control.frameworks().items()},
        "message": str(result.get("message", "")),
        "judgedAt": _time((result.get("timestamp") or {}).get("seconds")),
        "evidence": _evidence(result.get("properties") or {}),
    }


def _condition(workload: Obj, kind: str) -> str:
    for condition in (workload.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return str(condition.get("status", "Unknown"))
    return "Unknown"


def _ours(reports: Iterable[Obj]) -> dict[str, Obj]:
    """The operator's reports by the uid of the workload that controls them (OWN-1)."""
    found = {}
    for report in reports:
        scope = report.get("scope") or {}
        uid = str(scope.get("uid", ""))
        if (
            uid
            and _meta(report).get("name") == policyreport.name(uid)
            and meta.controlled_by(report, uid)
        ):
            found[uid] = report
    return found


def _workload(workload: Obj, report: Obj | None) -> dict[str, Any]:
    metadata, status = _meta(workload), workload.get("status") or {}
    compliance = status.get("compliance") or {}
    found = [c for r in (report or {}).get("results") or () if (c := _control(r)) is not None]
    order = {cid: i for i, cid in enumerate(controls.ids())}
    found.sort(key=lambda c: order[c["control"]])
    counts = Counter(c["result"] for c in found)
    failing = [c["control"] for c in found if c["result"] == "fail"]
    state = "not-judged" if report is None else "non-compliant" if failing else "compliant"
    return {
        "namespace": str(metadata.get("namespace", "")),
        "name": str(metadata.get("name", "")),
        "uid": str(metadata.get("uid", "")),
        "profile": str((workload.get("spec") or {}).get("profile", "")),
        "ready": _condition(workload, "Ready"),
        "state": state,
        "summary": {r: counts.get(r, 0) for r in RESULTS},
        "failing": failing,
        "statusFailing": list(compliance.get("failing") or ()),
        # The status is written in the reconcile, the report up to 30 s later; a lasting
        # disagreement means someone else wrote the report: say so either way.
        "statusAgrees": report is None
        or sorted(failing) == sorted(compliance.get("failing") or ()),
        "report": policyreport.name(str(metadata.get("uid", ""))) if report else None,
        "judgedAt": compliance.get("judgedAt"),
        "controls": found,
    }


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        return (period.parse_time(end) - period.parse_time(start)).total_seconds()
    except ValueError:
        return None


def _incidents(workloads: Iterable[Obj]) -> list[dict[str, Any]]:
    """status.drift of every workload (the last 20 each; the trail holds them all)."""
    found = []
    for workload in workloads:
        metadata = _meta(workload)
        for entry in (workload.get("status") or {}).get("drift") or ():
            detected, healed = entry.get("detectedAt"), entry.get("healedAt")
            found.append(
                {
                    "namespace": str(metadata.get("namespace", "")),
                    "workload": str(metadata.get("name", "")),
                    "kind": str(entry.get("kind", "")),
                    "name": str(entry.get("name", "")),
                    "field": str(entry.get("field", "")),
                    "expected": str(entry.get("expected", "")),
                    "actual": str(entry.get("actual", "")),
                    "detectedAt": detected,
                    "healedAt": healed,
                    "secondsToHeal": _seconds(detected, healed),
                }
            )
    found.sort(key=lambda i: str(i["detectedAt"]), reverse=True)
    return found


def _namespaces(workloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in workloads:
        grouped[item["namespace"]].append(item)
    return [{"name": name, **_totals(items)} for name, items in sorted(grouped.items())]


def _totals(workloads: Sequence[dict[str, Any]]) -> dict[str, Any]:
    states = Counter(w["state"] for w in workloads)
    results = Counter()  # type: Counter[str]
    for item in workloads:
        results.update(item["summary"])
    judged = results["pass"] + results["fail"] + results["warn"]
    return {
        "workloads": len(workloads),
        "compliant": states["compliant"],
        "nonCompliant": states["non-compliant"],
        "notJudged": states["not-judged"],
        "results": {r: results.get(r, 0) for r in RESULTS},
        "score": round(results["pass"] / judged, 4) if judged else None,
    }


def _frameworks(workloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per framework, per requirement: results of the controls that answer to it."""
    by_control: dict[str, Counter[str]] = defaultdict(Counter)
    failing_in: dict[str, set[str]] = defaultdict(set)
    for item in workloads:
        for control in item["controls"]:
            by_control[control["control"]][control["result"]] += 1
            if control["result"] == "fail":
                failing_in[control["control"]].add(f"{item['namespace']}/{item['name']}")
    found = []
    for key, title in controls.FRAMEWORKS.items():
        requirements = []
        for requirement, ids in controls.by_framework(key).items():
            counts: Counter[str] = Counter()
            for cid in ids:
                counts.update(by_control.get(cid, Counter()))
            if counts["fail"]:
                state = "fail"
            elif counts["pass"] or counts["warn"]:
                state = "pass"
            else:
                state = "not-judged"
            requirements.append(
                {
                    "id": requirement,
                    "controls": list(ids),
                    "state": state,
                    "results": {r: counts.get(r, 0) for r in RESULTS},
                    "failingWorkloads": sorted({w for c in ids for w in failing_in.get(c, ())}),
                }
            )
        states = Counter(r["state"] for r in requirements)
        found.append(
            {
                "key": key,
                "title": title,
                "requirements": requirements,
                "met": states["pass"],
                "failed": states["fail"],
                "notJudged": states["not-judged"],
            }
        )
    return found


def _cluster(snapshot: Snapshot) -> dict[str, Any]:
    reports = _ours(snapshot.reports)
    workloads = sorted(
        (_workload(w, reports.get(str(_meta(w).get("uid", "")))) for w in snapshot.workloads),
        key=lambda w: (w["namespace"], w["name"]),
    )
    incidents = _incidents(snapshot.workloads)
    heal = [i["secondsToHeal"] for i in incidents if i["secondsToHeal"] is not None]
    judged = list(snapshot.fleet) if snapshot.fleet is not None else None
    return {
        "context": snapshot.context,
        "policyReportsServed": snapshot.policy_reports_served,
        "totals": _totals(workloads),
        "namespaces": _namespaces(workloads),
        "workloads": workloads,
        "drift": {
            "incidents": incidents,
            "open": sum(1 for i in incidents if not i["healedAt"]),
            "timeToHealSeconds": period.heal_stats(heal),
        },
        "fleet": None
        if judged is None
        else fleet.scores(judged) | {"judged": [j.manifest() for j in judged]},
    }


def catalog() -> list[dict[str, Any]]:
    """The controls, with their references (the report's appendix)."""
    return [
        {
            "id": c.id,
            "title": c.title,
            "category": c.category,
            "severity": str(c.severity),
            "enforcedIn": c.enforced_in,
            "judgedFrom": c.judged_from,
            "frameworks": {k: list(v) for k, v in c.frameworks().items()},
        }
        for c in controls.CATALOG
    ]


def build(
    snapshots: Sequence[Snapshot],
    generated_at: str,
    audit_period: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole report (``SCHEMA``)."""
    clusters = [_cluster(s) for s in snapshots]
    every = [w for c in clusters for w in c["workloads"]]
    return {
        "schema": SCHEMA,
        "generatedAt": generated_at,
        "contexts": [s.context for s in snapshots],
        "totals": _totals(every),
        "frameworks": _frameworks(every),
        "clusters": clusters,
        "period": dict(audit_period) if audit_period is not None else None,
        "catalog": catalog(),
    }


def _evidence_text(items: Iterable[Mapping[str, Any]]) -> str:
    return "; ".join(
        str(i["raw"]) if "raw" in i
        else f"{i.get('kind')}/{i.get('name')} {i.get('field')}={i.get('observed')}"
        for i in items
    )  # fmt: skip


FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""How a spreadsheet cell starts a formula: such cells are written as text (OWASP CSV
injection); values come from objects teams wrote."""


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA) else value


def rows(report: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """One CSV row per control per workload, every cell safe to open in a spreadsheet."""
    for row in _rows(report):
        yield {key: _cell(value) for key, value in row.items()}


def _rows(report: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """The operator's verdicts, then the fleet's."""
    for cluster in report["clusters"]:
        for item in cluster["workloads"]:
            for c in item["controls"]:
                yield {
                    "context": cluster["context"], "source": "operator",
                    "namespace": item["namespace"], "kind": "FinancialWorkload",
                    "name": item["name"], "profile": item["profile"], "control": c["control"],
                    "result": c["result"], "severity": c["severity"], "category": c["category"],
                    **{k: " ".join(c["frameworks"].get(k, ())) for k in controls.FRAMEWORKS},
                    "message": c["message"], "judgedAt": c["judgedAt"] or "",
                    "evidence": _evidence_text(c["evidence"]),
                }  # fmt: skip
        for judged in (cluster["fleet"] or {}).get("judged", ()):
            for v in judged["verdicts"]:
                control = controls.get(v["control"])
                yield {
                    "context": cluster["context"], "source": "inspect",
                    "namespace": judged["namespace"], "kind": judged["kind"],
                    "name": judged["name"], "profile": "", "control": v["control"],
                    "result": v["result"], "severity": str(control.severity),
                    "category": control.category,
                    **{k: " ".join(control.frameworks().get(k, ())) for k in controls.FRAMEWORKS},
                    "message": v["message"], "judgedAt": report["generatedAt"],
                    "evidence": _evidence_text(v["evidence"]),
                }  # fmt: skip
