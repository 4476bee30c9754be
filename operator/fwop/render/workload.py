"""Render every child of a FinancialWorkload, in a fixed order.

The order is the apply order: namespace labels and identity first, then the network
fence, then secrets, and the Deployment (or CronJob) only after everything that protects
its pods.
Must not: do I/O, read a clock or import kopf or kubernetes.
"""

from __future__ import annotations

from collections.abc import Callable

from fwop.api import network
from fwop.api import policy as policy_api
from fwop.api import spec as spec_api
from fwop.render import (
    autoscaler,
    cronjob,
    deployment,
    meta,
    namespace,
    networkpolicy,
    pdb,
    rbac,
    secretproviderclass,
    service,
    serviceaccount,
)

OwnerRef = meta.OwnerRef

RENDERERS: tuple[Callable[[meta.Context], list[meta.Manifest]], ...] = (
    namespace.render,
    serviceaccount.render,
    rbac.render,
    networkpolicy.render,
    secretproviderclass.render,
    service.render,
    deployment.render,
    cronjob.render,
    autoscaler.render,
    pdb.render,
)


def render_all(
    namespace: str,
    name: str,
    spec: spec_api.FinancialWorkloadSpec,
    owner: OwnerRef | None,
    *,
    pod_security_version: str = policy_api.DEFAULT_POD_SECURITY_VERSION,
    endpoints: network.ClusterEndpoints = network.DEFAULT_ENDPOINTS,
) -> list[meta.Manifest]:
    """Return the desired children of workload ``namespace/name``, in apply order.

    With ``owner`` every namespaced child gets a controller ownerReference to it; without,
    none does (offline rendering, where the workload's uid is not known yet).
    ``pod_security_version`` is the cluster policy's pinned PSS version (NS-1);
    ``endpoints`` what its DNS and API server flows open (NET-2).
    """
    ctx = meta.Context(
        namespace=namespace,
        name=name,
        spec=spec,
        owner=owner,
        pod_security_version=pod_security_version,
        endpoints=endpoints,
    )
    return [child for renderer in RENDERERS for child in renderer(ctx)]
