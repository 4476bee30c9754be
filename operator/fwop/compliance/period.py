"""What happened in an audit period, from the evidence trail.

Drift incidents and how fast they were healed, admission refusals, policy and verdict
changes. An incident is one drifted field of one child of one workload: it opens with a
``drift-detected`` record (audit mode) or a ``drift-healed`` record (enforce mode finds and
heals in one pass), and closes with the ``drift-healed`` record of the same field. Time to
heal is the time between the two; a heal in the pass that found the drift counts as 0 s at
the trail's resolution (a pass follows the watch event within about a second, see
bench/drift_heal.py). Must not: do I/O or read a clock.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

Incident = tuple[str, str, str, str, str, str]
"""(namespace, workload, kind, name, field, detectedAt)."""


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 time (``Z`` or an offset); raises ValueError."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


@dataclasses.dataclass
class Period:
    """The summary of one period; ``as_json`` is its documented shape (docs/compliance.md)."""

    since: str | None
    until: str | None
    records: int = 0
    incidents: int = 0
    healed: int = 0
    open: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    heal_seconds: list[float] = dataclasses.field(default_factory=list)
    by_kind: Counter[str] = dataclasses.field(default_factory=Counter)
    refusals: int = 0
    refusals_by_control: Counter[str] = dataclasses.field(default_factory=Counter)
    policy_changes: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    verdict_changes: int = 0
    workloads_failing: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The JSON form (``fwctl evidence summary -o json``)."""
        return {
            "period": {"since": self.since, "until": self.until},
            "records": self.records,
            "drift": {
                "incidents": self.incidents,
                "healed": self.healed,
                "open": self.open,
                "timeToHealSeconds": heal_stats(self.heal_seconds),
                "byKind": dict(sorted(self.by_kind.items())),
            },
            "admission": {
                "refused": self.refusals,
                "byControl": dict(sorted(self.refusals_by_control.items())),
            },
            "policyChanges": self.policy_changes,
            "verdictChanges": self.verdict_changes,
            "failingAtEnd": dict(sorted(self.workloads_failing.items())),
        }


def heal_stats(seconds: Iterable[float]) -> dict[str, float | int | None]:
    """Count, median, 90th percentile (nearest rank) and max of times to heal."""
    heal = sorted(seconds)
    return {
        "count": len(heal),
        "p50": statistics.median(heal) if heal else None,
        "p90": heal[math.ceil(0.9 * len(heal)) - 1] if heal else None,
        "max": heal[-1] if heal else None,
    }


def _workload(record: Mapping[str, Any]) -> tuple[str, str]:
    found = record.get("workload") or {}
    return str(found.get("namespace", "")), str(found.get("name", ""))


def summarise(
    records: Iterable[Mapping[str, Any]], since: str | None = None, until: str | None = None
) -> Period:
    """Sum up the trail records whose time lies in [since, until)."""
    start = parse_time(since) if since else None
    end = parse_time(until) if until else None
    period = Period(since, until)
    opened: dict[tuple[str, ...], datetime.datetime] = {}
    for record in records:
        try:
            when = parse_time(str(record.get("time", "")))
        except ValueError:
            continue
        if (start and when < start) or (end and when >= end):
            continue
        period.records += 1
        _one(period, record, when, opened)
    for key, when in sorted(opened.items(), key=lambda item: item[1]):
        period.open.append(
            {"namespace": key[0], "workload": key[1], "kind": key[2], "name": key[3],
             "field": key[4], "detectedAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        )  # fmt: skip
    return period


def _one(
    period: Period,
    record: Mapping[str, Any],
    when: datetime.datetime,
    opened: dict[tuple[str, ...], datetime.datetime],
) -> None:
    kind = record.get("type")
    if kind in ("drift-detected", "drift-healed"):
        ns, name = _workload(record)
        key = (ns, name, str(record.get("kind")), str(record.get("name")), str(record.get("field")))
        if key not in opened:
            period.incidents += 1
            period.by_kind[str(record.get("kind"))] += 1
            opened[key] = when
        if kind == "drift-healed":
            period.healed += 1
            period.heal_seconds.append((when - opened.pop(key)).total_seconds())
    elif kind == "admission-refused":
        period.refusals += 1
        for control in record.get("controls") or ():
            period.refusals_by_control[str(control)] += 1
    elif kind == "policy-changed":
        period.policy_changes.append(
            {"time": record.get("time"), "name": record.get("name"),
             "generation": record.get("generation"), "deleted": record.get("deleted")}
        )  # fmt: skip
    elif kind == "verdicts-changed":
        period.verdict_changes += 1
        ns, name = _workload(record)
        failing = [str(c) for c in record.get("failing") or ()]
        if failing:
            period.workloads_failing[f"{ns}/{name}"] = failing
        else:
            period.workloads_failing.pop(f"{ns}/{name}", None)
