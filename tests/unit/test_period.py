"""An audit period from the evidence trail: incidents, time to heal, refusals, changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fwop.cli import main as cli
from fwop.compliance import period, trail

WORKLOAD = {"namespace": "payments", "name": "api", "uid": "u"}


def drift(kind: str, time: str, field: str = "spec.replicas") -> tuple[str, str, dict[str, Any]]:
    return kind, time, {"workload": WORKLOAD, "kind": "Deployment", "name": "api", "field": field}


EVENTS: list[tuple[str, str, dict[str, Any]]] = [
    (trail.START, "2026-12-01T00:00:00Z", {}),
    drift("drift-detected", "2026-12-01T10:00:00Z"),  # audit mode: found...
    drift("drift-healed", "2026-12-01T10:05:00Z"),  # ...healed 300 s later
    drift("drift-healed", "2026-12-02T09:00:00Z", "spec.template.spec.containers[0].image"),
    drift("drift-detected", "2026-12-03T08:00:00Z", "metadata.labels"),  # still open
    ("admission-refused", "2026-12-02T12:00:00Z", {"controls": ["IMG-2"], "namespace": "p"}),
    ("admission-refused", "2026-12-02T12:01:00Z", {"controls": ["IMG-2", "NET-3"]}),
    ("policy-changed", "2026-12-02T13:00:00Z", {"name": "default", "generation": 4}),
    ("verdicts-changed", "2026-12-03T08:00:01Z", {"workload": WORKLOAD, "failing": ["DRF-1"]}),
    ("admission-refused", "2026-12-09T00:00:00Z", {"controls": ["IMG-1"]}),  # after the period
]


def lines() -> list[str]:
    chain = trail.Chain()
    return [json.dumps(chain.next(kind, time, fields)) for kind, time, fields in EVENTS]


def records() -> list[dict[str, Any]]:
    return [r for _, r in trail.records(lines())]


def test_a_period_counts_incidents_heals_refusals_and_changes() -> None:
    found = period.summarise(records(), "2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z").as_json()
    assert found["records"] == 9
    assert found["drift"]["incidents"] == 3
    assert found["drift"]["healed"] == 2
    assert found["drift"]["timeToHealSeconds"] == {
        "count": 2,
        "p50": 150.0,
        "p90": 300.0,
        "max": 300.0,
    }
    assert [o["field"] for o in found["drift"]["open"]] == ["metadata.labels"]
    assert found["admission"] == {"refused": 2, "byControl": {"IMG-2": 2, "NET-3": 1}}
    assert found["policyChanges"][0]["generation"] == 4
    assert found["failingAtEnd"] == {"payments/api": ["DRF-1"]}


def test_the_period_bounds_select_records() -> None:
    found = period.summarise(records(), since="2026-12-02T00:00:00Z", until="2026-12-02T12:00:30Z")
    assert found.records == 2  # the enforce-mode heal and the first refusal
    assert found.incidents == 1
    assert found.heal_seconds == [0.0]


def test_fwctl_evidence_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trail"
    path.write_text("\n".join(lines()) + "\n")
    assert cli.main(["evidence", "summary", str(path), "--until", "2026-12-08T00:00:00Z"]) == 0
    text = capsys.readouterr().out
    assert "drift incidents: 3, healed 2, open 1" in text
    assert "chain intact" in text
    assert cli.main(["evidence", "summary", str(path), "-o", "json"]) == 0
    shape = json.loads(capsys.readouterr().out)
    assert shape["chain"] == {"intact": True, "breaks": []}
    assert shape["admission"]["refused"] == 3
    assert cli.main(["evidence", "summary", str(path), "--since", "yesterday"]) == 2
    assert "yesterday" in capsys.readouterr().err
