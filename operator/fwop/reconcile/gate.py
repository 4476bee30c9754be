"""The reconcile gate: which generation of a workload the children may hold.

A workload can reach the cluster without passing the webhook (written while it was
bypassed or down with failurePolicy changed, or admitted before the policy tightened).
The cluster policy says, per control, whether a breach is only reported or blocks the
roll-out. A blocked generation is not rolled out: the children stay as the last generation
the policy let through (``status.appliedSpec``), and drift is still healed against it. A
generation already rolled out is never taken back by a policy change: running pods are
not deleted or scaled down, the breach shows as Compliant=False. Must not: do I/O, or
judge the policy itself (``fwop.admission`` does; this module gets its problems).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from fwop import errors
from fwop.api import policy as policy_api
from fwop.api import spec as spec_api
from fwop.api import workload as workload_api


@dataclasses.dataclass(frozen=True)
class Applied:
    """The generation whose rendering the children hold, and its spec as stored."""

    generation: int
    spec: Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class Decision:
    """What this pass renders."""

    spec: spec_api.FinancialWorkloadSpec | None
    """The spec to render; None: write no child at all (nothing compliant was ever applied)."""
    applied: Applied | None
    """What status.appliedGeneration/appliedSpec say after the pass."""
    blocked: str | None = None
    """Why the current generation is held back (PolicyBlocked), or None."""


def blocking(
    problems: Sequence[errors.Problem], policy: policy_api.FinancialWorkloadPolicySpec
) -> list[errors.Problem]:
    """The problems whose control the policy blocks on."""
    return [p for p in problems if policy.action(p.control) is policy_api.Action.BLOCK]


def _message(generation: int, problems: Sequence[errors.Problem], held: int | None) -> str:
    head = "; ".join(str(p) for p in problems[:5])
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    stays = (
        f"the children stay as generation {held} made them"
        if held is not None
        else "no child is created until a generation complies"
    )
    return (
        f"generation {generation} breaks the cluster policy, which blocks its roll-out: "
        f"{head}{more}; {stays}"
    )


def decide(
    spec: spec_api.FinancialWorkloadSpec,
    raw_spec: Mapping[str, Any],
    generation: int,
    blockers: Sequence[errors.Problem],
    applied: Applied | None,
) -> Decision:
    """Render the current generation unless a blocking breach holds it back."""
    current = Applied(generation, raw_spec)
    if not blockers or (applied is not None and applied.generation == generation):
        return Decision(spec, current)
    if applied is None:
        return Decision(None, None, _message(generation, blockers, None))
    try:
        held = workload_api.parse_spec(dict(applied.spec))
    except errors.InvalidSpecError:
        return Decision(None, applied, _message(generation, blockers, None))
    return Decision(held, applied, _message(generation, blockers, applied.generation))


def applied_from(status: Mapping[str, Any] | None, steady_generation: int | None) -> Applied | None:
    """Read status.appliedGeneration and appliedSpec.

    ``steady_generation`` stands in for workloads reconciled before the gate existed:
    their current generation is what runs.
    """
    status = status or {}
    generation, spec = status.get("appliedGeneration"), status.get("appliedSpec")
    if isinstance(generation, int) and isinstance(spec, Mapping):
        return Applied(generation, spec)
    return None if steady_generation is None else Applied(steady_generation, {})
