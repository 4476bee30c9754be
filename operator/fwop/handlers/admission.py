"""The validating admission webhook for FinancialWorkloads (kopf serves it over TLS).

It refuses what breaks the CRD rules, the cluster policy or the cross-field rules, with
one line per problem naming the field, the control and the allowed values: the same
words as `fwctl check`. Must not: write anything.
"""

from __future__ import annotations

import time
from typing import Any

import kopf

from fwop import metrics
from fwop.api import group
from fwop.handlers import runtime, startup


@kopf.on.validate(
    group.GROUP,
    group.VERSION,
    group.PLURAL,
    id=startup.WEBHOOK_ID,
    operations=["CREATE", "UPDATE"],
)
async def validate(
    body: kopf.Body, namespace: str | None, userinfo: kopf.UserInfo, **_: Any
) -> None:
    """Refuse a FinancialWorkload that breaks a rule; say exactly what to change."""
    started = time.perf_counter()
    problems = await runtime.current().admission_problems(
        dict(body), namespace or "default", dict(userinfo)
    )
    metrics.ADMISSION_SECONDS.observe(time.perf_counter() - started)
    metrics.ADMISSION.labels("denied" if problems else "allowed").inc()
    if problems:
        meta = body.get("metadata") or {}
        runtime.current().trail(
            "admission-refused",
            namespace=namespace or "default",
            name=str(meta.get("name") or meta.get("generateName") or ""),
            user=str(userinfo.get("username", "")),
            controls=sorted({p.control for p in problems if p.control}),
            problems=[str(p) for p in problems[:20]],
        )
        raise kopf.AdmissionError("\n".join(str(p) for p in problems), code=422)
