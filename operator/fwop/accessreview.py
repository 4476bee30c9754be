"""RBAC-4 at the webhook: nobody grants a workload more than they hold themselves.

For each thing a workload's declared rules grant, and each ConfigMap and claim its volumes
read, one SubjectAccessReview asks the API server whether the requesting user (the
AdmissionReview's userInfo) may do it in the workload's namespace, as Kubernetes RBAC
checks a user who writes a Role. Answers are
cached for a few seconds per user and question (bounded), asked concurrently, and at most
``permissions.MAX_ACCESS_REVIEWS`` per review. Must not: decide which questions to ask or
word the verdict (``fwop.admission.permissions`` does), or run outside admission (the
reconcile has no requester).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from fwop import errors, freshness
from fwop.admission import permissions
from fwop.api import spec as spec_api
from fwop.kube import api as kube_api

TTL_SECONDS = 5.0
CONCURRENCY = 8


class AccessReviewer:
    """Asks the API server what a requester holds, with a short bounded cache."""

    def __init__(self, api: kube_api.Api) -> None:
        self.api = api
        self._cache: freshness.FreshCache[bool] = freshness.FreshCache(TTL_SECONDS, limit=8192)
        self._gate = asyncio.Semaphore(CONCURRENCY)

    async def problems(
        self, spec: spec_api.FinancialWorkloadSpec, namespace: str, user: Mapping[str, Any]
    ) -> tuple[errors.Problem, ...]:
        """RBAC-4 problems of a workload requested by ``user`` (empty: they hold it all)."""
        wanted = list(
            dict.fromkeys(
                [
                    *(a for rule in spec.permissions for a in permissions.accesses(rule)),
                    *(a for _, a in permissions.volume_accesses(spec)),
                ]
            )
        )
        name = str(user.get("username") or "the requester")
        if len(wanted) > permissions.MAX_ACCESS_REVIEWS:
            message = (
                f"spec.permissions grant {len(wanted)} distinct accesses; at most "
                f"{permissions.MAX_ACCESS_REVIEWS} can be checked against what {name} holds "
                "(RBAC-4); allowed: fewer resources, verbs or resource names"
            )
            return (errors.Problem("spec.permissions", message, "RBAC-4"),)
        identity = json.dumps(dict(user), sort_keys=True, default=str)
        answers = await asyncio.gather(*(self._may(identity, user, a, namespace) for a in wanted))
        denied = {a for a, ok in zip(wanted, answers, strict=True) if not ok}
        return (
            *permissions.holder_problems(spec, denied, name, namespace),
            *permissions.volume_problems(spec, denied, name, namespace),
        )

    async def _may(
        self, identity: str, user: Mapping[str, Any], access: permissions.Access, namespace: str
    ) -> bool:
        async def ask() -> bool:
            async with self._gate:
                return await self.api.may(dict(user), access.attributes(namespace))

        return await self._cache.get((identity, access, namespace), ask)
