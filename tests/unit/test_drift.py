"""drift: findings from differences, the bounded status record, the Drifted condition."""

from __future__ import annotations

from fwop.reconcile import compare, drift

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z", "2026-01-01T00:02:00Z"


def test_findings_encode_values_and_name_missing_objects() -> None:
    diffs = [
        compare.Difference("spec.replicas", 3, 1),
        compare.Difference("spec.x.add", None, ["NET_ADMIN"]),
    ]
    found = drift.findings("Deployment", "api", diffs)
    assert [(f.field, f.expected, f.actual) for f in found] == [
        ("spec.replicas", "3", "1"),
        ("spec.x.add", "absent", '["NET_ADMIN"]'),
    ]
    [gone] = drift.findings("Role", "api", [compare.Difference("", "present", None)])
    assert (gone.field, gone.expected, gone.actual) == ("(object)", "present", "deleted")


def test_long_values_are_bounded() -> None:
    [f] = drift.findings("Role", "r", [compare.Difference("rules", "x" * 1000, "y")])
    assert len(f.expected) == drift.VALUE_LIMIT


def finding(field: str = "spec.replicas", healed: bool = False) -> drift.Finding:
    return drift.Finding("Deployment", "api", field, "3", "1", healed)


def test_audit_keeps_detected_at_while_open_and_drops_resolved() -> None:
    first = drift.record([], [finding()], now=T0)
    again = drift.record(first, [finding()], now=T1)
    assert again == first  # unchanged: no status write on a repeat pass
    assert again[0]["detectedAt"] == T0
    assert "healedAt" not in again[0]
    assert drift.record(again, [], now=T2) == []


def test_heals_are_history_bounded_newest_last() -> None:
    entries: list[dict] = []
    for i in range(drift.STATUS_LIMIT + 5):
        entries = drift.record(entries, [finding(f"f{i}", healed=True)], now=T1)
    assert len(entries) == drift.STATUS_LIMIT
    assert entries[-1]["field"] == f"f{drift.STATUS_LIMIT + 4}"
    assert all(e["healedAt"] == T1 for e in entries)


def test_condition() -> None:
    open_entries = drift.record([], [finding()], now=T0)
    assert drift.condition(open_entries, [], None).reason == "DriftDetected"
    healed = drift.condition([], [finding()], None)
    assert (healed.status, healed.reason) == ("False", "DriftHealed")
    previous = {"type": "Drifted", "status": "False", "reason": "DriftHealed", "message": "m"}
    kept = drift.condition([], [], previous)
    assert (kept.reason, kept.message) == ("DriftHealed", "m")  # no rewrite after a heal
    assert drift.condition([], [], None).reason == "NoDrift"
    assert "expected 3, found 1" in drift.message(finding(), healed=True)
