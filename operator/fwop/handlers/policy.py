"""kopf glue for the cluster policy (FinancialWorkloadPolicy, cluster-scoped).

The controller keeps the parsed policy for admission and the reconcile gate, and writes
the policy's status. Must not: evaluate workloads (the controller does).
"""

from __future__ import annotations

from typing import Any

import kopf

from fwop.api import group
from fwop.handlers import runtime
from fwop.kube import kinds


@kopf.on.event(group.GROUP, group.VERSION, kinds.POLICY.plural)
async def policy_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """The policy changed (or was listed at start-up): re-judge every workload."""
    runtime.current().policy_seen(body, deleted=type == "DELETED")
