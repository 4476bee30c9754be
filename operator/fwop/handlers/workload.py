"""kopf glue for FinancialWorkloads: their events feed the controller's store and queue.

The children, their pods and the namespaces are watched by the operator's own lean
watcher (fwop.kube.watch), not by kopf: kopf's per-event processing costs milliseconds of
CPU, which thousands of children cannot afford. on.event handlers store nothing on the
objects, so kopf adds no finalizers or annotations, and they return None so nothing lands
in status by accident.
"""

from __future__ import annotations

from typing import Any

import kopf

from fwop.api import group
from fwop.handlers import runtime


@kopf.on.event(group.GROUP, group.VERSION, group.PLURAL)
async def workload_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """Any change to a FinancialWorkload (and the initial listing) queues a reconcile."""
    runtime.current().workload_seen(body, deleted=type == "DELETED")
