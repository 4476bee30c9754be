"""Drift: a managed field of a child differs from what the workload declares (DRF-1).

A difference counts as drift only when the workload's current generation was already
reconciled: right after a spec change, differences are the update itself. This module
turns differences into findings, keeps the bounded `status.drift` record (open findings,
then healed ones, newest last) and decides the Drifted condition. Must not: do I/O, read a
clock (callers pass `now`), or decide whether to heal (the enforcement mode does).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fwop.reconcile import compare
from fwop.reconcile import conditions as cond
from fwop.reconcile.conditions import FALSE, TRUE, Condition

STATUS_LIMIT = 20
"""Entries kept in status.drift; older ones live on in Events and logs."""
VALUE_LIMIT = 256
"""Characters kept of an expected or actual value."""


@dataclasses.dataclass(frozen=True)
class Finding:
    """One drifted field of one child."""

    kind: str
    name: str
    field: str
    expected: str
    actual: str
    healed: bool = False
    """Whether the operator restores the value in this pass (enforce mode, or NS-1 labels)."""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the finding across passes."""
        return (self.kind, self.name, self.field)


def _encode(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_LIMIT else text[: VALUE_LIMIT - 3] + "..."


def findings(
    kind: str, name: str, diffs: Iterable[compare.Difference], healed: bool = False
) -> list[Finding]:
    """Findings for one child from its differences (a missing child is one finding)."""
    out = []
    for diff in diffs:
        if diff.path == "" and diff.actual is None:
            out.append(Finding(kind, name, "(object)", "present", "deleted", healed))
        else:
            expected = "absent" if diff.extra else _encode(diff.expected)
            actual = _encode(diff.actual) or "absent"
            out.append(Finding(kind, name, diff.path, expected, actual, healed))
    return out


def record(
    previous: Sequence[Mapping[str, Any]] | None, found: Sequence[Finding], now: str
) -> list[dict[str, Any]]:
    """The new status.drift list.

    Open entries (no healedAt) stay while the drift persists, keeping their detectedAt;
    an open entry whose drift went away without a heal is dropped; a heal closes the
    findings with healedAt. Healed entries are history: kept, newest last, up to the limit.
    """
    history = [dict(e) for e in previous or () if e.get("healedAt")]
    still_open = {
        (e.get("kind"), e.get("name"), e.get("field")): e
        for e in previous or ()
        if not e.get("healedAt")
    }
    current = []
    for finding in found:
        before = still_open.get(finding.key)
        entry = {
            "kind": finding.kind,
            "name": finding.name,
            "field": finding.field,
            "expected": finding.expected,
            "actual": finding.actual,
            "detectedAt": before["detectedAt"] if before else now,
        }
        if finding.healed:
            entry["healedAt"] = now
        current.append(entry)
    return [*history, *current][-STATUS_LIMIT:]


def condition(
    entries: Sequence[Mapping[str, Any]],
    healed_now: Sequence[Finding],
    previous: Mapping[str, Any] | None,
) -> Condition:
    """Drifted: True while unhealed drift remains; False otherwise, saying what was healed.

    A pass without drift keeps an earlier False condition as it was (the last heal stays
    readable, and the status is not rewritten after every heal).
    """
    open_entries = [e for e in entries if not e.get("healedAt")]
    if open_entries:
        fields = ", ".join(f"{e['kind']}/{e['name']} {e['field']}" for e in open_entries[:5])
        more = f" and {len(open_entries) - 5} more" if len(open_entries) > 5 else ""
        return Condition(
            cond.DRIFTED,
            TRUE,
            "DriftDetected",
            f"live state differs from the declared baseline: {fields}{more}",
        )
    if healed_now:
        fields = ", ".join(f"{f.kind}/{f.name} {f.field}" for f in healed_now[:5])
        return Condition(cond.DRIFTED, FALSE, "DriftHealed", f"restored: {fields}")
    if previous and previous.get("status") == FALSE:
        return Condition(cond.DRIFTED, FALSE, str(previous["reason"]), str(previous["message"]))
    return Condition(cond.DRIFTED, FALSE, "NoDrift", "every managed field matches the declaration")


def message(finding: Finding, healed: bool) -> str:
    """The Event text for one finding: object, field, expected and actual values."""
    verb = "healed" if healed else "detected"
    return (
        f"drift {verb} on {finding.kind} {finding.name}: {finding.field} "
        f"expected {finding.expected or 'absent'}, found {finding.actual}"
    )
