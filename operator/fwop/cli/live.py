"""What fwctl reads from live clusters for ``report``, ``inspect`` and ``check --cluster``.

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
from fwop.render import meta

CONNECTIONS = 4
"""Lists run a few at a time: a CLI should not weigh on the API server."""


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


async def _optional(
    door: api.Api, kind: kinds.Kind, label_selector: str | None = None
) -> tuple[list[dict[str, Any]], bool]:
    """Every object of a kind, and whether the cluster serves the kind at all."""
    try:
        return await door.list_all(kind, label_selector), True
    except errors.KindMissingError:
        return [], False


async def _registries(door: api.Api) -> tuple[str, ...] | None:
    """The cluster policy's allowed registries (IMG-2), None without a readable policy.

    Not installed, not readable by this user, not valid: IMG-2 is then skipped, not passed.
    """
    with contextlib.suppress(
        errors.KindMissingError, errors.RejectedError, pydantic.ValidationError
    ):
        policy = await door.get(kinds.POLICY, None, group.POLICY_NAME)
        if policy is not None:
            spec = policy_api.FinancialWorkloadPolicySpec.model_validate(policy.get("spec") or {})
            return tuple(spec.allowed_registries)
    return None


async def _read(context: str, *, inspect: bool, financial: bool) -> report.Snapshot:
    door = api.Api(await asyncio.to_thread(api.connect, "fwctl", CONNECTIONS, context), CONNECTIONS)
    try:
        workloads: list[dict[str, Any]] = []
        reports: list[dict[str, Any]] = []
        workloads_served = reports_served = True
        if financial:
            # Only the operator's reports: other tools' (Kyverno, Trivy) may be many.
            (workloads, workloads_served), (reports, reports_served) = await asyncio.gather(
                _optional(door, kinds.WORKLOAD),
                _optional(door, kinds.POLICY_REPORT, f"{meta.LABEL_MANAGED_BY}={meta.MANAGED_BY}"),
            )
        inventory = await _inventory(door) if inspect else None
        judged = list(fleet.inspect(inventory)) if inventory is not None else None
        return report.Snapshot(
            context, workloads, reports, judged, reports_served, workloads_served
        )
    except errors.ApiError as exc:
        raise errors.FwopError(f"context {context!r}: {exc}") from None
    finally:
        door.close()


async def _inventory(door: api.Api) -> fleet.Inventory:
    controllers = (kinds.child("Deployment"), kinds.STATEFUL_SET, kinds.DAEMON_SET, kinds.CRON_JOB,
                   kinds.REPLICA_SET, kinds.JOB, kinds.POD)  # fmt: skip
    rest = (
        kinds.NAMESPACE, kinds.child("NetworkPolicy"), kinds.child("ServiceAccount"),
        kinds.child("Role"), kinds.child("RoleBinding"), kinds.CLUSTER_ROLE_BINDING,
    )  # fmt: skip
    lists = await asyncio.gather(*(door.list_all(k) for k in (*controllers, *rest)))
    namespaces, policies, accounts, roles, bindings, cluster_bindings = lists[len(controllers) :]
    cluster_roles: list[dict[str, Any]] | None
    try:
        cluster_roles = await door.list_all(kinds.CLUSTER_ROLE)
    except errors.RejectedError:
        cluster_roles = None  # a namespaced auditor: bindings to ClusterRoles stay unresolved
    workloads, served = await _optional(door, kinds.WORKLOAD)
    uids = frozenset(str((w.get("metadata") or {}).get("uid")) for w in workloads)
    return fleet.Inventory(
        namespaces=namespaces,
        controllers=[obj for found in lists[: len(controllers)] for obj in found],
        network_policies=policies,
        service_accounts=accounts,
        roles=roles,
        role_bindings=bindings,
        cluster_roles=cluster_roles,
        cluster_role_bindings=cluster_bindings,
        registries=await _registries(door),
        workload_uids=uids if served else frozenset(),
    )


def read(names: list[str], *, inspect: bool, financial: bool = True) -> list[report.Snapshot]:
    """Read each context (the current one when none is named), one after the other.

    Raises errors.FwopError with a one-line message naming the context: the kubeconfig
    could not be read, or a cluster refused a read or could not be reached.
    """
    return [
        asyncio.run(_read(context, inspect=inspect, financial=financial))
        for context in contexts(names)
    ]


MAX_NAMESPACES = 256
"""Namespaces ``check --cluster`` reads the labels of, at most (one GET each)."""


@dataclasses.dataclass(frozen=True)
class Admission:
    """What admission would judge a workload with in a cluster: its policy, its labels."""

    context: str
    policy: policy_api.FinancialWorkloadPolicySpec | None
    """The cluster's FinancialWorkloadPolicy; None when it has none."""
    labels: dict[str, dict[str, str]]
    """Labels of each namespace asked about that exists, by name."""


async def _admission(context: str, namespaces: list[str]) -> Admission:
    door = api.Api(await asyncio.to_thread(api.connect, "fwctl", CONNECTIONS, context), CONNECTIONS)
    try:
        try:
            found = await door.get(kinds.POLICY, None, group.POLICY_NAME)
        except errors.KindMissingError:
            found = None
        policy = None
        if found is not None:
            try:
                policy = policy_api.FinancialWorkloadPolicySpec.model_validate(
                    found.get("spec") or {}
                )
            except pydantic.ValidationError as exc:
                raise errors.FwopError(
                    f"context {context!r}: the cluster's {group.POLICY_KIND} is not valid:"
                    f" {exc.errors()[0]['msg']}"
                ) from None
        gate = asyncio.Semaphore(CONNECTIONS)

        async def labels(name: str) -> tuple[str, dict[str, str] | None]:
            async with gate:
                namespace = await door.get(kinds.NAMESPACE, None, name)
            if namespace is None:
                return name, None
            raw = (namespace.get("metadata") or {}).get("labels") or {}
            return name, {str(k): str(v) for k, v in raw.items()}

        read = await asyncio.gather(*(labels(name) for name in namespaces))
        return Admission(context, policy, {n: found for n, found in read if found is not None})
    except errors.ApiError as exc:
        raise errors.FwopError(f"context {context!r}: {exc}") from None
    finally:
        door.close()


def admission(name: str | None, namespaces: list[str]) -> Admission:
    """The cluster policy and the labels of ``namespaces`` in one context.

    The current context when ``name`` is None. Raises errors.FwopError with a one-line
    message (kubeconfig, connection, refusal, an invalid policy).
    """
    if len(namespaces) > MAX_NAMESPACES:
        raise errors.FwopError(
            f"the input names {len(namespaces)} namespaces; --cluster reads at most"
            f" {MAX_NAMESPACES}"
        )
    (context,) = contexts([name] if name else [])
    return asyncio.run(_admission(context, namespaces))
