"""The evidence trail's hash chain: intact chains verify; a removed, reordered or edited
record is found and located; log lines in between are ignored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwop import evidence
from fwop.cli import main as cli
from fwop.compliance import trail


def chain(count: int, chain_state: trail.Chain | None = None) -> list[str]:
    state = chain_state or trail.Chain()
    lines = [json.dumps(state.next(trail.START, "2026-12-05T08:00:00Z", {}))]
    for i in range(1, count):
        record = state.next("heal", f"2026-12-05T08:00:{i:02d}Z", {"object": f"Deployment/d{i}"})
        lines.append(json.dumps(record))
    return lines


def broken(lines: list[str]) -> list[trail.Finding]:
    return [f for f in trail.verify(lines)[1] if f.broken]


def test_an_intact_chain_verifies_among_other_log_lines() -> None:
    lines = chain(5)
    mixed = [lines[0], '{"event": "status written", "level": "info"}', *lines[1:], "plain text"]
    count, findings = trail.verify(mixed)
    assert count == 5
    assert findings == []


def test_a_removed_record_is_found_with_its_sequence_number() -> None:
    lines = chain(6)
    del lines[2]
    (finding,) = broken(lines)
    assert finding.seq == 4
    assert "records 3 are missing" in finding.problem
    del lines[2]
    assert "records 3-4 are missing" in broken(lines)[0].problem


def test_reordered_records_are_found() -> None:
    lines = chain(6)
    lines[2], lines[3] = lines[3], lines[2]
    problems = [f.problem for f in broken(lines)]
    assert any("missing" in p for p in problems)
    assert any("out of order" in p for p in problems)


def test_an_edited_record_is_found_even_if_its_hash_is_recomputed() -> None:
    lines = chain(4)
    record = json.loads(lines[2])
    record["object"] = "Deployment/other"
    lines[2] = json.dumps(record)
    (edited,) = broken(lines)
    assert edited.line == 3
    assert "hash mismatch" in edited.problem
    record["hash"] = trail.digest(record)
    lines[2] = json.dumps(record)
    (next_one,) = broken(lines)
    assert next_one.seq == 4
    assert "prev does not match" in next_one.problem


def test_a_mangled_line_is_reported_not_a_traceback() -> None:
    lines = chain(3)
    lines[1] = lines[1][:-5]
    assert any("not valid JSON" in f.problem for f in broken(lines))


def test_a_restart_continues_from_the_file_or_starts_a_noted_new_chain() -> None:
    first = chain(3)
    continued = chain(2, trail.Chain.after(json.loads(first[-1])))
    assert broken(first + continued) == []
    assert trail.verify(first + continued)[1] == []
    fresh = chain(2)
    _, findings = trail.verify(first + fresh)
    assert [f.broken for f in findings] == [False]
    assert "new chain" in findings[0].problem


def test_large_values_are_capped() -> None:
    assert trail.capped("x" * 10) == "x" * 10
    big = trail.capped({"k": "v" * 5000})
    assert isinstance(big, dict)
    assert big["truncated"] is True
    assert len(big["head"]) == trail.MAX_VALUE


@given(st.integers(min_value=2, max_value=30), st.data())
def test_any_single_removal_is_detected(count: int, data: st.DataObject) -> None:
    lines = chain(count)
    index = data.draw(st.integers(min_value=1, max_value=count - 1))
    if index == count - 1:
        return  # the last record's removal needs an anchor outside the file (docs/compliance.md)
    del lines[index]
    assert broken(lines)


def clock() -> str:
    return "2026-12-05T08:00:00Z"


def test_the_writer_continues_its_file_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "trail.jsonl"
    out = io.StringIO()
    first = evidence.Trail(clock, path, out)
    first("drift-healed", kind="Deployment", name="d", field="spec.replicas", before=1, after=3)
    second = evidence.Trail(clock, path, None)  # a restart: continues the chain
    second("verdicts-changed", failing=["POD-3"])
    lines = path.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4]
    assert json.loads(lines[2])["continues"] == json.loads(lines[1])["hash"]
    assert trail.verify(lines)[1] == []
    assert out.getvalue().splitlines() == lines[:2]  # stdout got the first start's records


def test_fwctl_evidence_verify_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "log"
    lines = chain(4)
    path.write_text("\n".join(lines) + "\n")
    assert cli.main(["evidence", "verify", str(path)]) == 0
    assert "4 record(s), chain intact" in capsys.readouterr().err
    path.write_text("\n".join([lines[0], lines[1], lines[3]]) + "\n")
    assert cli.main(["evidence", "verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert "line 3, seq 4: records 3 are missing (removed) [BROKEN]" in out
    assert cli.main(["evidence", "verify", str(tmp_path / "absent")]) == 2
    assert "cannot read" in capsys.readouterr().err
