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
EVIDENCE_KEYS = ("kind", "name", "uid", "resourceVersion", "field", "observed")
"""What one evidence item holds (``verdicts.Evidence.manifest``); anything else is dropped."""
MAX_TEXT = 1024
"""Characters kept of any text read from a cluster (message, evidence value): a report
written by someone else may be large."""
STATES = ("compliant", "non-compliant", "incomplete", "not-judged")
"""A workload's state: every control judged and none failing; a control fails in the
PolicyReport or in status.compliance; the PolicyReport lacks controls or holds results
that are not the operator's; no PolicyReport."""

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
    workloads_served: bool = True
    """False when the cluster has no FinancialWorkload API (the operator is not installed):
    no workloads then means nothing was read, not an empty estate."""


def _meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _text(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "\u2026"


def _time(seconds: object) -> str | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds <= 0:
        return None
    try:
        stamp = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


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
    return [
        {key: _text(item.get(key, "")) for key in EVIDENCE_KEYS}
        for item in items[:MAX_EVIDENCE_ITEMS]
        if isinstance(item, dict)
    ]


def _control(result: Mapping[str, Any]) -> dict[str, Any] | None:
    """One result of the operator's PolicyReport, with the catalog's references."""
    rule = str(result.get("rule", ""))
    try:
        control = controls.get(rule)
    except KeyError:
        return None  # a control retired since the report was written
    outcome = str(result.get("result", ""))
    stamp, properties = result.get("timestamp"), result.get("properties")
    return {
        "control": rule,
        "title": control.title,
        "result": outcome if outcome in RESULTS else "error",
        "severity": str(control.severity),
        "category": control.category,
        "frameworks": {k: list(v) for k, v in control.frameworks().items()},
        "message": _text(result.get("message", "")),
        "judgedAt": _time(stamp.get("seconds") if isinstance(stamp, Mapping) else None),
        "evidence": _evidence(properties if isinstance(properties, Mapping) else {}),
    }


def _condition(workload: Obj, kind: str) -> str:
    for condition in (workload.get("status") or {}).get("conditions") or ():
        if condition.get("type") == kind:
            return str(condition.get("status", "Unknown"))
    return "Unknown"


def _ours(reports: Iterable[Obj]) -> dict[tuple[str, str], Obj]:
    """The operator's reports by (namespace, uid) of the workload that controls them.

    Named for it, scoped to it and in its namespace (OWN-1). A second report for the same
    workload (which the operator never writes) makes neither count.
    """
    found: dict[tuple[str, str], Obj] = {}
    seen: Counter[tuple[str, str]] = Counter()
    for report in reports:
        scope = report.get("scope") or {}
        uid, namespace = str(scope.get("uid", "")), str(_meta(report).get("namespace", ""))
        if (
            uid
            and scope.get("namespace") == namespace
            and _meta(report).get("name") == policyreport.name(uid)
            and meta.controlled_by(report, uid)
        ):
            seen[(namespace, uid)] += 1
            found[(namespace, uid)] = report
    return {key: report for key, report in found.items() if seen[key] == 1}


def _order(ids: Iterable[str]) -> list[str]:
    rank = {cid: i for i, cid in enumerate(controls.ids())}
    return sorted(set(ids), key=lambda cid: rank.get(cid, len(rank)))


def _workload(context: str, workload: Obj, report: Obj | None) -> dict[str, Any]:
    metadata, status = _meta(workload), workload.get("status") or {}
    compliance = status.get("compliance") or {}
    raw = (report or {}).get("results")
    raw = raw if isinstance(raw, list) else []
    results = [r for r in raw if isinstance(r, Mapping)]
    found = [c for r in results if (c := _control(r)) is not None]
    order = {cid: i for i, cid in enumerate(controls.ids())}
    found.sort(key=lambda c: order[c["control"]])
    counts = Counter(c["result"] for c in found)
    reported = [c["control"] for c in found if c["result"] == "fail"]
    raw_status = compliance.get("failing")
    status_failing = [str(c) for c in raw_status] if isinstance(raw_status, list) else []
    # Either record failing a control fails the workload: the status is written by the
    # operator alone (a status subresource), a PolicyReport by anyone allowed to write
    # one in the namespace, so a passing report never hides a failure in the status.
    failing = _order([*reported, *status_failing])
    # Complete: the catalog's controls, each once, each with a result the operator writes.
    complete = sorted(str(r.get("rule", "")) for r in results) == sorted(controls.ids()) and (
        len(found) == len(raw) and "error" not in counts
    )
    missing = _order(set(controls.ids()) - {c["control"] for c in found})
    if failing:
        state = "non-compliant"
    elif report is None:
        state = "not-judged"
    elif not complete:
        state = "incomplete"
    else:
        state = "compliant"
    return {
        "context": context,
        "namespace": str(metadata.get("namespace", "")),
        "name": str(metadata.get("name", "")),
        "uid": str(metadata.get("uid", "")),
        "profile": str((workload.get("spec") or {}).get("profile", "")),
        "ready": _condition(workload, "Ready"),
        "state": state,
        "summary": {r: counts.get(r, 0) for r in RESULTS},
        "failing": failing,
        "statusFailing": _order(status_failing),
        # The status is written in the reconcile, the report up to 30 s later; a lasting
        # disagreement means someone else wrote the report: say so either way.
        "statusAgrees": report is None or sorted(set(reported)) == sorted(set(status_failing)),
        "report": policyreport.name(str(metadata.get("uid", ""))) if report else None,
        "judgedAt": _text(compliance["judgedAt"]) if compliance.get("judgedAt") else None,
        "controls": found,
        "missing": missing,
    }


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    try:
        seconds = (period.parse_time(str(end)) - period.parse_time(str(start))).total_seconds()
    except (ValueError, OverflowError):
        return None
    return seconds if seconds >= 0 else None  # healed before detected: not a measure


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
    results: Counter[str] = Counter()
    for item in workloads:
        results.update(item["summary"])
    judged = results["pass"] + results["fail"] + results["warn"]
    return {
        "workloads": len(workloads),
        "compliant": states["compliant"],
        "nonCompliant": states["non-compliant"],
        "incomplete": states["incomplete"],
        "notJudged": states["not-judged"],
        "results": {r: results.get(r, 0) for r in RESULTS},
        "score": round(results["pass"] / judged, 4) if judged else None,
    }


def _by_control(
    workloads: Sequence[dict[str, Any]],
) -> tuple[dict[str, Counter[str]], dict[str, set[str]]]:
    """Results per control over the workloads, and where each fails.

    A failure in the status counts where the report passes; a control the report lacks
    counts not-judged.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    failing_in: dict[str, set[str]] = defaultdict(set)
    for item in workloads:
        judged = {c["control"]: c["result"] for c in item["controls"]}
        judged |= dict.fromkeys(item["failing"], "fail")
        judged |= {cid: "not-judged" for cid in item["missing"] if cid not in judged}
        for cid, result in judged.items():
            counts[cid][result] += 1
            if result == "fail":
                failing_in[cid].add(f"{item['context']}/{item['namespace']}/{item['name']}")
    return counts, failing_in


def _requirement_state(counts: Counter[str]) -> str:
    """A requirement is met only when every workload passes each control answering to it."""
    if counts["fail"]:
        return "fail"
    if counts["warn"]:
        return "warn"
    if counts["not-judged"] or counts["error"]:
        return "incomplete" if counts["pass"] else "not-judged"
    return "pass" if counts["pass"] else "not-judged"  # only skips: nothing answered to it


def _frameworks(workloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per framework, per requirement: results of the controls that answer to it."""
    by_control, failing_in = _by_control(workloads)
    found = []
    for key, title in controls.FRAMEWORKS.items():
        requirements = []
        for requirement, ids in controls.by_framework(key).items():
            counts: Counter[str] = Counter()
            for cid in ids:
                counts.update(by_control.get(cid, Counter()))
            requirements.append(
                {
                    "id": requirement,
                    "controls": list(ids),
                    "state": _requirement_state(counts),
                    "results": {r: counts.get(r, 0) for r in (*RESULTS, "not-judged")},
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
                "warned": states["warn"],
                "incomplete": states["incomplete"],
                "notJudged": states["not-judged"],
            }
        )
    return found


def _cluster(snapshot: Snapshot) -> dict[str, Any]:
    reports = _ours(snapshot.reports)

    def key(workload: Obj) -> tuple[str, str]:
        return str(_meta(workload).get("namespace", "")), str(_meta(workload).get("uid", ""))

    workloads = sorted(
        (_workload(snapshot.context, w, reports.get(key(w))) for w in snapshot.workloads),
        key=lambda w: (w["namespace"], w["name"]),
    )
    incidents = _incidents(snapshot.workloads)
    heal = [i["secondsToHeal"] for i in incidents if i["secondsToHeal"] is not None]
    judged = list(snapshot.fleet) if snapshot.fleet is not None else None
    return {
        "context": snapshot.context,
        "policyReportsServed": snapshot.policy_reports_served,
        "financialWorkloadsServed": snapshot.workloads_served,
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


def _unjudged(cid: str) -> dict[str, Any]:
    control = controls.get(cid)
    return {
        "control": cid, "result": "not-judged", "severity": str(control.severity),
        "category": control.category,
        "frameworks": {k: list(v) for k, v in control.frameworks().items()},
        "message": "no verdict in the workload's PolicyReport", "judgedAt": None, "evidence": [],
    }  # fmt: skip


def rows(report: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """One CSV row per control per workload, every cell safe to open in a spreadsheet."""
    for row in _rows(report):
        yield {key: _cell(value) for key, value in row.items()}


def _rows(report: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    """The operator's verdicts, then the fleet's.

    Every control of every workload: one the PolicyReport lacks reads not-judged, one
    failing in status.compliance reads fail.
    """
    for cluster in report["clusters"]:
        for item in cluster["workloads"]:
            for c in [*item["controls"], *map(_unjudged, item["missing"])]:
                result, message = c["result"], c["message"]
                if c["control"] in item["statusFailing"] and result != "fail":
                    result, message = "fail", f"failing in status.compliance; {message}"
                yield {
                    "context": cluster["context"], "source": "operator",
                    "namespace": item["namespace"], "kind": "FinancialWorkload",
                    "name": item["name"], "profile": item["profile"], "control": c["control"],
                    "result": result, "severity": c["severity"], "category": c["category"],
                    **{k: " ".join(c["frameworks"].get(k, ())) for k in controls.FRAMEWORKS},
                    "message": message, "judgedAt": c["judgedAt"] or "",
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
