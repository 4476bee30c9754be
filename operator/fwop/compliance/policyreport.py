"""Verdicts as a wgpolicyk8s.io/v1alpha2 PolicyReport, the format compliance dashboards read.

One report per FinancialWorkload, owned by it (garbage-collected with it), scoped to it, with
one result per control: result, category, severity, a message, and properties carrying the
framework references and the evidence. A result keeps its timestamp while its verdict does
not change, so an unchanged workload renders the same report and nothing is written.
Must not: do I/O or read a clock (the caller passes ``now`` in seconds).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from fwop import controls
from fwop.api import group
from fwop.compliance import verdicts
from fwop.render import meta

API_VERSION = "wgpolicyk8s.io/v1alpha2"
KIND = "PolicyReport"
POLICY = "fwop-baseline"
"""The policy name every result carries: the operator's baseline."""
SOURCE = "fwop"
MAX_EVIDENCE_TEXT = 2048
"""Characters of evidence JSON kept per result (the verdict already caps its items)."""
NAME_PREFIX = "fwop-"


def name(workload_uid: str) -> str:
    """The report's name: from the workload's uid, so no one can claim it in advance (OWN-1).

    Named by uid like Kyverno's per-resource reports, with a prefix so that a report another
    tool writes about the same FinancialWorkload never collides with this one.
    """
    return f"{NAME_PREFIX}{workload_uid}"


def scope(workload: Mapping[str, Any]) -> dict[str, str]:
    """The ObjectReference of the FinancialWorkload the report is about."""
    metadata = workload["metadata"]
    return {
        "apiVersion": group.API_VERSION,
        "kind": group.KIND,
        "namespace": str(metadata["namespace"]),
        "name": str(metadata["name"]),
        "uid": str(metadata["uid"]),
    }


def _properties(control: controls.Control, verdict: verdicts.Verdict) -> dict[str, str]:
    found = {key: ", ".join(refs) for key, refs in control.frameworks().items()}
    if control.other:
        found["other"] = "; ".join(control.other)
    if verdict.evidence:
        text = json.dumps([e.manifest() for e in verdict.evidence], separators=(",", ":"))
        found["evidence"] = text if len(text) <= MAX_EVIDENCE_TEXT else text[:MAX_EVIDENCE_TEXT]
    return found


def result(verdict: verdicts.Verdict, ref: Mapping[str, str], seconds: int) -> dict[str, Any]:
    """One control's result in the report."""
    control = controls.get(verdict.control)
    return {
        "policy": POLICY,
        "rule": control.id,
        "result": str(verdict.result),
        "category": control.category,
        "severity": str(control.severity),
        "message": verdict.message,
        "properties": _properties(control, verdict),
        "resources": [dict(ref)],
        "scored": True,
        "source": SOURCE,
        "timestamp": {"seconds": seconds, "nanos": 0},
    }


def _stable(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A result without what moves while its verdict holds.

    That is the timestamp, and the resourceVersions in its evidence (a Deployment's
    rollout moves them).
    """
    stable = {k: v for k, v in entry.items() if k != "timestamp"}
    properties = dict(stable.get("properties") or {})
    try:
        items = json.loads(properties.get("evidence", "[]"))
    except ValueError:  # cut at MAX_EVIDENCE_TEXT: compared as text
        return stable
    if isinstance(items, list):
        properties["evidence"] = [
            {k: v for k, v in item.items() if k != "resourceVersion"}
            for item in items
            if isinstance(item, dict)
        ]
        stable["properties"] = properties
    return stable


def build(
    workload: Mapping[str, Any],
    found: Sequence[verdicts.Verdict],
    now: int,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The PolicyReport for ``workload``, one result per verdict.

    Results are stamped ``now`` unless unchanged since ``previous`` (the live report), whose
    timestamps they keep.
    """
    ref = scope(workload)
    before = {
        str(r.get("rule")): r for r in (previous or {}).get("results") or () if isinstance(r, dict)
    }
    results = []
    for verdict in found:
        entry = result(verdict, ref, now)
        old = before.get(verdict.control)
        if old is not None and _stable(old) == _stable(entry):
            entry["timestamp"] = old.get("timestamp", entry["timestamp"])
        results.append(entry)
    owner = meta.OwnerRef(name=ref["name"], uid=ref["uid"]).manifest()
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": name(ref["uid"]),
            "namespace": ref["namespace"],
            "labels": meta.labels(ref["name"]),
            "ownerReferences": [owner],
        },
        "scope": ref,
        "summary": verdicts.summary(found) | {"error": 0},
        "results": results,
    }


_CATALOG = hashlib.sha256(controls.markdown().encode()).hexdigest()[:16]
"""Changes when the catalog's mapping changes: reports then carry the new references."""


def digest(found: Sequence[verdicts.Verdict]) -> str:
    """What the report says, without timestamps or resourceVersions: equal, nothing to write.

    A resourceVersion moves with every status update of a child (a Deployment's rollout);
    the verdict does not, and neither does the digest.
    """
    body = [_CATALOG, *(v.identity() for v in found)]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def content(report: Mapping[str, Any]) -> str:
    """What a report says, as a short hash: scope, summary and results.

    Without what moves while a verdict holds (timestamps, evidence resourceVersions).
    Two reports with the same content say the same thing to an auditor; a live report whose
    content differs from what the operator would write was changed by someone else.
    """
    results = [_stable(r) for r in report.get("results") or () if isinstance(r, Mapping)]
    body = [report.get("scope"), report.get("summary"), results]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
