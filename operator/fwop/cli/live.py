"""What fwctl reads from live clusters for ``report`` and ``inspect``: lists, nothing else.

Every read goes through ``fwop.kube.api`` (paged lists, errors mapped onto the project's
error tree); the deciding is done by ``fwop.compliance``. Reads only: fwctl never writes to
a cluster, and never reads a Secret. A kind the cluster does not serve (PolicyReports
without their CRD, secrets-store without the CSI driver) reads as empty and is said so.
Must not: decide anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

import pydantic

from fwop import errors
from fwop.api import group
from fwop.api import policy as policy_api
from fwop.compliance import fleet, report
from fwop.kube import api, kinds

CONNECTIONS = 4
"""Lists run a few at a time: a CLI should not weigh on the API server."""


def _kind(name: str) -> kinds.Kind:
    return next(k for k in kinds.CHILDREN if k.kind == name)


@dataclasses.dataclass(frozen=True)
class Read:
    """One cluster, read."""

    context: str
    snapshot: report.Snapshot
    inventory: fleet.Inventory | None


def contexts(names: list[str]) -> list[str]:
    """The contexts to read: those named, else the kubeconfig's current one.

    Raises errors.FwopError with a one-line message when the kubeconfig cannot be read or a
    name is not one of its contexts.
    """
    known, current = api.contexts()
    for name in names:
        if name not in known:
            raise errors.FwopError(
                f"no context {name!r} in the kubeconfig (contexts: {', '.join(known)})"
            )
    if names:
        return list(dict.fromkeys(names))
    return [current]


async def _optional(door: api.Api, kind: kinds.Kind) -> tuple[list[dict[str, Any]], bool]:
    """Every object of a kind, and whether the cluster serves the kind at all."""
    try:
        return await door.list_all(kind), True
    except errors.KindMissingError:
        return [], False


async def _registries(door: api.Api) -> tuple[str, ...] | None:
    """The cluster policy's allowed registries (IMG-2); None without a readable policy."""
    with contextlib.suppress(errors.KindMissingError, pydantic.ValidationError):
        policy = await door.get(kinds.POLICY, None, group.POLICY_NAME)
        if policy is not None:
            spec = policy_api.FinancialWorkloadPolicySpec.model_validate(policy.get("spec") or {})
            return tuple(spec.allowed_registries)
    return None


async def _read(context: str, *, inspect: bool, financial: bool) -> Read:
    door = api.Api(await asyncio.to_thread(api.connect, "fwctl", CONNECTIONS, context), CONNECTIONS)
    try:
        workloads: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        served = True
        if financial:
            (workloads, _), (reports, served) = await asyncio.gather(
                _optional(door, kinds.WORKLOAD), _optional(door, kinds.POLICY_REPORT)
            )
        inventory = await _inventory(door) if inspect else None
        judged = list(fleet.inspect(inventory)) if inventory is not None else None
        snapshot = report.Snapshot(context, workloads, reports, judged, served)
        return Read(context, snapshot, inventory)
    finally:
        door.close()


async def _inventory(door: api.Api) -> fleet.Inventory:
    kinds_read = (kinds.NAMESPACE, _kind("Deployment"), kinds.STATEFUL_SET, kinds.DAEMON_SET,
                  _kind("NetworkPolicy"), _kind("ServiceAccount"), _kind("Role"),
                  _kind("RoleBinding"))  # fmt: skip
    lists = await asyncio.gather(*(door.list_all(k) for k in kinds_read))
    namespaces, deployments, sets, daemons, policies, accounts, roles, bindings = lists
    allowed = await _registries(door)
    return fleet.Inventory(
        namespaces=namespaces,
        controllers=[*deployments, *sets, *daemons],
        network_policies=policies,
        service_accounts=accounts,
        roles=roles,
        role_bindings=bindings,
        registries=allowed,
    )


def read(names: list[str], *, inspect: bool, financial: bool = True) -> list[Read]:
    """Read each context (the current one when none is named), one after the other.

    Raises errors.FwopError (the kubeconfig) or errors.ApiError (a cluster refused a read
    or could not be reached), each with a one-line message.
    """
    return [
        asyncio.run(_read(context, inspect=inspect, financial=financial))
        for context in contexts(names)
    ]
