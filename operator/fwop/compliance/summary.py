"""The cluster's compliance at a glance: one ClusterPolicyReport, one result per control.

It sums every workload's verdicts. The tally is kept up to date one workload at a time
(no scan of every workload per change); the report is built from it. Must not: do I/O
or read a clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fwop import controls
from fwop.api import group
from fwop.compliance import policyreport, verdicts
from fwop.render import meta

KIND = "ClusterPolicyReport"
NAME = "fwop-summary"
MAX_LISTED = 10
"""Failing workloads named per control (the count says how many there are)."""

Key = tuple[str, str]
_CODES = {"pass": "p", "fail": "f", "warn": "w", "skip": "s"}
_RESULTS = {code: result for result, code in _CODES.items()}


@dataclasses.dataclass
class Tally:
    """Per control, how many workloads pass, fail, warn or skip it; and who fails."""

    by_workload: dict[Key, str] = dataclasses.field(default_factory=dict)
    """One letter per control (catalog order), per workload: 24 bytes, not 24 objects."""
    counts: dict[str, dict[str, int]] = dataclasses.field(
        default_factory=lambda: {c: dict.fromkeys(_CODES, 0) for c in controls.ids()}
    )
    failing: dict[str, set[Key]] = dataclasses.field(
        default_factory=lambda: {c: set() for c in controls.ids()}
    )

    def set(self, key: Key, found: Iterable[verdicts.Verdict]) -> bool:
        """Record a workload's verdicts; True when the tally changed."""
        codes = "".join(_CODES[str(v.result)] for v in found)
        if self.by_workload.get(key) == codes:
            return False
        self.drop(key)
        self.by_workload[key] = codes
        self._count(key, codes, 1)
        return True

    def drop(self, key: Key) -> bool:
        """Forget a deleted workload; True when the tally changed."""
        codes = self.by_workload.pop(key, None)
        if codes is None:
            return False
        self._count(key, codes, -1)
        return True

    def _count(self, key: Key, codes: str, step: int) -> None:
        for control, code in zip(controls.ids(), codes, strict=False):
            result = _RESULTS[code]
            self.counts[control][result] += step
            if result == "fail":
                (self.failing[control].add if step > 0 else self.failing[control].discard)(key)


def _message(control: str, counts: Mapping[str, int], failing: Iterable[Key]) -> str:
    total = sum(counts.values())
    if counts["fail"]:
        named = sorted(failing)[:MAX_LISTED]
        listed = ", ".join(f"{ns}/{name}" for ns, name in named)
        more = f" and {counts['fail'] - len(named)} more" if counts["fail"] > len(named) else ""
        return f"{counts['fail']} of {total} workloads fail {control}: {listed}{more}"
    return f"{counts['pass']} of {total} workloads pass, {counts['skip']} not applicable"


def build(
    tally: Tally,
    now: int,
    uid_of: Callable[[Key], str | None],
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ClusterPolicyReport; a result keeps its timestamp while it is unchanged."""
    before = {str(r.get("rule")): r for r in (previous or {}).get("results") or ()}
    results = []
    totals = {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    for control in controls.CATALOG:
        counts = tally.counts[control.id]
        for result, n in counts.items():
            totals[result] += n
        worst = next((r for r in ("fail", "warn", "pass") if counts[r]), "skip")
        failing = sorted(tally.failing[control.id])[:MAX_LISTED]
        resources = [
            {"apiVersion": group.API_VERSION, "kind": group.KIND,
             "namespace": ns, "name": name, "uid": uid}
            for ns, name in failing
            if (uid := uid_of((ns, name)))
        ]  # fmt: skip
        entry: dict[str, Any] = {
            "policy": policyreport.POLICY,
            "rule": control.id,
            "result": worst,
            "category": control.category,
            "severity": str(control.severity),
            "message": _message(control.id, counts, tally.failing[control.id]),
            "properties": {
                **{key: ", ".join(refs) for key, refs in control.frameworks().items()},
                **{f"workloads.{r}": str(n) for r, n in counts.items()},
            },
            "resources": resources,
            "scored": True,
            "source": policyreport.SOURCE,
            "timestamp": {"seconds": now, "nanos": 0},
        }
        old = before.get(control.id)
        if old is not None and _same(old, entry):
            entry["timestamp"] = old.get("timestamp", entry["timestamp"])
        results.append(entry)
    return {
        "apiVersion": policyreport.API_VERSION,
        "kind": KIND,
        "metadata": {"name": NAME, "labels": {meta.LABEL_MANAGED_BY: meta.MANAGED_BY}},
        "summary": totals,
        "results": results,
    }


def _same(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return {k: v for k, v in old.items() if k != "timestamp"} == {
        k: v for k, v in new.items() if k != "timestamp"
    }


def unchanged(live: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """True when writing ``new`` over ``live`` would change nothing but timestamps."""
    if live is None:
        return False
    old = {str(r.get("rule")): r for r in live.get("results") or ()}
    return (
        live.get("summary") == new["summary"]
        and all(r["rule"] in old and _same(old[r["rule"]], r) for r in new["results"])
        and len(old) == len(new["results"])
    )
