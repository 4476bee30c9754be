"""Status conditions in the metav1.Condition shape, merged the way Kubernetes does it.

`merge` keeps lastTransitionTime when a condition's status did not flip, so a condition
only "moves" when something really changed; reasons are CamelCase constants. Must not:
read a clock itself (the caller passes `now`), or do I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TRUE, FALSE, UNKNOWN = "True", "False", "Unknown"

READY = "Ready"
RECONCILED = "Reconciled"
COMPLIANT = "Compliant"
SECRETS = "SecretsMounted"
DRIFTED = "Drifted"
STALLED = "Stalled"
RECONCILING = "Reconciling"


@dataclasses.dataclass(frozen=True)
class Condition:
    """A condition as decided by the core, before timestamps are attached."""

    type: str
    status: str
    reason: str
    message: str


def merge(
    previous: Sequence[Mapping[str, Any]] | None,
    decided: Iterable[Condition],
    generation: int,
    now: str,
) -> list[dict[str, Any]]:
    """The new condition list: decided conditions with stable lastTransitionTime."""
    before = {c.get("type"): c for c in previous or ()}
    merged = []
    for cond in decided:
        old = before.get(cond.type)
        kept = old.get("lastTransitionTime") if old and old.get("status") == cond.status else None
        merged.append(
            {
                "type": cond.type,
                "status": cond.status,
                "reason": cond.reason,
                "message": cond.message[:32768],
                "observedGeneration": generation,
                "lastTransitionTime": kept or now,
            }
        )
    return merged


def find(conditions: Sequence[Mapping[str, Any]] | None, kind: str) -> Mapping[str, Any] | None:
    """The condition of one type, if present."""
    return next((c for c in conditions or () if c.get("type") == kind), None)
