"""The evidence trail: one JSON record per change, chained by hashes so tampering shows.

Each record carries a sequence number, the previous record's hash and its own hash (SHA-256
of its canonical JSON without the hash). Removing, reordering or editing a record breaks
the chain at that point, and ``verify`` says where. Records are single JSON lines marked
with ``"trail": "fwop.evidence/v1"``, so they can share stdout with the operator's log lines
and be picked out again. Must not: do I/O or read a clock (the writer does both).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

MARK = "fwop.evidence/v1"
GENESIS = "0" * 64
"""The ``prev`` of a chain's first record when nothing came before it."""
MAX_VALUE = 1024
"""Characters kept of a before/after value (the rest is cut, and says so)."""
START = "chain-start"
"""The type of the record that opens a chain (each start of the operator)."""


def canonical(record: Mapping[str, Any]) -> str:
    """The text that is hashed: sorted keys, no spaces, the hash itself left out."""
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(record: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the record's canonical text."""
    return hashlib.sha256(canonical(record).encode()).hexdigest()


def capped(value: object) -> object:
    """A before/after value, cut to MAX_VALUE characters of JSON when larger."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= MAX_VALUE:
        return value
    return {"truncated": True, "length": len(text), "head": text[:MAX_VALUE]}


@dataclasses.dataclass
class Chain:
    """The state a writer carries from one record to the next."""

    seq: int = 0
    prev: str = GENESIS

    def next(self, kind: str, time: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The next record of the chain (the chain moves on)."""
        record: dict[str, Any] = {
            "trail": MARK,
            "seq": self.seq + 1,
            "time": time,
            "type": kind,
            **fields,
            "prev": self.prev,
        }
        record["hash"] = digest(record)
        self.seq, self.prev = record["seq"], record["hash"]
        return record

    @classmethod
    def after(cls, last: Mapping[str, Any] | None) -> Chain:
        """Continue after ``last`` (the last record a file holds), or start afresh."""
        if last is None:
            return cls()
        return cls(seq=int(last["seq"]), prev=str(last["hash"]))


def records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every trail record among log lines; other lines skipped."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if MARK not in text or not text.startswith("{"):
            continue
        try:
            found = json.loads(text)
        except ValueError:
            yield number, {"trail": MARK, "unreadable": text[:80]}
            continue
        if isinstance(found, dict) and found.get("trail") == MARK:
            yield number, found


@dataclasses.dataclass(frozen=True)
class Finding:
    """Where the chain breaks, or where a new chain starts."""

    line: int
    seq: int | None
    problem: str
    broken: bool = True
    """False for a notice (a new chain started: the operator restarted without a file)."""

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", seq {self.seq}" if self.seq is not None else "")
        return f"{where}: {self.problem}"


def verify(lines: Iterable[str]) -> tuple[int, list[Finding]]:
    """Check every record's hash and link; (records read, findings in order)."""
    findings: list[Finding] = []
    count = 0
    before: dict[str, Any] | None = None
    for number, record in records(lines):
        count += 1
        if "unreadable" in record:
            findings.append(Finding(number, None, "not valid JSON: the record was altered"))
            before = None
            continue
        seq = record.get("seq")
        seq = seq if isinstance(seq, int) else None
        if record.get("hash") != digest(record):
            findings.append(Finding(number, seq, "hash mismatch: the record was edited"))
        if before is not None:
            _link(findings, number, seq, record, before)
        elif record.get("type") != START and record.get("prev") != GENESIS:
            findings.append(
                Finding(number, seq, "the trail does not begin at a chain start: earlier "
                        "records are not in this file", broken=False)
            )  # fmt: skip
        before = record
    return count, findings


def _link(
    findings: list[Finding], number: int, seq: int | None, record: Mapping[str, Any],
    before: Mapping[str, Any],
) -> None:  # fmt: skip
    """Check that ``record`` follows ``before``."""
    expected = before.get("seq", 0) + 1 if isinstance(before.get("seq"), int) else None
    if record.get("prev") == before.get("hash") and seq == expected:
        return
    if record.get("type") == START and record.get("prev") == GENESIS and seq == 1:
        restart = "a new chain starts (the operator restarted without a trail file)"
        findings.append(Finding(number, seq, restart, broken=False))
        return
    if seq is not None and expected is not None and seq > expected:
        missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
        findings.append(Finding(number, seq, f"records {missing} are missing (removed)"))
    elif seq is not None and expected is not None and seq < expected:
        findings.append(Finding(number, seq, f"out of order: seq {seq} after {expected - 1}"))
    else:
        findings.append(
            Finding(number, seq, "prev does not match the record before: a record was "
                    "edited, replaced or removed")
        )  # fmt: skip
