"""The cluster summary: an incremental tally of every workload's verdicts, one result per
control, the failing workloads named (a bounded few), timestamps kept while unchanged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from fwop import controls
from fwop.compliance import summary
from fwop.compliance.verdicts import Result, Verdict

IDS = controls.ids()


def verdicts_with(
    failing: set[str] | frozenset[str] = frozenset(),
    skipping: set[str] | frozenset[str] = frozenset(),
) -> list[Verdict]:
    return [
        Verdict(
            c, Result.FAIL if c in failing else Result.SKIP if c in skipping else Result.PASS, "m"
        )
        for c in IDS
    ]


def uid(key: tuple[str, str]) -> str:
    return f"uid-{key[1]}"


def test_counts_and_failing_workloads_follow_each_change() -> None:
    tally = summary.Tally()
    assert tally.set(("a", "one"), verdicts_with({"IMG-1"}))
    assert tally.set(("a", "two"), verdicts_with(skipping={"AVL-1"}))
    assert not tally.set(("a", "two"), verdicts_with(skipping={"AVL-1"}))  # unchanged
    assert tally.counts["IMG-1"] == {"pass": 1, "fail": 1, "warn": 0, "skip": 0}
    assert tally.failing["IMG-1"] == {("a", "one")}
    tally.set(("a", "one"), verdicts_with())
    assert tally.failing["IMG-1"] == set()
    assert tally.drop(("a", "two"))
    assert not tally.drop(("a", "two"))
    assert tally.counts["AVL-1"] == {"pass": 1, "fail": 0, "warn": 0, "skip": 0}


def test_the_report_has_one_result_per_control_and_names_a_bounded_few() -> None:
    tally = summary.Tally()
    for i in range(15):
        tally.set(("ns", f"w{i:02d}"), verdicts_with({"NET-1"}))
    tally.set(("ns", "ok"), verdicts_with())
    report = summary.build(tally, 100, uid)
    assert report["kind"] == "ClusterPolicyReport"
    assert "namespace" not in report["metadata"]
    by_rule = {r["rule"]: r for r in report["results"]}
    assert list(by_rule) == list(IDS)
    net = by_rule["NET-1"]
    assert net["result"] == "fail"
    assert len(net["resources"]) == summary.MAX_LISTED
    assert net["resources"][0]["uid"] == "uid-w00"
    assert net["message"].startswith("15 of 16 workloads fail NET-1: ns/w00")
    assert net["message"].endswith("and 5 more")
    assert net["properties"]["workloads.fail"] == "15"
    assert net["properties"]["pci-dss"] == "1.2.1, 1.3.1, 1.3.2"
    assert by_rule["IMG-1"]["result"] == "pass"
    assert report["summary"]["fail"] == 15
    assert report["summary"]["pass"] == 16 * len(IDS) - 15


def test_unchanged_means_no_write_and_timestamps_hold() -> None:
    tally = summary.Tally()
    tally.set(("ns", "a"), verdicts_with())
    first = summary.build(tally, 100, uid)
    assert not summary.unchanged(None, first)
    again = summary.build(tally, 200, uid, first)
    assert summary.unchanged(first, again)
    assert again["results"] == first["results"]
    tally.set(("ns", "b"), verdicts_with({"POD-1"}))
    moved = summary.build(tally, 300, uid, first)
    assert not summary.unchanged(first, moved)
    stamps = {r["rule"]: r["timestamp"]["seconds"] for r in moved["results"]}
    assert stamps["POD-1"] == 300


@given(
    st.lists(st.tuples(st.integers(0, 5), st.sets(st.sampled_from(IDS), max_size=3)), max_size=40)
)
def test_the_tally_equals_a_recount_after_any_sequence_of_changes(
    changes: list[tuple[int, set[str]]],
) -> None:
    tally = summary.Tally()
    latest: dict[tuple[str, str], set[str]] = {}
    for index, failing in changes:
        key = ("ns", f"w{index}")
        if index == 0:
            tally.drop(key)
            latest.pop(key, None)
        else:
            tally.set(key, verdicts_with(failing))
            latest[key] = failing
    for control in IDS:
        failing_now = {k for k, f in latest.items() if control in f}
        assert tally.failing[control] == failing_now
        assert tally.counts[control]["fail"] == len(failing_now)
        assert tally.counts[control]["pass"] == len(latest) - len(failing_now)
