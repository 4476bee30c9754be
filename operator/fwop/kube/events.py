"""Kubernetes Events on FinancialWorkloads (core/v1), posted without blocking a reconcile.

Events are the operator's audit trail in the cluster (AUD-1): what it created, changed,
healed, and every failure. Posting happens in background tasks; a failed post is logged,
never retried in a loop. Must not: decide when to post (the controller does).
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from collections.abc import Mapping
from typing import Any

from fwop import errors, logs
from fwop.kube import api as kube_api
from fwop.kube import kinds

_log = logs.get(__name__)
COMPONENT = "fwop"
_MESSAGE_LIMIT = 1024


def event_body(
    obj: Mapping[str, Any], type_: str, reason: str, message: str, now: str
) -> dict[str, Any]:
    """A core/v1 Event about `obj`."""
    meta = obj["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{meta['name']}.{uuid.uuid4().hex[:16]}",
            "namespace": meta["namespace"],
        },
        "involvedObject": {
            "apiVersion": obj.get("apiVersion", kinds.WORKLOAD.api_version),
            "kind": obj.get("kind", kinds.WORKLOAD.kind),
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
        },
        "type": type_,
        "reason": reason,
        "message": message[:_MESSAGE_LIMIT],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


class Recorder:
    """Posts events in the background; `drain` waits for the ones in flight."""

    def __init__(self, api: kube_api.Api) -> None:
        self._api = api
        self._pending: set[asyncio.Task[None]] = set()

    def __call__(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        """Queue one event about `obj`."""
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = event_body(obj, type_, reason, message, now)
        task = asyncio.create_task(self._post(body))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _post(self, body: dict[str, Any]) -> None:
        try:
            await self._api.create(kinds.EVENT, body["metadata"]["namespace"], body)
        except errors.ApiError as exc:
            _log.warning("event not posted", reason=body["reason"], error=str(exc))

    async def drain(self) -> None:
        """Wait for every queued event to be posted."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
