"""Start-up settings and the first log line that says what the operator watches."""

from __future__ import annotations

from typing import Any

import kopf

from fwop import logs

_log = logs.get(__name__)


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """Send kopf's own logs through structlog's JSON renderer and say what is watched."""
    settings.posting.level = 20  # INFO and above become Kubernetes Events
    _log.info("watching", resource="financialworkloads.finance.compliance.dev")
