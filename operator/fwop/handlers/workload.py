"""kopf glue for FinancialWorkloads, their children and their namespaces.

Watches only: every event lands in the controller's caches and queue, and the single
reconcile does the rest. on.event handlers store nothing on the objects, so kopf adds no
finalizers or annotations to the workloads or their children, and they return None so
nothing lands in status by accident.
"""

from __future__ import annotations

from typing import Any

import kopf

from fwop import controller, logs
from fwop.api import group
from fwop.kube import api as kube_api
from fwop.kube import events, kinds
from fwop.render import meta

_log = logs.get(__name__)
_state: dict[str, controller.Controller] = {}


def current() -> controller.Controller:
    """The running controller (created at start-up)."""
    return _state["controller"]


@kopf.on.startup()
async def start(**_: Any) -> None:
    """Connect to the API server and start the reconcile workers."""
    api = kube_api.Api(kube_api.connect())
    ctl = controller.Controller(api, events.Recorder(api))
    ctl.queue.start()
    _state["controller"] = ctl


@kopf.on.cleanup()
async def stop(**_: Any) -> None:
    """Stop the workers and close connections."""
    ctl = _state.pop("controller", None)
    if ctl is not None:
        await ctl.queue.stop()
        await ctl.events.drain()
        ctl.api.close()


@kopf.on.event(group.GROUP, group.VERSION, group.PLURAL)
async def workload_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    """Any change to a FinancialWorkload (and the initial listing) queues a reconcile."""
    current().workload_seen(body, deleted=type == "DELETED")


def _child_event(type: str | None, body: kopf.Body, **_: Any) -> None:
    current().child_seen(body, deleted=type == "DELETED")


for _kind in kinds.CHILDREN:
    kopf.on.event(
        _kind.group,
        _kind.version,
        _kind.plural,
        labels={meta.LABEL_MANAGED_BY: meta.MANAGED_BY},
    )(_child_event)


def _managed(name: str, **_: Any) -> bool:
    return "controller" in _state and current().manages_namespace(name)


@kopf.on.event("", "v1", "namespaces", when=_managed)
async def namespace_event(body: kopf.Body, **_: Any) -> None:
    """A namespace that holds workloads changed: re-check its Pod Security labels."""
    current().namespace_seen(body)
