"""kopf glue for FinancialWorkloads, their children and their namespaces.

Watches only: every event lands in the controller's caches and queue, and the single
reconcile does the rest. on.event handlers store nothing on the objects, so kopf adds no
finalizers or annotations to the workloads or their children, and they return None so
nothing lands in status by accident.
"""

from __future__ import annotations

from typing import Any

import kopf

from fwop.api import group
from fwop.handlers import runtime
from fwop.kube import kinds


@kopf.on.event(group.GROUP, group.VERSION, group.PLURAL)
async def workload_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """Any change to a FinancialWorkload (and the initial listing) queues a reconcile."""
    runtime.current().workload_seen(body, deleted=type == "DELETED")


async def _child_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """Any object of a child kind: the store routes it by its owner, not by a label.

    Async on purpose: kopf runs plain functions in a thread pool, and the store and the
    work queue belong to the event loop. No label filter: a tamper that strips the
    operator's labels must still reach the workload that owns the object.
    """
    runtime.current().child_seen(body, deleted=type == "DELETED")


for _kind in kinds.CHILDREN:
    kopf.on.event(_kind.group, _kind.version, _kind.plural)(_child_event)


@kopf.on.event("", "v1", "pods")
async def pod_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """A pod: the store keeps the few fields pod drift reads, for pods of workloads only."""
    runtime.current().pod_seen(body, deleted=type == "DELETED")


@kopf.on.event("", "v1", "namespaces")
async def namespace_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """A namespace changed: cache its labels and re-check the workloads in it.

    Its labels feed admission (PRF-1); its workloads own its Pod Security labels (NS-1).
    """
    runtime.current().namespace_seen(body, deleted=type == "DELETED")
