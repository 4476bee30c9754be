"""Names, labels, annotations and owner references shared by every rendered child.

Must not: build any child's body (that is each kind's module), do I/O or read a clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from fwop.api import group, network, policy, spec

Manifest = dict[str, Any]

LABEL_NAME = "app.kubernetes.io/name"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_WORKLOAD = f"{group.GROUP}/workload"
ANNOTATION_CONTROLS = f"{group.GROUP}/controls"
MANAGED_BY = "fwop"


@dataclasses.dataclass(frozen=True)
class OwnerRef:
    """The object that owns the children: normally the FinancialWorkload itself."""

    name: str
    uid: str
    api_version: str = group.API_VERSION
    kind: str = group.KIND

    def manifest(self) -> Manifest:
        """Return the ownerReferences entry: controller, and deletion waits for children."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


@dataclasses.dataclass(frozen=True)
class Context:
    """Everything a renderer needs: where the workload lives, what it asks for, its owner."""

    namespace: str
    name: str
    spec: spec.FinancialWorkloadSpec
    owner: OwnerRef | None = None
    pod_security_version: str = policy.DEFAULT_POD_SECURITY_VERSION
    """PSS version pinned in the namespace labels (NS-1), from the cluster policy."""
    endpoints: network.ClusterEndpoints = network.DEFAULT_ENDPOINTS
    """What allowDNS and allowAPIServer open, from the cluster policy."""

    @property
    def pci(self) -> bool:
        """Tell whether the stricter pci profile applies."""
        return self.spec.profile is spec.Profile.PCI


def controlled_by(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether ``obj`` names ``uid`` as its controller (OWN-1: the only objects written)."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or ()
    return any(isinstance(r, Mapping) and r.get("controller") and r.get("uid") == uid for r in refs)


def labels(name: str) -> dict[str, str]:
    """Return the labels every child (and every pod) of workload ``name`` carries."""
    return {LABEL_NAME: name, LABEL_MANAGED_BY: MANAGED_BY, LABEL_WORKLOAD: name}


def selector(name: str) -> dict[str, str]:
    """Return the label selector matching the pods of workload ``name``."""
    return {LABEL_WORKLOAD: name}


def metadata(ctx: Context, name: str, controls: tuple[str, ...] = ()) -> Manifest:
    """Return metadata for a namespaced child: name, labels, controls, owner."""
    meta: Manifest = {"name": name, "namespace": ctx.namespace, "labels": labels(ctx.name)}
    if controls:
        meta["annotations"] = {ANNOTATION_CONTROLS: ",".join(controls)}
    if ctx.owner is not None:
        meta["ownerReferences"] = [ctx.owner.manifest()]
    return meta


def manifest(api_version: str, kind: str, meta: Manifest, **body: Any) -> Manifest:
    """Return a complete object in the usual key order: apiVersion, kind, metadata, body."""
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **body}
